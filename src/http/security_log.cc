#include "http/security_log.h"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/strings.h"
#include "base/time.h"

namespace cf::http {

nlohmann::json ToJson(const SecurityEvent& e) {
  nlohmann::json j = {{"time", FormatIsoTime(e.time)}, {"event", e.event}, {"actor", e.actor}};
  if (!e.remote_addr.empty()) j["remote_addr"] = e.remote_addr;
  if (e.detail.is_object()) {
    for (const auto& [k, v] : e.detail.items()) {
      if (!j.contains(k)) j[k] = v;
    }
  }
  return j;
}

Status AppendSecurityEvent(const std::string& path, const SecurityEvent& e) {
  const std::string line = ToJson(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::IOError("cannot open the security log " + Quote(path) + ": " + std::strerror(errno));
  }
  const ssize_t n = ::write(fd, line.data(), line.size());
  const int write_errno = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) {
    return Status::IOError("cannot write to the security log " + Quote(path) + ": " +
                           (n < 0 ? std::strerror(write_errno) : "short write"));
  }
  return Status::OK();
}

std::string CommandLineActor() {
  const uid_t uid = ::getuid();
  std::string name;
  if (const passwd* pw = ::getpwuid(uid); pw != nullptr && pw->pw_name != nullptr) name = pw->pw_name;
  return "cli:" + (name.empty() ? "uid-" + std::to_string(uid) : name);
}

}  // namespace cf::http
