#include "http/session.h"

#include <gtest/gtest.h>

namespace cf::http {
namespace {

TEST(SessionStore, ExpiresWhenIdleAndAfterTheAbsoluteLimit) {
  FixedClock clock(1000);
  SessionStore store(clock, /*idle_seconds=*/60, /*max_seconds=*/300);
  const std::string token = store.Create("a@example.com", "default");
  EXPECT_EQ(token.size(), 64u);
  auto s = store.Touch(token);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->email, "a@example.com");
  EXPECT_EQ(s->csrf_token.size(), 64u);
  EXPECT_NE(s->csrf_token, token);
  // Used every 50 s, it lives until the absolute limit.
  for (int64_t t = 1050; t < 1300; t += 50) {
    clock.Set(t);
    EXPECT_TRUE(store.Touch(token).has_value()) << t;
  }
  clock.Set(1300);
  EXPECT_FALSE(store.Touch(token).has_value());

  const std::string idle = store.Create("b@example.com", "default");
  clock.Set(1359);
  EXPECT_TRUE(store.Touch(idle).has_value());
  clock.Set(1419);
  EXPECT_FALSE(store.Touch(idle).has_value());
}

TEST(SessionStore, RemovedAndUnknownTokensHaveNoSession) {
  FixedClock clock(0);
  SessionStore store(clock, 60, 300);
  const std::string a = store.Create("a@example.com", "default");
  const std::string b = store.Create("a@example.com", "default");
  EXPECT_NE(a, b);
  EXPECT_NE(store.Touch(a)->csrf_token, store.Touch(b)->csrf_token);
  store.Remove(a);
  EXPECT_FALSE(store.Touch(a).has_value());
  EXPECT_TRUE(store.Touch(b).has_value());
  EXPECT_FALSE(store.Touch("").has_value());
  EXPECT_FALSE(store.Touch(std::string(64, '0')).has_value());
}

TEST(Csrf, OnlyTheSessionsExactTokenMatches) {
  SessionStore::Session s;
  s.csrf_token = std::string(63, 'a') + "b";
  EXPECT_TRUE(CsrfTokenMatches(s, s.csrf_token));
  EXPECT_FALSE(CsrfTokenMatches(s, std::string(64, 'a')));
  EXPECT_FALSE(CsrfTokenMatches(s, s.csrf_token.substr(0, 63)));
  EXPECT_FALSE(CsrfTokenMatches(s, ""));
  SessionStore::Session none;
  EXPECT_FALSE(CsrfTokenMatches(none, ""));
}

TEST(SignInLimiter, LimitsPerEmailAndPerClient) {
  FixedClock clock(10000);
  SignInOptions o;
  o.failures_per_email = 3;
  o.failures_per_client = 5;
  o.failure_window_seconds = 600;
  SignInLimiter limiter(clock, o);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.RetryAfter("a@x", "1.1.1.1"), 0);
    limiter.Failed("a@x", "1.1.1.1");
  }
  EXPECT_EQ(limiter.RetryAfter("a@x", "2.2.2.2"), 600);  // the email is limited from anywhere
  EXPECT_EQ(limiter.RetryAfter("b@x", "1.1.1.1"), 0);    // the client not yet
  limiter.Failed("b@x", "1.1.1.1");
  limiter.Failed("c@x", "1.1.1.1");
  EXPECT_EQ(limiter.RetryAfter("d@x", "1.1.1.1"), 600);  // 5 failures from one client, any emails
  clock.Set(10400);
  EXPECT_EQ(limiter.RetryAfter("a@x", "2.2.2.2"), 200);
  clock.Set(10600);
  EXPECT_EQ(limiter.RetryAfter("a@x", "1.1.1.1"), 0);
}

TEST(SignInLimiter, SuccessClearsTheEmailButNotTheClient) {
  FixedClock clock(0);
  SignInOptions o;
  o.failures_per_email = 2;
  o.failures_per_client = 3;
  SignInLimiter limiter(clock, o);
  limiter.Failed("a@x", "c");
  limiter.Succeeded("a@x");
  limiter.Failed("a@x", "c");
  EXPECT_EQ(limiter.RetryAfter("a@x", "other"), 0);
  limiter.Failed("a@x", "c");
  EXPECT_GT(limiter.RetryAfter("a@x", "other"), 0);
  EXPECT_GT(limiter.RetryAfter("z@x", "c"), 0);
}

TEST(CookieValue, FindsTheNamedCookie) {
  EXPECT_EQ(CookieValue("a=1; engage_session=abc; b=2", "engage_session"), "abc");
  EXPECT_EQ(CookieValue("engage_session=abc", "engage_session"), "abc");
  EXPECT_EQ(CookieValue("xengage_session=abc", "engage_session"), "");
  EXPECT_EQ(CookieValue("", "engage_session"), "");
}

}  // namespace
}  // namespace cf::http
