// Runs the real `engage` binary for cross-process tests: `engage serve` on a free loopback
// port, and the admin commands against the same data directory.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace cf::engage_test {

// The engage binary: $CF_BIN_DIR/engage.
std::string EngageBinary();
// A fresh empty directory under the system temp dir, removed by the caller if it wants.
std::string MakeTempDir(const std::string& prefix);

struct AdminResult {
  int exit_code = -1;
  std::string out;        // stdout
  std::string last_line;  // last non-empty line of stdout
};
// The store flags for a data directory, as arguments: `--data DIR`, or with
// CF_ENGAGE_BACKEND=postgresql `--store URL` of a database of the throwaway cluster that
// belongs to DIR alone.
std::vector<std::string> StoreArgs(const std::string& data_dir);
// The same for a shell command line: every `--data PATH` of `args` replaced when on PostgreSQL.
std::string WithStore(const std::string& args);

// Runs `engage ARGS... --data DIR` and captures stdout (stderr goes to the test's stderr).
AdminResult RunAdmin(const std::string& data_dir, const std::vector<std::string>& args);

// A server process that prints "listening on http://HOST:PORT" first (engage serve, audience
// serve): started from `argv` (argv[0] the binary), its port read from that line.
class ServerProcess {
 public:
  explicit ServerProcess(const std::vector<std::string>& argv);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool running() const { return pid_ > 0 && port_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // SIGKILL, then reap: nothing gets a chance to flush.
  void Kill();
  // SIGTERM and wait; returns the exit status as waitpid reports it (-1 when not running).
  int Stop();

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

class EngageServer : public ServerProcess {
 public:
  // Starts `engage serve --data DIR --listen 127.0.0.1:0 EXTRA...` and waits for its port.
  explicit EngageServer(const std::string& data_dir, const std::vector<std::string>& extra_args = {});
};

}  // namespace cf::engage_test
