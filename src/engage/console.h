// The engage console: the web pages marketers use (embedded in the binary from web/engage) and
// the JSON API behind them under /console/api (docs/console-api.md), signed in with a dashboard
// user (dashboard_users.h). The REST API of api.h (Bearer keys) is untouched by any of this.
//
// Safety: a session is a random token in an `HttpOnly; SameSite=Strict` cookie (`Secure` when a
// TLS proxy says X-Forwarded-Proto: https), kept server-side in memory with an idle and an
// absolute expiry, so a restart signs everyone out. Every state-changing request needs the
// session's CSRF token in the X-CSRF-Token header and a JSON content type. Without a session an
// API answers 401 and a page redirects to /signin. Failed sign-ins are limited per email and
// per client address.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/time.h"
#include "engage/engage.h"
#include "http/server.h"

namespace cf::engage {

struct ConsoleOptions {
  int64_t session_idle_seconds = 2 * 3600;   // a session unused this long ends
  int64_t session_max_seconds = 12 * 3600;   // and every session ends this long after sign-in
  int64_t failures_per_email = 5;            // failed sign-ins of one email per window
  int64_t failures_per_client = 20;          // failed sign-ins from one client address per window
  int64_t failure_window_seconds = 15 * 60;  // the window of both, from its first failure

  Status Validate() const;
};

// Server-side sessions. Thread-safe.
class SessionStore {
 public:
  struct Session {
    std::string email;
    std::string workspace;
    std::string csrf_token;  // 64 hex, sent by the page in X-CSRF-Token
    int64_t created_at = 0;
    int64_t last_seen = 0;
  };
  SessionStore(const Clock& clock, int64_t idle_seconds, int64_t max_seconds)
      : clock_(clock), idle_seconds_(idle_seconds), max_seconds_(max_seconds) {}

  // A new session; returns its token (64 hex from the CSPRNG), the cookie's value.
  std::string Create(const std::string& email, const std::string& workspace);
  // The live session of `token`, its idle clock restarted; nullopt when unknown or expired.
  std::optional<Session> Touch(const std::string& token);
  void Remove(const std::string& token);

 private:
  const Clock& clock_;
  int64_t idle_seconds_;
  int64_t max_seconds_;
  std::mutex mu_;
  std::unordered_map<std::string, Session> sessions_;
};

// True when `presented` is the session's CSRF token (compared in constant time).
bool CsrfTokenMatches(const SessionStore::Session& session, std::string_view presented);

// Failed sign-ins counted in fixed windows from each key's first failure. Thread-safe.
class SignInLimiter {
 public:
  SignInLimiter(const Clock& clock, const ConsoleOptions& options) : clock_(clock), options_(options) {}
  // Seconds until the email or the client may try again; 0 when it may now.
  int64_t RetryAfter(const std::string& email, const std::string& client);
  void Failed(const std::string& email, const std::string& client);
  // A correct password clears the email's failures (not the client's: one address trying many
  // emails stays limited).
  void Succeeded(const std::string& email);

 private:
  struct Window {
    int64_t start = 0;
    int64_t failures = 0;
  };
  int64_t Wait(std::map<std::string, Window>& windows, const std::string& key, int64_t limit, int64_t now);
  void Count(std::map<std::string, Window>& windows, const std::string& key, int64_t now);
  const Clock& clock_;
  ConsoleOptions options_;
  std::mutex mu_;
  std::map<std::string, Window> by_email_;
  std::map<std::string, Window> by_client_;
};

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or "".
std::string CookieValue(std::string_view cookie_header, std::string_view name);

inline constexpr const char* kSessionCookie = "engage_session";

class Console {
 public:
  Console(Engage& engage, const Clock& clock, ConsoleOptions options = {});
  void Register(http::Server& server);

 private:
  struct Signed {
    std::string token;
    SessionStore::Session session;
    int64_t workspace_id = 0;
  };
  // The request's session, or nullopt. A user removed with `engage user remove` loses theirs.
  std::optional<Signed> SessionOf(const http::Request& req);
  using ApiCall = std::function<Result<nlohmann::json>(const Signed&, const http::Request&, const nlohmann::json&)>;
  // Wraps an API handler: session (401), CSRF and content type for non-GET (403, 415), body
  // parsing (400), Status to HTTP status.
  http::Handler Api(ApiCall call);
  // A page or asset that needs a session: without one, a redirect to /signin.
  http::Handler Page(const std::string& asset);
  http::Response SignIn(const http::Request& req);

  Engage& engage_;
  const Clock& clock_;
  ConsoleOptions options_;
  SessionStore sessions_;
  SignInLimiter limiter_;
};

}  // namespace cf::engage
