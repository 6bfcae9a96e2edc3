// `engage users import` beside a running `engage serve` on the same directory: the server must
// match the imported users (by external_id and by alias) in /users/export/ids and in partner
// cohort imports right after the command returns, and an import must not disturb the
// server's own writes. The other identity kinds come in as a mobile SDK sends them.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engage_process.h"
#include "test_util.h"

namespace cf::engage_test {
namespace {

using nlohmann::json;


class UsersImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("engage-users-import");
    data_ = dir_ + "/data";
    creds_ = SetUpCredentials(data_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteCsv(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  json Partner(json body) {
    body["partner_api_key"] = creds_.partner_key;
    body["client_secret"] = creds_.client_secret;
    return body;
  }

  std::string dir_, data_;
  Credentials creds_;
};

TEST_F(UsersImportTest, TheRunningServerMatchesImportedUsersOfEveryIdentityKind) {
  EngageServer server(data_);
  ASSERT_TRUE(server.running());
  http::Client client(server.base_url());

  // Anonymous devices and an identified-later user, as a mobile SDK sends them.
  json anon = PostJson(client, "/sdk/v1/session", {{"device_id", "d-anon"}}, creds_.api_key);
  ASSERT_TRUE(anon.contains("braze_id"));
  EXPECT_FALSE(anon.contains("external_id"));
  PostJson(client, "/sdk/v1/session", {{"device_id", "d-later"}}, creds_.api_key);
  json later =
      PostJson(client, "/sdk/v1/session", {{"device_id", "d-later"}, {"external_id", "u-later"}}, creds_.api_key);
  EXPECT_EQ(later["external_id"], "u-later");

  // Identified users with an email alias, alias-only newsletter subscribers, and the
  // identified-later user (updated, not created).
  const int kIdentified = 1500, kAliasOnly = 300;
  std::string csv = "external_id,alias:email,tier,orders\n";
  for (int i = 0; i < kIdentified; ++i) {
    csv += "u" + std::to_string(i) + ",u" + std::to_string(i) + "@example.com,gold," + std::to_string(i) + "\n";
  }
  for (int i = 0; i < kAliasOnly; ++i) csv += ",sub" + std::to_string(i) + "@example.com,,\n";
  csv += "u-later,,silver,\n";
  CliRun run = Engage("users import --data " + data_ + " --csv " + WriteCsv("users.csv", csv), dir_);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("created " + std::to_string(kIdentified + kAliasOnly) + ", updated 1, failed 0"),
            std::string::npos)
      << run.out;

  // Right after the command returns: /users/export/ids finds them, with their attributes.
  json exported = PostJson(client, "/users/export/ids",
                           {{"external_ids", {"u0", "u1499", "u-later"}},
                            {"user_aliases", {{{"alias_label", "email"}, {"alias_name", "sub299@example.com"}}}},
                            {"fields_to_export", {"external_id", "user_aliases", "devices", "custom_attributes"}}},
                           creds_.api_key);
  ASSERT_EQ(exported["users"].size(), 4u) << exported.dump();
  EXPECT_EQ(exported["invalid_user_ids"], json::array());
  EXPECT_EQ(exported["users"][1]["custom_attributes"]["orders"], 1499);
  EXPECT_EQ(exported["users"][2]["custom_attributes"]["tier"], "silver");
  EXPECT_EQ(exported["users"][2]["devices"], json::parse(R"([{"device_id":"d-later"}])"));
  EXPECT_FALSE(exported["users"][3].contains("external_id"));

  // A cohort import by external_id, by alias (identified and alias-only) and by device.
  PostJson(client, "/partners/tinyclues/cohorts",
           Partner({{"cohort_id", "c1"}, {"name", "Imported"}, {"created_at", "2026-12-01T10:00:00Z"}}));
  json ids = json::array();
  for (int i = 0; i < 900; ++i) ids.push_back("u" + std::to_string(i));
  ids.push_back("u-later");
  json aliases = json::array();
  for (int i = 0; i < 50; ++i)
    aliases.push_back({{"alias_label", "email"}, {"alias_name", "sub" + std::to_string(i) + "@example.com"}});
  aliases.push_back({{"alias_label", "email"}, {"alias_name", "u1499@example.com"}});
  json answer = PostJson(
      client, "/partners/tinyclues/cohorts/users",
      Partner(
          {{"cohort_id", "c1"},
           {"cohort_changes", {{{"user_ids", ids}, {"aliases", aliases}, {"device_ids", {"d-anon", "d-later"}}}}}}));
  // d-later belongs to an identified user now: a device id matches anonymous users only.
  EXPECT_EQ(answer["added"], 901 + 51 + 1) << answer.dump();
  EXPECT_EQ(answer["unmatched"], 1) << answer.dump();

  // The same cohort seen through a segment, sized from the server's bitmaps and the database.
  json segment = PostJson(client, "/segments/create",
                          {{"name", "Imported cohort"},
                           {"filter", {{"partner_cohort", {{"partner", "tinyclues"}, {"includes", {"Imported"}}}}}}},
                          creds_.api_key);
  auto details = client.Get("/segments/details?segment_id=" + segment["segment_id"].get<std::string>(),
                            {{"Authorization", "Bearer " + creds_.api_key}});
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(json::parse(details->body)["size"], 953) << details->body;
}

TEST_F(UsersImportTest, BadRowsAreNamedTheOthersImportedAndTheExitCodeSaysSo) {
  EngageServer server(data_);
  ASSERT_TRUE(server.running());
  const std::string path = WriteCsv("mixed.csv",
                                    "external_id,alias:email,tier\n"
                                    "u1,one@example.com,gold\n"
                                    ",,silver\n"
                                    "u2,one@example.com,gold\n"
                                    "u3,,bronze,extra\n"
                                    ",sub@example.com,\n");
  CliRun run = Engage("users import --data " + data_ + " --csv " + path, dir_);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("created 2, updated 0, failed 3 (5 rows)"), std::string::npos) << run.out;
  EXPECT_NE(run.err.find(path + ":3: no identifier"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(path + ":4: column 'alias:email': this alias belongs to the user with external_id 'u1'"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find(path + ":5: expected 3 fields"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("3 of 5 rows failed"), std::string::npos) << run.err;

  http::Client client(server.base_url());
  json exported = PostJson(client, "/users/export/ids",
                           {{"external_ids", {"u1", "u2", "u3"}},
                            {"user_aliases", {{{"alias_label", "email"}, {"alias_name", "sub@example.com"}}}},
                            {"fields_to_export", {"external_id"}}},
                           creds_.api_key);
  EXPECT_EQ(exported["users"].size(), 2u) << exported.dump();
  EXPECT_EQ(exported["invalid_user_ids"], json::parse(R"(["u2","u3"])")) << exported.dump();

  // A header the import cannot use imports nothing and says what would do.
  CliRun header = Engage("users import --data " + data_ + " --csv " + WriteCsv("h.csv", "tier\ngold\n"), dir_);
  EXPECT_EQ(header.exit_code, 1);
  EXPECT_NE(header.err.find("no identifier column; the header needs external_id"), std::string::npos) << header.err;
  CliRun missing = Engage("users import --data " + data_ + " --csv " + dir_ + "/nope.csv", dir_);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope.csv"), std::string::npos) << missing.err;
}

TEST_F(UsersImportTest, AnImportAndTheServersWritesShareTheDatabase) {
  EngageServer server(data_);
  ASSERT_TRUE(server.running());
  // The server writes all along (its own users) while the import holds the write lock batch
  // after batch; neither side may fail or lose a write.
  std::atomic<bool> stop{false};
  std::atomic<int> tracked{0}, failures{0};
  std::thread writer([&] {
    http::Client client(server.base_url());
    while (!stop) {
      const int i = tracked;
      auto r = client.Post("/users/track",
                           json{{"attributes", {{{"external_id", "live" + std::to_string(i)}, {"n", i}}}}}.dump(),
                           {{"Authorization", "Bearer " + creds_.api_key}});
      if (r.has_value() && r->status == 201) {
        ++tracked;
      } else {
        ++failures;
      }
    }
  });
  const int kRows = 20000;
  std::string csv = "external_id,alias:email,n\n";
  for (int i = 0; i < kRows; ++i)
    csv += "bulk" + std::to_string(i) + ",b" + std::to_string(i) + "@x.com," + std::to_string(i) + "\n";
  CliRun run = Engage("users import --data " + data_ + " --csv " + WriteCsv("bulk.csv", csv), dir_);
  stop = true;
  writer.join();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("created " + std::to_string(kRows) + ", updated 0, failed 0"), std::string::npos) << run.out;
  EXPECT_EQ(failures, 0);
  EXPECT_GT(tracked, 0);

  http::Client client(server.base_url());
  json exported = PostJson(client, "/users/export/ids",
                           {{"external_ids", {"bulk0", "bulk19999", "live0", "live" + std::to_string(tracked - 1)}},
                            {"fields_to_export", {"external_id"}}},
                           creds_.api_key);
  EXPECT_EQ(exported["users"].size(), 4u) << exported.dump();
  // Restarted, the server still has every user of both writers.
  server.Stop();
  EngageServer again(data_);
  http::Client after(again.base_url());
  json ids = json::array();
  for (int i = 0; i < 1000; ++i) ids.push_back("bulk" + std::to_string(i * 20));
  json answer = PostJson(after, "/partners/tinyclues/cohorts/users",
                         Partner({{"cohort_id", "bulk"}, {"cohort_changes", {{{"user_ids", ids}}}}}));
  EXPECT_EQ(answer["added"], 1000) << answer.dump();
  EXPECT_EQ(answer["unmatched"], 0);
}

}  // namespace
}  // namespace cf::engage_test
