// The consoles' safety rules checked over HTTP, shared by the cross-process tests of engage's
// console (tests/engage/console_test.cc) and the audience console (tests/console): every route
// refused without a session, every state change refused without the session's CSRF token.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "http/client.h"

namespace cf::engage_test {

struct ConsoleRoute {
  const char* method;
  const char* path;
};

using ConsoleHeaders = std::vector<std::pair<std::string, std::string>>;

// Signs in with POST /console/api/signin; the Cookie header value and the CSRF token. Checks the
// cookie's HttpOnly and SameSite=Strict (and no Secure without TLS).
inline std::pair<std::string, std::string> ConsoleSignIn(http::Client& client, const std::string& email,
                                                         const std::string& password) {
  auto r = client.Post("/console/api/signin", nlohmann::json{{"email", email}, {"password", password}}.dump(),
                       {{"Content-Type", "application/json"}});
  EXPECT_TRUE(r.has_value());
  if (!r.has_value()) return {};
  EXPECT_EQ(r->status, 200) << r->body;
  const std::string set_cookie = r->Header("set-cookie");
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos) << set_cookie;
  EXPECT_EQ(set_cookie.find("Secure"), std::string::npos) << "no TLS here: " << set_cookie;
  return {set_cookie.substr(0, set_cookie.find(';')),
          nlohmann::json::parse(r->body, nullptr, false).value("csrf_token", "")};
}

// Without a session, and with a forged session cookie `cookie_name`: every API route is a 401,
// every page a 303 to /signin with none of the console in it; the sign-in page and what it loads
// are public and carry the security headers.
inline void ExpectEveryRouteNeedsASession(http::Client& client, const std::vector<ConsoleRoute>& api_routes,
                                          const std::vector<const char*>& pages, const std::string& cookie_name) {
  for (const ConsoleHeaders& headers : std::vector<ConsoleHeaders>{
           {}, {{"Cookie", cookie_name + "=" + std::string(64, 'a')}},  // a forged session token
       }) {
    for (const auto& r : api_routes) {
      auto h = headers;
      h.emplace_back("Content-Type", "application/json");
      auto res = client.Send(r.method, r.path, "{}", h);
      ASSERT_TRUE(res.has_value());
      EXPECT_EQ(res->status, 401) << r.method << " " << r.path << ": " << res->body;
      EXPECT_NE(res->body.find("sign in first"), std::string::npos) << res->body;
    }
    for (const char* page : pages) {
      auto res = client.Get(page, headers);
      ASSERT_TRUE(res.has_value());
      EXPECT_EQ(res->status, 303) << page;
      EXPECT_EQ(res->Header("location"), "/signin") << page;
      EXPECT_EQ(res->body.find("<script"), std::string::npos) << "no console content before sign-in: " << page;
      EXPECT_EQ(res->body.find("CF."), std::string::npos) << "no console code before sign-in: " << page;
    }
  }
  for (const char* open : {"/signin", "/console/signin.js", "/console/style.css"}) {
    auto res = client.Get(open);
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(res->status, 200) << open;
    EXPECT_NE(res->Header("content-security-policy").find("frame-ancestors 'none'"), std::string::npos);
  }
  auto signin = client.Get("/signin");
  EXPECT_NE(signin->body.find("<label for=\"email\">Email</label>"), std::string::npos);
  EXPECT_NE(signin->body.find("<label for=\"password\">Password</label>"), std::string::npos);
  EXPECT_NE(signin->body.find(">Sign in</button>"), std::string::npos);
}

// Signed in (`cookie`), every POST route with a missing, forged or truncated CSRF token is a 403
// naming X-CSRF-Token, and with a form's content type a 415. `body` is sent with each.
inline void ExpectStateChangesNeedTheCsrfToken(http::Client& client, const std::vector<ConsoleRoute>& api_routes,
                                               const std::string& cookie, const std::string& csrf,
                                               const std::string& body) {
  ASSERT_EQ(csrf.size(), 64u);
  for (const auto& r : api_routes) {
    if (std::string(r.method) != "POST") continue;
    for (const std::string& forged : {std::string(), std::string(64, '0'), csrf.substr(0, 63) + "x"}) {
      ConsoleHeaders h = {{"Cookie", cookie}, {"Content-Type", "application/json"}};
      if (!forged.empty()) h.emplace_back("X-CSRF-Token", forged);
      auto res = client.Send(r.method, r.path, body, h);
      ASSERT_TRUE(res.has_value());
      EXPECT_EQ(res->status, 403) << r.path << " with token '" << forged << "': " << res->body;
      EXPECT_NE(res->body.find("X-CSRF-Token"), std::string::npos) << res->body;
    }
    // A form post from another site cannot set a JSON content type without a preflight.
    auto form = client.Send(
        r.method, r.path, "a=1",
        {{"Cookie", cookie}, {"X-CSRF-Token", csrf}, {"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(form->status, 415) << r.path;
  }
}

// POST /console/api/signout ends the session of `cookie` (200, the cookie cleared, then 401).
inline void ExpectSignOutEndsTheSession(http::Client& client, const std::string& cookie, const std::string& csrf) {
  auto out = client.Post("/console/api/signout", "{}",
                         {{"Cookie", cookie}, {"X-CSRF-Token", csrf}, {"Content-Type", "application/json"}});
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status, 200);
  EXPECT_NE(out->Header("set-cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(client.Get("/console/api/session", {{"Cookie", cookie}})->status, 401);
}

}  // namespace cf::engage_test
