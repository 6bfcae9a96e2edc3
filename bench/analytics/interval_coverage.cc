// How often the report's intervals hold the true uplift, and how often they call a campaign
// with no effect significant, on simulated campaigns: 2,000 treated customers, a holdout of
// 100 or 400, buyer rate 6% (no effect) or 8%, baskets lognormal(3, 1). Compares Newcombe
// (buyers) with plain Welch and with the report's Welch (holdout variance pooled) for revenue.
// Usage: interval_coverage [RUNS]
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <random>

#include "analytics/stats.h"

namespace {

using cf::analytics::Interval;
using cf::analytics::Moments;

constexpr int64_t kTreated = 2000;
constexpr double kBase = 0.06, kLifted = 0.08;
constexpr double kLogMean = 3.0, kLogSd = 1.0;

struct Tally {
  int buyers_alarm = 0, plain_alarm = 0, pooled_alarm = 0;
  int buyers_cover = 0, plain_cover = 0, pooled_cover = 0;
};

bool Holds(const Interval& i, double x) { return i.low <= x && x <= i.high; }

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 2000;
  const double mean_spend = std::exp(kLogMean + kLogSd * kLogSd / 2);
  fmt::print(
      "| holdout | buyers significant, no effect | coverage | revenue plain Welch: significant | coverage | "
      "revenue pooled (report): significant | coverage |\n|---|---|---|---|---|---|---|\n");
  for (int64_t holdout : {100, 400}) {
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> spend(kLogMean, kLogSd);
    Tally t;
    for (int run = 0; run < runs; ++run) {
      for (const bool effect : {false, true}) {
        const double p1 = effect ? kLifted : kBase;
        int64_t b1 = 0, b0 = 0;
        Moments r1, r0;
        for (int64_t i = 0; i < kTreated; ++i) {
          const bool buys = std::bernoulli_distribution(p1)(rng);
          b1 += buys;
          r1.Add(buys ? spend(rng) : 0.0);
        }
        for (int64_t i = 0; i < holdout; ++i) {
          const bool buys = std::bernoulli_distribution(kBase)(rng);
          b0 += buys;
          r0.Add(buys ? spend(rng) : 0.0);
        }
        const Interval d = cf::analytics::NewcombeDifference(b1, kTreated, b0, holdout);
        const Interval plain = cf::analytics::WelchDifference(r1, r0, 0.95, false).difference;
        const Interval pooled = cf::analytics::WelchDifference(r1, r0, 0.95, true).difference;
        if (!effect) {
          t.buyers_alarm += d.ExcludesZero();
          t.plain_alarm += plain.ExcludesZero();
          t.pooled_alarm += pooled.ExcludesZero();
        } else {
          const double true_rate = kLifted - kBase, true_revenue = (kLifted - kBase) * mean_spend;
          t.buyers_cover += Holds(d, true_rate);
          t.plain_cover += Holds(plain, true_revenue);
          t.pooled_cover += Holds(pooled, true_revenue);
        }
      }
    }
    auto pct = [runs](int n) { return fmt::format("{:.1f}%", 100.0 * n / runs); };
    fmt::print("| {} | {} | {} | {} | {} | {} | {} |\n", holdout, pct(t.buyers_alarm), pct(t.buyers_cover),
               pct(t.plain_alarm), pct(t.plain_cover), pct(t.pooled_alarm), pct(t.pooled_cover));
  }
  return 0;
}
