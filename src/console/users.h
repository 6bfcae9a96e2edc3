// The people who sign in to the audience console, as `audience user create|list|remove` manage
// them: a JSON file of ours (recognized by its format marker, never replaced when it is not),
// each password stored only as the salted PBKDF2 hash of http/password.h. Every change locks the
// file's directory, reads, changes and replaces the file atomically with mode 0600.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cf::console {

inline constexpr const char* kUsersFormat = "cohortflow-console-users";

struct ConsoleUser {
  std::string email;  // normalized (http::NormalizeEmail)
  std::string salt;   // 32 hex
  int64_t iterations = 0;
  std::string hash;  // 64 hex
  int64_t created_at = 0;
};

// The audience console's security log (http/security_log.h), beside the users file: users
// created and removed (by `audience user`), console sign-ins succeeded and failed (by `audience serve`).
inline constexpr const char* kSecurityLogName = "security-log.jsonl";
std::string SecurityLogPath(const std::string& users_file);

// True when `path` holds a users file of ours (its "format" is kUsersFormat).
bool IsUsersFile(const std::string& path);

// The users of `path`; none when the file does not exist. Errors name the file and what is wrong
// (not ours, not JSON, a bad entry).
Result<std::vector<ConsoleUser>> ReadUsers(const std::string& path);

// Adds the user and returns the generated password, to be shown once. AlreadyExists naming the
// email when there is one; FailedPrecondition when `path` is a file that is not ours.
Result<std::string> CreateUser(const std::string& path, std::string_view email, int64_t now);
// NotFound naming the email when there is no such user.
Status RemoveUser(const std::string& path, std::string_view email);
// The user when `password` is theirs; Unauthenticated (http::kWrongCredentials, the same for a
// wrong email and a wrong password) otherwise.
Result<ConsoleUser> VerifyUser(const std::string& path, std::string_view email, std::string_view password);
// Whether `email` (normalized) is a user of `path` now: a removed user's session ends.
bool HasUser(const std::string& path, const std::string& email);

}  // namespace cf::console
