#include "sync/plan_export.h"

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <unordered_map>

#include "base/files.h"
#include "base/strings.h"
#include "sync/journal.h"

namespace cf::sync {
namespace {

using nlohmann::json;

std::string Describe(const JournalEntry& e) {
  const std::optional<Identifier> id = Identifier::FromKey(e.key);
  return id ? id->Describe() : e.key;
}

std::vector<std::string> DescribeFirst(const std::vector<JournalEntry>& a,
                                       const std::vector<JournalEntry>* b = nullptr) {
  std::vector<std::string> out;
  for (const auto* list : {&a, b}) {
    if (list == nullptr) continue;
    for (const JournalEntry& e : *list) {
      if (out.size() == kDryRunShown) return out;
      out.push_back(Describe(e));
    }
  }
  return out;
}

// Two campaigns whose CSV file names collide would overwrite each other: refused up front.
Status CheckCsvDir(const std::string& csv_dir, const PlanSummary& plan) {
  if (PathExists(csv_dir) && !IsDirectory(csv_dir)) {
    return Status::InvalidArgument(fmt::format("csv_dir {} exists and is not a directory", Quote(csv_dir)));
  }
  std::unordered_map<std::string, std::string> taken;  // file name -> campaign
  for (const PlannedCampaign& c : plan.campaigns) {
    auto [it, fresh] = taken.emplace(CsvFileName(c), c.name);
    if (!fresh) {
      return Status::InvalidArgument(fmt::format(
          "csv_dir: campaigns {} and {} would both be written as {}; give them export file names that differ "
          "in more than the characters a file name cannot hold (/ \\ < > : \" | ? * and control characters)",
          Quote(it->second), Quote(c.name), Quote(it->first)));
    }
  }
  return CreateDirectories(csv_dir);
}

// Runs one campaign into `out`; its failure is recorded there, never returned. `sending` is
// called after each acknowledged request.
void ExportCampaign(const PlanExportOptions& options, Exporter* exporter, CampaignExport& out,
                    const std::function<void()>& sending) {
  const PlannedCampaign& c = out.campaign;
  Result<CampaignAudience> audience = ReadCampaignAudience(options.plan_dir, c);
  if (!audience.has_value()) {
    out.status = audience.error();
    return;
  }
  out.audience_read = true;
  out.planned = static_cast<int64_t>(audience->members.size());
  out.skipped = audience->skipped;
  out.holdout = audience->holdout;
  out.duplicates = audience->duplicates;
  if (!options.csv_dir.empty() && !options.dry_run) {
    out.status = WriteCohortCsv(options.csv_dir, c, *audience);
    if (!out.status.ok()) return;
    out.csv_path = options.csv_dir + "/" + CsvFileName(c);
  }
  if (exporter == nullptr) return;
  if (options.dry_run) {
    const JournalHeader destination = exporter->Destination(c);
    Result<Journal::Membership> acked =
        Journal::ReadMembership(JournalPath(options.plan_dir, destination), destination);
    if (!acked.has_value()) {
      out.status = acked.error();
      return;
    }
    const ChangeSet changes = ComputeChanges(*acked, audience->members);
    out.changes_known = true;
    out.to_add = static_cast<int64_t>(changes.adds.size());
    out.to_remove = static_cast<int64_t>(changes.replaced.size() + changes.removes.size());
    out.first_adds = DescribeFirst(changes.adds);
    out.first_removes = DescribeFirst(changes.replaced, &changes.removes);
    return;
  }
  out.report = exporter->Export(options.plan_dir, c, *audience, [&](int64_t acknowledged, int64_t total) {
    out.sending_acknowledged = acknowledged;
    out.sending_total = total;
    sending();
  });
  out.sent = true;
  out.changes_known = true;
  out.to_add = out.report.to_add;
  out.to_remove = out.report.to_remove;
  out.status = out.report.status;
}

}  // namespace

Status PlanExportOptions::Validate() const {
  if (plan_dir.empty()) return Status::InvalidArgument("plan_dir is empty; give the directory `audience plan` wrote");
  if (!send && csv_dir.empty()) {
    return Status::InvalidArgument(
        "nothing to do: give an endpoint to export over the partner API, or a CSV directory, or both");
  }
  if (dry_run && !send) {
    return Status::InvalidArgument("a dry run needs an endpoint: what would be sent depends on what it acknowledged");
  }
  if (send) return export_options.Validate();
  return Status::OK();
}

int PlanExport::failed() const {
  int n = 0;
  for (const CampaignExport& c : campaigns) n += c.state == CampaignExport::State::kFailed ? 1 : 0;
  return n;
}

Result<std::vector<PlannedCampaign>> SelectCampaigns(const PlanSummary& plan, const std::vector<std::string>& wanted) {
  if (wanted.empty()) return plan.campaigns;
  std::vector<PlannedCampaign> out;
  for (const std::string& w : wanted) {
    const PlannedCampaign* found = nullptr;
    for (const PlannedCampaign& c : plan.campaigns) {
      if (c.name == w || c.export_file_name == w) found = &c;
    }
    if (found == nullptr) {
      std::vector<std::string> names;
      for (const PlannedCampaign& c : plan.campaigns) names.push_back(Quote(c.name));
      return Err(Status::InvalidArgument(fmt::format("campaign: plan {} has no campaign named {}; its campaigns: {}",
                                                     Quote(plan.plan), Quote(w), Join(names, ", "))));
    }
    bool dup = false;
    for (const PlannedCampaign& c : out) dup = dup || c.cohort_id == found->cohort_id;
    if (!dup) out.push_back(*found);
  }
  return out;
}

Result<PlanExport> ExportPlan(const PlanExportOptions& options, const Credentials& credentials,
                              const PlanExportProgress& progress) {
  CF_RETURN_IF_ERROR(options.Validate());
  CF_ASSIGN_OR_RETURN(PlanSummary plan, ReadPlanSummary(options.plan_dir));
  CF_ASSIGN_OR_RETURN(std::vector<PlannedCampaign> selected, SelectCampaigns(plan, options.campaigns));
  if (!options.csv_dir.empty() && !options.dry_run) CF_RETURN_IF_ERROR(CheckCsvDir(options.csv_dir, plan));

  PlanExport out;
  out.plan = plan.plan;
  out.dry_run = options.dry_run;
  std::unique_ptr<Exporter> exporter;
  if (options.send) {
    exporter = std::make_unique<Exporter>(options.export_options, credentials);
    out.endpoint =
        NormalizeEndpoint(options.export_options.endpoint, "endpoint").value_or(options.export_options.endpoint);
    out.partner = options.export_options.partner;
  }
  for (PlannedCampaign& c : selected) {
    CampaignExport& e = out.campaigns.emplace_back();
    e.campaign = std::move(c);
  }
  for (size_t i = 0; i < out.campaigns.size(); ++i) {
    CampaignExport& c = out.campaigns[i];
    c.state = CampaignExport::State::kRunning;
    if (progress) progress(out, i);
    ExportCampaign(options, exporter.get(), c, [&] {
      if (progress) progress(out, i);
    });
    c.state = c.status.ok() ? CampaignExport::State::kDone : CampaignExport::State::kFailed;
    if (progress) progress(out, i);
  }
  return out;
}

const char* StateName(CampaignExport::State state) {
  switch (state) {
    case CampaignExport::State::kPending:
      return "pending";
    case CampaignExport::State::kRunning:
      return "running";
    case CampaignExport::State::kDone:
      return "done";
    case CampaignExport::State::kFailed:
      return "failed";
  }
  return "unknown";
}

json ToJson(const CampaignExport& c) {
  json row = {{"name", c.campaign.name},
              {"export_file_name", c.campaign.export_file_name},
              {"cohort_id", c.campaign.cohort_id},
              {"state", StateName(c.state)}};
  if (c.audience_read) {
    row.update({{"planned", c.planned}, {"skipped", c.skipped}, {"holdout", c.holdout}, {"duplicates", c.duplicates}});
  }
  if (!c.csv_path.empty()) row["csv"] = c.csv_path;
  if (c.changes_known) row.update({{"to_add", c.to_add}, {"to_remove", c.to_remove}});
  if (c.changes_known && !c.sent) row.update({{"first_adds", c.first_adds}, {"first_removes", c.first_removes}});
  if (c.sent) {
    const CampaignReport& r = c.report;
    const auto counted = [&](int64_t n) { return r.counts_known ? json(n) : json(nullptr); };
    row.update({{"sent", r.sent},
                {"added", counted(r.added)},
                {"removed", counted(r.removed)},
                {"unmatched", counted(r.unmatched)},
                {"requests", r.requests},
                {"retries", r.retries},
                {"seconds", r.seconds}});
  }
  if (c.state == CampaignExport::State::kRunning && c.sending_total > 0) {
    row.update({{"sent", c.sending_acknowledged}, {"to_send", c.sending_total}});
  }
  if (c.state == CampaignExport::State::kDone || c.state == CampaignExport::State::kFailed) {
    row["status"] = c.status.ok() ? "ok" : "failed";
    if (!c.status.ok()) row["error"] = c.status.message();
  }
  return row;
}

double Fraction(const PlanExport& e) {
  if (e.campaigns.empty()) return 1;
  double done = 0;
  for (const CampaignExport& c : e.campaigns) {
    if (c.state == CampaignExport::State::kDone || c.state == CampaignExport::State::kFailed) {
      done += 1;
    } else if (c.state == CampaignExport::State::kRunning && c.sending_total > 0) {
      done += static_cast<double>(c.sending_acknowledged) / static_cast<double>(c.sending_total);
    }
  }
  return done / static_cast<double>(e.campaigns.size());
}

json ToJson(const PlanExport& e) {
  json out = {{"plan", e.plan}, {"dry_run", e.dry_run}, {"campaigns", json::array()}};
  if (!e.endpoint.empty()) {
    out["endpoint"] = e.endpoint;
    out["partner"] = e.partner;
  }
  for (const CampaignExport& c : e.campaigns) out["campaigns"].push_back(ToJson(c));
  return out;
}

}  // namespace cf::sync
