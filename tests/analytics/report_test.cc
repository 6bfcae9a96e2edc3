// `audience report` end to end on a small generated dataset: a hand-made plan directory, a
// sends file and later purchases written here, and every figure of the JSON checked against
// a count made here from the same files.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "analytics/stats.h"
#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "http/server.h"
#include "tests/audience_cli.h"

namespace cf {
namespace {

using nlohmann::json;

constexpr int64_t kDay = 86400;

struct RawCustomer {
  std::string id, external_id, device_id;
  std::vector<std::string> aliases;  // label:name
};

struct Purchase {
  std::string customer;
  int64_t time = 0;
  std::string product;
  double revenue = 0;
  bool online = false;
};

struct Campaign {
  std::string name, cohort_id, channel, send_date, offer_category;  // "" category = any
  int window_days = 0;
  int64_t start = 0;
  std::map<std::string, bool> plan;  // customer -> holdout
  std::map<std::string, double> probability;
  std::map<std::string, int> decile;
};

// What the test expects of one group, counted here.
struct Expected {
  int64_t customers = 0, buyers = 0;
  double revenue = 0, online = 0, offline = 0;
};

class ReportCliTest : public AudienceCliTest {
 protected:
  void SetUp() override {
    AudienceCliTest::SetUp();
    ds_ = GeneratedDataset();
    const std::string customers = ReadFile(dir_ + "/raw/customers.csv").value_or("");
    bool header = true;
    for (std::string_view line : Split(customers, '\n')) {
      if (line.empty()) continue;
      if (header) {
        header = false;
        continue;
      }
      const std::vector<std::string> f = CsvFields(line);
      RawCustomer c{f[0], f[1], f[2], {}};
      for (std::string_view a : Split(f[3], ';')) {
        if (!a.empty()) c.aliases.emplace_back(a);
      }
      customers_.push_back(c);
    }
    header = true;
    const std::string products = ReadFile(dir_ + "/raw/products.csv").value_or("");
    for (std::string_view line : Split(products, '\n')) {
      if (line.empty()) continue;
      if (header) {
        header = false;
        continue;
      }
      const std::vector<std::string> f = CsvFields(line);
      category_[f[0]] = f[2];
      products_.push_back(f[0]);
    }
    ASSERT_EQ(customers_.size(), 400u);
  }

  // Two overlapping campaigns: an email one on the category of product 1, an sms one on any
  // purchase, each with its holdout.
  void MakePlan() {
    Campaign a;
    a.name = "Coffee week";
    a.cohort_id = "cf-test-a";
    a.channel = "email";
    a.send_date = "2025-06-05";
    a.offer_category = category_.at("1");
    a.window_days = 14;
    Campaign b;
    b.name = "Flash \"sale\"";
    b.cohort_id = "cf-test-b";
    b.channel = "sms";
    b.send_date = "2025-06-08";
    b.window_days = 5;  // given with --window sms=5
    for (Campaign* c : {&a, &b}) c->start = *ParseIsoTime(c->send_date);
    for (int id = 1; id <= 240; ++id) a.plan[std::to_string(id)] = id % 4 == 0;
    for (int id = 150; id <= 400; ++id) b.plan[std::to_string(id)] = id % 5 == 0;
    campaigns_ = {a, b};
    json summary = {{"format", "cohortflow-plan"},
                    {"plan", "Week 23"},
                    {"as_of", "2025-06-01T00:00:00Z"},
                    {"horizon_days", 30},
                    {"campaigns", json::array()}};
    ASSERT_TRUE(CreateDirectories(dir_ + "/plan/campaigns").ok());
    for (Campaign& c : campaigns_) {
      const std::string offer = c.offer_category.empty() ? "any" : "category = " + json(c.offer_category).dump();
      summary["campaigns"].push_back({{"name", c.name},
                                      {"export_file_name", c.name},
                                      {"cohort_id", c.cohort_id},
                                      {"offer", offer},
                                      {"channel", c.channel},
                                      {"send_date", c.send_date},
                                      {"selected", 0},
                                      {"holdout", 0},
                                      {"expected_buyers", 0},
                                      {"expected_revenue", 0}});
      std::string csv = "customer,external_id,alias,device_id,probability,expected_revenue,decile,holdout\n";
      size_t i = 0;
      for (const auto& [id, holdout] : c.plan) {
        const RawCustomer& rc = customers_[std::stoi(id) - 1];
        const double p = 0.05 + 0.002 * std::stoi(id) / 2;
        const int decile = 1 + static_cast<int>(i * 10 / c.plan.size());
        c.probability[id] = p;
        c.decile[id] = decile;
        csv += fmt::format("{},{},{},{},{:.6f},{:.2f},{},{}\n", id, rc.external_id,
                           rc.aliases.empty() ? "" : rc.aliases[0], rc.device_id, p, 10 * p, decile, holdout ? 1 : 0);
        ++i;
      }
      Write("plan/campaigns/" + c.cohort_id + ".csv", csv);
    }
    Write("plan/summary.json", summary.dump(2));
  }

  // One record naming the customer by one identifier, chosen by `which` (0 external_id, 1
  // alias, 2 device_id; the next one the customer has when it lacks that).
  std::string Record(const Campaign& c, const RawCustomer& rc, const std::string& outcome, int64_t time, int which) {
    json r = {{"id", fmt::format("s{}", ++record_id_)},
              {"campaign_id", "engage-" + c.cohort_id},
              {"campaign_name", c.name},
              {"dispatch_id", "d1"},
              {"send_id", nullptr},
              {"channel", c.channel},
              {"time", time},
              {"outcome", outcome},
              {"braze_id", "b" + rc.id},
              {"a_key_from_the_future", 1}};
    r["user_id"] = nullptr;
    r["external_user_id"] = nullptr;
    r["device_id"] = nullptr;
    r["user_aliases"] = json::array();
    for (int k = 0; k < 3; ++k) {
      const int w = (which + k) % 3;
      if (w == 0 && !rc.external_id.empty()) {
        r["external_user_id"] = r["user_id"] = rc.external_id;
        break;
      }
      if (w == 1 && !rc.aliases.empty()) {
        const size_t colon = rc.aliases[0].find(':');
        r["user_aliases"].push_back(
            {{"alias_label", rc.aliases[0].substr(0, colon)}, {"alias_name", rc.aliases[0].substr(colon + 1)}});
        break;
      }
      if (w == 2 && !rc.device_id.empty()) {
        r["device_id"] = rc.device_id;
        break;
      }
    }
    return r.dump() + "\n";
  }

  // Sends for every non-held-out planned customer, with every outcome, by every identifier;
  // plus records the report must skip or count aside. Fills sent_[k].
  void MakeSends() {
    std::string text;
    for (size_t k = 0; k < campaigns_.size(); ++k) {
      const Campaign& c = campaigns_[k];
      // Campaign b's records are stamped 3 days before its send date: the report warns.
      const int64_t t = k == 0 ? c.start + 10 * 3600 : c.start - 3 * kDay;
      for (const auto& [id, holdout] : c.plan) {
        if (holdout) continue;
        const int n = std::stoi(id);
        const std::string outcome = n % 7 == 1    ? "capped"
                                    : n % 11 == 2 ? "not_opted_in"
                                    : n % 13 == 3 ? "control"
                                    : n % 17 == 4 ? "failed"
                                                  : "sent";
        ++outcomes_[k][outcome];
        if (outcome == "sent") sent_[k].insert(id);
        text += Record(c, customers_[n - 1], outcome, t, n % 3);
      }
    }
    // A second dispatch to a customer already sent: one treated customer still.
    const std::string again = *sent_[0].begin();
    text += Record(campaigns_[0], customers_[std::stoi(again) - 1], "sent", campaigns_[0].start + 3600, 0);
    ++outcomes_[0]["sent"];
    // Sent outside the plan's CSV: treated all the same.
    text += Record(campaigns_[0], customers_[299], "sent", campaigns_[0].start + 3600, 0);
    ++outcomes_[0]["sent"];
    sent_[0].insert("300");
    // A campaign the plan does not have, and a customer the dataset does not have.
    Campaign other = campaigns_[0];
    other.name = "Old campaign";
    text += Record(other, customers_[0], "sent", campaigns_[0].start, 0);
    RawCustomer stranger{"9999", "u_nobody", "", {}};
    text += Record(campaigns_[0], stranger, "sent", campaigns_[0].start, 0);
    ++outcomes_[0]["sent"];
    text += "\n";  // a blank line is skipped
    sends_ = Write("sends.jsonl", text);
  }

  // Later purchases in the generator's format, spread over June, online and offline.
  void MakePurchases() {
    std::mt19937_64 rng(11);
    const int64_t june = *ParseIsoTime("2025-06-01");
    std::string csv = "customer_id,time,product_id,quantity,revenue,channel,store_id\n";
    for (int i = 0; i < 4000; ++i) {
      Purchase p;
      p.customer = i % 500 == 7 ? "9999" : std::to_string(1 + rng() % 400);
      p.time = june + static_cast<int64_t>(rng() % (25 * kDay));
      p.product = products_[rng() % 8 == 0 ? 0 : rng() % products_.size()];
      p.revenue = static_cast<double>(100 + rng() % 5000) / 100.0;
      p.online = rng() % 2 == 0;
      csv += fmt::format("{},{},{},1,{:.2f},{},{}\n", p.customer, FormatIsoTime(p.time), p.product, p.revenue,
                         p.online ? "online" : "offline", p.online ? "" : "S0001");
      purchases_.push_back(p);
    }
    purchases_file_ = Write("later.csv", csv);
  }

  bool Counts(const Campaign& c, const Purchase& p) const {
    return p.time >= c.start && p.time < c.start + c.window_days * kDay &&
           (c.offer_category.empty() || category_.at(p.product) == c.offer_category);
  }

  Expected Count(const Campaign& c, const std::set<std::string>& group) const {
    Expected e;
    e.customers = static_cast<int64_t>(group.size());
    std::set<std::string> buyers;
    for (const Purchase& p : purchases_) {
      if (!group.contains(p.customer) || !Counts(c, p)) continue;
      buyers.insert(p.customer);
      e.revenue += p.revenue;
      (p.online ? e.online : e.offline) += p.revenue;
    }
    e.buyers = static_cast<int64_t>(buyers.size());
    return e;
  }

  std::string ds_, sends_, purchases_file_;
  std::vector<RawCustomer> customers_;
  std::map<std::string, std::string> category_;
  std::vector<std::string> products_;
  std::vector<Campaign> campaigns_;
  std::set<std::string> sent_[2];
  std::map<std::string, int64_t> outcomes_[2];
  std::vector<Purchase> purchases_;
  int record_id_ = 0;
};

void ExpectGroup(const json& g, const Expected& e, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(g["customers"].get<int64_t>(), e.customers);
  EXPECT_EQ(g["buyers"].get<int64_t>(), e.buyers);
  // The dataset stores revenue as 32-bit floats: cents survive, sums agree to well under a cent.
  EXPECT_NEAR(g["revenue"].get<double>(), e.revenue, 0.01);
  EXPECT_NEAR(g["online_revenue"].get<double>(), e.online, 0.01);
  EXPECT_NEAR(g["offline_revenue"].get<double>(), e.offline, 0.01);
}

TEST_F(ReportCliTest, FiguresMatchAnIndependentCount) {
  MakePlan();
  MakeSends();
  MakePurchases();
  const Outcome r =
      Audience("report --quiet --data " + ds_ + " --plan-dir " + dir_ + "/plan --sends " + sends_ + " --purchases " +
               purchases_file_ + " --window sms=5 --out " + dir_ + "/report.html --json " + dir_ + "/report.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("campaign 'Old campaign' were ignored"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("more than 1 day from its send_date 2025-06-08"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 send records name no customer"), std::string::npos) << r.err;
  const json j = json::parse(ReadFile(dir_ + "/report.json").value());
  ASSERT_EQ(j["campaigns"].size(), 2u);
  Expected total_t, total_h;
  std::map<std::string, int> messages;
  for (size_t k = 0; k < 2; ++k) {
    const Campaign& c = campaigns_[k];
    const json& jc = j["campaigns"][k];
    SCOPED_TRACE(c.name);
    EXPECT_EQ(jc["name"], c.name);
    EXPECT_EQ(jc["window_days"], c.window_days);
    std::set<std::string> holdout;
    for (const auto& [id, h] : c.plan) {
      if (h) holdout.insert(id);
    }
    const Expected t = Count(c, sent_[k]), h = Count(c, holdout);
    ExpectGroup(jc["treated"], t, "treated");
    ExpectGroup(jc["holdout"], h, "holdout");
    const double n1 = static_cast<double>(t.customers), n0 = static_cast<double>(h.customers);
    const double inc_buyers = (t.buyers / n1 - h.buyers / n0) * n1;
    EXPECT_NEAR(jc["incremental_buyers"]["estimate"].get<double>(), inc_buyers, 1e-9);
    const analytics::Interval ci = analytics::NewcombeDifference(t.buyers, t.customers, h.buyers, h.customers);
    EXPECT_NEAR(jc["incremental_buyers"]["ci_low"].get<double>(), ci.low * n1, 1e-9);
    EXPECT_NEAR(jc["incremental_buyers"]["ci_high"].get<double>(), ci.high * n1, 1e-9);
    EXPECT_EQ(jc["significant"].get<bool>(), ci.low > 0 || ci.high < 0);
    EXPECT_NEAR(jc["incremental_revenue"]["estimate"].get<double>(), (t.revenue / n1 - h.revenue / n0) * n1, 0.05);
    EXPECT_LT(jc["incremental_revenue"]["ci_low"].get<double>(), jc["incremental_revenue"]["estimate"].get<double>());
    EXPECT_GT(jc["incremental_revenue"]["ci_high"].get<double>(), jc["incremental_revenue"]["estimate"].get<double>());
    double predicted = 0;
    int64_t in_deciles = 0, holdout_in_deciles = 0, decile_buyers = 0;
    for (const std::string& id : sent_[k]) {
      if (c.probability.contains(id)) predicted += c.probability.at(id);
    }
    for (const json& d : jc["deciles"]) {
      in_deciles += d["treated_customers"].get<int64_t>();
      holdout_in_deciles += d["holdout_customers"].get<int64_t>();
      decile_buyers += d["treated_buyers"].get<int64_t>();
    }
    const int64_t outside = k == 0 ? 1 : 0;  // customer 300 in campaign a
    EXPECT_EQ(in_deciles, t.customers - outside);
    EXPECT_EQ(holdout_in_deciles, h.customers);
    EXPECT_LE(decile_buyers, t.buyers);
    EXPECT_NEAR(jc["predicted_buyers"].get<double>(), predicted, 1e-6);
    for (const char* o : {"sent", "control", "capped", "not_opted_in", "failed"}) {
      EXPECT_EQ(jc["sends"][o].get<int64_t>(), outcomes_[k][o]) << o;
    }
    EXPECT_EQ(jc["sends"]["unmatched"].get<int64_t>(), k == 0 ? 1 : 0);
    EXPECT_EQ(jc["sends"]["sent_outside_plan"].get<int64_t>(), outside);
    total_t.customers += t.customers;
    total_t.buyers += t.buyers;
    total_h.customers += h.customers;
    total_h.buyers += h.buyers;
    for (const std::string& id : sent_[k]) ++messages[id];
  }
  EXPECT_EQ(j["total"]["treated"]["customers"].get<int64_t>(), total_t.customers);
  EXPECT_EQ(j["total"]["treated"]["buyers"].get<int64_t>(), total_t.buyers);
  EXPECT_EQ(j["total"]["holdout"]["customers"].get<int64_t>(), total_h.customers);
  const double sum = j["campaigns"][0]["incremental_buyers"]["estimate"].get<double>() +
                     j["campaigns"][1]["incremental_buyers"]["estimate"].get<double>();
  EXPECT_NEAR(j["total"]["incremental_buyers"]["estimate"].get<double>(), sum, 1e-9);
  // The whole plan's interval: each side's distances add in squares over the campaigns.
  for (const char* measure : {"incremental_buyers", "incremental_revenue"}) {
    double below = 0, above = 0;
    for (const json& c : j["campaigns"]) {
      const double e = c[measure]["estimate"], lo = c[measure]["ci_low"], hi = c[measure]["ci_high"];
      below += (e - lo) * (e - lo);
      above += (hi - e) * (hi - e);
    }
    const double e = j["total"][measure]["estimate"];
    EXPECT_NEAR(j["total"][measure]["ci_low"].get<double>(), e - std::sqrt(below), 1e-6) << measure;
    EXPECT_NEAR(j["total"][measure]["ci_high"].get<double>(), e + std::sqrt(above), 1e-6) << measure;
  }

  // Messages per customer: every customer the plan allocated or engage sent to.
  std::set<std::string> allocated;
  for (const Campaign& c : campaigns_) {
    for (const auto& [id, h] : c.plan) allocated.insert(id);
  }
  allocated.insert("300");
  std::map<int, int64_t> histogram;
  for (const std::string& id : allocated) ++histogram[messages.contains(id) ? messages[id] : 0];
  for (const auto& [n, customers] : histogram) {
    EXPECT_EQ(j["messages_per_customer"][std::to_string(n)].get<int64_t>(), customers) << n << " messages";
  }

  // Last touch: each counted purchase of a treated customer goes to the latest campaign (b).
  std::map<size_t, double> lt_revenue;
  std::map<size_t, std::set<std::string>> lt_buyers;
  for (const Purchase& p : purchases_) {
    int best = -1;
    for (size_t k = 0; k < 2; ++k) {
      if (sent_[k].contains(p.customer) && Counts(campaigns_[k], p)) best = static_cast<int>(k);
    }
    if (best < 0) continue;
    lt_revenue[best] += p.revenue;
    lt_buyers[best].insert(p.customer);
  }
  for (size_t k = 0; k < 2; ++k) {
    const json& lt = j["last_touch_attribution"]["campaigns"][k];
    EXPECT_NEAR(lt["revenue"].get<double>(), lt_revenue[k], 0.01);
    EXPECT_EQ(lt["buyers"].get<size_t>(), lt_buyers[k].size());
  }
  EXPECT_NE(j["last_touch_attribution"]["label"].get<std::string>().find("secondary"), std::string::npos);
  EXPECT_EQ(j["purchases"]["unknown_customer"].get<int64_t>(), 8);

  // The HTML stands alone (nothing fetched) and says it in words.
  const std::string html = ReadFile(dir_ + "/report.html").value();
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("buyers (95% CI"), std::string::npos);
  EXPECT_NE(html.find("Last-touch attribution (secondary)"), std::string::npos);
  EXPECT_NE(html.find("Flash &quot;sale&quot;"), std::string::npos);

  // The same purchases under other column names and channel spellings, read with ingest's
  // mapping flags, give the same report.
  std::string mapped = "member;ts;sku;qty;amount;where\n";
  for (const Purchase& p : purchases_) {
    mapped +=
        fmt::format("{};{};{};1;{:.2f};{}\n", p.customer, p.time, p.product, p.revenue, p.online ? "web" : "shop");
  }
  const std::string mapped_file = Write("mapped.csv", mapped);
  const Outcome m = Audience("report --quiet --data " + ds_ + " --plan-dir " + dir_ + "/plan --sends " + sends_ +
                             " --purchases " + mapped_file +
                             " --map customer=member,time=ts,product=sku,quantity=qty,revenue=amount,channel=where"
                             " --time-format epoch --channel-values online=web,offline=shop --window sms=5 --json " +
                             dir_ + "/mapped.json");
  ASSERT_EQ(m.code, 0) << m.err;
  const json jm = json::parse(ReadFile(dir_ + "/mapped.json").value());
  EXPECT_EQ(jm["campaigns"], j["campaigns"]);
  EXPECT_EQ(jm["total"], j["total"]);

  // Running it again replaces its own outputs.
  EXPECT_EQ(Audience("report --quiet --data " + ds_ + " --plan-dir " + dir_ + "/plan --sends " + sends_ +
                     " --purchases " + purchases_file_ + " --json " + dir_ + "/report.json")
                .code,
            0);
}

TEST_F(ReportCliTest, BadInputIsRefusedNamingIt) {
  MakePlan();
  MakeSends();
  MakePurchases();
  const std::string base = "report --quiet --data " + ds_ + " --plan-dir " + dir_ + "/plan --purchases " +
                           purchases_file_ + " --json " + dir_ + "/r.json";
  const std::string bad =
      Write("bad.jsonl", R"({"campaign_name":"Coffee week","time":1,"outcome":"sent","device_id":"x"}
{"campaign_name":"Coffee week","time":"yesterday","outcome":"sent","device_id":"x"}
)");
  Outcome r = Audience(base + " --sends " + bad);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("bad.jsonl:2: field 'time': expected UTC epoch seconds, found \"yesterday\""), std::string::npos)
      << r.err;
  Write("bad2.jsonl", R"({"campaign_name":"Coffee week","time":1,"outcome":"opened","device_id":"x"})");
  r = Audience(base + " --sends " + dir_ + "/bad2.jsonl");
  EXPECT_NE(r.err.find("bad2.jsonl:1: field 'outcome': 'opened' is not valid; expected sent, control"),
            std::string::npos)
      << r.err;
  Write("bad3.jsonl", R"({"campaign_name":"Coffee week","time":1,"outcome":"sent"})");
  r = Audience(base + " --sends " + dir_ + "/bad3.jsonl");
  EXPECT_NE(r.err.find("bad3.jsonl:1: no identifier"), std::string::npos) << r.err;
  r = Audience(base + " --sends " + sends_ + " --window email=0");
  EXPECT_NE(r.err.find("--window: window: 'email=0': 0 days is not valid; expected 1 .. 366"), std::string::npos)
      << r.err;
  r = Audience(base + " --sends " + sends_ + " --window fax=3");
  EXPECT_NE(r.err.find("'fax=3' is not valid; expected CHANNEL=DAYS"), std::string::npos) << r.err;
  r = Audience(base + " --sends http://127.0.0.1:1");
  EXPECT_NE(r.err.find("CF_API_KEY"), std::string::npos) << r.err;
  EXPECT_FALSE(PathExists(dir_ + "/r.json"));
  // An output file the report did not write is never replaced.
  Write("notes.json", "{\"mine\": true}");
  r = Audience("report --quiet --data " + ds_ + " --plan-dir " + dir_ + "/plan --purchases " + purchases_file_ +
               " --sends " + sends_ + " --json " + dir_ + "/notes.json");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(ReadFile(dir_ + "/notes.json").value(), "{\"mine\": true}");
}

// engage's API (GET /campaigns/list by pages, GET /campaigns/sends?campaign_id=) played by a
// small server: the report fetches the plan's campaigns only, with the key as a Bearer token.
TEST_F(ReportCliTest, SendsFromEngagesUrlEqualTheFile) {
  MakePlan();
  MakeSends();
  MakePurchases();
  const std::string records = ReadFile(sends_).value();
  http::Server server({.threads = 2});
  std::atomic<int> unauthorized{0}, sends_calls{0};
  server.Route("GET", "/campaigns/list", [&](const http::Request& req) {
    if (req.Header("Authorization") != "Bearer k-123") {
      ++unauthorized;
      return http::Response{401, R"({"message":"Invalid API key"})"};
    }
    // 100 unrelated campaigns on page 0, the plan's two (and one it lacks) on page 1.
    json list = json::array();
    if (req.Query("page") == "0") {
      for (int i = 0; i < 100; ++i) list.push_back({{"id", fmt::format("x{}", i)}, {"name", fmt::format("n{}", i)}});
    } else if (req.Query("page") == "1") {
      for (const Campaign& c : campaigns_) list.push_back({{"id", "engage-" + c.cohort_id}, {"name", c.name}});
      list.push_back({{"id", "old"}, {"name", "Old campaign"}});
    }
    return http::Response{200, json({{"message", "success"}, {"campaigns", list}}).dump()};
  });
  server.Route("GET", "/campaigns/sends", [&](const http::Request& req) {
    ++sends_calls;
    std::string body;
    for (std::string_view line : Split(records, '\n')) {
      if (line.empty()) continue;
      const json r = json::parse(line);
      if (r["campaign_id"] == req.Query("campaign_id") && r["campaign_name"] != "Old campaign") {
        body += std::string(line) + "\n";
      }
    }
    return http::Response{200, body, "application/x-ndjson"};
  });
  const Result<int> port = server.Bind("127.0.0.1", 0);
  ASSERT_TRUE(port.has_value());
  std::thread serving([&] { (void)server.Run(); });
  const std::string common = "report --quiet --data " + ds_ + " --plan-dir " + dir_ + "/plan --purchases " +
                             purchases_file_ + " --window sms=5";
  const Outcome from_file = Audience(common + " --sends " + sends_ + " --json " + dir_ + "/file.json");
  const std::string keys = Write("keys.json", R"({"api_key": "k-123"})");
  const Outcome from_url = Audience(common + " --sends http://127.0.0.1:" + std::to_string(*port) + " --keys-file " +
                                    keys + " --json " + dir_ + "/url.json");
  const Outcome wrong_key =
      Audience("report --quiet --data " + ds_ + " --plan-dir " + dir_ + "/plan --purchases " + purchases_file_ +
               " --sends http://127.0.0.1:" + std::to_string(*port) + " --json " + dir_ + "/no.json");
  server.Stop();
  serving.join();
  ASSERT_EQ(from_file.code, 0) << from_file.err;
  ASSERT_EQ(from_url.code, 0) << from_url.err;
  EXPECT_EQ(sends_calls.load(), 2);  // the plan's two campaigns, not "Old campaign"
  const json a = json::parse(ReadFile(dir_ + "/file.json").value());
  const json b = json::parse(ReadFile(dir_ + "/url.json").value());
  EXPECT_EQ(a["campaigns"], b["campaigns"]);
  EXPECT_EQ(a["total"], b["total"]);
  EXPECT_EQ(wrong_key.code, 1);  // no CF_API_KEY in the test's environment
  EXPECT_EQ(unauthorized.load(), 0);
}

// completejourney's campaigns have no holdout: the report compares targeted with not-targeted
// households, says so, and counts the targeted households as campaigns.csv lists them.
TEST_F(ReportCliTest, ObservationalReportOnCompleteJourney) {
  const std::string cj = std::string(CF_SOURCE_DIR) + "/../shared/data/completejourney";
  if (!PathExists(cj + "/campaigns.csv")) GTEST_SKIP() << "no " << cj << " (../shared/data is absent)";
  Outcome ing = Audience("ingest --quiet --events " + cj + "/transactions_sample.csv --products " + cj +
                         "/products.csv --map customer=household_id,product=product_id,time=transaction_timestamp,"
                         "quantity=quantity,revenue=sales_value,store=store_id --out " +
                         dir_ + "/cj");
  ASSERT_EQ(ing.code, 0) << ing.err;
  Outcome r = Audience("report --quiet --data " + dir_ + "/cj --observational-campaigns " + cj +
                       " --currency USD --out " + dir_ + "/cj.html --json " + dir_ + "/cj.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(ReadFile(dir_ + "/cj.json").value());
  EXPECT_EQ(j["label"], "observational, not causal");
  EXPECT_EQ(j["causal"], false);
  ASSERT_EQ(j["campaigns"].size(), 27u);
  // Households of the sample, and campaign 8's targets among them, counted here.
  std::set<std::string> households;
  bool header = true;
  const std::string tx = ReadFile(cj + "/transactions_sample.csv").value();
  for (std::string_view line : Split(tx, '\n')) {
    if (line.empty() || std::exchange(header, false)) continue;
    households.insert(CsvFields(line)[0]);
  }
  std::set<std::string> targeted8;
  int64_t redemptions8 = 0;
  header = true;
  const std::string members = ReadFile(cj + "/campaigns.csv").value();
  for (std::string_view line : Split(members, '\n')) {
    if (line.empty() || std::exchange(header, false)) continue;
    const auto f = CsvFields(line);
    if (f[0] == "8" && households.contains(f[1])) targeted8.insert(f[1]);
  }
  header = true;
  const std::string redeemed = ReadFile(cj + "/coupon_redemptions.csv").value();
  for (std::string_view line : Split(redeemed, '\n')) {
    if (line.empty() || std::exchange(header, false)) continue;
    const auto f = CsvFields(line);
    if (f[2] == "8" && targeted8.contains(f[0])) ++redemptions8;
  }
  const json* c8 = nullptr;
  for (const json& c : j["campaigns"]) {
    if (c["campaign_id"] == "8") c8 = &c;
  }
  ASSERT_NE(c8, nullptr);
  EXPECT_EQ((*c8)["label"], "observational, not causal");
  EXPECT_EQ((*c8)["targeted"]["customers"].get<size_t>(), targeted8.size());
  EXPECT_EQ((*c8)["not_targeted"]["customers"].get<size_t>(), households.size() - targeted8.size());
  EXPECT_EQ((*c8)["targeted"]["coupon_redemptions"].get<int64_t>(), redemptions8);
  const std::string html = ReadFile(dir_ + "/cj.html").value();
  EXPECT_NE(html.find("Observational, not causal"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);

  // Later purchases from a file of their own, whose few products are a small catalog: the
  // coupon products are still looked up in the dataset's catalog.
  std::string coupon_product;
  header = true;
  const std::string coupons = ReadFile(cj + "/coupons.csv").value();
  for (std::string_view line : Split(coupons, '\n')) {
    if (line.empty() || std::exchange(header, false)) continue;
    const auto f = CsvFields(line);
    if (f[2] == "8") {
      coupon_product = f[1];
      break;
    }
  }
  ASSERT_FALSE(coupon_product.empty());
  const std::string buyer = *targeted8.begin();
  const std::string later = Write("later.csv", "household_id,transaction_timestamp,product_id,sales_value\n" + buyer +
                                                   ",2017-05-10T10:00:00Z," + coupon_product + ",3.5\n" + buyer +
                                                   ",2017-07-10T10:00:00Z," + coupon_product + ",9\n");
  r = Audience("report --quiet --data " + dir_ + "/cj --observational-campaigns " + cj + " --purchases " + later +
               " --map customer=household_id,time=transaction_timestamp,revenue=sales_value --json " + dir_ +
               "/later.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json l = json::parse(ReadFile(dir_ + "/later.json").value());
  for (size_t k = 0; k < l["campaigns"].size(); ++k) {
    // What is measured depends on the dataset's catalog, not on the products the file names.
    EXPECT_EQ(l["campaigns"][k]["measured"], j["campaigns"][k]["measured"]) << "campaign " << k + 1;
  }
  for (const json& c : l["campaigns"]) {
    if (c["campaign_id"] != "8") continue;
    EXPECT_EQ(c["measured"], "purchases of the campaign's coupon products");
    EXPECT_EQ(c["targeted"]["buyers"], 1);
    EXPECT_EQ(c["targeted"]["revenue"], 3.5);
    EXPECT_EQ(c["not_targeted"]["buyers"], 0);
  }
}

}  // namespace
}  // namespace cf
