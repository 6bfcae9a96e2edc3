// `audience simulate` as a user runs it: generate, a plan directory and a sends feed written by hand
// (as `audience plan` and `engage campaign sends` write them), simulate, then the output checked
// against its truth with the report's estimator (treated against holdout).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "tests/audience_cli.h"

namespace cf {
namespace {

using nlohmann::json;

class SimulateCliTest : public AudienceCliTest {
 protected:
  struct Customer {
    std::string id, external_id, device_id;
    std::vector<std::string> aliases;  // label:name
  };

  void SetUp() override {
    AudienceCliTest::SetUp();
    Outcome gen =
        Audience("generate --quiet --customers 6000 --products 100 --days 120 --seed 9 --out " + dir_ + "/raw");
    ASSERT_EQ(gen.code, 0) << gen.err;
    const std::string customers = ReadFile(dir_ + "/raw/customers.csv").value();
    for (std::string_view line : Split(customers, '\n')) {
      if (line.empty() || line.starts_with("customer_id")) continue;
      const std::vector<std::string> f = CsvFields(line);
      Customer c{f[0], f[1], f[2], {}};
      for (std::string_view a : Split(f[3], ';')) {
        if (!a.empty()) c.aliases.emplace_back(a);
      }
      customers_.push_back(c);
    }
    std::map<std::string, int> per_category;
    const std::string products = ReadFile(dir_ + "/raw/products.csv").value();
    for (std::string_view line : Split(products, '\n')) {
      if (line.empty() || line.starts_with("product_id")) continue;
      const std::vector<std::string> f = CsvFields(line);
      category_of_[f[0]] = f[2];
      ++per_category[f[2]];
    }
    for (const auto& [name, n] : per_category) {
      if (category_.empty() || n > per_category[category_]) category_ = name;
    }
  }

  // Customers whose id is a multiple of 4 are held out; the others get a `sent` record naming them by
  // the identifier engage would (external id, else their aliases, else the device).
  void WritePlan(const std::string& send_date, const std::string& offer, const std::string& plan = "plan") {
    const std::string dir = dir_ + "/" + plan;
    ASSERT_TRUE(CreateDirectories(dir + "/campaigns").ok());
    json summary = {{"plan", "spring"},
                    {"as_of", "2025-04-30T23:59:59Z"},
                    {"horizon_days", 30},
                    {"campaigns",
                     {{{"name", "Spring offer"},
                       {"cohort_id", "spring-1"},
                       {"offer", offer},
                       {"channel", "email"},
                       {"send_date", send_date}}}}};
    ASSERT_TRUE(WriteFileAtomic(dir + "/summary.json", summary.dump()).ok());
    std::string csv = "customer,external_id,alias,device_id,probability,expected_revenue,decile,holdout\n";
    std::string sends;
    for (const Customer& c : customers_) {
      const bool holdout = std::stoi(c.id) % 4 == 0;
      csv += c.id + "," + c.external_id + "," + (c.aliases.empty() ? "" : c.aliases.front()) + "," + c.device_id +
             ",0.1,1.0,5," + (holdout ? "1" : "0") + "\n";
      json r = {{"id", "s" + c.id},
                {"campaign_name", "Spring offer"},
                {"campaign_id", "c1"},
                {"dispatch_id", "d1"},
                {"channel", "email"},
                {"time", 1746230400},
                {"outcome", holdout ? "control" : "sent"}};
      r["external_user_id"] = c.external_id.empty() ? json(nullptr) : json(c.external_id);
      r["user_id"] = r["external_user_id"];
      r["device_id"] =
          c.device_id.empty() || !c.external_id.empty() || !c.aliases.empty() ? json(nullptr) : json(c.device_id);
      json aliases = json::array();
      if (c.external_id.empty()) {
        for (const std::string& a : c.aliases) {
          aliases.push_back({{"alias_label", a.substr(0, a.find(':'))}, {"alias_name", a.substr(a.find(':') + 1)}});
        }
      }
      r["user_aliases"] = aliases;
      sends += r.dump() + "\n";
      if (!holdout) ++sent_;
    }
    // Not treated: a capped record, and a campaign the plan does not have.
    sends += R"({"campaign_name":"Spring offer","time":1746230400,"outcome":"capped","external_user_id":"u_x"})"
             "\n";
    sends += R"({"campaign_name":"Other","time":1746230400,"outcome":"sent","device_id":"d"})"
             "\n";
    ASSERT_TRUE(WriteFileAtomic(dir + "/campaigns/spring-1.csv", csv).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/sends.jsonl", sends).ok());
  }

  Outcome Simulate(const std::string& out, const std::string& extra = "", const std::string& plan = "plan") {
    return Audience("simulate --quiet --raw " + dir_ + "/raw --plan-dir " + dir_ + "/" + plan + " --sends " + dir_ +
                    "/sends.jsonl --days 21 --seed 3 --out " + dir_ + "/" + out + " " + extra);
  }

  std::vector<Customer> customers_;
  std::map<std::string, std::string> category_of_;  // product_id -> category
  std::string category_;                            // the category with the most products
  uint64_t sent_ = 0;
};

TEST_F(SimulateCliTest, OutputAgreesWithItsTruthByTheReportsEstimator) {
  WritePlan("2025-05-03", "category = \"" + category_ + "\"");
  Outcome sim = Simulate("sim", "--treatment-effect 2.5");
  ASSERT_EQ(sim.code, 0) << sim.err;
  EXPECT_NE(sim.err.find("campaign 'Other' is not in the plan"), std::string::npos) << sim.err;
  const json truth = json::parse(ReadFile(dir_ + "/sim/truth.json").value());
  ASSERT_EQ(truth["campaigns"].size(), 1U);
  const json& c = truth["campaigns"][0];
  EXPECT_EQ(c["name"], "Spring offer");
  EXPECT_EQ(c["treated"].get<uint64_t>(), sent_);
  EXPECT_EQ(truth["total"]["treated"].get<uint64_t>(), sent_);
  const double true_buyers = c["true_incremental_buyers"].get<double>();
  const double true_revenue = c["true_incremental_revenue"].get<double>();
  EXPECT_GT(true_buyers, 30);
  EXPECT_GT(true_revenue, 0);

  // Buyers of the offer in [send date, + 14 days), treated vs holdout.
  const int64_t first = ParseIsoTime("2025-05-03").value() / kSecondsPerDay;
  std::set<std::string> buyers;
  std::map<std::string, double> revenue;
  const std::string purchases = ReadFile(dir_ + "/sim/purchases.csv").value();
  ASSERT_TRUE(purchases.starts_with("customer_id,time,product_id,quantity,revenue,channel,store_id\n"));
  for (std::string_view line : Split(purchases, '\n')) {
    if (line.empty() || line.starts_with("customer_id")) continue;
    const std::vector<std::string> f = CsvFields(line);
    const int64_t day = ParseIsoTime(f[1]).value() / kSecondsPerDay;
    ASSERT_GE(day, ParseIsoTime("2025-05-01").value() / kSecondsPerDay) << line;
    ASSERT_LT(day, ParseIsoTime("2025-05-22").value() / kSecondsPerDay) << line;
    if (day >= first && day < first + 14 && category_of_[f[2]] == category_) {
      buyers.insert(f[0]);
      revenue[f[0]] += std::stod(f[4]);
    }
  }
  double n[2] = {0, 0}, b[2] = {0, 0}, r[2] = {0, 0}, r2[2] = {0, 0};
  for (const Customer& cu : customers_) {
    const int g = std::stoi(cu.id) % 4 == 0 ? 1 : 0;
    n[g] += 1;
    b[g] += buyers.contains(cu.id) ? 1 : 0;
    const double v = revenue.contains(cu.id) ? revenue[cu.id] : 0;
    r[g] += v;
    r2[g] += v * v;
  }
  const double p1 = b[0] / n[0], p0 = b[1] / n[1];
  const double estimate = (p1 - p0) * n[0];
  const double se = std::sqrt(p1 * (1 - p1) / n[0] + p0 * (1 - p0) / n[1]) * n[0];
  EXPECT_NEAR(estimate, true_buyers, 4 * se) << "se " << se;
  // Realized treated buyers against those expected without the message: only the treated group's noise.
  const double untreated = c["expected_buyers_untreated"].get<double>();
  EXPECT_NEAR(b[0] - untreated, true_buyers, 4 * std::sqrt(b[0]) + 2);
  const double m1 = r[0] / n[0], m0 = r[1] / n[1];
  const double v1 = r2[0] / n[0] - m1 * m1, v0 = r2[1] / n[1] - m0 * m0;
  EXPECT_NEAR((m1 - m0) * n[0], true_revenue, 4 * std::sqrt(v1 / n[0] + v0 / n[1]) * n[0]);

  // The generator's purchases format: ingest reads it with no flags.
  Outcome ing = Audience("ingest --quiet --events " + dir_ + "/sim/purchases.csv --products " + dir_ +
                         "/raw/products.csv --customers " + dir_ + "/raw/customers.csv --out " + dir_ + "/later");
  EXPECT_EQ(ing.code, 0) << ing.err;

  // Same inputs and seed: the same bytes; no effect: a truth of exactly zero.
  ASSERT_EQ(Simulate("again", "--treatment-effect 2.5").code, 0);
  EXPECT_EQ(ReadFile(dir_ + "/sim/purchases.csv").value(), ReadFile(dir_ + "/again/purchases.csv").value());
  EXPECT_EQ(ReadFile(dir_ + "/sim/truth.json").value(), ReadFile(dir_ + "/again/truth.json").value());
  ASSERT_EQ(Simulate("none", "--treatment-effect 1.0").code, 0);
  const json zero = json::parse(ReadFile(dir_ + "/none/truth.json").value());
  EXPECT_EQ(zero["campaigns"][0]["true_incremental_buyers"].get<double>(), 0.0);
  EXPECT_EQ(zero["campaigns"][0]["true_incremental_revenue"].get<double>(), 0.0);
  EXPECT_EQ(zero["total"]["true_incremental_buyers"].get<double>(), 0.0);
}

TEST_F(SimulateCliTest, ErrorsNameTheInput) {
  WritePlan("2025-05-03", "category = \"" + category_ + "\"");
  // A sends line that is not JSON, with its line number.
  std::string sends = ReadFile(dir_ + "/sends.jsonl").value();
  const size_t second = sends.find('\n') + 1;
  ASSERT_TRUE(
      WriteFileAtomic(dir_ + "/sends.jsonl", sends.substr(0, second) + "{not json\n" + sends.substr(second)).ok());
  Outcome bad = Simulate("sim");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("sends.jsonl: line 2: not JSON"), std::string::npos) << bad.err;
  EXPECT_FALSE(PathExists(dir_ + "/sim"));

  // A send date before the end of the history.
  WritePlan("2025-04-20", "category = \"" + category_ + "\"", "early");
  Outcome early = Simulate("sim", "", "early");
  EXPECT_EQ(early.code, 1);
  EXPECT_NE(early.err.find("campaign 'Spring offer': send_date 2025-04-20 is outside the simulated days "
                           "[2025-05-01, 2025-05-22)"),
            std::string::npos)
      << early.err;

  // An offer that matches no product.
  WritePlan("2025-05-03", "category = \"NO SUCH THING\"", "empty");
  Outcome empty = Simulate("sim", "", "empty");
  EXPECT_EQ(empty.code, 1);
  EXPECT_NE(empty.err.find("campaigns[0] ('Spring offer'): offer 'category = \"NO SUCH THING\"'"), std::string::npos)
      << empty.err;

  // A directory that `audience generate` did not write.
  ASSERT_TRUE(CreateDirectories(dir_ + "/notgen").ok());
  Outcome raw = Audience("simulate --quiet --raw " + dir_ + "/notgen --plan-dir " + dir_ + "/empty --sends " + dir_ +
                         "/sends.jsonl --out " + dir_ + "/sim");
  EXPECT_EQ(raw.code, 1);
  EXPECT_NE(raw.err.find("has no truth.json"), std::string::npos) << raw.err;

  // A plan made from another dataset: its first row's identifiers are customer 1's, but it says 2.
  WritePlan("2025-05-03", "category = \"" + category_ + "\"", "other");
  const std::string csv = ReadFile(dir_ + "/other/campaigns/spring-1.csv").value();
  const size_t row = csv.find('\n') + 1;
  ASSERT_EQ(csv.substr(row, 2), "1,");
  ASSERT_TRUE(
      WriteFileAtomic(dir_ + "/other/campaigns/spring-1.csv", csv.substr(0, row) + "2" + csv.substr(row + 1)).ok());
  Outcome other = Simulate("sim", "", "other");
  EXPECT_EQ(other.code, 1);
  EXPECT_NE(other.err.find("spring-1.csv: line 2: customer 2 has"), std::string::npos) << other.err;
  EXPECT_NE(other.err.find("the plan was not made from the dataset in --raw"), std::string::npos) << other.err;

  Outcome window = Simulate("sim", "--window email=0", "empty");
  EXPECT_EQ(window.code, 1);
  EXPECT_NE(window.err.find("--window: 'email=0'"), std::string::npos) << window.err;
}

}  // namespace
}  // namespace cf
