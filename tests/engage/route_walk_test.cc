// The route walk of `engage serve` (route_walk.h): the real process's route table against the
// table below, then every route without credentials and with wrong ones, and the database
// unchanged by all of it, row for row.
#include "route_walk.h"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>

#include "test_util.h"

namespace cf::engage_test {
namespace {

// Every route `engage serve` registers (src/engage/api.cc, src/engage/console.cc), exactly as
// registered, with what it needs. A new route fails the walk until it is added here.
std::vector<WalkedRoute> EngageRoutes() {
  using A = Access;
  auto bearer = [](const char* method, const char* path) { return WalkedRoute{method, path, {{path, A::kBearer}}}; };
  auto session = [](const char* method, const char* pattern, const char* sample) {
    return WalkedRoute{method, pattern, {{sample, A::kSession}}};
  };
  return {
      // The REST API (Braze's): a REST API key with the endpoint's permission.
      bearer("POST", "/users/track"),
      bearer("POST", "/users/identify"),
      bearer("POST", "/users/alias/new"),
      bearer("POST", "/users/delete"),
      bearer("POST", "/users/export/ids"),
      bearer("POST", "/sdk/v1/session"),
      bearer("POST", "/segments/create"),
      bearer("POST", "/campaigns/create"),
      bearer("POST", "/campaigns/trigger/send"),
      bearer("GET", "/segments/list"),
      {"GET", "/segments/details", {{"/segments/details?segment_id=x", A::kBearer}}},
      bearer("GET", "/campaigns/list"),
      {"GET", "/campaigns/details", {{"/campaigns/details?campaign_id=x", A::kBearer}}},
      bearer("GET", "/campaigns/sends"),
      // Partner cohort import: partner_api_key and the data import key.
      {"POST", "/partners/([^/]+)/cohorts", {{"/partners/tinyclues/cohorts", A::kPartner}}},
      {"POST", "/partners/([^/]+)/cohorts/users", {{"/partners/tinyclues/cohorts/users", A::kPartner}}},
      // The console: pages, the public sign-in page and what it loads, the session APIs.
      {"GET", "/", {{"/", A::kPage}}},
      {"GET", "/console/app.js", {{"/console/app.js", A::kPage}}},
      {"GET", "/console/api.js", {{"/console/api.js", A::kPage}}},
      {"GET", "/signin", {{"/signin", A::kPublic}}},
      {"GET", "/console/signin.js", {{"/console/signin.js", A::kPublic}}},
      {"GET", "/console/style.css", {{"/console/style.css", A::kPublic}}},
      {"POST", "/console/api/signin", {{"/console/api/signin", A::kSignIn}}},
      session("POST", "/console/api/signout", "/console/api/signout"),
      session("GET", "/console/api/session", "/console/api/session"),
      session("GET", "/console/api/partners", "/console/api/partners"),
      session("GET", "/console/api/partners/([^/]+)", "/console/api/partners/tinyclues"),
      session("POST", "/console/api/partners/([^/]+)/key", "/console/api/partners/tinyclues/key"),
      session("POST", "/console/api/partners/([^/]+)/key/invalidate", "/console/api/partners/tinyclues/key/invalidate"),
      session("GET", "/console/api/partners/([^/]+)/cohorts", "/console/api/partners/tinyclues/cohorts"),
      session("GET", "/console/api/segments", "/console/api/segments"),
      session("POST", "/console/api/segments/size", "/console/api/segments/size"),
      session("POST", "/console/api/segments", "/console/api/segments"),
      session("GET", "/console/api/campaigns", "/console/api/campaigns"),
      session("POST", "/console/api/campaigns", "/console/api/campaigns"),
      session("POST", "/console/api/campaigns/([^/]+)/send", "/console/api/campaigns/some-id/send"),
      session("GET", "/console/api/campaigns/([^/]+)/sends", "/console/api/campaigns/some-id/sends"),
      session("GET", "/console/api/users", "/console/api/users?external_id=u1"),
      session("GET", "/console/api/api-keys", "/console/api/api-keys"),
      session("POST", "/console/api/api-keys", "/console/api/api-keys"),
      session("POST", "/console/api/api-keys/revoke", "/console/api/api-keys/revoke"),
      session("GET", "/console/api/frequency-caps", "/console/api/frequency-caps"),
      session("POST", "/console/api/frequency-caps", "/console/api/frequency-caps"),
      session("POST", "/console/api/frequency-caps/remove", "/console/api/frequency-caps/remove"),
  };
}

// Every row of every table of engage.db, table by table, rows sorted: equal before and after
// means nothing was written. Read through SQLite beside the running server (WAL readers).
std::map<std::string, std::vector<std::string>> DatabaseRows(const std::string& db_path) {
  std::map<std::string, std::vector<std::string>> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db_path;
    sqlite3_close(db);
    return out;
  }
  sqlite3_busy_timeout(db, 5000);
  std::vector<std::string> tables;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  for (const std::string& t : tables) {
    std::vector<std::string>& rows = out[t];
    if (sqlite3_prepare_v2(db, ("SELECT * FROM \"" + t + "\"").c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot read table " << t;
      continue;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const auto* bytes = static_cast<const char*>(sqlite3_column_blob(st, c));
        row.append(std::to_string(sqlite3_column_type(st, c))).append(":");
        if (bytes != nullptr) row.append(bytes, static_cast<size_t>(sqlite3_column_bytes(st, c)));
        row.push_back('\x1f');
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(st);
    std::sort(rows.begin(), rows.end());
  }
  sqlite3_close(db);
  return out;
}

TEST(EngageRouteWalkTest, EveryRouteRefusesMissingAndWrongCredentialsAndChangesNothing) {
  const std::string data = MakeTempDir("engage-walk");
  const Credentials c = SetUpCredentials(data);
  WalkCredentials creds;
  creds.api_key = c.api_key;
  creds.partner_key = c.partner_key;
  creds.client_secret = c.client_secret;
  creds.limited_key =
      RunAdmin(data, {"api-key", "create", "--name", "tracker", "--permissions", "users.track"}).last_line;
  creds.cookie_name = "engage_session";
  creds.email = "ann@example.com";
  const std::string password = RunAdmin(data, {"user", "create", "--email", creds.email}).last_line;
  const std::string routes_file = data + "/routes.txt";
  std::unique_ptr<EngageServer> server;
  {
    RoutesFileEnv env(routes_file);
    server = std::make_unique<EngageServer>(data);
  }
  ASSERT_TRUE(server->running());
  const std::vector<WalkedRoute> table = EngageRoutes();
  ExpectTableIsTheServedTable(ReadServedRoutes(routes_file), table);

  http::Client client(server->base_url());
  // Some state for the refused requests to leave alone: a profile, a cohort member.
  PostJson(client, "/users/track", {{"attributes", {{{"external_id", "u1"}}}}}, c.api_key);
  auto cohort =
      client.Post("/partners/tinyclues/cohorts/users", nlohmann::json{{"partner_api_key", c.partner_key},
                                                                      {"client_secret", c.client_secret},
                                                                      {"cohort_id", "kept"},
                                                                      {"cohort_changes", {{{"user_ids", {"u1"}}}}}}
                                                           .dump());
  ASSERT_TRUE(cohort.has_value());
  ASSERT_EQ(cohort->status / 100, 2) << cohort->body;
  std::tie(creds.cookie, creds.csrf) = ConsoleSignIn(client, creds.email, password);

  const auto before = DatabaseRows(data + "/engage.db");
  ASSERT_GT(before.count("profiles"), 0u);
  const int sent = WalkWithoutCredentials(client, table, creds);
  EXPECT_GT(sent, 200);
  const auto after = DatabaseRows(data + "/engage.db");
  // The security log's AUTOINCREMENT counter (in sqlite_sequence) moves with it: compared below.
  auto without_log_counter = [](std::vector<std::string> rows) {
    std::erase_if(rows, [](const std::string& r) { return r.rfind("3:security_events\x1f", 0) == 0; });
    return rows;
  };
  for (const auto& [table_name, rows] : before) {
    if (table_name == "security_events") continue;  // below
    EXPECT_EQ(without_log_counter(after.at(table_name)), without_log_counter(rows))
        << "the walk changed table " << table_name;
  }
  // The wrong sign-ins are logged (console.signin_failed), nothing else.
  const auto& events_before = before.at("security_events");
  const auto& events_after = after.at("security_events");
  for (const std::string& e : events_before) {
    EXPECT_TRUE(std::binary_search(events_after.begin(), events_after.end(), e)) << "an event went: " << e;
  }
  for (const std::string& e : events_after) {
    if (std::binary_search(events_before.begin(), events_before.end(), e)) continue;
    EXPECT_NE(e.find("console.signin_failed"), std::string::npos) << "a refused request left an event: " << e;
  }
  server.reset();
  std::filesystem::remove_all(data);
}

// Found by fuzz_engage_api: a console user lookup whose query is not UTF-8 threw while the
// "no user matches" message was made (nlohmann's strict dump()), and was answered 500.
TEST(EngageRouteWalkTest, ConsoleUserLookupByBytesThatAreNotUtf8IsA404) {
  const std::string data = MakeTempDir("engage-walk-utf8");
  const std::string password = RunAdmin(data, {"user", "create", "--email", "ann@example.com"}).last_line;
  {
    EngageServer server(data);
    ASSERT_TRUE(server.running());
    http::Client client(server.base_url());
    auto [cookie, csrf] = ConsoleSignIn(client, "ann@example.com", password);
    for (const char* query : {"external_id=u1e%E2%E2%E2xternal_", "device_id=%FF%FE", "braze_id=%C3%28"}) {
      auto r = client.Get(std::string("/console/api/users?") + query, {{"Cookie", cookie}});
      ASSERT_TRUE(r.has_value());
      EXPECT_EQ(r->status, 404) << query << ": " << r->body;
    }
  }
  std::filesystem::remove_all(data);
}

}  // namespace
}  // namespace cf::engage_test
