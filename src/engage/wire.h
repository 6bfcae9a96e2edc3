// Reading Braze's JSON bodies: small checks shared by the endpoint implementations.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/status.h"
#include "engage/storage.h"

namespace cf::engage {

inline bool IsNonEmptyString(const nlohmann::json& v) {
  return v.is_string() && !v.get_ref<const std::string&>().empty();
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

// The body must be a JSON object whose keys are all in `allowed`.
inline Status CheckKeys(const nlohmann::json& body, std::initializer_list<const char*> allowed) {
  if (!body.is_object()) return Status::InvalidArgument("the request body must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
      return Status::InvalidArgument("unknown field '" + key + "': expected " + list);
    }
  }
  return Status::OK();
}

}  // namespace cf::engage
