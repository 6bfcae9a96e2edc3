#include "engage/dashboard_users.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <stdexcept>

#include "base/strings.h"
#include "engage/admin.h"
#include "engage/keys.h"

namespace cf::engage {

namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr size_t kPasswordBytes = 12;    // 24 hex characters, 96 bits
constexpr size_t kMaxEmailLength = 254;  // RFC 5321's limit of a forward path

std::string Unhex(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return out;
}

const char* kWrongCredentials = "wrong email or password";

}  // namespace

std::string HashPassword(std::string_view password, std::string_view salt_hex, int64_t iterations) {
  const std::string salt = Unhex(salt_hex);
  std::array<unsigned char, kHashBytes> out{};
  // Fails only on allocation failure inside OpenSSL: a broken process, not input.
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                        static_cast<int>(iterations), EVP_sha256(), static_cast<int>(out.size()), out.data()) != 1) {
    throw std::runtime_error("PBKDF2 failed");
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(out.size() * 2, '0');
  for (size_t i = 0; i < out.size(); ++i) {
    hex[2 * i] = kDigits[out[i] >> 4];
    hex[2 * i + 1] = kDigits[out[i] & 0xf];
  }
  return hex;
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

Result<std::string> CreateDashboardUser(Storage& storage, const std::string& workspace, std::string_view email,
                                        int64_t now) {
  CF_ASSIGN_OR_RETURN(std::string normalized, NormalizeEmail(email));
  const std::string password = RandomHex(kPasswordBytes);
  DashboardUserRecord r;
  r.email = normalized;
  r.workspace = workspace;
  r.salt = RandomHex(kSaltBytes);
  r.iterations = kPasswordIterations;
  r.hash = HashPassword(password, r.salt, r.iterations);
  r.created_at = now;
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ignored, EnsureWorkspace(*txn, workspace, now));
  (void)ignored;
  CF_RETURN_IF_ERROR(txn->InsertDashboardUser(r));
  CF_RETURN_IF_ERROR(txn->Commit());
  return password;
}

Result<std::vector<DashboardUserRecord>> ListDashboardUsers(Storage& storage) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(false));
  return txn->ListDashboardUsers();
}

Status RemoveDashboardUser(Storage& storage, std::string_view email) {
  CF_ASSIGN_OR_RETURN(std::string normalized, NormalizeEmail(email));
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(bool removed, txn->DeleteDashboardUser(normalized));
  if (!removed) {
    return Status::NotFound("no dashboard user has email " + Quote(normalized) + " (see `engage user list`)");
  }
  return txn->Commit();
}

Result<DashboardUserRecord> VerifyDashboardUser(Storage& storage, std::string_view email, std::string_view password) {
  auto normalized = NormalizeEmail(email);
  std::optional<DashboardUserRecord> user;
  if (normalized.has_value()) {
    CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(false));
    CF_ASSIGN_OR_RETURN(user, txn->FindDashboardUser(*normalized));
  }
  if (!user) {
    // The same work as a real check: the answer's timing does not tell which emails exist.
    (void)HashPassword(password, std::string(kSaltBytes * 2, '0'), kPasswordIterations);
    return Err(Status::Unauthenticated(kWrongCredentials));
  }
  const std::string got = HashPassword(password, user->salt, user->iterations);
  if (got.size() != user->hash.size() || CRYPTO_memcmp(got.data(), user->hash.data(), got.size()) != 0) {
    return Err(Status::Unauthenticated(kWrongCredentials));
  }
  return *user;
}

}  // namespace cf::engage
