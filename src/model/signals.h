// Internal to src/model (see docs/architecture.md, "Public and internal headers").
// The purchase signals that the baselines and the universal model's features share. Each is
// defined once here, so a baseline and the feature built on it cannot drift apart.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "base/collective.h"

namespace cf::model {

// Time decay: a purchase one week older weighs kDecayPerWeek as much (the `decay` baseline
// of ../shared/data/README.md, and the universal model's decayed counts).
inline constexpr double kDecayPerWeek = 0.9;
inline constexpr double kDaysPerWeek = 7.0;
inline const double kLogDecayPerDay = std::log(kDecayPerWeek) / kDaysPerWeek;

// The weight of a purchase `age_days` before the cutoff.
inline double DecayWeight(double age_days) { return std::exp(kLogDecayPerDay * age_days); }

// Item-item similarity: the cosine between two sets of buyers, from the sizes of the sets
// and of their intersection (0 when they share no buyer).
inline double BuyerCosine(double both, double buyers_a, double buyers_b) {
  return both > 0 ? both / std::sqrt(buyers_a * buyers_b) : 0.0;
}

// Values ranked exactly up to this many; beyond it, against an evenly spaced sample of this size.
inline constexpr size_t kPercentileSample = 20000;

// Percentile rank of every value among `values`, in [0, 1]: 0 for the lowest, 1 for the
// highest, and tied values share the mean of their ranks (mid-rank). Exact for up to
// kPercentileSample values, estimated from that many evenly spaced values above.
std::vector<float> PercentileRanks(std::span<const float> values);
std::vector<float> PercentileRanks(std::span<const double> values);
// The same ranks for `part`, the values [begin, begin + part.size()) of a population of
// `whole` values shared among the processes of `collective` (null: one process, part is all):
// equal to PercentileRanks(all values) at those indices. Only the sample is exchanged.
std::vector<float> PercentileRanks(std::span<const float> part, uint64_t begin, uint64_t whole,
                                   const Collective* collective);
std::vector<float> PercentileRanks(std::span<const double> part, uint64_t begin, uint64_t whole,
                                   const Collective* collective);

}  // namespace cf::model
