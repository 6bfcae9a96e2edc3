// `audience opportunities` as a user runs it: separate processes, real files, and the same
// expected buyers `audience score` gives for each value's offer.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/strings.h"
#include "tests/audience_cli.h"

namespace cf {
namespace {

class OpportunitiesCliTest : public AudienceCliTest {
 protected:
  void SetUp() override {
    AudienceCliTest::SetUp();
    const std::string gen = dir_ + "/gen";
    data_ = dir_ + "/ds";
    model_ = dir_ + "/model";
    Outcome g = Audience("generate --quiet --customers 1000 --products 150 --days 200 --seed 8 --out " + gen);
    ASSERT_EQ(g.code, 0) << g.err;
    Outcome i = Audience("ingest --quiet --events " + gen + "/purchases.csv --products " + gen +
                         "/products.csv --out " + data_);
    ASSERT_EQ(i.code, 0) << i.err;
    Outcome t = Audience("train --quiet --data " + data_ + " --horizon 30 --sample-rows 30000 --out " + model_);
    ASSERT_EQ(t.code, 0) << t.err;
  }
  std::string data_, model_;
};

TEST_F(OpportunitiesCliTest, RanksValuesAsScoreSeesThemAndReportsAPlansReach) {
  // A plan directory whose one campaign treats 200 buyers and holds 20 out (ids from the purchases file).
  std::vector<std::string> ids;
  const std::string purchases = ReadFile(dir_ + "/gen/purchases.csv").value();
  for (std::string_view line : Split(purchases, '\n')) {
    const std::string id(line.substr(0, line.find(',')));
    if (!line.empty() && !StartsWith(line, "customer_id") && (ids.empty() || ids.back() != id)) {
      ids.push_back(id);
    }
  }
  ASSERT_GE(ids.size(), 220u);
  std::string audience = "customer,holdout\n";
  for (size_t c = 0; c < 220; ++c) {
    audience += ids[c] + (c >= 200 ? ",1\n" : ",0\n");
  }
  std::filesystem::create_directories(dir_ + "/plan/campaigns");
  Write("plan/summary.json",
        R"({"campaigns": [{"name": "Grocery", "cohort_id": "g1", "offer": "department = \"GROCERY\""}]})");
  Write("plan/campaigns/g1.csv", audience);
  Outcome o = Audience("opportunities --data " + data_ + " --model " + model_ + " --by department --top 3 --plan-dir " +
                       dir_ + "/plan --json-out " + dir_ + "/opp.json");
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("values of department ranked by expected revenue within 30 days"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("the plan's 1 campaigns reach 200 customers"), std::string::npos) << o.out;
  const nlohmann::json j = nlohmann::json::parse(ReadFile(dir_ + "/opp.json").value());
  ASSERT_EQ(j["opportunities"].size(), 3u);
  EXPECT_EQ(j["plan"]["campaigns"][0]["treated"], 200);
  EXPECT_EQ(j["plan"]["campaigns"][0]["holdout"], 20);
  double previous = 1e300;
  for (const nlohmann::json& v : j["opportunities"]) {
    const double revenue = v["expected_revenue"].get<double>();
    EXPECT_LE(revenue, previous) << "best first";
    previous = revenue;
    // The value's offer as `audience score` scores it: the same expected buyers and revenue.
    std::string expression = v["offer"].get<std::string>();
    Outcome s = Audience("score --json --data " + data_ + " --model " + model_ + " --offer '" + expression +
                         "' --out " + dir_ + "/s.csv");
    ASSERT_EQ(s.code, 0) << s.err;
    const nlohmann::json score = nlohmann::json::parse(s.out);
    EXPECT_NEAR(v["expected_buyers"].get<double>(), score["expected_buyers"].get<double>(), 1e-6 * revenue);
    EXPECT_NEAR(revenue, score["expected_revenue"].get<double>(), 1e-6 * revenue);
    const double share = v["reached_share"].get<double>();
    EXPECT_GT(share, 0.0);
    EXPECT_LT(share, 1.0);
    EXPECT_NEAR(v["untapped_buyers"].get<double>(), v["expected_buyers"].get<double>() * (1 - share), 1e-6 * revenue);
    EXPECT_TRUE(v["buyer_growth"].is_number()) << v.dump();
  }
}

TEST_F(OpportunitiesCliTest, AtScoresAsScoreDoesAtTheSameTime) {
  Outcome o = Audience("opportunities --data " + data_ + " --model " + model_ +
                       " --by department --top 1 --at 2025-03-01 --json-out " + dir_ + "/at.json");
  ASSERT_EQ(o.code, 0) << o.err;
  const nlohmann::json j = nlohmann::json::parse(ReadFile(dir_ + "/at.json").value());
  EXPECT_EQ(j["as_of"], "2025-03-01T00:00:00Z");
  const nlohmann::json& v = j["opportunities"][0];
  Outcome s = Audience("score --json --data " + data_ + " --model " + model_ + " --at 2025-03-01 --offer '" +
                       v["offer"].get<std::string>() + "' --out " + dir_ + "/s.csv");
  ASSERT_EQ(s.code, 0) << s.err;
  const double buyers = nlohmann::json::parse(s.out)["expected_buyers"].get<double>();
  EXPECT_NEAR(v["expected_buyers"].get<double>(), buyers, 1e-6 * buyers);
  Outcome bad = Audience("opportunities --data " + data_ + " --model " + model_ + " --by department --at soon");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("--at: "), std::string::npos) << bad.err;
}

TEST_F(OpportunitiesCliTest, ErrorsNameTheFlagAndWhatIsValid) {
  Outcome by = Audience("opportunities --data " + data_ + " --model " + model_ + " --by colour");
  EXPECT_EQ(by.code, 1);
  EXPECT_NE(by.err.find("audience opportunities: --by: 'colour' is not a product attribute of the catalog; expected "
                        "one of "),
            std::string::npos)
      << by.err;
  EXPECT_NE(by.err.find("department"), std::string::npos) << by.err;
  Outcome horizon = Audience("opportunities --data " + data_ + " --model " + model_ + " --by category --horizon 14");
  EXPECT_EQ(horizon.code, 1);
  EXPECT_NE(horizon.err.find("--horizon 14: the model " + model_ + " predicts purchases within 30 days"),
            std::string::npos)
      << horizon.err;
  Outcome plan = Audience("opportunities --data " + data_ + " --model " + model_ + " --by category --plan-dir " + dir_ +
                          "/no-plan");
  EXPECT_EQ(plan.code, 1);
  EXPECT_NE(plan.err.find("--plan-dir: "), std::string::npos) << plan.err;
  EXPECT_NE(plan.err.find("no-plan/summary.json"), std::string::npos) << plan.err;
}

}  // namespace
}  // namespace cf
