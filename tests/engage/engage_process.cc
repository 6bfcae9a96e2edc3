#include "engage_process.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <stdexcept>

// The cluster's code comes with this file: every program that runs engage (tests here and in
// tests/flow, tests/sync, tests/console, tests/http, bench) compiles engage_process.cc alone.
#include "pg_cluster.cc"  // NOLINT(bugprone-suspicious-include)

namespace cf::engage_test {

std::string EngageBinary() {
  const char* dir = getenv("CF_BIN_DIR");
  return std::string(dir ? dir : "build/bin") + "/engage";
}

std::string MakeTempDir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  return pattern;
}

namespace {

// Forks `argv`, with stdout into a pipe; returns the pid and the read end.
std::pair<pid_t, int> Spawn(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  return {pid, fds[0]};
}

}  // namespace

// Where the command's store is: `--data DIR`, or with CF_ENGAGE_BACKEND=postgresql a database
// of the throwaway cluster given to that directory alone (so tests stay independent).
std::vector<std::string> StoreArgs(const std::string& data_dir) {
  if (!UsingPostgres()) return {"--data", data_dir};
  PgCluster* cluster = PgCluster::Shared();
  if (cluster == nullptr) {
    std::fprintf(stderr, "CF_ENGAGE_BACKEND=postgresql but no PostgreSQL cluster: %s\n",
                 PgCluster::SkipReason().c_str());
    std::exit(1);
  }
  char name[32];
  std::snprintf(name, sizeof name, "d%016zx", std::hash<std::string>{}(data_dir));
  return {"--store", cluster->Url(name)};
}

std::string WithStore(const std::string& args) {
  if (!UsingPostgres()) return args;
  std::string out;
  size_t at = 0;
  while (true) {
    size_t flag = args.find("--data ", at);
    if (flag == std::string::npos || (flag > 0 && args[flag - 1] != ' ')) {
      if (flag == std::string::npos) break;
      out += args.substr(at, flag + 7 - at);
      at = flag + 7;
      continue;
    }
    out += args.substr(at, flag - at);
    size_t start = flag + 7;
    size_t end = args.find(' ', start);
    if (end == std::string::npos) end = args.size();
    auto store = StoreArgs(args.substr(start, end - start));
    out += store[0] + " '" + store[1] + "'";
    at = end;
  }
  return out + args.substr(at);
}

AdminResult RunAdmin(const std::string& data_dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {EngageBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  for (auto& a : StoreArgs(data_dir)) argv.push_back(std::move(a));
  argv.push_back("--log-level");
  argv.push_back("warn");
  auto [pid, fd] = Spawn(argv);
  AdminResult r;
  std::array<char, 4096> buf{};
  ssize_t n;
  while ((n = read(fd, buf.data(), buf.size())) > 0) r.out.append(buf.data(), static_cast<size_t>(n));
  close(fd);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::string s = r.out;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  size_t nl = s.rfind('\n');
  r.last_line = nl == std::string::npos ? s : s.substr(nl + 1);
  return r;
}

namespace {

std::vector<std::string> EngageServeArgs(const std::string& data_dir, const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {EngageBinary(), "serve"};
  for (auto& a : StoreArgs(data_dir)) argv.push_back(std::move(a));
  for (const char* a : {"--listen", "127.0.0.1:0", "--log-level", "warn"}) argv.push_back(a);
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  return argv;
}

}  // namespace

ServerProcess::ServerProcess(const std::vector<std::string>& argv) {
  auto [pid, fd] = Spawn(argv);
  pid_ = pid;
  // The server prints "listening on http://127.0.0.1:PORT" once bound.
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') line += c;
  close(fd);
  size_t colon = line.rfind(':');
  if (line.rfind("listening on", 0) == 0 && colon != std::string::npos) port_ = std::stoi(line.substr(colon + 1));
}

ServerProcess::~ServerProcess() { Stop(); }

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

EngageServer::EngageServer(const std::string& data_dir, const std::vector<std::string>& extra_args)
    : ServerProcess(EngageServeArgs(data_dir, extra_args)) {}

}  // namespace cf::engage_test
