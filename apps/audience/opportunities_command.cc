// opportunities: the values of a product attribute ranked as offers by expected buyers and
// revenue, with their growth and the share of their demand a plan already reaches.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "apps/audience/commands.h"
#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "data/dataset.h"
#include "model/event_log.h"
#include "model/universal.h"
#include "plan/opportunities.h"

namespace cf::cli {
namespace {

struct OpportunitiesFlags {
  std::string data, model_dir, by, plan_dir, json_out, at, rank_by = "revenue";
  int horizon = 0;  // 0: the model's
  uint64_t top = 20;
  int threads = 0;
};

bool IsOpportunitiesJson(const std::string& path) {
  const Result<std::string> text = ReadFile(path);
  if (!text.has_value()) return false;
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains("opportunities") && j.contains("by");
}

// A growth as "+12.3%", or "new" when nothing was bought in the period before.
std::string GrowthText(double g) { return std::isnan(g) ? "new" : fmt::format("{:+.1f}%", 100 * g); }

Status RunOpportunities(const OpportunitiesFlags& f) {
  plan::OpportunityOptions options;
  options.by = f.by;
  options.top = f.top;
  if (f.rank_by == "revenue") {
    options.order = plan::OpportunityOrder::kExpectedRevenue;
  } else if (f.rank_by == "buyers") {
    options.order = plan::OpportunityOrder::kExpectedBuyers;
  } else {
    return Status::InvalidArgument(fmt::format("--rank-by: unknown order '{}'; expected revenue or buyers", f.rank_by));
  }
  CF_RETURN_IF_ERROR(options.Validate());
  if (!f.json_out.empty()) {
    CF_RETURN_IF_ERROR(CheckOutputFile("--json-out", f.json_out,
                                       "an opportunities JSON written by audience opportunities", IsOpportunitiesJson));
    CF_RETURN_IF_ERROR(CheckOutside("--json-out", f.json_out, "dataset", f.data));
    CF_RETURN_IF_ERROR(CheckOutside("--json-out", f.json_out, "model", f.model_dir));
  }
  CF_ASSIGN_OR_RETURN(const std::optional<int64_t> at, ParseAtFlag(f.at));
  CF_ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> ds, data::Dataset::Open(f.data));
  CF_ASSIGN_OR_RETURN(std::unique_ptr<model::UniversalModel> m,
                      model::UniversalModel::Load(f.model_dir, ds->catalog(), f.threads));
  if (f.horizon != 0 && f.horizon != m->horizon_days()) {
    return Status::InvalidArgument(fmt::format(
        "--horizon {}: the model {} predicts purchases within {} days; pass --horizon {} or train a model with "
        "--horizon {}",
        f.horizon, f.model_dir, m->horizon_days(), m->horizon_days(), f.horizon));
  }
  std::optional<plan::PlannedReach> reach;
  if (!f.plan_dir.empty()) {
    Result<plan::PlannedReach> r = plan::ReadPlannedReach(f.plan_dir, ds->customers());
    if (!r.has_value()) return r.error().WithPrefix("--plan-dir");
    reach = *std::move(r);
  }
  const model::EventLog log = model::EventLog::FromDataset(*ds);
  const model::HistoryView history(log, at.value_or(log.last_time() + 1));
  Result<plan::Opportunities> found =
      plan::FindOpportunities(*m, ds->catalog(), history, reach.has_value() ? &*reach : nullptr, options);
  if (!found.has_value()) {
    // The library names its field; on the command line that field is the flag --by.
    const std::string& message = found.error().message();
    return StartsWith(message, "by: ") ? Status::InvalidArgument("--" + message) : found.error();
  }
  const plan::Opportunities& o = *found;

  if (!f.json_out.empty()) {
    nlohmann::json j = plan::OpportunitiesToJson(o, reach.has_value() ? &*reach : nullptr);
    j["rank_by"] = f.rank_by;
    j["model"] = f.model_dir;
    if (reach.has_value()) j["plan"]["dir"] = f.plan_dir;
    CF_RETURN_IF_ERROR(
        WriteFileAtomic(f.json_out, j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"));
  }
  std::printf("%zu values of %s ranked by expected %s within %d days as of %s, over %llu customers", o.values,
              o.by.c_str(), f.rank_by.c_str(), o.horizon_days, FormatIsoTime(o.as_of).c_str(),
              static_cast<unsigned long long>(o.customers));
  if (reach.has_value()) {
    std::printf("; the plan's %zu campaigns reach %llu customers", reach->campaigns.size(),
                static_cast<unsigned long long>(reach->customers));
  }
  std::printf("\n%4s %-28s %14s %16s %12s %12s", "rank", "value", "exp. buyers", "exp. revenue", "buyer growth",
              "rev. growth");
  if (reach.has_value()) {
    std::printf(" %8s %14s", "reached", "untapped");
  }
  std::printf("\n");
  for (size_t r = 0; r < o.ranked.size(); ++r) {
    const plan::Opportunity& v = o.ranked[r];
    std::printf("%4zu %-28s %14.1f %16.2f %12s %12s", r + 1, v.value.c_str(), v.expected_buyers, v.expected_revenue,
                GrowthText(v.buyer_growth).c_str(), GrowthText(v.revenue_growth).c_str());
    if (reach.has_value()) {
      std::printf(" %7.1f%% %14.1f", 100 * v.reached_share, v.untapped_buyers);
    }
    std::printf("\n");
  }
  return Status::OK();
}

}  // namespace

void AddOpportunitiesCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<OpportunitiesFlags>();
  CLI::App* o = app.add_subcommand(
      "opportunities", "Rank a product attribute's values as offers: expected buyers and revenue, growth, plan reach");
  o->add_option("--data", flags->data, "Dataset directory written by audience ingest")->required();
  o->add_option("--model", flags->model_dir, "Model directory written by train")->required();
  o->add_option("--by", flags->by, "Product attribute whose values are ranked (category, brand, department, ...)")
      ->required();
  o->add_option("--horizon", flags->horizon,
                "Days ahead (and the length of the growth periods); must be the model's horizon (default: it)")
      ->check(WholeNumber(1, 3660));
  o->add_option("--plan-dir", flags->plan_dir,
                "Directory written by audience plan: the share of each value's expected buyers its campaigns reach");
  o->add_option("--top", flags->top, "Values listed (1 to 100000)")
      ->check(WholeNumber(1, 100000))
      ->capture_default_str();
  o->add_option("--rank-by", flags->rank_by, "What ranks the values: revenue or buyers (expected)")
      ->capture_default_str();
  o->add_option("--json-out", flags->json_out, "Also write the ranking as JSON to this file");
  o->add_option("--at", flags->at,
                "Score and measure growth as of this date or time, ISO 8601 (default: just after the last event); "
                "give the plan's as_of with --plan-dir");
  o->add_option("--threads", flags->threads, "Feature and scoring threads (0 = all cores)")
      ->check(WholeNumber(0, 1024))
      ->capture_default_str();
  AddCommonFlags(o);
  o->callback([flags, exit_code] {
    const Status s = RunOpportunities(*flags);
    if (!s.ok()) {
      std::fprintf(stderr, "audience opportunities: %s\n", s.message().c_str());
    }
    *exit_code = s.ok() ? 0 : 1;
  });
}

}  // namespace cf::cli
