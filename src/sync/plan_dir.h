// Reading what `audience plan` wrote into PLANDIR: summary.json and campaigns/<cohort_id>.csv
// (formats in docs/plan.md and docs/export.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "sync/identifier.h"

namespace cf::sync {

struct PlannedCampaign {
  std::string name;              // the campaign's name in the plan
  std::string export_file_name;  // the cohort's name in the engagement platform
  std::string cohort_id;         // stable per plan and campaign; letters, digits, '-', '_', '.'
  std::string channel;           // informational
  std::string send_date;         // YYYY-MM-DD (the report and simulate start windows there)
  std::string offer;             // the offer expression the campaign promotes
};

struct PlanSummary {
  std::string plan;  // the plan's name
  std::vector<PlannedCampaign> campaigns;
};

// Reads PLANDIR/summary.json. Errors name the file and the field (campaigns[2].cohort_id).
Result<PlanSummary> ReadPlanSummary(const std::string& plan_dir);

struct Member {
  std::string customer;  // the CRM id, for the journal and the CSV
  Identifier id;
  std::string key;  // id.Key()
};

// A campaign's exportable audience: its non-holdout rows with an identifier.
struct CampaignAudience {
  std::vector<Member> members;  // in file order, one per identifier
  int64_t holdout = 0;          // rows with holdout 1: never exported
  int64_t skipped = 0;          // other rows without a usable identifier
  int64_t duplicates = 0;       // other rows whose identifier an earlier row already has
};

// PLANDIR/campaigns/<cohort_id>.csv
std::string CampaignCsvPath(const std::string& plan_dir, const PlannedCampaign& campaign);

// Reads the campaign's CSV (header customer,external_id,alias,device_id,...,holdout; other
// columns are ignored). Errors name the file, line, column and value.
Result<CampaignAudience> ReadCampaignAudience(const std::string& plan_dir, const PlannedCampaign& campaign);

// One row of a campaign's CSV, every column (the report and simulate need them all).
struct PlannedRow {
  std::string customer;                       // the CRM id
  std::string external_id{}, alias{}, device_id{};  // empty where none; alias as label:name
  double probability = 0;
  double expected_revenue = 0;
  int decile = 0;  // 1 (best tenth) .. 10
  bool holdout = false;
};

// Every row of the campaign's CSV, in file order. Errors name the file, line, column and value.
Result<std::vector<PlannedRow>> ReadCampaignRows(const std::string& plan_dir, const PlannedCampaign& campaign);

}  // namespace cf::sync
