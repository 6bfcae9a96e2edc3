// Sign-in state shared by the consoles (engage's and the audience console): server-side
// sessions, the CSRF token comparison, the failed sign-in limiter and the Cookie header.
//
// A session is a random token in an `HttpOnly; SameSite=Strict` cookie, kept server-side with an
// idle and an absolute expiry: in memory (a restart signs everyone out), or, for several servers
// on one database, in the database under the token's SHA-256.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
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

// Server-side sessions. Thread-safe. MemorySessionStore keeps them in the process; a store
// that several servers share (engage on PostgreSQL) implements the same calls over its database.
class SessionStore {
 public:
  struct Session {
    std::string email;
    std::string workspace;   // what the console signs the user in to (engage: a workspace; may be "")
    std::string csrf_token;  // 64 hex, sent by the page in X-CSRF-Token
    int64_t created_at = 0;
    int64_t last_seen = 0;
  };
  virtual ~SessionStore() = default;
  // A new session; returns its token (64 hex from the CSPRNG), the cookie's value.
  virtual Result<std::string> Create(const std::string& email, const std::string& workspace) = 0;
  // The live session of `token`, its idle clock restarted; nullopt when unknown or expired.
  virtual Result<std::optional<Session>> Touch(const std::string& token) = 0;
  virtual Status Remove(const std::string& token) = 0;
};

class MemorySessionStore final : public SessionStore {
 public:
  MemorySessionStore(const Clock& clock, int64_t idle_seconds, int64_t max_seconds)
      : clock_(clock), idle_seconds_(idle_seconds), max_seconds_(max_seconds) {}
  Result<std::string> Create(const std::string& email, const std::string& workspace) override;
  Result<std::optional<Session>> Touch(const std::string& token) override;
  Status Remove(const std::string& token) override;

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
// MemorySignInLimiter counts in the process; a shared store counts for all its servers.
//
// A sign-in takes its attempt before the password is checked (which is slow on purpose) and
// the attempt counts as a failure until told otherwise: N attempts at once, on one server or
// several, are N against the limits, not N that all passed a check before any was counted.
class SignInLimiter {
 public:
  virtual ~SignInLimiter() = default;
  // Takes one attempt of the email from the client: 0 when taken (counted as a failure of
  // both); else the seconds until the email or the client may try again, and nothing counted.
  virtual Result<int64_t> Attempt(const std::string& email, const std::string& client) = 0;
  // The attempt's password was right: the email's failures are cleared and the client gets
  // the attempt back (its other failures stay: one address trying many emails stays limited).
  virtual Status Succeeded(const std::string& email, const std::string& client) = 0;
  // The attempt could not be judged (the users' store failed): it counts for neither.
  virtual Status Undo(const std::string& email, const std::string& client) = 0;
};

class MemorySignInLimiter final : public SignInLimiter {
 public:
  MemorySignInLimiter(const Clock& clock, const SignInOptions& options) : clock_(clock), options_(options) {}
  Result<int64_t> Attempt(const std::string& email, const std::string& client) override;
  Status Succeeded(const std::string& email, const std::string& client) override;
  Status Undo(const std::string& email, const std::string& client) override;

 private:
  struct Window {
    int64_t start = 0;
    int64_t failures = 0;
  };
  int64_t Wait(std::map<std::string, Window>& windows, const std::string& key, int64_t limit, int64_t now);
  void Count(std::map<std::string, Window>& windows, const std::string& key, int64_t now);
  static void GiveBack(std::map<std::string, Window>& windows, const std::string& key);
  const Clock& clock_;
  SignInOptions options_;
  std::mutex mu_;
  std::map<std::string, Window> by_email_;
  std::map<std::string, Window> by_client_;
};

// Where a console keeps its sign-in state; a null member is kept in the process (Memory*).
struct SignInState {
  std::unique_ptr<SessionStore> sessions;
  std::unique_ptr<SignInLimiter> limiter;
};

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or "".
std::string CookieValue(std::string_view cookie_header, std::string_view name);

}  // namespace cf::http
