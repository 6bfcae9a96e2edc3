#include "model/features.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "base/time.h"

namespace cf::model {
namespace {

constexpr int64_t kDay = kSecondsPerDay;
constexpr int64_t kNoon = kDay / 2;
constexpr uint8_t kOnline = static_cast<uint8_t>(data::Channel::kOnline);
constexpr uint8_t kOffline = static_cast<uint8_t>(data::Channel::kOffline);

// Products 0 and 1 are in department A, 2 and 3 in department B. The cutoff is day 100 and
// the horizon 7 days. Customer 0 buys product 0 on days 80 and 95, product 2 on day 90 and
// product 1 on day 95; customer 1 buys product 3 on days 50 and 99; customer 2 has no history.
EventLog HandMadeLog() {
  OwnedEvents o;
  o.num_customers = 3;
  o.num_products = 4;
  o.customer = {0, 0, 0, 0, 1, 1};
  o.time = {80 * kDay + kNoon, 90 * kDay + kNoon, 95 * kDay + kNoon,
            95 * kDay + kNoon, 50 * kDay + kNoon, 99 * kDay + kNoon};
  o.product = {0, 2, 0, 1, 3, 3};
  o.revenue = {2, 3, 4, 1, 5, 5};
  o.channel = {kOnline, kOffline, kOnline, kOffline, kOffline, kOffline};
  return EventLog::FromOwned(std::move(o));
}

std::vector<Level> Departments() { return {Level{"department", {1, 1, 2, 2}, {"", "A", "B"}}}; }

// An identity subspace: the affinity is then the customer's row dotted with the offer's shares.
ItemFactors Identity(uint32_t groups) {
  ItemFactors f;
  f.num_groups = groups;
  f.rank = groups;
  f.v.assign(static_cast<size_t>(groups) * groups, 0.0f);
  for (uint32_t g = 0; g < groups; ++g) {
    f.v[static_cast<size_t>(g) * groups + g] = 1.0f;
  }
  return f;
}

double Decay(double age_days) { return std::pow(0.9, age_days / 7.0); }

struct Rows {
  std::vector<std::map<std::string, float>> by_name;  // one map per requested customer
  std::vector<float> personal_revenue;
  OfferStats stats;
};

Rows Compute(const FeatureBuilder& builder, const offer::ProductSet& offer, const std::vector<uint32_t>& customers,
             float window_share) {
  Rows out;
  std::vector<float> cells;
  out.stats = builder.Compute(
      offer, customers, window_share,
      [&](size_t, std::span<const float> rows) { cells.insert(cells.end(), rows.begin(), rows.end()); },
      &out.personal_revenue);
  const std::vector<std::string> names = builder.layout().Names();
  EXPECT_EQ(cells.size(), customers.size() * names.size());
  for (size_t r = 0; r < customers.size(); ++r) {
    std::map<std::string, float> row;
    for (size_t j = 0; j < names.size(); ++j) {
      row[names[j]] = cells[r * names.size() + j];
    }
    out.by_name.push_back(std::move(row));
  }
  return out;
}

class FeaturesTest : public ::testing::Test {
 protected:
  FeaturesTest() : log_(HandMadeLog()), view_(log_, 100 * kDay), levels_(Departments()), factors_(Identity(3)) {
    options_.levels = &levels_;
    options_.embedding_level = 0;
    options_.run.horizon_days = 7;
    options_.run.threads = 1;
    std::vector<uint8_t> members = {1, 0, 0, 0};
    offer_ = offer::ProductSet::FromMembers("product 0", members);
  }

  EventLog log_;
  HistoryView view_;
  std::vector<Level> levels_;
  ItemFactors factors_;
  FeatureOptions options_;
  offer::ProductSet offer_;
};

TEST_F(FeaturesTest, LayoutIsOneNamedListWithAColumnPerLevelFeature) {
  const FeatureLayout layout(levels_);
  const std::vector<std::string> names = layout.Names();
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size()) << "feature names must be unique";
  ASSERT_TRUE(layout.Index("department_count").has_value());
  EXPECT_EQ(names[*layout.Index("department_count")], "department_count");
  EXPECT_EQ(*layout.Index("department_count") + 1, *layout.Index("department_recency"));
  EXPECT_EQ(layout.columns()[*layout.Index("department_decay")].pass, FeaturePass::kCustomerLevel);
  EXPECT_EQ(layout.columns()[*layout.Index("offer_count")].pass, FeaturePass::kCustomerOffer);
  EXPECT_EQ(names.back(), "window_share");
  // Two levels give two runs of level features, level by level.
  std::vector<Level> two = {levels_[0], Level{"aisle", {1, 2, 3, 4}, {"", "a", "b", "c", "d"}}};
  const FeatureLayout wide(two);
  EXPECT_EQ(wide.size(), layout.size() + 3);
  EXPECT_EQ(*wide.Index("aisle_count"), *wide.Index("department_decay") + 1);
  const auto missing = layout.Index("colour");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("no feature named 'colour'"), std::string::npos);
  EXPECT_NE(missing.error().message().find("offer_recency"), std::string::npos);
}

TEST_F(FeaturesTest, CustomerFeaturesDescribeTheWholeHistory) {
  const FeatureBuilder builder(view_, options_, &factors_);
  EXPECT_EQ(builder.population(), (std::vector<uint32_t>{0, 1}));
  const Rows rows = Compute(builder, offer_, {0, 1, 2}, 1.0f);
  const auto& c0 = rows.by_name[0];
  EXPECT_FLOAT_EQ(c0.at("customer_log_events"), std::log1p(4.0f));
  EXPECT_FLOAT_EQ(c0.at("customer_days"), 3);  // days 80, 90 and 95
  EXPECT_FLOAT_EQ(c0.at("customer_recency"), 4.5);
  EXPECT_FLOAT_EQ(c0.at("customer_tenure"), 19.5);
  EXPECT_FLOAT_EQ(c0.at("customer_mean_gap"), 7.5);  // 15 days over two gaps
  EXPECT_FLOAT_EQ(c0.at("customer_recency_over_gap"), 0.6);
  EXPECT_FLOAT_EQ(c0.at("customer_log_spend"), std::log1p(10.0f));
  EXPECT_FLOAT_EQ(c0.at("customer_online_share"), 0.5);
  EXPECT_FLOAT_EQ(c0.at("customer_recent_events"), 2);  // the two of day 95; day 90 is before cutoff − 7
  const auto& c1 = rows.by_name[1];
  EXPECT_FLOAT_EQ(c1.at("customer_mean_gap"), 49);
  EXPECT_FLOAT_EQ(c1.at("customer_online_share"), 0);
  // Percentile ranks in the population: customer 0 has more events, customer 1 is more recent.
  EXPECT_GT(c0.at("customer_events_pct"), c1.at("customer_events_pct"));
  EXPECT_LT(c0.at("customer_recency_pct"), c1.at("customer_recency_pct"));
  // Without history: counts are zero, what cannot be measured is missing.
  const auto& c2 = rows.by_name[2];
  EXPECT_EQ(c2.at("customer_log_events"), 0);
  EXPECT_EQ(c2.at("customer_days"), 0);
  EXPECT_TRUE(std::isnan(c2.at("customer_recency")));
  EXPECT_TRUE(std::isnan(c2.at("customer_tenure")));
  EXPECT_TRUE(std::isnan(c2.at("customer_recency_over_gap")));
  EXPECT_TRUE(std::isnan(c2.at("customer_online_share")));
}

TEST_F(FeaturesTest, CustomerOfferFeaturesFollowTheOffersPurchases) {
  const FeatureBuilder builder(view_, options_, &factors_);
  const Rows rows = Compute(builder, offer_, {0, 1, 2}, 1.0f);
  const auto& c0 = rows.by_name[0];
  EXPECT_FLOAT_EQ(c0.at("offer_count"), 2);
  EXPECT_FLOAT_EQ(c0.at("offer_days"), 2);
  EXPECT_FLOAT_EQ(c0.at("offer_recency"), 4.5);
  EXPECT_FLOAT_EQ(c0.at("offer_decay"), Decay(19.5) + Decay(4.5));
  EXPECT_FLOAT_EQ(c0.at("offer_recent"), 1);
  EXPECT_FLOAT_EQ(c0.at("offer_log_spend"), std::log1p(6.0f));
  EXPECT_FLOAT_EQ(c0.at("offer_share"), 0.5);
  EXPECT_FLOAT_EQ(c0.at("offer_first"), 19.5);
  EXPECT_FLOAT_EQ(c0.at("offer_gap"), 15);
  EXPECT_FLOAT_EQ(c0.at("offer_recency_over_gap"), 0.3);
  EXPECT_FLOAT_EQ(c0.at("offer_recency_over_customer_gap"), 0.6);
  EXPECT_FLOAT_EQ(rows.personal_revenue[0], 3);  // 6 over two purchases
  const auto& c1 = rows.by_name[1];
  EXPECT_EQ(c1.at("offer_count"), 0);
  EXPECT_EQ(c1.at("offer_share"), 0);
  EXPECT_TRUE(std::isnan(c1.at("offer_recency")));
  EXPECT_TRUE(std::isnan(c1.at("offer_first")));
  EXPECT_TRUE(std::isnan(c1.at("offer_gap")));
  EXPECT_TRUE(std::isnan(rows.personal_revenue[1]));
  EXPECT_GT(c0.at("offer_decay_pct"), c1.at("offer_decay_pct"));
  EXPECT_EQ(rows.by_name[2].at("offer_decay_pct"), 0);
}

TEST_F(FeaturesTest, LevelFeaturesCountTheOffersGroups) {
  const FeatureBuilder builder(view_, options_, &factors_);
  const Rows rows = Compute(builder, offer_, {0, 1}, 1.0f);
  // Product 0's department is A: customer 0 bought A three times (products 0, 0 and 1).
  const auto& c0 = rows.by_name[0];
  EXPECT_FLOAT_EQ(c0.at("department_count"), 3);
  EXPECT_FLOAT_EQ(c0.at("department_recency"), 4.5);
  EXPECT_FLOAT_EQ(c0.at("department_decay"), Decay(19.5) + 2 * Decay(4.5));
  const auto& c1 = rows.by_name[1];
  EXPECT_EQ(c1.at("department_count"), 0);
  EXPECT_TRUE(std::isnan(c1.at("department_recency")));
  EXPECT_EQ(c1.at("department_decay"), 0);
}

TEST_F(FeaturesTest, CollaborativeFeaturesSeeWhatSimilarBuyersBuy) {
  const FeatureBuilder builder(view_, options_, &factors_);
  const Rows rows = Compute(builder, offer_, {0, 1, 2}, 1.0f);
  // Rows: customer 0 = (A: log 4, B: log 2), customer 1 = (B: log 3); the offer's purchases
  // are all in A, so with the identity subspace the affinity is the customer's A value.
  const auto& c0 = rows.by_name[0];
  const double norm0 = std::hypot(std::log1p(3.0), std::log1p(1.0));
  EXPECT_FLOAT_EQ(c0.at("affinity"), std::log1p(3.0f));
  EXPECT_FLOAT_EQ(c0.at("affinity_cosine"), std::log1p(3.0) / norm0);
  EXPECT_EQ(rows.by_name[1].at("affinity"), 0);
  EXPECT_GT(c0.at("affinity_pct"), rows.by_name[1].at("affinity_pct"));
  // Item-item: the offer's one buyer (customer 0) bought A (1 buyer) and B (2 buyers):
  // cos(A) = 1 / √(1·1) = 1, cos(B) = 1 / √(2·1).
  EXPECT_FLOAT_EQ(c0.at("item_cf"), 1 + 1 / std::sqrt(2.0));
  EXPECT_FLOAT_EQ(c0.at("item_cf_mean"), (1 + 1 / std::sqrt(2.0)) / 2);
  EXPECT_FLOAT_EQ(rows.by_name[1].at("item_cf"), 1 / std::sqrt(2.0));
  EXPECT_FLOAT_EQ(rows.by_name[1].at("item_cf_mean"), 1 / std::sqrt(2.0));
  for (const char* name : {"affinity", "affinity_cosine", "affinity_pct", "item_cf", "item_cf_mean"}) {
    EXPECT_EQ(rows.by_name[2].at(name), 0) << name;
  }
}

TEST_F(FeaturesTest, OfferFeaturesAreTheSameForEveryCustomer) {
  const FeatureBuilder builder(view_, options_, &factors_);
  const Rows rows = Compute(builder, offer_, {0, 1, 2}, 0.5f);
  EXPECT_EQ(rows.stats.population, 2);
  EXPECT_EQ(rows.stats.buyers_recent, 1);      // customer 0 on day 95
  EXPECT_EQ(rows.stats.revenue_per_event, 3);  // 6 over two purchases
  for (const auto& row : rows.by_name) {
    EXPECT_FLOAT_EQ(row.at("offer_popularity_recent"), 0.5);
    EXPECT_FLOAT_EQ(row.at("offer_popularity_ever"), 0.5);
    EXPECT_FLOAT_EQ(row.at("offer_trend"), 2);  // (1 + 1) / (0 + 1): no buyer in the window before
    EXPECT_FLOAT_EQ(row.at("offer_repeat_rate"), 0.5);
    EXPECT_FLOAT_EQ(row.at("offer_new_rate"), 0.5);  // (1 + 1) / (2 − 0 + 2)
    EXPECT_FLOAT_EQ(row.at("offer_log_products"), std::log1p(1.0f));
    EXPECT_FLOAT_EQ(row.at("window_share"), 0.5);
  }
}

TEST_F(FeaturesTest, ARowDependsOnlyOnItsCustomer) {
  const FeatureBuilder builder(view_, options_, &factors_);
  const Rows all = Compute(builder, offer_, {0, 1, 2}, 1.0f);
  const Rows one = Compute(builder, offer_, {1}, 1.0f);
  for (const auto& [name, value] : all.by_name[1]) {
    const float other = one.by_name[0].at(name);
    EXPECT_TRUE(value == other || (std::isnan(value) && std::isnan(other))) << name;
  }
}

// Scoring hands the chunks to a thread-safe sink from every core at once: the rows must be the
// ones the in-order calls give, each once. 40,000 customers make several chunks per thread.
TEST_F(FeaturesTest, ConcurrentSinkCallsGiveTheSameRowsEachOnce) {
  OwnedEvents o;
  o.num_customers = 40000;
  o.num_products = 4;
  std::mt19937 rng(3);
  for (uint32_t c = 0; c < o.num_customers; ++c) {
    const int events = static_cast<int>(rng() % 6);
    int64_t t = static_cast<int64_t>(rng() % 20) * kDay;
    for (int k = 0; k < events; ++k) {
      t += static_cast<int64_t>(rng() % (10 * kDay));
      o.customer.push_back(c);
      o.time.push_back(t);
      o.product.push_back(rng() % 4);
      o.revenue.push_back(static_cast<float>(1 + rng() % 9));
      o.channel.push_back(k % 2 == 0 ? kOnline : kOffline);
    }
  }
  const EventLog log = EventLog::FromOwned(std::move(o));
  const HistoryView view(log, 100 * kDay);
  FeatureOptions options = options_;
  options.run.threads = 2;
  const FeatureBuilder builder(view, options, &factors_);
  const std::vector<uint32_t>& customers = builder.population();
  ASSERT_GT(customers.size(), 30000u);
  const size_t width = builder.num_features();
  std::vector<float> in_order, concurrent(customers.size() * width, -1.0f);
  builder.Compute(
      offer_, customers, 1.0f,
      [&](size_t, std::span<const float> rows) { in_order.insert(in_order.end(), rows.begin(), rows.end()); },
      nullptr);
  std::mutex mu;
  std::set<size_t> firsts;
  size_t handed = 0;
  builder.Compute(
      offer_, customers, 1.0f,
      [&](size_t first, std::span<const float> rows) {
        std::copy(rows.begin(), rows.end(), concurrent.begin() + static_cast<std::ptrdiff_t>(first * width));
        std::lock_guard<std::mutex> lock(mu);
        EXPECT_TRUE(firsts.insert(first).second) << "chunk at " << first << " handed twice";
        handed += rows.size() / width;
      },
      nullptr, nullptr, FeatureBuilder::SinkCalls::kConcurrent);
  EXPECT_EQ(handed, customers.size());
  EXPECT_GT(firsts.size(), 2u);
  ASSERT_EQ(in_order.size(), concurrent.size());
  for (size_t k = 0; k < in_order.size(); ++k) {
    ASSERT_TRUE(in_order[k] == concurrent[k] || (std::isnan(in_order[k]) && std::isnan(concurrent[k])))
        << "row " << k / width << " column " << builder.layout().Names()[k % width];
  }
}

}  // namespace
}  // namespace cf::model
