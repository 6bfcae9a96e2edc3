// The Campaign Plan and campaign editor APIs (docs/console-api.md, "audience"): the plan's
// calendar, campaign CRUD, the editor's helpers (attributes, offer and audience counts, the
// audience curve) and "Run plan", each the same library call as the command line's.
#include "console/plan_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <utility>
#include <vector>

#include "base/files.h"
#include "base/time.h"
#include "console/console.h"
#include "http/json_answer.h"
#include "offer/offer.h"
#include "plan/audience_filter.h"
#include "plan/offer_curve.h"
#include "plan/plan_edit.h"
#include "plan/planner.h"

namespace cf::console {

using nlohmann::json;

namespace {

constexpr size_t kMaxPickerValues = 200;  // values per attribute in the pickers
constexpr size_t kCurvesKept = 16;        // offers whose curve stays computed

// The most recently asked curves, by (offer, audience): moving the slider or reopening the
// editor reads the points computed once.
class CurveCache {
 public:
  Result<json> Get(const Console& c, const std::string& offer, const std::string& audience) {
    const std::string key = offer + '\n' + audience;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->first == key) {
          entries_.splice(entries_.begin(), entries_, it);
          return entries_.front().second;
        }
      }
    }
    plan::CurveOptions options;
    options.points = c.config().curve_points;
    CF_ASSIGN_OR_RETURN(plan::OfferCurve curve, plan::ComputeOfferCurve(c.dataset(), c.model(), c.event_log(), offer,
                                                                        audience, std::nullopt, options));
    json points = json::array();
    for (const plan::CurvePoint& p : curve.points) {
      points.push_back({{"size", p.size},
                        {"expected_buyers", p.expected_buyers},
                        {"expected_revenue", p.expected_revenue},
                        {"buyer_share", p.buyer_share},
                        {"lift", p.lift},
                        {"threshold", p.threshold}});
    }
    json out = {{"offer", curve.offer},
                {"audience", audience},
                {"products", curve.products},
                {"any_product", curve.any_product},
                {"customers", curve.customers},
                {"eligible", curve.eligible},
                {"as_of", FormatIsoTime(curve.as_of)},
                {"horizon_days", c.model().horizon_days()},
                {"expected_buyers", curve.expected_buyers},
                {"expected_revenue", curve.expected_revenue},
                {"points", std::move(points)}};
    std::lock_guard<std::mutex> lock(mu_);
    entries_.emplace_front(key, out);
    if (entries_.size() > kCurvesKept) entries_.pop_back();
    return out;
  }

 private:
  std::mutex mu_;
  std::list<std::pair<std::string, json>> entries_;
};

// The JSON body's "campaign" object.
Result<json> CampaignOf(const json& body) {
  if (!body.is_object() || !body.contains("campaign") || !body["campaign"].is_object()) {
    return Err(Status::InvalidArgument(
        "the body must be {\"campaign\": {...}}: a campaign in the plan file's format (docs/plan.md)"));
  }
  CF_RETURN_IF_ERROR(http::CheckKeys(body, {"campaign"}));
  return body["campaign"];
}

// Whether "Run plan" may write `dir`: new, empty, or a plan directory (never anything else).
Status CheckPlanDirectory(const std::string& dir) {
  if (!PathExists(dir) || plan::IsPlanDirectory(dir)) return Status::OK();
  if (!IsDirectory(dir)) {
    return Status::FailedPrecondition("--plan-dir " + dir + " is a file, not a plan directory; nothing was written");
  }
  std::error_code ec;
  if (std::filesystem::is_empty(dir, ec) && !ec) return Status::OK();
  return Status::FailedPrecondition("--plan-dir " + dir +
                                    " holds files that `audience plan` did not write; it was left untouched");
}

}  // namespace

Result<plan::CampaignSpec> CampaignFromJson(const plan::PlanFile& plan, const json& campaign, size_t index,
                                            const std::string& source) {
  json j = json::parse(plan::SerializePlan(plan));
  if (index >= j["campaigns"].size()) {
    index = j["campaigns"].size();
    j["campaigns"].push_back(campaign);
  } else {
    j["campaigns"][index] = campaign;
  }
  CF_ASSIGN_OR_RETURN(plan::PlanFile parsed, plan::ParsePlan(j.dump(), source));
  return parsed.campaigns.at(index);
}

json PlanView(const plan::PlanFile& plan, const std::string& plan_dir) {
  json file = json::parse(plan::SerializePlan(plan));
  json summary = nullptr;
  std::map<std::string, json> planned;  // by cohort id
  if (plan::IsPlanDirectory(plan_dir)) {
    auto text = ReadFile(plan_dir + "/summary.json");
    if (text.has_value()) {
      json s = json::parse(*text, nullptr, false);
      if (s.is_object()) {
        double revenue = 0, buyers = 0;
        uint64_t selected = 0, holdout = 0;
        for (const json& c : s.value("campaigns", json::array())) {
          planned[c.value("cohort_id", "")] = c;
          revenue += c.value("expected_revenue", 0.0);
          buyers += c.value("expected_buyers", 0.0);
          selected += c.value("selected", uint64_t{0});
          holdout += c.value("holdout", uint64_t{0});
        }
        summary = {{"plan", s.value("plan", "")},
                   {"as_of", s.value("as_of", "")},
                   {"solver", s.value("solver", "")},
                   {"objective", s.value("objective", "")},
                   {"value", s.value("value", 0.0)},
                   {"gap", s.value("gap", 0.0)},
                   {"violations", s.value("violations", uint64_t{0})},
                   {"messages_per_customer", s.value("messages_per_customer", json::object())},
                   {"campaigns", s.value("campaigns", json::array()).size()},
                   {"selected", selected},
                   {"holdout", holdout},
                   {"expected_buyers", buyers},
                   {"expected_revenue", revenue}};
      }
    }
  }
  json campaigns = json::array();
  size_t unplanned = 0;
  for (size_t i = 0; i < plan.campaigns.size(); ++i) {
    json c = file["campaigns"][i];
    const std::string cohort = plan::CohortId(plan.name, plan.campaigns[i].name);
    c["cohort_id"] = cohort;
    auto it = planned.find(cohort);
    // Planned as it is now: a campaign edited after the last run shows no numbers until the next.
    const bool current = it != planned.end() && it->second.value("offer", "") == plan.campaigns[i].offer &&
                         it->second.value("send_date", "") == plan.campaigns[i].send_date &&
                         it->second.value("channel", "") == plan::ChannelName(plan.campaigns[i].channel);
    if (current) {
      c["planned"] = {{"eligible", it->second.value("eligible", uint64_t{0})},
                      {"selected", it->second.value("selected", uint64_t{0})},
                      {"holdout", it->second.value("holdout", uint64_t{0})},
                      {"expected_buyers", it->second.value("expected_buyers", 0.0)},
                      {"expected_revenue", it->second.value("expected_revenue", 0.0)}};
    } else {
      c["planned"] = nullptr;
      ++unplanned;
    }
    campaigns.push_back(std::move(c));
  }
  const int64_t last = plan.StartTime() + static_cast<int64_t>(plan.days - 1) * kSecondsPerDay;
  json out = {{"name", plan.name},
              {"start", plan.start},
              {"end", FormatIsoDate(last)},
              {"days", plan.days},
              {"objective", file["objective"]},
              {"pressure", file["pressure"]},
              {"campaigns", std::move(campaigns)},
              {"summary", std::move(summary)},
              {"unplanned", unplanned}};
  if (!out["summary"].is_null()) out["stale"] = unplanned > 0 || out["summary"]["campaigns"] != plan.campaigns.size();
  return out;
}

json AttributesView(const data::Dataset& dataset, size_t max_values) {
  auto describe = [&](const std::vector<data::Attribute>& attributes) {
    json list = json::array();
    for (const data::Attribute& a : attributes) {
      std::vector<uint64_t> counts(a.dict.size(), 0);
      for (uint32_t code : a.codes) {
        if (code < counts.size()) ++counts[code];
      }
      std::vector<uint32_t> order(counts.size());
      std::iota(order.begin(), order.end(), 0u);
      std::stable_sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) { return counts[x] > counts[y]; });
      json values = json::array();
      size_t distinct = 0;
      for (uint32_t code : order) {
        if (counts[code] == 0 || a.dict[code].empty()) continue;
        ++distinct;
        if (values.size() < max_values) values.push_back({{"value", a.dict[code]}, {"count", counts[code]}});
      }
      list.push_back({{"name", a.name}, {"distinct", distinct}, {"values", std::move(values)}});
    }
    return list;
  };
  return json{{"products", dataset.catalog().size()},
              {"customers", dataset.customers().size()},
              {"product_attributes", describe(dataset.catalog().attributes())},
              {"customer_attributes", describe(dataset.customers().attributes())}};
}

void RegisterPlanApi(Console& console, http::Server& server) {
  Console& c = console;
  auto curves = std::make_shared<CurveCache>();
  const std::string& path = c.config().plan_path;
  const std::string& dir = c.config().plan_dir;
  // What the editor's errors call the plan file: its name, not where it is on the server.
  const std::string source = std::filesystem::path(path).filename().string();
  using Signed = Console::Signed;

  // Reads and edits of the plan file take its flock only (as `audience campaign` does), never the
  // plan mutex: the editor stays usable while a plan runs. summary.json is replaced atomically.
  c.Api(server, "GET", "/plan", [&path, &dir](const Signed&, const http::Request&, const json&) -> Result<json> {
    CF_ASSIGN_OR_RETURN(plan::PlanFile p, plan::LoadPlanFile(path));
    json view = PlanView(p, dir);
    view["channels"] = {"email", "push", "sms"};
    view["priorities"] = {"high", "medium", "low"};
    return view;
  });
  c.Api(server, "GET", "/campaigns/([^/]+)",
        [&path, &dir, source](const Signed&, const http::Request& req, const json&) -> Result<json> {
          CF_ASSIGN_OR_RETURN(plan::PlanFile p, plan::LoadPlanFile(path));
          auto i = plan::FindCampaign(p, source, req.matches.at(1));
          if (!i.has_value()) return Err(Status(i.error().code(), "campaign " + i.error().message()));
          json view = PlanView(p, dir);
          json out = view["campaigns"][*i];
          out["plan"] = p.name;
          return out;
        });
  // Adds ({"campaign": {...}}), edits (POST /campaigns/NAME) and removes a campaign of the plan
  // file: the library's read-modify-write, so a bad edit leaves the file as it was.
  c.Api(server, "POST", "/campaigns",
        [&path, source](const Signed&, const http::Request&, const json& body) -> Result<json> {
          CF_ASSIGN_OR_RETURN(json campaign, CampaignOf(body));
          plan::CampaignSpec added;
          std::string plan_name;
          CF_RETURN_IF_ERROR(plan::EditPlanFile(path, "adding the campaign", [&](plan::PlanFile& p) -> Status {
            // A taken name is a 409 before the parser's 400 for duplicates.
            if (campaign.contains("name") && campaign["name"].is_string()) {
              Status s = plan::CheckNewCampaignName(p, source, campaign["name"].get<std::string>());
              if (!s.ok()) return Status(s.code(), "campaign " + s.message());
            }
            CF_ASSIGN_OR_RETURN(added, CampaignFromJson(p, campaign, p.campaigns.size(), source));
            CF_RETURN_IF_ERROR(plan::AddCampaign(p, source, added));
            plan_name = p.name;
            return Status::OK();
          }));
          return json{{"name", added.name}, {"cohort_id", plan::CohortId(plan_name, added.name)}};
        });
  c.Api(server, "POST", "/campaigns/([^/]+)",
        [&path, source](const Signed&, const http::Request& req, const json& body) -> Result<json> {
          CF_ASSIGN_OR_RETURN(json campaign, CampaignOf(body));
          const std::string name = req.matches.at(1);
          plan::CampaignSpec edited;
          std::string plan_name;
          CF_RETURN_IF_ERROR(
              plan::EditPlanFile(path, "editing campaign '" + name + "'", [&](plan::PlanFile& p) -> Status {
                auto i = plan::FindCampaign(p, source, name);
                if (!i.has_value()) return Status(i.error().code(), "campaign " + i.error().message());
                CF_ASSIGN_OR_RETURN(edited, CampaignFromJson(p, campaign, *i, source));
                p.campaigns[*i] = edited;
                plan_name = p.name;
                return Status::OK();
              }));
          return json{{"name", edited.name}, {"cohort_id", plan::CohortId(plan_name, edited.name)}};
        });
  c.Api(server, "POST", "/campaigns/([^/]+)/remove",
        [&path, source](const Signed&, const http::Request& req, const json&) -> Result<json> {
          const std::string name = req.matches.at(1);
          CF_RETURN_IF_ERROR(
              plan::EditPlanFile(path, "removing campaign '" + name + "'", [&](plan::PlanFile& p) -> Status {
                Status s = plan::RemoveCampaign(p, source, name);
                return s.ok() ? s : Status(s.code(), "campaign " + s.message());
              }));
          return json{{"removed", name}};
        });

  // The editor's helpers: attributes for the pickers, live counts, the audience curve.
  auto attributes = std::make_shared<json>(AttributesView(c.dataset(), kMaxPickerValues));
  c.Api(server, "GET", "/attributes",
        [attributes](const Signed&, const http::Request&, const json&) -> Result<json> { return *attributes; });
  c.Api(server, "GET", "/offer/count", [&c](const Signed&, const http::Request& req, const json&) -> Result<json> {
    CF_ASSIGN_OR_RETURN(offer::ProductSet set, offer::CompileOffer(req.Query("offer"), c.dataset().catalog()));
    return json{{"offer", set.name},
                {"products", set.any ? c.dataset().catalog().size() : set.count},
                {"any_product", set.any}};
  });
  c.Api(server, "GET", "/audience/count", [&c](const Signed&, const http::Request& req, const json&) -> Result<json> {
    CF_ASSIGN_OR_RETURN(std::vector<uint8_t> selected,
                        plan::SelectCustomers(req.Query("audience"), c.dataset().customers()));
    const uint64_t n = static_cast<uint64_t>(std::count(selected.begin(), selected.end(), uint8_t{1}));
    return json{{"customers", n}, {"of", selected.size()}};
  });
  c.Api(server, "GET", "/curve", [&c, curves](const Signed&, const http::Request& req, const json&) -> Result<json> {
    if (req.Query("offer").empty())
      return Err(Status::InvalidArgument("'offer' is required: an offer expression or any"));
    return curves->Get(c, req.Query("offer"), req.Query("audience"));
  });

  // "Run plan": `audience plan` as a job, under the plan mutex (edits wait for it).
  c.Api(server, "POST", "/plan/run",
        [&c, &path, &dir](const Signed&, const http::Request&, const json& body) -> Result<json> {
          if (!body.is_object() || !body.empty()) return Err(Status::InvalidArgument("the body must be {}"));
          CF_RETURN_IF_ERROR(CheckPlanDirectory(dir));
          CF_ASSIGN_OR_RETURN(
              std::string id, c.jobs().Start("plan", [&c, &path, &dir](JobProgress& progress) -> Result<json> {
                std::lock_guard<std::mutex> lock(c.plan_mutex());
                progress.Set(0.05, "reading the plan");
                CF_ASSIGN_OR_RETURN(plan::PlanFile p, plan::LoadPlanFile(path));
                CF_RETURN_IF_ERROR(CheckPlanDirectory(dir));
                plan::PlannerOptions options;
                options.threads = c.config().threads;
                options.on_progress = [&progress, n = p.campaigns.size()](double fraction, const std::string& step) {
                  progress.Set(fraction, step, json{{"campaigns", n}});
                };
                CF_ASSIGN_OR_RETURN(plan::PlanResult result,
                                    plan::PlanIntoDirectory(c.dataset(), c.model(), p, options, dir));
                return json::parse(plan::SummaryJson(result));
              }));
          return json{{"job_id", id}};
        });
}

}  // namespace cf::console
