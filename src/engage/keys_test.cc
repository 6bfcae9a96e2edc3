#include "engage/keys.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

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

// braze_ids are not a per-process counter: knowing one says nothing about the next.
TEST(KeysTest, BrazeIdsAreRandomAfterTheirTime) {
  std::set<std::string> middles;
  int successors = 0;
  std::string previous = NewBrazeId();
  for (int i = 0; i < 200; ++i) {
    std::string id = NewBrazeId();
    ASSERT_EQ(id.size(), 24u);
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    middles.insert(id.substr(12));
    successors += std::stoul(id.substr(18), nullptr, 16) == std::stoul(previous.substr(18), nullptr, 16) + 1;
    previous = id;
  }
  EXPECT_EQ(middles.size(), 200u);
  EXPECT_LT(successors, 3);
}

TEST(KeysTest, RandomHexHasTheAskedLength) {
  EXPECT_EQ(RandomHex(16).size(), 32u);
  EXPECT_NE(RandomHex(16), RandomHex(16));
}

}  // namespace
}  // namespace cf::engage
