#include "sync/identifier.h"

#include <vector>

namespace cf::sync {

namespace {

// Braze's limits, as engage enforces them (docs/engage.md, "Identifiers").
constexpr size_t kMaxExternalIdBytes = 997;
constexpr size_t kMaxIdentifierChars = 255;

}  // namespace

std::string Identifier::Key() const {
  std::string key(1, static_cast<char>(kind));
  key += ':';
  if (kind == IdentifierKind::kAlias) {
    key += alias_label;
    key += ':';
  }
  key += value;
  return key;
}

std::string Identifier::Describe() const {
  switch (kind) {
    case IdentifierKind::kExternalId:
      return "external_id " + value;
    case IdentifierKind::kAlias:
      return "alias " + alias_label + ":" + value;
    case IdentifierKind::kDeviceId:
      return "device_id " + value;
  }
  return value;
}

std::optional<Identifier> Identifier::FromKey(std::string_view key) {
  if (key.size() < 3 || key[1] != ':') return std::nullopt;
  Identifier id;
  const std::string_view rest = key.substr(2);
  switch (key[0]) {
    case 'u':
      id.kind = IdentifierKind::kExternalId;
      id.value = rest;
      return id;
    case 'd':
      id.kind = IdentifierKind::kDeviceId;
      id.value = rest;
      return id;
    case 'a': {
      const size_t colon = rest.find(':');
      if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) return std::nullopt;
      id.kind = IdentifierKind::kAlias;
      id.alias_label = rest.substr(0, colon);
      id.value = rest.substr(colon + 1);
      return id;
    }
    default:
      return std::nullopt;
  }
}

bool IsValidIdentifier(std::string_view s, size_t max_bytes, size_t max_chars) {
  if (s.empty()) return false;
  if (max_bytes != 0 && s.size() > max_bytes) return false;
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    // U+0080-U+009F are C2 80 .. C2 9F in UTF-8.
    if (c == 0xc2 && i + 1 < s.size()) {
      const unsigned char next = static_cast<unsigned char>(s[i + 1]);
      if (next >= 0x80 && next <= 0x9f) return false;
    }
    if ((c & 0xc0) != 0x80) ++chars;  // count lead bytes only
  }
  return max_chars == 0 || chars <= max_chars;
}

std::optional<Identifier> ChooseIdentifier(std::string_view external_id, std::string_view aliases,
                                           std::string_view device_id) {
  if (IsValidIdentifier(external_id, kMaxExternalIdBytes, 0)) {
    return Identifier{IdentifierKind::kExternalId, std::string(external_id), ""};
  }
  std::optional<Identifier> first_alias;
  size_t start = 0;
  while (start <= aliases.size()) {
    size_t end = aliases.find_first_of("\n;", start);
    if (end == std::string_view::npos) end = aliases.size();
    const std::string_view entry = aliases.substr(start, end - start);
    start = end + 1;
    const size_t colon = entry.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view label = entry.substr(0, colon);
    const std::string_view name = entry.substr(colon + 1);
    if (!IsValidIdentifier(label, 0, kMaxIdentifierChars) || !IsValidIdentifier(name, 0, kMaxIdentifierChars)) {
      continue;
    }
    Identifier id{IdentifierKind::kAlias, std::string(name), std::string(label)};
    if (label == "email") return id;
    if (!first_alias) first_alias = std::move(id);
  }
  if (first_alias) return first_alias;
  if (IsValidIdentifier(device_id, 0, kMaxIdentifierChars)) {
    return Identifier{IdentifierKind::kDeviceId, std::string(device_id), ""};
  }
  return std::nullopt;
}

}  // namespace cf::sync
