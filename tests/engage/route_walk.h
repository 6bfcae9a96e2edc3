// The route walk shared by engage's (tests/engage/route_walk_test.cc) and the audience console's
// (tests/console/route_walk_test.cc): the table of a real server process, read from the file its
// http::Server writes when CF_HTTP_ROUTES_FILE is set, is checked against the test's table of
// what each route needs, and every route is requested without credentials and with wrong ones.
// A served route that the table neither checks nor declares public fails the walk, as does a
// table entry that the server no longer serves.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/files.h"
#include "console_safety.h"
#include "engage_process.h"
#include "http/client.h"

namespace cf::engage_test {

// What a request to a route needs.
enum class Access {
  kPublic,   // GET, no credentials: 200 (sign-in page, what it loads, health)
  kSignIn,   // POST /console/api/signin: public, 401 for a wrong password
  kBearer,   // a REST API key with the route's permission: 401 without one, 403 without the permission
  kPartner,  // partner_api_key + the workspace's data import key as client_secret in the body: 401
  kSession,  // a console session (401) and, for POST, its CSRF token (403)
  kPage,     // a console page or script: without a session, a 303 to /signin
};

struct RouteSample {
  std::string path;  // a path the route's pattern matches, with a query if it needs one
  Access access;
};

// One served route, as (method, pattern) exactly as registered, and the paths to request.
struct WalkedRoute {
  std::string method;
  std::string pattern;
  std::vector<RouteSample> samples;
};

// The real credentials of the server's world, from which the wrong ones are made.
struct WalkCredentials {
  std::string api_key;        // engage: a REST API key with every permission
  std::string limited_key;    // engage: a REST API key with users.track only
  std::string partner;        // engage: the partner in the partner routes' samples
  std::string partner_key;    // its partner_api_key
  std::string client_secret;  // the workspace's data import key for it
  std::string cookie_name;    // the console's session cookie
  std::string cookie;         // a signed-in session's Cookie header value
  std::string csrf;           // and its CSRF token
  std::string email;          // the signed-in user
};

// Starts servers with CF_HTTP_ROUTES_FILE set for as long as it lives.
class RoutesFileEnv {
 public:
  explicit RoutesFileEnv(std::string path) : path_(std::move(path)) { setenv("CF_HTTP_ROUTES_FILE", path_.c_str(), 1); }
  ~RoutesFileEnv() { unsetenv("CF_HTTP_ROUTES_FILE"); }
  RoutesFileEnv(const RoutesFileEnv&) = delete;
  RoutesFileEnv& operator=(const RoutesFileEnv&) = delete;

 private:
  std::string path_;
};

// The served (method, pattern) pairs from the routes file; waits for the server to write it
// (it does when it starts serving, just after it printed its port).
inline std::vector<std::pair<std::string, std::string>> ReadServedRoutes(const std::string& path) {
  for (int i = 0; i < 200 && !PathExists(path); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::vector<std::pair<std::string, std::string>> out;
  const std::string text = ReadFile(path).value_or("");
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(at, nl - at);
    const size_t space = line.find(' ');
    if (space != std::string::npos) out.emplace_back(line.substr(0, space), line.substr(space + 1));
    at = nl + 1;
  }
  return out;
}

// Every served route is in `table` and every table entry is served; each sample matches its
// route's pattern, and no other route registered before it (the server takes the first match).
inline void ExpectTableIsTheServedTable(const std::vector<std::pair<std::string, std::string>>& served,
                                        const std::vector<WalkedRoute>& table) {
  ASSERT_FALSE(served.empty()) << "the server wrote no routes file (CF_HTTP_ROUTES_FILE)";
  std::set<std::pair<std::string, std::string>> listed;
  for (const WalkedRoute& r : table) {
    EXPECT_TRUE(listed.emplace(r.method, r.pattern).second) << "listed twice: " << r.method << " " << r.pattern;
    EXPECT_FALSE(r.samples.empty()) << r.method << " " << r.pattern;
  }
  std::set<std::pair<std::string, std::string>> served_set(served.begin(), served.end());
  for (const auto& [method, pattern] : served) {
    EXPECT_TRUE(listed.count({method, pattern}) == 1)
        << "a route is served that the walk neither checks nor declares public: " << method << " " << pattern
        << " (add it to the table of this test, with what it needs)";
  }
  for (const WalkedRoute& r : table) {
    EXPECT_TRUE(served_set.count({r.method, r.pattern}) == 1) << "no longer served: " << r.method << " " << r.pattern;
    for (const RouteSample& s : r.samples) {
      const std::string path = s.path.substr(0, s.path.find('?'));
      // The first served route that matches must be this one.
      for (const auto& [method, pattern] : served) {
        if (method != r.method || !std::regex_match(path, std::regex(pattern))) continue;
        EXPECT_EQ(pattern, r.pattern) << s.path << " is answered by an earlier route";
        break;
      }
    }
  }
}

namespace walk_detail {

inline std::string Wrong(const std::string& key) {
  if (key.empty()) return "wrong";
  std::string w = key;
  w.back() = w.back() == 'x' ? 'y' : 'x';
  return w;
}

// A body that would change state if a route took it: every route's usual fields at once.
inline nlohmann::json Payload() {
  return {{"attributes", {{{"external_id", "walk-intruder"}, {"email", "intruder@example.com"}}}},
          {"external_ids", {"walk-intruder"}},
          {"user_aliases", {{{"alias_name", "walk"}, {"alias_label", "email"}}}},
          {"name", "walk"},
          {"cohort_id", "walk-cohort"},
          {"cohort_changes", {{{"user_ids", {"walk-intruder"}}}}}};
}

inline void ExpectRefused(const Result<http::ClientResponse>& r, const std::string& what,
                          const std::set<long>& allowed) {
  ASSERT_TRUE(r.has_value()) << what << ": " << r.error().ToString();
  EXPECT_TRUE(allowed.count(r->status) == 1) << what << ": " << r->status << " " << r->body;
  EXPECT_FALSE(r->status / 100 == 2 || r->status / 100 == 5) << what << ": " << r->status << " " << r->body;
}

}  // namespace walk_detail

// Requests every sample of `table` without credentials and with wrong ones (checks above, per
// Access). Returns the number of requests sent. Call with a signed-in session in `creds`; the
// caller compares the state before and after.
inline int WalkWithoutCredentials(http::Client& client, const std::vector<WalkedRoute>& table,
                                  const WalkCredentials& creds) {
  using walk_detail::ExpectRefused;
  using walk_detail::Wrong;
  using Headers = std::vector<std::pair<std::string, std::string>>;
  int sent = 0;
  const std::string payload = walk_detail::Payload().dump();
  std::vector<ConsoleRoute> session_routes;
  std::vector<const char*> pages;
  for (const WalkedRoute& r : table) {
    for (const RouteSample& s : r.samples) {
      const std::string what = r.method + " " + s.path;
      const std::string body = r.method == "GET" ? "" : payload;
      switch (s.access) {
        case Access::kPublic: {
          for (const Headers& h : {Headers{}, Headers{{"Cookie", creds.cookie_name + "=" + std::string(64, 'a')}}}) {
            auto res = client.Send(r.method, s.path, "", h);
            ++sent;
            EXPECT_TRUE(res.has_value() && res->status == 200)
                << what << " is declared public: " << (res.has_value() ? res->body : res.error().ToString());
          }
          break;
        }
        case Access::kSignIn: {
          for (const nlohmann::json& wrong :
               {nlohmann::json{{"email", creds.email}, {"password", "wrong password"}},
                nlohmann::json{{"email", "nobody@example.com"}, {"password", "x"}}, nlohmann::json::object()}) {
            ExpectRefused(client.Send(r.method, s.path, wrong.dump(), {{"Content-Type", "application/json"}}),
                          what + " " + wrong.dump(), {400, 401});
            ++sent;
          }
          break;
        }
        case Access::kBearer: {
          std::vector<std::pair<Headers, std::set<long>>> tries = {
              {{}, {401}},
              {{{"Authorization", "Bearer " + Wrong(creds.api_key)}}, {401}},
              {{{"Authorization", "Bearer " + std::string(64, '0')}}, {401}},
              {{{"Authorization", "Basic " + creds.api_key}}, {401}},
              {{{"Authorization", creds.api_key}}, {401}},
              {{{"Cookie", creds.cookie}}, {401}},  // a console session is not an API key
          };
          if (s.path != "/users/track") tries.push_back({{{"Authorization", "Bearer " + creds.limited_key}}, {403}});
          for (auto& [h, allowed] : tries) {
            h.emplace_back("Content-Type", "application/json");
            ExpectRefused(client.Send(r.method, s.path, body, h), what + " with " + h.front().second, allowed);
            ++sent;
          }
          break;
        }
        case Access::kPartner: {
          const std::vector<std::pair<std::string, std::string>> keys = {
              {"", ""},
              {Wrong(creds.partner_key), Wrong(creds.client_secret)},
              {creds.partner_key, Wrong(creds.client_secret)},
              {Wrong(creds.partner_key), creds.client_secret},
              {creds.partner_key, ""},
              {creds.api_key, creds.api_key},  // a REST API key is not a partner's
          };
          for (const auto& [partner_key, secret] : keys) {
            nlohmann::json b = walk_detail::Payload();
            if (!partner_key.empty()) b["partner_api_key"] = partner_key;
            if (!secret.empty()) b["client_secret"] = secret;
            ExpectRefused(
                client.Send(r.method, s.path, b.dump(),
                            {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + creds.api_key}}),
                what + " with partner key '" + partner_key + "' and secret '" + secret + "'", {400, 401});
            ++sent;
          }
          break;
        }
        case Access::kSession:
          session_routes.push_back({r.method.c_str(), s.path.c_str()});
          // An API key is not a session.
          ExpectRefused(
              client.Send(r.method, s.path, body,
                          {{"Authorization", "Bearer " + creds.api_key}, {"Content-Type", "application/json"}}),
              what + " with a REST API key", {401});
          ++sent;
          break;
        case Access::kPage:
          pages.push_back(s.path.c_str());
          break;
      }
    }
  }
  // The consoles' gate: 401 and 303 without a session or with a forged one; 403 for a state
  // change with a missing or forged CSRF token; 415 for a form's content type.
  ExpectEveryRouteNeedsASession(client, session_routes, pages, creds.cookie_name);
  ExpectStateChangesNeedTheCsrfToken(client, session_routes, creds.cookie, creds.csrf, payload);
  sent += static_cast<int>(session_routes.size() * 2 + pages.size() * 2);
  for (const ConsoleRoute& r : session_routes) sent += std::string(r.method) == "POST" ? 4 : 0;
  return sent;
}

}  // namespace cf::engage_test
