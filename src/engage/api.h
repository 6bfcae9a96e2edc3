// The HTTP front of engage: routes, authentication, rate limits and status codes over Engage.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/time.h"
#include "engage/engage.h"
#include "http/json_answer.h"
#include "http/rate_limiter.h"
#include "http/server.h"

namespace cf::engage {

using http::HttpStatus;

struct ApiOptions {
  size_t max_body_bytes = 8 * 1024 * 1024;  // reported in the 413 message; the server enforces it
};

class Api {
 public:
  Api(Engage& engage, const Clock& clock, ApiOptions options = {});
  void Register(http::Server& server);

 private:
  struct Endpoint {
    std::string path;        // the rate-limit and permission key, e.g. "/users/track"
    std::string permission;  // for Bearer endpoints; empty for partner endpoints
    int success_status = 201;
  };
  http::Response Bearer(const http::Request& req, const Endpoint& ep,
                        const std::function<Result<nlohmann::json>(int64_t, const nlohmann::json&)>& call);
  http::Response Partner(const http::Request& req, const Endpoint& ep,
                         const std::function<Result<nlohmann::json>(const PartnerAuth&, const nlohmann::json&)>& call);
  // Counts the request against the workspace's limit (or the shared one for unauthenticated
  // requests when workspace_id is 0) and fills the X-RateLimit-* headers; false when over.
  bool Limit(int64_t workspace_id, const std::string& endpoint, http::Response* headers_out);
  // GET /campaigns/sends: the send records as JSON Lines.
  http::Response SendsFeed(const http::Request& req);
  http::Response Finish(int status, const Result<nlohmann::json>& result, http::Response limited);

  Engage& engage_;
  ApiOptions options_;
  http::RateLimiter limiter_;
  const Clock& clock_;
};

using http::ParseRequestBody;

// Braze's default limits per endpoint, used unless the workspace configures its own.
RateLimitRecord DefaultRateLimit(const std::string& endpoint);

}  // namespace cf::engage
