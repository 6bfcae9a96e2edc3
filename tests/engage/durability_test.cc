// A 201 means durable: SIGKILL right after the answer, restart, and the change is there.
#include <filesystem>

// fmt::format, not "literal" + std::to_string(): GCC 12 warns falsely on the latter (-Wrestrict).
#include <fmt/format.h>

#include "test_util.h"

namespace cf::engage_test {
namespace {

using nlohmann::json;

json Export(http::Client& client, const std::string& key, const std::string& external_id) {
  return PostJson(client, "/users/export/ids", {{"external_ids", {external_id}}}, key);
}

void RunKillCycles(const std::vector<std::string>& server_args) {
  const std::string data = MakeTempDir("engage-durability");
  Credentials creds = SetUpCredentials(data);
  const std::string partner = "/partners/tinyclues";
  const json keys = {{"partner_api_key", creds.partner_key}, {"client_secret", creds.client_secret}};
  constexpr int kCycles = 6;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    SCOPED_TRACE(fmt::format("cycle {}", cycle));
    {
      EngageServer server(data, server_args);
      ASSERT_TRUE(server.running());
      http::Client client(server.base_url());
      const std::string user = fmt::format("u{}", cycle);
      PostJson(client, "/users/track", {{"attributes", {{{"external_id", user}, {"cycle", cycle}}}}}, creds.api_key);
      json cohort = keys;
      cohort["cohort_id"] = "c";
      cohort["name"] = fmt::format("Cohort after cycle {}", cycle);
      cohort["created_at"] = "2026-11-28T10:00:00Z";
      PostJson(client, partner + "/cohorts", cohort);
      json change = keys;
      change["cohort_id"] = "c";
      change["cohort_changes"] = {{{"user_ids", {user}}}};
      if (cycle > 0)
        change["cohort_changes"].push_back({{"user_ids", {fmt::format("u{}", cycle - 1)}}, {"should_remove", true}});
      json answer = PostJson(client, partner + "/cohorts/users", change);
      EXPECT_EQ(answer["added"], 1);
      server.Kill();  // right after the 201, before anything else can happen
    }
    EngageServer server(data, server_args);
    ASSERT_TRUE(server.running());
    http::Client client(server.base_url());
    for (int i = 0; i <= cycle; ++i) {
      json u = Export(client, creds.api_key, fmt::format("u{}", i));
      ASSERT_EQ(u["users"].size(), 1u) << u.dump();
      EXPECT_EQ(u["users"][0]["custom_attributes"]["cycle"], i);
      json expected_cohorts = json::array();
      if (i == cycle) {
        expected_cohorts.push_back(
            {{"partner", "tinyclues"}, {"cohort_id", "c"}, {"name", fmt::format("Cohort after cycle {}", cycle)}});
      }
      EXPECT_EQ(u["users"][0]["cohorts"], expected_cohorts) << "u" << i;
    }
    server.Kill();
  }
  std::filesystem::remove_all(data);
}

TEST(DurabilityTest, SigkillAfter201KeepsEveryChange) { RunKillCycles({}); }

// With a snapshot every 2 deltas, the snapshot path is taken at every other cycle.
TEST(DurabilityTest, SigkillAfter201KeepsChangesAcrossSnapshots) { RunKillCycles({"--deltas-per-snapshot", "2"}); }

}  // namespace
}  // namespace cf::engage_test

namespace cf::engage_test {
namespace {

// Cohort bitmaps live in the server's memory, so two servers on one directory must not run.
TEST(DurabilityTest, SecondServerOnTheSameDirectoryIsRefused) {
  const std::string data = MakeTempDir("engage-lock");
  EngageServer first(data);
  ASSERT_TRUE(first.running());
  EngageServer second(data);
  EXPECT_FALSE(second.running());
  first.Kill();
  EngageServer third(data);  // the lock dies with its process, even on SIGKILL
  EXPECT_TRUE(third.running());
  third.Stop();
  std::filesystem::remove_all(data);
}

}  // namespace
}  // namespace cf::engage_test
