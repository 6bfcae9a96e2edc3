#include "engage/console.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "base/strings.h"
#include "engage/admin.h"
#include "engage/api.h"
#include "engage/campaigns.h"
#include "engage/dashboard_users.h"
#include "engage/keys.h"
#include "engage/web_assets.h"
#include "engage/wire.h"
#include "http/json_answer.h"

namespace cf::engage {

using nlohmann::json;

namespace {

constexpr size_t kSendRowsShown = 20;          // user rows on a campaign's sends
constexpr size_t kUserSendsShown = 20;         // a user's most recent send records
constexpr size_t kMaxConsoleBody = 64 * 1024;  // no console form comes near it
constexpr size_t kSweepAbove = 10000;          // failure windows kept before the ended ones are dropped

http::Response Error(int status, const std::string& message) {
  return http::JsonAnswer(status, json{{"message", message}});
}

// Headers of every console answer: no framing (clickjacking), no sniffing, scripts and styles
// only from this server, nothing cached that a shared machine could show the next person.
void Harden(http::Response& r) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "same-origin");
  r.headers.emplace_back("Cache-Control", "no-store");
}

std::string ContentTypeOf(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

http::Response Asset(const std::string& name) {
  const WebAsset* a = FindWebAsset(name);
  if (a == nullptr) return Error(404, "no console file " + name);
  http::Response r;
  r.body.assign(reinterpret_cast<const char*>(a->data), a->size);
  r.content_type = ContentTypeOf(name);
  Harden(r);
  return r;
}

http::Response Redirect(const std::string& to) {
  http::Response r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "sign in first: " + to + "\n";
  r.headers.emplace_back("Location", to);
  Harden(r);
  return r;
}

bool UnderTls(const http::Request& req) { return ToLower(req.Header("X-Forwarded-Proto")) == "https"; }

std::string SessionCookie(const http::Request& req, const std::string& value, int64_t max_age) {
  return std::string(kSessionCookie) + "=" + value +
         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age) + (UnderTls(req) ? "; Secure" : "");
}

bool IsJsonContentType(const std::string& content_type) {
  const std::string t = ToLower(Trim(content_type.substr(0, content_type.find(';'))));
  return t == "application/json";
}

// A string field of a console form, required and non-empty.
Result<std::string> Field(const json& body, const char* name) {
  if (!body.is_object() || !body.contains(name) || !IsNonEmptyString(body[name])) {
    return Err(BadField(name, "must be a non-empty string"));
  }
  return body[name].get<std::string>();
}

std::string BaseUrl(const http::Request& req) {
  std::string host = req.Header("Host");
  if (host.empty()) host = "127.0.0.1";
  return (UnderTls(req) ? "https://" : "http://") + host;
}

json PartnerJson(const PartnerInfo& p) {
  json out = {{"name", p.name},
              {"display_name", p.display_name},
              {"endpoint", p.endpoint},
              {"data_import_key_active", p.data_import_key_active}};
  if (p.data_import_key_active) out["data_import_key_created_at"] = FormatIsoTime(p.data_import_key_created_at);
  return out;
}

json SendRowJson(const SendFeedRow& row) {
  json r = {{"braze_id", row.send.braze_id},  {"outcome", row.send.outcome},
            {"channel", row.send.channel},    {"time", FormatIsoTime(row.send.time)},
            {"campaign_id", row.campaign_id}, {"campaign_name", row.campaign_name},
            {"dispatch_id", row.dispatch_id}};
  r["external_id"] = row.send.external_id ? json(*row.send.external_id) : json(nullptr);
  if (!row.send.reason.empty()) r["reason"] = row.send.reason;
  return r;
}

}  // namespace

Status ConsoleOptions::Validate() const {
  auto positive = [](const char* name, int64_t v) {
    return v > 0 ? Status::OK()
                 : Status::InvalidArgument(std::string(name) + " must be at least 1, not " + std::to_string(v));
  };
  CF_RETURN_IF_ERROR(positive("session_idle_seconds", session_idle_seconds));
  CF_RETURN_IF_ERROR(positive("session_max_seconds", session_max_seconds));
  CF_RETURN_IF_ERROR(positive("failures_per_email", failures_per_email));
  CF_RETURN_IF_ERROR(positive("failures_per_client", failures_per_client));
  return positive("failure_window_seconds", failure_window_seconds);
}

std::string SessionStore::Create(const std::string& email, const std::string& workspace) {
  const int64_t now = clock_.NowSeconds();
  std::string token = RandomHex(32);
  std::lock_guard<std::mutex> lock(mu_);
  // Expired sessions go when a new one comes: the map holds at most the sessions of one
  // expiry period, and only sign-ins with a correct password add to it.
  std::erase_if(sessions_, [&](const auto& kv) {
    return now - kv.second.last_seen >= idle_seconds_ || now - kv.second.created_at >= max_seconds_;
  });
  sessions_[token] = Session{email, workspace, RandomHex(32), now, now};
  return token;
}

std::optional<SessionStore::Session> SessionStore::Touch(const std::string& token) {
  const int64_t now = clock_.NowSeconds();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return std::nullopt;
  if (now - it->second.last_seen >= idle_seconds_ || now - it->second.created_at >= max_seconds_) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_seen = now;
  return it->second;
}

void SessionStore::Remove(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(token);
}

bool CsrfTokenMatches(const SessionStore::Session& session, std::string_view presented) {
  const std::string& want = session.csrf_token;
  return !want.empty() && presented.size() == want.size() &&
         CRYPTO_memcmp(presented.data(), want.data(), want.size()) == 0;
}

int64_t SignInLimiter::Wait(std::map<std::string, Window>& windows, const std::string& key, int64_t limit,
                            int64_t now) {
  auto it = windows.find(key);
  if (it == windows.end()) return 0;
  const int64_t end = it->second.start + options_.failure_window_seconds;
  if (now >= end) {
    windows.erase(it);
    return 0;
  }
  return it->second.failures >= limit ? end - now : 0;
}

void SignInLimiter::Count(std::map<std::string, Window>& windows, const std::string& key, int64_t now) {
  // Failures under ever new emails or addresses must not grow the map without bound: past a
  // size, the windows that have ended go.
  if (windows.size() >= kSweepAbove) {
    std::erase_if(windows, [&](const auto& kv) { return now >= kv.second.start + options_.failure_window_seconds; });
  }
  Window& w = windows[key];
  if (w.failures == 0 || now >= w.start + options_.failure_window_seconds) w = Window{now, 0};
  ++w.failures;
}

int64_t SignInLimiter::RetryAfter(const std::string& email, const std::string& client) {
  const int64_t now = clock_.NowSeconds();
  std::lock_guard<std::mutex> lock(mu_);
  return std::max(Wait(by_email_, email, options_.failures_per_email, now),
                  Wait(by_client_, client, options_.failures_per_client, now));
}

void SignInLimiter::Failed(const std::string& email, const std::string& client) {
  const int64_t now = clock_.NowSeconds();
  std::lock_guard<std::mutex> lock(mu_);
  Count(by_email_, email, now);
  Count(by_client_, client, now);
}

void SignInLimiter::Succeeded(const std::string& email) {
  std::lock_guard<std::mutex> lock(mu_);
  by_email_.erase(email);
}

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view part = Trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    const size_t eq = part.find('=');
    if (eq != std::string_view::npos && Trim(part.substr(0, eq)) == name) return std::string(Trim(part.substr(eq + 1)));
  }
  return "";
}

Console::Console(Engage& engage, const Clock& clock, ConsoleOptions options)
    : engage_(engage),
      clock_(clock),
      options_(options),
      sessions_(clock, options.session_idle_seconds, options.session_max_seconds),
      limiter_(clock, options) {}

std::optional<Console::Signed> Console::SessionOf(const http::Request& req) {
  std::string token = CookieValue(req.Header("Cookie"), kSessionCookie);
  if (token.empty()) return std::nullopt;
  auto s = sessions_.Touch(token);
  if (!s) return std::nullopt;
  auto txn = engage_.storage().Begin(false);
  if (!txn.has_value()) return std::nullopt;
  auto user = (*txn)->FindDashboardUser(s->email);
  auto ws = (*txn)->FindWorkspace(s->workspace);
  if (!user.has_value() || !user->has_value() || !ws.has_value() || !ws->has_value()) {
    sessions_.Remove(token);
    return std::nullopt;
  }
  return Signed{token, *s, **ws};
}

http::Handler Console::Api(ApiCall call) {
  return [this, call = std::move(call)](const http::Request& req) {
    http::Response r;
    auto signed_in = SessionOf(req);
    if (!signed_in) {
      r = Error(401, "sign in first: this console request needs a session (POST /console/api/signin)");
    } else if (req.method != "GET" && req.method != "HEAD" && !IsJsonContentType(req.Header("Content-Type"))) {
      r = Error(415, "Content-Type must be application/json, not " + Quote(req.Header("Content-Type")));
    } else if (req.method != "GET" && req.method != "HEAD" &&
               !CsrfTokenMatches(signed_in->session, req.Header("X-CSRF-Token"))) {
      r = Error(403,
                "the X-CSRF-Token header is missing or wrong: send the csrf_token of GET /console/api/session; "
                "reload the page if the session changed");
    } else if (req.body.size() > kMaxConsoleBody) {
      r = Error(413,
                "the request body is larger than the console's limit of " + std::to_string(kMaxConsoleBody) + " bytes");
    } else {
      json body = json::object();
      Status bad;
      if (req.method != "GET" && req.method != "HEAD" && !req.body.empty()) {
        auto parsed = ParseRequestBody(req.body);
        if (parsed.has_value()) {
          body = std::move(*parsed);
        } else {
          bad = parsed.error();
        }
      }
      if (!bad.ok()) {
        r = Error(400, bad.message());
      } else {
        auto result = call(*signed_in, req, body);
        r = result.has_value() ? http::JsonAnswer(200, *result)
                               : Error(HttpStatus(result.error()), result.error().message());
      }
    }
    Harden(r);
    return r;
  };
}

http::Handler Console::Page(const std::string& asset) {
  return [this, asset](const http::Request& req) {
    if (!SessionOf(req)) return Redirect("/signin");
    return Asset(asset);
  };
}

http::Response Console::SignIn(const http::Request& req) {
  http::Response r;
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
    if (int64_t wait = limiter_.RetryAfter(key, req.remote_addr); wait > 0) {
      r.headers.emplace_back("Retry-After", std::to_string(wait));
      return Err(Status::ResourceExhausted("too many failed sign-ins; try again in " + std::to_string(wait) + " s"));
    }
    auto user = VerifyDashboardUser(engage_.storage(), email, password);
    if (!user.has_value()) {
      if (user.error().code() == StatusCode::kUnauthenticated) limiter_.Failed(key, req.remote_addr);
      return Err(user.error());
    }
    limiter_.Succeeded(key);
    std::string token = sessions_.Create(user->email, user->workspace);
    auto s = sessions_.Touch(token);
    r.headers.emplace_back("Set-Cookie", SessionCookie(req, token, options_.session_max_seconds));
    return json{{"email", user->email}, {"workspace", user->workspace}, {"csrf_token", s ? s->csrf_token : ""}};
  };
  auto result = run();
  auto headers = std::move(r.headers);
  r = result.has_value() ? http::JsonAnswer(200, *result) : Error(HttpStatus(result.error()), result.error().message());
  for (auto& h : headers) r.headers.push_back(std::move(h));
  Harden(r);
  return r;
}

void Console::Register(http::Server& server) {
  Engage& e = engage_;
  const Clock& clock = clock_;

  // Pages and assets. The sign-in page and what it loads are public; they hold no data.
  server.Route("GET", "/", Page("index.html"));
  server.Route("GET", "/console/app.js", Page("app.js"));
  server.Route("GET", "/signin", [this](const http::Request& req) {
    if (SessionOf(req)) return Redirect("/");
    return Asset("signin.html");
  });
  server.Route("GET", "/console/signin.js", [](const http::Request&) { return Asset("signin.js"); });
  server.Route("GET", "/console/style.css", [](const http::Request&) { return Asset("style.css"); });

  server.Route("POST", "/console/api/signin", [this](const http::Request& req) { return SignIn(req); });
  server.Route("POST", "/console/api/signout", [this](const http::Request& req) {
    http::Response r = Api([this](const Signed& s, const http::Request&, const json&) -> Result<json> {
      sessions_.Remove(s.token);
      return json{{"signed_out", true}};
    })(req);
    if (r.status == 200) r.headers.emplace_back("Set-Cookie", SessionCookie(req, "", 0));
    return r;
  });
  server.Route("GET", "/console/api/session",
               Api([](const Signed& s, const http::Request& req, const json&) -> Result<json> {
                 return json{{"email", s.session.email},
                             {"workspace", s.session.workspace},
                             {"csrf_token", s.session.csrf_token},
                             {"base_url", BaseUrl(req)}};
               }));

  // Technology partners and their data import keys.
  server.Route("GET", "/console/api/partners",
               Api([&e](const Signed& s, const http::Request&, const json&) -> Result<json> {
                 std::vector<PartnerRecord> partners;
                 {
                   CF_ASSIGN_OR_RETURN(auto txn, e.storage().Begin(false));
                   CF_ASSIGN_OR_RETURN(partners, txn->ListPartners());
                 }
                 json list = json::array();
                 for (const auto& p : partners) {
                   CF_ASSIGN_OR_RETURN(auto info, ShowPartner(e.storage(), s.session.workspace, p.name));
                   list.push_back(PartnerJson(info));
                 }
                 return json{{"partners", std::move(list)}};
               }));
  server.Route("GET", "/console/api/partners/([^/]+)",
               Api([&e](const Signed& s, const http::Request& req, const json&) -> Result<json> {
                 CF_ASSIGN_OR_RETURN(auto info, ShowPartner(e.storage(), s.session.workspace, req.matches.at(1)));
                 json out = PartnerJson(info);
                 out["base_url"] = BaseUrl(req);
                 return out;
               }));
  server.Route("POST", "/console/api/partners/([^/]+)/key",
               Api([&e, &clock](const Signed& s, const http::Request& req, const json&) -> Result<json> {
                 CF_ASSIGN_OR_RETURN(std::string key, GenerateDataImportKey(e.storage(), s.session.workspace,
                                                                            req.matches.at(1), clock.NowSeconds()));
                 return json{{"data_import_key", key}};
               }));
  server.Route("POST", "/console/api/partners/([^/]+)/key/invalidate",
               Api([&e](const Signed& s, const http::Request& req, const json&) -> Result<json> {
                 CF_RETURN_IF_ERROR(InvalidateDataImportKey(e.storage(), s.session.workspace, req.matches.at(1)));
                 return json{{"data_import_key_active", false}};
               }));
  server.Route("GET", "/console/api/partners/([^/]+)/cohorts",
               Api([&e](const Signed& s, const http::Request& req, const json&) -> Result<json> {
                 CF_ASSIGN_OR_RETURN(auto txn, e.storage().Begin(false));
                 CF_ASSIGN_OR_RETURN(auto partner, txn->FindPartner(req.matches.at(1)));
                 if (!partner) return Err(Status::NotFound("no partner named " + Quote(req.matches.at(1))));
                 CF_ASSIGN_OR_RETURN(auto all, txn->ListCohorts());
                 std::vector<std::string> names;
                 for (const auto& c : all) {
                   if (c.workspace_id == s.workspace_id && c.partner_id == partner->id) names.push_back(c.name);
                 }
                 std::sort(names.begin(), names.end());
                 names.erase(std::unique(names.begin(), names.end()), names.end());
                 return json{{"partner", partner->name}, {"display_name", partner->display_name}, {"cohorts", names}};
               }));

  // Segments: the same calls as the REST API's, the size from the same evaluator.
  server.Route("GET", "/console/api/segments",
               Api([&e](const Signed& s, const http::Request&, const json&) -> Result<json> {
                 json out = json::array();
                 for (int64_t page = 0;; ++page) {
                   CF_ASSIGN_OR_RETURN(json list, e.ListSegments(s.workspace_id, page));
                   if (list["segments"].empty()) break;
                   for (const json& seg : list["segments"]) {
                     CF_ASSIGN_OR_RETURN(json details, e.SegmentDetails(s.workspace_id, seg["id"].get<std::string>()));
                     json row = {{"segment_id", details["segment_id"]},
                                 {"name", details["name"]},
                                 {"size", details["size"]},
                                 {"created_at", details["created_at"]},
                                 {"filter", details["filter"]}};
                     if (details.contains("size_note")) row["size_note"] = details["size_note"];
                     out.push_back(std::move(row));
                   }
                 }
                 return json{{"segments", std::move(out)}};
               }));
  server.Route("POST", "/console/api/segments/size",
               Api([&e](const Signed& s, const http::Request&, const json& body) -> Result<json> {
                 CF_RETURN_IF_ERROR(CheckKeys(body, {"filter"}));
                 if (!body.contains("filter")) return Err(BadField("filter", "is required"));
                 CF_ASSIGN_OR_RETURN(uint64_t size, e.FilterSize(s.workspace_id, body["filter"]));
                 return json{{"size", size}};
               }));
  server.Route("POST", "/console/api/segments",
               Api([&e](const Signed& s, const http::Request&, const json& body) -> Result<json> {
                 CF_ASSIGN_OR_RETURN(json created, e.CreateSegment(s.workspace_id, body));
                 return e.SegmentDetails(s.workspace_id, created["segment_id"].get<std::string>());
               }));

  // Campaigns and their sends.
  server.Route("GET", "/console/api/campaigns",
               Api([&e](const Signed& s, const http::Request&, const json&) -> Result<json> {
                 CF_ASSIGN_OR_RETURN(auto all, ListCampaigns(e.storage(), s.session.workspace));
                 json out = json::array();
                 for (const auto& c : all) {
                   out.push_back({{"campaign_id", c.campaign_id},
                                  {"name", c.name},
                                  {"channel", c.channel},
                                  {"segment_id", c.segment_id},
                                  {"control_share", c.control_share},
                                  {"created_at", FormatIsoTime(c.created_at)}});
                 }
                 return json{{"campaigns", std::move(out)}, {"channels", CampaignChannels()}};
               }));
  server.Route("POST", "/console/api/campaigns",
               Api([&e](const Signed& s, const http::Request&, const json& body) -> Result<json> {
                 return e.CreateCampaign(s.workspace_id, body);
               }));
  server.Route("POST", "/console/api/campaigns/([^/]+)/send",
               Api([&e](const Signed& s, const http::Request& req, const json& body) -> Result<json> {
                 CF_RETURN_IF_ERROR(CheckKeys(body, {"send_id"}));
                 json trigger = {{"campaign_id", req.matches.at(1)}, {"broadcast", true}};
                 if (body.contains("send_id")) trigger["send_id"] = body["send_id"];
                 return e.TriggerSend(s.workspace_id, trigger);
               }));
  server.Route("GET", "/console/api/campaigns/([^/]+)/sends",
               Api([&e](const Signed& s, const http::Request& req, const json&) -> Result<json> {
                 CF_ASSIGN_OR_RETURN(auto txn, e.storage().Begin(false));
                 CF_ASSIGN_OR_RETURN(auto campaign, txn->FindCampaign(s.workspace_id, req.matches.at(1)));
                 if (!campaign) return Err(Status::NotFound("no campaign has campaign_id " + Quote(req.matches.at(1))));
                 std::map<std::string, int64_t> counts = {{"sent", 0}, {"control", 0}, {"capped", 0}};
                 json rows = json::array();
                 uint64_t total = 0;
                 CF_RETURN_IF_ERROR(txn->ScanSends(s.workspace_id, campaign->pk, 0, [&](const SendFeedRow& row) {
                   ++counts[row.send.outcome];
                   ++total;
                   if (rows.size() < kSendRowsShown) rows.push_back(SendRowJson(row));
                   return Status::OK();
                 }));
                 return json{{"campaign_id", campaign->campaign_id},
                             {"name", campaign->name},
                             {"channel", campaign->channel},
                             {"control_share", campaign->control_share},
                             {"counts", counts},
                             {"total", total},
                             {"rows", std::move(rows)}};
               }));

  // Users: Braze's export of one user, plus their most recent send records.
  server.Route(
      "GET", "/console/api/users", Api([&e](const Signed& s, const http::Request& req, const json&) -> Result<json> {
        json ask = json::object();
        int given = 0;
        if (!req.Query("external_id").empty()) {
          ask["external_ids"] = json::array({req.Query("external_id")});
          ++given;
        }
        if (!req.Query("device_id").empty()) {
          ask["device_id"] = req.Query("device_id");
          ++given;
        }
        if (!req.Query("braze_id").empty()) {
          ask["braze_id"] = req.Query("braze_id");
          ++given;
        }
        if (!req.Query("alias_name").empty() || !req.Query("alias_label").empty()) {
          ask["user_aliases"] =
              json::array({{{"alias_name", req.Query("alias_name")}, {"alias_label", req.Query("alias_label")}}});
          ++given;
        }
        if (given != 1) {
          return Err(Status::InvalidArgument(
              "look a user up by exactly one of external_id, device_id, braze_id, or alias_label with alias_name"));
        }
        CF_ASSIGN_OR_RETURN(json found, e.ExportIds(s.workspace_id, ask));
        if (found["users"].empty()) return Err(Status::NotFound("no user matches " + ask.dump()));
        json user = found["users"][0];
        const std::string braze_id = user.value("braze_id", "");
        std::vector<json> sends;
        CF_ASSIGN_OR_RETURN(auto txn, e.storage().Begin(false));
        CF_RETURN_IF_ERROR(txn->ScanSends(s.workspace_id, std::nullopt, 0, [&](const SendFeedRow& row) {
          if (row.send.braze_id == braze_id) sends.push_back(SendRowJson(row));
          if (sends.size() > kUserSendsShown) sends.erase(sends.begin());
          return Status::OK();
        }));
        std::reverse(sends.begin(), sends.end());
        user["recent_sends"] = sends;
        return json{{"user", std::move(user)}};
      }));

  // Settings: REST API keys and global frequency caps.
  server.Route("GET", "/console/api/api-keys",
               Api([&e](const Signed& s, const http::Request&, const json&) -> Result<json> {
                 CF_ASSIGN_OR_RETURN(auto keys, ListApiKeys(e.storage(), s.session.workspace));
                 json out = json::array();
                 for (const auto& k : keys) {
                   out.push_back({{"key_id", k.key_id},
                                  {"name", k.name},
                                  {"permissions", k.permissions},
                                  {"created_at", FormatIsoTime(k.created_at)}});
                 }
                 return json{{"api_keys", std::move(out)}, {"permissions", KnownPermissions()}};
               }));
  server.Route("POST", "/console/api/api-keys",
               Api([&e, &clock](const Signed& s, const http::Request&, const json& body) -> Result<json> {
                 CF_RETURN_IF_ERROR(CheckKeys(body, {"name", "permissions"}));
                 CF_ASSIGN_OR_RETURN(std::string name, Field(body, "name"));
                 CF_ASSIGN_OR_RETURN(std::string permissions, Field(body, "permissions"));
                 CF_ASSIGN_OR_RETURN(std::string key, CreateApiKey(e.storage(), s.session.workspace, name, permissions,
                                                                   clock.NowSeconds()));
                 return json{{"api_key", key}, {"key_id", key.substr(0, 16)}};
               }));
  server.Route("POST", "/console/api/api-keys/revoke",
               Api([&e](const Signed& s, const http::Request&, const json& body) -> Result<json> {
                 CF_RETURN_IF_ERROR(CheckKeys(body, {"key_id"}));
                 CF_ASSIGN_OR_RETURN(std::string id, Field(body, "key_id"));
                 CF_RETURN_IF_ERROR(RevokeApiKey(e.storage(), s.session.workspace, id));
                 return json{{"revoked", id}};
               }));
  server.Route("GET", "/console/api/frequency-caps",
               Api([&e](const Signed& s, const http::Request&, const json&) -> Result<json> {
                 CF_ASSIGN_OR_RETURN(auto caps, ListFrequencyCaps(e.storage(), s.session.workspace));
                 json out = json::array();
                 for (const auto& c : caps) {
                   out.push_back({{"channel", c.channel}, {"max_messages", c.max_messages}, {"days", c.days}});
                 }
                 return json{{"frequency_caps", std::move(out)}, {"channels", CampaignChannels()}};
               }));
  server.Route("POST", "/console/api/frequency-caps",
               Api([&e](const Signed& s, const http::Request&, const json& body) -> Result<json> {
                 CF_RETURN_IF_ERROR(CheckKeys(body, {"channel", "max_messages", "days"}));
                 FrequencyCapRecord cap;
                 CF_ASSIGN_OR_RETURN(cap.channel, Field(body, "channel"));
                 for (const char* f : {"max_messages", "days"}) {
                   if (!body.contains(f) || !body[f].is_number_integer()) return Err(BadField(f, "must be an integer"));
                 }
                 cap.max_messages = body["max_messages"].get<int64_t>();
                 cap.days = body["days"].get<int64_t>();
                 CF_RETURN_IF_ERROR(SetFrequencyCap(e.storage(), s.session.workspace, cap));
                 return json{{"channel", cap.channel}, {"max_messages", cap.max_messages}, {"days", cap.days}};
               }));
  server.Route("POST", "/console/api/frequency-caps/remove",
               Api([&e](const Signed& s, const http::Request&, const json& body) -> Result<json> {
                 CF_RETURN_IF_ERROR(CheckKeys(body, {"channel"}));
                 CF_ASSIGN_OR_RETURN(std::string channel, Field(body, "channel"));
                 CF_RETURN_IF_ERROR(RemoveFrequencyCap(e.storage(), s.session.workspace, channel));
                 return json{{"removed", channel}};
               }));
}

}  // namespace cf::engage
