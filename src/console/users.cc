#include "console/users.h"

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "http/password.h"
#include "http/security_log.h"

namespace cf::console {

using nlohmann::json;

namespace {

constexpr int kUsersVersion = 1;

std::string DirectoryOf(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  return dir.empty() ? "." : dir.string();
}

Result<std::vector<ConsoleUser>> ParseUsers(const std::string& path, const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return Err(Status::FailedPrecondition("--users " + path +
                                          " is not a users file of the audience console (not JSON: " + e.what() +
                                          "); it was left untouched"));
  }
  if (!j.is_object() || j.value("format", "") != kUsersFormat) {
    return Err(Status::FailedPrecondition("--users " + path +
                                          " is not a users file of the audience console (no \"format\": \"" +
                                          kUsersFormat + "\"); it was left untouched; choose another path"));
  }
  if (!j.contains("users") || !j["users"].is_array()) {
    return Err(Status::InvalidArgument("--users " + path + ": \"users\" must be an array"));
  }
  std::vector<ConsoleUser> users;
  for (size_t i = 0; i < j["users"].size(); ++i) {
    const json& u = j["users"][i];
    try {
      users.push_back(ConsoleUser{u.at("email").get<std::string>(), u.at("salt").get<std::string>(),
                                  u.at("iterations").get<int64_t>(), u.at("hash").get<std::string>(),
                                  u.value("created_at", int64_t{0})});
    } catch (const json::exception& e) {
      return Err(Status::InvalidArgument("--users " + path + ": users[" + std::to_string(i) +
                                         "] needs email, salt, iterations and hash: " + e.what()));
    }
    if (users.back().iterations < 1) {
      return Err(Status::InvalidArgument("--users " + path + ": users[" + std::to_string(i) +
                                         "].iterations must be at least 1"));
    }
  }
  return users;
}

Status WriteUsers(const std::string& path, const std::vector<ConsoleUser>& users) {
  json list = json::array();
  for (const ConsoleUser& u : users) {
    list.push_back({{"email", u.email},
                    {"salt", u.salt},
                    {"iterations", u.iterations},
                    {"hash", u.hash},
                    {"created_at", u.created_at}});
  }
  const json j = {{"format", kUsersFormat}, {"version", kUsersVersion}, {"users", std::move(list)}};
  // Only hashes, but a stolen hash is an offline guessing target: readable by the owner only.
  return WriteFileAtomic(path, j.dump(2) + "\n", 0600);
}

// One read-modify-write under the directory's lock (the file may not exist yet).
Status Update(const std::string& path, const std::function<Status(std::vector<ConsoleUser>*)>& change) {
  const std::string dir = DirectoryOf(path);
  if (!IsDirectory(dir)) {
    return Status::NotFound("--users " + path + ": the directory " + dir + " does not exist");
  }
  CF_ASSIGN_OR_RETURN(FileLock lock, FileLock::Exclusive(dir));
  CF_ASSIGN_OR_RETURN(std::vector<ConsoleUser> users, ReadUsers(path));
  CF_RETURN_IF_ERROR(change(&users));
  return WriteUsers(path, users);
}

}  // namespace

std::string SecurityLogPath(const std::string& users_file) {
  return (std::filesystem::path(DirectoryOf(users_file)) / kSecurityLogName).string();
}

bool IsUsersFile(const std::string& path) {
  auto text = ReadFile(path);
  return text.has_value() && ParseUsers(path, *text).has_value();
}

Result<std::vector<ConsoleUser>> ReadUsers(const std::string& path) {
  if (IsDirectory(path)) {
    return Err(Status::FailedPrecondition("--users " + path + " is a directory; give a file path"));
  }
  if (!PathExists(path)) return std::vector<ConsoleUser>{};
  CF_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseUsers(path, text);
}

Result<std::string> CreateUser(const std::string& path, std::string_view email, int64_t now) {
  CF_ASSIGN_OR_RETURN(std::string normalized, http::NormalizeEmail(email));
  const std::string password = http::GeneratePassword();
  CF_RETURN_IF_ERROR(Update(path, [&](std::vector<ConsoleUser>* users) -> Status {
    for (const ConsoleUser& u : *users) {
      if (u.email == normalized) {
        return Status::AlreadyExists("a user has email " + Quote(normalized) + " in " + path +
                                     "; remove it first with `audience user remove`");
      }
    }
    ConsoleUser u;
    u.email = normalized;
    u.salt = http::RandomHex(http::kSaltBytes);
    u.iterations = http::kPasswordIterations;
    u.hash = http::HashPassword(password, u.salt, u.iterations);
    u.created_at = now;
    users->push_back(std::move(u));
    // Logged before the file is replaced: a change the log cannot hold is not made.
    return http::AppendSecurityEvent(
        SecurityLogPath(path), {"user.created", http::CommandLineActor(), "", {{"email", normalized}}, now});
  }));
  return password;
}

Status RemoveUser(const std::string& path, std::string_view email) {
  CF_ASSIGN_OR_RETURN(std::string normalized, http::NormalizeEmail(email));
  if (!PathExists(path)) return Status::NotFound("no users file at " + path + " (see `audience user create`)");
  return Update(path, [&](std::vector<ConsoleUser>* users) -> Status {
    const size_t before = users->size();
    std::erase_if(*users, [&](const ConsoleUser& u) { return u.email == normalized; });
    if (users->size() == before) {
      return Status::NotFound("no user has email " + Quote(normalized) + " in " + path + " (see `audience user list`)");
    }
    return http::AppendSecurityEvent(SecurityLogPath(path), {"user.removed", http::CommandLineActor(), "",
                                                             {{"email", normalized}}, SystemClock().NowSeconds()});
  });
}

Result<ConsoleUser> VerifyUser(const std::string& path, std::string_view email, std::string_view password) {
  auto normalized = http::NormalizeEmail(email);
  std::optional<ConsoleUser> user;
  if (normalized.has_value()) {
    CF_ASSIGN_OR_RETURN(std::vector<ConsoleUser> users, ReadUsers(path));
    for (ConsoleUser& u : users) {
      if (u.email == *normalized) user = std::move(u);
    }
  }
  std::optional<http::StoredPassword> stored;
  if (user) stored = http::StoredPassword{user->salt, user->iterations, user->hash};
  CF_RETURN_IF_ERROR(http::VerifyPassword(stored, password));
  return *user;
}

bool HasUser(const std::string& path, const std::string& email) {
  auto users = ReadUsers(path);
  if (!users.has_value()) return false;
  for (const ConsoleUser& u : *users) {
    if (u.email == email) return true;
  }
  return false;
}

}  // namespace cf::console
