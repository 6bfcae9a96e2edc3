// Exporting a plan directory: the loop that `audience export` and the audience console's
// "Export campaigns" share. It reads PLANDIR, selects campaigns, and per campaign reads its
// audience, optionally writes its CSV, and sends its changes with an Exporter (or, for a dry
// run, computes them against the journal), reporting each campaign as it starts and ends.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "sync/exporter.h"
#include "sync/plan_dir.h"

namespace cf::sync {

inline constexpr size_t kDryRunShown = 5;  // identifiers described per change kind on a dry run

struct PlanExportOptions {
  std::string plan_dir;                // written by `audience plan`; required
  std::vector<std::string> campaigns;  // names or export file names; empty: every campaign of the plan
  std::string csv_dir;                 // when set, also writes DIR/<CsvFileName> per campaign (not on a dry run)
  bool dry_run = false;                // compute what would be sent against the journal; send and write nothing
  bool send = false;                   // send over the partner API; `export_options` must then be valid
  ExportOptions export_options;        // the destination and its limits, used when `send` or `dry_run`

  // At least one of send and csv_dir; dry_run needs send.
  Status Validate() const;
};

// What happened to one campaign; `state` moves pending -> running -> done | failed.
struct CampaignExport {
  enum class State { kPending, kRunning, kDone, kFailed };
  State state = State::kPending;
  PlannedCampaign campaign;
  bool audience_read = false;  // planned/skipped/holdout/duplicates are known
  int64_t planned = 0, skipped = 0, holdout = 0, duplicates = 0;
  bool changes_known = false;  // to_add/to_remove are known (dry run or sent)
  int64_t to_add = 0, to_remove = 0;
  std::vector<std::string> first_adds, first_removes;  // dry run: the first few, described
  int64_t sending_acknowledged = 0;                    // while running: identifiers acknowledged so far
  int64_t sending_total = 0;                           // while running: changes to send (0 until known)
  bool sent = false;                                   // `report` holds what the destination acknowledged
  CampaignReport report;
  std::string csv_path;  // written CSV, or empty
  Status status;         // why it failed, or OK
};

struct PlanExport {
  std::string plan;      // the plan's name
  std::string endpoint;  // normalized, when sending or on a dry run
  std::string partner;
  bool dry_run = false;
  std::vector<CampaignExport> campaigns;  // in the order selected

  int failed() const;
};

// Called when a campaign starts, after each request it sends is acknowledged, and when it ends
// (one call at a time); `all` is the whole export so far (every campaign, pending ones included)
// and `index` the one that changed.
using PlanExportProgress = std::function<void(const PlanExport& all, size_t index)>;

// Errors that stop the whole export (bad options, unreadable summary, unknown campaign, CSV
// directory conflicts) are returned; a campaign's own failure is in its `status`, and the other
// campaigns still run.
Result<PlanExport> ExportPlan(const PlanExportOptions& options, const Credentials& credentials,
                              const PlanExportProgress& progress = {});

// The campaigns of `plan` named by `wanted` (name or export file name), each once, in the order
// asked; every campaign when `wanted` is empty. Errors name the missing campaign and list the plan's.
Result<std::vector<PlannedCampaign>> SelectCampaigns(const PlanSummary& plan, const std::vector<std::string>& wanted);

// One campaign as JSON: name, export_file_name, cohort_id, state, status ("ok"/"failed" once
// finished), error, while sending "sent" and "to_send" so far, and the counts known (planned, skipped, holdout,
// duplicates, to_add, to_remove, sent, added, removed, unmatched — null where the destination does not count —,
// requests, retries, seconds, csv, first_adds, first_removes). The CLI's --json and the console
// print the same rows.
nlohmann::json ToJson(const CampaignExport& campaign);
// {"plan", "dry_run", "endpoint"?, "partner"?, "campaigns": [ToJson...]}
nlohmann::json ToJson(const PlanExport& plan_export);

const char* StateName(CampaignExport::State state);

// The share of the export done: finished campaigns, plus the running one's acknowledged share.
double Fraction(const PlanExport& plan_export);

}  // namespace cf::sync
