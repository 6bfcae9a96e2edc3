#include "pg_cluster.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>

#include "engage_process.h"

namespace cf::engage_test {

namespace {

std::string& Reason() {
  static std::string reason;
  return reason;
}

std::string Quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::mutex& Mu() {
  static std::mutex mu;
  return mu;
}

std::set<std::string>& Created() {
  static std::set<std::string> created;
  return created;
}

PgCluster* g_cluster = nullptr;

void StopAtExit() {
  if (g_cluster != nullptr) g_cluster->Stop();
}

}  // namespace

bool UsingPostgres() {
  const char* b = std::getenv("CF_ENGAGE_BACKEND");
  return b != nullptr && std::string(b) == "postgresql";
}

const std::string& PgCluster::SkipReason() { return Reason(); }

PgCluster* PgCluster::Shared() {
  std::lock_guard<std::mutex> lock(Mu());
  static bool tried = false;
  if (tried) return g_cluster;
  tried = true;
  auto* c = new PgCluster();
  std::string why;
  if (!c->Start(&why)) {
    Reason() = why;
    c->Stop();
    delete c;
    return nullptr;
  }
  g_cluster = c;
  std::atexit(StopAtExit);
  return g_cluster;
}

bool PgCluster::Run(const std::string& command, std::string* output) const {
  const std::string full = run_as_ + command + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (p == nullptr) return false;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  if (output) *output = out;
  return rc == 0;
}

bool PgCluster::Start(std::string* why) {
  const char* env_bin = std::getenv("CF_PG_BIN");
  bin_ = env_bin ? env_bin : "/usr/lib/postgresql/15/bin";
  for (const char* tool : {"initdb", "pg_ctl", "postgres", "createdb"}) {
    if (access((bin_ + "/" + tool).c_str(), X_OK) != 0) {
      *why = "PostgreSQL 15 binaries not found (" + bin_ + "/" + tool +
             "); install postgresql-15 (scripts/install-deps) or set CF_PG_BIN";
      return false;
    }
  }
  dir_ = MakeTempDir("cf-pg");
  if (geteuid() == 0) {
    // initdb refuses root: the cluster belongs to the postgres user.
    if (access("/usr/sbin/runuser", X_OK) != 0 && access("/sbin/runuser", X_OK) != 0) {
      *why = "running as root and runuser is missing: cannot run initdb as the postgres user";
      return false;
    }
    if (std::system("id -u postgres >/dev/null 2>&1") != 0) {
      *why = "running as root and there is no postgres user to run initdb as (install postgresql-15)";
      return false;
    }
    run_as_ = "runuser -u postgres -- ";
    if (std::system(("chown postgres " + Quoted(dir_)).c_str()) != 0) {
      *why = "cannot give " + dir_ + " to the postgres user";
      return false;
    }
    // The temp dir's parents must be traversable by postgres (mkdtemp makes 0700 dirs).
    chmod(dir_.c_str(), 0755);
  }
  // A port number only names the socket file; distinct per process to avoid any clash.
  port_ = 20000 + static_cast<int>(getpid() % 30000);
  std::string out;
  if (!Run(bin_ + "/initdb -D " + Quoted(dir_ + "/data") + " -U engage -A trust -E UTF8 --locale=C --no-sync",
           &out)) {
    *why = "initdb failed: " + out;
    return false;
  }
  const std::string opts = "-c listen_addresses='' -c unix_socket_directories=" + dir_ + " -p " +
                           std::to_string(port_) +
                           " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200";
  if (!Run(bin_ + "/pg_ctl -D " + Quoted(dir_ + "/data") + " -l " + Quoted(dir_ + "/log") + " -w -t 60 -o " +
               Quoted(opts) + " start",
           &out)) {
    std::string log;
    Run("cat " + Quoted(dir_ + "/log"), &log);
    *why = "pg_ctl start failed: " + out + log;
    return false;
  }
  running_ = true;
  return true;
}

void PgCluster::Stop() {
  if (running_) {
    Run(bin_ + "/pg_ctl -D " + Quoted(dir_ + "/data") + " -m immediate -w stop");
    running_ = false;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string PgCluster::Url(const std::string& database) {
  {
    std::lock_guard<std::mutex> lock(Mu());
    if (Created().insert(database).second) {
      std::string out;
      if (!Run(bin_ + "/createdb -h " + Quoted(dir_) + " -p " + std::to_string(port_) + " -U engage " +
                   Quoted(database),
               &out)) {
        std::fprintf(stderr, "pg_cluster: createdb %s failed: %s\n", database.c_str(), out.c_str());
      }
    }
  }
  return "postgresql:///" + database + "?host=" + dir_ + "&port=" + std::to_string(port_) + "&user=engage";
}

std::string PgCluster::FreshDatabase(const std::string& prefix) {
  static std::atomic<int> n{0};
  return Url(prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(n++));
}

}  // namespace cf::engage_test
