// Confidence intervals for uplift: a difference of two proportions (buyers) and of two means
// (revenue per customer). docs/analytics.md says why these methods.
#pragma once

#include <cstdint>
#include <vector>

namespace cf::analytics {

struct Interval {
  double estimate = 0;
  double low = 0;
  double high = 0;

  // Whether the interval excludes 0 (both ends on one side of it).
  bool ExcludesZero() const { return low > 0 || high < 0; }
};

// The standard normal quantile: P(Z <= z) = p, for 0 < p < 1.
double NormalQuantile(double p);

// Student's t distribution with `df` > 0 degrees of freedom: its CDF and its quantile.
double StudentTCdf(double t, double df);
double StudentTQuantile(double p, double df);

// Wilson's score interval for successes / trials at confidence `level` (e.g. 0.95); [0, 0]
// estimate 0 when trials is 0.
Interval WilsonInterval(int64_t successes, int64_t trials, double level = 0.95);

// Newcombe's hybrid score interval (his method 10) for p1 - p2 = x1/n1 - x2/n2, built from
// the two Wilson intervals. Needs n1, n2 > 0.
Interval NewcombeDifference(int64_t x1, int64_t n1, int64_t x2, int64_t n2, double level = 0.95);

// Running mean and variance (Welford), for per-customer revenue.
class Moments {
 public:
  void Add(double x);
  int64_t count() const { return n_; }
  double mean() const { return mean_; }
  // The unbiased sample variance (0 with fewer than two values).
  double variance() const { return n_ > 1 ? m2_ / static_cast<double>(n_ - 1) : 0.0; }
  double sum() const { return mean_ * static_cast<double>(n_); }

 private:
  int64_t n_ = 0;
  double mean_ = 0;
  double m2_ = 0;
};

// Welch's interval for mean1 - mean2 (unequal variances, Welch-Satterthwaite degrees of
// freedom). With both variances 0 the interval is the point. Needs both counts > 0.
// `pool_second_variance`: the second group's variance is taken as the pooled variance of
// both groups (about the grand mean). A small holdout of zero-inflated, heavy-tailed revenue
// (a handful of buyers) underestimates its own variance more often than not, which makes
// Welch's interval too narrow exactly when it matters; the large treated group's spread is
// the better estimate of the spread both groups share when the message changes little.
struct WelchResult {
  Interval difference;
  double standard_error = 0;
  double df = 0;
};
WelchResult WelchDifference(const Moments& a, const Moments& b, double level = 0.95, bool pool_second_variance = false);

// The interval of a sum of independent estimates by "square and add" (MOVER, the rule Newcombe's
// interval applies to two parts): the estimates add, and each side's distances to the
// estimate add in squares, so an asymmetric part keeps its asymmetry. All parts must be at
// the same confidence level.
Interval SumOfIndependent(const std::vector<Interval>& parts);

}  // namespace cf::analytics
