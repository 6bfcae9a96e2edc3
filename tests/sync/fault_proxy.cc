#include "fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "base/strings.h"
#include "http/client.h"

namespace cf::sync_test {

namespace {

bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string Answer(long status, const std::string& body, const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra_headers + "\r\n" + body;
}

}  // namespace

FaultProxy::FaultProxy(std::string upstream, Plan plan, double slow_seconds)
    : upstream_(std::move(upstream)), plan_(std::move(plan)), slow_seconds_(slow_seconds) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 64);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] {
    while (!stopping_) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      fds_.push_back(fd);
      threads_.emplace_back([this, fd] { Serve(fd); });
    }
  });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  accept_thread_.join();
  ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
  for (int fd : fds_) ::close(fd);
}

std::vector<FaultProxy::Seen> FaultProxy::seen() {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

void FaultProxy::Serve(int fd) {
  http::Client upstream(upstream_);
  std::string buffer;
  char chunk[65536];
  while (!stopping_) {
    size_t header_end;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<size_t>(n));
    }
    const std::string head = buffer.substr(0, header_end);
    size_t length = 0;
    for (std::string_view line : Split(head, '\n')) {
      const std::string lower = ToLower(Trim(line));
      if (StartsWith(lower, "content-length:")) length = std::stoul(std::string(Trim(lower.substr(15))));
    }
    while (buffer.size() < header_end + 4 + length) {
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<size_t>(n));
    }
    const std::string body = buffer.substr(header_end + 4, length);
    buffer.erase(0, header_end + 4 + length);
    const std::string first_line = head.substr(0, head.find('\r'));
    const std::vector<std::string_view> request_line = Split(first_line, ' ');
    const std::string path = request_line.size() > 1 ? std::string(request_line[1]) : "";
    const Fault fault = plan_(count_++, path, body);
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back({path, body, fault});
    }
    switch (fault) {
      case Fault::k429:
        SendAll(fd, Answer(429, R"({"message":"Rate limit exceeded"})", "Retry-After: 1\r\n"));
        continue;
      case Fault::k500:
        SendAll(fd, Answer(500, R"j({"message":"internal error (injected)"})j"));
        continue;
      case Fault::k400:
        SendAll(fd, Answer(400, R"({"message":"injected refusal of this cohort"})"));
        continue;
      case Fault::kCloseBeforeForward:
        ::shutdown(fd, SHUT_RDWR);
        return;
      default:
        break;
    }
    Result<http::ClientResponse> r = upstream.Post(path, body);
    std::string answer = r.has_value() ? Answer(r->status, r->body) : Answer(502, R"({"message":"no upstream"})");
    if (fault == Fault::kBrazeAnswer && r.has_value() && r->status == 201) {
      answer = Answer(201, R"({"message":"success"})");
    }
    if (fault == Fault::kCloseMidAnswer) {
      SendAll(fd, answer.substr(0, answer.size() / 2));
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
    if (fault == Fault::kSlowAnswer) {
      std::this_thread::sleep_for(std::chrono::duration<double>(slow_seconds_));
    }
    if (!SendAll(fd, answer)) return;
  }
}

}  // namespace cf::sync_test
