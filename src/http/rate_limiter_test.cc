#include "http/rate_limiter.h"

#include <gtest/gtest.h>

namespace cf::http {
namespace {

TEST(RateLimiterTest, CountsPerWindowAndKey) {
  FixedClock clock(1000);
  RateLimiter limiter(clock);
  auto a = limiter.Acquire("ws1:/users/track", 2, 60);
  EXPECT_TRUE(a.allowed);
  EXPECT_EQ(a.limit, 2);
  EXPECT_EQ(a.remaining, 1);
  EXPECT_EQ(a.reset_epoch, 1020);  // 1000 is inside [960, 1020)
  EXPECT_TRUE(limiter.Acquire("ws1:/users/track", 2, 60).allowed);
  auto refused = limiter.Acquire("ws1:/users/track", 2, 60);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after, 20);
  EXPECT_TRUE(limiter.Acquire("ws2:/users/track", 2, 60).allowed);  // other key, own budget
  clock.Set(1020);
  auto next = limiter.Acquire("ws1:/users/track", 2, 60);
  EXPECT_TRUE(next.allowed);
  EXPECT_EQ(next.remaining, 1);
  EXPECT_EQ(next.reset_epoch, 1080);
}

}  // namespace
}  // namespace cf::http
