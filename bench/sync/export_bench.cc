// `audience export` speed: N identifiers exported to a real `engage serve` on loopback by the
// real binary (reading the plan's CSV, journaling every acknowledged request with an fsync),
// against engage's own cohort import benchmark (bench/engage step 1: requests of 1,000 ids
// built with nlohmann from 4 concurrent clients, nothing else) on the same server in the same
// run. Prints a Markdown table on stdout. Usage: export_bench --help.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/files.h"
#include "base/time.h"
#include "engage/engage.h"
#include "engage_process.h"
#include "http/client.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Options {
  int profiles = 1000000;                 // identified profiles seeded, and identifiers exported per run
  std::vector<int> connections{1, 2, 4};  // `audience export --connections` values, one run each
  int rounds = 2;                         // repetitions of the whole alternation
  std::string dir;                        // work directory (default: fresh temp dir, removed afterwards)
};

std::unique_ptr<cf::engage_test::EngageServer>* g_server = nullptr;

void Die(const std::string& what) {
  std::cerr << "export_bench: " << what << "\n";
  if (g_server != nullptr) g_server->reset();
  std::exit(1);
}

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

void SeedProfiles(const std::string& data, int n) {
  cf::engage::EngageOptions o;
  o.data_dir = data;
  auto engage = cf::engage::Engage::Open(o, cf::SystemClock());
  if (!engage) Die(engage.error().ToString());
  auto txn = (*engage)->storage().Begin(true);
  if (!txn) Die(txn.error().ToString());
  auto ws = (*txn)->FindWorkspace("default");
  for (int i = 0; i < n; ++i) {
    auto p = (*txn)->InsertProfile(**ws, "user-" + std::to_string(i), 0);
    if (!p) Die(p.error().ToString());
  }
  if (auto s = (*txn)->Commit(); !s.ok()) Die(s.ToString());
}

// bench/engage's import measurement, unchanged in method: ids/s.
double EngageImport(const std::string& base, const json& keys, const std::string& cohort, int n) {
  const int batch = 1000, clients = 4;
  const int requests = (n + batch - 1) / batch;
  std::atomic<int> next{0};
  std::atomic<int64_t> added{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&] {
      cf::http::Client c(base);
      for (int r = next++; r < requests; r = next++) {
        json ids = json::array();
        for (int i = r * batch; i < std::min(n, (r + 1) * batch); ++i) ids.push_back("user-" + std::to_string(i));
        json body = keys;
        body["cohort_id"] = cohort;
        body["cohort_changes"] = json::array({{{"user_ids", std::move(ids)}}});
        auto a = c.Post("/partners/tinyclues/cohorts/users", body.dump());
        if (!a || a->status != 201) Die("import failed: " + (a ? a->body : a.error().ToString()));
        added += json::parse(a->body)["added"].get<int64_t>();
      }
    });
  }
  for (auto& th : threads) th.join();
  if (added != n) Die("import added " + std::to_string(added.load()) + ", expected " + std::to_string(n));
  return n / Seconds(t0, Clock::now());
}

void WritePlan(const std::string& dir, const std::string& cohort, int n) {
  std::filesystem::create_directories(dir + "/campaigns");
  const json summary = {
      {"plan", "Bench"},
      {"campaigns",
       {{{"name", cohort}, {"export_file_name", cohort}, {"cohort_id", cohort}, {"selected", n}, {"holdout", 0}}}}};
  if (auto s = cf::WriteFileAtomic(dir + "/summary.json", summary.dump()); !s.ok()) Die(s.ToString());
  std::string csv = "customer,external_id,alias,device_id,probability,expected_revenue,decile,holdout\n";
  for (int i = 0; i < n; ++i) csv += "c" + std::to_string(i) + ",user-" + std::to_string(i) + ",,,0.5,1.0,1,0\n";
  if (auto s = cf::WriteFileAtomic(dir + "/campaigns/" + cohort + ".csv", csv); !s.ok()) Die(s.ToString());
}

struct ExportRates {
  double whole = 0;    // ids/s from process start to exit: reading the plan included
  double sending = 0;  // ids/s over the sending alone (the command's own "seconds")
};

// Runs the real `audience export`.
ExportRates AudienceExport(const std::string& plan_dir, const std::string& base, const std::string& keys_file,
                           int connections, int n) {
  const char* bin = std::getenv("CF_BIN_DIR");
  const std::string audience = std::string(bin != nullptr ? bin : "build/bin") + "/audience";
  const std::string out = plan_dir + "/export.json";
  std::vector<std::string> args = {audience,  "export",      "--plan-dir", plan_dir,        "--endpoint",
                                   base,      "--keys-file", keys_file,    "--connections", std::to_string(connections),
                                   "--quiet", "--json"};
  const auto t0 = Clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDOUT_FILENO);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const double s = Seconds(t0, Clock::now());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) Die("audience export failed; see " + out);
  const json report = json::parse(cf::ReadFile(out).value_or("{}"));
  if (report["campaigns"][0]["added"] != n) Die("audience export added " + report["campaigns"][0]["added"].dump());
  return {n / s, n / report["campaigns"][0]["seconds"].get<double>()};
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"audience export against engage's own cohort import, one engage serve, loopback"};
  app.add_option("--profiles", o.profiles, "profiles seeded, and identifiers exported per run")->capture_default_str();
  app.add_option("--connections", o.connections, "audience export --connections values")->capture_default_str();
  app.add_option("--rounds", o.rounds, "repetitions of the alternation")->capture_default_str();
  app.add_option("--dir", o.dir, "work directory (default: fresh temp dir, removed afterwards)");
  CLI11_PARSE(app, argc, argv);

  const bool own_dir = o.dir.empty();
  const std::string dir = own_dir ? cf::engage_test::MakeTempDir("export-bench") : o.dir;
  const std::string data = dir + "/data";
  std::filesystem::create_directories(data);
  std::cerr << "seeding " << o.profiles << " profiles...\n";
  SeedProfiles(data, o.profiles);
  using cf::engage_test::RunAdmin;
  const std::string partner_key = RunAdmin(data, {"partner", "add", "--partner", "tinyclues"}).last_line;
  const std::string secret = RunAdmin(data, {"partner", "key", "generate", "--partner", "tinyclues"}).last_line;
  RunAdmin(data, {"rate-limit", "set", "--endpoint", "*", "--limit", "100000000", "--window-seconds", "60"});
  const json keys = {{"partner_api_key", partner_key}, {"client_secret", secret}};
  const std::string keys_file = dir + "/keys.json";
  if (auto s =
          cf::WriteFileAtomic(keys_file, json{{"partner_api_key", partner_key}, {"data_import_key", secret}}.dump());
      !s.ok())
    Die(s.ToString());
  auto server = std::make_unique<cf::engage_test::EngageServer>(data);
  g_server = &server;
  if (!server->running()) Die("engage serve did not start");
  const std::string base = server->base_url();

  std::printf(
      "| round | what | ids/s, whole process | ratio | ids/s, sending only | ratio |\n|---|---|---|---|---|---|\n");
  int cohort_no = 0;
  for (int round = 1; round <= o.rounds; ++round) {
    const double engage_rate = EngageImport(base, keys, "import-" + std::to_string(cohort_no++), o.profiles);
    std::printf("| %d | engage import, 4 clients, 1,000 ids/request | | | %.0f | 1.00 |\n", round, engage_rate);
    std::fflush(stdout);
    for (int c : o.connections) {
      const std::string cohort = "export-" + std::to_string(cohort_no++);
      const std::string plan_dir = dir + "/plan-" + cohort;
      WritePlan(plan_dir, cohort, o.profiles);
      const ExportRates rate = AudienceExport(plan_dir, base, keys_file, c, o.profiles);
      std::printf("| %d | audience export --connections %d | %.0f | %.2f | %.0f | %.2f |\n", round, c, rate.whole,
                  rate.whole / engage_rate, rate.sending, rate.sending / engage_rate);
      std::fflush(stdout);
    }
  }
  server.reset();
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
