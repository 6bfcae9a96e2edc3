#include "http/password.h"

#include <gtest/gtest.h>

namespace cf::http {
namespace {

// RFC 7914 section 11's PBKDF2-HMAC-SHA256 vector ("passwd", salt "salt", 1 iteration), first 32 bytes.
TEST(HashPassword, MatchesThePublishedVector) {
  EXPECT_EQ(HashPassword("passwd", "73616c74", 1), "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
}

TEST(HashPassword, DependsOnSaltAndIterations) {
  const std::string a = HashPassword("secret", "00112233445566778899aabbccddeeff", 1000);
  EXPECT_NE(a, HashPassword("secret", "00112233445566778899aabbccddeefe", 1000));
  EXPECT_NE(a, HashPassword("secret", "00112233445566778899aabbccddeeff", 1001));
  EXPECT_GE(kPasswordIterations, 100000);
}

TEST(NormalizeEmail, LowerCasesAndRefusesNonAddresses) {
  EXPECT_EQ(NormalizeEmail("  Ann@Example.COM ").value(), "ann@example.com");
  for (const char* bad : {"", "ann", "@example.com", "ann@", "a b@example.com", "a@b@c"}) {
    auto r = NormalizeEmail(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_NE(r.error().message().find("is not an email address"), std::string::npos) << r.error().message();
  }
}

TEST(PasswordMatches, OnlyTheSamePasswordSaltAndCount) {
  const std::string salt = RandomHex(kSaltBytes);
  const std::string password = GeneratePassword();
  EXPECT_EQ(password.size(), 24u);
  const std::string hash = HashPassword(password, salt, 1000);
  EXPECT_TRUE(PasswordMatches(password, salt, 1000, hash));
  EXPECT_FALSE(PasswordMatches(password + "x", salt, 1000, hash));
  EXPECT_FALSE(PasswordMatches(password, salt, 1001, hash));
  EXPECT_FALSE(PasswordMatches(password, salt, 1000, hash.substr(1)));
}

}  // namespace
}  // namespace cf::http
