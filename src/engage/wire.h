// Reading Braze's JSON bodies: small checks shared by the endpoint implementations.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "engage/storage.h"
#include "http/json_answer.h"

namespace cf::engage {

inline bool IsNonEmptyString(const nlohmann::json& v) {
  return v.is_string() && !v.get_ref<const std::string&>().empty();
}

// Length limits of identifiers and names, Braze's where it publishes one: its SDKs reject an
// external_id over 997 bytes; string attribute values and event names hold 255 characters.
// The same 255 characters bound every other identifier and name (aliases, device ids,
// braze_ids, attribute names, product ids, cohort ids and names, segment names, partners).
inline constexpr size_t kMaxExternalIdBytes = 997;
inline constexpr size_t kMaxNameChars = 255;

// Why `v` cannot be an identifier or name, or "" when it can: it must be non-empty, hold no
// control character (U+0000-U+001F, U+007F-U+009F: a NUL would truncate it in C APIs and
// logs, and two ids differing only after one would look alike) and respect the length limit.
// `v` is valid UTF-8 (the JSON parser checked it). Never truncated: too long is an error.
inline std::string IdentifierProblem(std::string_view v, bool external_id = false) {
  if (v.empty()) return "must be a non-empty string";
  size_t chars = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    const bool c1 = c == 0xc2 && i + 1 < v.size() && static_cast<unsigned char>(v[i + 1]) <= 0x9f &&
                    static_cast<unsigned char>(v[i + 1]) >= 0x80;
    if (c < 0x20 || c == 0x7f || c1) {
      const unsigned code = c1 ? static_cast<unsigned char>(v[i + 1]) : c;
      char hex[8];
      std::snprintf(hex, sizeof(hex), "U+%04X", code);
      return std::string("contains the control character ") + hex + " at character " + std::to_string(chars + 1) +
             "; identifiers and names cannot contain control characters";
    }
    if ((c & 0xc0) != 0x80) ++chars;
  }
  if (external_id && v.size() > kMaxExternalIdBytes) {
    return "is " + std::to_string(v.size()) + " bytes long; at most " + std::to_string(kMaxExternalIdBytes) +
           " are allowed";
  }
  if (!external_id && chars > kMaxNameChars) {
    return "is " + std::to_string(chars) + " characters long; at most " + std::to_string(kMaxNameChars) +
           " are allowed";
  }
  return "";
}

// A 400 naming `field` unless `v` is a string that IdentifierProblem accepts.
inline Status CheckIdentifier(const std::string& field, const nlohmann::json& v, bool external_id = false) {
  if (!v.is_string()) return Status::InvalidArgument("'" + field + "' must be a non-empty string");
  std::string problem = IdentifierProblem(v.get_ref<const std::string&>(), external_id);
  if (problem.empty()) return Status::OK();
  return Status::InvalidArgument("'" + field + "' " + problem);
}

// A string value stored for the user (a custom attribute): any characters, at most 255.
inline Status CheckStringValue(const std::string& field, const nlohmann::json& v) {
  if (!v.is_string()) return Status::OK();
  size_t chars = 0;
  for (char c : v.get_ref<const std::string&>()) chars += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  if (chars <= kMaxNameChars) return Status::OK();
  return Status::InvalidArgument("'" + field + "' is " + std::to_string(chars) + " characters long; at most " +
                                 std::to_string(kMaxNameChars) + " are allowed in a string attribute value");
}

// Both fields of an alias object, when they are strings (their absence is the caller's error).
inline Status CheckAliasFields(const std::string& field, const nlohmann::json& v) {
  if (!v.is_object()) return Status::OK();
  for (const char* k : {"alias_name", "alias_label"}) {
    auto it = v.find(k);
    if (it != v.end() && it->is_string()) CF_RETURN_IF_ERROR(CheckIdentifier(field + "." + k, *it));
  }
  return Status::OK();
}

// {"alias_name": "...", "alias_label": "..."} with two non-empty strings, or nullopt.
inline std::optional<Alias> ReadAlias(const nlohmann::json& v) {
  if (!v.is_object()) return std::nullopt;
  auto n = v.find("alias_name");
  auto l = v.find("alias_label");
  if (n == v.end() || l == v.end() || !IsNonEmptyString(*n) || !IsNonEmptyString(*l)) return std::nullopt;
  return Alias{l->get<std::string>(), n->get<std::string>()};
}

inline Status BadField(const std::string& field, const std::string& what) {
  return Status::InvalidArgument("'" + field + "' " + what);
}

using http::CheckKeys;

}  // namespace cf::engage
