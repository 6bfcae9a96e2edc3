// The engage console: the web pages marketers use (embedded in the binary from web/engage) and
// the JSON API behind them under /console/api (docs/console-api.md), signed in with a dashboard
// user (dashboard_users.h). The REST API of api.h (Bearer keys) is untouched by any of this.
//
// Safety: sessions, CSRF, the sign-in limiter and the security headers are the consoles' shared
// ones (http/console_gate.h, http/session.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/time.h"
#include "engage/engage.h"
#include "http/console_gate.h"
#include "http/server.h"

namespace cf::engage {

// The session and sign-in limits (http/session.h).
using ConsoleOptions = http::SignInOptions;

inline constexpr const char* kSessionCookie = "engage_session";

class Console {
 public:
  Console(Engage& engage, const Clock& clock, ConsoleOptions options = {});
  void Register(http::Server& server);

 private:
  struct Signed : http::ConsoleGate::Signed {
    int64_t workspace_id = 0;
  };
  // The request's session, or nullopt. A user removed with `engage user remove` loses theirs.
  // An error (Unavailable) when the store cannot tell: answered 503, not as signed out.
  Result<std::optional<Signed>> SessionOf(const http::Request& req);
  using ApiCall = std::function<Result<nlohmann::json>(const Signed&, const http::Request&, const nlohmann::json&)>;
  // Wraps an API handler: session (401), CSRF and content type for non-GET (403, 415), body
  // parsing (400), Status to HTTP status.
  http::Handler Api(ApiCall call);
  // A page or asset that needs a session: without one, a redirect to /signin.
  http::Handler Page(const std::string& asset);

  Engage& engage_;
  const Clock& clock_;
  http::ConsoleGate gate_;
};

}  // namespace cf::engage
