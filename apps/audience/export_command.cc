// export: a plan's campaigns to the engagement platform as partner cohorts (Braze's API or
// engage), each time only the changes since the last acknowledged export; or as CSV files.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "apps/audience/commands.h"
#include "base/files.h"
#include "base/strings.h"
#include "sync/exporter.h"
#include "sync/journal.h"
#include "sync/plan_dir.h"

namespace cf::cli {
namespace {

using nlohmann::json;

constexpr size_t kDryRunShown = 5;  // identifiers listed per change kind in --dry-run

struct ExportFlags {
  std::string plan_dir, keys_file, csv_dir;
  std::vector<std::string> campaigns;
  bool dry_run = false;
  bool json = false;
  sync::ExportOptions options;
};

Result<std::vector<sync::PlannedCampaign>> SelectCampaigns(const sync::PlanSummary& plan,
                                                           const std::vector<std::string>& wanted) {
  if (wanted.empty()) return plan.campaigns;
  std::vector<sync::PlannedCampaign> out;
  for (const std::string& w : wanted) {
    const sync::PlannedCampaign* found = nullptr;
    for (const sync::PlannedCampaign& c : plan.campaigns) {
      if (c.name == w || c.export_file_name == w) found = &c;
    }
    if (found == nullptr) {
      std::vector<std::string> names;
      for (const sync::PlannedCampaign& c : plan.campaigns) names.push_back(Quote(c.name));
      return Err(Status::InvalidArgument(fmt::format("--campaign: plan {} has no campaign named {}; its campaigns: {}",
                                                     Quote(plan.plan), Quote(w), Join(names, ", "))));
    }
    bool dup = false;
    for (const sync::PlannedCampaign& c : out) dup = dup || c.cohort_id == found->cohort_id;
    if (!dup) out.push_back(*found);
  }
  return out;
}

std::string Describe(const sync::JournalEntry& e) {
  const std::optional<sync::Identifier> id = sync::Identifier::FromKey(e.key);
  return id ? id->Describe() : e.key;
}

json DescribeFirst(const std::vector<sync::JournalEntry>& a, const std::vector<sync::JournalEntry>* b = nullptr) {
  json out = json::array();
  for (const auto* list : {&a, b}) {
    if (list == nullptr) continue;
    for (const sync::JournalEntry& e : *list) {
      if (out.size() == kDryRunShown) return out;
      out.push_back(Describe(e));
    }
  }
  return out;
}

Status RunExport(const ExportFlags& f, int* failed_campaigns) {
  if (f.options.endpoint.empty() && f.csv_dir.empty()) {
    return Status::InvalidArgument("give --endpoint URL to export over the partner API, or --csv-dir DIR, or both");
  }
  if (f.dry_run && f.options.endpoint.empty()) {
    return Status::InvalidArgument("--dry-run needs --endpoint: what would be sent depends on what it acknowledged");
  }
  const bool send = !f.options.endpoint.empty() && !f.dry_run;
  if (!f.options.endpoint.empty()) {
    if (Status s = f.options.Validate(); !s.ok()) return s;
  }
  CF_ASSIGN_OR_RETURN(sync::PlanSummary plan, sync::ReadPlanSummary(f.plan_dir));
  CF_ASSIGN_OR_RETURN(std::vector<sync::PlannedCampaign> campaigns, SelectCampaigns(plan, f.campaigns));
  sync::Credentials credentials;
  if (send) {
    Result<sync::Credentials> c = sync::LoadCredentials(f.keys_file);
    if (!c.has_value()) return c.error();
    credentials = std::move(*c);
  }
  const bool write_csv = !f.csv_dir.empty() && !f.dry_run;
  if (write_csv) {
    if (PathExists(f.csv_dir) && !IsDirectory(f.csv_dir)) {
      return Status::InvalidArgument(fmt::format("--csv-dir {} exists and is not a directory", Quote(f.csv_dir)));
    }
    std::unordered_map<std::string, std::string> taken;  // file name -> campaign
    for (const sync::PlannedCampaign& c : plan.campaigns) {
      auto [it, fresh] = taken.emplace(sync::CsvFileName(c), c.name);
      if (!fresh) {
        return Status::InvalidArgument(fmt::format(
            "--csv-dir: campaigns {} and {} would both be written as {}; give them export file names that differ "
            "in more than the characters a file name cannot hold (/ \\ < > : \" | ? * and control characters)",
            Quote(it->second), Quote(c.name), Quote(it->first)));
      }
    }
    CF_RETURN_IF_ERROR(CreateDirectories(f.csv_dir));
  }

  std::unique_ptr<sync::Exporter> exporter;
  if (!f.options.endpoint.empty()) exporter = std::make_unique<sync::Exporter>(f.options, credentials);
  json out = {{"plan", plan.plan}, {"dry_run", f.dry_run}, {"campaigns", json::array()}};
  if (exporter) {
    out["endpoint"] = sync::NormalizeEndpoint(f.options.endpoint, "endpoint").value_or(f.options.endpoint);
    out["partner"] = f.options.partner;
  }
  std::vector<std::vector<std::string>> rows;
  for (const sync::PlannedCampaign& c : campaigns) {
    json row = {{"name", c.name}, {"export_file_name", c.export_file_name}, {"cohort_id", c.cohort_id}};
    Status status;
    Result<sync::CampaignAudience> audience = sync::ReadCampaignAudience(f.plan_dir, c);
    sync::CampaignReport report;
    report.campaign = c;
    if (!audience.has_value()) {
      status = audience.error();
    } else {
      row.update({{"planned", audience->members.size()},
                  {"skipped", audience->skipped},
                  {"holdout", audience->holdout},
                  {"duplicates", audience->duplicates}});
      if (write_csv) {
        status = sync::WriteCohortCsv(f.csv_dir, c, *audience);
        if (status.ok()) row["csv"] = f.csv_dir + "/" + sync::CsvFileName(c);
      }
      if (status.ok() && f.dry_run) {
        const sync::JournalHeader destination = exporter->Destination(c);
        Result<sync::Journal::Membership> acked =
            sync::Journal::ReadMembership(sync::JournalPath(f.plan_dir, destination), destination);
        if (!acked.has_value()) {
          status = acked.error();
        } else {
          const sync::ChangeSet changes = sync::ComputeChanges(*acked, audience->members);
          row.update({{"to_add", changes.adds.size()},
                      {"to_remove", changes.replaced.size() + changes.removes.size()},
                      {"first_adds", DescribeFirst(changes.adds)},
                      {"first_removes", DescribeFirst(changes.replaced, &changes.removes)}});
        }
      } else if (status.ok() && exporter) {
        report = exporter->Export(f.plan_dir, c, *audience);
        status = report.status;
        const auto counted = [&](int64_t n) { return report.counts_known ? json(n) : json(nullptr); };
        row.update({{"to_add", report.to_add},
                    {"to_remove", report.to_remove},
                    {"sent", report.sent},
                    {"added", counted(report.added)},
                    {"removed", counted(report.removed)},
                    {"unmatched", counted(report.unmatched)},
                    {"requests", report.requests},
                    {"retries", report.retries},
                    {"seconds", report.seconds}});
      }
    }
    row["status"] = status.ok() ? "ok" : "failed";
    if (!status.ok()) {
      row["error"] = status.message();
      ++*failed_campaigns;
      std::fprintf(stderr, "audience export: campaign %s: %s\n", Quote(c.name).c_str(), status.message().c_str());
    }
    out["campaigns"].push_back(row);
  }

  if (f.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return Status::OK();
  }
  if (f.dry_run) {
    std::printf("dry run: nothing sent to %s (partner %s), no journal written\n",
                out["endpoint"].get<std::string>().c_str(), f.options.partner.c_str());
  } else if (exporter) {
    std::printf("exported plan %s to %s (partner %s)\n", Quote(plan.plan).c_str(),
                out["endpoint"].get<std::string>().c_str(), f.options.partner.c_str());
  }
  if (f.dry_run) {
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
                      ids.size() == kDryRunShown ? ", ..." : "");
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
  e->add_option("--plan-dir", flags->plan_dir, "Plan directory written by audience plan")->required();
  e->add_option("--endpoint", flags->options.endpoint,
                "Base URL of the REST API (https://rest.iad-01.braze.com, http://127.0.0.1:4000)");
  e->add_option("--partner", flags->options.partner, "Partner name in /partners/{partner}/cohorts")
      ->capture_default_str();
  e->add_option("--campaign", flags->campaigns, "Only these campaigns (name or export file name; repeatable)");
  e->add_flag("--dry-run", flags->dry_run, "Print what would be sent; send nothing, write nothing");
  e->add_option("--csv-dir", flags->csv_dir, "Also write each cohort as DIR/<export file name>.csv");
  e->add_option("--keys-file", flags->keys_file,
                "JSON {\"partner_api_key\": ..., \"data_import_key\": ...} (default: CF_PARTNER_API_KEY and "
                "CF_DATA_IMPORT_KEY from the environment)");
  e->add_option("--max-retry-seconds", flags->options.max_retry_seconds,
                "How long one request is retried (429, 5xx, timeouts, dropped connections) before its campaign fails")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  e->add_option("--timeout-seconds", flags->options.timeout_seconds, "Timeout of one request")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  e->add_option("--connections", flags->options.connections, "Requests in flight per campaign (1 to 16)")
      ->check(WholeNumber(1, 16))
      ->capture_default_str();
  e->add_option("--ids-per-request", flags->options.max_ids_per_request, "Identifiers per request (1 to 1000)")
      ->check(WholeNumber(1, 1000))
      ->capture_default_str();
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
