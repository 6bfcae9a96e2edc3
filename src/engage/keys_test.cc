#include "engage/keys.h"

#include <gtest/gtest.h>

namespace cf::engage {
namespace {

TEST(KeysTest, GeneratedKeyVerifiesAndOthersDoNot) {
  NewKey k = GenerateKey();
  EXPECT_EQ(k.key.size(), 48u);
  EXPECT_EQ(KeyIdOf(k.key), k.stored.key_id);
  EXPECT_TRUE(VerifyKey(k.key, k.stored));
  std::string wrong = k.key;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(KeyIdOf(wrong), k.stored.key_id);  // same lookup id, different secret
  EXPECT_FALSE(VerifyKey(wrong, k.stored));
  EXPECT_EQ(k.stored.hash.find(k.key.substr(16)), std::string::npos);  // the key is not stored
}

TEST(KeysTest, SaltsDiffer) {
  NewKey a = GenerateKey();
  NewKey b = GenerateKey();
  EXPECT_NE(a.stored.salt, b.stored.salt);
  EXPECT_NE(a.key, b.key);
}

TEST(KeysTest, RejectsMalformed) {
  EXPECT_FALSE(KeyIdOf("").has_value());
  EXPECT_FALSE(KeyIdOf(std::string(48, 'g')).has_value());
  EXPECT_FALSE(KeyIdOf(std::string(47, 'a')).has_value());
}

}  // namespace
}  // namespace cf::engage
