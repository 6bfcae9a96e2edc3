#include "engage/api.h"

#include <algorithm>

#include "base/log.h"
#include "base/strings.h"
#include "engage/campaigns.h"
#include "engage/wire.h"
#include "http/json_answer.h"

namespace cf::engage {

using nlohmann::json;

namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kMinute = 60;

// A fatal error in the spec's shape: {"message": ..., "errors": [...]}, the one error repeated
// as an entry so that clients which read only `errors` see it.
http::Response FatalAnswer(int status, const std::string& message) {
  return http::MessageAnswer(status, message, json::array({json{{"type", message}}}));
}

// The one rule for unknown fields, here for query parameters: a 400 naming it (a typo such as
// `?pgae=2` would otherwise silently answer something else).
Status CheckQuery(const http::Request& req, std::initializer_list<const char*> allowed) {
  for (const auto& [name, value] : req.query) {
    bool known = false;
    std::string list;
    for (const char* a : allowed) {
      known = known || name == a;
      list += std::string(list.empty() ? "" : ", ") + a;
    }
    if (!known) return Status::InvalidArgument("unknown query parameter '" + name + "': expected " + list);
  }
  return Status::OK();
}

// An integer query parameter at least 0, or `fallback` when absent.
Result<int64_t> QueryCount(const http::Request& req, const char* name, int64_t fallback) {
  if (!req.HasQuery(name)) return fallback;
  auto v = ParseInt64(req.Query(name));
  if (!v || *v < 0) {
    return Err(Status::InvalidArgument("'" + std::string(name) + "' must be a non-negative integer, not " +
                                       Quote(req.Query(name))));
  }
  return *v;
}

}  // namespace

RateLimitRecord DefaultRateLimit(const std::string& endpoint) {
  if (endpoint == "/users/track") return {3000, 3};
  if (endpoint == "/users/identify" || endpoint == "/users/alias/new" || endpoint == "/users/delete") {
    return {20000, kMinute};
  }
  if (endpoint == "/users/export/ids") return {2500, kMinute};
  return {250000, kHour};  // partner cohort import, segments, and everything else
}

Api::Api(Engage& engage, const Clock& clock, ApiOptions options)
    : engage_(engage), options_(options), limiter_(clock), clock_(clock) {}

bool Api::Limit(int64_t workspace_id, const std::string& endpoint, http::Response* out) {
  RateLimitRecord limit = DefaultRateLimit(endpoint);
  if (workspace_id != 0) {
    auto configured = engage_.RateLimitFor(workspace_id, endpoint);
    if (configured.has_value() && configured->has_value()) limit = **configured;
  }
  std::string key = std::to_string(workspace_id) + " " + endpoint;
  http::RateLimitDecision d;
  // A shared store counts for every server on it (docs/scaling.md); otherwise this process does.
  const int64_t window = std::max<int64_t>(limit.window_seconds, 1);
  // The shared count keys on the window's length too: its windows only move forward, and a
  // longer window set by an operator starts earlier than the current shorter one.
  const std::string shared_key = key + " " + std::to_string(window);
  int64_t now = clock_.NowSeconds();
  auto shared = engage_.storage().CountRequest(shared_key, now - now % window, limit.limit);
  // Refused for a window that another request has ended meanwhile: count it in the current one.
  if (shared.has_value() && shared->has_value() && **shared > limit.limit) {
    const int64_t later = clock_.NowSeconds();
    if (later - later % window > now - now % window) {
      now = later;
      shared = engage_.storage().CountRequest(shared_key, now - now % window, limit.limit);
    }
  }
  if (shared.has_value() && shared->has_value()) {
    const int64_t count = **shared;
    d.limit = limit.limit;
    d.reset_epoch = now - now % window + window;
    d.allowed = count <= limit.limit;
    d.remaining = d.allowed ? limit.limit - count : 0;
    if (!d.allowed) d.retry_after = std::max<int64_t>(d.reset_epoch - now, 1);
  } else {
    if (!shared.has_value()) CF_LOG_WARN("shared rate limit count failed, counting in this process: {}",
                                         shared.error().ToString());
    d = limiter_.Acquire(key, limit.limit, limit.window_seconds);
  }
  out->headers.emplace_back("X-RateLimit-Limit", std::to_string(d.limit));
  out->headers.emplace_back("X-RateLimit-Remaining", std::to_string(d.remaining));
  out->headers.emplace_back("X-RateLimit-Reset", std::to_string(d.reset_epoch));
  if (!d.allowed) out->headers.emplace_back("Retry-After", std::to_string(d.retry_after));
  return d.allowed;
}

http::Response Api::Finish(int status, const Result<json>& result, http::Response limited) {
  http::Response r;
  if (result.has_value()) {
    json body = *result;
    body["message"] = "success";
    r = http::JsonAnswer(status, body);
  } else {
    r = FatalAnswer(HttpStatus(result.error()), result.error().message());
  }
  r.headers = std::move(limited.headers);
  return r;
}

http::Response Api::Bearer(const http::Request& req, const Endpoint& ep,
                           const std::function<Result<json>(int64_t, const json&)>& call) {
  http::Response limited;
  auto ws = engage_.AuthenticateApiKey(req.Header("Authorization"), ep.permission);
  if (!Limit(ws.has_value() ? *ws : 0, ep.path, &limited)) {
    return Finish(429, Err(Status::ResourceExhausted("API rate limit exceeded")), std::move(limited));
  }
  if (!ws.has_value()) return Finish(0, Err(ws.error()), std::move(limited));
  json body = json::object();
  if (req.method != "GET" && req.method != "HEAD") {  // the server answers HEAD with the GET route
    auto parsed = ParseRequestBody(req.body);
    if (!parsed.has_value()) return Finish(0, Err(parsed.error()), std::move(limited));
    body = std::move(*parsed);
  }
  return Finish(ep.success_status, call(*ws, body), std::move(limited));
}

http::Response Api::Partner(const http::Request& req, const Endpoint& ep,
                            const std::function<Result<json>(const PartnerAuth&, const json&)>& call) {
  http::Response limited;
  auto body = ParseRequestBody(req.body);
  Result<PartnerAuth> auth =
      body.has_value() ? engage_.AuthenticatePartner(req.matches.at(1), *body) : Result<PartnerAuth>(Err(body.error()));
  if (!Limit(auth.has_value() ? auth->workspace_id : 0, ep.path, &limited)) {
    return Finish(429, Err(Status::ResourceExhausted("API rate limit exceeded")), std::move(limited));
  }
  if (!auth.has_value()) return Finish(0, Err(auth.error()), std::move(limited));
  return Finish(ep.success_status, call(*auth, *body), std::move(limited));
}

http::Response Api::SendsFeed(const http::Request& req) {
  // JSON Lines, not one JSON object: Bearer() is for JSON answers, so its steps are spelled out.
  const std::string endpoint = "/campaigns/sends";
  http::Response limited;
  auto ws = engage_.AuthenticateApiKey(req.Header("Authorization"), "campaigns.sends");
  if (!Limit(ws.has_value() ? *ws : 0, endpoint, &limited)) {
    return Finish(429, Err(Status::ResourceExhausted("API rate limit exceeded")), std::move(limited));
  }
  if (!ws.has_value()) return Finish(0, Err(ws.error()), std::move(limited));
  std::string body;
  auto run = [&]() -> Status {
    CF_RETURN_IF_ERROR(CheckQuery(req, {"campaign_id", "since"}));
    std::optional<std::string> campaign_id;
    if (req.HasQuery("campaign_id")) {
      if (req.Query("campaign_id").empty()) return Status::InvalidArgument("'campaign_id' must not be empty");
      campaign_id = req.Query("campaign_id");
    }
    CF_ASSIGN_OR_RETURN(int64_t since, QueryCount(req, "since", 0));
    CF_ASSIGN_OR_RETURN(auto txn, engage_.storage().Begin(false));
    return WriteSendsFeed(*txn, *ws, campaign_id, since, [&](std::string_view line) {
      body.append(line);
      body.push_back('\n');
      return Status::OK();
    });
  };
  if (Status s = run(); !s.ok()) return Finish(0, Err(s), std::move(limited));
  http::Response r;
  r.status = 200;
  r.body = std::move(body);
  r.content_type = "application/x-ndjson";
  r.headers = std::move(limited.headers);
  return r;
}

void Api::Register(http::Server& server) {
  struct BearerRoute {
    const char* method;
    Endpoint ep;
    std::function<Result<json>(int64_t, const json&)> call;
  };
  Engage& e = engage_;
  std::vector<BearerRoute> routes = {
      {"POST", {"/users/track", "users.track"}, [&e](int64_t ws, const json& b) { return e.Track(ws, b); }},
      {"POST", {"/users/identify", "users.identify"}, [&e](int64_t ws, const json& b) { return e.Identify(ws, b); }},
      {"POST", {"/users/alias/new", "users.alias.new"}, [&e](int64_t ws, const json& b) { return e.AliasNew(ws, b); }},
      {"POST", {"/users/delete", "users.delete"}, [&e](int64_t ws, const json& b) { return e.Delete(ws, b); }},
      {"POST",
       {"/users/export/ids", "users.export.ids"},
       [&e](int64_t ws, const json& b) { return e.ExportIds(ws, b); }},
      {"POST", {"/sdk/v1/session", "sdk.session"}, [&e](int64_t ws, const json& b) { return e.Session(ws, b); }},
      {"POST",
       {"/segments/create", "segments.create"},
       [&e](int64_t ws, const json& b) { return e.CreateSegment(ws, b); }},
      {"POST",
       {"/campaigns/create", "campaigns.create"},
       [&e](int64_t ws, const json& b) { return e.CreateCampaign(ws, b); }},
      {"POST",
       {"/campaigns/trigger/send", "campaigns.trigger.send"},
       [&e](int64_t ws, const json& b) { return e.TriggerSend(ws, b); }},
  };
  for (auto& r : routes) {
    server.Route(r.method, r.ep.path,
                 [this, ep = r.ep, call = r.call](const http::Request& req) { return Bearer(req, ep, call); });
  }
  server.Route("GET", "/segments/list", [this, &e](const http::Request& req) {
    return Bearer(req, {"/segments/list", "segments.list", 200}, [&e, &req](int64_t ws, const json&) -> Result<json> {
      CF_RETURN_IF_ERROR(CheckQuery(req, {"page"}));
      int64_t page = 0;
      if (req.HasQuery("page")) {
        auto p = ParseInt64(req.Query("page"));
        if (!p || *p < 0) return Err(Status::InvalidArgument("'page' must be a non-negative integer"));
        page = *p;
      }
      return e.ListSegments(ws, page);
    });
  });
  server.Route("GET", "/segments/details", [this, &e](const http::Request& req) {
    return Bearer(req, {"/segments/details", "segments.details", 200},
                  [&e, &req](int64_t ws, const json&) -> Result<json> {
                    CF_RETURN_IF_ERROR(CheckQuery(req, {"segment_id"}));
                    if (req.Query("segment_id").empty())
                      return Err(Status::InvalidArgument("'segment_id' query parameter is required"));
                    return e.SegmentDetails(ws, req.Query("segment_id"));
                  });
  });
  server.Route("GET", "/campaigns/list", [this, &e](const http::Request& req) {
    return Bearer(req, {"/campaigns/list", "campaigns.list", 200}, [&e, &req](int64_t ws, const json&) -> Result<json> {
      // Braze's parameters; no campaign is ever archived here, so include_archived changes nothing.
      CF_RETURN_IF_ERROR(CheckQuery(req, {"page", "include_archived", "sort_direction"}));
      CF_ASSIGN_OR_RETURN(int64_t page, QueryCount(req, "page", 0));
      if (req.HasQuery("include_archived") && req.Query("include_archived") != "true" &&
          req.Query("include_archived") != "false") {
        return Err(Status::InvalidArgument("'include_archived' must be true or false"));
      }
      const std::string dir = req.HasQuery("sort_direction") ? req.Query("sort_direction") : "asc";
      if (dir != "asc" && dir != "desc") return Err(Status::InvalidArgument("'sort_direction' must be asc or desc"));
      return e.ListCampaigns(ws, page, dir == "desc");
    });
  });
  server.Route("GET", "/campaigns/details", [this, &e](const http::Request& req) {
    return Bearer(req, {"/campaigns/details", "campaigns.details", 200},
                  [&e, &req](int64_t ws, const json&) -> Result<json> {
                    CF_RETURN_IF_ERROR(CheckQuery(req, {"campaign_id"}));
                    if (req.Query("campaign_id").empty())
                      return Err(Status::InvalidArgument("'campaign_id' query parameter is required"));
                    return e.CampaignDetails(ws, req.Query("campaign_id"));
                  });
  });
  server.Route("GET", "/campaigns/sends", [this](const http::Request& req) { return SendsFeed(req); });
  server.Route("POST", "/partners/([^/]+)/cohorts", [this, &e](const http::Request& req) {
    return Partner(req, {"/partners/{partner}/cohorts", ""},
                   [&e](const PartnerAuth& a, const json& b) { return e.UpsertCohort(a, b); });
  });
  server.Route("POST", "/partners/([^/]+)/cohorts/users", [this, &e](const http::Request& req) {
    return Partner(req, {"/partners/{partner}/cohorts/users", ""},
                   [&e](const PartnerAuth& a, const json& b) { return e.CohortUsers(a, b); });
  });
  server.SetFallback([this](const http::Request& req, int status) {
    http::Response limited;
    Limit(0, "*", &limited);
    Status s;
    if (status == 404) {
      s = Status::NotFound("no such endpoint: " + req.method + " " + req.path);
    } else if (status == 500) {
      s = Status::Internal("internal error (the server logged it); retry with exponential backoff");
    } else if (status == 413) {
      s = Status::InvalidArgument("the request body is larger than the limit of " +
                                  std::to_string(options_.max_body_bytes) + " bytes");
    } else if (!req.error.empty()) {  // what http::Server found wrong, e.g. two Content-Length headers
      s = Status::InvalidArgument(req.error);
    } else {
      s = Status::InvalidArgument("the request could not be read as HTTP");
    }
    http::Response r = FatalAnswer(status, s.message());
    r.headers = std::move(limited.headers);
    return r;
  });
}

}  // namespace cf::engage
