// JSON answers in the shape Braze clients parse: {"message": ..., "errors": [...]}, and the reading
// of JSON request bodies, for the REST API and both consoles.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.h"
#include "http/server.h"

namespace cf::http {

// `body` serialized as the answer with `status`.
Response JsonAnswer(int status, const nlohmann::json& body);
// {"message": message} plus "errors" when `errors` is a non-empty array.
Response MessageAnswer(int status, std::string_view message, const nlohmann::json& errors = nullptr);

// The HTTP status of a failed call (400 invalid, 401, 403, 404, 409 exists or conflicts, 429,
// 503, else 500): one table for the REST API and the consoles.
int HttpStatus(const Status& s);

// A request body as JSON, or the 400 message naming where it breaks (a NUL byte, nesting over 64
// levels, a syntax error and its byte).
Result<nlohmann::json> ParseRequestBody(const std::string& body);

// The body must be a JSON object whose keys are all in `allowed`: a 400 names an unknown one
// and the valid ones (a typo would otherwise be silently ignored).
Status CheckKeys(const nlohmann::json& body, std::initializer_list<const char*> allowed);

}  // namespace cf::http
