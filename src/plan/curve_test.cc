#include "plan/curve.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace cf::plan {
namespace {

TEST(RankedAudienceTest, CurveOfASmallAudience) {
  const std::vector<double> p = {0.1, 0.4, 0.0, 0.2, 0.3};
  const std::vector<double> rev = {1, 8, 0, 2, 3};
  const std::vector<uint8_t> eligible = {1, 1, 1, 0, 1};  // customer 3 is out
  Result<RankedAudience> r = RankedAudience::Build(p, rev, eligible);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->order(), (std::vector<uint32_t>{1, 4, 0, 2}));
  EXPECT_DOUBLE_EQ(r->total_buyers(), 0.8);
  EXPECT_DOUBLE_EQ(r->total_revenue(), 12);
  Result<std::vector<CurvePoint>> curve = r->Curve({.points = 2});
  ASSERT_TRUE(curve.has_value());
  ASSERT_EQ(curve->size(), 2u);
  const CurvePoint& half = (*curve)[0];
  EXPECT_EQ(half.size, 2u);
  EXPECT_DOUBLE_EQ(half.expected_buyers, 0.7);
  EXPECT_DOUBLE_EQ(half.expected_revenue, 11);
  EXPECT_DOUBLE_EQ(half.buyer_share, 0.7 / 0.8);
  EXPECT_DOUBLE_EQ(half.lift, (0.7 / 2) / (0.8 / 4));
  EXPECT_DOUBLE_EQ(half.threshold, 0.3);
  const CurvePoint& all = (*curve)[1];
  EXPECT_EQ(all.size, 4u);
  EXPECT_DOUBLE_EQ(all.buyer_share, 1);
  EXPECT_DOUBLE_EQ(all.lift, 1);
  EXPECT_DOUBLE_EQ(all.threshold, 0);
  // More points than customers: one per size, no repeats.
  EXPECT_EQ(r->Curve({.points = 20})->size(), 4u);
  EXPECT_FALSE(r->Curve({.points = 0}).has_value());
  EXPECT_EQ(r->Curve({.points = 0}).error().message(), "points: 0 is not valid; expected 1 .. 10000");
}

TEST(RankedAudienceTest, VolumeSizesAndTies) {
  const std::vector<double> p = {0.5, 0.2, 0.2, 0.1, 0.0, 0.2};
  const std::vector<double> rev(p.size(), 1);
  Result<RankedAudience> r = RankedAudience::Build(p, rev, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->order(), (std::vector<uint32_t>{0, 1, 2, 5, 3, 4}));  // ties by customer number
  EXPECT_EQ(r->SizeForMinProbability(0.2), 4u);                      // every tie at the threshold
  EXPECT_EQ(r->SizeForMinProbability(0.21), 1u);
  EXPECT_EQ(r->SizeForMinProbability(0.6), 0u);
  EXPECT_EQ(r->SizeForMinProbability(1e-9), 5u);
  // Total 1.2: half is 0.6, reached by 0.5 + 0.2 (the first tie only).
  EXPECT_EQ(r->SizeForCaptureShare(0.5), 2u);
  EXPECT_EQ(r->SizeForCaptureShare(0.4), 1u);
  EXPECT_EQ(r->SizeForCaptureShare(1.0), 5u);  // the zero-probability customer adds nothing
  EXPECT_EQ(r->SizeForCaptureShare(0.99), 5u);
  Result<RankedAudience> none = RankedAudience::Build(std::vector<double>{0, 0}, std::vector<double>{0, 0}, {});
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->SizeForCaptureShare(0.5), 0u);
  EXPECT_EQ(none->At(2).lift, 0);
}

TEST(RankedAudienceTest, MatchesBruteForceOnRandomAudiences) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 50; ++trial) {
    const size_t n = 1 + rng() % 300;
    std::vector<double> p(n), rev(n);
    std::vector<uint8_t> eligible(n);
    for (size_t c = 0; c < n; ++c) {
      p[c] = static_cast<double>(rng() % 21) / 20;  // many ties
      rev[c] = p[c] * static_cast<double>(rng() % 50);
      eligible[c] = rng() % 4 != 0;
    }
    Result<RankedAudience> r = RankedAudience::Build(p, rev, eligible);
    ASSERT_TRUE(r.has_value());
    std::vector<double> ranked;
    double total = 0;
    for (size_t c = 0; c < n; ++c) {
      if (eligible[c]) {
        ranked.push_back(p[c]);
      }
    }
    std::sort(ranked.rbegin(), ranked.rend());
    for (double x : ranked) total += x;  // in rank order, as the running sums add up
    ASSERT_EQ(r->size(), ranked.size());
    const std::vector<CurvePoint> curve = r->Curve({.points = 7}).value();
    for (size_t i = 0; i < curve.size(); ++i) {
      double buyers = 0;
      for (size_t k = 0; k < curve[i].size; ++k) buyers += ranked[k];
      EXPECT_NEAR(curve[i].expected_buyers, buyers, 1e-9);
      EXPECT_DOUBLE_EQ(curve[i].threshold, ranked[curve[i].size - 1]);
      if (i > 0) {
        EXPECT_GT(curve[i].size, curve[i - 1].size);
        EXPECT_GE(curve[i].expected_buyers, curve[i - 1].expected_buyers);
        EXPECT_GE(curve[i].expected_revenue, curve[i - 1].expected_revenue);
        EXPECT_LE(curve[i].threshold, curve[i - 1].threshold);
        EXPECT_LE(curve[i].lift, curve[i - 1].lift + 1e-12);  // the best first: lift only falls
      }
    }
    if (!curve.empty()) EXPECT_EQ(curve.back().size, ranked.size());
    for (double s : {0.1, 0.5, 0.9}) {
      if (total == 0) continue;
      uint64_t k = 0;
      double acc = 0;
      while (acc < s * total) acc += ranked[k++];
      EXPECT_EQ(r->SizeForCaptureShare(s), std::max<uint64_t>(k, 1)) << "share " << s;
    }
    for (double q : {0.05, 0.5, 1.0}) {
      EXPECT_EQ(r->SizeForMinProbability(q),
                static_cast<uint64_t>(std::count_if(ranked.begin(), ranked.end(), [&](double x) { return x >= q; })));
    }
  }
}

TEST(RankedAudienceTest, RejectsBadInputNamingTheCustomer) {
  const std::vector<double> p = {0.5, 1.5};
  const std::vector<double> rev = {1, 1};
  Result<RankedAudience> r = RankedAudience::Build(p, rev, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "probability of customer 1: 1.5 is not valid; expected 0 .. 1");
  const std::vector<uint8_t> out = {1, 0};  // an ineligible customer's score is not read
  EXPECT_TRUE(RankedAudience::Build(p, rev, out).has_value());
  const std::vector<double> bad_rev = {-1, 1};
  EXPECT_NE(RankedAudience::Build(p, bad_rev, out).error().message().find("expected revenue of customer 0"),
            std::string::npos);
  EXPECT_FALSE(RankedAudience::Build(p, std::vector<double>{1}, {}).has_value());
}

}  // namespace
}  // namespace cf::plan
