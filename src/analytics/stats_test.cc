#include "analytics/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace cf::analytics {
namespace {

TEST(StatsTest, NormalAndStudentQuantilesMatchTables) {
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.5), 0.0, 1e-15);
  EXPECT_NEAR(NormalQuantile(0.001), -3.090232306167813, 1e-10);
  // Student's t, two-sided 95% (the 0.975 quantile), from any table.
  EXPECT_NEAR(StudentTQuantile(0.975, 1), 12.7062, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.975, 5), 2.5706, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.975, 30), 2.0423, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.975, 3), 3.1824, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.025, 10), -2.2281, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.975, 1e7), 1.95996, 1e-4);
}

// Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I,
// method 3 (score interval without continuity correction).
TEST(StatsTest, WilsonMatchesNewcombesWorkedExamples) {
  struct Case {
    int64_t x, n;
    double low, high;
  };
  for (const Case& c : {Case{81, 263, 0.2553, 0.3662}, Case{15, 148, 0.0624, 0.1605}, Case{0, 20, 0.0, 0.1611},
                        Case{1, 29, 0.0061, 0.1718}}) {
    const Interval w = WilsonInterval(c.x, c.n);
    EXPECT_NEAR(w.low, c.low, 5e-5) << c.x << "/" << c.n;
    EXPECT_NEAR(w.high, c.high, 5e-5) << c.x << "/" << c.n;
  }
  EXPECT_EQ(WilsonInterval(20, 20).high, 1.0);
}

// Newcombe (1998), "Interval estimation for the difference between independent proportions:
// comparison of eleven methods", Table II, method 10 (hybrid score, no continuity correction).
TEST(StatsTest, NewcombeMatchesHisWorkedExamples) {
  struct Case {
    int64_t x1, n1, x2, n2;
    double low, high;
  };
  for (const Case& c : {Case{56, 70, 48, 80, 0.0524, 0.3339}, Case{9, 10, 3, 10, 0.1705, 0.8090},
                        Case{5, 56, 0, 29, -0.0381, 0.1926}, Case{0, 10, 0, 20, -0.1611, 0.2775}}) {
    const Interval d = NewcombeDifference(c.x1, c.n1, c.x2, c.n2);
    EXPECT_NEAR(d.low, c.low, 5e-5) << c.x1 << "/" << c.n1 << " - " << c.x2 << "/" << c.n2;
    EXPECT_NEAR(d.high, c.high, 5e-5) << c.x1 << "/" << c.n1 << " - " << c.x2 << "/" << c.n2;
  }
}

TEST(StatsTest, WelchMatchesAHandComputation) {
  // Two small samples; mean difference, standard error and Welch-Satterthwaite df by hand.
  Moments a, b;
  for (double x : {3.0, 5.0, 7.0, 9.0}) a.Add(x);  // mean 6, variance 20/3
  for (double x : {1.0, 2.0, 3.0}) b.Add(x);       // mean 2, variance 1
  const WelchResult w = WelchDifference(a, b);
  const double va = 20.0 / 3.0 / 4.0, vb = 1.0 / 3.0;
  const double df = (va + vb) * (va + vb) / (va * va / 3.0 + vb * vb / 2.0);
  EXPECT_NEAR(w.difference.estimate, 4.0, 1e-12);
  EXPECT_NEAR(w.standard_error, std::sqrt(va + vb), 1e-12);
  EXPECT_NEAR(w.df, df, 1e-12);
  EXPECT_NEAR(w.difference.high - 4.0, StudentTQuantile(0.975, df) * std::sqrt(va + vb), 1e-9);
}

TEST(StatsTest, SumOfIndependentAddsVariancesSideBySide) {
  const Interval s = SumOfIndependent({{1, 0, 3}, {2, 1, 2.5}});
  EXPECT_DOUBLE_EQ(s.estimate, 3);
  EXPECT_DOUBLE_EQ(s.low, 3 - std::sqrt(1 + 1));
  EXPECT_DOUBLE_EQ(s.high, 3 + std::sqrt(4 + 0.25));
}

// A campaign drawn at random: treated and holdout customers buy with their own probabilities;
// a buyer spends a lognormal amount (heavy-tailed, as baskets are).
struct Draw {
  Interval buyers, revenue;  // incremental, scaled to the treated customers
};
Draw DrawCampaign(std::mt19937_64& rng, int64_t treated, int64_t holdout, double p_treated, double p_holdout) {
  std::lognormal_distribution<double> spend(3.0, 1.0);
  int64_t b1 = 0, b0 = 0;
  Moments r1, r0;
  for (int64_t i = 0; i < treated; ++i) {
    const bool buys = std::bernoulli_distribution(p_treated)(rng);
    b1 += buys;
    r1.Add(buys ? spend(rng) : 0.0);
  }
  for (int64_t i = 0; i < holdout; ++i) {
    const bool buys = std::bernoulli_distribution(p_holdout)(rng);
    b0 += buys;
    r0.Add(buys ? spend(rng) : 0.0);
  }
  const Interval d = NewcombeDifference(b1, treated, b0, holdout);
  const Interval m = WelchDifference(r1, r0, 0.95, true).difference;
  const double n = static_cast<double>(treated);
  return {{d.estimate * n, d.low * n, d.high * n}, {m.estimate * n, m.low * n, m.high * n}};
}

bool Contains(const Interval& i, double x) { return i.low <= x && x <= i.high; }

TEST(StatsTest, IntervalsCoverAKnownDifferenceOnMostSeeds) {
  constexpr int64_t kTreated = 4000, kHoldout = 400;
  constexpr double kP1 = 0.08, kP0 = 0.05;
  const double mean_spend = std::exp(3.0 + 0.5);
  const double true_buyers = (kP1 - kP0) * kTreated;
  const double true_revenue = (kP1 - kP0) * mean_spend * kTreated;
  // The criterion on 20 seeds, and the coverage itself on 200 (about 95% expected).
  int buyers_covered = 0, revenue_covered = 0, buyers_first20 = 0, revenue_first20 = 0;
  constexpr int kSeeds = 200;
  for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
    // seed_seq spreads small consecutive seeds over the generator's state.
    std::seed_seq seq{seed};
    std::mt19937_64 rng(seq);
    const Draw d = DrawCampaign(rng, kTreated, kHoldout, kP1, kP0);
    buyers_covered += Contains(d.buyers, true_buyers);
    revenue_covered += Contains(d.revenue, true_revenue);
    if (seed <= 20) {
      buyers_first20 += Contains(d.buyers, true_buyers);
      revenue_first20 += Contains(d.revenue, true_revenue);
    }
  }
  EXPECT_GE(buyers_first20, 17);
  EXPECT_GE(revenue_first20, 17);
  // 92% is three standard deviations below 95% at 200 draws.
  EXPECT_GE(buyers_covered, 184);
  EXPECT_GE(revenue_covered, 184);
}

TEST(StatsTest, NoEffectIsRarelySignificant) {
  constexpr int kCampaigns = 400;
  int buyers_significant = 0, revenue_significant = 0;
  std::mt19937_64 rng(2026);
  for (int i = 0; i < kCampaigns; ++i) {
    // Small holdouts too: 5% of 2,000 customers.
    const Draw d = DrawCampaign(rng, 2000, i % 2 == 0 ? 100 : 400, 0.06, 0.06);
    buyers_significant += d.buyers.ExcludesZero();
    revenue_significant += d.revenue.ExcludesZero();
  }
  // 5% expected (20 of 400); 28 is two standard deviations above.
  EXPECT_LE(buyers_significant, 28);
  EXPECT_LE(revenue_significant, 28);
}

}  // namespace
}  // namespace cf::analytics
