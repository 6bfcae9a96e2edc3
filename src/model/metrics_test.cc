#include "model/metrics.h"

#include <gtest/gtest.h>

#include <random>

namespace cf::model {
namespace {

TEST(MetricsTest, AucAndAveragePrecisionMatchScikitLearn) {
  // sklearn: roc_auc_score = 0.75, average_precision_score = 0.8333...
  const std::vector<double> scores = {0.1, 0.4, 0.35, 0.8};
  const std::vector<uint8_t> labels = {0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(RocAuc(scores, labels), 0.75);
  EXPECT_NEAR(AveragePrecision(scores, labels), 5.0 / 6.0, 1e-12);
}

TEST(MetricsTest, TiesGetAverageRanksAndGroupedPrecision) {
  // All tied: AUC 0.5; AP = base rate (one threshold holding everything).
  const std::vector<double> scores = {1, 1, 1, 1};
  const std::vector<uint8_t> labels = {1, 0, 0, 1};
  EXPECT_DOUBLE_EQ(RocAuc(scores, labels), 0.5);
  EXPECT_DOUBLE_EQ(AveragePrecision(scores, labels), 0.5);
  // One positive tied with one negative at the top: AUC = (1 + 0.5) / 2.
  const std::vector<double> s2 = {2, 2, 1};
  const std::vector<uint8_t> l2 = {1, 0, 0};
  EXPECT_DOUBLE_EQ(RocAuc(s2, l2), 0.75);
  EXPECT_DOUBLE_EQ(AveragePrecision(s2, l2), 0.5);
}

TEST(MetricsTest, LiftQualityIsHundredWhenPerfectAndNearZeroWhenRandom) {
  const size_t n = 20000;
  std::vector<double> perfect(n), random(n);
  std::vector<uint8_t> labels(n);
  std::mt19937_64 rng(5);
  for (size_t i = 0; i < n; ++i) {
    labels[i] = i % 10 == 0 ? 1 : 0;
    perfect[i] = labels[i];
    random[i] = std::uniform_real_distribution<double>(0, 1)(rng);
  }
  const OfferMetrics p = ComputeOfferMetrics(perfect, labels, RankOrder(perfect));
  EXPECT_NEAR(p.lift_quality, 100.0, 1e-6);
  EXPECT_NEAR(p.lift_at_10, 10.0, 1e-9);
  EXPECT_DOUBLE_EQ(p.auc, 1.0);
  const OfferMetrics r = ComputeOfferMetrics(random, labels, RankOrder(random));
  EXPECT_NEAR(r.lift_quality, 0.0, 3.0);
  EXPECT_NEAR(r.auc, 0.5, 0.02);
  // Constant scores: the seeded permutation decides, which is random targeting.
  const std::vector<double> constant(n, 1.0);
  EXPECT_NEAR(ComputeOfferMetrics(constant, labels, RankOrder(constant)).lift_quality, 0.0, 3.0);
}

TEST(MetricsTest, LiftQualityFollowsTheTrapezoidDefinition) {
  // N = 4, P = 1 at rank 2: y = 0, 1, 1, 1 → A = (0 + 0.5 + 1 + 1) / 4 = 0.625;
  // A_perfect = 1 − 0.25 / 2 = 0.875 → LQ = 100 · 0.125 / 0.375.
  const std::vector<double> scores = {4, 3, 2, 1};
  const std::vector<uint8_t> labels = {0, 1, 0, 0};
  EXPECT_NEAR(LiftQuality(scores, labels, RankOrder(scores)), 100.0 / 3.0, 1e-9);
  const std::vector<double> shares = DecileShares(labels, RankOrder(scores));
  EXPECT_DOUBLE_EQ(shares[2], 1.0);  // rank 2 of 4 falls in the third decile
}

TEST(MetricsTest, RankOrderBreaksTiesByTheSeededPermutation) {
  const std::vector<double> scores = {1, 1, 1, 1, 1, 2};
  const auto a = RankOrder(scores, 1);
  EXPECT_EQ(a[0], 5u);
  EXPECT_EQ(a, RankOrder(scores, 1));
}

}  // namespace
}  // namespace cf::model
