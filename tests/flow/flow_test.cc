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
  for (std::string_view line : Split(ReadFile(dir_ + "/sends.jsonl").value_or(""), '\n')) {
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

}  // namespace
}  // namespace cf
