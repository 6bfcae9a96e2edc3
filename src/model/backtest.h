// The topic propensity backtest of ../shared/data/README.md: every model learns from the
// history before a cutoff T and scores every customer of the population for every offer;
// the purchases in [T, T + H) decide who was right.
//
// Words: a "topic" is the protocol's word for what the rest of the code (and the marketer)
// calls an offer; here the offers are the values of one catalog attribute, or `any`, or
// every product. The code says offer; the JSON report keeps the protocol's keys (`topics`,
// `topics_by`, `per_topic`, `topic`) so that it compares with the reference files.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/event_log.h"
#include "model/metrics.h"
#include "model/options.h"
#include "model/scorer.h"
#include "model/universal.h"
#include "offer/product_set.h"

namespace cf::model {

// Who is scored and judged: the protocol's population, or every customer the CRM knew at the
// cutoff, including those without a purchase yet (reported separately as "new customers").
enum class Population { kWithHistory, kAllCustomers };

struct EvaluateOptions {
  int64_t cutoff = 0;                               // T, UTC seconds (required)
  RunOptions run{.horizon_days = 56};               // H (the protocol's 56 days), threads, seed of all models
  uint32_t min_positives = 30;                      // >= 1: offers with fewer buyers in [T, T + H) are dropped
  std::vector<std::string> models = ScorerNames();  // registered scorers, at least one
  TrainOptions train;                               // the universal model's training
  Population population = Population::kWithHistory;  // who is scored and judged
  // Offer kinds (e.g. department, category, brand) whose predicted and realized buyers are
  // compared for the calibrated models: every value with min_positives buyers is scored.
  std::vector<Level> calibration_levels;

  // InvalidArgument naming the first field out of its range.
  Status Validate() const;
};

// Predicted against realized buyers summed over the offers of one kind.
struct BuyerCalibration {
  std::string kind;  // a level's name, or "offers" (the backtest's own)
  int offers = 0;
  double predicted = 0;  // Σ probabilities over the population and the offers
  double realized = 0;   // Σ buyers in the window
};

inline constexpr uint64_t kMinNewCustomerPositives = 10;  // an offer's new buyers for a new-customer Lift Quality

inline constexpr int kGainsPoints = 50;      // points of the stored cumulative-gains curves
inline constexpr int kCalibrationBins = 10;  // equal-count bins of the calibration plot

struct ModelBacktest {
  std::string name;
  OfferMetrics macro;                         // means over offers (positives/population unused)
  std::vector<OfferMetrics> per_offer;        // in offer order
  std::vector<double> gains;                  // macro cumulative gains at x = i / kGainsPoints, i = 0..kGainsPoints
  std::vector<double> deciles;                // macro share of buyers per score decile, best first
  std::vector<double> calibration_predicted;  // mean score per bin (all offer × customer pairs)
  std::vector<double> calibration_observed;   // buyer rate per bin
  bool probabilities = false;                 // scores are calibrated probabilities
  double seconds = 0;                         // fit + scoring time
  std::vector<double> predicted_buyers;       // per offer: Σ scores (meaningful when probabilities)
  std::vector<BuyerCalibration> calibration_by_kind;  // "offers", then each calibration level
  // New customers (population kAllCustomers only): macro Lift Quality over the offers with at
  // least kMinNewCustomerPositives new buyers, and predicted against realized new buyers.
  double new_lift_quality = 0;
  int new_offers = 0;
  double new_predicted = 0;
  double new_realized = 0;
};

struct BacktestResult {
  int64_t cutoff = 0;
  int horizon_days = 0;
  std::string offers_by;  // the attribute whose values are the offers, or "any", or "product"
  uint32_t min_positives = 0;
  uint64_t population = 0;
  Population population_kind = Population::kWithHistory;
  uint64_t new_customers = 0;  // of the population: no purchase before the cutoff
  double base_rate = 0;             // mean over offers of positives / population
  std::vector<std::string> offers;  // names of the offers kept (enough buyers)
  std::vector<uint64_t> positives;
  std::vector<ModelBacktest> models;
};

std::string_view PopulationName(Population p);  // "with-history", "all-customers"
Result<Population> ParsePopulation(std::string_view name);

// The offers of the backtest: "any" (one offer, any purchase), "product" (one per product)
// or an attribute's values (one per non-empty value).
Result<std::vector<offer::ProductSet>> BacktestOffers(const data::Catalog& catalog, const std::string& by);

Result<BacktestResult> RunBacktest(const EventLog& log, const std::vector<Level>& levels,
                                   const std::vector<offer::ProductSet>& offers, const std::string& offers_by,
                                   const EvaluateOptions& options);

nlohmann::json BacktestToJson(const BacktestResult& result);
// A self-contained HTML page: summary table, cumulative gains, deciles, calibration.
std::string BacktestToHtml(const BacktestResult& result);

}  // namespace cf::model
