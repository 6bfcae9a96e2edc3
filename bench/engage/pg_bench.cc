// engage on PostgreSQL beside SQLite: /users/track and partner cohort import through real
// `engage serve` processes over loopback HTTP, for the SQLite store (one server), and for one
// and two servers on one database of a throwaway PostgreSQL 15 cluster (tests/engage/pg_cluster.h;
// fsync off there, like the SQLite runs with --fast-commit only when asked). The clients spread
// their requests over the servers round-robin. Prints a Markdown table. Usage: pg_bench --help.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "engage_process.h"
#include "http/client.h"
#include "pg_cluster.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "pg_bench: " << what << std::endl;
  std::exit(1);
}

json Post(cf::http::Client& c, const std::string& path, const json& body, const std::string& key = "") {
  std::vector<std::pair<std::string, std::string>> h;
  if (!key.empty()) h.emplace_back("Authorization", "Bearer " + key);
  auto r = c.Post(path, body.dump(), h);
  if (!r.has_value()) Die(r.error().ToString());
  if (r->status / 100 != 2) Die(path + " answered " + std::to_string(r->status) + ": " + r->body);
  return json::parse(r->body);
}

std::string LastLine(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  std::string out, last;
  char buf[4096];
  while (fgets(buf, sizeof buf, p)) out = buf;
  pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

struct Run {
  double track_rate = 0;
  double import_rate = 0;
};

// store: {"--data", DIR} or {"--store", URL}.
Run Measure(const std::vector<std::string>& store, int servers, int clients, int track_requests, bool fast_commit) {
  const std::string flags = store[0] + " '" + store[1] + "' --quiet";
  const std::string bin = cf::engage_test::EngageBinary();
  const std::string api_key = LastLine(bin + " api-key create --name bench " + flags);
  const std::string partner_key = LastLine(bin + " partner add --partner tinyclues " + flags);
  const std::string secret = LastLine(bin + " partner key generate --partner tinyclues " + flags);
  for (const char* ep : {"/users/track", "/partners/{partner}/cohorts/users"}) {
    std::system((bin + " rate-limit set --endpoint '" + ep + "' --limit 100000000 --window-seconds 60 " + flags +
                 " >/dev/null")
                    .c_str());
  }
  std::vector<std::unique_ptr<cf::engage_test::ServerProcess>> procs;
  std::vector<std::string> bases;
  for (int s = 0; s < servers; ++s) {
    std::vector<std::string> argv = {bin, "serve", store[0], store[1], "--listen", "127.0.0.1:0", "--log-level",
                                     "error"};
    if (fast_commit && store[0] == "--data") argv.push_back("--fast-commit");
    procs.push_back(std::make_unique<cf::engage_test::ServerProcess>(argv));
    if (!procs.back()->running()) Die("engage serve did not start");
    bases.push_back(procs.back()->base_url());
  }
  Run run;
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  auto t0 = Clock::now();
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      cf::http::Client c(bases[t % bases.size()]);
      for (int r = next++; r < track_requests; r = next++) {
        json attrs = json::array();
        for (int i = 0; i < 75; ++i) attrs.push_back({{"external_id", "user-" + std::to_string(r * 75 + i)}, {"age", i}});
        Post(c, "/users/track", {{"attributes", attrs}}, api_key);
      }
    });
  }
  for (auto& th : threads) th.join();
  run.track_rate = track_requests * 75 / Seconds(t0, Clock::now());

  const int profiles = track_requests * 75;
  const int requests = (profiles + 999) / 1000;
  const json keys = {{"partner_api_key", partner_key}, {"client_secret", secret}};
  std::atomic<int> next_import{0};
  std::atomic<int64_t> added{0};
  threads.clear();
  t0 = Clock::now();
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      cf::http::Client c(bases[t % bases.size()]);
      for (int r = next_import++; r < requests; r = next_import++) {
        json ids = json::array();
        for (int i = r * 1000; i < std::min(profiles, (r + 1) * 1000); ++i) ids.push_back("user-" + std::to_string(i));
        json body = keys;
        body["cohort_id"] = "big";
        body["cohort_changes"] = json::array({{{"user_ids", std::move(ids)}}});
        added += Post(c, "/partners/tinyclues/cohorts/users", body)["added"].get<int64_t>();
      }
    });
  }
  for (auto& th : threads) th.join();
  run.import_rate = profiles / Seconds(t0, Clock::now());
  if (added != profiles) Die("import added " + std::to_string(added.load()) + ", expected " + std::to_string(profiles));
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"engage on PostgreSQL (1 and 2 servers) beside SQLite: /users/track and cohort import"};
  int clients = 4;
  int track_requests = 800;
  bool fast_commit = false;
  app.add_option("--clients", clients, "concurrent HTTP clients")->capture_default_str();
  app.add_option("--track-requests", track_requests, "/users/track requests of 75 new profiles; the cohort import "
                                                     "then adds all of them, 1,000 per request")
      ->capture_default_str();
  app.add_flag("--fast-commit", fast_commit, "SQLite: engage serve --fast-commit");
  CLI11_PARSE(app, argc, argv);
  auto* cluster = cf::engage_test::PgCluster::Shared();
  if (cluster == nullptr) Die(cf::engage_test::PgCluster::SkipReason());
  const std::string dir = cf::engage_test::MakeTempDir("engage-pg-bench");
  std::printf("| store | servers | /users/track profiles/s | cohort import ids/s |\n|---|---|---|---|\n");
  auto print = [](const char* store, int servers, const Run& r) {
    std::printf("| %s | %d | %.0f | %.0f |\n", store, servers, r.track_rate, r.import_rate);
    std::fflush(stdout);
  };
  print(fast_commit ? "SQLite (--fast-commit)" : "SQLite (synchronous=FULL)", 1,
        Measure({"--data", dir + "/sqlite"}, 1, clients, track_requests, fast_commit));
  print("PostgreSQL", 1, Measure({"--store", cluster->FreshDatabase("bench")}, 1, clients, track_requests, false));
  print("PostgreSQL", 2, Measure({"--store", cluster->FreshDatabase("bench")}, 2, clients, track_requests, false));
  std::filesystem::remove_all(dir);
  return 0;
}
