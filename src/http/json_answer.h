// JSON answers in the shape Braze clients parse: {"message": ..., "errors": [...]}.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "http/server.h"

namespace cf::http {

// `body` serialized as the answer with `status`.
Response JsonAnswer(int status, const nlohmann::json& body);
// {"message": message} plus "errors" when `errors` is a non-empty array.
Response MessageAnswer(int status, std::string_view message, const nlohmann::json& errors = nullptr);

}  // namespace cf::http
