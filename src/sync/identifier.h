// The one identifier an export sends for a customer, chosen from what the plan knows of it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cf::sync {

// What the partner API matches a cohort member by (spec §4, "Matching").
enum class IdentifierKind : char {
  kExternalId = 'u',  // an identified user's external_id
  kAlias = 'a',       // an alias label:name, matching identified and alias-only profiles
  kDeviceId = 'd',    // an anonymous user's device id
};

struct Identifier {
  IdentifierKind kind = IdentifierKind::kExternalId;
  std::string value;        // external_id or device_id; the alias name for an alias
  std::string alias_label;  // aliases only

  // A stable, unique text for the identifier: "u:<external_id>", "d:<device_id>",
  // "a:<label>:<name>". Identifiers hold no control character, so keys hold no tab or newline.
  std::string Key() const;
  // What a person reads: "external_id u1", "alias email:a@b.c", "device_id d-9".
  std::string Describe() const;
  static std::optional<Identifier> FromKey(std::string_view key);
};

// Whether engage (and Braze) accepts `s` as an identifier: non-empty, no control character
// (U+0000-U+001F, U+007F-U+009F), at most `max_bytes` bytes when non-zero, at most
// `max_chars` characters (code points) when non-zero.
bool IsValidIdentifier(std::string_view s, size_t max_bytes, size_t max_chars);

// The identifier for a customer with these plan columns (each "" when absent), in Braze's
// order of trust: external_id; else an alias (`aliases` holds "label:name" entries separated
// by newlines or ';', email first, then the others in their order); else device_id. A value engage would
// refuse (control characters, too long) counts as absent. nullopt: nothing usable.
std::optional<Identifier> ChooseIdentifier(std::string_view external_id, std::string_view aliases,
                                           std::string_view device_id);

}  // namespace cf::sync
