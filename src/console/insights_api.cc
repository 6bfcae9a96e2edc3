// The console's Opportunities and Analytics pages: fronts over plan::FindOpportunities (as
// `audience opportunities`), analytics::BuildCampaignReport (as `audience report`) and the
// backtest JSON `audience evaluate --json-out` writes. The pages draw what these answer.
#include <fmt/format.h>

#include <filesystem>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analytics/campaign_report.h"
#include "analytics/report_output.h"
#include "analytics/sends.h"
#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "console/console.h"
#include "console/jobs.h"
#include "model/event_log.h"
#include "plan/opportunities.h"

namespace cf::console {
namespace {

using nlohmann::json;

constexpr uint64_t kDefaultTop = 20;  // values the page lists unless it asks for another number

// The string `name` of the request, `fallback` when absent; another type is an error naming it.
Result<std::string> StringField(const json& body, const char* name, const char* fallback) {
  auto it = body.find(name);
  if (it == body.end()) return std::string(fallback);
  if (!it->is_string()) return Err(Status::InvalidArgument(fmt::format("{} must be a string", name)));
  return it->get<std::string>();
}

Result<plan::OpportunityOptions> OpportunityRequest(const json& body) {
  if (!body.is_object()) return Err(Status::InvalidArgument("expected a JSON object {\"by\", \"top\", \"rank_by\"}"));
  plan::OpportunityOptions o;
  CF_ASSIGN_OR_RETURN(o.by, StringField(body, "by", ""));
  const json top = body.contains("top") ? body["top"] : json(kDefaultTop);
  if (!top.is_number_unsigned()) return Err(Status::InvalidArgument("top must be a whole number from 1 to 100000"));
  o.top = top.get<uint64_t>();
  CF_ASSIGN_OR_RETURN(const std::string rank_by, StringField(body, "rank_by", "revenue"));
  if (rank_by == "revenue") {
    o.order = plan::OpportunityOrder::kExpectedRevenue;
  } else if (rank_by == "buyers") {
    o.order = plan::OpportunityOrder::kExpectedBuyers;
  } else {
    return Err(
        Status::InvalidArgument(fmt::format("rank_by: unknown order {}; expected revenue or buyers", Quote(rank_by))));
  }
  CF_RETURN_IF_ERROR(o.Validate());
  return o;
}

// The plan's as_of when its summary has one, so that demand and reach are measured at the same time.
std::optional<int64_t> PlanAsOf(const std::string& plan_dir) {
  const Result<std::string> text = ReadFile(plan_dir + "/summary.json");
  if (!text.has_value()) return std::nullopt;
  const json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("as_of") || !j["as_of"].is_string()) return std::nullopt;
  Result<int64_t> t = ParseIsoTime(j["as_of"].get<std::string>());
  return t.has_value() ? std::optional<int64_t>(*t) : std::nullopt;
}

// What the Analytics page says when an input is missing: the flag to pass and how to make it.
json Unavailable(const std::string& message) { return {{"available", false}, {"message", message}}; }

Result<json> CampaignReportJson(Console& console) {
  const ConsoleConfig& config = console.config();
  if (config.sends_file.empty() || !PathExists(config.sends_file)) {
    return Unavailable(
        "No sends yet: the report compares each campaign's customers with its holdout once the campaigns are sent. "
        "Send them in the engagement platform, save its send records (engage campaign sends) and start the console "
        "with --sends FILE and --purchases FILE (the purchases since).");
  }
  if (config.purchases_file.empty() || !PathExists(config.purchases_file)) {
    return Unavailable(
        "No purchases since the sends: start the console with --purchases FILE (the purchases after the plan, online "
        "and offline, in the format audience ingest reads).");
  }
  analytics::ReportOptions options;
  CF_RETURN_IF_ERROR(options.Validate());
  analytics::PlanInputs plan;
  {
    std::lock_guard<std::mutex> lock(console.plan_mutex());
    CF_ASSIGN_OR_RETURN(plan, analytics::ReadPlanInputs(config.plan_dir));
  }
  Result<std::vector<analytics::SendRecord>> sends = analytics::ReadSendsFile(config.sends_file);
  if (!sends.has_value()) return Err(sends.error().WithPrefix("--sends"));
  TempDirectory scratch("console-report");
  CF_RETURN_IF_ERROR(scratch.status());
  data::IngestOptions ingest;
  ingest.events.path = config.purchases_file;
  Result<analytics::Purchases> purchases = analytics::IngestPurchases(ingest, scratch.path());
  if (!purchases.has_value()) return Err(purchases.error().WithPrefix("--purchases " + config.purchases_file));
  CF_ASSIGN_OR_RETURN(analytics::CampaignReport report,
                      analytics::BuildCampaignReport(console.dataset(), plan, *sends, *purchases->dataset, options));
  // The JSON `audience report --json` writes; each campaign carries its headline in words.
  json out = json::parse(analytics::ReportJson(report, analytics::OutputOptions()));
  out["available"] = true;
  return out;
}

// What identifies one version of a file: its size and modification time ("" when absent).
std::string FileStamp(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return "";
  const auto time = std::filesystem::last_write_time(path, ec);
  if (ec) return "";
  return fmt::format("{}:{}", size, time.time_since_epoch().count());
}

// The campaign report, rebuilt only when the plan, the sends or the purchases changed: building
// it ingests the purchases, seconds at a retailer's size, and the page is opened again and
// again. Thread-safe; a request that finds a build in progress waits for it.
class ReportCache {
 public:
  Result<json> Get(Console& console) {
    const ConsoleConfig& config = console.config();
    const std::string stamp = FileStamp(config.plan_dir + "/summary.json") + "|" + FileStamp(config.sends_file) +
                              "|" + FileStamp(config.purchases_file);
    std::lock_guard<std::mutex> lock(mu_);
    if (report_.has_value() && stamp == stamp_) return *report_;
    Result<json> report = CampaignReportJson(console);
    if (report.has_value()) {
      report_ = *report;
      stamp_ = stamp;
    }
    return report;
  }

 private:
  std::mutex mu_;
  std::string stamp_;
  std::optional<json> report_;
};

Result<json> BacktestJson(const ConsoleConfig& config) {
  if (config.backtest_file.empty() || !PathExists(config.backtest_file)) {
    return Unavailable(
        "No backtest yet: run audience evaluate --data DS --cutoff DATE --json-out backtest.json and start the console "
        "with --backtest backtest.json.");
  }
  CF_ASSIGN_OR_RETURN(const std::string text, ReadFile(config.backtest_file));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("models") || !j["models"].is_object()) {
    return Err(Status::InvalidArgument(fmt::format(
        "--backtest {}: not a backtest report (expected the JSON of audience evaluate --json-out, with \"models\")",
        Quote(config.backtest_file))));
  }
  j["available"] = true;
  return j;
}

}  // namespace

void RegisterInsightsApi(Console& console, http::Server& server) {
  console.Api(server, "GET", "/opportunities/attributes",
              [&console](const Console::Signed&, const http::Request&, const json&) -> Result<json> {
                json names = json::array();
                for (const data::Attribute& a : console.dataset().catalog().attributes()) names.push_back(a.name);
                return json{{"attributes", names}};
              });

  console.Api(
      server, "POST", "/opportunities",
      [&console](const Console::Signed&, const http::Request&, const json& body) -> Result<json> {
        CF_ASSIGN_OR_RETURN(const plan::OpportunityOptions options, OpportunityRequest(body));
        const std::string rank_by = options.order == plan::OpportunityOrder::kExpectedBuyers ? "buyers" : "revenue";
        CF_ASSIGN_OR_RETURN(
            const std::string id,
            console.jobs().Start("opportunities", [&console, options, rank_by](JobProgress& progress) -> Result<json> {
              const data::Dataset& ds = console.dataset();
              std::optional<plan::PlannedReach> reach;
              std::optional<int64_t> as_of;
              {
                std::lock_guard<std::mutex> lock(console.plan_mutex());
                const std::string& plan_dir = console.config().plan_dir;
                if (PathExists(plan_dir + "/summary.json")) {
                  Result<plan::PlannedReach> r = plan::ReadPlannedReach(plan_dir, ds.customers());
                  if (!r.has_value()) return Err(r.error().WithPrefix("plan directory"));
                  reach = *std::move(r);
                  as_of = PlanAsOf(plan_dir);
                }
              }
              const model::EventLog& log = console.event_log();
              const model::HistoryView history(log, as_of.value_or(log.last_time() + 1));
              progress.Set(0.3, fmt::format("scoring every {} as an offer", options.by));
              CF_ASSIGN_OR_RETURN(const plan::Opportunities found,
                                  plan::FindOpportunities(console.model(), ds.catalog(), history,
                                                          reach.has_value() ? &*reach : nullptr, options));
              json out = plan::OpportunitiesToJson(found, reach.has_value() ? &*reach : nullptr);
              out["rank_by"] = rank_by;
              return out;
            }));
        return json{{"job_id", id}};
      });

  // One report at a time: each ingests the purchases into its own scratch dataset.
  auto reports = std::make_shared<ReportCache>();
  console.Api(server, "GET", "/analytics/report",
              [&console, reports](const Console::Signed&, const http::Request&, const json&) -> Result<json> {
                return reports->Get(console);
              });

  console.Api(server, "GET", "/analytics/model",
              [&console](const Console::Signed&, const http::Request&, const json&) -> Result<json> {
                return BacktestJson(console.config());
              });
}

}  // namespace cf::console
