// Secrets handed to clients (REST API keys, partner API keys, data import keys).
//
// A key is 48 hex characters: the first 16 are a public lookup id, so a request costs one
// indexed read; only a salted SHA-256 of the whole key is stored, and it is compared in
// constant time.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "http/password.h"

namespace cf::engage {

struct StoredKey {
  std::string key_id;  // 16 hex: the lookup id, also the key's first 16 characters
  std::string salt;    // 32 hex (16 random bytes)
  std::string hash;    // 64 hex: SHA-256(salt bytes || key)
};

struct NewKey {
  std::string key;  // shown once to the admin, never stored
  StoredKey stored;
};

NewKey GenerateKey();
// The lookup id of a presented key, or nullopt when it cannot be one of ours.
std::optional<std::string> KeyIdOf(std::string_view key);
// True when `key` hashes to `stored.hash` (constant time in the hash comparison).
bool VerifyKey(std::string_view key, const StoredKey& stored);
// 24 hex characters, like Braze's braze_id: the creation time (6 bytes), then 6 bytes from
// the operating system's CSPRNG (no counter: another profile's braze_id cannot be guessed from one's own).
std::string NewBrazeId();
using http::RandomHex;
// A random version-4 UUID, the shape of Braze's segment and campaign ids.
std::string RandomUuid();

}  // namespace cf::engage
