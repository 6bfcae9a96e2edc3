#include "engage/console.h"

#include <algorithm>

#include "base/log.h"
#include "base/strings.h"
#include "engage/admin.h"
#include "engage/api.h"
#include "engage/campaigns.h"
#include "engage/dashboard_users.h"
#include "engage/keys.h"
#include "engage/security_log.h"
#include "engage/web_assets.h"
#include "engage/wire.h"
#include "http/json_answer.h"

namespace cf::engage {

using nlohmann::json;

namespace {

constexpr size_t kSendRowsShown = 20;   // user rows on a campaign's sends
constexpr size_t kUserSendsShown = 20;  // a user's most recent send records

http::Response Asset(const std::string& name) { return http::AssetAnswer(FindWebAsset(name), name); }

// A string field of a console form, required and non-empty.
Result<std::string> Field(const json& body, const char* name) {
  if (!body.is_object() || !body.contains(name) || !IsNonEmptyString(body[name])) {
    return Err(BadField(name, "must be a non-empty string"));
  }
  return body[name].get<std::string>();
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

// A console user's admin action, for the security log.
Actor ConsoleActor(const http::ConsoleGate::Signed& s, const http::Request& req) {
  return {"console:" + s.session.email, req.remote_addr};
}

}  // namespace

Console::Console(Engage& engage, const Clock& clock, ConsoleOptions options)
    : engage_(engage),
      clock_(clock),
      gate_(clock, options, kSessionCookie, engage.storage().SharedSignInState(clock, options)) {}

Result<std::optional<Console::Signed>> Console::SessionOf(const http::Request& req) {
  CF_ASSIGN_OR_RETURN(auto s, gate_.Find(req));
  if (!s) return std::optional<Signed>();
  auto unavailable = [](const Status& error) {
    CF_LOG_ERROR("console session: {}", error.ToString());
    return Status::Unavailable("the console cannot read its users now; try again shortly");
  };
  auto txn = engage_.storage().Begin(false);
  if (!txn.has_value()) return Err(unavailable(txn.error()));
  auto user = (*txn)->FindDashboardUser(s->session.email);
  if (!user.has_value()) return Err(unavailable(user.error()));
  auto ws = (*txn)->FindWorkspace(s->session.workspace);
  if (!ws.has_value()) return Err(unavailable(ws.error()));
  if (!user->has_value() || !ws->has_value()) {
    gate_.Forget(s->token);
    return std::optional<Signed>();
  }
  Signed out;
  static_cast<http::ConsoleGate::Signed&>(out) = std::move(*s);
  out.workspace_id = **ws;
  return std::optional<Signed>(std::move(out));
}

http::Handler Console::Api(ApiCall call) {
  return [this, call = std::move(call)](const http::Request& req) {
    auto signed_in = SessionOf(req);
    if (!signed_in) return http::SessionsUnavailable(signed_in.error());
    return gate_.Guard(req, *signed_in ? &**signed_in : nullptr,
                       [&](const json& body) { return call(**signed_in, req, body); });
  };
}

http::Handler Console::Page(const std::string& asset) {
  return [this, asset](const http::Request& req) {
    auto signed_in = SessionOf(req);
    if (!signed_in) return http::SessionsUnavailable(signed_in.error());
    if (!*signed_in) return http::Redirect("/signin");
    return Asset(asset);
  };
}

void Console::Register(http::Server& server) {
  Engage& e = engage_;
  const Clock& clock = clock_;

  // Pages and assets. The sign-in page and what it loads are public; they hold no data.
  server.Route("GET", "/", Page("index.html"));
  server.Route("GET", "/console/app.js", Page("app.js"));
  server.Route("GET", "/console/api.js", Page("api.js"));
  server.Route("GET", "/signin", [this](const http::Request& req) {
    auto signed_in = SessionOf(req);
    if (signed_in && *signed_in) return http::Redirect("/");
    return Asset("signin.html");
  });
  server.Route("GET", "/console/signin.js", [](const http::Request&) { return Asset("signin.js"); });
  server.Route("GET", "/console/style.css", [](const http::Request&) { return Asset("style.css"); });

  server.Route("POST", "/console/api/signin", [this](const http::Request& req) {
    return gate_.SignIn(
        req, [this, &req](std::string_view email, std::string_view password) -> Result<http::ConsoleGate::Identity> {
          auto user = VerifyDashboardUser(engage_.storage(), email, password);
          // The email as typed when it is not a user's (never the password); the failure is
          // logged before the answer, so a sign-in the log cannot hold is refused.
          const bool ok = user.has_value();
          CF_RETURN_IF_ERROR(RecordSecurityEvent(
              engage_.storage(), ok ? user->workspace : "",
              Actor{ok ? "console:" + user->email : std::string(email.substr(0, 256)), req.remote_addr},
              ok ? "console.signin" : "console.signin_failed", json::object(), clock_.NowSeconds()));
          if (!ok) return Err(user.error());
          return http::ConsoleGate::Identity{user->email, user->workspace};
        });
  });
  server.Route("POST", "/console/api/signout", [this](const http::Request& req) {
    auto signed_in = SessionOf(req);
    if (!signed_in) return http::SessionsUnavailable(signed_in.error());
    return gate_.SignOut(req, *signed_in ? &**signed_in : nullptr);
  });
  server.Route("GET", "/console/api/session",
               Api([](const Signed& s, const http::Request& req, const json&) -> Result<json> {
                 return json{{"email", s.session.email},
                             {"workspace", s.session.workspace},
                             {"csrf_token", s.session.csrf_token},
                             {"base_url", http::BaseUrl(req)}};
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
                 out["base_url"] = http::BaseUrl(req);
                 return out;
               }));
  server.Route("POST", "/console/api/partners/([^/]+)/key",
               Api([&e, &clock](const Signed& s, const http::Request& req, const json&) -> Result<json> {
                 CF_ASSIGN_OR_RETURN(std::string key,
                                     GenerateDataImportKey(e.storage(), s.session.workspace, req.matches.at(1),
                                                           clock.NowSeconds(), ConsoleActor(s, req)));
                 return json{{"data_import_key", key}};
               }));
  server.Route("POST", "/console/api/partners/([^/]+)/key/invalidate",
               Api([&e](const Signed& s, const http::Request& req, const json&) -> Result<json> {
                 CF_RETURN_IF_ERROR(InvalidateDataImportKey(e.storage(), s.session.workspace, req.matches.at(1),
                                                            ConsoleActor(s, req)));
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
        // The query's bytes are not checked as UTF-8: a strict dump() would throw (fuzz_engage_api).
        if (found["users"].empty()) {
          return Err(Status::NotFound("no user matches " + ask.dump(-1, ' ', false, json::error_handler_t::replace)));
        }
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
               Api([&e, &clock](const Signed& s, const http::Request& req, const json& body) -> Result<json> {
                 CF_RETURN_IF_ERROR(CheckKeys(body, {"name", "permissions"}));
                 CF_ASSIGN_OR_RETURN(std::string name, Field(body, "name"));
                 CF_ASSIGN_OR_RETURN(std::string permissions, Field(body, "permissions"));
                 CF_ASSIGN_OR_RETURN(std::string key, CreateApiKey(e.storage(), s.session.workspace, name, permissions,
                                                                   clock.NowSeconds(), ConsoleActor(s, req)));
                 return json{{"api_key", key}, {"key_id", key.substr(0, 16)}};
               }));
  server.Route("POST", "/console/api/api-keys/revoke",
               Api([&e](const Signed& s, const http::Request& req, const json& body) -> Result<json> {
                 CF_RETURN_IF_ERROR(CheckKeys(body, {"key_id"}));
                 CF_ASSIGN_OR_RETURN(std::string id, Field(body, "key_id"));
                 CF_RETURN_IF_ERROR(RevokeApiKey(e.storage(), s.session.workspace, id, ConsoleActor(s, req)));
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
