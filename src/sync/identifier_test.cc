#include "sync/identifier.h"

#include <gtest/gtest.h>

namespace cf::sync {
namespace {

TEST(ChooseIdentifier, ExternalIdFirstThenEmailAliasThenOtherAliasThenDevice) {
  EXPECT_EQ(ChooseIdentifier("u1", "email:a@b.c", "d1")->Key(), "u:u1");
  EXPECT_EQ(ChooseIdentifier("", "phone:+33;email:a@b.c", "d1")->Key(), "a:email:a@b.c");
  EXPECT_EQ(ChooseIdentifier("", "phone:+33\nloyalty:L7", "d1")->Key(), "a:phone:+33");
  EXPECT_EQ(ChooseIdentifier("", "", "d1")->Key(), "d:d1");
  EXPECT_FALSE(ChooseIdentifier("", "", "").has_value());
}

TEST(ChooseIdentifier, ValuesEngageWouldRefuseCountAsAbsent) {
  EXPECT_EQ(ChooseIdentifier(std::string("u\x01", 2), "", "d1")->Key(), "d:d1");
  EXPECT_EQ(ChooseIdentifier(std::string(998, 'u'), "email:a@b.c", "")->Key(), "a:email:a@b.c");
  EXPECT_EQ(ChooseIdentifier(std::string(997, 'u'), "", "")->value.size(), 997u);
  EXPECT_EQ(ChooseIdentifier("", "noColon;email:", "d1")->Key(), "d:d1");  // no label:name pair
  EXPECT_EQ(ChooseIdentifier("", "", std::string(256, 'd')), std::nullopt);
  EXPECT_EQ(ChooseIdentifier("", "", "\xc2\x85x"), std::nullopt);  // U+0085 is a control character
  EXPECT_EQ(ChooseIdentifier("", "", "caf\xc3\xa9")->Key(), "d:caf\xc3\xa9");
}

TEST(Identifier, KeyRoundTripsAndDescribes) {
  for (const char* key : {"u:u1", "d:dev:1", "a:email:a:b@c"}) {
    const std::optional<Identifier> id = Identifier::FromKey(key);
    ASSERT_TRUE(id.has_value()) << key;
    EXPECT_EQ(id->Key(), key);
  }
  EXPECT_EQ(Identifier::FromKey("a:email:a:b@c")->alias_label, "email");
  EXPECT_EQ(Identifier::FromKey("a:email:a:b@c")->Describe(), "alias email:a:b@c");
  EXPECT_FALSE(Identifier::FromKey("x:1").has_value());
  EXPECT_FALSE(Identifier::FromKey("a:nolabel").has_value());
}

}  // namespace
}  // namespace cf::sync
