// A throwaway PostgreSQL 15 cluster for tests: initdb + pg_ctl in a temporary directory,
// listening only on a unix socket inside it (no TCP port, no system service), stopped and
// removed when the test process exits. initdb refuses to run as root: as root the cluster is
// created and run as the `postgres` user (Debian's postgresql-15 package creates it), via
// runuser. The binaries are looked up in $CF_PG_BIN, then /usr/lib/postgresql/15/bin.
#pragma once

#include <string>

namespace cf::engage_test {

class PgCluster {
 public:
  // The process's cluster, started on first use; nullptr when it cannot run (see SkipReason).
  static PgCluster* Shared();
  // Why Shared() returned nullptr: the binaries are missing, or initdb / pg_ctl failed.
  static const std::string& SkipReason();

  // A URL for `engage --store` naming `database` (created empty on first use).
  std::string Url(const std::string& database);
  // Creates a fresh empty database with a unique name and returns its URL.
  std::string FreshDatabase(const std::string& prefix);

  void Stop();

 private:
  PgCluster() = default;
  bool Start(std::string* why);
  bool Run(const std::string& command, std::string* output = nullptr) const;

  std::string bin_;
  std::string dir_;  // data in dir_/data, the socket in dir_
  std::string run_as_;  // "" or "runuser -u postgres --"
  int port_ = 5432;
  bool running_ = false;
};

// True when the engage tests run against PostgreSQL: CF_ENGAGE_BACKEND=postgresql. The
// harness then gives every data directory a database of its own (engage_process.cc).
bool UsingPostgres();

}  // namespace cf::engage_test
