// The console's safety across processes: a real `engage serve` and its `user` commands. Every
// console route is walked without a session (401 for APIs, a redirect to /signin for pages) and
// with a session but a forged or missing CSRF token (403 for every state-changing request).
#include <filesystem>

#include "console_safety.h"
#include "test_util.h"

namespace cf::engage_test {
namespace {

using nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

// Every console API route (docs/console-api.md), with sample path parameters.
const std::vector<ConsoleRoute> kApiRoutes = {
    {"POST", "/console/api/signout"},
    {"GET", "/console/api/session"},
    {"GET", "/console/api/partners"},
    {"GET", "/console/api/partners/tinyclues"},
    {"POST", "/console/api/partners/tinyclues/key"},
    {"POST", "/console/api/partners/tinyclues/key/invalidate"},
    {"GET", "/console/api/partners/tinyclues/cohorts"},
    {"GET", "/console/api/segments"},
    {"POST", "/console/api/segments/size"},
    {"POST", "/console/api/segments"},
    {"GET", "/console/api/campaigns"},
    {"POST", "/console/api/campaigns"},
    {"POST", "/console/api/campaigns/some-id/send"},
    {"GET", "/console/api/campaigns/some-id/sends"},
    {"GET", "/console/api/users?external_id=u1"},
    {"GET", "/console/api/api-keys"},
    {"POST", "/console/api/api-keys"},
    {"POST", "/console/api/api-keys/revoke"},
    {"GET", "/console/api/frequency-caps"},
    {"POST", "/console/api/frequency-caps"},
    {"POST", "/console/api/frequency-caps/remove"},
};
// Pages and the script that holds the console: a redirect to /signin without a session.
const std::vector<const char*> kPages = {"/", "/console/app.js"};

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = MakeTempDir("engage-console");
    creds_ = SetUpCredentials(data_);
    password_ = RunAdmin(data_, {"user", "create", "--email", "Ann@Example.com"}).last_line;
    ASSERT_EQ(password_.size(), 24u) << password_;
    server_ = std::make_unique<EngageServer>(data_);
    ASSERT_TRUE(server_->running());
    client_ = std::make_unique<http::Client>(server_->base_url());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(data_);
  }

  // Signs in; returns the Cookie header value and the CSRF token.
  std::pair<std::string, std::string> SignIn() { return ConsoleSignIn(*client_, "ann@example.com", password_); }

  std::string data_;
  Credentials creds_;
  std::string password_;
  std::unique_ptr<EngageServer> server_;
  std::unique_ptr<http::Client> client_;
};

TEST_F(ConsoleTest, EveryRouteRefusesRequestsWithoutASession) {
  ExpectEveryRouteNeedsASession(*client_, kApiRoutes, kPages, "engage_session");
}

TEST_F(ConsoleTest, StateChangingRequestsNeedTheSessionsCsrfToken) {
  auto [cookie, csrf] = SignIn();
  ExpectStateChangesNeedTheCsrfToken(*client_, kApiRoutes, cookie, csrf, "{}");
  // Nothing was changed by the refused requests: the partner still has its data import key.
  auto partner = client_->Get("/console/api/partners/tinyclues", {{"Cookie", cookie}});
  EXPECT_EQ(partner->status, 200);
  EXPECT_TRUE(json::parse(partner->body)["data_import_key_active"].get<bool>()) << partner->body;
  // With the token, the request goes through.
  auto ok = client_->Post("/console/api/partners/tinyclues/key/invalidate", "{}",
                          {{"Cookie", cookie}, {"X-CSRF-Token", csrf}, {"Content-Type", "application/json"}});
  EXPECT_EQ(ok->status, 200) << ok->body;
  auto after = client_->Get("/console/api/partners/tinyclues", {{"Cookie", cookie}});
  EXPECT_FALSE(json::parse(after->body)["data_import_key_active"].get<bool>());
}

TEST_F(ConsoleTest, SignOutAndUserRemovalEndTheSession) {
  auto [cookie, csrf] = SignIn();
  EXPECT_EQ(client_->Get("/", {{"Cookie", cookie}})->status, 200);
  ExpectSignOutEndsTheSession(*client_, cookie, csrf);

  auto [cookie2, csrf2] = SignIn();
  EXPECT_EQ(client_->Get("/console/api/session", {{"Cookie", cookie2}})->status, 200);
  auto removed = RunAdmin(data_, {"user", "remove", "--email", "ann@example.com"});
  EXPECT_EQ(removed.exit_code, 0);
  EXPECT_EQ(client_->Get("/console/api/session", {{"Cookie", cookie2}})->status, 401);
  auto list = RunAdmin(data_, {"user", "list"});
  EXPECT_EQ(list.out.find("ann@example.com"), std::string::npos) << list.out;
}

TEST_F(ConsoleTest, FailedSignInsAreLimitedPerEmail) {
  auto attempt = [&](const std::string& password) {
    return client_->Post("/console/api/signin", json{{"email", "ann@example.com"}, {"password", password}}.dump(),
                         {{"Content-Type", "application/json"}});
  };
  for (int i = 0; i < 5; ++i) {
    auto r = attempt("wrong");
    EXPECT_EQ(r->status, 401) << r->body;
    EXPECT_NE(r->body.find("wrong email or password"), std::string::npos);
  }
  // Now even the right password waits: the limit is checked before the password.
  auto limited = attempt(password_);
  EXPECT_EQ(limited->status, 429) << limited->body;
  EXPECT_FALSE(limited->Header("retry-after").empty());
  EXPECT_NE(limited->body.find("too many failed sign-ins"), std::string::npos) << limited->body;
}

TEST_F(ConsoleTest, UserCommandsPrintThePasswordOnceAndNameBadInput) {
  auto list = RunAdmin(data_, {"user", "list"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("ann@example.com\tdefault\t"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find(password_), std::string::npos);
  auto again = Engage("user create --email ann@example.com --data " + data_, data_);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("ann@example.com already exists"), std::string::npos) << again.err;
  auto bad = Engage("user create --email not-an-email --data " + data_, data_);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("'not-an-email' is not an email address"), std::string::npos) << bad.err;
  auto missing = Engage("user remove --email bob@example.com --data " + data_, data_);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no dashboard user has email 'bob@example.com'"), std::string::npos) << missing.err;
}

TEST_F(ConsoleTest, SegmentSizeIsTheServersEvaluation) {
  auto [cookie, csrf] = SignIn();
  CreateUsers(*client_, creds_.api_key, "u", 6);
  json auth = {{"partner_api_key", creds_.partner_key}, {"client_secret", creds_.client_secret}, {"cohort_id", "c1"}};
  json cohort = auth;
  cohort["name"] = "Buyers";
  cohort["created_at"] = "2026-11-28T10:00:00Z";
  PostJson(*client_, "/partners/tinyclues/cohorts", cohort);
  json users = auth;
  users["cohort_changes"] = json::array({{{"user_ids", {"u0", "u2", "u4"}}}});
  PostJson(*client_, "/partners/tinyclues/cohorts/users", users);
  Headers h = {{"Cookie", cookie}, {"X-CSRF-Token", csrf}, {"Content-Type", "application/json"}};
  auto picker = client_->Get("/console/api/partners/tinyclues/cohorts", {{"Cookie", cookie}});
  EXPECT_EQ(json::parse(picker->body)["cohorts"], json::array({"Buyers"}));
  json filter = {{"partner_cohort", {{"partner", "tinyclues"}, {"excludes", {"Buyers"}}}}};
  auto size = client_->Post("/console/api/segments/size", json{{"filter", filter}}.dump(), h);
  ASSERT_EQ(size->status, 200) << size->body;
  EXPECT_EQ(json::parse(size->body)["size"], 3);
  auto bad =
      client_->Post("/console/api/segments/size",
                    json{{"filter", {{"partner_cohort", {{"partner", "nobody"}, {"includes", {"x"}}}}}}}.dump(), h);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("filter.partner_cohort.partner"), std::string::npos) << bad->body;
}

}  // namespace
}  // namespace cf::engage_test
