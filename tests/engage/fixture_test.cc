// Runs the request/response fixtures in tests/engage/fixtures/*.json, each against a fresh
// `engage serve` process over real HTTP. Format: tests/engage/fixtures/README.md.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "base/strings.h"
#include "engage_process.h"
#include "http/client.h"

namespace cf::engage_test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string FixtureDir() { return std::string(CF_SOURCE_DIR) + "/tests/engage/fixtures"; }

std::vector<std::string> FixtureNames() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(FixtureDir())) {
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class Runner {
 public:
  explicit Runner(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}

  // Replaces ${NAME} in every string and expands {"$ids": {"prefix": P, "count": N}}.
  json Substitute(const json& v) const {
    if (v.is_string()) {
      std::string s = v.get<std::string>();
      for (const auto& [k, val] : vars_) {
        std::string pat = "${" + k + "}";
        for (size_t at = s.find(pat); at != std::string::npos; at = s.find(pat, at + val.size()))
          s.replace(at, pat.size(), val);
      }
      return s;
    }
    if (v.is_object() && v.size() == 1 && v.contains("$ids")) {
      json out = json::array();
      for (int i = 0; i < v["$ids"]["count"].get<int>(); ++i)
        out.push_back(v["$ids"]["prefix"].get<std::string>() + std::to_string(i));
      return out;
    }
    if (v.is_object()) {
      json out = json::object();
      for (const auto& [k, x] : v.items()) out[k] = Substitute(x);
      return out;
    }
    if (v.is_array()) {
      json out = json::array();
      for (const auto& x : v) out.push_back(Substitute(x));
      return out;
    }
    return v;
  }

  // Objects: every expected key matches ("$absent": must be missing); arrays: same length,
  // element by element; "$any" matches anything present.
  static void Match(const json& expected, const json& actual, const std::string& where,
                    std::vector<std::string>* errors) {
    if (expected == "$any") return;
    if (expected.is_object()) {
      if (!actual.is_object()) {
        errors->push_back(where + ": expected an object, got " + actual.dump());
        return;
      }
      for (const auto& [k, v] : expected.items()) {
        if (v == "$absent") {
          if (actual.contains(k)) errors->push_back(where + "." + k + ": expected absent, got " + actual[k].dump());
          continue;
        }
        if (!actual.contains(k)) {
          errors->push_back(where + "." + k + ": missing in " + actual.dump());
          continue;
        }
        Match(v, actual[k], where + "." + k, errors);
      }
      return;
    }
    if (expected.is_array()) {
      if (!actual.is_array() || actual.size() != expected.size()) {
        errors->push_back(where + ": expected " + expected.dump() + ", got " + actual.dump());
        return;
      }
      for (size_t i = 0; i < expected.size(); ++i)
        Match(expected[i], actual[i], where + "[" + std::to_string(i) + "]", errors);
      return;
    }
    if (expected != actual) errors->push_back(where + ": expected " + expected.dump() + ", got " + actual.dump());
  }

  void Set(const std::string& k, const std::string& v) { vars_[k] = v; }

 private:
  std::map<std::string, std::string> vars_;
};

// "raw_body": a string, or an array of strings and {"repeat": S, "count": N} pieces joined
// (for bodies too large or too deep to write out).
std::string RawBody(const json& raw) {
  if (raw.is_string()) return raw.get<std::string>();
  std::string out;
  for (const json& piece : raw) {
    if (piece.is_string()) {
      out += piece.get<std::string>();
      continue;
    }
    for (int i = 0; i < piece["count"].get<int>(); ++i) out += piece["repeat"].get<std::string>();
  }
  return out;
}

class FixtureTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureTest, Run) {
  std::ifstream in(FixtureDir() + "/" + GetParam() + ".json");
  ASSERT_TRUE(in.good());
  json fixture = json::parse(in);
  const std::string data = MakeTempDir("engage-fixture-" + GetParam());
  // Every fixture starts with a REST key with all permissions and the tinyclues partner.
  Runner runner({});
  auto admin = [&](const std::vector<std::string>& args) { return RunAdmin(data, args); };
  runner.Set("API_KEY", admin({"api-key", "create", "--name", "all"}).last_line);
  runner.Set("PARTNER_KEY",
             admin({"partner", "add", "--partner", "tinyclues", "--display-name", "Tinyclues"}).last_line);
  runner.Set("CLIENT_SECRET", admin({"partner", "key", "generate", "--partner", "tinyclues"}).last_line);
  std::vector<std::string> server_args;
  if (fixture.contains("server_args")) server_args = fixture["server_args"].get<std::vector<std::string>>();
  auto server = std::make_unique<EngageServer>(data, server_args);
  ASSERT_TRUE(server->running());
  auto client = std::make_unique<http::Client>(server->base_url());

  for (const json& raw : fixture["steps"]) {
    const json step = runner.Substitute(raw);
    const std::string name = step.value("name", step.dump().substr(0, 80));
    SCOPED_TRACE(GetParam() + ": " + name);
    if (step.contains("admin")) {
      auto r = admin(step["admin"].get<std::vector<std::string>>());
      EXPECT_EQ(r.exit_code, step.value("expect_exit", 0)) << r.out;
      if (step.contains("save")) runner.Set(step["save"].get<std::string>(), r.last_line);
      if (step.contains("expect_stdout_contains")) {
        for (const auto& s : step["expect_stdout_contains"])
          EXPECT_NE(r.out.find(s.get<std::string>()), std::string::npos) << r.out;
      }
      continue;
    }
    if (step.contains("restart")) {  // SIGKILL and start again on the same data
      server->Kill();
      client.reset();
      server = std::make_unique<EngageServer>(data, server_args);
      ASSERT_TRUE(server->running());
      client = std::make_unique<http::Client>(server->base_url());
      continue;
    }
    const json& req = step["request"];
    std::vector<std::pair<std::string, std::string>> headers;
    const json req_headers = req.value("headers", json::object());
    for (const auto& [k, v] : req_headers.items()) headers.emplace_back(k, v.get<std::string>());
    std::string body = req.contains("raw_body") ? RawBody(req["raw_body"])
                       : req.contains("body")   ? req["body"].dump()
                                                : "";
    if (req.contains("body_bytes")) body = std::string(req["body_bytes"].get<size_t>(), ' ');
    auto resp = client->Send(req.value("method", "POST"), req["path"].get<std::string>(), body, headers);
    ASSERT_TRUE(resp.has_value()) << resp.error().ToString();
    const json& expect = step["expect"];
    EXPECT_EQ(resp->status, expect["status"].get<long>()) << resp->body;
    json actual = json::parse(resp->body, nullptr, false);
    std::vector<std::string> errors;
    if (expect.contains("body")) Runner::Match(expect["body"], actual, "body", &errors);
    const json expect_headers = expect.value("headers", json::object());
    for (const auto& [k, v] : expect_headers.items()) {
      std::string got = resp->Header(ToLower(k));
      if (v == "$absent") {
        if (!got.empty()) errors.push_back("header " + k + ": expected absent, got " + got);
      } else if (v == "$any") {
        if (got.empty()) errors.push_back("header " + k + ": missing");
      } else if (got != v.get<std::string>()) {
        errors.push_back("header " + k + ": expected " + v.get<std::string>() + ", got '" + got + "'");
      }
    }
    for (const auto& e : errors) ADD_FAILURE() << e;
    const json saves = step.value("save", json::object());
    for (const auto& [var, pointer] : saves.items()) {
      auto ptr = json::json_pointer(pointer.get<std::string>());
      ASSERT_TRUE(actual.contains(ptr)) << "cannot save " << var << " from " << resp->body;
      runner.Set(var, actual[ptr].is_string() ? actual[ptr].get<std::string>() : actual[ptr].dump());
    }
  }
  client.reset();  // an idle keep-alive connection would delay the server's exit
  server.reset();
  fs::remove_all(data);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureTest, ::testing::ValuesIn(FixtureNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace cf::engage_test
