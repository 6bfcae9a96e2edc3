// The plan file: a week (or any number of days) of campaigns and the pressure rules they share,
// as the marketer writes it (docs/plan.md has the format with a full example). Reading it
// checks everything a planner needs, so a PlanFile that parsed is one that can be planned.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "plan/allocation.h"

namespace cf::plan {

enum class Objective : uint8_t { kRevenue, kBuyers };
std::string_view ObjectiveName(Objective o);                  // "revenue", "buyers"
std::optional<Objective> ParseObjective(std::string_view s);  // nullopt if not one of them

// How many customers a campaign may reach.
struct Volume {
  enum class Kind : uint8_t {
    kFixed,           // {"fixed": N}: at most N customers (N >= 1, whole)
    kMinProbability,  // {"min_probability": p}: everyone at or above p (0 < p <= 1)
    kCaptureShare,    // {"capture_share": s}: the smallest audience holding share s of the
                      // offer's expected buyers (0 < s <= 1)
  };
  Kind kind = Kind::kFixed;
  double amount = 0;
};

struct CampaignSpec {
  std::string name;                  // non-empty, unique in the plan
  std::string offer;                 // an offer expression (offer/offer.h grammar)
  Channel channel = Channel::kEmail;
  std::string send_date;             // YYYY-MM-DD, within [start, start + days)
  Volume volume;
  Priority priority = Priority::kMedium;
  double holdout_share = 0.1;        // 0 <= share < 1
  std::string export_file_name;      // defaults to name; unique in the plan
  std::string audience;              // optional expression over customer attributes; "" = everyone
  int exclude_recent_buyers_days = 0;  // 0 = none; else 1 .. 3650: skip who bought the offer in these days
};

struct PlanFile {
  std::string name;   // non-empty
  std::string start;  // YYYY-MM-DD, the plan's first day (UTC)
  int days = 7;       // 1 .. 366
  Objective objective = Objective::kRevenue;
  std::vector<PressureRule> pressure;
  std::vector<CampaignSpec> campaigns;

  // InvalidArgument naming the field (campaigns[2].send_date, pressure[0].window_days) and
  // what would be valid.
  Status Validate() const;
  // Days from start to the campaign's send date (0 .. days - 1); the plan must be valid.
  int SendDay(const CampaignSpec& campaign) const;
  // The plan's start as UTC seconds.
  int64_t StartTime() const;
};

// Parses and validates a plan. Unknown keys are errors naming the key and the valid ones;
// `source` (a file name) prefixes every message.
Result<PlanFile> ParsePlan(std::string_view json_text, std::string_view source);
// The plan as JSON text, in the documented key order, every default written out.
std::string SerializePlan(const PlanFile& plan);

Result<PlanFile> ReadPlanFile(const std::string& path);
// Validates, then replaces `path` atomically: a bad plan leaves the file as it was.
Status WritePlanFile(const std::string& path, const PlanFile& plan);

// The cohort id of a campaign: stable for a plan name and campaign name, so planning the same
// campaign again and exporting it updates the same cohort. Letters, digits and '-' only.
std::string CohortId(std::string_view plan_name, std::string_view campaign_name);

}  // namespace cf::plan
