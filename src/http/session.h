// Sign-in state shared by the consoles (engage's and the audience console): server-side
// sessions, the CSRF token comparison, the failed sign-in limiter and the Cookie header.
//
// A session is a random token in an `HttpOnly; SameSite=Strict` cookie, kept server-side in
// memory with an idle and an absolute expiry, so a restart signs everyone out.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"
#include "base/time.h"

namespace cf::http {

struct SignInOptions {
  int64_t session_idle_seconds = 2 * 3600;   // a session unused this long ends; >= 1
  int64_t session_max_seconds = 12 * 3600;   // and every session ends this long after sign-in; >= 1
  int64_t failures_per_email = 5;            // failed sign-ins of one email per window; >= 1
  int64_t failures_per_client = 20;          // failed sign-ins from one client address per window; >= 1
  int64_t failure_window_seconds = 15 * 60;  // the window of both, from its first failure; >= 1

  Status Validate() const;
};

// Server-side sessions. Thread-safe.
class SessionStore {
 public:
  struct Session {
    std::string email;
    std::string workspace;   // what the console signs the user in to (engage: a workspace; may be "")
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
  SignInLimiter(const Clock& clock, const SignInOptions& options) : clock_(clock), options_(options) {}
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
  SignInOptions options_;
  std::mutex mu_;
  std::map<std::string, Window> by_email_;
  std::map<std::string, Window> by_client_;
};

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or "".
std::string CookieValue(std::string_view cookie_header, std::string_view name);

}  // namespace cf::http
