// The people who sign in to the console, as `engage user create/list/remove` manage them.
//
// A password is stored only as the salted PBKDF2 hash of http/password.h. `user create`
// generates the password and prints it once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engage/security_log.h"
#include "engage/storage.h"
#include "http/password.h"

namespace cf::engage {

using http::HashPassword;
using http::kPasswordIterations;
using http::NormalizeEmail;

// Creates the user (the workspace too when it does not exist) and returns the generated
// password, to be shown once: 24 characters from the CSPRNG.
// Creating and removing users are recorded in the security log as done by `actor`.
Result<std::string> CreateDashboardUser(Storage& storage, const std::string& workspace, std::string_view email,
                                        int64_t now, const Actor& actor = CommandLineActor());
Result<std::vector<DashboardUserRecord>> ListDashboardUsers(Storage& storage);
// NotFound naming the email when there is no such user.
Status RemoveDashboardUser(Storage& storage, std::string_view email, const Actor& actor = CommandLineActor());
// The user when `password` is theirs; Unauthenticated (the same message whether the email or the
// password was wrong, so that the answer does not tell which emails exist) otherwise.
Result<DashboardUserRecord> VerifyDashboardUser(Storage& storage, std::string_view email, std::string_view password);

}  // namespace cf::engage
