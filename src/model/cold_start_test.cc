#include "model/cold_start.h"

#include <gtest/gtest.h>

#include "base/files.h"
#include "base/time.h"
#include "data/ingest.h"
#include "model/backtest.h"
#include "model/test_data.h"
#include "model/universal.h"

namespace cf::model {
namespace {

TEST(ColdStartTest, ReadsTheSignupDateAndAttributesWhateverTheirNames) {
  const TempDirectory scratch("model-cold-profiles");
  const std::string dir = scratch.path();
  ASSERT_TRUE(WriteFileAtomic(dir + "/kunden.csv",
                              "customer_id,Anmeldung,Region,Kundennummer\n"
                              "1,2024-01-05,Nord,K1\n2,2024-02-10,Sued,K2\n3,,Nord,K3\n4,2024-03-01,West,K4\n")
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/events.csv", "customer_id,timestamp\n1,2024-02-01\n5,2024-02-02\n").ok());
  data::IngestOptions o;
  o.events.path = dir + "/events.csv";
  o.customers.path = dir + "/kunden.csv";
  o.out = dir + "/ds";
  ASSERT_TRUE(data::Ingest(o).has_value());
  auto ds = data::Dataset::Open(o.out);
  ASSERT_TRUE(ds.has_value());
  const data::Customers& customers = (*ds)->customers();
  const CustomerProfiles profiles = ProfilesFromCustomers(customers);
  EXPECT_EQ(profiles.signup_attribute, "Anmeldung");
  ASSERT_EQ(profiles.attributes.size(), 1u);  // Region; the customer number identifies, it does not segment
  EXPECT_EQ(profiles.attributes[0].name, "Region");
  const uint32_t c2 = *customers.Find("2"), c3 = *customers.Find("3"), c5 = *customers.Find("5");
  EXPECT_EQ(profiles.signup[c2], *ParseIsoTime("2024-02-10"));
  EXPECT_EQ(profiles.signup[c3], CustomerProfiles::kUnknownTime);
  EXPECT_EQ(profiles.listed[c5], 0);  // only in the events file

  const EventLog log = EventLog::FromDataset(**ds);
  const HistoryView at(log, *ParseIsoTime("2024-02-01T12:00:00Z"));
  EXPECT_TRUE(KnownAt(at, *customers.Find("1")));  // bought before
  EXPECT_FALSE(KnownAt(at, c2));                   // signs up after the cutoff
  EXPECT_TRUE(KnownAt(at, c3));                    // listed, no signup date
  EXPECT_FALSE(KnownAt(at, c5));                   // first seen after the cutoff, not listed
}

// On generated data a share of the customers without a purchase buys within the horizon, most
// of them soon after signing up. The backtest over all customers reports them separately; the
// universal model's expected number of new buyers must match what they did (the trees alone
// scored them ≤ 0.0011, a tenth of the truth or less), and rank them better than a baseline.
TEST(ColdStartTest, NewCustomersGetCalibratedProbabilities) {
  const TempDirectory scratch("model-cold-backtest");
  const std::string dir = scratch.path();
  data::GeneratorOptions g;
  g.customers = 6000;
  g.products = 300;
  g.days = 365;
  g.seed = 21;
  auto ds = testing::GenerateAndIngestWithCustomers(g, dir);
  ASSERT_TRUE(ds);
  const EventLog log = EventLog::FromDataset(*ds);
  EvaluateOptions options;
  options.run.horizon_days = 30;
  options.cutoff = log.last_time() - 30 * kSecondsPerDay;
  options.min_positives = 30;
  options.models = {"popularity", "universal"};
  options.population = Population::kAllCustomers;
  options.train.depths = {3};
  options.train.max_rounds = 60;
  options.train.eval_every = 20;
  options.train.max_rows = 40000;
  const std::vector<offer::ProductSet> topics = {offer::ProductSet::Any(ds->catalog().size())};
  auto result = RunBacktest(log, ChooseLevels(ds->catalog()), topics, "any", options);
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  ASSERT_GT(result->new_customers, 500u);
  const ModelBacktest& universal = result->models.back();
  std::printf("new customers %llu: %.1f predicted buyers, %.0f realized, Lift Quality %.2f (popularity %.2f)\n",
              static_cast<unsigned long long>(result->new_customers), universal.new_predicted, universal.new_realized,
              universal.new_lift_quality, result->models[0].new_lift_quality);
  ASSERT_GE(universal.new_realized, 20.0);
  EXPECT_NEAR(universal.new_predicted, universal.new_realized, 0.3 * universal.new_realized);
  EXPECT_EQ(universal.new_offers, 1);
  EXPECT_GT(universal.new_lift_quality, result->models[0].new_lift_quality + 20);
}

}  // namespace
}  // namespace cf::model
