// serve: the audience console (console/console.h) on an HTTP port until SIGINT or SIGTERM. The
// dataset and the model are loaded once at start; pages and APIs share them.
#include <cstdio>
#include <memory>
#include <string>

#include "apps/audience/commands.h"
#include "base/log.h"
#include "base/time.h"
#include "console/console.h"
#include "http/server.h"

namespace cf::cli {
namespace {

struct ServeFlags {
  console::ConsoleConfig config;
  std::string listen = "127.0.0.1:4100";
  std::string tls_cert_file;
  std::string tls_key_file;
};

Status RunServe(const ServeFlags& f) {
  CF_RETURN_IF_ERROR(f.config.Validate());
  CF_ASSIGN_OR_RETURN(auto address, http::ParseListenAddress(f.listen));
  http::ServerOptions options;
  options.threads = 8;
  options.tls_cert_file = f.tls_cert_file;
  options.tls_key_file = f.tls_key_file;
  http::Server server(options);
  // Before the model's load starts scoring threads: they inherit the blocked signals.
  const http::SignalWatcher stop_on_signals(server);
  // The port first: a console that cannot listen fails before the model's load.
  CF_ASSIGN_OR_RETURN(int port, server.Bind(address.first, address.second));
  CF_ASSIGN_OR_RETURN(std::unique_ptr<console::Console> c, console::Console::Open(f.config, SystemClock()));
  c->Register(server);
  // Tests and scripts read the bound port from this line (useful with --listen host:0).
  std::printf("listening on %s://%s:%d\n", options.tls_cert_file.empty() ? "http" : "https", address.first.c_str(),
              port);
  std::fflush(stdout);
  CF_LOG_INFO("audience console serving {} with {} on {}:{}", f.config.data_dir, f.config.model_dir, address.first,
              port);
  return server.Run();
}

}  // namespace

void AddServeCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<ServeFlags>();
  CLI::App* s = app.add_subcommand("serve", "The audience console: Campaign Plan, campaign editor, export, analytics");
  s->add_option("--data", f->config.data_dir, "Dataset directory written by audience ingest")->required();
  s->add_option("--model", f->config.model_dir, "Model directory written by audience train")->required();
  s->add_option("--plan", f->config.plan_path, "Plan file (JSON, see docs/plan.md) the pages edit")->required();
  s->add_option("--plan-dir", f->config.plan_dir, "Plan directory \"Run plan\" writes (as audience plan --out)")
      ->required();
  s->add_option("--users", f->config.users_file, "Users file (audience user create)")->required();
  s->add_option("--listen", f->listen, "host:port to listen on (port 0: any free port)")->capture_default_str();
  s->add_option("--tls-cert", f->tls_cert_file, "TLS: the certificate chain, PEM (with --tls-key; default: plain HTTP)");
  s->add_option("--tls-key", f->tls_key_file, "TLS: the certificate's private key, PEM");
  s->add_option("--ca-cert", f->config.ca_cert_file,
                "Export over https: PEM file of the certificate authorities to trust instead of the system's");
  s->add_option("--settings", f->config.settings_file,
                "Engagement platform settings file (default: audience-settings.json beside --users)");
  s->add_option("--backtest", f->config.backtest_file, "JSON report of audience evaluate --json-out (model page)");
  s->add_option("--sends", f->config.sends_file, "engage's send records, JSON Lines (Analytics page)");
  s->add_option("--purchases", f->config.purchases_file, "Purchases after the sends, CSV (Analytics page)");
  s->add_option("--curve-points", f->config.curve_points, "Audience sizes on the editor's curve (the slider's stops)")
      ->check(WholeNumber(2, 10000))
      ->capture_default_str();
  s->add_option("--threads", f->config.threads, "Scoring threads (0 = all cores)")
      ->check(WholeNumber(0, 1024))
      ->capture_default_str();
  AddCommonFlags(s);
  s->callback([f, exit_code] {
    const Status st = RunServe(*f);
    if (!st.ok()) std::fprintf(stderr, "audience serve: %s\n", st.message().c_str());
    *exit_code = st.ok() ? 0 : 1;
  });
}

}  // namespace cf::cli
