// Opportunities: the values of one product attribute (category, brand, department, ...) ranked
// as offers by what the model expects them to sell over the horizon, with their growth in
// history and, given a plan, the share of their demand the planned campaigns already reach.
// The values with large untapped demand are the campaigns a marketer has not built yet.
// docs/plan.md, "Opportunities", defines every figure.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "data/dataset.h"
#include "model/event_log.h"
#include "model/universal.h"

namespace cf::plan {

enum class OpportunityOrder : uint8_t { kExpectedRevenue, kExpectedBuyers };

struct OpportunityOptions {
  std::string by;                                               // a product attribute of the catalog; required
  size_t top = 20;                                              // 1 .. 100000: values listed (all are ranked)
  OpportunityOrder order = OpportunityOrder::kExpectedRevenue;  // what ranks the values
  Status Validate() const;
};

// The customers a plan directory already reaches: PLANDIR/summary.json lists the campaigns
// (campaigns[].cohort_id, and .name and .offer when present) and PLANDIR/campaigns/<cohort_id>.csv
// holds each one's audience (columns `customer`, the CRM id, and `holdout`, 0 or 1).
struct PlannedReach {
  struct Campaign {
    std::string name, cohort_id, offer;  // offer: the expression, "" when the summary has none
    uint64_t treated = 0;                // audience rows with holdout 0
    uint64_t holdout = 0;
  };
  std::vector<Campaign> campaigns;
  std::vector<uint8_t> reached;  // per customer of the dataset: 1 when treated by any campaign
  uint64_t customers = 0;        // customers reached by at least one campaign
};

// Errors name the file (and line, column and value for the audiences), and what would be valid.
Result<PlannedReach> ReadPlannedReach(const std::string& plan_dir, const data::Customers& customers);

struct Opportunity {
  std::string value;            // the attribute's value
  std::string offer;            // the same as an offer expression: by = "value"
  uint64_t products = 0;        // catalog products with the value
  double expected_buyers = 0;   // Σ over every customer of P(buys within H)
  double expected_revenue = 0;  // Σ over every customer of the expected revenue within H
  // History: customers who bought the value, and its revenue (lines ≥ 0), in the last H days
  // before the cutoff and in the H days before those.
  double recent_buyers = 0, recent_revenue = 0;
  double previous_buyers = 0, previous_revenue = 0;
  double buyer_growth = 0, revenue_growth = 0;  // recent / previous − 1; NaN when previous is 0
  // With a plan: Σ of P(buys) over the customers it reaches, its share of expected_buyers, and
  // the rest (the untapped demand).
  double reached_buyers = 0, reached_share = 0, untapped_buyers = 0;
};

struct Opportunities {
  std::string by;
  int horizon_days = 0;
  int64_t as_of = 0;       // the history's cutoff
  uint64_t customers = 0;  // customers scored (every customer of the history)
  size_t values = 0;       // values of the attribute scored and ranked
  bool with_plan = false;
  std::vector<Opportunity> ranked;  // the best options.top, best first (ties: catalog order)
};

// Scores every value of options.by as an offer for every customer (one UniversalModel::ScoreOffers
// call) and ranks them. `plan` may be null.
Result<Opportunities> FindOpportunities(const model::UniversalModel& model, const data::Catalog& catalog,
                                        const model::HistoryView& history, const PlannedReach* plan,
                                        const OpportunityOptions& options);

// The ranking as the JSON of `audience opportunities --json-out` (the console answers the same):
// by, horizon_days, as_of, customers, values, plan (null without one: customers_reached,
// campaigns) and opportunities (rank, value, offer, products, the expected and historic figures,
// growths as null when new, and the reach figures with a plan). `reach` may be null.
nlohmann::json OpportunitiesToJson(const Opportunities& opportunities, const PlannedReach* reach);

}  // namespace cf::plan
