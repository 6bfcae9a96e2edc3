// The webhook adapter's retry policy and settings checks; its deliveries against a receiver that
// fails on purpose are tested across processes (tests/engage/campaigns_test.cc).
#include "engage/delivery.h"

#include <gtest/gtest.h>

#include <vector>

namespace cf::engage {
namespace {

DeliveryRecord Settings(const std::string& adapter, const std::string& url = "", int64_t max_attempts = 5) {
  DeliveryRecord r;
  r.adapter = adapter;
  r.url = url;
  r.max_attempts = max_attempts;
  return r;
}

TEST(DeliveryTest, BackoffDoublesWithFullJitterUpToTheCap) {
  EXPECT_EQ(BackoffMs(200, 1, 0.0), 0);
  EXPECT_LE(BackoffMs(200, 1, 0.999), 200);
  EXPECT_GT(BackoffMs(200, 3, 0.999), 700);  // ceiling 800
  EXPECT_LE(BackoffMs(200, 3, 0.999), 800);
  EXPECT_GT(BackoffMs(200, 40, 0.999), kMaxBackoffMs - 20);
  EXPECT_LE(BackoffMs(200, 40, 0.999), kMaxBackoffMs);
  EXPECT_EQ(BackoffMs(200, 1, 0.0, 3000), 3000);  // a 429's Retry-After
  EXPECT_EQ(BackoffMs(200, 1, 0.0, 60000), kMaxBackoffMs);
}

TEST(DeliveryTest, SettingsAreCheckedNamingTheField) {
  EXPECT_TRUE(ValidateDelivery({}).ok());
  EXPECT_NE(ValidateDelivery(Settings("smtp"))
                .message()
                .find("adapter 'smtp' is not a delivery adapter; valid: store, webhook"),
            std::string::npos);
  EXPECT_NE(ValidateDelivery(Settings("webhook", "example.com")).message().find("http:// or https://"),
            std::string::npos);
  EXPECT_NE(ValidateDelivery(Settings("webhook", "http://x", 0)).message().find("max_attempts 0"), std::string::npos);
  EXPECT_NE(ValidateDelivery(Settings("store", "http://x")).message().find("takes no url"), std::string::npos);
}

TEST(DeliveryTest, ConnectionErrorsAreRetriedThenReported) {
  // A port nobody listens on: every attempt is refused.
  std::vector<int64_t> waits;
  auto sleeping = MakeDeliveryAdapter(DeliveryRecord{"webhook", "http://127.0.0.1:1/hook", 3, 50, 1000},
                                      [&](int64_t ms) { waits.push_back(ms); });
  ASSERT_TRUE(sleeping.has_value());
  DeliveryResult r = (*sleeping)->Deliver("k", "{}");
  EXPECT_FALSE(r.delivered);
  EXPECT_NE(r.reason.find("failed 3 attempts"), std::string::npos) << r.reason;
  ASSERT_EQ(waits.size(), 2u);
  EXPECT_LE(waits[0], 50);
  EXPECT_LE(waits[1], 100);
}

}  // namespace
}  // namespace cf::engage
