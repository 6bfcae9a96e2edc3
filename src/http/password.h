// Credentials of the people who sign in to a console (engage's dashboard users, the audience
// console's users file): generated passwords, stored only as PBKDF2-HMAC-SHA256 over a random
// salt with the iteration count kept beside it, so that a later release can raise it for new
// passwords without breaking old ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cf::http {

// OWASP's 2023 floor for PBKDF2-HMAC-SHA256 is 600k; 210k keeps a sign-in near 0.1 s on a
// small machine while a stolen hash still costs an attacker ~10^5 SHA-256 per guess.
inline constexpr int64_t kPasswordIterations = 210000;
inline constexpr size_t kSaltBytes = 16;

// `bytes` bytes from the CSPRNG, as 2 * bytes lower-case hex characters.
std::string RandomHex(size_t bytes);
// Lower-case hex of `n` bytes, and the bytes of lower- or upper-case hex (an even length).
std::string Hex(const unsigned char* data, size_t n);
std::string Unhex(std::string_view hex);

// Hex of PBKDF2-HMAC-SHA256(password, salt bytes, iterations), 32 bytes.
std::string HashPassword(std::string_view password, std::string_view salt_hex, int64_t iterations);

// A password to show once: 24 hex characters (96 bits) from the CSPRNG.
std::string GeneratePassword();

// True when `password` hashes to `hash_hex` under `salt_hex` and `iterations` (the hashes are
// compared in constant time).
bool PasswordMatches(std::string_view password, std::string_view salt_hex, int64_t iterations,
                     std::string_view hash_hex);

// The message of every wrong sign-in: the same whether the email or the password was wrong.
inline constexpr const char* kWrongCredentials = "wrong email or password";

// A stored password: the salt, the iteration count and the hash (hex).
struct StoredPassword {
  std::string salt;
  int64_t iterations = 0;
  std::string hash;
};
// OK when `stored` is present and `password` matches it, else Unauthenticated(kWrongCredentials).
// An absent user costs the same PBKDF2 work: the answer's timing does not tell which emails exist.
Status VerifyPassword(const std::optional<StoredPassword>& stored, std::string_view password);

// A user's email, trimmed and lower-cased, or an error naming the value and what is valid.
Result<std::string> NormalizeEmail(std::string_view email);

}  // namespace cf::http
