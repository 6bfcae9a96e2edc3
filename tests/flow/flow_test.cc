// The main job across real processes, as the demo runs it: a generated retailer with every
// identity kind (identified, alias-only, anonymous device, identified later with a device) is
// loaded into a real engage (CSV user import, SDK sessions), planned, and exported; then every
// customer's cohorts in engage are read back and must be exactly the plan's non-holdout
// audiences, and a segment "Tinyclues Cohorts includes <export file name>" has the exported size.
// Then the loop closes: engage campaigns on those segments send (control group, frequency cap),
// `audience simulate` continues the retailer with the messages' effect, and `audience report`
// measures each campaign against its holdout: its treated customers are engage's sent records
// and its uplift is near the simulation's truth.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/strings.h"
#include "engage_process.h"
#include "http/client.h"
#include "tests/audience_cli.h"

namespace cf {
namespace {

using nlohmann::json;

struct Person {
  std::string crm, external_id, device_id, email;
};

class FlowTest : public AudienceCliTest {
 protected:
  // customers.csv as the generator writes it: customer_id,external_id,device_id,aliases,...
  static std::vector<Person> ReadPeople(const std::string& path) {
    std::vector<Person> people;
    const std::string text = ReadFile(path).value_or("");
    bool header = true;
    for (std::string_view line : Split(text, '\n')) {
      if (line.empty()) continue;
      if (header) {
        header = false;
        continue;
      }
      const std::vector<std::string> f = CsvFields(line);
      Person p{f[0], f[1], f[2], ""};
      for (std::string_view alias : Split(f[3], ';')) {
        if (StartsWith(alias, "email:")) p.email = std::string(alias.substr(6));
      }
      people.push_back(p);
    }
    return people;
  }

  json Post(http::Client& client, const std::string& path, const json& body) {
    Result<http::ClientResponse> r =
        client.Post(path, body.dump(), {{"Authorization", "Bearer " + api_key_}, {"Content-Type", "application/json"}});
    EXPECT_TRUE(r.has_value()) << path;
    if (!r.has_value()) return json();
    EXPECT_LT(r->status, 300) << path << ": " << r->body;
    return json::parse(r->body, nullptr, false);
  }
  // The cohort ids engage holds for the profile this identifier names ("" if none matches).
  std::set<std::string> CohortsOf(http::Client& client, const Person& p) {
    json body = {{"fields_to_export", {"cohorts"}}};
    if (!p.external_id.empty()) {
      body["external_ids"] = {p.external_id};
    } else if (!p.email.empty()) {
      body["user_aliases"] = {{{"alias_label", "email"}, {"alias_name", p.email}}};
    } else {
      body["device_id"] = p.device_id;
    }
    const json answer = Post(client, "/users/export/ids", body);
    std::set<std::string> ids;
    if (!answer.contains("users") || answer["users"].empty()) return ids;
    for (const json& c : answer["users"][0]["cohorts"]) ids.insert(c["cohort_id"].get<std::string>());
    return ids;
  }
  struct Keys {
    std::string partner_key, import_key;
  };
  // engage's partner "tinyclues" with its data import key, and a REST key with every permission.
  Keys SetUpEngage(const std::string& store) {
    Keys k;
    k.partner_key =
        engage_test::RunAdmin(store, {"partner", "add", "--partner", "tinyclues", "--display-name", "Tinyclues"})
            .last_line;
    k.import_key = engage_test::RunAdmin(store, {"partner", "key", "generate", "--partner", "tinyclues"}).last_line;
    api_key_ = engage_test::RunAdmin(store, {"api-key", "create", "--name", "flow", "--permissions", "all"}).last_line;
    EXPECT_FALSE(k.partner_key.empty());
    EXPECT_FALSE(k.import_key.empty());
    return k;
  }
  // The retailer's people in engage as a CRM would put them there: devices start anonymous
  // sessions; accounts come by CSV import; devices of accounts are then identified, so those
  // customers are "identified later" in engage.
  void LoadPeople(const std::string& store, http::Client& client, const std::vector<Person>& people) {
    for (const Person& p : people) {
      if (!p.device_id.empty()) Post(client, "/sdk/v1/session", {{"device_id", p.device_id}});
    }
    std::string users = "external_id,alias:email\n";
    for (const Person& p : people) {
      if (!p.external_id.empty() || !p.email.empty()) users += p.external_id + "," + p.email + "\n";
    }
    Write("users.csv", users);
    const engage_test::AdminResult imported =
        engage_test::RunAdmin(store, {"users", "import", "--csv", dir_ + "/users.csv"});
    ASSERT_EQ(imported.exit_code, 0) << imported.out;
    for (const Person& p : people) {
      if (!p.device_id.empty() && !p.external_id.empty()) {
        Post(client, "/sdk/v1/session", {{"device_id", p.device_id}, {"external_id", p.external_id}});
      }
    }
  }
  // generate, ingest (with the customers file) and train into dir_/raw, dir_/ds and dir_/model.
  void MakeRetailer(const std::string& generate_flags) {
    ASSERT_EQ(Audience("generate --quiet " + generate_flags + " --out " + dir_ + "/raw").code, 0);
    Outcome ingest = Audience("ingest --quiet --events " + dir_ + "/raw/purchases.csv --products " + dir_ +
                              "/raw/products.csv --customers " + dir_ + "/raw/customers.csv --out " + dir_ + "/ds");
    ASSERT_EQ(ingest.code, 0) << ingest.err;
    Outcome train = Audience("train --quiet --data " + dir_ + "/ds --horizon 30 --out " + dir_ + "/model");
    ASSERT_EQ(train.code, 0) << train.err;
  }
  std::string api_key_;
};

TEST_F(FlowTest, EveryIdentityKindEndsInExactlyThePlannedCohorts) {
  MakeRetailer("--customers 900 --products 80 --days 240 --seed 3");
  if (HasFatalFailure()) return;
  const std::vector<Person> people = ReadPeople(dir_ + "/raw/customers.csv");
  int identified = 0, alias_only = 0, anonymous = 0, identified_with_device = 0;
  for (const Person& p : people) {
    identified += !p.external_id.empty() && p.device_id.empty();
    identified_with_device += !p.external_id.empty() && !p.device_id.empty();
    alias_only += p.external_id.empty() && p.device_id.empty() && !p.email.empty();
    anonymous += p.external_id.empty() && !p.device_id.empty();
  }
  ASSERT_GT(identified, 0);
  ASSERT_GT(alias_only, 0);
  ASSERT_GT(anonymous, 0);
  ASSERT_GT(identified_with_device, 0);

  const std::string store = dir_ + "/engage";
  const Keys keys = SetUpEngage(store);
  engage_test::EngageServer server(store);
  ASSERT_TRUE(server.running());
  http::Client client(server.base_url());
  LoadPeople(store, client, people);
  if (HasFatalFailure()) return;

  // A plan of three campaigns on two channels under a pressure rule.
  const std::string plan = Write("plan.json", R"({
    "name": "Flow week", "start": "2026-12-07", "days": 7, "objective": "revenue",
    "pressure": [{"channel": "email", "max_messages": 1, "window_days": 7}, {"channel": "any", "min_gap_days": 1}],
    "campaigns": [
      {"name": "All buyers", "offer": "any", "channel": "email", "send_date": "2026-12-07",
       "volume": {"fixed": 250}, "priority": "high"},
      {"name": "Second email", "offer": "any", "channel": "email", "send_date": "2026-12-10",
       "volume": {"fixed": 300}, "priority": "low", "export_file_name": "Second - flow"},
      {"name": "App", "offer": "any", "channel": "push", "send_date": "2026-12-08",
       "volume": {"capture_share": 0.6}, "holdout_share": 0.2}]})");
  Outcome planned = Audience("plan --quiet --data " + dir_ + "/ds --model " + dir_ + "/model --plan " + plan +
                             " --out " + dir_ + "/plan");
  ASSERT_EQ(planned.code, 0) << planned.err;
  const json summary = json::parse(ReadFile(dir_ + "/plan/summary.json").value_or(""), nullptr, false);
  ASSERT_TRUE(summary.is_object());
  EXPECT_EQ(summary["violations"], 0);

  Write("keys.json", json({{"partner_api_key", keys.partner_key}, {"data_import_key", keys.import_key}}).dump());
  Outcome exported = Audience("export --quiet --plan-dir " + dir_ + "/plan --endpoint " + server.base_url() +
                              " --partner tinyclues --keys-file " + dir_ + "/keys.json");
  ASSERT_EQ(exported.code, 0) << exported.err << exported.out;

  // What the plan says each customer's cohorts must be.
  std::map<std::string, std::set<std::string>> expected;  // crm id -> cohort ids
  std::map<std::string, uint64_t> members;                // cohort id -> expected size
  for (const json& c : summary["campaigns"]) {
    const std::string cohort = c["cohort_id"];
    const std::string csv = ReadFile(dir_ + "/plan/campaigns/" + cohort + ".csv").value_or("");
    bool header = true;
    uint64_t holdouts = 0;
    for (std::string_view line : Split(csv, '\n')) {
      if (line.empty()) continue;
      if (header) {
        header = false;
        continue;
      }
      const std::vector<std::string> f = CsvFields(line);  // customer,external_id,alias,device_id,...,holdout
      ASSERT_EQ(f.size(), 8u) << line;
      if (f[7] == "1") {
        ++holdouts;
        continue;
      }
      if (f[1].empty() && f[2].empty() && f[3].empty()) continue;  // skipped: no identifier
      expected[f[0]].insert(cohort);
      ++members[cohort];
    }
    EXPECT_EQ(c["holdout"].get<uint64_t>(), holdouts) << cohort;
    EXPECT_GT(members[cohort], 0u) << cohort;
  }
  for (const Person& p : people) {
    if (p.external_id.empty() && p.email.empty() && p.device_id.empty()) continue;
    EXPECT_EQ(CohortsOf(client, p), expected[p.crm]) << "customer " << p.crm << " (external_id '" << p.external_id
                                                     << "', email '" << p.email << "', device '" << p.device_id << "')";
  }

  // The marketer's segment in engage has the exported size.
  for (const json& c : summary["campaigns"]) {
    const json created =
        Post(client, "/segments/create",
             {{"name", "Segment " + c["export_file_name"].get<std::string>()},
              {"filter", {{"partner_cohort", {{"partner", "tinyclues"}, {"includes", {c["export_file_name"]}}}}}}});
    Result<http::ClientResponse> details =
        client.Get("/segments/details?segment_id=" + created["segment_id"].get<std::string>(),
                   {{"Authorization", "Bearer " + api_key_}});
    ASSERT_TRUE(details.has_value());
    EXPECT_EQ(json::parse(details->body)["size"].get<uint64_t>(), members[c["cohort_id"]]) << c["export_file_name"];
  }

  // Exporting the same plan again changes nothing and sends no identifier.
  Outcome again = Audience("export --quiet --json --plan-dir " + dir_ + "/plan --endpoint " + server.base_url() +
                           " --partner tinyclues --keys-file " + dir_ + "/keys.json");
  ASSERT_EQ(again.code, 0) << again.err;
  for (const Person& p : people) {
    if (expected.contains(p.crm)) {
      EXPECT_EQ(CohortsOf(client, p), expected[p.crm]) << p.crm;
      break;
    }
  }
}

TEST_F(FlowTest, CampaignsSendAndTheReportMeasuresThemAgainstTruth) {
  // 150 days from 2025-01-01: the history ends on 2025-05-30; the plan's week starts the next day.
  MakeRetailer("--customers 4000 --products 120 --days 150 --seed 8");
  if (HasFatalFailure()) return;
  const std::vector<Person> people = ReadPeople(dir_ + "/raw/customers.csv");
  const std::string store = dir_ + "/engage";
  const Keys keys = SetUpEngage(store);
  engage_test::EngageServer server(store);
  ASSERT_TRUE(server.running());
  http::Client client(server.base_url());
  LoadPeople(store, client, people);
  if (HasFatalFailure()) return;

  // The most common department of the catalog, for an offer narrower than "any".
  std::map<std::string, int> departments;
  {
    const std::string text = ReadFile(dir_ + "/raw/products.csv").value_or("");
    const std::vector<std::string_view> lines = Split(text, '\n');
    const std::vector<std::string> header = CsvFields(lines[0]);
    const size_t column = std::find(header.begin(), header.end(), "department") - header.begin();
    ASSERT_LT(column, header.size());
    for (size_t i = 1; i < lines.size(); ++i) {
      if (!lines[i].empty()) ++departments[CsvFields(lines[i])[column]];
    }
  }
  const std::string department = std::max_element(departments.begin(), departments.end(), [](auto& a, auto& b) {
                                   return a.second < b.second;
                                 })->first;
  // No email pressure rule in the plan: engage's frequency cap is what stops a second email.
  const std::string plan = Write("plan.json", fmt::format(R"({{
    "name": "Loop week", "start": "2025-05-31", "days": 7, "objective": "revenue",
    "campaigns": [
      {{"name": "Department email", "offer": "department = \"{}\"", "channel": "email", "send_date": "2025-05-31",
        "volume": {{"fixed": 1600}}, "priority": "high", "holdout_share": 0.25}},
      {{"name": "Everything push", "offer": "any", "channel": "push", "send_date": "2025-06-01",
        "volume": {{"fixed": 1200}}, "holdout_share": 0.25}},
      {{"name": "Second email", "offer": "any", "channel": "email", "send_date": "2025-06-02",
        "volume": {{"fixed": 1200}}, "priority": "low", "holdout_share": 0.25}}]}})",
                                                          department));
  Outcome planned = Audience("plan --quiet --data " + dir_ + "/ds --model " + dir_ + "/model --plan " + plan +
                             " --out " + dir_ + "/plan");
  ASSERT_EQ(planned.code, 0) << planned.err;
  const json summary = json::parse(ReadFile(dir_ + "/plan/summary.json").value_or(""), nullptr, false);
  ASSERT_TRUE(summary.is_object());
  Write("keys.json", json({{"partner_api_key", keys.partner_key}, {"data_import_key", keys.import_key}}).dump());
  Outcome exported = Audience("export --quiet --plan-dir " + dir_ + "/plan --endpoint " + server.base_url() +
                              " --partner tinyclues --keys-file " + dir_ + "/keys.json");
  ASSERT_EQ(exported.code, 0) << exported.err << exported.out;

  // In engage: a segment per cohort, a campaign per segment (the first with a control group),
  // one email per customer per week, then each campaign sent to its whole segment.
  ASSERT_EQ(engage_test::RunAdmin(store, {"frequency-cap", "set", "--channel", "email", "--max", "1", "--days", "7"})
                .exit_code,
            0);
  for (const json& c : summary["campaigns"]) {
    const std::string name = c["name"];
    const json segment =
        Post(client, "/segments/create",
             {{"name", "Segment " + name},
              {"filter", {{"partner_cohort", {{"partner", "tinyclues"}, {"includes", {c["export_file_name"]}}}}}}});
    ASSERT_TRUE(segment.contains("segment_id")) << segment.dump();
    const engage_test::AdminResult campaign = engage_test::RunAdmin(
        store,
        {"campaign", "create", "--name", name, "--segment-id", segment["segment_id"].get<std::string>(), "--channel",
         c["channel"].get<std::string>(), "--control-share", name == "Department email" ? "0.1" : "0"});
    ASSERT_EQ(campaign.exit_code, 0) << campaign.out;
    const json sent = Post(client, "/campaigns/trigger/send",
                           {{"campaign_id", campaign.last_line}, {"send_id", "loop-" + name}, {"broadcast", true}});
    ASSERT_TRUE(sent.contains("dispatch_id")) << sent.dump();
  }
  ASSERT_EQ(engage_test::RunAdmin(store, {"campaign", "sends", "--out", dir_ + "/sends.jsonl"}).exit_code, 0);
  std::map<std::string, std::map<std::string, int>> outcomes;  // campaign -> outcome -> records
  const std::string sends_text = ReadFile(dir_ + "/sends.jsonl").value_or("");
  for (std::string_view line : Split(sends_text, '\n')) {
    if (line.empty()) continue;
    const json r = json::parse(line);
    ++outcomes[r["campaign_name"].get<std::string>()][r["outcome"].get<std::string>()];
  }
  EXPECT_GT(outcomes["Department email"]["control"], 0);
  EXPECT_GT(outcomes["Second email"]["capped"], 0) << "customers of both emails get the second one capped";
  EXPECT_EQ(outcomes["Everything push"]["capped"], 0) << "the cap is on email only";

  // The weeks after: the retailer goes on buying, the messages make buying the offer 1.5 times
  // as likely during their window; the report measures it.
  Outcome simulated = Audience("simulate --quiet --raw " + dir_ + "/raw --plan-dir " + dir_ + "/plan --sends " + dir_ +
                               "/sends.jsonl --days 21 --treatment-effect 1.5 --seed 5 --out " + dir_ + "/later");
  ASSERT_EQ(simulated.code, 0) << simulated.err;
  Outcome reported = Audience("report --data " + dir_ + "/ds --plan-dir " + dir_ + "/plan --sends " + dir_ +
                              "/sends.jsonl --purchases " + dir_ + "/later/purchases.csv --out " + dir_ +
                              "/report.html --json " + dir_ + "/report.json");
  ASSERT_EQ(reported.code, 0) << reported.err;
  const json report = json::parse(ReadFile(dir_ + "/report.json").value_or(""), nullptr, false);
  const json truth = json::parse(ReadFile(dir_ + "/later/truth.json").value_or(""), nullptr, false);
  ASSERT_TRUE(report.is_object());
  ASSERT_TRUE(truth.is_object());
  ASSERT_EQ(report["campaigns"].size(), summary["campaigns"].size());
  for (const json& c : report["campaigns"]) {
    const std::string name = c["name"];
    const json planned_campaign = *std::find_if(summary["campaigns"].begin(), summary["campaigns"].end(),
                                                [&](const json& p) { return p["name"] == name; });
    EXPECT_EQ(c["treated"]["customers"].get<int64_t>(), outcomes[name]["sent"]) << name;
    EXPECT_EQ(c["holdout"]["customers"].get<int64_t>(), planned_campaign["holdout"].get<int64_t>()) << name;
    const json t = *std::find_if(truth["campaigns"].begin(), truth["campaigns"].end(),
                                 [&](const json& x) { return x["name"] == name; });
    for (const auto& [figure, true_value] : {std::pair{"incremental_buyers", t["true_incremental_buyers"]},
                                             std::pair{"incremental_revenue", t["true_incremental_revenue"]}}) {
      const double estimate = c[figure]["estimate"], low = c[figure]["ci_low"], high = c[figure]["ci_high"];
      EXPECT_LE(low, estimate) << name << " " << figure;
      EXPECT_LE(estimate, high) << name << " " << figure;
      // A 95% interval is ±1.96 standard errors: four of its half-widths is ~8 of them, which
      // only a wrong estimate or a wrong interval misses.
      EXPECT_LE(std::abs(estimate - true_value.get<double>()), 4 * (high - low) / 2)
          << name << " " << figure << ": estimate " << estimate << ", truth " << true_value;
    }
  }
  const std::string html = ReadFile(dir_ + "/report.html").value_or("");
  EXPECT_NE(html.find("Department email"), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos) << "the report is self-contained";
  EXPECT_EQ(html.find("href=\"http"), std::string::npos) << "the report is self-contained";
}

// Issue 8's ground truth, over many draws: for 20 seeds, a plan (its holdouts drawn by the seed)
// whose every non-holdout customer is sent each campaign, later purchases simulated with a true
// effect, and the report's 95% intervals must contain the simulation's true uplift at least 17
// times of 20 for each campaign, for buyers and for revenue; with no effect, at most about 5%
// of the campaigns may come out significant.
TEST_F(FlowTest, ReportIntervalsCoverTheTrueUpliftOverSeeds) {
  MakeRetailer("--customers 5000 --products 100 --days 120 --seed 11");
  if (HasFatalFailure()) return;
  // 120 days from 2025-01-01: the history ends on 2025-04-30.
  const std::string plan = Write("plan.json", R"({
    "name": "Coverage", "start": "2025-05-01", "days": 7, "objective": "revenue",
    "campaigns": [
      {"name": "Email A", "offer": "any", "channel": "email", "send_date": "2025-05-01", "volume": {"fixed": 2000},
       "holdout_share": 0.3},
      {"name": "Push B", "offer": "any", "channel": "push", "send_date": "2025-05-03", "volume": {"fixed": 2000},
       "holdout_share": 0.3}]})");
  constexpr int kSeeds = 20;
  std::map<std::string, int> covered_buyers, covered_revenue;
  int significant_without_effect = 0, campaigns_without_effect = 0;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    const std::string run = fmt::format("{}/run{}", dir_, seed);
    Outcome planned = Audience(fmt::format(
        "plan --quiet --data {0}/ds --model {0}/model --plan {1} --seed {2} --out {3}/plan", dir_, plan, seed, run));
    ASSERT_EQ(planned.code, 0) << planned.err;
    // Every allocated customer who is not held out receives the message (engage is not the
    // subject here: its own tests and the loop test above cover sending).
    const json summary = json::parse(ReadFile(run + "/plan/summary.json").value_or(""), nullptr, false);
    std::string sends;
    for (const json& c : summary["campaigns"]) {
      const std::string csv =
          ReadFile(run + "/plan/campaigns/" + c["cohort_id"].get<std::string>() + ".csv").value_or("");
      const std::vector<std::string_view> lines = Split(csv, '\n');
      for (size_t i = 1; i < lines.size(); ++i) {
        if (lines[i].empty()) continue;
        const std::vector<std::string> f = CsvFields(lines[i]);  // customer,external_id,alias,device_id,...,holdout
        if (f[7] == "1" || (f[1].empty() && f[2].empty() && f[3].empty())) continue;
        json r = {{"id", fmt::format("s{}-{}", i, c["cohort_id"].get<std::string>())},
                  {"campaign_name", c["name"]},
                  {"channel", c["channel"]},
                  {"time", 1746057600},
                  {"outcome", "sent"}};
        r["external_user_id"] = f[1].empty() ? json(nullptr) : json(f[1]);
        r["user_id"] = r["external_user_id"];
        r["device_id"] = f[3].empty() ? json(nullptr) : json(f[3]);
        r["user_aliases"] = json::array();
        if (const size_t colon = f[2].find(':'); colon != std::string::npos) {
          r["user_aliases"].push_back({{"alias_label", f[2].substr(0, colon)}, {"alias_name", f[2].substr(colon + 1)}});
        }
        sends += r.dump() + "\n";
      }
    }
    const std::string sends_file = Write(fmt::format("run{}/sends.jsonl", seed), sends);
    for (const double effect : {1.3, 1.0}) {
      const std::string later = fmt::format("{}/later-{}", run, effect);
      Outcome simulated = Audience(fmt::format(
          "simulate --quiet --raw {0}/raw --plan-dir {1}/plan --sends {2} --days 21 --treatment-effect {3} --seed {4} "
          "--out {5}",
          dir_, run, sends_file, effect, seed, later));
      ASSERT_EQ(simulated.code, 0) << simulated.err;
      Outcome reported =
          Audience(fmt::format("report --data {0}/ds --plan-dir {1}/plan --sends {2} --purchases {3}/purchases.csv "
                               "--json {3}/report.json",
                               dir_, run, sends_file, later));
      ASSERT_EQ(reported.code, 0) << reported.err;
      const json report = json::parse(ReadFile(later + "/report.json").value_or(""), nullptr, false);
      const json truth = json::parse(ReadFile(later + "/truth.json").value_or(""), nullptr, false);
      ASSERT_TRUE(report.is_object() && truth.is_object());
      for (const json& c : report["campaigns"]) {
        const std::string name = c["name"];
        if (effect == 1.0) {
          ++campaigns_without_effect;
          significant_without_effect += c["significant"].get<bool>() ? 1 : 0;
          continue;
        }
        const json t = *std::find_if(truth["campaigns"].begin(), truth["campaigns"].end(),
                                     [&](const json& x) { return x["name"] == name; });
        auto contains = [&](const char* figure, double value) {
          return c[figure]["ci_low"].get<double>() <= value && value <= c[figure]["ci_high"].get<double>();
        };
        covered_buyers[name] += contains("incremental_buyers", t["true_incremental_buyers"].get<double>()) ? 1 : 0;
        covered_revenue[name] += contains("incremental_revenue", t["true_incremental_revenue"].get<double>()) ? 1 : 0;
      }
    }
  }
  for (const std::string name : {"Email A", "Push B"}) {
    EXPECT_GE(covered_buyers[name], 17) << name << ": buyers' intervals held the truth " << covered_buyers[name]
                                        << " times of " << kSeeds;
    EXPECT_GE(covered_revenue[name], 17) << name << ": revenue intervals held the truth " << covered_revenue[name]
                                         << " times of " << kSeeds;
  }
  std::printf("coverage over %d seeds: buyers %d and %d, revenue %d and %d; significant with no effect: %d of %d\n",
              kSeeds, covered_buyers["Email A"], covered_buyers["Push B"], covered_revenue["Email A"],
              covered_revenue["Push B"], significant_without_effect, campaigns_without_effect);
  EXPECT_EQ(campaigns_without_effect, 2 * kSeeds);
  // 5% of 40 is 2; 4 or more would happen by chance about 14% of the time, 6 or more under 1%.
  EXPECT_LE(significant_without_effect, 5)
      << "significant with no effect: " << significant_without_effect << " of " << campaigns_without_effect;
}

}  // namespace
}  // namespace cf
