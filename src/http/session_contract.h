// The behaviour every SessionStore and SignInLimiter must have, as gtest checks that any
// implementation's test calls: the in-process ones (session_test.cc) and engage's on
// PostgreSQL (tests/engage/postgres_test.cc), so that both keep the same rules.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "base/time.h"
#include "http/session.h"

namespace cf::http::contract {

// `make(clock, idle_seconds, max_seconds)`: a fresh, empty store reading `clock`.
using MakeSessions = std::function<std::unique_ptr<SessionStore>(const Clock&, int64_t, int64_t)>;
// `make(clock, options)`: a fresh limiter with no failures counted.
using MakeLimiter = std::function<std::unique_ptr<SignInLimiter>(const Clock&, const SignInOptions&)>;

inline bool Live(SessionStore& store, const std::string& token) {
  auto s = store.Touch(token);
  EXPECT_TRUE(s.has_value()) << s.error().ToString();
  return s.has_value() && s->has_value();
}

inline void SessionsExpireWhenIdleAndAfterTheAbsoluteLimit(const MakeSessions& make) {
  FixedClock clock(1000);
  std::unique_ptr<SessionStore> store = make(clock, /*idle_seconds=*/60, /*max_seconds=*/300);
  const std::string token = store->Create("a@example.com", "default").value();
  EXPECT_EQ(token.size(), 64u);
  auto s = store->Touch(token).value();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->email, "a@example.com");
  EXPECT_EQ(s->workspace, "default");
  EXPECT_EQ(s->csrf_token.size(), 64u);
  EXPECT_NE(s->csrf_token, token);
  // Used every 50 s, it lives until the absolute limit.
  for (int64_t t = 1050; t < 1300; t += 50) {
    clock.Set(t);
    EXPECT_TRUE(Live(*store, token)) << t;
  }
  clock.Set(1300);
  EXPECT_FALSE(Live(*store, token));

  const std::string idle = store->Create("b@example.com", "default").value();
  clock.Set(1359);
  EXPECT_TRUE(Live(*store, idle));
  clock.Set(1419);
  EXPECT_FALSE(Live(*store, idle));
}

inline void RemovedAndUnknownTokensHaveNoSession(const MakeSessions& make) {
  FixedClock clock(0);
  std::unique_ptr<SessionStore> store = make(clock, 60, 300);
  const std::string a = store->Create("a@example.com", "default").value();
  const std::string b = store->Create("a@example.com", "default").value();
  EXPECT_NE(a, b);
  EXPECT_NE(store->Touch(a).value()->csrf_token, store->Touch(b).value()->csrf_token);
  ASSERT_TRUE(store->Remove(a).ok());
  EXPECT_FALSE(Live(*store, a));
  EXPECT_TRUE(Live(*store, b));
  EXPECT_FALSE(Live(*store, ""));
  EXPECT_FALSE(Live(*store, std::string(64, '0')));
}

inline void LimitsPerEmailAndPerClient(const MakeLimiter& make) {
  FixedClock clock(10000);
  SignInOptions o;
  o.failures_per_email = 3;
  o.failures_per_client = 5;
  o.failure_window_seconds = 600;
  std::unique_ptr<SignInLimiter> limiter = make(clock, o);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter->RetryAfter("a@x", "1.1.1.1").value(), 0);
    ASSERT_TRUE(limiter->Failed("a@x", "1.1.1.1").ok());
  }
  EXPECT_EQ(limiter->RetryAfter("a@x", "2.2.2.2").value(), 600);  // the email is limited from anywhere
  EXPECT_EQ(limiter->RetryAfter("b@x", "1.1.1.1").value(), 0);    // the client not yet
  ASSERT_TRUE(limiter->Failed("b@x", "1.1.1.1").ok());
  ASSERT_TRUE(limiter->Failed("c@x", "1.1.1.1").ok());
  EXPECT_EQ(limiter->RetryAfter("d@x", "1.1.1.1").value(), 600);  // 5 failures from one client, any emails
  clock.Set(10400);
  EXPECT_EQ(limiter->RetryAfter("a@x", "2.2.2.2").value(), 200);
  clock.Set(10600);
  EXPECT_EQ(limiter->RetryAfter("a@x", "1.1.1.1").value(), 0);
  // A new window starts at the next failure after one has ended.
  ASSERT_TRUE(limiter->Failed("a@x", "3.3.3.3").ok());
  EXPECT_EQ(limiter->RetryAfter("a@x", "3.3.3.3").value(), 0);
}

inline void SuccessClearsTheEmailButNotTheClient(const MakeLimiter& make) {
  FixedClock clock(0);
  SignInOptions o;
  o.failures_per_email = 2;
  o.failures_per_client = 3;
  std::unique_ptr<SignInLimiter> limiter = make(clock, o);
  ASSERT_TRUE(limiter->Failed("a@x", "c").ok());
  ASSERT_TRUE(limiter->Succeeded("a@x").ok());
  ASSERT_TRUE(limiter->Failed("a@x", "c").ok());
  EXPECT_EQ(limiter->RetryAfter("a@x", "other").value(), 0);
  ASSERT_TRUE(limiter->Failed("a@x", "c").ok());
  EXPECT_GT(limiter->RetryAfter("a@x", "other").value(), 0);
  EXPECT_GT(limiter->RetryAfter("z@x", "c").value(), 0);
}

}  // namespace cf::http::contract
