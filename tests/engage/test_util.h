// Helpers shared by the cross-process engage tests.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>

#include <nlohmann/json.hpp>
#include <string>

#include "base/files.h"
#include "engage_process.h"
#include "http/client.h"

namespace cf::engage_test {

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `engage ARGS` through the shell, capturing stdout and stderr apart (in files under scratch).
inline CliRun Engage(const std::string& args, const std::string& scratch) {
  const std::string out = scratch + "/out.txt", err = scratch + "/err.txt";
  const int status = std::system((EngageBinary() + " " + WithStore(args) + " >" + out + " 2>" + err).c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out).value_or(""), ReadFile(err).value_or("")};
}

struct Credentials {
  std::string api_key;
  std::string partner_key;
  std::string client_secret;
};

inline Credentials SetUpCredentials(const std::string& data) {
  Credentials c;
  c.api_key = RunAdmin(data, {"api-key", "create", "--name", "test"}).last_line;
  c.partner_key = RunAdmin(data, {"partner", "add", "--partner", "tinyclues"}).last_line;
  c.client_secret = RunAdmin(data, {"partner", "key", "generate", "--partner", "tinyclues"}).last_line;
  return c;
}

// POSTs `body` and returns the parsed answer; fails the test unless the status is `want`.
inline nlohmann::json PostJson(http::Client& client, const std::string& path, const nlohmann::json& body,
                               const std::string& api_key = "", long want = 201) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!api_key.empty()) headers.emplace_back("Authorization", "Bearer " + api_key);
  auto r = client.Post(path, body.dump(), headers);
  EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error().ToString());
  if (!r.has_value()) return nullptr;
  EXPECT_EQ(r->status, want) << path << " " << r->body;
  return nlohmann::json::parse(r->body, nullptr, false);
}

// Creates external ids prefix0..prefix(n-1) with /users/track, 75 per request.
inline void CreateUsers(http::Client& client, const std::string& api_key, const std::string& prefix, int n) {
  for (int start = 0; start < n; start += 75) {
    nlohmann::json attrs = nlohmann::json::array();
    for (int i = start; i < std::min(n, start + 75); ++i)
      attrs.push_back({{"external_id", prefix + std::to_string(i)}});
    PostJson(client, "/users/track", {{"attributes", attrs}}, api_key);
  }
}

}  // namespace cf::engage_test
