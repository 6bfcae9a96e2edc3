// The campaign report: what each planned campaign earned against its own holdout, online and
// offline, with confidence intervals, plus the decile table, calibration in the field, the
// send outcomes and a secondary last-touch attribution. Definitions in docs/analytics.md.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analytics/sends.h"
#include "analytics/stats.h"
#include "base/status.h"
#include "data/dataset.h"
#include "data/ingest.h"
#include "sync/plan_dir.h"

namespace cf::analytics {

inline constexpr int kDeciles = 10;

struct ReportOptions {
  // Attribution window per channel, in days from the campaign's send_date 00:00 UTC.
  std::map<std::string, int> window_days = {{"email", 14}, {"sms", 3}, {"push", 3}};
  double confidence = 0.95;  // of every interval, in (0, 1)
  // Send records whose time is further than this from their campaign's send_date are warned about.
  int64_t send_time_tolerance_seconds = 86400;

  Status Validate() const;
};

// Parses "email=14,sms=3" into `window_days` (the channels given replace their defaults).
Status ParseWindows(std::string_view text, ReportOptions* options);

// What a plan directory holds for the report: its summary and every campaign's rows.
struct PlanInputs {
  std::string summary_path = "summary.json";  // named in errors
  sync::PlanSummary summary;
  std::vector<std::vector<sync::PlannedRow>> rows;  // one per summary.campaigns[i]
};
Result<PlanInputs> ReadPlanInputs(const std::string& plan_dir);

// The later purchases, ingested into a scratch dataset, and what ingest said about them (bad
// rows skipped under the bad-row options, warnings).
struct Purchases {
  std::unique_ptr<data::Dataset> dataset;
  data::IngestReport ingest;
};

// Ingests the later purchases (the mapping options of `audience ingest`; `options.out` is
// ignored) into a dataset under `scratch_dir` and opens it.
Result<Purchases> IngestPurchases(data::IngestOptions options, const std::string& scratch_dir);

// One group of a campaign (treated or holdout), over the offer's products in the window.
struct GroupStats {
  int64_t customers = 0;
  int64_t buyers = 0;          // customers with at least one such purchase
  int64_t online_buyers = 0;   // ... with at least one online
  int64_t offline_buyers = 0;  // ... with at least one offline
  double revenue = 0;          // all channels, unknown included
  double online_revenue = 0;
  double offline_revenue = 0;

  void Add(const GroupStats& o);
};

struct DecileRow {
  int decile = 0;  // 1 = the best tenth of the campaign's audience by model value
  int64_t treated_customers = 0;
  double predicted_buyers = 0;  // sum of the plan's probabilities of the treated customers
  int64_t treated_buyers = 0;
  int64_t holdout_customers = 0;
  int64_t holdout_buyers = 0;

  void Add(const DecileRow& o);
};

struct Uplift {
  Interval buyers;           // incremental buyers, scaled to the treated customers
  Interval revenue;          // incremental revenue, likewise
  Interval online_revenue;   // the revenue's online part
  Interval offline_revenue;  // and its offline part
  bool measurable = false;   // both groups have customers
};

// Each customer's revenue of a group, in one order: all channels, online, offline.
using GroupValues = std::array<std::vector<double>, 3>;

// The uplift of `t` over `h` with their per-customer revenues: buyers by Newcombe's interval,
// revenue by Welch's (the holdout's variance pooled with the treated group's), scaled to t's customers.
Uplift MeasureUplift(const GroupValues& treated, const GroupValues& holdout, const GroupStats& t, const GroupStats& h,
                     double confidence);

struct CampaignResult {
  sync::PlannedCampaign campaign;
  int window_days = 0;
  int64_t window_start = 0, window_end = 0;  // UTC seconds, [start, end)
  GroupStats treated, holdout;
  Uplift uplift;
  double predicted_buyers = 0;                // over the treated customers the plan allocated
  std::array<int64_t, kOutcomes> outcomes{};  // send records by outcome
  int64_t unmatched_records = 0;              // send records naming no customer of the dataset
  int64_t sent_to_holdout = 0;                // held-out customers with a `sent` record (left out of treated)
  int64_t sent_outside_plan = 0;              // treated customers the plan's CSV does not list
  std::array<DecileRow, kDeciles> deciles{};
  int64_t last_touch_buyers = 0;  // secondary: buyers whose last touch was this campaign
  double last_touch_revenue = 0;
};

struct CampaignReport {
  std::string plan;
  double confidence = 0.95;
  std::vector<CampaignResult> campaigns;  // in the plan's order
  // Whole plan: groups summed over campaigns (customer-campaign pairs); uplift by square and add.
  GroupStats treated, holdout;
  Uplift uplift;
  double predicted_buyers = 0;
  std::array<DecileRow, kDeciles> deciles{};
  std::array<int64_t, kOutcomes> outcomes{};
  std::map<int64_t, int64_t> messages_per_customer;  // sent messages -> customers the plan allocated
  uint64_t purchases = 0;                            // rows of the purchases dataset
  uint64_t purchases_unknown_customer = 0;           // their customer is not in the dataset
  uint64_t purchases_unknown_product = 0;            // their product is not in the dataset's catalog
  std::vector<std::string> warnings;
};

// `ds`: the dataset the plan was made on; `purchases`: the later purchases (IngestPurchases).
Result<CampaignReport> BuildCampaignReport(const data::Dataset& ds, const PlanInputs& plan,
                                           const std::vector<SendRecord>& sends, const data::Dataset& purchases,
                                           const ReportOptions& options);

}  // namespace cf::analytics
