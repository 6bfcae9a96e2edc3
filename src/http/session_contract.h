// The behaviour every SessionStore and SignInLimiter must have, as gtest checks that any
// implementation's test calls: the in-process ones (session_test.cc) and engage's on
// PostgreSQL (tests/engage/postgres_test.cc), so that both keep the same rules.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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

// A fresh limiter from `make` reading `clock`, with these limits and the default window.
inline std::unique_ptr<SignInLimiter> WithLimits(const MakeLimiter& make, const Clock& clock, int64_t per_email,
                                                 int64_t per_client) {
  SignInOptions o;
  o.failures_per_email = per_email;
  o.failures_per_client = per_client;
  return make(clock, o);
}

// One failed sign-in: the attempt taken (0) and left counted, as for a wrong password.
inline void Fail(SignInLimiter& limiter, const std::string& email, const std::string& client) {
  auto wait = limiter.Attempt(email, client);
  ASSERT_TRUE(wait.has_value()) << wait.error().ToString();
  ASSERT_EQ(*wait, 0) << email << " from " << client << " was refused";
}

// The wait of an attempt refused, 0 when it was taken (then given back, counting nothing).
inline int64_t Wait(SignInLimiter& limiter, const std::string& email, const std::string& client) {
  auto wait = limiter.Attempt(email, client);
  EXPECT_TRUE(wait.has_value()) << wait.error().ToString();
  if (!wait.has_value()) return -1;
  if (*wait == 0) {
    EXPECT_TRUE(limiter.Undo(email, client).ok());
  }
  return *wait;
}

inline void LimitsPerEmailAndPerClient(const MakeLimiter& make) {
  FixedClock clock(10000);
  SignInOptions o;
  o.failures_per_email = 3;
  o.failures_per_client = 5;
  o.failure_window_seconds = 600;
  std::unique_ptr<SignInLimiter> limiter = make(clock, o);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Wait(*limiter, "a@x", "1.1.1.1"), 0);
    Fail(*limiter, "a@x", "1.1.1.1");
  }
  EXPECT_EQ(Wait(*limiter, "a@x", "2.2.2.2"), 600);  // the email is limited from anywhere
  EXPECT_EQ(Wait(*limiter, "b@x", "1.1.1.1"), 0);    // the client not yet
  Fail(*limiter, "b@x", "1.1.1.1");
  Fail(*limiter, "c@x", "1.1.1.1");
  EXPECT_EQ(Wait(*limiter, "d@x", "1.1.1.1"), 600);  // 5 failures from one client, any emails
  clock.Set(10400);
  EXPECT_EQ(Wait(*limiter, "a@x", "2.2.2.2"), 200);
  clock.Set(10600);
  EXPECT_EQ(Wait(*limiter, "a@x", "1.1.1.1"), 0);
  // A new window starts at the next failure after one has ended.
  Fail(*limiter, "a@x", "3.3.3.3");
  EXPECT_EQ(Wait(*limiter, "a@x", "3.3.3.3"), 0);
}

inline void SuccessClearsTheEmailButNotTheClient(const MakeLimiter& make) {
  FixedClock clock(0);
  std::unique_ptr<SignInLimiter> limiter = WithLimits(make, clock, 2, 3);
  Fail(*limiter, "a@x", "c");
  ASSERT_EQ(limiter->Attempt("a@x", "c").value(), 0);
  ASSERT_TRUE(limiter->Succeeded("a@x", "c").ok());
  // The email starts afresh...
  Fail(*limiter, "a@x", "other");
  Fail(*limiter, "a@x", "other");
  EXPECT_GT(Wait(*limiter, "a@x", "elsewhere"), 0);
  // ...the client keeps its failure but not the attempt that succeeded: two more reach its limit.
  Fail(*limiter, "z@x", "c");
  Fail(*limiter, "y@x", "c");
  EXPECT_GT(Wait(*limiter, "w@x", "c"), 0);
}

// An attempt undone (not judged) counts for neither the email nor the client.
inline void UndoneAttemptsCountForNothing(const MakeLimiter& make) {
  FixedClock clock(0);
  std::unique_ptr<SignInLimiter> limiter = WithLimits(make, clock, 1, 1);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(limiter->Attempt("a@x", "c").value(), 0);
    ASSERT_TRUE(limiter->Undo("a@x", "c").ok());
  }
  Fail(*limiter, "a@x", "c");
  EXPECT_GT(Wait(*limiter, "a@x", "d"), 0);
  EXPECT_GT(Wait(*limiter, "b@x", "c"), 0);
}

// Attempts at once: exactly the limit's worth are taken, however many ask together.
inline void ConcurrentAttemptsTakeNoMoreThanTheLimit(const MakeLimiter& make) {
  FixedClock clock(0);
  std::unique_ptr<SignInLimiter> limiter = WithLimits(make, clock, 4, 1000);
  std::atomic<int> taken{0}, refused{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      auto wait = limiter->Attempt("a@x", "client-" + std::to_string(t));
      if (!wait.has_value()) {
        ++errors;
      } else if (*wait == 0) {
        ++taken;
      } else {
        ++refused;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(taken.load(), 4);
  EXPECT_EQ(refused.load(), 12);
}

}  // namespace cf::http::contract
