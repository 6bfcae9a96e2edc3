// The security event log and secure delete, through the real binary (SQLite store: the test
// reads the database files themselves).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/strings.h"
#include "test_util.h"

namespace cf::engage_test {
namespace {

using json = nlohmann::json;

// Admin actions are logged with what was done and by whom, never the keys themselves.
TEST(SecurityTest, AdminActionsAreLoggedWithoutSecrets) {
  const std::string data = MakeTempDir("engage-security-log");
  const Credentials creds = SetUpCredentials(data);
  ASSERT_FALSE(creds.api_key.empty());
  ASSERT_FALSE(creds.client_secret.empty());
  ASSERT_EQ(RunAdmin(data, {"partner", "key", "invalidate", "--partner", "tinyclues"}).exit_code, 0);
  const AdminResult log = RunAdmin(data, {"security-log", "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.out;
  std::vector<std::string> events;
  const std::vector<std::string_view> lines = Split(log.out, '\n');
  for (const std::string_view line : lines) {
    if (line.empty()) continue;
    const json e = json::parse(line, nullptr, false);
    ASSERT_FALSE(e.is_discarded()) << line;
    events.push_back(e.value("event", ""));
    EXPECT_FALSE(e.value("actor", "").empty()) << line;
  }
  for (const char* want : {"api_key.created", "partner.created", "data_import_key.generated",
                           "data_import_key.invalidated"}) {
    EXPECT_NE(std::find(events.begin(), events.end(), want), events.end()) << want << " missing from\n" << log.out;
  }
  for (const std::string& secret : {creds.api_key, creds.partner_key, creds.client_secret}) {
    EXPECT_EQ(log.out.find(secret), std::string::npos) << "a key in the log:\n" << log.out;
  }
  std::filesystem::remove_all(data);
}

// /users/delete leaves none of the profile's bytes in the database files (db, WAL, shm).
TEST(SecurityTest, DeletedProfileLeavesNothingInTheDatabaseFiles) {
  const std::string data = MakeTempDir("engage-secure-delete");
  const Credentials creds = SetUpCredentials(data);
  const std::string external_id = "zq-secure-delete-7731";
  const std::string value = "qv-distinct-attribute-9913";
  auto files_hold = [&](const std::string& needle) {
    for (const auto& entry : std::filesystem::directory_iterator(data)) {
      if (entry.path().filename().string().rfind("engage.db", 0) != 0) continue;
      const std::string bytes = ReadFile(entry.path().string()).value_or("");
      if (bytes.find(needle) != std::string::npos) return true;
    }
    return false;
  };
  {
    EngageServer server(data);
    ASSERT_TRUE(server.running());
    http::Client client(server.base_url());
    PostJson(client, "/users/track", {{"attributes", {{{"external_id", external_id}, {"favourite", value}}}}},
             creds.api_key);
    CreateUsers(client, creds.api_key, "keep", 10);
    ASSERT_TRUE(files_hold(external_id)) << "the test cannot fail: the profile was never written";
    const json answer = PostJson(client, "/users/delete", {{"external_ids", {external_id}}}, creds.api_key);
    EXPECT_EQ(answer.value("deleted", -1), 1) << answer.dump();
    EXPECT_FALSE(files_hold(external_id)) << "while the server runs";
    EXPECT_FALSE(files_hold(value)) << "while the server runs";
    server.Stop();
  }
  EXPECT_FALSE(files_hold(external_id)) << "after the server stopped";
  EXPECT_FALSE(files_hold(value)) << "after the server stopped";
  std::filesystem::remove_all(data);
}

}  // namespace
}  // namespace cf::engage_test
