// The console's Export page and the engagement-platform settings: a thin front over
// sync::ExportPlan (the loop `audience export` runs) and the settings file.
#include <fmt/format.h>

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/strings.h"
#include "console/console.h"
#include "console/jobs.h"
#include "console/platform_settings.h"
#include "sync/journal.h"
#include "sync/plan_dir.h"
#include "sync/plan_export.h"

namespace cf::console {
namespace {

using nlohmann::json;

// What the export routes share. The settings file is read and written under `settings_mu`, so
// that two saves cannot interleave; `last` keeps each campaign's row of the last export this
// server ran (the journal keeps the membership, not the counts of the answers).
struct ExportState {
  std::mutex settings_mu;
  PlatformSettings settings;
  Status settings_status;  // why the settings file could not be read at start, or OK
  std::mutex last_mu;
  std::map<std::string, json> last;  // cohort_id -> ToJson(CampaignExport)
};

json CampaignJson(const sync::PlannedCampaign& c) {
  return {{"name", c.name},           {"export_file_name", c.export_file_name},
          {"cohort_id", c.cohort_id}, {"channel", c.channel},
          {"send_date", c.send_date}, {"offer", c.offer}};
}

Result<sync::PlannedCampaign> FindCampaign(const sync::PlanSummary& plan, const std::string& cohort_id) {
  for (const sync::PlannedCampaign& c : plan.campaigns) {
    if (c.cohort_id == cohort_id) return c;
  }
  return Err(Status::NotFound(fmt::format("plan {} has no campaign with cohort id {}; run the plan first?",
                                          Quote(plan.plan), Quote(cohort_id))));
}

// The campaign's audience counts and, with an endpoint set, what its destination acknowledged.
json CampaignDetails(const std::string& plan_dir, const PlatformSettings& settings, const sync::PlannedCampaign& c) {
  json out = CampaignJson(c);
  Result<sync::CampaignAudience> audience = sync::ReadCampaignAudience(plan_dir, c);
  if (audience.has_value()) {
    out["audience"] = {{"planned", audience->members.size()},
                       {"holdout", audience->holdout},
                       {"skipped", audience->skipped},
                       {"duplicates", audience->duplicates}};
  } else {
    out["audience_error"] = audience.error().message();
  }
  if (settings.endpoint.empty()) return out;
  Result<std::string> endpoint = sync::NormalizeEndpoint(settings.endpoint, "endpoint");
  if (!endpoint.has_value()) return out;
  const sync::JournalHeader destination{*endpoint, settings.partner, c.cohort_id, ""};
  const std::string path = sync::JournalPath(plan_dir, destination);
  json journal = {{"endpoint", *endpoint}, {"partner", settings.partner}, {"exported", PathExists(path)}};
  Result<sync::Journal::Membership> members = sync::Journal::ReadMembership(path, destination);
  if (members.has_value()) {
    journal["acknowledged"] = members->size();
  } else {
    journal["error"] = members.error().message();
  }
  out["journal"] = std::move(journal);
  return out;
}

Result<std::vector<std::string>> SelectedNames(const json& body) {
  auto it = body.find("campaigns");
  if (it == body.end() || !it->is_array() || it->empty()) {
    return Err(Status::InvalidArgument("campaigns: select at least one campaign (an array of campaign names)"));
  }
  std::vector<std::string> names;
  for (const json& n : *it) {
    if (!n.is_string() || n.get<std::string>().empty()) {
      return Err(Status::InvalidArgument("campaigns: every entry must be a campaign's name"));
    }
    names.push_back(n.get<std::string>());
  }
  return names;
}

json ProgressDetail(const sync::PlanExport& all) {
  json rows = json::array();
  for (const sync::CampaignExport& c : all.campaigns) rows.push_back(sync::ToJson(c));
  return {{"plan", all.plan}, {"endpoint", all.endpoint}, {"partner", all.partner}, {"campaigns", rows}};
}

}  // namespace

void RegisterExportApi(Console& console, http::Server& server) {
  auto state = std::make_shared<ExportState>();
  const ConsoleConfig& config = console.config();
  if (Result<PlatformSettings> s = LoadPlatformSettings(config.settings_file); s.has_value()) {
    state->settings = *std::move(s);
  } else {
    state->settings_status = s.error();
  }
  const auto settings = [state]() -> Result<PlatformSettings> {
    std::lock_guard<std::mutex> lock(state->settings_mu);
    if (!state->settings_status.ok()) return Err(state->settings_status);
    return state->settings;
  };

  console.Api(server, "GET", "/export/settings",
              [settings](const Console::Signed&, const http::Request&, const json&) -> Result<json> {
                CF_ASSIGN_OR_RETURN(const PlatformSettings s, settings());
                return PublicJson(s);
              });

  console.Api(server, "POST", "/export/settings",
              [state, &config](const Console::Signed&, const http::Request&, const json& body) -> Result<json> {
                std::lock_guard<std::mutex> lock(state->settings_mu);
                if (!state->settings_status.ok()) return Err(state->settings_status);
                CF_ASSIGN_OR_RETURN(PlatformSettings updated, ApplySettingsUpdate(state->settings, body));
                CF_RETURN_IF_ERROR(SavePlatformSettings(config.settings_file, updated));
                state->settings = std::move(updated);
                return PublicJson(state->settings);
              });

  console.Api(server, "GET", "/export/campaigns",
              [&console, settings](const Console::Signed&, const http::Request&, const json&) -> Result<json> {
                CF_ASSIGN_OR_RETURN(const PlatformSettings s, settings());
                std::lock_guard<std::mutex> lock(console.plan_mutex());
                Result<sync::PlanSummary> plan = sync::ReadPlanSummary(console.config().plan_dir);
                json out = {{"settings", PublicJson(s)}, {"campaigns", json::array()}};
                if (!plan.has_value()) {
                  // Before the first run of the plan there is nothing to export: said, not failed.
                  out["plan_error"] = plan.error().message();
                  return out;
                }
                out["plan"] = plan->plan;
                for (const sync::PlannedCampaign& c : plan->campaigns) out["campaigns"].push_back(CampaignJson(c));
                return out;
              });

  console.Api(
      server, "GET", "/export/campaigns/([^/]+)",
      [&console, state, settings](const Console::Signed&, const http::Request& req, const json&) -> Result<json> {
        CF_ASSIGN_OR_RETURN(const PlatformSettings s, settings());
        json out;
        {
          std::lock_guard<std::mutex> lock(console.plan_mutex());
          CF_ASSIGN_OR_RETURN(const sync::PlanSummary plan, sync::ReadPlanSummary(console.config().plan_dir));
          CF_ASSIGN_OR_RETURN(const sync::PlannedCampaign c, FindCampaign(plan, req.matches.at(1)));
          out = CampaignDetails(console.config().plan_dir, s, c);
        }
        std::lock_guard<std::mutex> lock(state->last_mu);
        auto it = state->last.find(req.matches.at(1));
        out["last_export"] = it == state->last.end() ? json(nullptr) : it->second;
        return out;
      });

  console.Api(
      server, "POST", "/export/run",
      [&console, state, settings](const Console::Signed&, const http::Request&, const json& body) -> Result<json> {
        CF_ASSIGN_OR_RETURN(const PlatformSettings s, settings());
        if (!s.complete()) {
          return Err(Status::FailedPrecondition(
              "the engagement platform is not set: give its endpoint, partner API key and data import key in "
              "Settings first"));
        }
        CF_ASSIGN_OR_RETURN(std::vector<std::string> names, SelectedNames(body));
        sync::PlanExportOptions options;
        options.plan_dir = console.config().plan_dir;
        options.campaigns = std::move(names);
        options.send = true;
        options.export_options = s.ExportOptions();
        options.export_options.ca_cert_file = console.config().ca_cert_file;
        CF_RETURN_IF_ERROR(options.Validate());
        const sync::Credentials credentials = s.Credentials();
        CF_ASSIGN_OR_RETURN(
            const std::string id,
            console.jobs().Start(
                "export", [&console, state, options, credentials](JobProgress& progress) -> Result<json> {
                  // The plan is not re-run while its campaigns are read and their journals written.
                  std::lock_guard<std::mutex> lock(console.plan_mutex());
                  CF_ASSIGN_OR_RETURN(
                      const sync::PlanExport done,
                      sync::ExportPlan(options, credentials, [&progress](const sync::PlanExport& all, size_t i) {
                        const sync::CampaignExport& c = all.campaigns[i];
                        const bool running = c.state == sync::CampaignExport::State::kRunning;
                        progress.Set(sync::Fraction(all),
                                     running
                                         ? fmt::format("exporting {} ({} of {})", Quote(c.campaign.export_file_name),
                                                       i + 1, all.campaigns.size())
                                         : fmt::format("{} of {} campaigns exported", i + 1, all.campaigns.size()),
                                     ProgressDetail(all));
                      }));
                  {
                    std::lock_guard<std::mutex> last_lock(state->last_mu);
                    for (const sync::CampaignExport& c : done.campaigns)
                      state->last[c.campaign.cohort_id] = sync::ToJson(c);
                  }
                  json result = sync::ToJson(done);
                  result["failed"] = done.failed();
                  return result;
                }));
        return json{{"job_id", id}};
      });
}

}  // namespace cf::console
