#include "engage/dashboard_users.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "engage/sqlite_storage.h"

namespace cf::engage {
namespace {

class DashboardUsersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("dashboard-users-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    SqliteStorageOptions o;
    o.path = (dir_ / "engage.db").string();
    storage_ = std::move(OpenSqliteStorage(o).value());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(DashboardUsersTest, PasswordVerifiesAndOnlyItsSaltedHashIsStored) {
  auto password = CreateDashboardUser(*storage_, "default", "Ann@Example.com", 100);
  ASSERT_TRUE(password.has_value()) << password.error().ToString();
  EXPECT_EQ(password->size(), 24u);
  auto user = VerifyDashboardUser(*storage_, "ann@example.com", *password);
  ASSERT_TRUE(user.has_value()) << user.error().ToString();
  EXPECT_EQ(user->workspace, "default");
  EXPECT_EQ(user->iterations, kPasswordIterations);
  EXPECT_EQ(user->hash.find(*password), std::string::npos);
  EXPECT_EQ(user->hash, HashPassword(*password, user->salt, user->iterations));

  auto wrong = VerifyDashboardUser(*storage_, "ann@example.com", *password + "x");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), StatusCode::kUnauthenticated);
  auto nobody = VerifyDashboardUser(*storage_, "bob@example.com", *password);
  ASSERT_FALSE(nobody.has_value());
  // The same answer whether the email or the password is wrong.
  EXPECT_EQ(nobody.error().message(), wrong.error().message());
}

TEST_F(DashboardUsersTest, TwoUsersGetDifferentSaltsAndAnEmailOnlyOnce) {
  auto a = CreateDashboardUser(*storage_, "default", "a@example.com", 1);
  auto b = CreateDashboardUser(*storage_, "default", "b@example.com", 1);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_NE(*a, *b);
  auto again = CreateDashboardUser(*storage_, "default", "A@example.com", 2);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(again.error().message().find("a@example.com"), std::string::npos);
  auto users = ListDashboardUsers(*storage_).value();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_NE(users[0].salt, users[1].salt);
}

TEST_F(DashboardUsersTest, RemovedUserCannotSignIn) {
  auto password = CreateDashboardUser(*storage_, "default", "a@example.com", 1).value();
  ASSERT_TRUE(RemoveDashboardUser(*storage_, "A@example.com").ok());
  EXPECT_FALSE(VerifyDashboardUser(*storage_, "a@example.com", password).has_value());
  Status again = RemoveDashboardUser(*storage_, "a@example.com");
  EXPECT_EQ(again.code(), StatusCode::kNotFound);
  EXPECT_NE(again.message().find("a@example.com"), std::string::npos);
}

TEST_F(DashboardUsersTest, Schema3DatabaseUpgrades) {
  auto first = CreateDashboardUser(*storage_, "default", "keep@example.com", 1);
  ASSERT_TRUE(first.has_value());
  storage_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "engage.db").string().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE dashboard_users; PRAGMA user_version = 3", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  SqliteStorageOptions o;
  o.path = (dir_ / "engage.db").string();
  storage_ = std::move(OpenSqliteStorage(o).value());
  auto password = CreateDashboardUser(*storage_, "default", "new@example.com", 2);
  ASSERT_TRUE(password.has_value()) << password.error().ToString();
  EXPECT_TRUE(VerifyDashboardUser(*storage_, "new@example.com", *password).has_value());
}

}  // namespace
}  // namespace cf::engage
