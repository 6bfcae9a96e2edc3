// What every console's HTTP front does the same way: the security headers of its answers, the
// redirect to sign-in, its embedded files, and the gate in front of its JSON API (session,
// CSRF, content type, body, Status to HTTP status) with the sign-in and sign-out requests.
//
// Safety: every state-changing request needs the session's CSRF token in the X-CSRF-Token
// header and a JSON content type; without a session an API answers 401 and a page redirects
// to /signin. The cookie is `HttpOnly; SameSite=Strict`, `Secure` when the server speaks TLS
// (--tls-cert) or a TLS proxy says X-Forwarded-Proto: https. Failed sign-ins are limited per email and per client address.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/time.h"
#include "http/server.h"
#include "http/session.h"

namespace cf::http {

// A console file embedded in the binary at build time by cmake/embed_files.cmake.
struct WebAsset {
  const char* name;  // path under the console's web directory, e.g. "app.js"
  const unsigned char* data;
  size_t size;
};

// Headers of every console answer: no framing (clickjacking), no sniffing, scripts and styles
// only from this server, nothing cached that a shared machine could show the next person.
void Harden(Response& r);
// {"message": message} with `status`, hardened.
Response ConsoleError(int status, const std::string& message);
// A 303 to `to`, hardened.
Response Redirect(const std::string& to);
// The embedded file (`asset` null: 404 naming `name`), its content type from the name, hardened.
Response AssetAnswer(const WebAsset* asset, std::string_view name);
// 503 for a request whose session could not be read (ConsoleGate::Find's error), hardened.
Response SessionsUnavailable(const Status& error);

bool UnderTls(const Request& req);
// This server's address as the client reached it, e.g. "http://127.0.0.1:4100".
std::string BaseUrl(const Request& req);

inline constexpr size_t kMaxConsoleBody = 64 * 1024;  // no console form comes near it

class ConsoleGate {
 public:
  struct Signed {
    std::string token;
    SessionStore::Session session;
  };
  struct Identity {
    std::string email;
    std::string workspace;
  };
  // The user whose password this is, or Unauthenticated (kWrongCredentials) when not.
  using Verify = std::function<Result<Identity>(std::string_view email, std::string_view password)>;
  using Call = std::function<Result<nlohmann::json>(const nlohmann::json& body)>;

  // `shared`: sessions and failed sign-ins kept where several servers see them (engage on
  // PostgreSQL); what it leaves null is kept in this process.
  ConsoleGate(const Clock& clock, SignInOptions options, std::string cookie_name, SignInState shared = {});

  // The session of the request's cookie, or nullopt. The console checks that its user still
  // exists. An error (Unavailable) when the sessions cannot be read, e.g. their database is
  // down: the console answers 503 (SessionsUnavailable), not "signed out".
  Result<std::optional<Signed>> Find(const Request& req);
  void Forget(const std::string& token) { (void)sessions_->Remove(token); }

  // Runs `call` behind the checks: no session (`signed_in` null) 401, non-GET without a JSON content type 415 or
  // without the session's CSRF token 403, a body over kMaxConsoleBody 413 or not JSON 400;
  // `call`'s error Status mapped by HttpStatus. Hardened.
  Response Guard(const Request& req, const Signed* signed_in, const Call& call);
  // POST /console/api/signin {"email", "password"}: the limiter, `verify`, a new session and its
  // cookie; answers {"email", "workspace"?, "csrf_token"}.
  Response SignIn(const Request& req, const Verify& verify);
  // POST /console/api/signout: ends the session (guarded like any state change), clears the cookie.
  Response SignOut(const Request& req, const Signed* signed_in);

  const SignInOptions& options() const { return options_; }

 private:
  std::string Cookie(const Request& req, const std::string& value, int64_t max_age) const;

  SignInOptions options_;
  std::string cookie_name_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<SignInLimiter> limiter_;
};

}  // namespace cf::http
