#include "export_world.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "base/strings.h"
#include "http/client.h"

namespace cf::sync_test {

namespace {

using nlohmann::json;

std::string BinDir() {
  const char* dir = std::getenv("CF_BIN_DIR");
  return dir != nullptr ? dir : "build/bin";
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, STDOUT_FILENO);
    dup2(e, STDERR_FILENO);
    std::vector<char*> argv;
    std::string bin = AudienceBinary();
    argv.push_back(bin.data());
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

std::string KeyOf(const Row& r) {
  if (!r.external_id.empty()) return "u:" + r.external_id;
  if (!r.alias.empty()) return "a:" + r.alias;
  if (!r.device_id.empty()) return "d:" + r.device_id;
  return "";
}

void WritePlanDir(const std::string& dir, const std::string& plan, const std::vector<PlanCampaign>& campaigns) {
  ASSERT_TRUE(CreateDirectories(dir + "/campaigns").ok());
  json summary = {{"plan", plan}, {"objective", "revenue"}, {"campaigns", json::array()}};
  for (const PlanCampaign& c : campaigns) {
    int64_t holdout = 0;
    std::string csv = "customer,external_id,alias,device_id,probability,expected_revenue,decile,holdout\n";
    for (const Row& r : c.rows) {
      holdout += r.holdout;
      csv += CsvField(r.customer) + "," + CsvField(r.external_id) + "," + CsvField(r.alias) + "," +
             CsvField(r.device_id) + ",0.5,10.0,1," + std::to_string(r.holdout) + "\n";
    }
    ASSERT_TRUE(WriteFileAtomic(dir + "/campaigns/" + c.cohort_id + ".csv", csv).ok());
    summary["campaigns"].push_back({{"name", c.name},
                                    {"export_file_name", c.export_file_name},
                                    {"cohort_id", c.cohort_id},
                                    {"channel", "email"},
                                    {"send_date", "2026-12-08"},
                                    {"priority", "medium"},
                                    {"selected", c.rows.size()},
                                    {"holdout", holdout}});
  }
  ASSERT_TRUE(WriteFileAtomic(dir + "/summary.json", summary.dump(2)).ok());
}

std::string AudienceBinary() { return BinDir() + "/audience"; }

Outcome RunAudience(const std::string& scratch, const std::vector<std::string>& args) {
  const std::string out = scratch + "/audience.out", err = scratch + "/audience.err";
  const pid_t pid = Spawn(args, out, err);
  int status = 0;
  waitpid(pid, &status, 0);
  Outcome r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(out).value_or("");
  r.err = ReadFile(err).value_or("");
  return r;
}

pid_t StartAudience(const std::vector<std::string>& args) { return Spawn(args, "/dev/null", "/dev/null"); }

namespace {

http::ClientOptions ClientTrusting(const WorldTls& tls) {
  http::ClientOptions o;
  o.ca_cert_file = tls.ca_cert;
  return o;
}

}  // namespace

EngageWorld::EngageWorld(WorldTls tls) : tls_(std::move(tls)) {
  dir_ = engage_test::MakeTempDir("cf-export-test");
  data_ = dir_ + "/data";
  std::filesystem::create_directories(data_);
  using engage_test::RunAdmin;
  api_key_ = RunAdmin(data_, {"api-key", "create", "--name", "test"}).last_line;
  const std::string partner_key = RunAdmin(data_, {"partner", "add", "--partner", "tinyclues"}).last_line;
  const std::string secret = RunAdmin(data_, {"partner", "key", "generate", "--partner", "tinyclues"}).last_line;
  for (const char* ep : {"/users/export/ids", "/partners/{partner}/cohorts/users", "/partners/{partner}/cohorts"}) {
    RunAdmin(data_, {"rate-limit", "set", "--endpoint", ep, "--limit", "100000000", "--window-seconds", "60"});
  }
  keys_file_ = dir_ + "/keys.json";
  EXPECT_TRUE(
      WriteFileAtomic(keys_file_, json{{"partner_api_key", partner_key}, {"data_import_key", secret}}.dump()).ok());
  std::vector<std::string> serve_args;
  if (!tls_.cert.empty()) serve_args = {"--tls-cert", tls_.cert, "--tls-key", tls_.key};
  server_ = std::make_unique<engage_test::EngageServer>(data_, serve_args);
}

EngageWorld::~EngageWorld() {
  server_.reset();
  std::filesystem::remove_all(dir_);
}

void EngageWorld::Post(const std::string& path, const std::string& body) {
  http::Client c(base_url(), ClientTrusting(tls_));
  Result<http::ClientResponse> r = c.Post(path, body, {{"Authorization", "Bearer " + api_key_}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_EQ(r->status / 100, 2) << path << ": " << r->body;
}

void EngageWorld::AddIdentified(const std::vector<std::string>& external_ids) {
  for (size_t i = 0; i < external_ids.size(); i += 75) {
    json attrs = json::array();
    for (size_t k = i; k < std::min(external_ids.size(), i + 75); ++k) {
      attrs.push_back({{"external_id", external_ids[k]}});
    }
    Post("/users/track", json{{"attributes", attrs}}.dump());
  }
  identified_.insert(identified_.end(), external_ids.begin(), external_ids.end());
}

void EngageWorld::AddAliasOnly(const std::vector<std::string>& emails) {
  for (size_t i = 0; i < emails.size(); i += 50) {
    json aliases = json::array();
    for (size_t k = i; k < std::min(emails.size(), i + 50); ++k) {
      aliases.push_back({{"alias_name", emails[k]}, {"alias_label", "email"}});
    }
    Post("/users/alias/new", json{{"user_aliases", aliases}}.dump());
  }
  emails_.insert(emails_.end(), emails.begin(), emails.end());
}

void EngageWorld::AddAnonymous(const std::vector<std::string>& device_ids) {
  for (const std::string& d : device_ids) Post("/sdk/v1/session", json{{"device_id", d}}.dump());
  devices_.insert(devices_.end(), device_ids.begin(), device_ids.end());
}

void EngageWorld::IdentifyLater(const std::string& device_id, const std::string& external_id) {
  Post("/sdk/v1/session", json{{"device_id", device_id}}.dump());
  Post("/sdk/v1/session", json{{"device_id", device_id}, {"external_id", external_id}}.dump());
  identified_.push_back(external_id);
}

std::set<std::string> EngageWorld::Members(const std::string& cohort_id) {
  std::set<std::string> out;
  http::Client c(base_url(), ClientTrusting(tls_));
  const auto lookup = [&](const json& body) -> json {
    json b = body;
    b["fields_to_export"] = {"external_id", "user_aliases", "cohorts"};
    Result<http::ClientResponse> r = c.Post("/users/export/ids", b.dump(), {{"Authorization", "Bearer " + api_key_}});
    EXPECT_TRUE(r.has_value() && r->status == 201) << (r.has_value() ? r->body : r.error().ToString());
    return r.has_value() ? json::parse(r->body)["users"] : json::array();
  };
  const auto member = [&cohort_id](const json& user) {
    for (const json& c : user.value("cohorts", json::array())) {
      if (c["cohort_id"] == cohort_id) return true;
    }
    return false;
  };
  for (size_t i = 0; i < identified_.size(); i += 50) {
    json ids(
        std::vector<std::string>(identified_.begin() + i, identified_.begin() + std::min(identified_.size(), i + 50)));
    for (const json& u : lookup({{"external_ids", ids}})) {
      if (member(u)) out.insert("u:" + u["external_id"].get<std::string>());
    }
  }
  for (size_t i = 0; i < emails_.size(); i += 50) {
    json aliases = json::array();
    for (size_t k = i; k < std::min(emails_.size(), i + 50); ++k) {
      aliases.push_back({{"alias_name", emails_[k]}, {"alias_label", "email"}});
    }
    for (const json& u : lookup({{"user_aliases", aliases}})) {
      if (!member(u)) continue;
      for (const json& a : u.value("user_aliases", json::array())) {
        if (a["alias_label"] == "email") out.insert("a:email:" + a["alias_name"].get<std::string>());
      }
    }
  }
  for (const std::string& d : devices_) {
    for (const json& u : lookup({{"device_id", d}})) {
      if (member(u) && !u.contains("external_id")) out.insert("d:" + d);
    }
  }
  return out;
}

}  // namespace cf::sync_test
