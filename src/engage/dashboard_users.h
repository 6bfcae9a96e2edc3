// The people who sign in to the console, as `engage user create/list/remove` manage them.
//
// A password is stored only as PBKDF2-HMAC-SHA256 over a random 16-byte salt, with the
// iteration count kept beside it so that a later release can raise it for new passwords
// without breaking old ones. `user create` generates the password and prints it once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engage/storage.h"

namespace cf::engage {

// OWASP's 2023 floor for PBKDF2-HMAC-SHA256 is 600k; 210k keeps a sign-in near 0.1 s on a
// small machine while a stolen hash still costs an attacker ~10^5 SHA-256 per guess.
inline constexpr int64_t kPasswordIterations = 210000;

// Hex of PBKDF2-HMAC-SHA256(password, salt bytes, iterations), 32 bytes.
std::string HashPassword(std::string_view password, std::string_view salt_hex, int64_t iterations);

// A dashboard user's email, trimmed and lower-cased, or an error naming the value and what is valid.
Result<std::string> NormalizeEmail(std::string_view email);

// Creates the user (the workspace too when it does not exist) and returns the generated
// password, to be shown once: 24 characters from the CSPRNG.
Result<std::string> CreateDashboardUser(Storage& storage, const std::string& workspace, std::string_view email,
                                        int64_t now);
Result<std::vector<DashboardUserRecord>> ListDashboardUsers(Storage& storage);
// NotFound naming the email when there is no such user.
Status RemoveDashboardUser(Storage& storage, std::string_view email);
// The user when `password` is theirs; Unauthenticated (the same message whether the email or the
// password was wrong, so that the answer does not tell which emails exist) otherwise.
Result<DashboardUserRecord> VerifyDashboardUser(Storage& storage, std::string_view email, std::string_view password);

}  // namespace cf::engage
