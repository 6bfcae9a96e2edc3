// The audience console's export, opportunities and analytics APIs across real processes: a real
// `audience serve` on a generated retailer, planned by `audience plan`, exporting to a real
// `engage serve` with the keys saved through the console's settings API.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/files.h"
#include "base/strings.h"
#include "console_safety.h"
#include "engage_process.h"
#include "http/client.h"
#include "tests/audience_cli.h"

namespace cf {
namespace {

using nlohmann::json;

// A signed-in console session: the session cookie and the CSRF token on every request.
class ConsoleClient {
 public:
  ConsoleClient(const std::string& base_url, const std::string& email, const std::string& password)
      : client_(base_url, http::ClientOptions{.timeout_ms = 120000}) {
    Result<http::ClientResponse> r =
        client_.Post("/console/api/signin", json({{"email", email}, {"password", password}}).dump(),
                     {{"Content-Type", "application/json"}});
    if (!r.has_value() || r->status != 200) return;
    const std::string set_cookie = r->Header("set-cookie");
    cookie_ = set_cookie.substr(0, set_cookie.find(';'));
    csrf_ = json::parse(r->body).value("csrf_token", "");
  }
  bool signed_in() const { return !cookie_.empty() && !csrf_.empty(); }

  std::pair<long, json> Call(const std::string& method, const std::string& path, const json& body = nullptr) {
    std::vector<std::pair<std::string, std::string>> headers = {{"Cookie", cookie_}};
    if (method != "GET") {
      headers.emplace_back("Content-Type", "application/json");
      headers.emplace_back("X-CSRF-Token", csrf_);
    }
    Result<http::ClientResponse> r =
        client_.Send(method, "/console/api" + path, method == "GET" ? "" : body.dump(), headers);
    if (!r.has_value()) return {0, json()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  // Polls the job until it is no longer running.
  json Wait(const std::string& id) {
    for (int i = 0; i < 1200; ++i) {
      auto [status, job] = Call("GET", "/jobs/" + id);
      if (status != 200 || job.value("state", "") != "running") return job;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return json();
  }

 private:
  http::Client client_;
  std::string cookie_, csrf_;
};

class ExportConsoleTest : public AudienceCliTest {
 protected:
  // A retailer, its model and a two-campaign plan; engage with the partner and its people.
  void SetUp() override {
    AudienceCliTest::SetUp();
    ASSERT_EQ(
        Audience("generate --quiet --customers 600 --products 40 --days 120 --seed 3 --out " + dir_ + "/raw").code, 0);
    Outcome ingest = Audience("ingest --quiet --events " + dir_ + "/raw/purchases.csv --products " + dir_ +
                              "/raw/products.csv --customers " + dir_ + "/raw/customers.csv --out " + dir_ + "/ds");
    ASSERT_EQ(ingest.code, 0) << ingest.err;
    Outcome train = Audience("train --quiet --data " + dir_ + "/ds --horizon 30 --out " + dir_ + "/model");
    ASSERT_EQ(train.code, 0) << train.err;
    Write("plan.json", R"({"name": "Console week", "start": "2025-05-01", "days": 7, "objective": "revenue",
      "campaigns": [
        {"name": "Everything email", "offer": "any", "channel": "email", "send_date": "2025-05-01",
         "volume": {"fixed": 200}, "holdout_share": 0.1, "export_file_name": "Everything - console"},
        {"name": "Everything push", "offer": "any", "channel": "push", "send_date": "2025-05-02",
         "volume": {"fixed": 150}}]})");
    Outcome planned = Audience("plan --quiet --data " + dir_ + "/ds --model " + dir_ + "/model --plan " + dir_ +
                               "/plan.json --out " + dir_ + "/plan");
    ASSERT_EQ(planned.code, 0) << planned.err;

    store_ = dir_ + "/engage";
    partner_key_ =
        engage_test::RunAdmin(store_, {"partner", "add", "--partner", "tinyclues", "--display-name", "Tinyclues"})
            .last_line;
    import_key_ = engage_test::RunAdmin(store_, {"partner", "key", "generate", "--partner", "tinyclues"}).last_line;
    // Every identified customer of the retailer is a profile in engage.
    std::string users = "external_id\n";
    const std::string customers = ReadFile(dir_ + "/raw/customers.csv").value_or("");
    bool header = true;
    for (std::string_view line : Split(customers, '\n')) {
      if (header || line.empty()) {
        header = false;
        continue;
      }
      const std::vector<std::string> f = CsvFields(line);
      if (f.size() > 1 && !f[1].empty()) users += f[1] + "\n";
    }
    Write("users.csv", users);
    ASSERT_EQ(engage_test::RunAdmin(store_, {"users", "import", "--csv", dir_ + "/users.csv"}).exit_code, 0);

    Outcome user = Audience("user create --users " + dir_ + "/users.json --email m@example.com");
    ASSERT_EQ(user.code, 0) << user.err;
    std::string out = user.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    password_ = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
  }

  std::vector<std::string> ServeArgs() {
    return {audience_,     "serve",         "--data",    dir_ + "/ds",
            "--model",     dir_ + "/model", "--plan",    dir_ + "/plan.json",
            "--plan-dir",  dir_ + "/plan",  "--users",   dir_ + "/users.json",
            "--listen",    "127.0.0.1:0",   "--threads", "2",
            "--log-level", "warn"};
  }

  std::string store_, partner_key_, import_key_, password_;
};

TEST_F(ExportConsoleTest, SettingsKeepTheKeysAndTheExportJobSendsThePlansCohorts) {
  engage_test::EngageServer engage(store_);
  ASSERT_TRUE(engage.running());
  engage_test::ServerProcess server(ServeArgs());
  ASSERT_TRUE(server.running());
  ConsoleClient console(server.base_url(), "m@example.com", password_);
  ASSERT_TRUE(console.signed_in());

  // Nothing set: exporting is refused in words.
  auto [refused, why] = console.Call("POST", "/export/run", {{"campaigns", {"Everything email"}}});
  EXPECT_GE(refused, 400);
  EXPECT_NE(why.value("message", "").find("Settings"), std::string::npos) << why.dump();

  // A bad endpoint or partner is refused by export's rules.
  auto [bad, bad_body] = console.Call("POST", "/export/settings", {{"endpoint", "ftp://x"}});
  EXPECT_EQ(bad, 400) << bad_body.dump();
  auto [bad_partner, bad_partner_body] =
      console.Call("POST", "/export/settings", {{"endpoint", engage.base_url()}, {"partner", "tin y"}});
  EXPECT_EQ(bad_partner, 400);
  EXPECT_NE(bad_partner_body.value("message", "").find("partner 'tin y'"), std::string::npos)
      << bad_partner_body.dump();

  // A wrong data import key: each campaign fails in words, and the job still ends.
  ASSERT_EQ(
      console
          .Call("POST", "/export/settings",
                {{"endpoint", engage.base_url()}, {"partner_api_key", partner_key_}, {"data_import_key", "wrong"}})
          .first,
      200);
  auto [wrong_started, wrong_start] = console.Call("POST", "/export/run", {{"campaigns", {"Everything email"}}});
  ASSERT_EQ(wrong_started, 200) << wrong_start.dump();
  const json wrong = console.Wait(wrong_start["job_id"]);
  ASSERT_EQ(wrong.value("state", ""), "done") << wrong.dump();
  EXPECT_EQ(wrong["result"]["failed"], 1);
  EXPECT_EQ(wrong["result"]["campaigns"][0]["state"], "failed");
  EXPECT_NE(wrong["result"]["campaigns"][0].value("error", "").find("client secret"), std::string::npos)
      << wrong.dump();

  auto [saved, settings] = console.Call("POST", "/export/settings",
                                        {{"endpoint", engage.base_url()},
                                         {"partner", "tinyclues"},
                                         {"partner_api_key", partner_key_},
                                         {"data_import_key", import_key_}});
  ASSERT_EQ(saved, 200) << settings.dump();
  EXPECT_EQ(settings["partner_api_key_set"], true);
  EXPECT_EQ(settings["data_import_key_set"], true);
  EXPECT_EQ(settings.dump().find(partner_key_), std::string::npos) << "keys are never answered";
  EXPECT_EQ(settings.dump().find(import_key_), std::string::npos);
  auto [got, shown] = console.Call("GET", "/export/settings");
  EXPECT_EQ(got, 200);
  EXPECT_EQ(shown.dump().find(import_key_), std::string::npos);
  const std::string settings_file = dir_ + "/audience-settings.json";
  struct stat st {};
  ASSERT_EQ(stat(settings_file.c_str(), &st), 0) << "the default settings file is beside --users";
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // The export job: counts per campaign equal what `audience export --dry-run` says is to send.
  Write("keys.json", json({{"partner_api_key", partner_key_}, {"data_import_key", import_key_}}).dump());
  Outcome dry = Audience("export --quiet --json --dry-run --plan-dir " + dir_ + "/plan --endpoint " +
                         engage.base_url() + " --keys-file " + dir_ + "/keys.json");
  ASSERT_EQ(dry.code, 0) << dry.err;
  const json planned = json::parse(dry.out);
  auto [started, start] = console.Call("POST", "/export/run", {{"campaigns", {"Everything email", "Everything push"}}});
  ASSERT_EQ(started, 200) << start.dump();
  const json job = console.Wait(start["job_id"]);
  ASSERT_EQ(job.value("state", ""), "done") << job.dump();
  EXPECT_EQ(job["kind"], "export");
  EXPECT_DOUBLE_EQ(job["fraction"].get<double>(), 1.0);
  const json& result = job["result"];
  ASSERT_EQ(result["campaigns"].size(), 2u) << result.dump();
  EXPECT_EQ(result["failed"], 0);
  for (size_t i = 0; i < 2; ++i) {
    const json& row = result["campaigns"][i];
    const json& want = planned["campaigns"][i];
    EXPECT_EQ(row["state"], "done") << row.dump();
    EXPECT_EQ(row["sent"], want["to_add"]) << row.dump();
    EXPECT_EQ(row["planned"], want["planned"]);
    EXPECT_EQ(row["skipped"], want["skipped"]);
    EXPECT_EQ(row["added"].get<int64_t>() + row["unmatched"].get<int64_t>(), row["sent"].get<int64_t>());
    EXPECT_GT(row["added"].get<int64_t>(), 0) << row.dump();
    EXPECT_EQ(job["detail"]["campaigns"][i]["state"], "done");
  }

  // The campaign's export details: file name, cohort id, what engage acknowledged.
  const std::string cohort_id = result["campaigns"][0]["cohort_id"];
  auto [details_status, details] = console.Call("GET", "/export/campaigns/" + cohort_id);
  ASSERT_EQ(details_status, 200) << details.dump();
  EXPECT_EQ(details["export_file_name"], "Everything - console");
  EXPECT_EQ(details["cohort_id"], cohort_id);
  EXPECT_EQ(details["journal"]["exported"], true);
  EXPECT_EQ(details["journal"]["acknowledged"], result["campaigns"][0]["sent"]);
  EXPECT_EQ(details["last_export"]["added"], result["campaigns"][0]["added"]);
  EXPECT_EQ(console.Call("GET", "/export/campaigns/nope").first, 404);

  // Again: nothing changed, nothing sent; the CLI agrees with the console's journal.
  auto [again_status, again] = console.Call("POST", "/export/run", {{"campaigns", {"Everything email"}}});
  ASSERT_EQ(again_status, 200);
  const json second = console.Wait(again["job_id"]);
  EXPECT_EQ(second["result"]["campaigns"][0]["sent"], 0) << second.dump();
  Outcome cli = Audience("export --quiet --json --dry-run --plan-dir " + dir_ + "/plan --endpoint " +
                         engage.base_url() + " --keys-file " + dir_ + "/keys.json");
  EXPECT_EQ(json::parse(cli.out)["campaigns"][0]["to_add"], 0) << cli.out;
}

TEST_F(ExportConsoleTest, OpportunitiesReportAndModelAnswer) {
  Outcome evaluate =
      Audience("evaluate --quiet --data " + dir_ + "/ds --cutoff 2025-03-01 --json-out " + dir_ + "/backtest.json");
  ASSERT_EQ(evaluate.code, 0) << evaluate.err;
  std::vector<std::string> args = ServeArgs();
  args.insert(args.end(), {"--backtest", dir_ + "/backtest.json"});
  engage_test::ServerProcess server(args);
  ASSERT_TRUE(server.running());
  ConsoleClient console(server.base_url(), "m@example.com", password_);
  ASSERT_TRUE(console.signed_in());

  // The same ranking as `audience opportunities` with the plan directory.
  Outcome cli =
      Audience("opportunities --quiet --data " + dir_ + "/ds --model " + dir_ + "/model --by category --plan-dir " +
               dir_ + "/plan --top 5 --json-out " + dir_ + "/opportunities.json");
  ASSERT_EQ(cli.code, 0) << cli.err;
  const json want = json::parse(ReadFile(dir_ + "/opportunities.json").value_or("{}"));
  auto [started, start] = console.Call("POST", "/opportunities", {{"by", "category"}, {"top", 5}});
  ASSERT_EQ(started, 200) << start.dump();
  const json job = console.Wait(start["job_id"]);
  ASSERT_EQ(job.value("state", ""), "done") << job.dump();
  const json& got = job["result"]["opportunities"];
  ASSERT_EQ(got.size(), want["opportunities"].size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i]["value"], want["opportunities"][i]["value"]);
    EXPECT_NEAR(got[i]["expected_revenue"].get<double>(), want["opportunities"][i]["expected_revenue"].get<double>(),
                1e-6);
    EXPECT_TRUE(got[i].contains("untapped_buyers"));
  }
  auto [typed, typed_body] = console.Call("POST", "/opportunities", {{"by", 7}});
  EXPECT_EQ(typed, 400) << typed_body.dump();
  EXPECT_NE(typed_body.value("message", "").find("by must be a string"), std::string::npos) << typed_body.dump();
  auto [bad, bad_body] = console.Call("POST", "/opportunities", {{"by", "colour"}});
  if (bad == 200) bad_body = console.Wait(bad_body["job_id"]);
  EXPECT_NE(bad_body.dump().find("colour"), std::string::npos) << bad_body.dump();

  // No sends given: the report says so; the model page has the backtest's curves.
  auto [report_status, report] = console.Call("GET", "/analytics/report");
  ASSERT_EQ(report_status, 200) << report.dump();
  EXPECT_EQ(report["available"], false);
  EXPECT_NE(report["message"].get<std::string>().find("No sends yet"), std::string::npos);
  auto [model_status, model] = console.Call("GET", "/analytics/model");
  ASSERT_EQ(model_status, 200) << model.dump();
  EXPECT_EQ(model["available"], true);
  ASSERT_TRUE(model["models"].contains("universal")) << model.dump();
  EXPECT_EQ(model["models"]["universal"]["gains"].size(), 51u);
  EXPECT_EQ(model["models"]["universal"]["deciles"].size(), 10u);
}

// With the sends and the purchases since, the console's report is `audience report`'s.
TEST_F(ExportConsoleTest, TheReportIsTheCommandLinesOnTheSameInputs) {
  // Every non-holdout customer with an external id was sent its campaign on its send date.
  const json summary = json::parse(ReadFile(dir_ + "/plan/summary.json").value_or("{}"));
  std::string sends;
  for (const json& c : summary["campaigns"]) {
    const int64_t day = (c["send_date"] == "2025-05-01" ? 0 : 1);
    const int64_t time = 1746057600 + day * 86400;  // 2025-05-01T00:00:00Z + day
    const std::string text =
        ReadFile(dir_ + "/plan/campaigns/" + c["cohort_id"].get<std::string>() + ".csv").value_or("");
    bool header = true;
    for (std::string_view line : Split(text, '\n')) {
      if (header || line.empty()) {
        header = false;
        continue;
      }
      const std::vector<std::string> f = CsvFields(line);
      if (f[1].empty() || f.back() == "1") continue;
      sends += json({{"campaign_name", c["name"]},
                     {"external_user_id", f[1]},
                     {"channel", c["channel"]},
                     {"time", time + 3600},
                     {"outcome", "sent"}})
                   .dump() +
               "\n";
    }
  }
  Write("sends.jsonl", sends);
  Outcome simulated = Audience("simulate --quiet --raw " + dir_ + "/raw --plan-dir " + dir_ + "/plan --sends " + dir_ +
                               "/sends.jsonl --days 21 --treatment-effect 1.5 --seed 5 --out " + dir_ + "/later");
  ASSERT_EQ(simulated.code, 0) << simulated.err;
  Outcome reported =
      Audience("report --quiet --data " + dir_ + "/ds --plan-dir " + dir_ + "/plan --sends " + dir_ +
               "/sends.jsonl --purchases " + dir_ + "/later/purchases.csv --json " + dir_ + "/report.json");
  ASSERT_EQ(reported.code, 0) << reported.err;
  json want = json::parse(ReadFile(dir_ + "/report.json").value_or("{}"));

  std::vector<std::string> args = ServeArgs();
  args.insert(args.end(), {"--sends", dir_ + "/sends.jsonl", "--purchases", dir_ + "/later/purchases.csv"});
  engage_test::ServerProcess server(args);
  ASSERT_TRUE(server.running());
  ConsoleClient console(server.base_url(), "m@example.com", password_);
  ASSERT_TRUE(console.signed_in());
  auto [status, got] = console.Call("GET", "/analytics/report");
  ASSERT_EQ(status, 200) << got.dump();
  EXPECT_EQ(got["available"], true);
  got.erase("available");
  ASSERT_EQ(got["campaigns"].size(), 2u) << got.dump();
  EXPECT_GT(got["campaigns"][0]["treated"]["customers"].get<int64_t>(), 0);
  EXPECT_FALSE(got["campaigns"][0]["headline"].get<std::string>().empty());
  EXPECT_EQ(got, want) << "the console answers what `audience report --json` writes";

  // The report is kept between requests until an input changes: one send fewer in the file, one
  // treated customer fewer in the next answer.
  auto treated = [](const json& report) {
    int64_t n = 0;
    for (const json& c : report["campaigns"]) n += c["treated"]["customers"].get<int64_t>();
    return n;
  };
  auto [again_status, again] = console.Call("GET", "/analytics/report");
  ASSERT_EQ(again_status, 200) << again.dump();
  EXPECT_EQ(treated(again), treated(got));
  sends.pop_back();
  Write("sends.jsonl", sends.substr(0, sends.rfind('\n') + 1));
  auto [changed_status, changed] = console.Call("GET", "/analytics/report");
  ASSERT_EQ(changed_status, 200) << changed.dump();
  EXPECT_EQ(treated(changed), treated(got) - 1);
}

// Export's routes and pages behind the consoles' gate: none without a session, no state change
// without the CSRF token (and then nothing saved, nothing exported).
TEST_F(ExportConsoleTest, EveryRouteNeedsASessionAndEveryChangeTheCsrfToken) {
  const std::vector<engage_test::ConsoleRoute> routes = {
      {"GET", "/console/api/export/settings"},  {"POST", "/console/api/export/settings"},
      {"GET", "/console/api/export/campaigns"}, {"GET", "/console/api/export/campaigns/cf-x"},
      {"POST", "/console/api/export/run"},      {"GET", "/console/api/opportunities/attributes"},
      {"POST", "/console/api/opportunities"},   {"GET", "/console/api/analytics/report"},
      {"GET", "/console/api/analytics/model"}};
  const std::vector<const char*> pages = {"/console/export.js", "/console/opportunities.js", "/console/analytics.js"};
  engage_test::ServerProcess server(ServeArgs());
  ASSERT_TRUE(server.running());
  http::Client client(server.base_url());
  engage_test::ExpectEveryRouteNeedsASession(client, routes, pages, "audience_session");
  auto [cookie, csrf] = engage_test::ConsoleSignIn(client, "m@example.com", password_);
  for (const char* page : pages) EXPECT_EQ(client.Get(page, {{"Cookie", cookie}})->status, 200) << page;
  const json body = {{"endpoint", "http://127.0.0.1:1"}, {"data_import_key", "k"}, {"campaigns", {"Everything email"}}};
  engage_test::ExpectStateChangesNeedTheCsrfToken(client, routes, cookie, csrf, body.dump());
  EXPECT_FALSE(PathExists(dir_ + "/audience-settings.json")) << "nothing was saved";
  EXPECT_FALSE(PathExists(dir_ + "/plan/export")) << "nothing was exported";
}

}  // namespace
}  // namespace cf
