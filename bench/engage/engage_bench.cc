// engage benchmarks, each against a real `engage serve` process over loopback HTTP:
//   1. partner cohort import: N identifiers in requests of 1,000 from C concurrent clients,
//      against inserting the same membership rows straight into SQLite in one transaction;
//   2. /users/track: profiles created per second with 75-object requests;
//   3. segment size of a cohort filter over N profiles (over HTTP, and in-process).
// For 1 and 2 it also reports the server's CPU time and minor page faults, which vary less
// than wall-clock rates on a shared machine whose disk flushes take what they take.
// Prints a Markdown report on stdout. Usage: engage_bench --help.
#include <sqlite3.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "base/time.h"
#include "engage/engage.h"
#include "engage_process.h"
#include "http/client.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

struct Options {
  int profiles = 1000000;    // identified profiles, and identifiers imported
  int clients = 4;           // concurrent HTTP clients
  int batch = 1000;          // identifiers per cohort import request
  int track_requests = 400;  // /users/track requests of 75 new profiles each
  int segment_calls = 50;    // /segments/details calls timed
  std::string dir;           // work directory (default: a fresh temp dir, removed at the end)
  bool fast_commit = false;  // engage serve --fast-commit (synchronous=NORMAL)
};

// A process's CPU time and minor page faults so far, over all its threads (/proc/PID/stat),
// and the context switches of its live threads (/proc/PID/task/*/status).
struct ProcessCost {
  double cpu_s = 0;  // utime + stime
  long long minor_faults = 0;
  long long context_switches = 0;  // voluntary and involuntary
};

ProcessCost ReadProcessCost(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  // The fields after the command name, which is in parentheses and may hold spaces: state is
  // field 3, minflt 10, utime 14, stime 15 (proc(5)).
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream fields(line.substr(close + 2));
  std::vector<std::string> f;
  for (std::string x; fields >> x;) f.push_back(x);
  if (f.size() < 13) return {};
  ProcessCost c;
  c.minor_faults = std::stoll(f[10 - 3]);
  c.cpu_s = static_cast<double>(std::stoll(f[14 - 3]) + std::stoll(f[15 - 3])) / sysconf(_SC_CLK_TCK);
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream status(task.path() / "status");
    for (std::string l; std::getline(status, l);) {
      if (l.rfind("voluntary_ctxt_switches:", 0) == 0 || l.rfind("nonvoluntary_ctxt_switches:", 0) == 0) {
        c.context_switches += std::stoll(l.substr(l.find(':') + 1));
      }
    }
  }
  return c;
}

ProcessCost operator-(const ProcessCost& a, const ProcessCost& b) {
  return {a.cpu_s - b.cpu_s, a.minor_faults - b.minor_faults, a.context_switches - b.context_switches};
}

// The running server, stopped by Die() so that a failed run leaves no process behind.
std::unique_ptr<cf::engage_test::EngageServer>* g_server = nullptr;

void Die(const std::string& what) {
  std::cerr << "engage_bench: " << what << "\n";
  if (g_server != nullptr) g_server->reset();
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

// Creates the profiles straight through the storage interface: setup, not measured.
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

// The same membership rows straight into SQLite: one transaction, one prepared statement.
double RawSqliteRowsPerSecond(const std::string& path, int n, bool synchronous_full) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  std::string pragmas = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") +
                        (synchronous_full ? "FULL;" : "NORMAL;") +
                        "CREATE TABLE cohort_members(cohort_pk INTEGER NOT NULL, external_id TEXT NOT NULL, "
                        "PRIMARY KEY(cohort_pk, external_id)) WITHOUT ROWID;";
  sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, nullptr);
  auto t0 = Clock::now();
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO cohort_members(cohort_pk, external_id) VALUES (1, ?)", -1, &st, nullptr);
  for (int i = 0; i < n; ++i) {
    std::string id = "user-" + std::to_string(i);
    sqlite3_bind_text(st, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) Die(std::string("raw insert: ") + sqlite3_errmsg(db));
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  double s = Seconds(t0, Clock::now());
  sqlite3_close(db);
  return n / s;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"engage benchmarks over a real engage serve process"};
  app.add_option("--profiles", o.profiles, "profiles seeded, and identifiers imported")->capture_default_str();
  app.add_option("--clients", o.clients, "concurrent HTTP clients")->capture_default_str();
  app.add_option("--batch", o.batch, "identifiers per cohort import request (at most 1000)")->capture_default_str();
  app.add_option("--track-requests", o.track_requests, "/users/track requests of 75 new profiles")
      ->capture_default_str();
  app.add_option("--segment-calls", o.segment_calls, "/segments/details calls timed")->capture_default_str();
  app.add_option("--dir", o.dir, "work directory (default: fresh temp dir, removed afterwards)");
  app.add_flag("--fast-commit", o.fast_commit, "run engage serve with --fast-commit");
  CLI11_PARSE(app, argc, argv);

  const bool own_dir = o.dir.empty();
  const std::string dir = own_dir ? cf::engage_test::MakeTempDir("engage-bench") : o.dir;
  const std::string data = dir + "/data";
  std::filesystem::create_directories(data);

  std::cerr << "seeding " << o.profiles << " profiles...\n";
  auto t_seed = Clock::now();
  SeedProfiles(data, o.profiles);
  std::cerr << "seeded in " << Seconds(t_seed, Clock::now()) << " s\n";

  using cf::engage_test::RunAdmin;
  const std::string api_key = RunAdmin(data, {"api-key", "create", "--name", "bench"}).last_line;
  const std::string partner_key = RunAdmin(data, {"partner", "add", "--partner", "tinyclues"}).last_line;
  const std::string secret = RunAdmin(data, {"partner", "key", "generate", "--partner", "tinyclues"}).last_line;
  for (const char* ep : {"/users/track", "/partners/{partner}/cohorts/users"}) {
    RunAdmin(data, {"rate-limit", "set", "--endpoint", ep, "--limit", "100000000", "--window-seconds", "60"});
  }
  std::vector<std::string> serve_args;
  if (o.fast_commit) serve_args.push_back("--fast-commit");
  auto server = std::make_unique<cf::engage_test::EngageServer>(data, serve_args);
  g_server = &server;
  if (!server->running()) Die("engage serve did not start");
  const std::string base = server->base_url();

  // 1. Cohort import.
  const json keys = {{"partner_api_key", partner_key}, {"client_secret", secret}};
  {
    cf::http::Client c(base);
    json body = keys;
    body.update({{"cohort_id", "big"}, {"name", "Big cohort"}, {"created_at", "2026-11-28T10:00:00Z"}});
    Post(c, "/partners/tinyclues/cohorts", body);
  }
  const int requests = (o.profiles + o.batch - 1) / o.batch;
  std::atomic<int> next{0};
  std::atomic<int64_t> added{0};
  std::vector<double> latencies(requests);
  const ProcessCost cost_before_import = ReadProcessCost(server->pid());
  auto t_import = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.clients; ++t) {
    threads.emplace_back([&] {
      cf::http::Client c(base);
      for (int r = next++; r < requests; r = next++) {
        json ids = json::array();
        for (int i = r * o.batch; i < std::min(o.profiles, (r + 1) * o.batch); ++i)
          ids.push_back("user-" + std::to_string(i));
        json body = keys;
        body["cohort_id"] = "big";
        body["cohort_changes"] = json::array({{{"user_ids", std::move(ids)}}});
        auto t0 = Clock::now();
        json a = Post(c, "/partners/tinyclues/cohorts/users", body);
        latencies[r] = Seconds(t0, Clock::now());
        added += a["added"].get<int64_t>();
      }
    });
  }
  for (auto& th : threads) th.join();
  const double import_s = Seconds(t_import, Clock::now());
  const ProcessCost import_cost = ReadProcessCost(server->pid()) - cost_before_import;
  if (added != o.profiles)
    Die("import added " + std::to_string(added.load()) + " members, expected " + std::to_string(o.profiles));
  std::sort(latencies.begin(), latencies.end());
  const double import_rate = o.profiles / import_s;
  const double raw_rate = RawSqliteRowsPerSecond(dir + "/raw.db", o.profiles, !o.fast_commit);

  // 2. /users/track, 75 new profiles per request.
  std::atomic<int> next_track{0};
  const ProcessCost cost_before_track = ReadProcessCost(server->pid());
  auto t_track = Clock::now();
  threads.clear();
  for (int t = 0; t < o.clients; ++t) {
    threads.emplace_back([&] {
      cf::http::Client c(base);
      for (int r = next_track++; r < o.track_requests; r = next_track++) {
        json attrs = json::array();
        for (int i = 0; i < 75; ++i) {
          attrs.push_back(
              {{"external_id", "t-" + std::to_string(r) + "-" + std::to_string(i)}, {"city", "Paris"}, {"age", i}});
        }
        json a = Post(c, "/users/track", {{"attributes", attrs}}, api_key);
        if (a["attributes_processed"] != 75) Die("track processed " + a.dump());
      }
    });
  }
  for (auto& th : threads) th.join();
  const double track_s = Seconds(t_track, Clock::now());
  const ProcessCost track_cost = ReadProcessCost(server->pid()) - cost_before_track;
  const double track_rate = o.track_requests * 75 / track_s;

  // 3. Segment size over HTTP.
  std::string segment_id;
  std::vector<double> seg_http;
  {
    cf::http::Client c(base);
    json s = Post(
        c, "/segments/create",
        {{"name", "big"}, {"filter", {{"partner_cohort", {{"partner", "tinyclues"}, {"includes", {"Big cohort"}}}}}}},
        api_key);
    segment_id = s["segment_id"];
    for (int i = 0; i < o.segment_calls; ++i) {
      auto t0 = Clock::now();
      auto r = c.Get("/segments/details?segment_id=" + segment_id, {{"Authorization", "Bearer " + api_key}});
      seg_http.push_back(Seconds(t0, Clock::now()));
      if (!r || json::parse(r->body)["size"] != o.profiles)
        Die("segment size wrong: " + (r ? r->body : r.error().ToString()));
    }
  }
  server.reset();
  std::sort(seg_http.begin(), seg_http.end());

  // 3b. In-process: the same call without HTTP, after loading the bitmaps from disk.
  std::vector<double> seg_local;
  double load_s = 0;
  {
    cf::engage::EngageOptions eo;
    eo.data_dir = data;
    auto t0 = Clock::now();
    auto engage = cf::engage::Engage::Open(eo, cf::SystemClock());
    load_s = Seconds(t0, Clock::now());
    if (!engage) Die(engage.error().ToString());
    for (int i = 0; i < o.segment_calls; ++i) {
      auto t1 = Clock::now();
      auto d = (*engage)->SegmentDetails(1, segment_id);
      seg_local.push_back(Seconds(t1, Clock::now()));
      if (!d || (*d)["size"] != o.profiles) Die("in-process segment size wrong");
    }
  }
  std::sort(seg_local.begin(), seg_local.end());
  auto ms = [](double s) { return s * 1000.0; };
  auto pct = [](const std::vector<double>& v, double p) {
    return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
  };

  std::printf("| benchmark | result |\n|---|---|\n");
  std::printf(
      "| cohort import, %d ids in %d requests of %d from %d clients | %.0f ids/s (%.2f s; request p50 %.1f ms, p99 "
      "%.1f ms) |\n",
      o.profiles, requests, o.batch, o.clients, import_rate, import_s, ms(pct(latencies, 0.5)),
      ms(pct(latencies, 0.99)));
  std::printf("| cohort import: server CPU (utime+stime), minor page faults, context switches | %.2f s, %lld, %lld |\n",
              import_cost.cpu_s, import_cost.minor_faults, import_cost.context_switches);
  std::printf("| raw SQLite insert of the same %d rows, one transaction | %.0f rows/s |\n", o.profiles, raw_rate);
  std::printf("| ratio import / raw | %.2f |\n", import_rate / raw_rate);
  std::printf("| /users/track, %d requests of 75 new profiles from %d clients | %.0f profiles/s (%.0f requests/s) |\n",
              o.track_requests, o.clients, track_rate, o.track_requests / track_s);
  std::printf("| /users/track: server CPU (utime+stime), minor page faults, context switches | %.2f s, %lld, %lld |\n",
              track_cost.cpu_s, track_cost.minor_faults, track_cost.context_switches);
  std::printf(
      "| segment size, cohort filter over %d members, GET /segments/details over HTTP | p50 %.2f ms, p99 %.2f ms |\n",
      o.profiles, ms(pct(seg_http, 0.5)), ms(pct(seg_http, 0.99)));
  std::printf("| segment size, same, in-process Engage::SegmentDetails | p50 %.2f ms, p99 %.2f ms |\n",
              ms(pct(seg_local, 0.5)), ms(pct(seg_local, 0.99)));
  std::printf("| start-up: open the database and load the cohort bitmaps | %.2f s |\n", load_s);
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
