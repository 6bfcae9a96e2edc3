// The simulator against the generator's model: the continuation is the generator's, messages add
// purchases of the offer only in their window, and the truth is what the messages cause.
#include "data/simulate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "data/generator.h"

namespace cf::data {
namespace {

struct Row {
  uint64_t customer;
  int64_t day;
  uint32_t product;  // index
  double revenue;
  std::string line;  // without time, channel and store: what messages must not move
};

std::vector<Row> ReadPurchases(const std::string& path) {
  std::vector<Row> rows;
  Result<std::string> text = ReadFile(path);
  EXPECT_TRUE(text.has_value());
  std::vector<std::string_view> lines = Split(*text, '\n');
  EXPECT_EQ(lines.front(), "customer_id,time,product_id,quantity,revenue,channel,store_id");
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    std::vector<std::string_view> f = Split(lines[i], ',');
    EXPECT_EQ(f.size(), 7U) << lines[i];
    Row r;
    r.customer = std::stoull(std::string(f[0]));
    r.day = *ParseIsoTime(std::string(f[1].substr(0, 10))) / kSecondsPerDay;
    r.product = static_cast<uint32_t>(std::stoul(std::string(f[2])) - 1);
    r.revenue = std::stod(std::string(f[4]));
    r.line = std::string(f[0]) + "," + std::string(f[1].substr(0, 10)) + "," + std::string(f[2]) + "," +
             std::string(f[3]) + "," + std::string(f[4]);
    rows.push_back(std::move(r));
  }
  return rows;
}

class SimulateTest : public ::testing::Test {
 protected:
  // A generated dataset of `customers` customers and `days` days, opened for simulation.
  void Make(uint64_t customers, int32_t days, uint64_t seed = 11) {
    GeneratorOptions o;
    o.customers = customers;
    o.products = 120;
    o.days = days;
    o.seed = seed;
    o.truth_customers = 0;
    o.progress = false;
    o.out = dir_.path() + "/gen";
    ASSERT_TRUE(Generate(o).has_value());
    Result<std::unique_ptr<GeneratedData>> data = GeneratedData::Open(o.out);
    ASSERT_TRUE(data.has_value()) << data.error().ToString();
    data_ = std::move(*data);
  }

  // A campaign promoting every product whose `attribute` is `value`.
  SimulatedCampaign Campaign(const std::string& name, const std::string& attribute, const std::string& value) {
    SimulatedCampaign c;
    c.name = name;
    const Attribute* a = data_->catalog().FindAttribute(attribute);
    EXPECT_NE(a, nullptr);
    for (uint32_t p = 0; p < data_->catalog().size(); ++p) c.offer.push_back(a->value(p) == value ? 1 : 0);
    return c;
  }

  // The most common value of `attribute` among products (an offer with many buyers).
  std::string Top(const std::string& attribute) {
    const Attribute* a = data_->catalog().FindAttribute(attribute);
    std::map<std::string, int> n;
    for (uint32_t p = 0; p < data_->catalog().size(); ++p) ++n[std::string(a->value(p))];
    std::string best;
    for (const auto& [v, count] : n) {
      if (best.empty() || count > n[best]) best = v;
    }
    return best;
  }

  // Every `stride`-th customer gets campaign `k` on day `first` for `window` days.
  std::vector<Message> Messages(uint32_t k, int64_t first, int64_t window, uint64_t stride, uint64_t offset = 0) {
    std::vector<Message> m;
    for (uint64_t c = offset; c < data_->customers(); c += stride) m.push_back(Message{c, k, first, first + window});
    return m;
  }

  Result<SimulateReport> Run(const std::vector<SimulatedCampaign>& campaigns, const std::vector<Message>& messages,
                             double effect, const std::string& out, uint64_t seed = 1, int threads = 2, int days = 21) {
    SimulateOptions o;
    o.days = days;
    o.treatment_effect = effect;
    o.seed = seed;
    o.out = dir_.path() + "/" + out;
    o.threads = threads;
    o.progress = false;
    return Simulate(*data_, campaigns, messages, o);
  }

  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  TempDirectory dir_{"simulate-test"};
  std::unique_ptr<GeneratedData> data_;
};

TEST_F(SimulateTest, EffectOneCausesNothing) {
  Make(2000, 90);
  const std::vector<SimulatedCampaign> campaigns = {Campaign("a", "category", Top("category"))};
  Result<SimulateReport> r = Run(campaigns, Messages(0, data_->end_day() + 2, 14, 2), 1.0, "sim");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->campaigns[0].treated, 1000U);
  EXPECT_EQ(r->campaigns[0].true_incremental_buyers, 0.0);
  EXPECT_EQ(r->campaigns[0].true_incremental_revenue, 0.0);
  EXPECT_EQ(r->total.true_incremental_buyers, 0.0);
  EXPECT_EQ(r->extra_purchases, 0U);
  EXPECT_GT(r->campaigns[0].expected_buyers_untreated, 10.0);
  EXPECT_NE(ReadFile(Path("sim/truth.json"))->find("\"true_incremental_buyers\": 0.0"), std::string::npos);
}

TEST_F(SimulateTest, TruthGrowsWithTheEffect) {
  Make(2000, 90);
  const std::vector<SimulatedCampaign> campaigns = {Campaign("a", "category", Top("category"))};
  const std::vector<Message> messages = Messages(0, data_->end_day() + 1, 14, 1);
  double buyers = 0;
  double revenue = 0;
  for (double effect : {1.1, 1.3, 2.0, 4.0}) {
    Result<SimulateReport> r = Run(campaigns, messages, effect, "sim");
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_GT(r->campaigns[0].true_incremental_buyers, buyers) << effect;
    EXPECT_GT(r->campaigns[0].true_incremental_revenue, revenue) << effect;
    // A buyer can only be caused among those who would not have bought.
    EXPECT_LT(r->campaigns[0].true_incremental_buyers, 2000 - r->campaigns[0].expected_buyers_untreated);
    buyers = r->campaigns[0].true_incremental_buyers;
    revenue = r->campaigns[0].true_incremental_revenue;
  }
}

TEST_F(SimulateTest, SameInputsAndSeedGiveTheSameBytesWhateverTheThreads) {
  Make(3000, 60);
  const std::vector<SimulatedCampaign> campaigns = {Campaign("a", "category", Top("category")),
                                                    Campaign("b", "department", Top("department"))};
  std::vector<Message> messages = Messages(0, data_->end_day(), 14, 3);
  for (const Message& m : Messages(1, data_->end_day() + 5, 3, 4)) messages.push_back(m);
  ASSERT_TRUE(Run(campaigns, messages, 1.5, "one", 7, 1).has_value());
  ASSERT_TRUE(Run(campaigns, messages, 1.5, "two", 7, 2).has_value());
  ASSERT_TRUE(Run(campaigns, messages, 1.5, "three", 7, 3).has_value());
  ASSERT_TRUE(Run(campaigns, messages, 1.5, "other", 8, 2).has_value());
  for (const char* file : {"purchases.csv", "truth.json"}) {
    const std::string one = *ReadFile(Path(std::string("one/") + file));
    EXPECT_EQ(one, *ReadFile(Path(std::string("two/") + file))) << file;
    EXPECT_EQ(one, *ReadFile(Path(std::string("three/") + file))) << file;
  }
  EXPECT_NE(*ReadFile(Path("one/purchases.csv")), *ReadFile(Path("other/purchases.csv")));
}

// Messages only add purchases of the offer's products, by treated customers, within their window.
TEST_F(SimulateTest, MessagesAddOfferPurchasesInTheWindowOnly) {
  Make(3000, 90);
  const std::vector<SimulatedCampaign> campaigns = {Campaign("a", "category", Top("category"))};
  const int64_t first = data_->end_day() + 4;
  const std::vector<Message> messages = Messages(0, first, 7, 2);
  ASSERT_TRUE(Run(campaigns, messages, 1.0, "base").has_value());
  Result<SimulateReport> treated = Run(campaigns, messages, 3.0, "treated");
  ASSERT_TRUE(treated.has_value());
  std::multiset<std::string> base;
  for (const Row& r : ReadPurchases(Path("base/purchases.csv"))) base.insert(r.line);
  uint64_t added = 0;
  for (const Row& r : ReadPurchases(Path("treated/purchases.csv"))) {
    auto it = base.find(r.line);
    if (it != base.end()) {
      base.erase(it);
      continue;
    }
    ++added;
    EXPECT_EQ((r.customer - 1) % 2, 0U) << r.line << ": not a treated customer";
    EXPECT_NE(campaigns[0].offer[r.product], 0) << r.line << ": not an offer product";
    EXPECT_GE(r.day, first) << r.line;
    EXPECT_LT(r.day, first + 7) << r.line;
  }
  EXPECT_TRUE(base.empty()) << base.size() << " purchases of the world without messages are missing";
  EXPECT_EQ(added, treated->extra_purchases);
  EXPECT_GT(added, 50U);
}

// The truth is an expectation: against what the messages caused in realized purchases, over several
// seeds. The same seed gives the same generator purchases in every run, so the difference between a run
// with a campaign's messages and one without them is what they caused. The campaigns overlap in time and
// in products (a category within its department), so each one's truth holds the other's messages fixed.
TEST_F(SimulateTest, TruthMatchesWhatTheMessagesCausedWithinNoise) {
  Make(8000, 120);
  const std::string category = Top("category");
  std::string department;
  for (uint32_t p = 0; p < data_->catalog().size(); ++p) {
    if (data_->catalog().FindAttribute("category")->value(p) == category) {
      department = std::string(data_->catalog().FindAttribute("department")->value(p));
    }
  }
  const std::vector<SimulatedCampaign> campaigns = {Campaign("cat", "category", category),
                                                    Campaign("dep", "department", department)};
  const int64_t first = data_->end_day() + 3;
  const std::vector<Message> cat = Messages(0, first, 14, 2);
  const std::vector<Message> dep = Messages(1, first + 5, 3, 3);
  std::vector<Message> both = cat;
  both.insert(both.end(), dep.begin(), dep.end());

  // Buyers and revenue of campaign k's offer among its treated customers in its window.
  auto realized = [&](const std::string& dir, size_t k) {
    const std::vector<Row> rows = ReadPurchases(Path(dir + "/purchases.csv"));
    std::set<uint64_t> buyers;
    double revenue = 0;
    std::map<uint64_t, const Message*> window;
    for (const Message& m : both) {
      if (m.campaign == k) window[m.customer + 1] = &m;
    }
    for (const Row& r : rows) {
      auto it = window.find(r.customer);
      if (it != window.end() && r.day >= it->second->first_day && r.day < it->second->end_day &&
          campaigns[k].offer[r.product] != 0) {
        buyers.insert(r.customer);
        revenue += r.revenue;
      }
    }
    return std::pair{static_cast<double>(buyers.size()), revenue};
  };
  std::vector<double> truth_buyers(2, 0), truth_revenue(2, 0), caused_buyers(2, 0), caused_revenue(2, 0);
  std::vector<double> untreated(2, 0), realized_untreated(2, 0);
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    Result<SimulateReport> none = Run(campaigns, both, 1.0, "none", seed);
    Result<SimulateReport> all = Run(campaigns, both, 2.0, "both", seed);
    ASSERT_TRUE(none.has_value() && all.has_value());
    ASSERT_TRUE(Run(campaigns, dep, 2.0, "without0", seed).has_value());
    ASSERT_TRUE(Run(campaigns, cat, 2.0, "without1", seed).has_value());
    for (size_t k = 0; k < 2; ++k) {
      truth_buyers[k] += all->campaigns[k].true_incremental_buyers;
      truth_revenue[k] += all->campaigns[k].true_incremental_revenue;
      untreated[k] += none->campaigns[k].expected_buyers_untreated;
      const auto [buyers, revenue] = realized("both", k);
      const auto [buyers_without, revenue_without] = realized("without" + std::to_string(k), k);
      caused_buyers[k] += buyers - buyers_without;
      caused_revenue[k] += revenue - revenue_without;
      realized_untreated[k] += realized("none", k).first;
    }
  }
  for (size_t k = 0; k < 2; ++k) {
    SCOPED_TRACE(campaigns[k].name);
    EXPECT_GT(truth_buyers[k], 20);
    // Caused buyers are a sum of Bernoullis with these means (plus, for "cat", whose run without it
    // draws the other campaign's purchases in another order, that noise): a few of their SD bound them.
    EXPECT_NEAR(caused_buyers[k], truth_buyers[k], 5 * std::sqrt(truth_buyers[k]) + 2);
    EXPECT_NEAR(caused_revenue[k], truth_revenue[k], 0.25 * truth_revenue[k]);
    // The world without messages bought as the truth expected.
    EXPECT_NEAR(realized_untreated[k], untreated[k], 4 * std::sqrt(untreated[k]) + 2);
  }
}

// The continuation is the generator's own: its purchase rate and category mix are those of a longer
// generated history over the same days, and close to the history's last weeks.
TEST_F(SimulateTest, ContinuationIsWhatTheGeneratorWouldHaveWritten) {
  constexpr int32_t kHistory = 150;
  constexpr int32_t kDays = 28;
  GeneratorOptions longer;
  longer.customers = 6000;
  longer.products = 120;
  longer.days = kHistory + kDays;
  longer.seed = 11;
  longer.truth_customers = 0;
  longer.progress = false;
  longer.out = Path("longer");
  ASSERT_TRUE(Generate(longer).has_value());
  Make(6000, kHistory);
  ASSERT_TRUE(Run({}, {}, 1.0, "sim", 1, 2, kDays).has_value());

  const Attribute* category = data_->catalog().FindAttribute("category");
  auto profile = [&](const std::vector<Row>& rows, int64_t from, int64_t to) {
    std::map<std::string, double> mix;
    double n = 0;
    for (const Row& r : rows) {
      if (r.day >= from && r.day < to) {
        mix[std::string(category->value(r.product))] += 1;
        n += 1;
      }
    }
    for (auto& [name, count] : mix) count /= n;
    return std::pair{n / static_cast<double>(to - from), mix};
  };
  const int64_t end = data_->end_day();
  const auto [sim_rate, sim_mix] = profile(ReadPurchases(Path("sim/purchases.csv")), end, end + kDays);
  const auto [long_rate, long_mix] = profile(ReadPurchases(Path("longer/purchases.csv")), end, end + kDays);
  const auto [last_rate, last_mix] = profile(ReadPurchases(Path("gen/purchases.csv")), end - kDays, end);
  ASSERT_GT(sim_rate, 100);
  // Purchases per day: heavy buyers make the noise larger than Poisson's; 6% is several standard errors.
  EXPECT_NEAR(sim_rate / long_rate, 1.0, 0.06);
  EXPECT_NEAR(sim_rate / last_rate, 1.0, 0.08);
  for (const auto& [name, share] : long_mix) {
    SCOPED_TRACE(name);
    const double se = std::sqrt(share * (1 - share) / (sim_rate * kDays));
    EXPECT_NEAR(sim_mix.contains(name) ? sim_mix.at(name) : 0.0, share, 5 * se + 0.01);
    EXPECT_NEAR(last_mix.contains(name) ? last_mix.at(name) : 0.0, share, 5 * se + 0.015);
  }
}

TEST_F(SimulateTest, ErrorsNameTheInput) {
  Make(500, 40);
  const std::vector<SimulatedCampaign> campaigns = {Campaign("Spring", "category", Top("category"))};
  Result<SimulateReport> early = Run(campaigns, Messages(0, data_->end_day() - 1, 14, 5), 1.3, "sim");
  ASSERT_FALSE(early.has_value());
  EXPECT_NE(early.error().message().find("campaign 'Spring'"), std::string::npos) << early.error().message();
  EXPECT_NE(early.error().message().find("does not start within the simulated days"), std::string::npos);
  Result<SimulateReport> late = Run(campaigns, Messages(0, data_->end_day() + 21, 14, 5), 1.3, "sim");
  ASSERT_FALSE(late.has_value());
  Result<SimulateReport> effect = Run(campaigns, {}, 0.5, "sim");
  ASSERT_FALSE(effect.has_value());
  EXPECT_NE(effect.error().message().find("treatment_effect"), std::string::npos);
  EXPECT_FALSE(PathExists(Path("sim")));

  Result<std::unique_ptr<GeneratedData>> none = GeneratedData::Open(Path("nowhere"));
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message().find("has no truth.json"), std::string::npos) << none.error().message();
  ASSERT_TRUE(CreateDirectories(Path("bad")).ok());
  ASSERT_TRUE(WriteFileAtomic(Path("bad/truth.json"), "{\"generator\": ").ok());
  Result<std::unique_ptr<GeneratedData>> bad = GeneratedData::Open(Path("bad"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("truth.json: not JSON"), std::string::npos) << bad.error().message();

  // The generated dataset is never taken for an output to replace.
  Result<SimulateReport> onto = Run(campaigns, {}, 1.3, "gen");
  ASSERT_FALSE(onto.has_value());
  EXPECT_NE(onto.error().message().find("not a simulate output"), std::string::npos);
  EXPECT_TRUE(PathExists(Path("gen/purchases.csv")));
}

}  // namespace
}  // namespace cf::data
