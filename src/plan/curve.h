// The audience curve of an offer: how expected buyers and revenue grow as the audience takes in
// more customers, best first (the size <-> value slider), and the audience sizes the planner
// derives from a campaign's volume (capture_share, min_probability).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"

namespace cf::plan {

// The audience made of the `size` best customers.
struct CurvePoint {
  uint64_t size = 0;
  double expected_buyers = 0;   // sum of their probabilities
  double expected_revenue = 0;  // sum of their expected revenue
  double buyer_share = 0;       // expected_buyers over all eligible customers' expected buyers (0 when none)
  double lift = 0;              // their mean probability over all eligible customers' mean (0 when none)
  double threshold = 0;         // the probability of the last (worst) customer taken in
};

struct CurveOptions;

// The eligible customers ranked by probability, best first, with running sums. Ties are broken
// by customer number (lower first), so a ranking, and every size derived from it, is the same
// on every run.
class RankedAudience {
 public:
  // probability[c] in [0, 1] and expected_revenue[c] >= 0 for every customer c; `eligible` is
  // one byte per customer (1 = may be in the audience) or empty for everyone. Errors name the
  // first bad value.
  static Result<RankedAudience> Build(std::span<const double> probability, std::span<const double> expected_revenue,
                                      std::span<const uint8_t> eligible);

  // The eligible customers, best first.
  const std::vector<uint32_t>& order() const { return order_; }
  uint64_t size() const { return order_.size(); }
  double total_buyers() const { return buyers_.empty() ? 0 : buyers_.back(); }
  double total_revenue() const { return revenue_.empty() ? 0 : revenue_.back(); }

  // The audience of the `size` best (size <= this->size()).
  CurvePoint At(uint64_t size) const;
  // options.points audiences of growing size: ceil(size() * i / points) for i = 1 .. points,
  // without repeats (fewer points when there are fewer eligible customers); the last is
  // everyone eligible. Empty when none is eligible.
  Result<std::vector<CurvePoint>> Curve(const CurveOptions& options) const;

  // The smallest audience whose expected buyers reach `share` (0 < share <= 1) of all eligible
  // customers' expected buyers; 0 when they add up to nothing. Customers tied with the last
  // one taken in may be left out (the ranking's tie order decides).
  uint64_t SizeForCaptureShare(double share) const;
  // How many eligible customers have a probability >= `min_probability`: ties at the threshold
  // are all in.
  uint64_t SizeForMinProbability(double min_probability) const;

 private:
  std::vector<uint32_t> order_;
  std::vector<double> probability_;  // in rank order
  std::vector<double> buyers_;       // running sums in rank order: buyers_[i] = sum of the first i + 1
  std::vector<double> revenue_;
};

struct CurveOptions {
  int points = 20;  // 1 .. 10000: audience sizes on the curve
  Status Validate() const;
};

}  // namespace cf::plan
