#include "http/console_gate.h"

#include <utility>

#include "base/log.h"
#include "base/strings.h"
#include "http/json_answer.h"

namespace cf::http {

using nlohmann::json;

namespace {

std::string ContentTypeOf(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

bool IsJsonContentType(const std::string& content_type) {
  const std::string t = ToLower(Trim(content_type.substr(0, content_type.find(';'))));
  return t == "application/json";
}

bool ChangesState(const Request& req) { return req.method != "GET" && req.method != "HEAD"; }

// A string field of the sign-in form, required and non-empty.
Result<std::string> Field(const json& body, const char* name) {
  if (!body.is_object() || !body.contains(name) || !body[name].is_string() ||
      body[name].get_ref<const std::string&>().empty()) {
    return Err(Status::InvalidArgument(std::string("'") + name + "' must be a non-empty string"));
  }
  return body[name].get<std::string>();
}

}  // namespace

void Harden(Response& r) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "same-origin");
  r.headers.emplace_back("Cache-Control", "no-store");
}

Response ConsoleError(int status, const std::string& message) {
  Response r = JsonAnswer(status, json{{"message", message}});
  Harden(r);
  return r;
}

Response Redirect(const std::string& to) {
  Response r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "sign in first: " + to + "\n";
  r.headers.emplace_back("Location", to);
  Harden(r);
  return r;
}

Response AssetAnswer(const WebAsset* asset, std::string_view name) {
  if (asset == nullptr) return ConsoleError(404, "no console file " + std::string(name));
  Response r;
  r.body.assign(reinterpret_cast<const char*>(asset->data), asset->size);
  r.content_type = ContentTypeOf(name);
  Harden(r);
  return r;
}

Response SessionsUnavailable(const Status& error) {
  Response r = ConsoleError(503, error.message());
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

bool UnderTls(const Request& req) { return req.tls || ToLower(req.Header("X-Forwarded-Proto")) == "https"; }

std::string BaseUrl(const Request& req) {
  std::string host = req.Header("Host");
  if (host.empty()) host = "127.0.0.1";
  return (UnderTls(req) ? "https://" : "http://") + host;
}

ConsoleGate::ConsoleGate(const Clock& clock, SignInOptions options, std::string cookie_name, SignInState shared)
    : options_(options),
      cookie_name_(std::move(cookie_name)),
      sessions_(shared.sessions != nullptr ? std::move(shared.sessions)
                                           : std::make_unique<MemorySessionStore>(clock, options.session_idle_seconds,
                                                                                  options.session_max_seconds)),
      limiter_(shared.limiter != nullptr ? std::move(shared.limiter)
                                         : std::make_unique<MemorySignInLimiter>(clock, options)) {}

std::string ConsoleGate::Cookie(const Request& req, const std::string& value, int64_t max_age) const {
  return cookie_name_ + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age) +
         (UnderTls(req) ? "; Secure" : "");
}

Result<std::optional<ConsoleGate::Signed>> ConsoleGate::Find(const Request& req) {
  std::string token = CookieValue(req.Header("Cookie"), cookie_name_);
  if (token.empty()) return std::optional<Signed>();
  auto s = sessions_->Touch(token);
  if (!s.has_value()) {
    CF_LOG_ERROR("console session: {}", s.error().ToString());
    return Err(Status::Unavailable("the console's sessions cannot be read now; try again shortly"));
  }
  if (!*s) return std::optional<Signed>();
  return std::optional<Signed>(Signed{std::move(token), std::move(**s)});
}

Response ConsoleGate::Guard(const Request& req, const Signed* signed_in, const Call& call) {
  if (!signed_in)
    return ConsoleError(401, "sign in first: this console request needs a session (POST /console/api/signin)");
  if (ChangesState(req) && !IsJsonContentType(req.Header("Content-Type"))) {
    return ConsoleError(415, "Content-Type must be application/json, not " + Quote(req.Header("Content-Type")));
  }
  if (ChangesState(req) && !CsrfTokenMatches(signed_in->session, req.Header("X-CSRF-Token"))) {
    return ConsoleError(403,
                        "the X-CSRF-Token header is missing or wrong: send the csrf_token of GET /console/api/session; "
                        "reload the page if the session changed");
  }
  if (req.body.size() > kMaxConsoleBody) {
    return ConsoleError(
        413, "the request body is larger than the console's limit of " + std::to_string(kMaxConsoleBody) + " bytes");
  }
  json body = json::object();
  if (ChangesState(req) && !req.body.empty()) {
    auto parsed = ParseRequestBody(req.body);
    if (!parsed.has_value()) return ConsoleError(400, parsed.error().message());
    body = std::move(*parsed);
  }
  auto result = call(body);
  if (!result.has_value()) return ConsoleError(HttpStatus(result.error()), result.error().message());
  Response r = JsonAnswer(200, *result);
  Harden(r);
  return r;
}

Response ConsoleGate::SignIn(const Request& req, const Verify& verify) {
  std::vector<std::pair<std::string, std::string>> headers;
  auto run = [&]() -> Result<json> {
    if (!IsJsonContentType(req.Header("Content-Type"))) {
      return Err(
          Status::InvalidArgument("Content-Type must be application/json, not " + Quote(req.Header("Content-Type"))));
    }
    if (req.body.size() > kMaxConsoleBody) return Err(Status::InvalidArgument("the request body is too large"));
    CF_ASSIGN_OR_RETURN(json body, ParseRequestBody(req.body));
    CF_RETURN_IF_ERROR(CheckKeys(body, {"email", "password"}));
    CF_ASSIGN_OR_RETURN(std::string email, Field(body, "email"));
    CF_ASSIGN_OR_RETURN(std::string password, Field(body, "password"));
    const std::string key = ToLower(Trim(email));
    CF_ASSIGN_OR_RETURN(const int64_t wait, limiter_->Attempt(key, req.remote_addr));
    if (wait > 0) {
      headers.emplace_back("Retry-After", std::to_string(wait));
      return Err(Status::ResourceExhausted("too many failed sign-ins; try again in " + std::to_string(wait) + " s"));
    }
    auto user = verify(email, password);
    if (!user.has_value()) {
      // A wrong password stays counted; an attempt that could not be judged does not count.
      if (user.error().code() != StatusCode::kUnauthenticated) {
        CF_RETURN_IF_ERROR(limiter_->Undo(key, req.remote_addr));
      }
      return Err(user.error());
    }
    CF_RETURN_IF_ERROR(limiter_->Succeeded(key, req.remote_addr));
    CF_ASSIGN_OR_RETURN(const std::string token, sessions_->Create(user->email, user->workspace));
    CF_ASSIGN_OR_RETURN(const std::optional<SessionStore::Session> s, sessions_->Touch(token));
    headers.emplace_back("Set-Cookie", Cookie(req, token, options_.session_max_seconds));
    json out = {{"email", user->email}, {"csrf_token", s ? s->csrf_token : ""}};
    if (!user->workspace.empty()) out["workspace"] = user->workspace;
    return out;
  };
  auto result = run();
  Response r = result.has_value() ? JsonAnswer(200, *result)
                                  : JsonAnswer(HttpStatus(result.error()), json{{"message", result.error().message()}});
  for (auto& h : headers) r.headers.push_back(std::move(h));
  Harden(r);
  return r;
}

Response ConsoleGate::SignOut(const Request& req, const Signed* signed_in) {
  Response r = Guard(req, signed_in, [&](const json&) -> Result<json> {
    CF_RETURN_IF_ERROR(sessions_->Remove(signed_in->token));
    return json{{"signed_out", true}};
  });
  if (r.status == 200) r.headers.emplace_back("Set-Cookie", Cookie(req, "", 0));
  return r;
}

}  // namespace cf::http
