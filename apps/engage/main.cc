// engage: the Braze-compatible engagement platform. `engage serve` runs the HTTP API; the
// other commands administer the same database and may run while the server does.
#include <fcntl.h>
#include <sys/file.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "base/files.h"
#include "base/log.h"
#include "base/time.h"
#include "engage/admin.h"
#include "engage/api.h"
#include "engage/engage.h"
#include "http/server.h"

namespace {

using cf::Result;
using cf::Status;

struct Common {
  std::string data = "data";
  std::string workspace = cf::engage::kDefaultWorkspace;
  std::string log_level = "info";
};

void AddCommon(CLI::App* cmd, Common* c, bool with_workspace) {
  cmd->add_option("--data", c->data, "directory holding engage.db")->capture_default_str();
  if (with_workspace) cmd->add_option("--workspace", c->workspace, "workspace name")->capture_default_str();
  cmd->add_option("--log-level", c->log_level, "trace, debug, info, warn, error, off")->capture_default_str();
}

Result<std::unique_ptr<cf::engage::Engage>> OpenEngage(
    const Common& c, bool synchronous_full = true,
    int deltas_per_snapshot = cf::engage::EngageOptions{}.deltas_per_snapshot) {
  CF_RETURN_IF_ERROR(cf::SetLogLevel(c.log_level));
  cf::engage::EngageOptions o;
  o.data_dir = c.data;
  o.synchronous_full = synchronous_full;
  o.deltas_per_snapshot = deltas_per_snapshot;
  return cf::engage::Engage::Open(o, cf::SystemClock());
}

int Fail(const Status& s) {
  std::cerr << "engage: " << s.message() << "\n";
  return 1;
}

Status Serve(const Common& c, const std::string& listen, const cf::http::ServerOptions& server_options,
             bool synchronous_full, int deltas_per_snapshot) {
  CF_ASSIGN_OR_RETURN(auto address, cf::http::ParseListenAddress(listen));
  CF_RETURN_IF_ERROR(cf::CreateDirectories(c.data));
  // Cohort bitmaps live in the server's memory: a second server on the same directory would
  // write deltas the first never sees. The lock is released when the process ends, however.
  const std::string lock_path = c.data + "/serve.lock";
  int lock_fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return Status::FailedPrecondition("another `engage serve` is using " + c.data + " (" + lock_path + " is locked)");
  }
  CF_ASSIGN_OR_RETURN(auto engage, OpenEngage(c, synchronous_full, deltas_per_snapshot));
  cf::http::Server server(server_options);
  cf::engage::ApiOptions api_options;
  api_options.max_body_bytes = server_options.max_body_bytes;
  cf::engage::Api api(*engage, cf::SystemClock(), api_options);
  api.Register(server);
  CF_ASSIGN_OR_RETURN(int port, server.Bind(address.first, address.second));

  // SIGINT/SIGTERM stop the server from a watcher thread (no work inside a signal handler).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread watcher([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    CF_LOG_INFO("signal {}: stopping", sig);
    server.Stop();
  });
  watcher.detach();

  // Tests and scripts read the bound port from this line (useful with --listen host:0).
  std::printf("listening on http://%s:%d\n", address.first.c_str(), port);
  std::fflush(stdout);
  CF_LOG_INFO("engage serving {} on {}:{}", c.data, address.first, port);
  return server.Run();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"engage: a Braze-compatible engagement platform (REST API, partner cohort import, segments)"};
  app.require_subcommand(1);
  Common c;

  auto* serve = app.add_subcommand("serve", "run the HTTP API");
  AddCommon(serve, &c, false);
  std::string listen = "127.0.0.1:4000";
  cf::http::ServerOptions so;
  bool fast_commit = false;
  int deltas_per_snapshot = cf::engage::EngageOptions{}.deltas_per_snapshot;
  serve->add_option("--listen", listen, "host:port to listen on (port 0: any free port)")->capture_default_str();
  serve->add_option("--threads", so.threads, "worker threads")->capture_default_str();
  serve->add_option("--max-body-bytes", so.max_body_bytes, "larger request bodies get 413")->capture_default_str();
  serve->add_flag("--fast-commit", fast_commit,
                  "SQLite synchronous=NORMAL: a 2xx survives a crash of engage but not of the machine");
  serve
      ->add_option("--deltas-per-snapshot", deltas_per_snapshot,
                   "cohort membership deltas kept before a cohort's bitmap is rewritten whole")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();

  auto* api_key = app.add_subcommand("api-key", "REST API keys")->require_subcommand(1);
  auto* api_key_create = api_key->add_subcommand("create", "create a REST API key; prints it on the last line");
  AddCommon(api_key_create, &c, true);
  std::string key_name, permissions = "all";
  api_key_create->add_option("--name", key_name, "what the key is for")->required();
  api_key_create
      ->add_option("--permissions", permissions, "all, or a comma-separated list such as users.track,users.identify")
      ->capture_default_str();

  auto* partner =
      app.add_subcommand("partner", "technology partners and their data import keys")->require_subcommand(1);
  std::string partner_name, display_name;
  auto* partner_add = partner->add_subcommand("add", "register a partner; prints its partner_api_key on the last line");
  AddCommon(partner_add, &c, false);
  partner_add->add_option("--partner", partner_name, "partner name as in URLs, e.g. tinyclues")->required();
  partner_add->add_option("--display-name", display_name, "name shown in segment filters (default: --partner)");
  auto* partner_show =
      partner->add_subcommand("show", "the partner's endpoint and whether a data import key is active");
  AddCommon(partner_show, &c, true);
  partner_show->add_option("--partner", partner_name, "partner name")->required();
  auto* partner_key =
      partner->add_subcommand("key", "the workspace's data import key for a partner")->require_subcommand(1);
  auto* key_generate = partner_key->add_subcommand(
      "generate", "new key (the client_secret), printed on the last line; the previous one stops working");
  AddCommon(key_generate, &c, true);
  key_generate->add_option("--partner", partner_name, "partner name")->required();
  auto* key_invalidate = partner_key->add_subcommand("invalidate", "the current key stops working");
  AddCommon(key_invalidate, &c, true);
  key_invalidate->add_option("--partner", partner_name, "partner name")->required();

  auto* user = app.add_subcommand("user", "user profiles")->require_subcommand(1);
  auto* add_device = user->add_subcommand("add-device", "what a mobile SDK does when a session starts on a device");
  AddCommon(add_device, &c, true);
  std::string device_id, external_id;
  add_device->add_option("--device-id", device_id, "the device")->required();
  add_device->add_option("--external-id", external_id, "identify the device's user with this external_id");

  auto* rate = app.add_subcommand("rate-limit", "per-workspace rate limits")->require_subcommand(1);
  auto* rate_set = rate->add_subcommand("set", "set the limit of one endpoint (or * for all) of a workspace");
  AddCommon(rate_set, &c, true);
  std::string endpoint;
  int64_t limit = 0, window = 0;
  rate_set->add_option("--endpoint", endpoint, "e.g. /users/track, /partners/cohorts/users, or *")->required();
  rate_set->add_option("--limit", limit, "requests per window")->required();
  rate_set->add_option("--window-seconds", window, "window length")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  const int64_t now = cf::SystemClock().NowSeconds();
  auto with_engage = [&](const std::function<Status(cf::engage::Storage&)>& f) -> int {
    auto engage = OpenEngage(c);
    if (!engage) return Fail(engage.error());
    Status s = f((*engage)->storage());
    return s.ok() ? 0 : Fail(s);
  };
  auto print_key = [](const Result<std::string>& key, const std::string& what) -> Status {
    if (!key) return key.error();
    std::cerr << what << " (shown once; only a salted hash is stored):\n";
    std::cout << *key << std::endl;
    return Status::OK();
  };

  if (serve->parsed()) {
    Status s = Serve(c, listen, so, !fast_commit, deltas_per_snapshot);
    return s.ok() ? 0 : Fail(s);
  }
  if (api_key_create->parsed()) {
    return with_engage([&](cf::engage::Storage& st) {
      return print_key(cf::engage::CreateApiKey(st, c.workspace, key_name, permissions, now),
                       "REST API key for workspace '" + c.workspace + "'");
    });
  }
  if (partner_add->parsed()) {
    return with_engage([&](cf::engage::Storage& st) {
      return print_key(cf::engage::AddPartner(st, partner_name, display_name, now),
                       "partner_api_key of " + partner_name);
    });
  }
  if (partner_show->parsed()) {
    return with_engage([&](cf::engage::Storage& st) -> Status {
      CF_ASSIGN_OR_RETURN(auto info, cf::engage::ShowPartner(st, c.workspace, partner_name));
      std::cout << "partner: " << info.name << "\n"
                << "display name: " << info.display_name << "\n"
                << "endpoint: POST " << info.endpoint << " and POST " << info.endpoint << "/users\n"
                << "data import key for workspace '" << c.workspace
                << "': " << (info.data_import_key_active ? "active" : "none") << std::endl;
      return Status::OK();
    });
  }
  if (key_generate->parsed()) {
    return with_engage([&](cf::engage::Storage& st) {
      return print_key(cf::engage::GenerateDataImportKey(st, c.workspace, partner_name, now),
                       "data import key (client_secret) of " + partner_name + " for workspace '" + c.workspace + "'");
    });
  }
  if (key_invalidate->parsed()) {
    return with_engage([&](cf::engage::Storage& st) -> Status {
      CF_RETURN_IF_ERROR(cf::engage::InvalidateDataImportKey(st, c.workspace, partner_name));
      std::cout << "the data import key of " << partner_name << " for workspace '" << c.workspace << "' no longer works"
                << std::endl;
      return Status::OK();
    });
  }
  if (add_device->parsed()) {
    return with_engage([&](cf::engage::Storage& st) -> Status {
      std::optional<std::string> ext = external_id.empty() ? std::nullopt : std::optional<std::string>(external_id);
      CF_ASSIGN_OR_RETURN(auto p, cf::engage::AddDevice(st, c.workspace, device_id, ext, now));
      std::cout << "braze_id: " << p.braze_id << "\n"
                << "external_id: " << (p.external_id ? *p.external_id : "(anonymous)") << std::endl;
      return Status::OK();
    });
  }
  if (rate_set->parsed()) {
    return with_engage([&](cf::engage::Storage& st) -> Status {
      CF_RETURN_IF_ERROR(cf::engage::SetRateLimit(st, c.workspace, endpoint, limit, window));
      std::cout << "rate limit of " << endpoint << " in workspace '" << c.workspace << "': " << limit << " per "
                << window << " s" << std::endl;
      return Status::OK();
    });
  }
  return 0;
}
