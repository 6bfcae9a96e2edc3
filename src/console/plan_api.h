// Helpers of the Campaign Plan and editor APIs (plan_api.cc), apart from HTTP so that their unit
// tests call them directly.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "data/dataset.h"
#include "plan/plan_file.h"

namespace cf::console {

// The campaign `campaign` (a JSON object in the plan file's format, docs/plan.md) as it would
// parse at position `index` of `plan` (index == campaigns.size() appends), with every check of
// the plan file's parser; errors name the field, e.g. campaigns[2].send_date.
Result<plan::CampaignSpec> CampaignFromJson(const plan::PlanFile& plan, const nlohmann::json& campaign, size_t index,
                                            const std::string& source);

// The plan (settings and campaigns, in the file's format, each campaign with its cohort_id),
// with what the plan directory's summary.json says of each campaign ("planned": selected,
// holdout, eligible, expected buyers and revenue; null when the summary does not have it) and
// the summary's totals and pressure status ("summary": null when nothing was planned yet).
nlohmann::json PlanView(const plan::PlanFile& plan, const std::string& plan_dir);

// Catalog and customer attributes with their distinct values (the most frequent first, at most
// `max_values` each) for the editor's pickers.
nlohmann::json AttributesView(const data::Dataset& dataset, size_t max_values);

}  // namespace cf::console
