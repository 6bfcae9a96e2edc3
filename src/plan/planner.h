// The planner: a plan file and a trained model in, who receives which campaign out.
//
// For each campaign it compiles the offer, scores every customer with the universal model,
// keeps the eligible ones (audience expression, channel opt-in, recent buyers excluded, the
// volume's kind), then hands all campaigns at once to a solver (allocation.h) that respects
// the pressure rules, draws the holdouts (holdout.h), and writes the plan directory that
// `audience export` reads. docs/plan.md describes the directory.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "data/dataset.h"
#include "model/universal.h"
#include "plan/allocation.h"
#include "plan/plan_file.h"

namespace cf::plan {

struct PlannerOptions {
  std::string solver = "auto";  // "exact", "fast" or "auto" (see MakeSolver)
  uint64_t seed = 1;            // any value: the holdout draw
  int threads = 0;              // 0 .. 1024: 0 = hardware concurrency
  // Scores as of this UTC time; nullopt = just after the dataset's last event.
  std::optional<int64_t> as_of;
  // Told each step with the share of the work done (0 .. 1) and what runs now, e.g. "scoring
  // offers (2 of 5)", from the planning thread; none by default (the console's "Run plan" job
  // shows it).
  std::function<void(double fraction, const std::string& step)> on_progress;
  Status Validate() const;
};

// One campaign after planning. `selected` holds every customer the solver gave the campaign,
// holdouts included (their slot stays empty: they receive nothing from it); the per-customer
// vectors run parallel to it.
struct PlannedCampaign {
  CampaignSpec spec;
  std::string cohort_id;
  int send_day = 0;
  uint64_t eligible = 0;  // candidates the solver could choose from
  std::vector<uint32_t> selected;
  std::vector<float> probability;
  std::vector<float> expected_revenue;
  std::vector<uint8_t> decile;   // 1 (best) .. 10 within the campaign's selected audience
  std::vector<uint8_t> holdout;  // 1 = withheld
  uint64_t holdouts = 0;
  double expected_buyers = 0;   // over the non-holdout selected customers
  double expected_revenue_sum = 0;
};

struct PlanResult {
  std::string plan_name;
  Objective objective = Objective::kRevenue;
  int64_t as_of = 0;
  int horizon_days = 0;
  std::string solver;
  double value = 0;            // the objective over the non-holdout selected customers
  double allocated_value = 0;  // the objective over all selected customers, holdouts included
  double upper_bound = 0;      // the solver's proven bound on allocated_value
  double gap = 0;              // (upper_bound - allocated_value) / upper_bound
  uint64_t violations = 0;     // broken rules, counted by CountViolations: 0
  std::vector<PlannedCampaign> campaigns;
  std::map<int, uint64_t> messages_per_customer;  // messages received -> customers
  double seconds_scoring = 0, seconds_solving = 0;
};

Result<PlanResult> MakePlan(const data::Dataset& dataset, const model::UniversalModel& model, const PlanFile& plan,
                            const PlannerOptions& options);

// MakePlan, then WritePlanDirectory into `dir`: what `audience plan` and the console's "Run plan"
// do. An allocation that breaks its own rules (a solver bug, never the input) is refused with
// nothing written. The caller checks that `dir` may be written (IsPlanDirectory or new).
Result<PlanResult> PlanIntoDirectory(const data::Dataset& dataset, const model::UniversalModel& model,
                                     const PlanFile& plan, const PlannerOptions& options, const std::string& dir);

// The identifier columns of a customer in a campaign CSV: its alias is the email alias when
// it has one, else its first alias ("label:name").
std::string_view ChosenAlias(std::string_view aliases);

// Writes PLANDIR/summary.json and PLANDIR/campaigns/<cohort_id>.csv, replacing only what an
// earlier plan wrote there (the export journal under PLANDIR/export stays).
Status WritePlanDirectory(const std::string& dir, const data::Customers& customers, const PlanResult& result);
// Whether `dir` is a plan directory this planner wrote.
bool IsPlanDirectory(const std::string& dir);

// The summary as summary.json holds it, and as a table for a terminal.
std::string SummaryJson(const PlanResult& result);
std::string SummaryTable(const PlanResult& result);

}  // namespace cf::plan
