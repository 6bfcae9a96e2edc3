#include "plan/opportunities.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/time.h"
#include "data/generator.h"
#include "data/ingest.h"
#include "model/levels.h"
#include "offer/offer.h"

namespace cf::plan {
namespace {

// One generated dataset (with its customers file) and a quickly trained model for every test.
class OpportunitiesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new TempDirectory("plan-opportunities");
    ASSERT_TRUE(scratch_->ok()) << scratch_->status().ToString();
    data::GeneratorOptions g;
    g.customers = 1200;
    g.products = 200;
    g.days = 200;
    g.seed = 11;
    g.out = scratch_->path() + "/gen";
    g.progress = false;
    auto gen = data::Generate(g);
    ASSERT_TRUE(gen.has_value()) << gen.error().ToString();
    data::IngestOptions o;
    o.events.path = g.out + "/purchases.csv";
    o.products.path = g.out + "/products.csv";
    o.customers.path = g.out + "/customers.csv";
    o.out = scratch_->path() + "/ds";
    auto r = data::Ingest(o);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    auto ds = data::Dataset::Open(o.out);
    ASSERT_TRUE(ds.has_value()) << ds.error().ToString();
    ds_ = ds->release();
    log_ = new model::EventLog(model::EventLog::FromDataset(*ds_));
    history_ = new model::HistoryView(*log_, log_->last_time() + 1);
    model::TrainOptions t;
    t.depths = {3};
    t.max_rounds = 40;
    t.eval_every = 20;
    t.max_rows = 30000;
    auto m =
        model::UniversalModel::Train(*history_, model::ChooseLevels(ds_->catalog()), model::RunOptions{}, t, nullptr);
    ASSERT_TRUE(m.has_value()) << m.error().ToString();
    model_ = m->release();
  }
  static void TearDownTestSuite() {
    delete model_;
    delete history_;
    delete log_;
    delete ds_;
    delete scratch_;
  }

  // A plan directory: campaign c1 treats customers [0, 300) but holds out every tenth, c2 treats [200, 500).
  static std::string WritePlan(const std::string& name) {
    const std::string dir = scratch_->path() + "/" + name;
    std::filesystem::create_directories(dir + "/campaigns");
    EXPECT_TRUE(WriteFileAtomic(dir + "/summary.json",
                                R"({"plan": "Week 49", "campaigns": [
                                     {"name": "Produce", "cohort_id": "c1", "offer": "department = \"PRODUCE\""},
                                     {"cohort_id": "c2"}]})")
                    .ok());
    std::string c1 = "customer,external_id,holdout\n", c2 = "holdout,customer\n";
    for (uint32_t c = 0; c < 300; ++c) {
      c1 += std::string(ds_->customers().crm_id(c)) + ",," + (c % 10 == 0 ? "1" : "0") + "\n";
    }
    for (uint32_t c = 200; c < 500; ++c) {
      c2 += "0," + std::string(ds_->customers().crm_id(c)) + "\n";
    }
    EXPECT_TRUE(WriteFileAtomic(dir + "/campaigns/c1.csv", c1).ok());
    EXPECT_TRUE(WriteFileAtomic(dir + "/campaigns/c2.csv", c2).ok());
    return dir;
  }

  static bool Treated(uint32_t c) { return (c < 300 && c % 10 != 0) || (c >= 200 && c < 500); }

  static inline TempDirectory* scratch_ = nullptr;
  static inline data::Dataset* ds_ = nullptr;
  static inline model::EventLog* log_ = nullptr;
  static inline model::HistoryView* history_ = nullptr;
  static inline model::UniversalModel* model_ = nullptr;
};

// Each figure against an independent computation: the model's scores of the value's offer
// compiled from its expression, and the purchases counted by hand.
TEST_F(OpportunitiesTest, RanksEveryValueWithItsScoresGrowthAndPlanReach) {
  auto reach = ReadPlannedReach(WritePlan("plan"), ds_->customers());
  ASSERT_TRUE(reach.has_value()) << reach.error().ToString();
  ASSERT_EQ(reach->campaigns.size(), 2u);
  EXPECT_EQ(reach->campaigns[0].name, "Produce");
  EXPECT_EQ(reach->campaigns[0].offer, "department = \"PRODUCE\"");
  EXPECT_EQ(reach->campaigns[0].treated, 270u);
  EXPECT_EQ(reach->campaigns[0].holdout, 30u);
  EXPECT_EQ(reach->campaigns[1].name, "c2") << "without a name, the cohort id";
  EXPECT_EQ(reach->customers, 480u) << "[0, 500) less the 20 holdouts of [0, 200)";

  OpportunityOptions options;
  options.by = "department";
  options.top = 100;
  auto found = FindOpportunities(*model_, ds_->catalog(), *history_, &*reach, options);
  ASSERT_TRUE(found.has_value()) << found.error().ToString();
  const data::Attribute* department = ds_->catalog().FindAttribute("department");
  std::set<std::string> values;
  for (uint32_t p = 0; p < ds_->catalog().size(); ++p) {
    values.insert(std::string(department->value(p)));
  }
  values.erase("");
  ASSERT_EQ(found->values, values.size());
  ASSERT_EQ(found->ranked.size(), values.size());
  EXPECT_TRUE(found->with_plan);
  EXPECT_EQ(found->customers, log_->num_customers());

  const int64_t h = static_cast<int64_t>(model_->horizon_days()) * kSecondsPerDay;
  const int64_t cutoff = history_->cutoff();
  std::vector<uint32_t> all(log_->num_customers());
  std::iota(all.begin(), all.end(), 0u);
  for (size_t r = 0; r < found->ranked.size(); ++r) {
    const Opportunity& o = found->ranked[r];
    SCOPED_TRACE(o.value);
    if (r > 0) {
      EXPECT_GE(found->ranked[r - 1].expected_revenue, o.expected_revenue) << "best first";
    }
    auto offer = offer::CompileOffer(o.offer, ds_->catalog());
    ASSERT_TRUE(offer.has_value()) << o.offer << ": " << offer.error().ToString();
    EXPECT_EQ(offer->count, o.products);
    auto scores = model_->Score(*history_, *offer, all);
    ASSERT_TRUE(scores.has_value()) << scores.error().ToString();
    double buyers = 0, revenue = 0, reached = 0;
    for (uint32_t c : all) {
      buyers += scores->probability[c];
      revenue += scores->expected_revenue[c];
      reached += Treated(c) ? scores->probability[c] : 0;
    }
    EXPECT_NEAR(o.expected_buyers, buyers, 1e-6 * buyers);
    EXPECT_NEAR(o.expected_revenue, revenue, 1e-6 * revenue);
    EXPECT_NEAR(o.reached_buyers, reached, 1e-6 * reached);
    EXPECT_NEAR(o.reached_share, reached / buyers, 1e-9);
    EXPECT_NEAR(o.untapped_buyers, buyers - reached, 1e-6 * buyers);
    double counted[2] = {0, 0}, spent[2] = {0, 0};
    for (uint32_t c : all) {
      const model::CustomerEvents ev = history_->Customer(c);
      bool bought[2] = {false, false};
      for (size_t k = 0; k < ev.size(); ++k) {
        if (!offer->Contains(ev.product[k]) || ev.time[k] < cutoff - 2 * h) {
          continue;
        }
        const int w = ev.time[k] >= cutoff - h ? 0 : 1;
        bought[w] = true;
        spent[w] += std::max(0.0f, ev.revenue[k]);
      }
      counted[0] += bought[0] ? 1 : 0;
      counted[1] += bought[1] ? 1 : 0;
    }
    EXPECT_EQ(o.recent_buyers, counted[0]);
    EXPECT_EQ(o.previous_buyers, counted[1]);
    EXPECT_NEAR(o.recent_revenue, spent[0], 1e-6 * spent[0]);
    EXPECT_NEAR(o.previous_revenue, spent[1], 1e-6 * spent[1]);
    ASSERT_GT(counted[1], 0);
    EXPECT_NEAR(o.buyer_growth, counted[0] / counted[1] - 1, 1e-12);
  }

  // By expected buyers, and only the best two.
  options.order = OpportunityOrder::kExpectedBuyers;
  options.top = 2;
  auto by_buyers = FindOpportunities(*model_, ds_->catalog(), *history_, nullptr, options);
  ASSERT_TRUE(by_buyers.has_value()) << by_buyers.error().ToString();
  ASSERT_EQ(by_buyers->ranked.size(), 2u);
  EXPECT_FALSE(by_buyers->with_plan);
  double most = 0;
  for (const Opportunity& o : found->ranked) {
    most = std::max(most, o.expected_buyers);
  }
  EXPECT_EQ(by_buyers->ranked[0].expected_buyers, most);
  EXPECT_GE(by_buyers->ranked[0].expected_buyers, by_buyers->ranked[1].expected_buyers);
  EXPECT_EQ(by_buyers->ranked[0].reached_buyers, 0.0);
}

TEST_F(OpportunitiesTest, AnUnknownAttributeNamesTheValidOnes) {
  OpportunityOptions options;
  options.by = "colour";
  auto found = FindOpportunities(*model_, ds_->catalog(), *history_, nullptr, options);
  ASSERT_FALSE(found.has_value());
  EXPECT_NE(found.error().message().find("by: 'colour' is not a product attribute of the catalog; expected one of "),
            std::string::npos)
      << found.error().message();
  EXPECT_NE(found.error().message().find("category"), std::string::npos) << found.error().message();
  options.by = "category";
  options.top = 0;
  EXPECT_EQ(options.Validate().message(), "top must be between 1 and 100000 values, got 0");
}

// A broken plan directory is an error naming the file, the line and the value.
TEST_F(OpportunitiesTest, ABadPlanDirectoryNamesTheFileLineAndValue) {
  const std::string dir = WritePlan("bad-plan");
  ASSERT_TRUE(
      WriteFileAtomic(dir + "/campaigns/c2.csv",
                      "customer,holdout\n" + std::string(ds_->customers().crm_id(3)) + ",0\nnobody-like-this,0\n")
          .ok());
  auto unknown = ReadPlannedReach(dir, ds_->customers());
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message().find("campaigns/c2.csv:3: column customer: 'nobody-like-this' is not a customer"),
            std::string::npos)
      << unknown.error().message();
  ASSERT_TRUE(WriteFileAtomic(dir + "/campaigns/c2.csv",
                              "customer,holdout\n" + std::string(ds_->customers().crm_id(3)) + ",yes\n")
                  .ok());
  auto holdout = ReadPlannedReach(dir, ds_->customers());
  ASSERT_FALSE(holdout.has_value());
  EXPECT_NE(holdout.error().message().find("c2.csv:2: column holdout: expected 0 or 1, found 'yes'"), std::string::npos)
      << holdout.error().message();
  ASSERT_TRUE(WriteFileAtomic(dir + "/campaigns/c2.csv", "customer\n1\n").ok());
  auto column = ReadPlannedReach(dir, ds_->customers());
  ASSERT_FALSE(column.has_value());
  EXPECT_NE(column.error().message().find("lacks the column holdout"), std::string::npos) << column.error().message();
  ASSERT_TRUE(WriteFileAtomic(dir + "/summary.json", R"({"campaigns": [{"name": "x"}]})").ok());
  auto summary = ReadPlannedReach(dir, ds_->customers());
  ASSERT_FALSE(summary.has_value());
  EXPECT_NE(
      summary.error().message().find("summary.json: campaigns[0]: field \"cohort_id\" must be a non-empty string"),
      std::string::npos)
      << summary.error().message();
  auto missing = ReadPlannedReach(dir + "/nope", ds_->customers());
  EXPECT_FALSE(missing.has_value());
}

}  // namespace
}  // namespace cf::plan
