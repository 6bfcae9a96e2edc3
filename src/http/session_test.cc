#include "http/session.h"

#include <gtest/gtest.h>

#include "http/session_contract.h"

namespace cf::http {
namespace {

std::unique_ptr<SessionStore> InMemory(const Clock& clock, int64_t idle, int64_t max) {
  return std::make_unique<MemorySessionStore>(clock, idle, max);
}
std::unique_ptr<SignInLimiter> InMemory(const Clock& clock, const SignInOptions& options) {
  return std::make_unique<MemorySignInLimiter>(clock, options);
}

TEST(SessionStore, ExpiresWhenIdleAndAfterTheAbsoluteLimit) {
  contract::SessionsExpireWhenIdleAndAfterTheAbsoluteLimit(
      [](const Clock& c, int64_t idle, int64_t max) { return InMemory(c, idle, max); });
}

TEST(SessionStore, RemovedAndUnknownTokensHaveNoSession) {
  contract::RemovedAndUnknownTokensHaveNoSession(
      [](const Clock& c, int64_t idle, int64_t max) { return InMemory(c, idle, max); });
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
  contract::LimitsPerEmailAndPerClient([](const Clock& c, const SignInOptions& o) { return InMemory(c, o); });
}

TEST(SignInLimiter, SuccessClearsTheEmailButNotTheClient) {
  contract::SuccessClearsTheEmailButNotTheClient([](const Clock& c, const SignInOptions& o) { return InMemory(c, o); });
}

TEST(SignInLimiter, UndoneAttemptsCountForNothing) {
  contract::UndoneAttemptsCountForNothing([](const Clock& c, const SignInOptions& o) { return InMemory(c, o); });
}

TEST(SignInLimiter, ConcurrentAttemptsTakeNoMoreThanTheLimit) {
  contract::ConcurrentAttemptsTakeNoMoreThanTheLimit(
      [](const Clock& c, const SignInOptions& o) { return InMemory(c, o); });
}

TEST(CookieValue, FindsTheNamedCookie) {
  EXPECT_EQ(CookieValue("a=1; engage_session=abc; b=2", "engage_session"), "abc");
  EXPECT_EQ(CookieValue("engage_session=abc", "engage_session"), "abc");
  EXPECT_EQ(CookieValue("xengage_session=abc", "engage_session"), "");
  EXPECT_EQ(CookieValue("", "engage_session"), "");
}

}  // namespace
}  // namespace cf::http
