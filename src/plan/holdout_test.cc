#include "plan/holdout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace cf::plan {
namespace {

// One campaign of `n` selected customers out of 2n candidates, values drawn with ties.
struct Fixture {
  AllocationProblem problem;
  Allocation allocation;
};

Fixture MakeFixture(uint32_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Fixture f;
  f.problem.num_customers = 2 * n;
  f.problem.days = 1;
  f.problem.campaigns = {{"Coffee lovers", Channel::kEmail, 0, n, Priority::kHigh}};
  f.problem.candidates.resize(1);
  f.allocation.selected.resize(1);
  for (uint32_t i = 0; i < 2 * n; ++i) {
    f.problem.candidates[0].push_back({i, static_cast<float>(rng() % 50)});
    if (i % 2 == 1) f.allocation.selected[0].push_back(i);
  }
  return f;
}

TEST(HoldoutTest, SharesHoldPerDecileWithinOne) {
  for (uint32_t n : {1u, 7u, 10u, 95u, 1000u, 4321u}) {
    for (double share : {0.0, 0.05, 0.1, 0.33, 1.0}) {
      const Fixture f = MakeFixture(n, n);
      const double shares[] = {share};
      auto h = AssignHoldouts(f.problem, f.allocation, shares, 42);
      ASSERT_TRUE(h.has_value()) << h.error().ToString();
      const CampaignHoldout& c = (*h)[0];
      ASSERT_EQ(c.decile.size(), n);
      ASSERT_EQ(c.holdout.size(), n);
      uint64_t total = 0;
      for (int d = 1; d <= 10; ++d) {
        uint64_t size = 0, held = 0;
        for (size_t i = 0; i < n; ++i) {
          if (c.decile[i] != d) continue;
          ++size;
          held += c.holdout[i];
        }
        EXPECT_LE(std::abs(static_cast<double>(held) - share * static_cast<double>(size)), 1.0)
            << "n " << n << " share " << share << " decile " << d;
        total += held;
      }
      EXPECT_EQ(total, c.held_out);
      EXPECT_EQ(total, static_cast<uint64_t>(std::llround(share * n))) << "n " << n << " share " << share;
    }
  }
}

TEST(HoldoutTest, DecilesFollowTheValue) {
  const Fixture f = MakeFixture(1000, 3);
  const double shares[] = {0.1};
  auto h = AssignHoldouts(f.problem, f.allocation, shares, 1);
  ASSERT_TRUE(h.has_value());
  const auto& selected = f.allocation.selected[0];
  for (size_t a = 0; a < selected.size(); ++a) {
    for (size_t b = 0; b < selected.size(); ++b) {
      const float va = f.problem.candidates[0][selected[a]].value, vb = f.problem.candidates[0][selected[b]].value;
      if ((*h)[0].decile[a] < (*h)[0].decile[b]) {
        ASSERT_GE(va, vb);
      }
    }
  }
  for (int d = 1; d <= 10; ++d) EXPECT_EQ(std::count((*h)[0].decile.begin(), (*h)[0].decile.end(), d), 100);
}

TEST(HoldoutTest, DeterministicForASeedAndIndependentOfOrder) {
  Fixture f = MakeFixture(2000, 9);
  const double shares[] = {0.2};
  auto first = AssignHoldouts(f.problem, f.allocation, shares, 7);
  auto again = AssignHoldouts(f.problem, f.allocation, shares, 7);
  auto other = AssignHoldouts(f.problem, f.allocation, shares, 8);
  ASSERT_TRUE(first && again && other);
  EXPECT_EQ((*first)[0].holdout, (*again)[0].holdout);
  EXPECT_NE((*first)[0].holdout, (*other)[0].holdout);

  // The same selected set in another order: the same customers are withheld.
  std::vector<uint32_t> held;
  for (size_t i = 0; i < f.allocation.selected[0].size(); ++i) {
    if ((*first)[0].holdout[i]) held.push_back(f.allocation.selected[0][i]);
  }
  std::mt19937_64 rng(1);
  std::shuffle(f.allocation.selected[0].begin(), f.allocation.selected[0].end(), rng);
  auto shuffled = AssignHoldouts(f.problem, f.allocation, shares, 7);
  ASSERT_TRUE(shuffled);
  std::vector<uint32_t> held_shuffled;
  for (size_t i = 0; i < f.allocation.selected[0].size(); ++i) {
    if ((*shuffled)[0].holdout[i]) held_shuffled.push_back(f.allocation.selected[0][i]);
  }
  std::sort(held_shuffled.begin(), held_shuffled.end());
  EXPECT_EQ(held, held_shuffled);
}

TEST(HoldoutTest, CampaignsDrawIndependently) {
  Fixture f = MakeFixture(2000, 4);
  f.problem.campaigns.push_back({"Tea lovers", Channel::kPush, 0, 2000, Priority::kLow});
  f.problem.candidates.push_back(f.problem.candidates[0]);
  f.allocation.selected.push_back(f.allocation.selected[0]);
  const double shares[] = {0.5, 0.5};
  auto h = AssignHoldouts(f.problem, f.allocation, shares, 7);
  ASSERT_TRUE(h);
  EXPECT_EQ((*h)[0].held_out, 1000u);
  EXPECT_EQ((*h)[1].held_out, 1000u);
  EXPECT_NE((*h)[0].holdout, (*h)[1].holdout);
}

TEST(HoldoutTest, ErrorsNameTheCampaign) {
  const Fixture f = MakeFixture(10, 1);
  const double bad[] = {1.5};
  auto h = AssignHoldouts(f.problem, f.allocation, bad, 1);
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().ToString().find("\"Coffee lovers\": holdout share 1.5 is outside 0 .. 1"), std::string::npos)
      << h.error().ToString();
  const double two[] = {0.1, 0.1};
  EXPECT_FALSE(AssignHoldouts(f.problem, f.allocation, two, 1));
  Allocation stranger = f.allocation;
  stranger.selected[0].push_back(20);  // not a customer
  const double one[] = {0.1};
  auto s = AssignHoldouts(f.problem, stranger, one, 1);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().ToString().find("selected customer 20 is not one of its candidates"), std::string::npos);
}

}  // namespace
}  // namespace cf::plan
