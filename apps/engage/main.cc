// engage: the Braze-compatible engagement platform. `engage serve` runs the HTTP API; the
// other commands administer the same database and may run while the server does.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <thread>

#include "base/log.h"
#include "base/progress.h"
#include "base/strings.h"
#include "base/time.h"
#include "engage/admin.h"
#include "engage/api.h"
#include "engage/campaigns.h"
#include "engage/console.h"
#include "engage/dashboard_users.h"
#include "engage/engage.h"
#include "engage/sqlite_storage.h"
#include "engage/postgres_storage.h"
#include "engage/store.h"
#include "engage/user_import.h"
#include "http/server.h"

#ifndef CF_ENGAGE_VERSION
#define CF_ENGAGE_VERSION "unknown"
#endif

namespace {

using cf::Result;
using cf::Status;

// How long an admin command waits for a server busy writing before it gives up.
constexpr int kAdminBusyWaitSeconds = 120;

struct Common {
  std::string data = "data";
  std::string store;  // postgresql://... in place of --data
  std::string workspace = cf::engage::kDefaultWorkspace;
  std::string log_level = "info";
  bool quiet = false;
};

// Where the arguments lead: the deepest subcommand they name (the root when they name none),
// the command as typed (`users import` and `user import` are one command), and the first
// argument in a command position that names no subcommand.
struct Walk {
  CLI::App* at = nullptr;
  std::string typed;
  std::string unknown;
};

Walk WalkCommands(CLI::App* app, int argc, char** argv) {
  Walk w{app, "", ""};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.empty() || arg[0] == '-') break;
    CLI::App* next = nullptr;
    for (CLI::App* sub : w.at->get_subcommands({})) {
      if (sub->check_name(arg)) next = sub;
    }
    if (next == nullptr) {
      if (!w.at->get_subcommands({}).empty()) w.unknown = arg;
      return w;
    }
    w.at = next;
    w.typed += (w.typed.empty() ? "" : " ") + arg;
  }
  return w;
}

std::string SubcommandNames(CLI::App* app) {
  std::vector<std::string> names;
  for (CLI::App* sub : app->get_subcommands({})) names.push_back(sub->get_name());
  return cf::Join(names, ", ");
}

// The README's contract for every error: `engage <command>: <message>`, a hint, exit code 1.
int Fail(const std::string& command, const std::string& message) {
  const std::string who = command.empty() ? "engage" : "engage " + command;
  std::cerr << who << ": " << message << "\n"
            << "Run '" << who << " --help' for usage." << std::endl;
  return 1;
}

void AddCommon(CLI::App* cmd, Common* c, bool with_workspace) {
  cmd->add_option("--data", c->data, "directory holding engage.db")->capture_default_str();
  cmd->add_option("--store", c->store, "a PostgreSQL database in place of --data: postgresql://[user@]host[:port]/db");
  if (with_workspace) cmd->add_option("--workspace", c->workspace, "workspace name")->capture_default_str();
  cmd->add_option("--log-level", c->log_level, "trace, debug, info, warn, error, off")->capture_default_str();
  cmd->add_flag("--quiet", c->quiet, "print only results and errors (no notes, log level error)");
}

// The database of an admin command. Commands that only read never create it. A command that
// meets a server busy writing waits for it (saying so once) instead of failing.
Result<std::unique_ptr<cf::engage::Storage>> OpenAdminStorage(const Common& c, const std::string& command,
                                                              bool read_only) {
  if (!c.store.empty()) {
    cf::engage::StoreOptions so;
    so.store_url = c.store;
    so.read_only = read_only;
    return cf::engage::OpenStore(so);
  }
  cf::engage::SqliteStorageOptions o;
  o.path = c.data + "/engage.db";
  o.create = !read_only;
  o.busy_timeout_ms = kAdminBusyWaitSeconds * 1000;
  if (!c.quiet) {
    o.on_busy_wait = [command, path = o.path] {
      std::cerr << "engage " << command << ": " << path << " is busy (engage serve is writing); waiting up to "
                << kAdminBusyWaitSeconds << " s" << std::endl;
    };
  }
  if (read_only) {
    auto storage = cf::engage::OpenSqliteStorage(o);
    if (!storage && storage.error().code() == cf::StatusCode::kNotFound) {
      return cf::Err(Status::NotFound("no engage database in " + c.data + " (" + o.path +
                                      " does not exist); check --data, or create one with `engage serve --data " +
                                      c.data + "`"));
    }
    return storage;
  }
  CF_RETURN_IF_ERROR(cf::engage::CreateDataDirectory(c.data));
  return cf::engage::OpenSqliteStorage(o);
}

Status Serve(const Common& c, const std::string& listen, const cf::http::ServerOptions& server_options,
             bool synchronous_full, int deltas_per_snapshot) {
  CF_ASSIGN_OR_RETURN(auto address, cf::http::ParseListenAddress(listen));
  // The port first: a server that cannot listen leaves no data directory behind. Connections
  // wait in the listen backlog until Run().
  cf::http::Server server(server_options);
  CF_ASSIGN_OR_RETURN(int port, server.Bind(address.first, address.second));
  std::unique_ptr<cf::engage::Engage> engage;
  cf::engage::StoreOptions store_options;
  store_options.store_url = c.store;
  if (!c.store.empty()) {
    // Several servers may share one PostgreSQL database (docs/scaling.md): no directory lock.
    CF_ASSIGN_OR_RETURN(auto storage, cf::engage::OpenStore(store_options));
    cf::engage::CohortIndexOptions co;
    co.deltas_per_snapshot = deltas_per_snapshot;
    CF_ASSIGN_OR_RETURN(engage, cf::engage::Engage::Open(std::move(storage), cf::SystemClock(), co));
  } else {
  CF_RETURN_IF_ERROR(cf::engage::CreateDataDirectory(c.data));
  // Cohort bitmaps live in the server's memory: a second server on the same directory would
  // write deltas the first never sees. The lock is released when the process ends, however.
  const std::string lock_path = c.data + "/serve.lock";
  int lock_fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return Status::FailedPrecondition("another `engage serve` is using " + c.data + " (" + lock_path + " is locked)");
  }
  cf::engage::EngageOptions o;
  o.data_dir = c.data;
  o.synchronous_full = synchronous_full;
  o.deltas_per_snapshot = deltas_per_snapshot;
  CF_ASSIGN_OR_RETURN(engage, cf::engage::Engage::Open(o, cf::SystemClock()));
  }
  cf::engage::ApiOptions api_options;
  api_options.max_body_bytes = server_options.max_body_bytes;
  cf::engage::Api api(*engage, cf::SystemClock(), api_options);
  api.Register(server);
  cf::engage::Console console(*engage, cf::SystemClock());
  console.Register(server);

  const cf::http::SignalWatcher stop_on_signals(server);

  // Tests and scripts read the bound port from this line (useful with --listen host:0).
  std::printf("listening on %s://%s:%d\n", server_options.tls_cert_file.empty() ? "http" : "https",
              address.first.c_str(), port);
  std::fflush(stdout);
  CF_LOG_INFO("engage serving {} on {}:{}", c.store.empty() ? c.data : store_options.Describe(), address.first, port);
  return server.Run();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"engage: a Braze-compatible engagement platform (REST API, partner cohort import, segments, campaigns)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "engage " CF_ENGAGE_VERSION, "print the version and exit");
  Common c;

  auto* serve = app.add_subcommand("serve", "run the HTTP API");
  AddCommon(serve, &c, false);
  // engage migrate: the store's schema to this version; with --from DIR --to URL, a SQLite store
  // copied into an empty PostgreSQL database, checked table by table.
  auto* migrate = app.add_subcommand("migrate", "apply schema migrations, or copy a SQLite store to PostgreSQL");
  AddCommon(migrate, &c, false);
  std::string migrate_from;
  std::string migrate_to;
  migrate->add_option("--from", migrate_from, "the data directory of a SQLite store to copy (with --to)");
  migrate->add_option("--to", migrate_to, "the empty PostgreSQL database to copy it into: postgresql://...");
  std::string listen = "127.0.0.1:4000";
  cf::http::ServerOptions so;
  bool fast_commit = false;
  int deltas_per_snapshot = cf::engage::EngageOptions{}.deltas_per_snapshot;
  serve->add_option("--listen", listen, "host:port to listen on (port 0: any free port)")->capture_default_str();
  serve->add_option("--threads", so.threads, "worker threads")->check(CLI::Range(1, 1024))->capture_default_str();
  serve->add_option("--max-body-bytes", so.max_body_bytes, "larger request bodies get 413")
      ->check(CLI::Range(size_t{1}, size_t{1} << 40))
      ->capture_default_str();
  serve->add_option("--tls-cert", so.tls_cert_file, "TLS: the certificate chain, PEM (with --tls-key; default: plain HTTP)");
  serve->add_option("--tls-key", so.tls_key_file, "TLS: the certificate's private key, PEM");
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
  std::string key_name, permissions = "all", key_to_revoke;
  api_key_create->add_option("--name", key_name, "what the key is for")->required();
  api_key_create
      ->add_option("--permissions", permissions, "all, or a comma-separated list such as users.track,users.identify")
      ->capture_default_str();
  auto* api_key_list = api_key->add_subcommand("list", "the workspace's REST API keys: id, name, permissions, created");
  AddCommon(api_key_list, &c, true);
  auto* api_key_revoke = api_key->add_subcommand("revoke", "revoke a REST API key; it stops working at once");
  AddCommon(api_key_revoke, &c, true);
  api_key_revoke->add_option("--key", key_to_revoke, "the key's id (as `api-key list` shows it) or the whole key")
      ->required();

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
  auto* partner_rotate = partner->add_subcommand(
      "rotate-key", "a new partner_api_key, printed on the last line; the previous one stops working at once");
  AddCommon(partner_rotate, &c, false);
  partner_rotate->add_option("--partner", partner_name, "partner name")->required();
  auto* partner_key =
      partner->add_subcommand("key", "the workspace's data import key for a partner")->require_subcommand(1);
  auto* key_generate = partner_key->add_subcommand(
      "generate", "new key (the client_secret), printed on the last line; the previous one stops working");
  AddCommon(key_generate, &c, true);
  key_generate->add_option("--partner", partner_name, "partner name")->required();
  auto* key_invalidate = partner_key->add_subcommand("invalidate", "the current key stops working");
  AddCommon(key_invalidate, &c, true);
  key_invalidate->add_option("--partner", partner_name, "partner name")->required();

  auto* user = app.add_subcommand("user", "user profiles, and the console's users (also spelled `users`)")
                   ->require_subcommand(1);
  user->alias("users");
  auto* add_device = user->add_subcommand("add-device", "what a mobile SDK does when a session starts on a device");
  AddCommon(add_device, &c, true);
  std::string device_id, external_id;
  add_device->add_option("--device-id", device_id, "the device")->required();
  add_device->add_option("--external-id", external_id, "identify the device's user with this external_id");
  std::string dashboard_email;
  auto* user_create =
      user->add_subcommand("create", "create a console (dashboard) user; prints a one-time password on the last line");
  AddCommon(user_create, &c, true);
  user_create->add_option("--email", dashboard_email, "the user's email, their sign-in name")->required();
  auto* user_list = user->add_subcommand("list", "the console users: email, workspace, created");
  AddCommon(user_list, &c, false);
  auto* user_remove = user->add_subcommand("remove", "remove a console user; their sessions end at once");
  AddCommon(user_remove, &c, false);
  user_remove->add_option("--email", dashboard_email, "the user's email")->required();
  auto* user_import = user->add_subcommand(
      "import", "Braze's CSV user import: create or update identified and alias-only profiles from a CSV file");
  AddCommon(user_import, &c, true);
  cf::engage::UserImportOptions import_options;
  user_import
      ->add_option("--csv", import_options.csv_path,
                   "the CSV file: a header with external_id and/or alias:LABEL columns (or user_alias_name and "
                   "user_alias_label), then attribute columns")
      ->required();
  user_import->add_option("--batch-rows", import_options.batch_rows, "rows per transaction")
      ->check(CLI::Range(size_t{1}, size_t{100000}))
      ->capture_default_str();

  auto* rate = app.add_subcommand("rate-limit", "per-workspace rate limits")->require_subcommand(1);
  auto* rate_set = rate->add_subcommand("set", "set the limit of one endpoint (or * for all) of a workspace");
  AddCommon(rate_set, &c, true);
  std::string endpoint;
  int64_t limit = 0, window = 0;
  rate_set->add_option("--endpoint", endpoint, "one of " + cf::Join(cf::engage::RateLimitEndpoints(), ", ") + ", or *")
      ->required();
  rate_set->add_option("--limit", limit, "requests per window (at least 1)")->required();
  rate_set->add_option("--window-seconds", window, "window length (at least 1)")->required();

  auto* campaign = app.add_subcommand("campaign", "campaigns that send to segments")->require_subcommand(1);
  cf::engage::CampaignSpec campaign_spec;
  auto* campaign_create =
      campaign->add_subcommand("create", "create a campaign; prints its campaign_id on the last line");
  AddCommon(campaign_create, &c, true);
  campaign_create->add_option("--name", campaign_spec.name, "the campaign's name, unique in the workspace")->required();
  campaign_create->add_option("--segment-id", campaign_spec.segment_id, "the segment it sends to")->required();
  campaign_create->add_option("--channel", campaign_spec.channel, "email, push or sms")->required();
  campaign_create
      ->add_option("--control-share", campaign_spec.control_share,
                   "share of the segment kept as the control group (gets no message), in [0, 1)")
      ->capture_default_str();
  auto* campaign_list = campaign->add_subcommand("list",
                                                 "the workspace's campaigns: id, name, channel, segment, "
                                                 "control share, created");
  AddCommon(campaign_list, &c, true);
  auto* campaign_sends =
      campaign->add_subcommand("sends", "write the send records as JSON Lines (the format of GET /campaigns/sends)");
  AddCommon(campaign_sends, &c, true);
  std::string sends_campaign_id, sends_out;
  int64_t sends_since = 0;
  campaign_sends->add_option("--campaign-id", sends_campaign_id, "one campaign (default: every campaign)");
  campaign_sends->add_option("--out", sends_out, "the file to write (- for stdout)")->required();
  campaign_sends->add_option("--since", sends_since, "only records with time >= this (UTC epoch seconds)")
      ->check(CLI::NonNegativeNumber);

  auto* cap = app.add_subcommand("frequency-cap", "the workspace's global frequency caps")->require_subcommand(1);
  cf::engage::FrequencyCapRecord cap_record;
  auto* cap_set =
      cap->add_subcommand("set", "at most --max sent messages of the channel per user in the rolling last --days days");
  AddCommon(cap_set, &c, true);
  cap_set->add_option("--channel", cap_record.channel, "email, push or sms")->required();
  cap_set->add_option("--max", cap_record.max_messages, "messages per user (at least 1)")->required();
  cap_set->add_option("--days", cap_record.days, "the rolling window in days (1 to 366)")->required();
  auto* cap_list = cap->add_subcommand("list", "the caps: channel, max, days");
  AddCommon(cap_list, &c, true);
  auto* cap_remove = cap->add_subcommand("remove", "lift the cap of a channel");
  AddCommon(cap_remove, &c, true);
  cap_remove->add_option("--channel", cap_record.channel, "email, push or sms")->required();

  auto* delivery = app.add_subcommand("delivery", "how the workspace's messages leave engage")->require_subcommand(1);
  cf::engage::DeliveryRecord delivery_record;
  auto* delivery_set = delivery->add_subcommand("set", "choose the delivery adapter (store or webhook)");
  AddCommon(delivery_set, &c, true);
  delivery_set->add_option("--adapter", delivery_record.adapter, "store (record only) or webhook")->required();
  delivery_set->add_option("--url", delivery_record.url, "webhook: the URL each message is POSTed to");
  delivery_set->add_option("--max-attempts", delivery_record.max_attempts, "webhook: tries per message")
      ->capture_default_str();
  delivery_set
      ->add_option("--initial-backoff-ms", delivery_record.initial_backoff_ms,
                   "webhook: the first retry waits up to this; each next one up to twice as long")
      ->capture_default_str();
  delivery_set->add_option("--timeout-ms", delivery_record.timeout_ms, "webhook: one attempt, connection included")
      ->capture_default_str();
  auto* delivery_show = delivery->add_subcommand("show", "the workspace's delivery adapter and its settings");
  AddCommon(delivery_show, &c, true);

  auto* security_log =
      app.add_subcommand("security-log", "the security event log: key, partner and user changes, console sign-ins");
  AddCommon(security_log, &c, false);
  int64_t security_after = 0;
  size_t security_limit = 1000;
  bool security_json = false;
  security_log->add_option("--after", security_after, "only events with a greater id (to follow the log)")
      ->capture_default_str();
  security_log->add_option("--limit", security_limit, "at most this many events, oldest first")
      ->check(CLI::Range(size_t{1}, size_t{1000000}))
      ->capture_default_str();
  security_log->add_flag("--json", security_json, "one JSON object per line");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help, --version
    auto [at, command, unknown] = WalkCommands(&app, argc, argv);
    if (!unknown.empty()) {
      return Fail(command, "unknown command " + cf::Quote(unknown) + "; expected one of: " + SubcommandNames(at));
    }
    if (!at->get_subcommands({}).empty() && std::string(e.what()) == "A subcommand is required") {
      return Fail(command, "a command is required: one of " + SubcommandNames(at));
    }
    return Fail(command, e.what());
  }

  const std::string command = WalkCommands(&app, argc, argv).typed;
  if (Status s = cf::SetLogLevel(c.quiet ? "error" : c.log_level); !s.ok()) return Fail(command, s.message());

  const int64_t now = cf::SystemClock().NowSeconds();
  auto with_storage = [&](bool read_only, const std::function<Status(cf::engage::Storage&)>& f) -> int {
    auto storage = OpenAdminStorage(c, command, read_only);
    if (!storage) return Fail(command, storage.error().message());
    Status s = f(**storage);
    return s.ok() ? 0 : Fail(command, s.message());
  };
  auto note = [&](const std::string& text) {
    if (!c.quiet) std::cerr << text << "\n";
  };
  auto print_key = [&](const Result<std::string>& key, const std::string& what) -> Status {
    if (!key) return key.error();
    note(what + " (shown once; only a salted hash is stored):");
    std::cout << *key << std::endl;
    return Status::OK();
  };

  if (migrate->parsed()) {
    if (migrate_from.empty() != migrate_to.empty()) {
      return Fail(command, "--from DIR and --to postgresql://... go together (or give neither to migrate one store)");
    }
    if (!migrate_from.empty()) {
      if (!cf::engage::IsPostgresUrl(migrate_to)) {
        return Fail(command, "--to " + cf::Quote(migrate_to) + " is not a PostgreSQL URL (postgresql://[user@]host[:port]/db)");
      }
      // The source is opened once the usual way first: an older SQLite schema is upgraded.
      {
        Common from = c;
        from.data = migrate_from;
        from.store.clear();
        auto source = OpenAdminStorage(from, command, true);
        if (!source) return Fail(command, source.error().message());
      }
      auto copied = cf::engage::CopySqliteToPostgres(migrate_from + "/engage.db", migrate_to);
      if (!copied) return Fail(command, copied.error().message());
      int64_t rows = 0;
      for (const auto& t : *copied) {
        rows += t.rows;
        if (!c.quiet) std::cerr << t.table << ": " << t.rows << " rows, checksum " << t.checksum.substr(0, 16) << "\n";
      }
      std::cout << "copied " << rows << " rows in " << copied->size() << " tables from " << migrate_from
                << " to PostgreSQL; every table's count and checksum match" << std::endl;
      return 0;
    }
    return with_storage(false, [&](cf::engage::Storage&) -> Status {
      if (c.store.empty()) {
        std::cout << "the SQLite store in " << c.data << " has the current schema" << std::endl;
        return Status::OK();
      }
      CF_ASSIGN_OR_RETURN(auto v, cf::engage::PostgresSchemaVersions(c.store));
      std::cout << "the PostgreSQL store has schema version " << v.database << " (current: " << v.current << ")"
                << std::endl;
      return Status::OK();
    });
  }
  if (serve->parsed()) {
    Status s = Serve(c, listen, so, !fast_commit, deltas_per_snapshot);
    return s.ok() ? 0 : Fail(command, s.message());
  }
  if (api_key_create->parsed()) {
    return with_storage(false, [&](cf::engage::Storage& st) {
      return print_key(cf::engage::CreateApiKey(st, c.workspace, key_name, permissions, now),
                       "REST API key for workspace '" + c.workspace + "'");
    });
  }
  if (api_key_list->parsed()) {
    return with_storage(true, [&](cf::engage::Storage& st) -> Status {
      CF_ASSIGN_OR_RETURN(auto keys, cf::engage::ListApiKeys(st, c.workspace));
      note("REST API keys of workspace '" + c.workspace + "' (id, name, permissions, created):");
      for (const auto& k : keys) {
        std::cout << k.key_id << "\t" << k.name << "\t" << k.permissions << "\t" << cf::FormatIsoTime(k.created_at)
                  << "\n";
      }
      std::cout << std::flush;
      return Status::OK();
    });
  }
  if (api_key_revoke->parsed()) {
    return with_storage(false, [&](cf::engage::Storage& st) -> Status {
      CF_RETURN_IF_ERROR(cf::engage::RevokeApiKey(st, c.workspace, key_to_revoke));
      std::cout << "revoked the REST API key " << key_to_revoke.substr(0, 16) << " of workspace '" << c.workspace << "'"
                << std::endl;
      return Status::OK();
    });
  }
  if (partner_add->parsed()) {
    return with_storage(false, [&](cf::engage::Storage& st) {
      return print_key(cf::engage::AddPartner(st, partner_name, display_name, now),
                       "partner_api_key of " + partner_name);
    });
  }
  if (partner_rotate->parsed()) {
    return with_storage(false, [&](cf::engage::Storage& st) {
      return print_key(cf::engage::RotatePartnerKey(st, partner_name),
                       "new partner_api_key of " + partner_name + "; the previous one no longer works");
    });
  }
  if (partner_show->parsed()) {
    return with_storage(true, [&](cf::engage::Storage& st) -> Status {
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
    return with_storage(false, [&](cf::engage::Storage& st) {
      return print_key(cf::engage::GenerateDataImportKey(st, c.workspace, partner_name, now),
                       "data import key (client_secret) of " + partner_name + " for workspace '" + c.workspace + "'");
    });
  }
  if (key_invalidate->parsed()) {
    return with_storage(false, [&](cf::engage::Storage& st) -> Status {
      CF_RETURN_IF_ERROR(cf::engage::InvalidateDataImportKey(st, c.workspace, partner_name));
      std::cout << "the data import key of " << partner_name << " for workspace '" << c.workspace << "' no longer works"
                << std::endl;
      return Status::OK();
    });
  }
  if (add_device->parsed()) {
    return with_storage(false, [&](cf::engage::Storage& st) -> Status {
      std::optional<std::string> ext = external_id.empty() ? std::nullopt : std::optional<std::string>(external_id);
      CF_ASSIGN_OR_RETURN(auto p, cf::engage::AddDevice(st, c.workspace, device_id, ext, now));
      std::cout << "braze_id: " << p.braze_id << "\n"
                << "external_id: " << (p.external_id ? *p.external_id : "(anonymous)") << std::endl;
      return Status::OK();
    });
  }
  if (user_create->parsed()) {
    return with_storage(false, [&](cf::engage::Storage& st) {
      return print_key(
          cf::engage::CreateDashboardUser(st, c.workspace, dashboard_email, now),
          "password of console user " + cf::ToLower(cf::Trim(dashboard_email)) + " in workspace '" + c.workspace + "'");
    });
  }
  if (user_list->parsed()) {
    return with_storage(true, [&](cf::engage::Storage& st) -> Status {
      CF_ASSIGN_OR_RETURN(auto users, cf::engage::ListDashboardUsers(st));
      note("console users (email, workspace, created):");
      for (const auto& u : users) {
        std::cout << u.email << "\t" << u.workspace << "\t" << cf::FormatIsoTime(u.created_at) << "\n";
      }
      std::cout << std::flush;
      return Status::OK();
    });
  }
  if (user_remove->parsed()) {
    return with_storage(false, [&](cf::engage::Storage& st) -> Status {
      CF_RETURN_IF_ERROR(cf::engage::RemoveDashboardUser(st, dashboard_email));
      std::cout << "removed console user " << cf::ToLower(cf::Trim(dashboard_email)) << std::endl;
      return Status::OK();
    });
  }
  if (user_import->parsed()) {
    auto storage = OpenAdminStorage(c, command, false);
    if (!storage) return Fail(command, storage.error().message());
    import_options.workspace = c.workspace;
    if (c.quiet) cf::Progress::SetEnabled(false);
    std::optional<cf::Progress> bar;
    auto report = cf::engage::ImportUsers(**storage, import_options, now, [&](uint64_t done, uint64_t total) {
      if (!bar) bar.emplace("importing " + import_options.csv_path, total, "B");
      bar->Update(done);
    });
    if (bar) bar->Finish();
    if (!report) return Fail(command, report.error().message());
    // Bad rows were skipped and the others imported: each is named, then the summary.
    for (const auto& e : report->errors)
      std::cerr << "engage " << command << ": " << e.ToString(import_options.csv_path) << "\n";
    if (report->failed > report->errors.size()) {
      std::cerr << "engage " << command << ": " << (report->failed - report->errors.size())
                << " more rows failed (not listed)\n";
    }
    std::cout << "created " << report->created << ", updated " << report->updated << ", failed " << report->failed
              << " (" << report->rows << " rows)" << std::endl;
    if (report->failed == 0) return 0;
    std::cerr << "engage " << command << ": " << report->failed << " of " << report->rows
              << " rows failed (listed above); the other rows were imported" << std::endl;
    return 1;
  }
  if (rate_set->parsed()) {
    return with_storage(false, [&](cf::engage::Storage& st) -> Status {
      CF_RETURN_IF_ERROR(cf::engage::SetRateLimit(st, c.workspace, endpoint, limit, window));
      std::cout << "rate limit of " << endpoint << " in workspace '" << c.workspace << "': " << limit << " per "
                << window << " s" << std::endl;
      return Status::OK();
    });
  }
  if (campaign_create->parsed()) {
    return with_storage(false, [&](cf::engage::Storage& st) -> Status {
      CF_ASSIGN_OR_RETURN(auto created, cf::engage::CreateCampaign(st, c.workspace, campaign_spec, now));
      note("campaign '" + created.name + "' on " + created.channel + " to segment " + created.segment_id +
           " in workspace '" + c.workspace + "'; its campaign_id:");
      std::cout << created.campaign_id << std::endl;
      return Status::OK();
    });
  }
  if (campaign_list->parsed()) {
    return with_storage(true, [&](cf::engage::Storage& st) -> Status {
      CF_ASSIGN_OR_RETURN(auto all, cf::engage::ListCampaigns(st, c.workspace));
      note("campaigns of workspace '" + c.workspace +
           "' (campaign_id, name, channel, segment_id, control share, "
           "created):");
      for (const auto& k : all) {
        std::cout << k.campaign_id << "\t" << k.name << "\t" << k.channel << "\t" << k.segment_id << "\t"
                  << k.control_share << "\t" << cf::FormatIsoTime(k.created_at) << "\n";
      }
      std::cout << std::flush;
      return Status::OK();
    });
  }
  if (campaign_sends->parsed()) {
    return with_storage(true, [&](cf::engage::Storage& st) -> Status {
      std::optional<std::string> id;
      if (!sends_campaign_id.empty()) id = sends_campaign_id;
      const bool to_stdout = sends_out == "-";
      const std::string tmp = sends_out + ".tmp";
      std::FILE* f = to_stdout ? stdout : std::fopen(tmp.c_str(), "w");
      if (f == nullptr) return Status::IOError("cannot write " + tmp + ": " + std::strerror(errno));
      uint64_t lines = 0;
      Status s = cf::engage::WriteSendsFeed(st, c.workspace, id, sends_since, [&](std::string_view line) -> Status {
        ++lines;
        if (std::fwrite(line.data(), 1, line.size(), f) != line.size() || std::fputc('\n', f) == EOF) {
          return Status::IOError("cannot write " + sends_out + ": " + std::strerror(errno));
        }
        return Status::OK();
      });
      if (to_stdout) {
        std::fflush(stdout);
        return s;
      }
      // Written whole or not at all: a reader never sees half a feed under the final name.
      const bool closed = std::fclose(f) == 0;
      if (s.ok() && !closed) s = Status::IOError("cannot write " + sends_out + ": " + std::strerror(errno));
      if (s.ok() && std::rename(tmp.c_str(), sends_out.c_str()) != 0) {
        s = Status::IOError("cannot rename " + tmp + " to " + sends_out + ": " + std::strerror(errno));
      }
      if (!s.ok()) {
        std::remove(tmp.c_str());
        return s;
      }
      note("wrote " + std::to_string(lines) + " send records to " + sends_out);
      return Status::OK();
    });
  }
  if (cap_set->parsed()) {
    return with_storage(false, [&](cf::engage::Storage& st) -> Status {
      CF_RETURN_IF_ERROR(cf::engage::SetFrequencyCap(st, c.workspace, cap_record));
      std::cout << "frequency cap of " << cap_record.channel << " in workspace '" << c.workspace << "': at most "
                << cap_record.max_messages << " per user in the last " << cap_record.days << " days" << std::endl;
      return Status::OK();
    });
  }
  if (cap_list->parsed()) {
    return with_storage(true, [&](cf::engage::Storage& st) -> Status {
      CF_ASSIGN_OR_RETURN(auto caps, cf::engage::ListFrequencyCaps(st, c.workspace));
      note("frequency caps of workspace '" + c.workspace + "' (channel, max messages, days):");
      for (const auto& k : caps) std::cout << k.channel << "\t" << k.max_messages << "\t" << k.days << "\n";
      std::cout << std::flush;
      return Status::OK();
    });
  }
  if (cap_remove->parsed()) {
    return with_storage(false, [&](cf::engage::Storage& st) -> Status {
      CF_RETURN_IF_ERROR(cf::engage::RemoveFrequencyCap(st, c.workspace, cap_record.channel));
      std::cout << "removed the frequency cap of " << cap_record.channel << " in workspace '" << c.workspace << "'"
                << std::endl;
      return Status::OK();
    });
  }
  if (delivery_set->parsed()) {
    return with_storage(false, [&](cf::engage::Storage& st) -> Status {
      CF_RETURN_IF_ERROR(cf::engage::SetDelivery(st, c.workspace, delivery_record));
      std::cout << "delivery of workspace '" << c.workspace << "': " << delivery_record.adapter
                << (delivery_record.url.empty() ? "" : " to " + delivery_record.url) << std::endl;
      return Status::OK();
    });
  }
  if (security_log->parsed()) {
    return with_storage(true, [&](cf::engage::Storage& st) -> Status {
      CF_ASSIGN_OR_RETURN(auto events, cf::engage::ReadSecurityLog(st, security_after, security_limit));
      for (const auto& e : events) {
        if (security_json) {
          std::cout << cf::engage::ToJson(e).dump() << "\n";
        } else {
          std::cout << e.id << "\t" << cf::FormatIsoTime(e.time) << "\t" << e.event << "\t" << e.actor << "\t"
                    << (e.remote_addr.empty() ? "-" : e.remote_addr) << "\t" << (e.workspace.empty() ? "-" : e.workspace)
                    << "\t" << e.detail_json << "\n";
        }
      }
      std::cout << std::flush;
      return Status::OK();
    });
  }
  if (delivery_show->parsed()) {
    return with_storage(true, [&](cf::engage::Storage& st) -> Status {
      CF_ASSIGN_OR_RETURN(auto d, cf::engage::ShowDelivery(st, c.workspace));
      std::cout << "adapter: " << d.adapter << "\n";
      if (d.adapter == "webhook") {
        std::cout << "url: " << d.url << "\nmax attempts: " << d.max_attempts
                  << "\ninitial backoff: " << d.initial_backoff_ms << " ms\ntimeout: " << d.timeout_ms << " ms\n";
      }
      std::cout << std::flush;
      return Status::OK();
    });
  }
  return 0;
}
