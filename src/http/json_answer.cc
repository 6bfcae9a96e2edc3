#include "http/json_answer.h"

namespace cf::http {

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

}  // namespace cf::http
