#include "console/users.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "base/files.h"

namespace cf::console {
namespace {

TEST(Users, CreateVerifyListRemove) {
  TempDirectory dir("console-users");
  const std::string path = dir.path() + "/users.json";
  EXPECT_TRUE(ReadUsers(path).value().empty());  // no file yet: no users
  auto password = CreateUser(path, " Ann@Example.com ", 1000);
  ASSERT_TRUE(password.has_value()) << password.error().message();
  EXPECT_EQ(password->size(), 24u);
  EXPECT_TRUE(IsUsersFile(path));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Only the hash is stored.
  EXPECT_EQ(ReadFile(path).value().find(*password), std::string::npos);

  auto users = ReadUsers(path).value();
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0].email, "ann@example.com");
  EXPECT_EQ(users[0].created_at, 1000);
  EXPECT_TRUE(VerifyUser(path, "ann@example.com", *password).has_value());
  auto wrong = VerifyUser(path, "ann@example.com", *password + "x");
  auto nobody = VerifyUser(path, "bob@example.com", *password);
  ASSERT_FALSE(wrong.has_value());
  ASSERT_FALSE(nobody.has_value());
  EXPECT_EQ(wrong.error().message(), nobody.error().message());  // does not tell which emails exist
  EXPECT_EQ(wrong.error().code(), StatusCode::kUnauthenticated);

  auto again = CreateUser(path, "ann@example.com", 2000);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(CreateUser(path, "bob@example.com", 2000).has_value());
  EXPECT_TRUE(HasUser(path, "bob@example.com"));

  ASSERT_TRUE(RemoveUser(path, "ANN@example.com").ok());
  EXPECT_FALSE(HasUser(path, "ann@example.com"));
  EXPECT_FALSE(VerifyUser(path, "ann@example.com", *password).has_value());
  const Status gone = RemoveUser(path, "ann@example.com");
  EXPECT_EQ(gone.code(), StatusCode::kNotFound);
  EXPECT_NE(gone.message().find("ann@example.com"), std::string::npos);
}

TEST(Users, NeverReplacesAFileThatIsNotOurs) {
  TempDirectory dir("console-users");
  const std::string path = dir.path() + "/notes.json";
  ASSERT_TRUE(WriteFileAtomic(path, "{\"shopping\": [\"milk\"]}\n").ok());
  auto r = CreateUser(path, "ann@example.com", 0);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.error().message().find("left untouched"), std::string::npos) << r.error().message();
  EXPECT_EQ(ReadFile(path).value(), "{\"shopping\": [\"milk\"]}\n");
  ASSERT_TRUE(WriteFileAtomic(path, "not json").ok());
  EXPECT_FALSE(CreateUser(path, "ann@example.com", 0).has_value());
  EXPECT_EQ(ReadFile(path).value(), "not json");
  EXPECT_FALSE(IsUsersFile(path));
}

TEST(Users, RefusesBadEmailsAndMissingDirectories) {
  TempDirectory dir("console-users");
  auto bad = CreateUser(dir.path() + "/users.json", "not-an-email", 0);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("not an email address"), std::string::npos);
  auto nodir = CreateUser(dir.path() + "/missing/users.json", "ann@example.com", 0);
  ASSERT_FALSE(nodir.has_value());
  EXPECT_NE(nodir.error().message().find("does not exist"), std::string::npos);
}

}  // namespace
}  // namespace cf::console
