// The engage command line as a user meets it: errors in the README's shape, read-only commands
// that never create a database, private files, and admin commands that wait for a busy server.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "engage_process.h"
#include "test_util.h"

namespace cf::engage_test {
namespace {

int Mode(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 0777);
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir("engage-cli"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(CliTest, VersionAndHelp) {
  CliRun v = Engage("--version", dir_);
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("engage ", 0), 0u) << v.out;
  CliRun h = Engage("api-key list --help", dir_);
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("--quiet"), std::string::npos) << h.out;
}

TEST_F(CliTest, ErrorsNameTheCommandAndPointToHelp) {
  struct Case {
    std::string args, first_line;
  };
  for (const Case& c : std::vector<Case>{
           {"frob",
            "engage: unknown command 'frob'; expected one of: serve, migrate, api-key, partner, user, rate-limit, campaign, "
            "frequency-cap, delivery"},
           {"api-key", "engage api-key: a command is required: one of create, list, revoke"},
           {"partner key frob", "engage partner key: unknown command 'frob'; expected one of: generate, invalidate"},
           {"api-key create --data " + dir_ + "/d", "engage api-key create: --name is required"},
           {"serve --threads -3", "engage serve: --threads: Value -3 not in range 1 to 1024"},
           {"rate-limit set --endpoint /users/fly --limit 1 --window-seconds 1 --data " + dir_ + "/d",
            "engage rate-limit set: endpoint '/users/fly' is not an endpoint of engage; valid: /users/track, "},
       }) {
    CliRun r = Engage(c.args, dir_);
    EXPECT_EQ(r.exit_code, 1) << c.args;
    EXPECT_EQ(r.err.rfind(c.first_line, 0), 0u) << c.args << "\n" << r.err;
    const std::string command = c.first_line.substr(0, c.first_line.find(':'));
    EXPECT_NE(r.err.find("Run '" + command + " --help' for usage."), std::string::npos) << r.err;
  }
}

TEST_F(CliTest, ReadOnlyCommandsNeverCreateADatabase) {
  const std::string data = dir_ + "/nothing-here";
  for (const char* cmd : {"partner show --partner tinyclues", "api-key list"}) {
    CliRun r = Engage(std::string(cmd) + " --data " + data, dir_);
    EXPECT_EQ(r.exit_code, 1) << cmd;
    EXPECT_NE(r.err.find("no engage database in " + data), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(data)) << cmd;
  }
}

TEST_F(CliTest, QuietPrintsOnlyTheResult) {
  CliRun r = Engage("api-key create --name k --quiet --data " + dir_ + "/d", dir_);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.size(), 49u) << r.out;  // the key and a newline
  CliRun loud = Engage("api-key create --name k --data " + dir_ + "/d", dir_);
  EXPECT_NE(loud.err.find("shown once"), std::string::npos);
}

TEST_F(CliTest, DataDirectoryAndFilesArePrivate) {
  const std::string data = dir_ + "/private";
  ASSERT_EQ(Engage("api-key create --name k --data " + data, dir_).exit_code, 0);
  EXPECT_EQ(Mode(data), 0700);
  EXPECT_EQ(Mode(data + "/engage.db"), 0600);
  const std::string key = RunAdmin(data, {"api-key", "create", "--name", "w"}).last_line;
  {
    EngageServer server(data);
    ASSERT_TRUE(server.running());
    http::Client client(server.base_url());
    PostJson(client, "/users/track", {{"attributes", {{{"external_id", "u1"}}}}}, key);
    for (const char* f : {"/engage.db", "/engage.db-wal", "/engage.db-shm", "/serve.lock"}) {
      EXPECT_EQ(Mode(data + f), 0600) << f;
    }
  }
}

// A write lock held by another process (a server busy writing) makes admin commands wait and
// say so once, then succeed, instead of failing with "database is locked".
TEST_F(CliTest, AdminCommandsWaitForABusyDatabase) {
  const std::string data = dir_ + "/busy";
  ASSERT_EQ(Engage("api-key create --name first --quiet --data " + data, dir_).exit_code, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data + "/engage.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::thread release([db] {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  });
  const auto start = std::chrono::steady_clock::now();
  CliRun r = Engage("api-key create --name second --data " + data, dir_);
  const auto waited = std::chrono::steady_clock::now() - start;
  release.join();
  sqlite3_close(db);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(waited, std::chrono::seconds(2));
  EXPECT_NE(r.err.find("is busy (engage serve is writing); waiting up to 120 s"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.size(), 49u) << r.out;
}

}  // namespace
}  // namespace cf::engage_test
