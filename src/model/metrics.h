// Ranking metrics of the topic propensity backtest (../shared/data/README.md).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace cf::model {

inline constexpr uint64_t kTieBreakSeed = 20171001;  // the fixed permutation that breaks ties

struct OfferMetrics {
  double auc = 0;                // ROC AUC, ties get the average rank
  double average_precision = 0;  // scikit-learn's definition, tied scores grouped
  double lift_at_10 = 0;         // positive rate in the top ceil(10%) / base rate
  double lift_quality = 0;       // 100·(A − 0.5)/(A_perfect − 0.5) of the gains curve
  uint64_t positives = 0;
  uint64_t population = 0;
};

// Order of customers by descending score, ties broken by a permutation seeded with `seed`.
std::vector<uint32_t> RankOrder(std::span<const double> scores, uint64_t seed = kTieBreakSeed);

double RocAuc(std::span<const double> scores, std::span<const uint8_t> labels);
double AveragePrecision(std::span<const double> scores, std::span<const uint8_t> labels);

// All metrics of one topic; `order` is RankOrder(scores).
OfferMetrics ComputeOfferMetrics(std::span<const double> scores, std::span<const uint8_t> labels,
                                 std::span<const uint32_t> order);

// Lift Quality alone (the cheapest metric: one pass over `order`).
double LiftQuality(std::span<const double> scores, std::span<const uint8_t> labels, std::span<const uint32_t> order);

// Share of all positives in each score decile (decile 0 = highest scores), by `order`.
std::vector<double> DecileShares(std::span<const uint8_t> labels, std::span<const uint32_t> order);

}  // namespace cf::model
