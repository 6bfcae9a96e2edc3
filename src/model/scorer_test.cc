#include "model/scorer.h"

#include <gtest/gtest.h>

#include <set>

namespace cf::model {
namespace {

TEST(ScorerRegistryTest, EveryRegisteredScorerIsMadeUnderItsOwnName) {
  std::set<std::string_view> names;
  for (const ScorerInfo& info : RegisteredScorers()) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name << " is registered twice";
    auto scorer = MakeScorer(info.name, ScorerContext{});
    ASSERT_TRUE(scorer.has_value()) << scorer.error().ToString();
    EXPECT_EQ((*scorer)->name(), info.name);
  }
  EXPECT_EQ(ScorerNames().size(), names.size());
  EXPECT_TRUE((*FindScorer("universal"))->calibrated);
  EXPECT_FALSE((*FindScorer("topic_rfm"))->calibrated);
  EXPECT_TRUE((*FindScorer("decay"))->blendable);
  EXPECT_FALSE((*FindScorer("universal"))->blendable);
}

TEST(ScorerRegistryTest, AnUnknownNameListsTheValidOnes) {
  auto missing = MakeScorer("gbm", ScorerContext{});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message(),
            "unknown model 'gbm'; expected one of random, popularity, topic_rfm, decay, item_cf, universal");
}

}  // namespace
}  // namespace cf::model
