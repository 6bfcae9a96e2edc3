#include "model/top_offers.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "base/files.h"
#include "model/test_data.h"

namespace cf::model {
namespace {

TEST(ParseOffersTest, ReadsNamesAndExpressionsInOrder) {
  auto offers = ParseOffers(R"([{"name": "Drinks", "offer": "category = \"SOFT DRINKS\""},
                                {"offer": "any", "name": "Anything"}])",
                            "offers.json");
  ASSERT_TRUE(offers.has_value()) << offers.error().ToString();
  ASSERT_EQ(offers->size(), 2u);
  EXPECT_EQ((*offers)[0].name, "Drinks");
  EXPECT_EQ((*offers)[0].expression, "category = \"SOFT DRINKS\"");
  EXPECT_EQ((*offers)[1].name, "Anything");
  EXPECT_EQ((*offers)[1].expression, "any");
}

// Each bad file is rejected with a message naming the file and what is wrong (and the offer).
TEST(ParseOffersTest, ErrorsNameTheFileAndTheOffer) {
  std::string too_many = "[";
  for (size_t i = 0; i <= kMaxOffers; ++i) {
    too_many += i > 0 ? "," : "";
    too_many += fmt::format(R"({{"name": "o{}", "offer": "any"}})", i);
  }
  too_many += "]";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[{\"name\": \"a\"", "not valid JSON"},
      {"{\"name\": \"a\", \"offer\": \"any\"}", "expected a JSON array of offers"},
      {"[]", "holds 0 offers; expected 1 to 25"},
      {too_many, "holds 26 offers; expected 1 to 25"},
      {"[\"any\"]", "offer 1: expected an object"},
      {R"([{"name": "A", "offer": "any"}, {"name": "B"}])", "offer 2 ('B'): field \"offer\" must be an offer"},
      {R"([{"name": "", "offer": "any"}])", "offer 1: field \"name\" must be a non-empty string"},
      {R"([{"name": 3, "offer": "any"}])", "offer 1: field \"name\" must be a non-empty string"},
      {R"([{"name": "A", "offer": "any"}, {"name": "A", "offer": "any"}])",
       "offer 2 ('A'): the name is used by an earlier offer"},
      {R"([{"name": "A", "ofer": "any"}])", "offer 1 ('A'): unknown field 'ofer'"},
  };
  for (const auto& [json, want] : cases) {
    auto offers = ParseOffers(json, "my-offers.json");
    ASSERT_FALSE(offers.has_value()) << json;
    EXPECT_NE(offers.error().message().find("my-offers.json: "), std::string::npos) << offers.error().message();
    EXPECT_NE(offers.error().message().find(want), std::string::npos)
        << "for " << json << "\n got: " << offers.error().message() << "\nwant: " << want;
  }
}

TEST(TopOffersOptionsTest, ValidateNamesTheField) {
  TopOffersOptions o;
  EXPECT_TRUE(o.Validate().ok());
  o.top = 0;
  EXPECT_NE(o.Validate().message().find("top must be between 1 and 25"), std::string::npos);
  o.top = 26;
  EXPECT_FALSE(o.Validate().ok());
  o.top = 25;
  EXPECT_TRUE(o.Validate().ok());
  o.min_probability = 1.5;
  EXPECT_NE(o.Validate().message().find("min_probability must be a probability in [0, 1], got 1.5"), std::string::npos);
  o.min_probability = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(o.Validate().ok());
}

// One small generated dataset and model for the tests below (training is the slow part).
class TopOffersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new TempDirectory("model-top-offers");
    ASSERT_TRUE(scratch_->ok()) << scratch_->status().ToString();
    data::GeneratorOptions g;
    g.customers = 1200;
    g.products = 200;
    g.days = 200;
    g.seed = 5;
    ds_ = testing::GenerateAndIngest(g, scratch_->path()).release();
    ASSERT_NE(ds_, nullptr);
    log_ = new EventLog(EventLog::FromDataset(*ds_));
    TrainOptions o;
    o.depths = {3};
    o.max_rounds = 60;
    o.eval_every = 20;
    o.max_rows = 40000;
    auto model = UniversalModel::Train(HistoryView(*log_, log_->last_time() + 1), ChooseLevels(ds_->catalog()),
                                       RunOptions{}, o, nullptr);
    ASSERT_TRUE(model.has_value()) << model.error().ToString();
    model_ = model->release();
  }
  static void TearDownTestSuite() {
    delete model_;
    delete log_;
    delete ds_;
    delete scratch_;
  }

  std::vector<offer::ProductSet> Offers() const {
    auto offers = ParseOffers(R"([{"name": "grocery", "offer": "department = \"GROCERY\""},
                                  {"name": "produce", "offer": "department = \"PRODUCE\""},
                                  {"name": "cheap", "offer": "price < 3"},
                                  {"name": "anything", "offer": "any"},
                                  {"name": "same as grocery", "offer": "department = \"GROCERY\""}])",
                              "offers.json");
    EXPECT_TRUE(offers.has_value()) << offers.error().ToString();
    auto sets = CompileOffers(*offers, ds_->catalog(), "offers.json");
    EXPECT_TRUE(sets.has_value()) << sets.error().ToString();
    return *sets;
  }

  std::vector<uint32_t> AllCustomers() const {
    std::vector<uint32_t> c(log_->num_customers());
    std::iota(c.begin(), c.end(), 0u);
    return c;
  }

  // The expected slots of customer i, from each offer scored on its own.
  std::vector<TopOffer> BruteForce(const std::vector<OfferScores>& scores, size_t i, const TopOffersOptions& o) const {
    std::vector<TopOffer> all;
    for (size_t k = 0; k < scores.size(); ++k) {
      const TopOffer t{static_cast<uint32_t>(k), scores[k].probability[i], scores[k].expected_revenue[i]};
      if (t.probability >= o.min_probability) {
        all.push_back(t);
      }
    }
    auto key = [&](const TopOffer& t) {
      return o.order == TopOffersOrder::kExpectedRevenue ? t.expected_revenue : t.probability;
    };
    std::stable_sort(all.begin(), all.end(), [&](const TopOffer& a, const TopOffer& b) { return key(a) > key(b); });
    all.resize(std::min(all.size(), o.top));
    return all;
  }

  void ExpectSameAsBruteForce(const TopOffersOptions& o) const {
    const std::vector<offer::ProductSet> offers = Offers();
    const std::vector<uint32_t> customers = AllCustomers();
    const HistoryView history(*log_, log_->last_time() + 1);
    std::vector<OfferScores> scores;
    for (const offer::ProductSet& offer : offers) {
      auto s = model_->Score(history, offer, customers);
      ASSERT_TRUE(s.has_value()) << s.error().ToString();
      scores.push_back(*std::move(s));
    }
    auto top = ComputeTopOffers(*model_, history, offers, customers, o);
    ASSERT_TRUE(top.has_value()) << top.error().ToString();
    ASSERT_EQ(top->count.size(), customers.size());
    size_t partial = 0;
    for (size_t i = 0; i < customers.size(); ++i) {
      const std::vector<TopOffer> want = BruteForce(scores, i, o);
      const std::span<const TopOffer> got = top->Of(i);
      ASSERT_EQ(got.size(), want.size()) << "customer " << i;
      partial += got.size() < o.top ? 1 : 0;
      for (size_t k = 0; k < want.size(); ++k) {
        EXPECT_EQ(got[k].offer, want[k].offer) << "customer " << i << " slot " << k;
        EXPECT_EQ(got[k].probability, want[k].probability);
        EXPECT_EQ(got[k].expected_revenue, want[k].expected_revenue);
      }
    }
    if (o.min_probability > 0) {
      // The threshold must actually bite for the test to mean something.
      EXPECT_GT(partial, 0u);
      EXPECT_LT(partial, customers.size());
    }
  }

  static TempDirectory* scratch_;
  static data::Dataset* ds_;
  static EventLog* log_;
  static UniversalModel* model_;
};

TempDirectory* TopOffersTest::scratch_ = nullptr;
data::Dataset* TopOffersTest::ds_ = nullptr;
EventLog* TopOffersTest::log_ = nullptr;
UniversalModel* TopOffersTest::model_ = nullptr;

TEST_F(TopOffersTest, ChoosesEachCustomersBestOffersByExpectedRevenue) {
  TopOffersOptions o;
  o.top = 3;
  ExpectSameAsBruteForce(o);
}

TEST_F(TopOffersTest, ChoosesByProbabilityWhenAsked) {
  TopOffersOptions o;
  o.top = 2;
  o.order = TopOffersOrder::kProbability;
  ExpectSameAsBruteForce(o);
}

TEST_F(TopOffersTest, LeavesOutOffersBelowTheMinimumProbability) {
  const std::vector<uint32_t> customers = AllCustomers();
  const HistoryView history(*log_, log_->last_time() + 1);
  // A threshold between the customers' probabilities of the rarest offer: some pass, some do not.
  auto cheap = model_->Score(history, Offers()[2], customers);
  ASSERT_TRUE(cheap.has_value());
  std::vector<double> p = cheap->probability;
  std::nth_element(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(p.size() / 2), p.end());
  TopOffersOptions o;
  o.top = 5;
  o.min_probability = p[p.size() / 2];
  ExpectSameAsBruteForce(o);
}

TEST_F(TopOffersTest, IdenticalOffersTieInFileOrder) {
  TopOffersOptions o;
  o.top = 5;
  const std::vector<offer::ProductSet> offers = Offers();
  const std::vector<uint32_t> customers = AllCustomers();
  auto top = ComputeTopOffers(*model_, HistoryView(*log_, log_->last_time() + 1), offers, customers, o);
  ASSERT_TRUE(top.has_value());
  for (size_t i = 0; i < customers.size(); ++i) {
    const std::span<const TopOffer> slots = top->Of(i);
    ASSERT_EQ(slots.size(), offers.size());  // no threshold: every offer is ranked
    size_t grocery = 0, copy = 0;
    for (size_t k = 0; k < slots.size(); ++k) {
      grocery = slots[k].offer == 0 ? k : grocery;
      copy = slots[k].offer == 4 ? k : copy;
    }
    EXPECT_EQ(copy, grocery + 1) << "customer " << i;
  }
}

TEST_F(TopOffersTest, CompileErrorsNameTheOffer) {
  auto offers =
      ParseOffers(R"([{"name": "ok", "offer": "any"}, {"name": "typo", "offer": "departmnt = \"X\""}])", "offers.json");
  ASSERT_TRUE(offers.has_value());
  auto sets = CompileOffers(*offers, ds_->catalog(), "offers.json");
  ASSERT_FALSE(sets.has_value());
  EXPECT_NE(sets.error().message().find("offers.json: offer 2 ('typo')"), std::string::npos) << sets.error().message();
  EXPECT_NE(sets.error().message().find("departmnt"), std::string::npos) << sets.error().message();
}

TEST_F(TopOffersTest, RejectsInvalidOptions) {
  TopOffersOptions o;
  o.top = 0;
  auto top = ComputeTopOffers(*model_, HistoryView(*log_, log_->last_time() + 1), Offers(), AllCustomers(), o);
  ASSERT_FALSE(top.has_value());
  EXPECT_NE(top.error().message().find("top must be between"), std::string::npos);
}

}  // namespace
}  // namespace cf::model
