#include "plan/plan_edit.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

#include "base/files.h"
#include "base/strings.h"

namespace cf::plan {

Result<PlanFile> LoadPlanFile(const std::string& path) {
  if (!PathExists(path)) {
    return Err(Status::NotFound(
        fmt::format("--plan {}: no such file; write a new plan with 'audience campaign init --plan {} --name NAME "
                    "--start YYYY-MM-DD'",
                    path, path)));
  }
  return ReadPlanFile(path);
}

Status EditPlanFile(const std::string& path, std::string_view what, const std::function<Status(PlanFile&)>& change) {
  auto lock = FileLock::Exclusive(path);
  if (!lock.has_value()) return Status(lock.error().code(), "--plan " + lock.error().message());
  CF_ASSIGN_OR_RETURN(PlanFile plan, LoadPlanFile(path));
  CF_RETURN_IF_ERROR(change(plan));
  if (Status s = WritePlanFile(path, plan); !s.ok()) {
    return Status(s.code(), fmt::format("{} refused: {}; {} was left as it was", what, s.message(), path));
  }
  return Status::OK();
}

Result<size_t> FindCampaign(const PlanFile& plan, const std::string& path, std::string_view name) {
  std::vector<std::string> names;
  for (size_t i = 0; i < plan.campaigns.size(); ++i) {
    if (plan.campaigns[i].name == name) return i;
    names.push_back(fmt::format("\"{}\"", plan.campaigns[i].name));
  }
  return Err(Status::NotFound(fmt::format("'{}': {} has no such campaign; its campaigns: {}", name, path,
                                          names.empty() ? "none" : Join(names, ", "))));
}

Status CheckNewCampaignName(const PlanFile& plan, const std::string& path, std::string_view name) {
  for (const CampaignSpec& c : plan.campaigns) {
    if (c.name == name) return Status::AlreadyExists(fmt::format("'{}': {} has a campaign of that name", name, path));
  }
  return Status::OK();
}

Status AddCampaign(PlanFile& plan, const std::string& path, CampaignSpec campaign) {
  CF_RETURN_IF_ERROR(CheckNewCampaignName(plan, path, campaign.name));
  plan.campaigns.push_back(std::move(campaign));
  return Status::OK();
}

Status RemoveCampaign(PlanFile& plan, const std::string& path, std::string_view name) {
  CF_ASSIGN_OR_RETURN(const size_t i, FindCampaign(plan, path, name));
  plan.campaigns.erase(plan.campaigns.begin() + static_cast<std::ptrdiff_t>(i));
  return Status::OK();
}

}  // namespace cf::plan
