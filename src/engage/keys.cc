#include "engage/keys.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace cf::engage {

namespace {

constexpr size_t kKeyIdHex = 16;
constexpr size_t kKeyHex = 48;
constexpr size_t kSaltBytes = 16;

std::string HashHex(std::string_view salt_hex, std::string_view key) {
  std::string salted = http::Unhex(salt_hex);
  salted.append(key);
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(salted.data()), salted.size(), digest.data());
  return http::Hex(digest.data(), digest.size());
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string RandomUuid() {
  std::string h = RandomHex(16);
  h[12] = '4';
  h[16] = "89ab"[h[16] % 4];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
}

NewKey GenerateKey() {
  NewKey k;
  k.key = RandomHex(kKeyHex / 2);
  k.stored.key_id = k.key.substr(0, kKeyIdHex);
  k.stored.salt = RandomHex(kSaltBytes);
  k.stored.hash = HashHex(k.stored.salt, k.key);
  return k;
}

std::optional<std::string> KeyIdOf(std::string_view key) {
  if (key.size() != kKeyHex || !IsLowerHex(key)) return std::nullopt;
  return std::string(key.substr(0, kKeyIdHex));
}

bool VerifyKey(std::string_view key, const StoredKey& stored) {
  std::string computed = HashHex(stored.salt, key);
  if (computed.size() != stored.hash.size()) return false;
  return CRYPTO_memcmp(computed.data(), stored.hash.data(), computed.size()) == 0;
}

std::string NewBrazeId() {
  // The creation time leads (4 bytes of seconds, 2 of the second's fraction in 1/65536ths), so
  // ids made one after the other land at the end of the unique index instead of dirtying a
  // random page of it per profile (fully random ids cost /users/track ~40 %); 6 bytes from the
  // CSPRNG follow, so one id says nothing about the next.
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  char head[13];
  std::snprintf(head, sizeof(head), "%08x%04x", static_cast<uint32_t>(now.tv_sec),
                static_cast<uint32_t>((static_cast<uint64_t>(now.tv_nsec) << 16) / 1000000000u));
  // CSPRNG bytes drawn 4 KiB at a time per thread: one RAND_bytes call costs ~2 us and does not
  // scale across threads, and /users/track makes a braze_id per new profile.
  constexpr size_t kPool = 4096, kTake = 6;
  thread_local unsigned char pool[kPool];
  thread_local size_t used = kPool;
  if (used + kTake > kPool) {
    if (RAND_bytes(pool, static_cast<int>(kPool)) != 1) throw std::runtime_error("no random source for ids");
    used = 0;
  }
  std::string id = std::string(head) + http::Hex(pool + used, kTake);
  used += kTake;
  return id;
}

}  // namespace cf::engage
