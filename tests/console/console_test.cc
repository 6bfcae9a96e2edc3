// The audience console across processes: a real `audience serve` over a small generated
// retailer (generate, ingest, train once for the suite), its `user` commands, every console
// route without a session and with a forged CSRF token, and the plan and editor APIs end to end
// against what the command line computes.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cctype>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/files.h"
#include "console_safety.h"
#include "engage_process.h"
#include "http/client.h"
#include "tests/audience_cli.h"

namespace cf {
namespace {

using json = nlohmann::json;
using Headers = engage_test::ConsoleHeaders;
using engage_test::ConsoleRoute;

// Every console API route of the audience section (docs/console-api.md), sample parameters.
const std::vector<ConsoleRoute> kApiRoutes = {
    {"POST", "/console/api/signout"},
    {"GET", "/console/api/session"},
    {"GET", "/console/api/settings/console"},
    {"GET", "/console/api/jobs/0123456789abcdef0123456789abcdef"},
    {"GET", "/console/api/plan"},
    {"POST", "/console/api/plan/run"},
    {"GET", "/console/api/campaigns/Existing"},
    {"POST", "/console/api/campaigns"},
    {"POST", "/console/api/campaigns/Existing"},
    {"POST", "/console/api/campaigns/Existing/remove"},
    {"GET", "/console/api/attributes"},
    {"GET", "/console/api/offer/count?offer=any"},
    {"GET", "/console/api/audience/count?audience="},
    {"GET", "/console/api/curve?offer=any"},
    // export's (src/console/export_api.cc, insights_api.cc)
    {"GET", "/console/api/export/settings"},
    {"POST", "/console/api/export/settings"},
    {"GET", "/console/api/export/campaigns"},
    {"GET", "/console/api/export/campaigns/cf-x"},
    {"POST", "/console/api/export/run"},
    {"GET", "/console/api/opportunities/attributes"},
    {"POST", "/console/api/opportunities"},
    {"GET", "/console/api/analytics/report"},
    {"GET", "/console/api/analytics/model"},
};
// Pages and the scripts that hold the console: a redirect to /signin without a session.
const std::vector<const char*> kPages = {"/",
                                         "/console/app.js",
                                         "/console/audience.css",
                                         "/console/plan.js",
                                         "/console/editor.js",
                                         "/console/settings.js",
                                         "/console/export.js",
                                         "/console/opportunities.js",
                                         "/console/analytics.js"};

// The retailer of the whole suite: generated, ingested and trained once (the slow part).
struct World {
  TempDirectory dir{"audience-console"};
  std::string bin;
  bool ok = false;
};

World& TheWorld() {
  static World* w = [] {
    auto* world = new World;
    const char* bin = std::getenv("CF_BIN_DIR");
    world->bin = std::string(bin != nullptr ? bin : "build/bin") + "/audience";
    const std::string d = world->dir.path();
    auto run = [&](const std::string& args) {
      const int status = std::system((world->bin + " " + args + " >" + d + "/setup.out 2>&1").c_str());
      return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    };
    world->ok = run("generate --quiet --customers 2500 --products 80 --days 150 --seed 11 --out " + d + "/raw") &&
                run("ingest --quiet --events " + d + "/raw/purchases.csv --products " + d +
                    "/raw/products.csv --customers " + d + "/raw/customers.csv --out " + d + "/ds") &&
                run("train --quiet --data " + d + "/ds --horizon 30 --train-cutoffs 2 --sample-rows 30000 --out " + d +
                    "/model");
    return world;
  }();
  return *w;
}

class AudienceConsoleTest : public AudienceCliTest {
 protected:
  void SetUp() override {
    AudienceCliTest::SetUp();
    ASSERT_TRUE(TheWorld().ok) << ReadFile(TheWorld().dir.path() + "/setup.out").value_or("");
    ds_ = TheWorld().dir.path() + "/ds";
    model_ = TheWorld().dir.path() + "/model";
    plan_ = dir_ + "/plan.json";
    plan_dir_ = dir_ + "/plandir";
    users_ = dir_ + "/users.json";
    Outcome init = Audience("campaign init --plan " + plan_ +
                            " --name 'Console week' --start 2026-12-07 --pressure email:max=1/7d");
    ASSERT_EQ(init.code, 0) << init.err;
    Outcome add = Audience("campaign add --plan " + plan_ +
                           " --name Existing --offer any --channel email --send-date 2026-12-08 --fixed 300");
    ASSERT_EQ(add.code, 0) << add.err;
    Outcome user = Audience("user create --users " + users_ + " --email Ann@Example.com");
    ASSERT_EQ(user.code, 0) << user.err;
    password_ = user.out.substr(user.out.rfind('\n', user.out.size() - 2) + 1);
    while (!password_.empty() && password_.back() == '\n') password_.pop_back();
    ASSERT_EQ(password_.size(), 24u) << user.out;
    server_ = std::make_unique<engage_test::ServerProcess>(std::vector<std::string>{
        audience_,   "serve",      "--data",         ds_,       "--model",     model_,     "--plan",
        plan_,       "--plan-dir", plan_dir_,        "--users", users_,        "--listen", "127.0.0.1:0",
        "--threads", "2",          "--curve-points", "40",      "--log-level", "warn"});
    ASSERT_TRUE(server_->running());
    client_ = std::make_unique<http::Client>(server_->base_url());
  }

  std::pair<std::string, std::string> SignIn() {
    return engage_test::ConsoleSignIn(*client_, "ann@example.com", password_);
  }

  // A signed-in call; the status and the parsed body.
  std::pair<int, json> Call(const std::string& method, const std::string& path, const json& body = nullptr) {
    if (cookie_.empty()) std::tie(cookie_, csrf_) = SignIn();
    Headers h = {{"Cookie", cookie_}};
    if (method != "GET") {
      h.emplace_back("Content-Type", "application/json");
      h.emplace_back("X-CSRF-Token", csrf_);
    }
    auto r = client_->Send(method, path, method == "GET" ? "" : body.dump(), h);
    EXPECT_TRUE(r.has_value()) << path;
    if (!r.has_value()) return {0, json()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }

  static std::string Encode(const std::string& s) {
    std::string out;
    for (unsigned char ch : s) {
      if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.') {
        out += static_cast<char>(ch);
      } else {
        out += fmt::format("%{:02X}", ch);
      }
    }
    return out;
  }

  std::string ds_, model_, plan_, plan_dir_, users_, password_, cookie_, csrf_;
  std::unique_ptr<engage_test::ServerProcess> server_;
  std::unique_ptr<http::Client> client_;
};

TEST_F(AudienceConsoleTest, EveryRouteRefusesRequestsWithoutASession) {
  engage_test::ExpectEveryRouteNeedsASession(*client_, kApiRoutes, kPages, "audience_session");
  // Signed in, the pages load.
  auto [cookie, csrf] = SignIn();
  for (const char* page : kPages) EXPECT_EQ(client_->Get(page, {{"Cookie", cookie}})->status, 200) << page;
}

TEST_F(AudienceConsoleTest, AForgedCsrfTokenChangesNothing) {
  auto [cookie, csrf] = SignIn();
  const std::string before = ReadFile(plan_).value();
  const json campaign = {{"campaign",
                          {{"name", "Forged"},
                           {"offer", "any"},
                           {"channel", "sms"},
                           {"send_date", "2026-12-09"},
                           {"volume", {{"fixed", 10}}}}}};
  engage_test::ExpectStateChangesNeedTheCsrfToken(*client_, kApiRoutes, cookie, csrf, campaign.dump());
  EXPECT_EQ(ReadFile(plan_).value(), before);
  EXPECT_FALSE(PathExists(plan_dir_)) << "no plan was run";
  EXPECT_EQ(client_->Get("/console/api/session", {{"Cookie", cookie}})->status, 200) << "still signed in";
}

TEST_F(AudienceConsoleTest, EditorAndPlanApisAreTheCommandLinesComputations) {
  // The pickers' attributes come from the dataset.
  auto [s_attr, attrs] = Call("GET", "/console/api/attributes");
  ASSERT_EQ(s_attr, 200) << attrs.dump();
  ASSERT_FALSE(attrs["product_attributes"].empty()) << attrs.dump();
  const json& attr = attrs["product_attributes"][0];
  ASSERT_FALSE(attr["values"].empty()) << attr.dump();
  const std::string offer =
      fmt::format("{} = {}", attr["name"].get<std::string>(), json(attr["values"][0]["value"]).dump());

  // Live counts: compiled on the server; errors are the compiler's.
  auto [s_any, any] = Call("GET", "/console/api/offer/count?offer=any");
  EXPECT_EQ(s_any, 200);
  EXPECT_EQ(any["products"], 80);
  auto [s_one, one] = Call("GET", "/console/api/offer/count?offer=" + Encode(offer));
  EXPECT_EQ(s_one, 200) << one.dump();
  EXPECT_GT(one["products"].get<int>(), 0);
  EXPECT_LT(one["products"].get<int>(), 80);
  auto [s_bad, bad] = Call("GET", "/console/api/offer/count?offer=" + Encode("nosuch = 1"));
  EXPECT_EQ(s_bad, 400);
  EXPECT_NE(bad["message"].get<std::string>().find("nosuch"), std::string::npos) << bad.dump();
  auto [s_aud, aud] = Call("GET", "/console/api/audience/count?audience=");
  EXPECT_EQ(s_aud, 200);
  EXPECT_EQ(aud["customers"], aud["of"]);

  // The curve is `audience curve`'s, point for point.
  auto [s_curve, curve] = Call("GET", "/console/api/curve?offer=" + Encode(offer));
  ASSERT_EQ(s_curve, 200) << curve.dump();
  Outcome cli = Audience(fmt::format("curve --json --quiet --points 40 --threads 2 --data {} --model {} --offer '{}'",
                                     ds_, model_, offer));
  ASSERT_EQ(cli.code, 0) << cli.err;
  const json expected = json::parse(cli.out);
  ASSERT_EQ(curve["points"].size(), expected["points"].size());
  for (size_t i = 0; i < expected["points"].size(); ++i) {
    EXPECT_EQ(curve["points"][i]["size"], expected["points"][i]["size"]) << i;
    EXPECT_NEAR(curve["points"][i]["expected_buyers"].get<double>(),
                expected["points"][i]["expected_buyers"].get<double>(), 1e-6)
        << i;
  }
  const uint64_t size = curve["points"][10]["size"].get<uint64_t>();

  // A campaign saved from the editor: the plan file's format, the library's checks.
  const std::string before = ReadFile(plan_).value();
  json campaign = {{"name", "Editor pick"},       {"offer", offer},
                   {"channel", "push"},           {"send_date", "2026-12-14"},
                   {"priority", "high"},          {"holdout_share", 0.2},
                   {"volume", {{"fixed", size}}}, {"export_file_name", "Editor pick - wk 50"}};
  auto [s_late, late] = Call("POST", "/console/api/campaigns", {{"campaign", campaign}});
  EXPECT_EQ(s_late, 400);
  EXPECT_NE(late["message"].get<std::string>().find("campaigns[1].send_date: 2026-12-14 is outside the plan"),
            std::string::npos)
      << late.dump();
  campaign["send_date"] = "2026-12-10";
  auto [s_bogus, bogus] = Call("POST", "/console/api/campaigns", {{"campaign", campaign}, {"extra", 1}});
  EXPECT_EQ(s_bogus, 400) << bogus.dump();
  EXPECT_EQ(ReadFile(plan_).value(), before) << "refused edits leave the file as it was";
  auto [s_add, added] = Call("POST", "/console/api/campaigns", {{"campaign", campaign}});
  ASSERT_EQ(s_add, 200) << added.dump();
  auto [s_dup, dup] = Call("POST", "/console/api/campaigns", {{"campaign", campaign}});
  EXPECT_EQ(s_dup, 409) << dup.dump();
  Outcome listed = Audience("campaign list --json --plan " + plan_);
  ASSERT_EQ(listed.code, 0) << listed.err;
  const json file = json::parse(listed.out);
  ASSERT_EQ(file["campaigns"].size(), 2u);
  EXPECT_EQ(file["campaigns"][1]["volume"]["fixed"], size);
  EXPECT_EQ(file["campaigns"][1]["cohort_id"], added["cohort_id"]);

  // Edit: the whole campaign again, changed; the file has it.
  campaign["priority"] = "low";
  auto [s_edit, edited] = Call("POST", "/console/api/campaigns/" + Encode("Editor pick"), {{"campaign", campaign}});
  ASSERT_EQ(s_edit, 200) << edited.dump();
  auto [s_get, got] = Call("GET", "/console/api/campaigns/" + Encode("Editor pick"));
  ASSERT_EQ(s_get, 200);
  EXPECT_EQ(got["priority"], "low");
  EXPECT_EQ(got["export_file_name"], "Editor pick - wk 50");
  EXPECT_EQ(got["cohort_id"], added["cohort_id"]);
  EXPECT_TRUE(got["planned"].is_null());

  // Run plan: a job, then the calendar's numbers are the plan directory's.
  auto [s_plan0, plan0] = Call("GET", "/console/api/plan");
  EXPECT_TRUE(plan0["summary"].is_null());
  auto [s_run, run] = Call("POST", "/console/api/plan/run", json::object());
  ASSERT_EQ(s_run, 200) << run.dump();
  json job;
  for (int i = 0; i < 600; ++i) {
    job = Call("GET", "/console/api/jobs/" + run["job_id"].get<std::string>()).second;
    if (job["state"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(job["state"], "done") << job.dump();
  EXPECT_EQ(job["kind"], "plan");
  EXPECT_TRUE(PathExists(plan_dir_ + "/summary.json"));
  auto [s_plan, view] = Call("GET", "/console/api/plan");
  ASSERT_EQ(s_plan, 200);
  ASSERT_FALSE(view["summary"].is_null()) << view.dump();
  EXPECT_EQ(view["summary"]["violations"], 0);
  EXPECT_EQ(view["stale"], false);
  const json summary = json::parse(ReadFile(plan_dir_ + "/summary.json").value());
  ASSERT_EQ(view["campaigns"].size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const json& planned = view["campaigns"][i]["planned"];
    ASSERT_FALSE(planned.is_null()) << view.dump();
    EXPECT_EQ(planned["selected"], summary["campaigns"][i]["selected"]);
    EXPECT_DOUBLE_EQ(planned["expected_revenue"].get<double>(),
                     summary["campaigns"][i]["expected_revenue"].get<double>());
  }
  EXPECT_LE(view["campaigns"][1]["planned"]["selected"].get<uint64_t>() +
                view["campaigns"][1]["planned"]["holdout"].get<uint64_t>(),
            size);

  // Remove: gone from the file; a missing one is a 404 naming it.
  auto [s_rm, rm] = Call("POST", "/console/api/campaigns/" + Encode("Editor pick") + "/remove", json::object());
  EXPECT_EQ(s_rm, 200) << rm.dump();
  auto [s_rm2, rm2] = Call("POST", "/console/api/campaigns/" + Encode("Editor pick") + "/remove", json::object());
  EXPECT_EQ(s_rm2, 404);
  EXPECT_NE(rm2["message"].get<std::string>().find("no such campaign"), std::string::npos) << rm2.dump();
  auto [s_after, after] = Call("GET", "/console/api/plan");
  EXPECT_EQ(after["campaigns"].size(), 1u);
  EXPECT_EQ(after["stale"], true);

  // SIGTERM stops the server cleanly.
  const int status = server_->Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(AudienceConsoleTest, SignOutUserRemovalAndTheSignInLimit) {
  auto [cookie, csrf] = SignIn();
  engage_test::ExpectSignOutEndsTheSession(*client_, cookie, csrf);

  auto [cookie2, csrf2] = SignIn();
  EXPECT_EQ(client_->Get("/console/api/session", {{"Cookie", cookie2}})->status, 200);
  Outcome removed = Audience("user remove --users " + users_ + " --email ann@example.com");
  EXPECT_EQ(removed.code, 0) << removed.err;
  EXPECT_EQ(client_->Get("/console/api/session", {{"Cookie", cookie2}})->status, 401);

  Outcome created = Audience("user create --users " + users_ + " --email bob@example.com");
  ASSERT_EQ(created.code, 0);
  for (int i = 0; i < 5; ++i) {
    auto r = client_->Post("/console/api/signin", json{{"email", "bob@example.com"}, {"password", "wrong"}}.dump(),
                           {{"Content-Type", "application/json"}});
    EXPECT_EQ(r->status, 401) << r->body;
  }
  auto limited = client_->Post("/console/api/signin", json{{"email", "bob@example.com"}, {"password", "x"}}.dump(),
                               {{"Content-Type", "application/json"}});
  EXPECT_EQ(limited->status, 429) << limited->body;
  EXPECT_FALSE(limited->Header("retry-after").empty());
}

TEST_F(AudienceConsoleTest, UserCommandsKeepTheirFileAndNothingElse) {
  Outcome list = Audience("user list --users " + users_);
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.out.find("ann@example.com\t"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find(password_), std::string::npos);
  EXPECT_EQ(ReadFile(users_).value().find(password_), std::string::npos) << "only the hash is stored";
  Outcome again = Audience("user create --users " + users_ + " --email ann@example.com");
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("audience user create: a user has email 'ann@example.com'"), std::string::npos) << again.err;
  const std::string notes = Write("notes.json", "{\"todo\": 1}\n");
  Outcome foreign = Audience("user create --users " + notes + " --email ann@example.com");
  EXPECT_EQ(foreign.code, 1);
  EXPECT_NE(foreign.err.find("is not a users file of the audience console"), std::string::npos) << foreign.err;
  EXPECT_EQ(ReadFile(notes).value(), "{\"todo\": 1}\n");
  // serve refuses it too, before loading anything.
  Outcome serve = Audience("serve --data " + ds_ + " --model " + model_ + " --plan " + plan_ + " --plan-dir " +
                           plan_dir_ + " --users " + notes + " --listen 127.0.0.1:0");
  EXPECT_EQ(serve.code, 1);
  EXPECT_NE(serve.err.find("is not a users file"), std::string::npos) << serve.err;
}

}  // namespace
}  // namespace cf
