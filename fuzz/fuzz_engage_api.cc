// The JSON bodies (and query strings) of every engage endpoint through the real handlers: engage's
// Api and Console registered on an http::Server, as `engage serve` registers them, over a
// SQLite store in a temporary directory, with valid credentials, so that the bodies get past
// authentication. Requests go in as bytes through Server::AnswerBytes. The first input byte picks
// the route from Server::Routes() (so a new route is fuzzed without a change here), the rest is
// the body of a POST or the query of a GET. No answer may be a 5xx: a handler that throws or a
// store that fails on hostile input is a bug.
#include <stdlib.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "engage/admin.h"
#include "engage/api.h"
#include "engage/console.h"
#include "engage/dashboard_users.h"
#include "engage/engage.h"
#include "http/server.h"

namespace {

using nlohmann::json;

struct World {
  std::string dir;
  std::unique_ptr<cf::engage::Engage> engage;
  std::unique_ptr<cf::engage::Api> api;
  std::unique_ptr<cf::engage::Console> console;
  std::unique_ptr<cf::http::Server> server;
  std::vector<std::pair<std::string, std::string>> routes;  // (method, concrete path)
  std::string api_key, partner_key, client_secret, cookie, csrf;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz_engage_api: %s\n", what.c_str());
  std::abort();
}

template <typename T>
T Must(cf::Result<T> r, const char* what) {
  if (!r.has_value()) Die(std::string(what) + ": " + r.error().ToString());
  return std::move(*r);
}

std::string RawRequest(const std::string& method, const std::string& target,
                       const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body) {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: fuzz\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  if (method != "GET") out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n";
  out.append(body);
  return out;
}

// A path the route's pattern matches: every capture group is the partner's name.
std::string Concrete(std::string pattern) {
  const std::string group = "([^/]+)";
  for (size_t at; (at = pattern.find(group)) != std::string::npos;) pattern.replace(at, group.size(), "tinyclues");
  return pattern;
}

// Query bytes made safe for a request line: what is not unreserved (or & and =) is percent-encoded.
std::string QueryOf(std::string_view bytes) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '&' || c == '=') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

World* MakeWorld() {
  auto* w = new World;
  std::string pattern = (std::filesystem::temp_directory_path() / "fuzz-engage-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) Die("mkdtemp");
  w->dir = pattern;
  static std::string dir_to_remove;
  dir_to_remove = w->dir;
  std::atexit([] { std::filesystem::remove_all(dir_to_remove); });
  cf::engage::EngageOptions options;
  options.data_dir = w->dir;
  options.synchronous_full = false;  // a fuzzer's store need not survive power loss
  const cf::Clock& clock = cf::SystemClock();
  w->engage = Must(cf::engage::Engage::Open(options, clock), "open the store");
  cf::engage::Storage& storage = w->engage->storage();
  const int64_t now = clock.NowSeconds();
  w->api_key = Must(cf::engage::CreateApiKey(storage, "default", "fuzz", "all", now), "api key");
  w->partner_key = Must(cf::engage::AddPartner(storage, "tinyclues", "Tinyclues", now), "partner");
  w->client_secret = Must(cf::engage::GenerateDataImportKey(storage, "default", "tinyclues", now), "data import key");
  // Limits out of reach: a 429 would hide the handlers behind it.
  for (const std::string& endpoint : cf::engage::RateLimitEndpoints()) {
    if (cf::Status s = cf::engage::SetRateLimit(storage, "default", endpoint, 1'000'000'000, 1); !s.ok()) {
      Die("rate limit " + endpoint + ": " + s.ToString());
    }
  }
  const std::string password =
      Must(cf::engage::CreateDashboardUser(storage, "default", "fuzz@example.com", now), "dashboard user");
  cf::http::ServerOptions so;
  so.max_body_bytes = 1 << 20;
  w->server = std::make_unique<cf::http::Server>(so);
  w->api = std::make_unique<cf::engage::Api>(*w->engage, clock);
  w->api->Register(*w->server);
  w->console = std::make_unique<cf::engage::Console>(*w->engage, clock);
  w->console->Register(*w->server);
  for (const auto& [method, route_pattern] : w->server->Routes()) {
    // Routes that would end the fuzzer's own credentials (sign out, a new or no data import
    // key) and take no body worth fuzzing.
    if (route_pattern == "/console/api/signout" || route_pattern.ends_with("/key") ||
        route_pattern.ends_with("/key/invalidate")) {
      continue;
    }
    w->routes.emplace_back(method, Concrete(route_pattern));
  }
  // A console session, signed in through the server like a browser.
  const std::string signin = json{{"email", "fuzz@example.com"}, {"password", password}}.dump();
  cf::http::Response r =
      w->server->AnswerBytes(RawRequest("POST", "/console/api/signin", {{"Content-Type", "application/json"}}, signin));
  if (r.status != 200) Die("console sign-in: " + std::to_string(r.status) + " " + r.body);
  for (const auto& [k, v] : r.headers) {
    if (k == "Set-Cookie") w->cookie = v.substr(0, v.find(';'));
  }
  w->csrf = json::parse(r.body).value("csrf_token", "");
  if (w->cookie.empty() || w->csrf.empty()) Die("console sign-in gave no session");
  return w;
}

World& TheWorld() {
  static World* w = MakeWorld();
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  TheWorld();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  World& w = TheWorld();
  const auto& [method, path] = w.routes[data[0] % w.routes.size()];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}};
  std::string body(rest);
  std::string target = path;
  if (path.rfind("/console/", 0) == 0 || path == "/") {
    headers.emplace_back("Cookie", w.cookie);
    headers.emplace_back("X-CSRF-Token", w.csrf);
  } else if (path.rfind("/partners/", 0) == 0) {
    // The partner's credentials are in the body: added to a body that is a JSON object.
    json b = json::parse(rest, nullptr, false);
    if (b.is_object()) {
      b["partner_api_key"] = w.partner_key;
      b["client_secret"] = w.client_secret;
      body = b.dump();
    }
  } else {
    headers.emplace_back("Authorization", "Bearer " + w.api_key);
  }
  if (method == "GET") {
    target += "?" + QueryOf(rest);
    body.clear();
  }
  const cf::http::Response r = w.server->AnswerBytes(RawRequest(method, target, headers, body));
  if (r.status == 0 || r.status >= 500) {
    Die(method + " " + target + " answered " + std::to_string(r.status) + ": " + r.body + "\nbody: " + body);
  }
  return 0;
}
