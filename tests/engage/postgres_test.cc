// engage on PostgreSQL: two real `engage serve` processes on one database of a throwaway
// cluster behave as one, and `engage migrate --from DIR --to URL` moves a SQLite store with
// nothing lost. Skipped, saying why, only when the PostgreSQL 15 binaries are missing.
#include <libpq-fe.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "console_safety.h"
#include "engage/postgres_storage.h"
#include "http/session_contract.h"
#include "pg_cluster.h"
#include "test_util.h"

namespace cf::engage_test {
namespace {

using nlohmann::json;

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = PgCluster::Shared();
    if (cluster_ == nullptr) GTEST_SKIP() << PgCluster::SkipReason();
    scratch_ = MakeTempDir("engage-pg");
    url_ = cluster_->FreshDatabase("engage_test");
  }
  void TearDown() override {
    if (!scratch_.empty()) std::filesystem::remove_all(scratch_);
  }
  // `engage ARGS --store URL`.
  CliRun Admin(const std::string& args) { return Engage(args + " --log-level warn --store '" + url_ + "'", scratch_); }
  static std::string LastLine(const std::string& out) {
    std::string s = out;
    while (!s.empty() && s.back() == '\n') s.pop_back();
    const auto nl = s.rfind('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
  }
  Credentials Creds() {
    Credentials c;
    c.api_key = LastLine(Admin("api-key create --name test").out);
    c.partner_key = LastLine(Admin("partner add --partner tinyclues").out);
    c.client_secret = LastLine(Admin("partner key generate --partner tinyclues").out);
    return c;
  }
  std::unique_ptr<ServerProcess> Serve(const std::string& url) {
    return std::make_unique<ServerProcess>(std::vector<std::string>{
        EngageBinary(), "serve", "--store", url, "--listen", "127.0.0.1:0", "--log-level", "warn"});
  }
  static std::set<std::string> Members(http::Client& client, const std::string& key, const std::string& cohort,
                                       int users) {
    std::set<std::string> out;
    for (int start = 0; start < users; start += 50) {
      json ids = json::array();
      for (int i = start; i < std::min(users, start + 50); ++i) ids.push_back(fmt::format("u{}", i));
      json r = PostJson(client, "/users/export/ids",
                        {{"external_ids", ids}, {"fields_to_export", {"external_id", "cohorts"}}}, key);
      for (const auto& u : r["users"]) {
        for (const auto& c : u["cohorts"]) {
          if (c["cohort_id"] == cohort) out.insert(u["external_id"].get<std::string>());
        }
      }
    }
    return out;
  }
  static int64_t SegmentSize(http::Client& client, const std::string& key, const std::string& segment_id) {
    auto r = client.Get("/segments/details?segment_id=" + segment_id, {{"Authorization", "Bearer " + key}});
    EXPECT_TRUE(r.has_value());
    return r.has_value() ? json::parse(r->body, nullptr, false).value("size", int64_t{-1}) : -1;
  }

  PgCluster* cluster_ = nullptr;
  std::string scratch_;
  std::string url_;
};

TEST_F(PostgresTest, TwoServersOnOneDatabaseBehaveAsOne) {
  Credentials creds = Creds();
  ASSERT_FALSE(creds.client_secret.empty());
  auto a = Serve(url_);
  auto b = Serve(url_);
  ASSERT_TRUE(a->running());
  ASSERT_TRUE(b->running()) << "a second server on the same database must start (no directory lock)";
  http::Client ca(a->base_url()), cb(b->base_url());
  constexpr int kUsers = 400;
  CreateUsers(ca, creds.api_key, "u", kUsers / 2);
  // Users created through B are seen by A at once.
  for (int start = kUsers / 2; start < kUsers; start += 50) {
    json attrs = json::array();
    for (int i = start; i < start + 50; ++i) attrs.push_back({{"external_id", fmt::format("u{}", i)}});
    PostJson(cb, "/users/track", {{"attributes", attrs}}, creds.api_key);
  }

  // Concurrent imports into one cohort through both servers end in the union.
  const json keys = {{"partner_api_key", creds.partner_key}, {"client_secret", creds.client_secret}};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      http::Client c(t == 0 ? a->base_url() : b->base_url());
      for (int batch = 0; batch < 10; ++batch) {
        json ids = json::array();
        for (int i = t * 200 + batch * 20; i < t * 200 + batch * 20 + 20; ++i) ids.push_back(fmt::format("u{}", i));
        json body = keys;
        body["cohort_id"] = "shared";
        body["cohort_changes"] = {{{"user_ids", ids}}};
        PostJson(c, "/partners/tinyclues/cohorts/users", body);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (int i = 0; i < kUsers; ++i) all.insert(fmt::format("u{}", i));
  EXPECT_EQ(Members(ca, creds.api_key, "shared", kUsers), all);
  EXPECT_EQ(Members(cb, creds.api_key, "shared", kUsers), all);

  // A removal through A is seen by B's cached bitmap and segment sizes agree.
  json body = keys;
  body["cohort_id"] = "shared";
  body["cohort_changes"] = {{{"user_ids", {"u0", "u1", "u399"}}, {"should_remove", true}}};
  json removed = PostJson(ca, "/partners/tinyclues/cohorts/users", body);
  EXPECT_EQ(removed.value("removed", -1), 3);
  json seg = PostJson(cb, "/segments/create",
                      {{"name", "shared"},
                       {"filter", {{"partner_cohort", {{"partner", "tinyclues"}, {"includes", {"shared"}}}}}}},
                      creds.api_key);
  const std::string segment_id = seg.value("segment_id", "");
  EXPECT_EQ(SegmentSize(ca, creds.api_key, segment_id), kUsers - 3);
  EXPECT_EQ(SegmentSize(cb, creds.api_key, segment_id), kUsers - 3);
  body["cohort_changes"] = {{{"user_ids", {"u0"}}}};
  json added = PostJson(cb, "/partners/tinyclues/cohorts/users", body);
  EXPECT_EQ(added.value("added", -1), 1) << added.dump();
  EXPECT_EQ(SegmentSize(cb, creds.api_key, segment_id), kUsers - 2);
  EXPECT_EQ(SegmentSize(ca, creds.api_key, segment_id), kUsers - 2);

  // Keys generated or invalidated by an admin command work, or stop working, on both at once.
  const std::string fresh = LastLine(Admin("partner key generate --partner tinyclues").out);
  ASSERT_FALSE(fresh.empty());
  for (http::Client* c : {&ca, &cb}) {
    json old = keys;
    old["cohort_id"] = "shared";
    old["cohort_changes"] = {{{"user_ids", {"u5"}}}};
    PostJson(*c, "/partners/tinyclues/cohorts/users", old, "", 401);
    json now = old;
    now["client_secret"] = fresh;
    PostJson(*c, "/partners/tinyclues/cohorts/users", now);
  }
  EXPECT_EQ(Admin("partner key invalidate --partner tinyclues").exit_code, 0);
  for (http::Client* c : {&ca, &cb}) {
    json now = keys;
    now["client_secret"] = fresh;
    now["cohort_id"] = "shared";
    now["cohort_changes"] = {{{"user_ids", {"u5"}}}};
    PostJson(*c, "/partners/tinyclues/cohorts/users", now, "", 401);
  }
  const std::string api2 = LastLine(Admin("api-key create --name second").out);
  PostJson(cb, "/users/track", {{"attributes", {{{"external_id", "late"}}}}}, api2);
}

// A workspace's limit holds across servers: the requests of both count in one window.
TEST_F(PostgresTest, RateLimitsAreSharedByTheServers) {
  Credentials creds = Creds();
  ASSERT_EQ(Admin("rate-limit set --endpoint /users/track --limit 4 --window-seconds 86400").exit_code, 0);
  auto a = Serve(url_);
  auto b = Serve(url_);
  ASSERT_TRUE(a->running() && b->running());
  http::Client ca(a->base_url()), cb(b->base_url());
  const json body = {{"attributes", {{{"external_id", "x"}}}}};
  for (int i = 0; i < 4; ++i) PostJson(i % 2 ? cb : ca, "/users/track", body, creds.api_key);
  for (http::Client* c : {&ca, &cb}) {
    auto r = c->Post("/users/track", body.dump(), {{"Authorization", "Bearer " + creds.api_key}});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 429) << r->body;
    EXPECT_EQ(r->Header("x-ratelimit-remaining"), "0");
  }
}

// The sessions and failed sign-ins kept in the database obey the rules of the in-process ones
// (http/session_contract.h), each check on a database of its own.
TEST_F(PostgresTest, SignInStateInTheDatabaseFollowsTheInProcessRules) {
  std::vector<std::unique_ptr<engage::Storage>> stores;  // outlive what they made
  auto open = [&]() -> engage::Storage& {
    engage::PostgresStorageOptions o;
    o.url = cluster_->FreshDatabase("signin");
    auto store = engage::OpenPostgresStorage(o);
    EXPECT_TRUE(store.has_value()) << store.error().ToString();
    stores.push_back(std::move(*store));
    return *stores.back();
  };
  auto sessions = [&](const Clock& clock, int64_t idle, int64_t max) {
    http::SignInOptions o;
    o.session_idle_seconds = idle;
    o.session_max_seconds = max;
    return open().SharedSignInState(clock, o).sessions;
  };
  auto limiter = [&](const Clock& clock, const http::SignInOptions& o) {
    return open().SharedSignInState(clock, o).limiter;
  };
  http::contract::SessionsExpireWhenIdleAndAfterTheAbsoluteLimit(sessions);
  http::contract::RemovedAndUnknownTokensHaveNoSession(sessions);
  http::contract::LimitsPerEmailAndPerClient(limiter);
  http::contract::SuccessClearsTheEmailButNotTheClient(limiter);
  http::contract::UndoneAttemptsCountForNothing(limiter);
  http::contract::ConcurrentAttemptsTakeNoMoreThanTheLimit(limiter);
}

// Behind a load balancer a console user's requests reach any server: a session made by one is
// known to the other, ends on both at sign-out, and failed sign-ins through both count once.
TEST_F(PostgresTest, ConsoleSignInIsSharedByTheServers) {
  const CliRun created = Admin("user create --email ann@example.com");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string password = LastLine(created.out);
  auto a = Serve(url_);
  auto b = Serve(url_);
  ASSERT_TRUE(a->running() && b->running());
  http::Client ca(a->base_url()), cb(b->base_url());
  auto [cookie, csrf] = ConsoleSignIn(ca, "ann@example.com", password);
  ASSERT_FALSE(cookie.empty());
  auto on_b = cb.Get("/console/api/session", {{"Cookie", cookie}});
  ASSERT_TRUE(on_b.has_value());
  EXPECT_EQ(on_b->status, 200) << "a session made by one server works on the other: " << on_b->body;
  ExpectSignOutEndsTheSession(cb, cookie, csrf);
  EXPECT_EQ(ca.Get("/console/api/session", {{"Cookie", cookie}})->status, 401) << "signed out on both";
  // The session table holds the token's hash, never the token.
  auto [cookie2, csrf2] = ConsoleSignIn(ca, "ann@example.com", password);
  const std::string token = cookie2.substr(cookie2.find('=') + 1);
  ASSERT_EQ(token.size(), 64u) << cookie2;
  std::string rows;
  {
    PGconn* conn = PQconnectdb(url_.c_str());
    ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* res = PQexec(conn, "SELECT token_hash, email, workspace, csrf_token FROM console_sessions");
    ASSERT_EQ(PQresultStatus(res), PGRES_TUPLES_OK) << PQerrorMessage(conn);
    for (int r = 0; r < PQntuples(res); ++r) {
      for (int c = 0; c < PQnfields(res); ++c) rows += std::string(PQgetvalue(res, r, c)) + " ";
      rows += "\n";
    }
    PQclear(res);
    PQfinish(conn);
  }
  EXPECT_EQ(rows.find(token), std::string::npos) << "the token is stored in clear: " << rows;
  EXPECT_NE(rows.find("ann@example.com"), std::string::npos) << rows;
  EXPECT_NE(rows.find(csrf2), std::string::npos) << rows;

  // 5 failures of one email allowed (the default), alternating servers: the next try is refused
  // by either, even with the right password.
  auto attempt = [&](http::Client& c, const std::string& pw) {
    auto r = c.Post("/console/api/signin", json{{"email", "ann@example.com"}, {"password", pw}}.dump(),
                    {{"Content-Type", "application/json"}});
    return r.has_value() ? r->status : -1;
  };
  for (int i = 0; i < 5; ++i) EXPECT_EQ(attempt(i % 2 ? cb : ca, "wrong"), 401) << i;
  EXPECT_EQ(attempt(cb, password), 429);
  EXPECT_EQ(attempt(ca, password), 429);
}

// Wrong passwords sent at once through both servers: the email's limit (5) is taken by exactly
// 5 of them, however they interleave (each attempt is counted before its password is checked).
TEST_F(PostgresTest, SimultaneousWrongPasswordsThroughTwoServersGetNoMoreThanTheLimit) {
  ASSERT_EQ(Admin("user create --email ann@example.com").exit_code, 0);
  auto a = Serve(url_);
  auto b = Serve(url_);
  ASSERT_TRUE(a->running() && b->running());
  std::vector<int> statuses(16, -1);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < statuses.size(); ++i) {
    threads.emplace_back([&, i] {
      http::Client c(i % 2 ? b->base_url() : a->base_url());
      auto r = c.Post("/console/api/signin", json{{"email", "ann@example.com"}, {"password", "wrong"}}.dump(),
                      {{"Content-Type", "application/json"}});
      statuses[i] = r.has_value() ? r->status : -1;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 401), 5) << fmt::format("{}", fmt::join(statuses, " "));
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 429), 11) << fmt::format("{}", fmt::join(statuses, " "));
}

// With the database out of reach a console request with a session is answered 503 (try again),
// not 401 as if the user had signed out; once the database is back the session works again.
TEST_F(PostgresTest, ConsoleSessionsOutOfReachAreUnavailableNotSignedOut) {
  const CliRun created = Admin("user create --email ann@example.com");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto server = Serve(url_);
  ASSERT_TRUE(server->running());
  http::Client client(server->base_url());
  auto [cookie, csrf] = ConsoleSignIn(client, "ann@example.com", LastLine(created.out));
  ASSERT_FALSE(cookie.empty());
  // url_ is postgresql:///DATABASE?host=...: the cluster's maintenance database is beside it.
  const size_t name_at = std::string("postgresql:///").size(), query_at = url_.find('?');
  const std::string database = url_.substr(name_at, query_at - name_at);
  const std::string maintenance = "postgresql:///postgres" + url_.substr(query_at);
  auto admin = [&](const std::string& sql) {
    PGconn* conn = PQconnectdb(maintenance.c_str());
    ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* res = PQexec(conn, sql.c_str());
    EXPECT_TRUE(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK)
        << sql << ": " << PQerrorMessage(conn);
    PQclear(res);
    PQfinish(conn);
  };
  admin(fmt::format("ALTER DATABASE \"{}\" ALLOW_CONNECTIONS false", database));
  admin(fmt::format("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'", database));
  auto down = client.Get("/console/api/session", {{"Cookie", cookie}});
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->status, 503) << down->body;
  EXPECT_FALSE(down->Header("retry-after").empty());
  auto page = client.Get("/", {{"Cookie", cookie}});
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->status, 503) << "a page is not a redirect to sign in while the sessions cannot be read";
  admin(fmt::format("ALTER DATABASE \"{}\" ALLOW_CONNECTIONS true", database));
  auto up = client.Get("/console/api/session", {{"Cookie", cookie}});
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(up->status, 200) << "the session outlived the outage: " << up->body;
}

TEST_F(PostgresTest, MigrateMovesASqliteStoreWithNothingLost) {
  const std::string data = scratch_ + "/sqlite";
  Credentials creds = SetUpCredentials(data);  // RunAdmin: --data (or, in the PostgreSQL run, its own database)
  if (UsingPostgres()) GTEST_SKIP() << "needs a SQLite source: runs in the SQLite pass";
  std::string segment_id;
  std::set<std::string> before;
  {
    EngageServer server(data);
    ASSERT_TRUE(server.running());
    http::Client c(server.base_url());
    CreateUsers(c, creds.api_key, "u", 120);
    json body = {{"partner_api_key", creds.partner_key}, {"client_secret", creds.client_secret}};
    body["cohort_id"] = "moved";
    for (int batch = 0; batch < 6; ++batch) {  // several deltas
      json ids = json::array();
      for (int i = batch * 20; i < batch * 20 + 20; ++i) ids.push_back(fmt::format("u{}", i));
      body["cohort_changes"] = {{{"user_ids", ids}}};
      PostJson(c, "/partners/tinyclues/cohorts/users", body);
    }
    body["cohort_changes"] = {{{"user_ids", {"u7"}}, {"should_remove", true}}};
    PostJson(c, "/partners/tinyclues/cohorts/users", body);
    PostJson(c, "/users/track",
             {{"attributes", {{{"external_id", "u3"}, {"tier", "gold"}, {"score", 0.1}}}},
              {"purchases",
               {{{"external_id", "u3"}, {"product_id", "p"}, {"currency", "EUR"}, {"price", 9.99},
                 {"time", "2026-01-01T00:00:00Z"}}}}},
             creds.api_key);
    json seg = PostJson(c, "/segments/create",
                        {{"name", "moved"},
                         {"filter", {{"partner_cohort", {{"partner", "tinyclues"}, {"includes", {"moved"}}}}}}},
                        creds.api_key);
    segment_id = seg.value("segment_id", "");
    before = Members(c, creds.api_key, "moved", 120);
    EXPECT_EQ(before.size(), 119u);
  }
  CliRun r = Engage("migrate --from " + data + " --to '" + url_ + "'", scratch_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("every table's count and checksum match"), std::string::npos) << r.out;

  auto from = cf::engage::SummarizeSqlite(data + "/engage.db");
  auto to = cf::engage::SummarizePostgres(url_);
  ASSERT_TRUE(from.has_value() && to.has_value());
  ASSERT_EQ(from->size(), to->size());
  int64_t rows = 0;
  for (size_t i = 0; i < from->size(); ++i) {
    EXPECT_EQ((*from)[i].rows, (*to)[i].rows) << (*from)[i].table;
    EXPECT_EQ((*from)[i].checksum, (*to)[i].checksum) << (*from)[i].table;
    rows += (*to)[i].rows;
  }
  EXPECT_GT(rows, 130);

  // The moved store serves the same cohort, segment and keys.
  auto server = Serve(url_);
  ASSERT_TRUE(server->running());
  http::Client c(server->base_url());
  EXPECT_EQ(Members(c, creds.api_key, "moved", 120), before);
  EXPECT_EQ(SegmentSize(c, creds.api_key, segment_id), 119);
  CreateUsers(c, creds.api_key, "new", 3);  // the sequences continue after the copied ids

  // A database that already holds engage data is refused, naming why; nothing changes.
  CliRun again = Engage("migrate --from " + data + " --to '" + url_ + "'", scratch_);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already holds engage data"), std::string::npos) << again.err;
}

TEST_F(PostgresTest, MigrateAppliesTheSchemaAndNamesBadStores) {
  CliRun r = Admin("migrate");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("schema version 5 (current: 5)"), std::string::npos) << r.out;
  CliRun bad = Engage("api-key list --store mysql://x/y", scratch_);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("is not a store URL"), std::string::npos) << bad.err;
  CliRun half = Engage("migrate --from " + scratch_, scratch_);
  EXPECT_EQ(half.exit_code, 1);
  EXPECT_NE(half.err.find("go together"), std::string::npos) << half.err;
}

}  // namespace
}  // namespace cf::engage_test
