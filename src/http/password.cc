#include "http/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "base/strings.h"

namespace cf::http {

namespace {

constexpr size_t kHashBytes = 32;
constexpr size_t kPasswordBytes = 12;    // 24 hex characters, 96 bits
constexpr size_t kMaxEmailLength = 254;  // RFC 5321's limit of a forward path

}  // namespace

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

std::string Unhex(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return out;
}

std::string RandomHex(size_t bytes) {
  std::string buf(bytes, '\0');
  auto* p = reinterpret_cast<unsigned char*>(buf.data());
  // RAND_bytes only fails when the OS has no entropy source: a broken machine, not input.
  if (RAND_bytes(p, static_cast<int>(bytes)) != 1) throw std::runtime_error("no random source for keys");
  return Hex(p, bytes);
}

std::string HashPassword(std::string_view password, std::string_view salt_hex, int64_t iterations) {
  const std::string salt = Unhex(salt_hex);
  std::array<unsigned char, kHashBytes> out{};
  // Fails only on allocation failure inside OpenSSL: a broken process, not input.
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                        static_cast<int>(iterations), EVP_sha256(), static_cast<int>(out.size()), out.data()) != 1) {
    throw std::runtime_error("PBKDF2 failed");
  }
  return Hex(out.data(), out.size());
}

std::string GeneratePassword() { return RandomHex(kPasswordBytes); }

bool PasswordMatches(std::string_view password, std::string_view salt_hex, int64_t iterations,
                     std::string_view hash_hex) {
  const std::string got = HashPassword(password, salt_hex, iterations);
  return got.size() == hash_hex.size() && CRYPTO_memcmp(got.data(), hash_hex.data(), got.size()) == 0;
}

Status VerifyPassword(const std::optional<StoredPassword>& stored, std::string_view password) {
  if (!stored) {
    (void)HashPassword(password, std::string(kSaltBytes * 2, '0'), kPasswordIterations);
    return Status::Unauthenticated(kWrongCredentials);
  }
  if (!PasswordMatches(password, stored->salt, stored->iterations, stored->hash)) {
    return Status::Unauthenticated(kWrongCredentials);
  }
  return Status::OK();
}

Result<std::string> NormalizeEmail(std::string_view email) {
  std::string e = ToLower(Trim(email));
  const size_t at = e.find('@');
  bool ok = !e.empty() && e.size() <= kMaxEmailLength && at != std::string::npos && at > 0 && at + 1 < e.size() &&
            e.find('@', at + 1) == std::string::npos;
  for (char c : e) ok = ok && static_cast<unsigned char>(c) > ' ' && c != 0x7f;
  if (!ok) {
    return Err(Status::InvalidArgument("email " + Quote(std::string(email)) +
                                       " is not an email address: expected one '@' with text on both sides, no "
                                       "spaces, at most 254 characters"));
  }
  return e;
}

}  // namespace cf::http
