// Edits of a plan file, the same for `audience campaign add|edit|remove|settings` and the
// audience console: one read-modify-write under the file's lock (base/files.h FileLock), the
// whole plan validated before it replaces the file atomically, so a bad edit leaves the file
// byte for byte as it was and two edits at once both land.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "plan/plan_file.h"

namespace cf::plan {

// ReadPlanFile, with NotFound saying how to write a new plan when `path` does not exist.
Result<PlanFile> LoadPlanFile(const std::string& path);

// Locks `path`, loads it, runs `change` on the plan in memory, then validates and writes it.
// `what` names the edit in a refused write: "<what> refused: <why>; <path> was left as it was".
Status EditPlanFile(const std::string& path, std::string_view what, const std::function<Status(PlanFile&)>& change);

// The index of campaign `name`; NotFound "'<name>': <path> has no such campaign; its campaigns: ...".
Result<size_t> FindCampaign(const PlanFile& plan, const std::string& path, std::string_view name);
// AlreadyExists "'<name>': <path> has a campaign of that name" when one has the name, else OK.
Status CheckNewCampaignName(const PlanFile& plan, const std::string& path, std::string_view name);
// Appends `campaign` after CheckNewCampaignName.
Status AddCampaign(PlanFile& plan, const std::string& path, CampaignSpec campaign);
// Removes campaign `name` (FindCampaign's NotFound when there is none).
Status RemoveCampaign(PlanFile& plan, const std::string& path, std::string_view name);

}  // namespace cf::plan
