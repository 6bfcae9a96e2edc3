#include "console/console.h"

#include <filesystem>
#include <utility>

#include "base/files.h"
#include "base/log.h"
#include "base/strings.h"
#include "console/users.h"
#include "console/web_assets.h"
#include "http/security_log.h"

namespace cf::console {

using nlohmann::json;

namespace {

// Files every visitor may load: the sign-in page needs them and they hold no data.
bool IsPublicAsset(std::string_view name) { return name == "signin.js" || name == "style.css"; }

http::Response Asset(const std::string& name) { return http::AssetAnswer(FindWebAsset(name), name); }

}  // namespace

Status ConsoleConfig::Validate() const {
  for (const auto& [flag, value] :
       {std::pair{"--data", &data_dir}, std::pair{"--model", &model_dir}, std::pair{"--plan", &plan_path},
        std::pair{"--plan-dir", &plan_dir}, std::pair{"--users", &users_file}}) {
    if (value->empty()) return Status::InvalidArgument(std::string(flag) + " is required");
  }
  if (threads < 0 || threads > 1024) {
    return Status::InvalidArgument("--threads must be in 0 .. 1024 (0 = all cores), not " + std::to_string(threads));
  }
  if (curve_points < 2 || curve_points > 10000) {
    return Status::InvalidArgument("--curve-points must be in 2 .. 10000, not " + std::to_string(curve_points));
  }
  if (IsDirectory(plan_path))
    return Status::InvalidArgument("--plan " + plan_path + " is a directory; give the plan file");
  // Read per request by the pages that use them; here only whether they are files.
  for (const auto& [flag, value] : {std::pair{"--backtest", &backtest_file}, std::pair{"--sends", &sends_file},
                                    std::pair{"--purchases", &purchases_file}}) {
    if (!value->empty() && (!PathExists(*value) || IsDirectory(*value))) {
      return Status::InvalidArgument(std::string(flag) + " " + *value + " is not a file");
    }
  }
  return Status::OK();
}

Console::Console(ConsoleConfig config, const Clock& clock, http::SignInOptions options)
    : config_(std::move(config)), clock_(clock), gate_(clock, options, kSessionCookie) {}

Result<std::unique_ptr<Console>> Console::Open(ConsoleConfig config, const Clock& clock, http::SignInOptions options) {
  CF_RETURN_IF_ERROR(config.Validate());
  CF_RETURN_IF_ERROR(options.Validate());
  if (config.settings_file.empty()) {
    std::filesystem::path dir = std::filesystem::path(config.users_file).parent_path();
    config.settings_file = (dir.empty() ? std::filesystem::path(".") : dir) / "audience-settings.json";
  }
  // A users file that is not ours fails now, not at the first sign-in.
  CF_ASSIGN_OR_RETURN(auto users, ReadUsers(config.users_file));
  if (users.empty()) {
    CF_LOG_WARN("no user in {}: create one with `audience user create --users {} --email E`", config.users_file,
                config.users_file);
  }
  std::unique_ptr<Console> c(new Console(std::move(config), clock, options));
  auto ds = data::Dataset::Open(c->config_.data_dir);
  if (!ds.has_value()) return Err(Status(ds.error().code(), "--data " + ds.error().message()));
  c->dataset_ = std::move(*ds);
  auto m = model::UniversalModel::Load(c->config_.model_dir, c->dataset_->catalog(), c->config_.threads);
  if (!m.has_value()) return Err(Status(m.error().code(), "--model " + m.error().message()));
  c->model_ = std::move(*m);
  c->log_ = std::make_unique<model::EventLog>(model::EventLog::FromDataset(*c->dataset_));
  return c;
}

Result<std::optional<http::ConsoleGate::Signed>> Console::SessionOf(const http::Request& req) {
  CF_ASSIGN_OR_RETURN(auto s, gate_.Find(req));
  if (!s) return s;
  // A user removed with `audience user remove` loses their sessions at their next request.
  if (!HasUser(config_.users_file, s->session.email)) {
    gate_.Forget(s->token);
    return std::optional<http::ConsoleGate::Signed>();
  }
  return s;
}

void Console::Api(http::Server& server, std::string_view method, const std::string& pattern, ApiCall call) {
  server.Route(method, "/console/api" + pattern, [this, call = std::move(call)](const http::Request& req) {
    auto s = SessionOf(req);
    if (!s) return http::SessionsUnavailable(s.error());
    return gate_.Guard(req, *s ? &**s : nullptr, [&](const json& body) {
      return call(Signed{(*s)->session.email, (*s)->session.csrf_token}, req, body);
    });
  });
}

void Console::Page(http::Server& server, const std::string& path, const std::string& asset) {
  server.Route("GET", path, [this, asset](const http::Request& req) {
    auto s = SessionOf(req);
    if (!s) return http::SessionsUnavailable(s.error());
    if (!*s) return http::Redirect("/signin");
    return Asset(asset);
  });
}

void Console::Register(http::Server& server) {
  // Pages and assets. The sign-in page and what it loads are public; they hold no data.
  Page(server, "/", "index.html");
  server.Route("GET", "/signin", [this](const http::Request& req) {
    auto s = SessionOf(req);
    if (s && *s) return http::Redirect("/");
    return Asset("signin.html");
  });
  server.Route("GET", "/console/([a-z0-9_-]+\\.(js|css))", [this](const http::Request& req) {
    const std::string& name = req.matches.at(1);
    if (!IsPublicAsset(name)) {
      auto s = SessionOf(req);
      if (!s) return http::SessionsUnavailable(s.error());
      if (!*s) return http::Redirect("/signin");
    }
    return Asset(name);
  });

  server.Route("POST", "/console/api/signin", [this](const http::Request& req) {
    return gate_.SignIn(
        req, [this, &req](std::string_view email, std::string_view password) -> Result<http::ConsoleGate::Identity> {
          auto user = VerifyUser(config_.users_file, email, password);
          // The email as typed when it is not a user's, never the password; a sign-in the log
          // cannot hold is refused.
          const bool ok = user.has_value();
          CF_RETURN_IF_ERROR(http::AppendSecurityEvent(
              SecurityLogPath(config_.users_file),
              {ok ? "console.signin" : "console.signin_failed",
               ok ? "console:" + user->email : std::string(email.substr(0, 256)), req.remote_addr,
               nlohmann::json::object(), clock_.NowSeconds()}));
          if (!ok) return Err(user.error());
          return http::ConsoleGate::Identity{user->email, ""};
        });
  });
  server.Route("POST", "/console/api/signout", [this](const http::Request& req) {
    auto s = SessionOf(req);
    if (!s) return http::SessionsUnavailable(s.error());
    return gate_.SignOut(req, *s ? &**s : nullptr);
  });
  Api(server, "GET", "/session", [this](const Signed& s, const http::Request& req, const json&) -> Result<json> {
    // The page scripts of this build, in menu order: app.js loads these.
    json scripts = json::array();
    for (const char* name : {"plan", "editor", "export", "opportunities", "analytics", "settings"}) {
      if (FindWebAsset(std::string(name) + ".js") != nullptr) scripts.push_back(name);
    }
    return json{{"email", s.email},
                {"csrf_token", s.csrf_token},
                {"base_url", http::BaseUrl(req)},
                {"page_scripts", std::move(scripts)}};
  });
  Api(server, "GET", "/settings/console", [this](const Signed&, const http::Request&, const json&) -> Result<json> {
    return json{{"data", config_.data_dir},
                {"model", config_.model_dir},
                {"plan", config_.plan_path},
                {"plan_dir", config_.plan_dir},
                {"users", config_.users_file},
                {"customers", dataset_->customers().size()},
                {"products", dataset_->catalog().size()},
                {"horizon_days", model_->horizon_days()},
                {"curve_points", config_.curve_points}};
  });
  Api(server, "GET", "/jobs/([0-9a-f]+)",
      [this](const Signed&, const http::Request& req, const json&) { return jobs_.Get(req.matches.at(1)); });

  RegisterPlanApi(*this, server);
#ifdef CF_CONSOLE_EXPORT_API
  RegisterExportApi(*this, server);
#endif
#ifdef CF_CONSOLE_INSIGHTS_API
  RegisterInsightsApi(*this, server);
#endif
}

}  // namespace cf::console
