#include "http/json_answer.h"

#include <optional>
#include <string>

namespace cf::http {

using nlohmann::json;

namespace {

// Deeper JSON is refused before parsing: handlers, dump() and copies of a json value recurse
// once per level, and a few hundred kilobytes of "[[[[" would overflow a worker's stack.
// Braze nests custom attributes at most 50 levels deep, under a few levels of request.
constexpr size_t kMaxJsonDepth = 64;

// The byte offset where `text` opens its (kMaxJsonDepth + 1)th nested array or object, if any.
std::optional<size_t> TooDeepAt(std::string_view text) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

}  // namespace

int HttpStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

Result<json> ParseRequestBody(const std::string& body) {
  // The parser takes a NUL byte for the end of the input and would accept `{...}\0anything`;
  // JSON text cannot hold a raw NUL (inside strings it is written \u0000).
  if (size_t nul = body.find('\0'); nul != std::string::npos) {
    return Err(Status::InvalidArgument("the request body is not valid JSON: a NUL byte at byte " + std::to_string(nul) +
                                       " (JSON text cannot contain one; inside a string write \\u0000)"));
  }
  if (auto at = TooDeepAt(body)) {
    return Err(Status::InvalidArgument("the request body nests arrays and objects more than " +
                                       std::to_string(kMaxJsonDepth) + " levels deep (at byte " + std::to_string(*at) +
                                       ")"));
  }
  try {
    return json::parse(body);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers such as 1e400
    return Err(Status::InvalidArgument(std::string("the request body is not valid JSON: ") + e.what()));
  }
}

Response JsonAnswer(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  // Replace invalid UTF-8 instead of throwing: echoed client input may be malformed.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response MessageAnswer(int status, std::string_view message, const nlohmann::json& errors) {
  nlohmann::json body = {{"message", message}};
  if (errors.is_array() && !errors.empty()) body["errors"] = errors;
  return JsonAnswer(status, body);
}

Status CheckKeys(const json& body, std::initializer_list<const char*> allowed) {
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

}  // namespace cf::http
