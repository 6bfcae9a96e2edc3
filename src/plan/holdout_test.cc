#include "plan/holdout.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace cf::plan {
namespace {

// One campaign given to customers 0 .. n-1, whose value is their number (higher is better).
AllocationProblem OneCampaign(uint32_t n, std::string name = "c") {
  AllocationProblem p;
  p.num_customers = n;
  p.days = 1;
  p.campaigns.push_back({std::move(name), Channel::kEmail, 0, n, Priority::kMedium});
  p.candidates.emplace_back();
  for (uint32_t c = 0; c < n; ++c) p.candidates[0].push_back({c, static_cast<float>(c)});
  return p;
}

Allocation Everyone(const AllocationProblem& p) {
  Allocation a;
  a.selected.emplace_back(p.num_customers);
  std::iota(a.selected[0].begin(), a.selected[0].end(), 0u);
  return a;
}

TEST(Holdout, EachDecileWithholdsItsShare) {
  const AllocationProblem p = OneCampaign(1003);
  const Allocation a = Everyone(p);
  Result<std::vector<HoldoutDraw>> d = DrawHoldouts(p, a, {.seed = 7, .shares = {0.1}});
  ASSERT_TRUE(d.has_value()) << d.error().ToString();
  int per_decile[11] = {}, held[11] = {}, total = 0;
  for (size_t i = 0; i < a.selected[0].size(); ++i) {
    const int decile = (*d)[0].decile[i];
    ASSERT_GE(decile, 1);
    ASSERT_LE(decile, 10);
    ++per_decile[decile];
    held[decile] += (*d)[0].holdout[i];
    total += (*d)[0].holdout[i];
  }
  EXPECT_EQ(total, 100);  // round(0.1 × 1003)
  for (int dec = 1; dec <= 10; ++dec) EXPECT_LE(std::abs(held[dec] - 0.1 * per_decile[dec]), 1.0) << dec;
  // Decile 1 holds the best values: customer 1002 (the best) is in it, customer 0 in decile 10.
  EXPECT_EQ((*d)[0].decile[1002], 1);
  EXPECT_EQ((*d)[0].decile[0], 10);
}

TEST(Holdout, SameSeedSameDrawOtherSeedOtherDraw) {
  const AllocationProblem p = OneCampaign(500);
  const Allocation a = Everyone(p);
  const auto one = DrawHoldouts(p, a, {.seed = 1, .shares = {0.2}});
  const auto again = DrawHoldouts(p, a, {.seed = 1, .shares = {0.2}});
  const auto other = DrawHoldouts(p, a, {.seed = 2, .shares = {0.2}});
  ASSERT_TRUE(one.has_value() && again.has_value() && other.has_value());
  EXPECT_EQ((*one)[0].holdout, (*again)[0].holdout);
  EXPECT_NE((*one)[0].holdout, (*other)[0].holdout);
}

TEST(Holdout, ACampaignsDrawDoesNotDependOnTheOthers) {
  AllocationProblem two = OneCampaign(300, "first");
  AllocationProblem alone = OneCampaign(300, "second");
  two.campaigns.push_back(alone.campaigns[0]);
  two.candidates.push_back(alone.candidates[0]);
  Allocation a2 = Everyone(two);
  a2.selected.push_back(a2.selected[0]);
  const auto both = DrawHoldouts(two, a2, {.seed = 3, .shares = {0.5, 0.1}});
  const auto single = DrawHoldouts(alone, Everyone(alone), {.seed = 3, .shares = {0.1}});
  ASSERT_TRUE(both.has_value() && single.has_value());
  EXPECT_EQ((*both)[1].holdout, (*single)[0].holdout);
}

TEST(Holdout, ZeroShareWithholdsNobodyAndBadSharesAreRefused) {
  const AllocationProblem p = OneCampaign(50);
  const auto none = DrawHoldouts(p, Everyone(p), {.seed = 1, .shares = {0}});
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(std::accumulate((*none)[0].holdout.begin(), (*none)[0].holdout.end(), 0), 0);
  EXPECT_FALSE(DrawHoldouts(p, Everyone(p), {.seed = 1, .shares = {1.0}}).has_value());
  EXPECT_FALSE(DrawHoldouts(p, Everyone(p), {.seed = 1, .shares = {}}).has_value());
}

}  // namespace
}  // namespace cf::plan
