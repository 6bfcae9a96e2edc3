#include "model/signals.h"

#include <gtest/gtest.h>

#include <cmath>

namespace cf::model {
namespace {

TEST(SignalsTest, PercentileRanksGiveTiesTheirMeanRank) {
  // Sorted: 1, 2, 2, 2, 5 → ranks 0, 2, 2, 2, 4 (the tie shares the mean of 1, 2, 3), over 4.
  const std::vector<double> values = {2, 5, 1, 2, 2};
  const std::vector<float> ranks = PercentileRanks(values);
  EXPECT_FLOAT_EQ(ranks[0], 0.5);
  EXPECT_FLOAT_EQ(ranks[1], 1.0);
  EXPECT_FLOAT_EQ(ranks[2], 0.0);
  const std::vector<float> as_float = PercentileRanks(std::vector<float>{2, 5, 1, 2, 2});
  EXPECT_EQ(as_float, ranks);
  EXPECT_EQ(PercentileRanks(std::vector<float>{7}), std::vector<float>{0});
  EXPECT_TRUE(PercentileRanks(std::vector<float>{}).empty());
}

TEST(SignalsTest, PercentileRanksOfManyValuesAreEstimatedCloseToExact) {
  const size_t n = 10 * kPercentileSample + 7;
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i) {
    values[i] = static_cast<float>((i * 7919) % n);  // a permutation of 0 .. n − 1
  }
  const std::vector<float> ranks = PercentileRanks(values);
  for (size_t i = 0; i < n; i += 997) {
    // A sample of 20,000 estimates a share within a few thousandths.
    EXPECT_NEAR(ranks[i], values[i] / static_cast<double>(n - 1), 0.01) << i;
    EXPECT_GE(ranks[i], 0.0f);
    EXPECT_LE(ranks[i], 1.0f);
  }
}

TEST(SignalsTest, DecayHalvesAWeightInAboutSixAndAHalfWeeks) {
  EXPECT_DOUBLE_EQ(DecayWeight(0), 1.0);
  EXPECT_NEAR(DecayWeight(7), kDecayPerWeek, 1e-12);
  EXPECT_NEAR(DecayWeight(14), kDecayPerWeek * kDecayPerWeek, 1e-12);
}

TEST(SignalsTest, BuyerCosineIsTheCosineOfTheBuyerSets) {
  EXPECT_DOUBLE_EQ(BuyerCosine(2, 4, 4), 0.5);
  EXPECT_DOUBLE_EQ(BuyerCosine(0, 4, 0), 0.0);  // no shared buyer, even with an empty set
  EXPECT_DOUBLE_EQ(BuyerCosine(3, 3, 3), 1.0);
}

}  // namespace
}  // namespace cf::model
