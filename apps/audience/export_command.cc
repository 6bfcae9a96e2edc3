// export: a plan's campaigns to the engagement platform as partner cohorts (Braze's API or
// engage), each time only the changes since the last acknowledged export; or as CSV files.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/audience/commands.h"
#include "base/files.h"
#include "base/strings.h"
#include "sync/plan_export.h"

namespace cf::cli {
namespace {

using nlohmann::json;

struct ExportFlags {
  std::string keys_file;
  bool json = false;
  sync::PlanExportOptions options;
};

Status RunExport(const ExportFlags& f, int* failed_campaigns) {
  const sync::PlanExportOptions& o = f.options;
  if (o.export_options.endpoint.empty() && o.csv_dir.empty()) {
    return Status::InvalidArgument("give --endpoint URL to export over the partner API, or --csv-dir DIR, or both");
  }
  if (o.dry_run && o.export_options.endpoint.empty()) {
    return Status::InvalidArgument("--dry-run needs --endpoint: what would be sent depends on what it acknowledged");
  }
  sync::PlanExportOptions options = o;
  options.send = !o.export_options.endpoint.empty();
  if (options.send) CF_RETURN_IF_ERROR(options.export_options.Validate());
  sync::Credentials credentials;
  if (options.send && !options.dry_run) {
    CF_ASSIGN_OR_RETURN(credentials, sync::LoadCredentials(f.keys_file));
  }
  CF_ASSIGN_OR_RETURN(const sync::PlanExport result,
                      sync::ExportPlan(options, credentials, [](const sync::PlanExport& all, size_t i) {
                        const sync::CampaignExport& c = all.campaigns[i];
                        if (c.state == sync::CampaignExport::State::kFailed) {
                          std::fprintf(stderr, "audience export: campaign %s: %s\n", Quote(c.campaign.name).c_str(),
                                       c.status.message().c_str());
                        }
                      }));
  *failed_campaigns = result.failed();
  const json out = sync::ToJson(result);
  const bool exporter = options.send;
  const bool write_csv = !o.csv_dir.empty() && !o.dry_run;

  if (f.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return Status::OK();
  }
  if (o.dry_run) {
    std::printf("dry run: nothing sent to %s (partner %s), no journal written\n",
                out["endpoint"].get<std::string>().c_str(), result.partner.c_str());
  } else if (exporter) {
    std::printf("exported plan %s to %s (partner %s)\n", Quote(result.plan).c_str(),
                out["endpoint"].get<std::string>().c_str(), result.partner.c_str());
  }
  if (o.dry_run) {
    for (const json& row : out["campaigns"]) {
      if (row["status"] != "ok") continue;
      std::printf("%s (cohort %s): would add %lld, remove %lld; planned %lld, skipped %lld, holdout %lld\n",
                  Quote(row["export_file_name"].get<std::string>()).c_str(),
                  row["cohort_id"].get<std::string>().c_str(), row["to_add"].get<long long>(),
                  row["to_remove"].get<long long>(), row["planned"].get<long long>(), row["skipped"].get<long long>(),
                  row["holdout"].get<long long>());
      for (const char* kind : {"first_adds", "first_removes"}) {
        std::vector<std::string> ids;
        for (const json& id : row[kind]) ids.push_back(id.get<std::string>());
        if (!ids.empty())
          std::printf("  %s: %s%s\n", kind[6] == 'a' ? "add" : "remove", Join(ids, ", ").c_str(),
                      ids.size() == sync::kDryRunShown ? ", ..." : "");
      }
    }
    return Status::OK();
  }
  if (exporter) {
    std::printf("%-32s %10s %10s %10s %10s %10s %10s %10s  %s\n", "campaign", "planned", "sent", "added", "removed",
                "unmatched", "skipped", "holdout", "status");
    for (const json& row : out["campaigns"]) {
      const auto num = [&row](const char* k) {
        return !row.contains(k) ? std::string("-") : row[k].is_null() ? std::string("n/a") : row[k].dump();
      };
      std::printf("%-32s %10s %10s %10s %10s %10s %10s %10s  %s\n", row["export_file_name"].get<std::string>().c_str(),
                  num("planned").c_str(), num("sent").c_str(), num("added").c_str(), num("removed").c_str(),
                  num("unmatched").c_str(), num("skipped").c_str(), num("holdout").c_str(),
                  row["status"].get<std::string>().c_str());
    }
  }
  if (write_csv) {
    for (const json& row : out["campaigns"]) {
      if (row.contains("csv")) std::printf("wrote %s\n", row["csv"].get<std::string>().c_str());
    }
  }
  return Status::OK();
}

}  // namespace

void AddExportCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* e = app.add_subcommand("export", "Export a plan's campaigns as partner cohorts (Braze API or engage)");
  e->add_option("--plan-dir", flags->options.plan_dir, "Plan directory written by audience plan")->required();
  e->add_option("--endpoint", flags->options.export_options.endpoint,
                "Base URL of the REST API (https://rest.iad-01.braze.com, http://127.0.0.1:4000)");
  e->add_option("--partner", flags->options.export_options.partner, "Partner name in /partners/{partner}/cohorts")
      ->capture_default_str();
  e->add_option("--campaign", flags->options.campaigns, "Only these campaigns (name or export file name; repeatable)");
  e->add_flag("--dry-run", flags->options.dry_run, "Print what would be sent; send nothing, write nothing");
  e->add_option("--csv-dir", flags->options.csv_dir, "Also write each cohort as DIR/<export file name>.csv");
  e->add_option("--keys-file", flags->keys_file,
                "JSON {\"partner_api_key\": ..., \"data_import_key\": ...} (default: CF_PARTNER_API_KEY and "
                "CF_DATA_IMPORT_KEY from the environment)");
  e->add_option("--max-retry-seconds", flags->options.export_options.max_retry_seconds,
                "How long one request is retried (429, 5xx, timeouts, dropped connections) before its campaign fails")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  e->add_option("--timeout-seconds", flags->options.export_options.timeout_seconds, "Timeout of one request")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  e->add_option("--connections", flags->options.export_options.connections, "Requests in flight per campaign (1 to 16)")
      ->check(WholeNumber(1, 16))
      ->capture_default_str();
  e->add_option("--ids-per-request", flags->options.export_options.max_ids_per_request,
                "Identifiers per request (1 to 1000)")
      ->check(WholeNumber(1, 1000))
      ->capture_default_str();
  e->add_option("--ca-cert", flags->options.export_options.ca_cert_file,
                "https: PEM file of the certificate authorities to trust instead of the system's (e.g. a self-signed "
                "engage's certificate); the certificate is always verified");
  e->add_flag("--json", flags->json, "Print the per-campaign results as JSON on stdout");
  AddCommonFlags(e);
  e->callback([flags, exit_code] {
    int failed = 0;
    const Status s = RunExport(*flags, &failed);
    if (!s.ok()) std::fprintf(stderr, "audience export: %s\n", s.message().c_str());
    if (s.ok() && failed > 0)
      std::fprintf(stderr, "audience export: %d campaign%s failed\n", failed, failed == 1 ? "" : "s");
    *exit_code = s.ok() && failed == 0 ? 0 : 1;
  });
}

}  // namespace cf::cli
