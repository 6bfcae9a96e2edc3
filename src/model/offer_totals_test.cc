#include "model/offer_totals.h"

#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "base/files.h"
#include "base/time.h"
#include "model/test_data.h"
#include "model/universal.h"

namespace cf::model {
namespace {

TEST(OfferTotalsTest, TheLogitShiftReachesTheTotalAndKeepsTheOrder) {
  const std::vector<double> p = {0.01, 0.2, 0.5, 0.03, 0.9, 0.0, 0.4};
  for (double total : {0.05, 1.0, 2.2, 5.5}) {
    const double shift = LogitShiftToTotal(p, total);
    double sum = 0;
    std::vector<double> q;
    for (double x : p) {
      q.push_back(ShiftProbability(x, shift));
      sum += q.back();
    }
    EXPECT_NEAR(sum, total, 1e-8 * total);
    EXPECT_EQ(q[5], 0.0);
    for (size_t i = 0; i < p.size(); ++i) {
      for (size_t j = 0; j < p.size(); ++j) {
        EXPECT_EQ(p[i] < p[j], q[i] < q[j]);
      }
    }
  }
}

// The property: for nested offers (O' ⊂ O), expected buyers and revenue summed over the
// customers never grow when products are removed, whatever products they are.
TEST(OfferTotalsTest, ExpectedBuyersAndRevenueNeverGrowWhenProductsAreRemoved) {
  const TempDirectory scratch("model-offer-totals");
  const std::string dir = scratch.path();
  data::GeneratorOptions g;
  g.customers = 1500;
  g.products = 200;
  g.days = 240;
  g.seed = 9;
  auto ds = testing::GenerateAndIngestWithCustomers(g, dir);
  ASSERT_TRUE(ds);
  const EventLog log = EventLog::FromDataset(*ds);
  // Scored 20 days before the end, so that customers without purchases yet are in the base.
  const HistoryView history(log, log.last_time() - 20 * kSecondsPerDay);
  TrainOptions options;
  options.depths = {3};
  options.max_rounds = 40;
  options.eval_every = 20;
  options.max_rows = 30000;
  auto model =
      UniversalModel::Train(history, ChooseLevels(ds->catalog()), RunOptions{.horizon_days = 30}, options, nullptr);
  ASSERT_TRUE(model.has_value()) << model.error().ToString();
  std::vector<uint32_t> customers(log.num_customers());
  std::iota(customers.begin(), customers.end(), 0u);
  auto totals = [&](const std::vector<uint8_t>& members) {
    const offer::ProductSet offer = offer::ProductSet::FromMembers("o", members);
    auto s = (*model)->Score(history, offer, customers);
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
    return std::make_pair(std::accumulate(s->probability.begin(), s->probability.end(), 0.0),
                          std::accumulate(s->expected_revenue.begin(), s->expected_revenue.end(), 0.0));
  };
  std::mt19937_64 rng(17);
  const Level& department = ChooseLevels(ds->catalog()).front();
  int strictly_smaller = 0;
  for (int trial = 0; trial < 40; ++trial) {
    // O: a random department, or a random half of the catalog; O': O without a random share of it.
    std::vector<uint8_t> outer(ds->catalog().size(), 0);
    const uint32_t dept = 1 + static_cast<uint32_t>(rng() % (department.values.size() - 1));
    for (uint32_t p = 0; p < outer.size(); ++p) {
      outer[p] = trial % 2 == 0 ? department.code_of_product[p] == dept : rng() % 2 == 0;
    }
    std::vector<uint8_t> inner = outer;
    const double drop = std::uniform_real_distribution<double>(0.05, 0.95)(rng);
    for (uint8_t& m : inner) {
      m = m != 0 && std::uniform_real_distribution<double>(0, 1)(rng) >= drop;
    }
    const auto [outer_buyers, outer_revenue] = totals(outer);
    const auto [inner_buyers, inner_revenue] = totals(inner);
    EXPECT_LE(inner_buyers, outer_buyers * (1 + 1e-7) + 1e-9) << "trial " << trial;
    EXPECT_LE(inner_revenue, outer_revenue * (1 + 1e-7) + 1e-9) << "trial " << trial;
    strictly_smaller += inner_buyers < outer_buyers * 0.999 ? 1 : 0;
  }
  EXPECT_GT(strictly_smaller, 20);  // the pairs really differ
}

}  // namespace
}  // namespace cf::model
