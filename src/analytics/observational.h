// Campaigns without a holdout (completejourney's campaigns.csv and friends): targeted against
// not-targeted customers of a dataset, with coupon redemptions as a second measure. The
// groups were not drawn at random, so every figure is labelled observational, not causal.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "analytics/campaign_report.h"
#include "analytics/report_output.h"
#include "analytics/stats.h"
#include "base/status.h"
#include "data/dataset.h"

namespace cf::analytics {

inline constexpr std::string_view kObservationalLabel = "observational, not causal";

struct ObservedCampaign {
  std::string id;
  std::string type;                       // campaign_type ("" when absent)
  std::string start_date, end_date;       // YYYY-MM-DD, both days included
  std::vector<std::string> targeted;      // customer ids (campaigns.csv household_id), file order
  std::set<std::string> coupon_products;  // product ids of the campaign's coupons (coupons.csv); empty = none known
};

struct Redemption {
  std::string customer, campaign_id, date;
};

struct ObservationalInputs {
  std::string dir;
  std::vector<ObservedCampaign> campaigns;  // in campaign_descriptions.csv's order
  std::vector<Redemption> redemptions;      // coupon_redemptions.csv (empty when absent)
  bool has_coupons = false;                 // coupons.csv was read
  bool has_redemptions = false;
};

// Reads DIR/campaign_descriptions.csv (campaign_id, campaign_type, start_date, end_date),
// DIR/campaigns.csv (campaign_id, household_id) and, when present, coupons.csv (coupon_upc,
// product_id, campaign_id) and coupon_redemptions.csv (household_id, coupon_upc, campaign_id,
// redemption_date). Errors name the file, line, column and value.
Result<ObservationalInputs> ReadObservationalCampaigns(const std::string& dir);

struct ObservedGroup {
  GroupStats purchases;   // of the measured products in the campaign's dates
  int64_t redeemers = 0;  // customers with a redemption of the campaign's coupons
  int64_t redemptions = 0;
};

struct ObservedResult {
  ObservedCampaign campaign;   // targeted holds the ids found in the dataset
  std::string measured;        // "the campaign's coupon products" or "any purchase"
  int64_t start = 0, end = 0;  // UTC seconds, [start, end)
  ObservedGroup targeted, not_targeted;
  int64_t targeted_unknown = 0;  // targeted ids the dataset does not have
  Uplift difference;             // targeted minus not targeted, scaled to the targeted customers
  Interval redeemer_difference;  // redeemer rate, likewise
};

struct ObservationalReport {
  std::string dir;
  double confidence = 0.95;
  std::vector<ObservedResult> campaigns;
  std::vector<std::string> warnings;
};

// `purchases` may be the dataset itself (its own events) or later purchases.
Result<ObservationalReport> BuildObservationalReport(const data::Dataset& ds, const ObservationalInputs& in,
                                                     const data::Dataset& purchases, const ReportOptions& options);

std::string ObservationalJson(const ObservationalReport& report, const OutputOptions& options);
std::string ObservationalHtml(const ObservationalReport& report, const OutputOptions& options);

}  // namespace cf::analytics
