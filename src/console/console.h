// The audience console: the web pages marketers use (embedded from web/audience) and the JSON
// API behind them under /console/api (docs/console-api.md), served by `audience serve`. The
// dataset and the model are loaded once at start. The plan file is read and edited with the same
// library functions as the command line (under its flock); the plan directory is written and
// read under plan_mutex() ("Run plan", exports).
//
// Safety is the consoles' shared gate (http/console_gate.h): a session cookie, CSRF on every
// state-changing request, 401 for APIs and a redirect to /signin for pages without a session,
// rate-limited failed sign-ins. Users come from the users file (console/users.h).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/time.h"
#include "console/jobs.h"
#include "data/dataset.h"
#include "http/console_gate.h"
#include "http/server.h"
#include "model/event_log.h"
#include "model/universal.h"

namespace cf::console {

struct ConsoleConfig {
  std::string data_dir;        // a dataset written by audience ingest; required
  std::string model_dir;       // a model written by audience train; required
  std::string plan_path;       // the plan file (docs/plan.md); required
  std::string plan_dir;        // the plan directory `audience plan` writes; required
  std::string users_file;      // console/users.h; required
  std::string settings_file;   // engagement platform settings; "" = <dir of users_file>/audience-settings.json
  std::string backtest_file;   // a report of `audience evaluate --json-out`; "" = none
  std::string sends_file;      // engage's send records, JSON Lines (as audience report --sends); "" = none
  std::string purchases_file;  // the purchases after the sends (as audience report --purchases); "" = none
  int threads = 0;             // scoring threads, 0 = all cores; 0 .. 1024
  int curve_points = 100;      // audience sizes on the editor's curve (the slider's stops); 2 .. 10000
  std::string ca_cert_file;    // export over https: PEM certificate authorities to trust; "" = the system's

  // InvalidArgument naming the field (as its flag, e.g. --plan-dir) and what would be valid.
  Status Validate() const;
};

inline constexpr const char* kSessionCookie = "audience_session";

class Console {
 public:
  struct Signed {
    std::string email;
    std::string csrf_token;
  };
  using ApiCall =
      std::function<Result<nlohmann::json>(const Signed&, const http::Request&, const nlohmann::json& body)>;

  // Loads the dataset, its event log and the model; errors name the directory.
  static Result<std::unique_ptr<Console>> Open(ConsoleConfig config, const Clock& clock,
                                               http::SignInOptions options = {});

  // Every route: pages, sign-in, jobs, and the APIs of plan_api.cc, export_api.cc, insights_api.cc.
  void Register(http::Server& server);

  // Routes `method` `/console/api<pattern>`: session (401), CSRF + JSON content type for non-GET
  // (403/415), body parsing (400), Status -> HTTP status, security headers.
  void Api(http::Server& server, std::string_view method, const std::string& pattern, ApiCall call);
  // Routes GET `path` to the embedded file `asset`; without a session, a redirect to /signin.
  void Page(http::Server& server, const std::string& path, const std::string& asset);

  const ConsoleConfig& config() const { return config_; }
  const data::Dataset& dataset() const { return *dataset_; }
  const model::UniversalModel& model() const { return *model_; }
  const model::EventLog& event_log() const { return *log_; }
  const Clock& clock() const { return clock_; }
  Jobs& jobs() { return jobs_; }
  // Held while the plan directory is written or read as a whole ("Run plan", an export), so
  // that an export never reads a half-written plan. The plan file needs only its flock.
  std::mutex& plan_mutex() { return plan_mutex_; }

 private:
  Console(ConsoleConfig config, const Clock& clock, http::SignInOptions options);
  // The request's session when its user is still in the users file.
  Result<std::optional<http::ConsoleGate::Signed>> SessionOf(const http::Request& req);

  ConsoleConfig config_;
  const Clock& clock_;
  http::ConsoleGate gate_;
  std::unique_ptr<data::Dataset> dataset_;
  std::unique_ptr<model::UniversalModel> model_;
  std::unique_ptr<model::EventLog> log_;
  std::mutex plan_mutex_;
  Jobs jobs_;  // last: its destructor waits for jobs that use the members above
};

void RegisterPlanApi(Console& console, http::Server& server);      // plan_api.cc
void RegisterExportApi(Console& console, http::Server& server);    // export_api.cc
void RegisterInsightsApi(Console& console, http::Server& server);  // insights_api.cc

}  // namespace cf::console
