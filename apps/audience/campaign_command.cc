// campaign init|settings|add|edit|remove|list: writes and edits a plan file (docs/plan.md) from
// the command line. Every edit reads the plan, changes it in memory, validates the whole plan
// and replaces the file atomically, so a bad edit leaves the file byte for byte as it was.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "apps/audience/commands.h"
#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "plan/plan_edit.h"
#include "plan/plan_file.h"

namespace cf::cli {
namespace {

constexpr const char* kPlanHelp = "Plan file (JSON, see docs/plan.md)";
constexpr const char* kPressureHelp =
    "Pressure rule CHANNEL:max=N/Dd (at most N messages in any D days), CHANNEL:gap=Dd (at least D days between "
    "two), or both joined by ','; CHANNEL is email, push, sms or any; repeat the flag for more rules";

int Fail(const std::string& cmd, const Status& s) {
  std::fprintf(stderr, "audience %s: %s\n", cmd.c_str(), s.message().c_str());
  return 1;
}

// "email:max=2/7d", "any:gap=1d", "sms:max=1/3d,gap=2d".
Result<plan::PressureRule> ParseRule(const std::string& text) {
  const std::string syntax = "expected CHANNEL:max=N/DAYSd and/or CHANNEL:gap=DAYSd, e.g. email:max=2/7d";
  auto bad = [&](const std::string& why) {
    return Err(Status::InvalidArgument(fmt::format("--pressure '{}': {}", text, why)));
  };
  const size_t colon = text.find(':');
  if (colon == std::string::npos) return bad(syntax);
  plan::PressureRule rule;
  const std::string channel = text.substr(0, colon);
  if (channel != "any") {
    const std::optional<plan::Channel> c = plan::ParseChannel(channel);
    if (!c.has_value()) return bad(fmt::format("channel '{}' is not valid; valid: email, push, sms, any", channel));
    rule.channel = *c;
  }
  // A number of days: "7d" or "7".
  auto days = [](std::string_view s) -> std::optional<int64_t> {
    if (!s.empty() && s.back() == 'd') s.remove_suffix(1);
    return ParseInt64(s);
  };
  bool any = false;
  const std::string items = text.substr(colon + 1);
  for (std::string_view part : Split(items, ',')) {
    const std::string item(Trim(part));
    if (StartsWith(item, "max=")) {
      const size_t slash = item.find('/');
      if (slash == std::string::npos) return bad(fmt::format("'{}': {}", item, syntax));
      const std::optional<int64_t> n = ParseInt64(item.substr(4, slash - 4));
      const std::optional<int64_t> d = days(item.substr(slash + 1));
      if (!n.has_value() || !d.has_value() || *n < 1 || *d < 1 || *n > 1000 || *d > 366) {
        return bad(fmt::format("'{}': expected max=N/DAYSd with N in 1 .. 1000 and DAYS in 1 .. 366", item));
      }
      rule.max_messages = static_cast<int>(*n);
      rule.window_days = static_cast<int>(*d);
    } else if (StartsWith(item, "gap=")) {
      const std::optional<int64_t> d = days(item.substr(4));
      if (!d.has_value() || *d < 1 || *d > 366) {
        return bad(fmt::format("'{}': expected gap=DAYSd with DAYS in 1 .. 366", item));
      }
      rule.min_gap_days = static_cast<int>(*d);
    } else {
      return bad(fmt::format("'{}': {}", item, syntax));
    }
    any = true;
  }
  if (!any) return bad(syntax);
  return rule;
}

std::string FormatRule(const plan::PressureRule& r) {
  std::vector<std::string> parts;
  if (r.max_messages > 0) parts.push_back(fmt::format("max={}/{}d", r.max_messages, r.window_days));
  if (r.min_gap_days > 0) parts.push_back(fmt::format("gap={}d", r.min_gap_days));
  return fmt::format("{}:{}", r.channel.has_value() ? plan::ChannelName(*r.channel) : "any", Join(parts, ","));
}

std::string FormatVolume(const plan::Volume& v) {
  switch (v.kind) {
    case plan::Volume::Kind::kFixed:
      return fmt::format("fixed {}", static_cast<int64_t>(v.amount));
    case plan::Volume::Kind::kMinProbability:
      return fmt::format("p >= {}", v.amount);
    case plan::Volume::Kind::kCaptureShare:
      return fmt::format("capture {}", v.amount);
  }
  return "";
}

// The plan-level flags of init and settings.
struct PlanFlags {
  std::string plan, name, start, objective = "revenue";
  int days = 7;
  std::vector<std::string> pressure;
  bool no_pressure = false;
  CLI::Option *name_opt = nullptr, *start_opt = nullptr, *days_opt = nullptr, *objective_opt = nullptr,
              *pressure_opt = nullptr;
};

Status ApplyPlanFlags(const PlanFlags& f, plan::PlanFile* p) {
  if (f.name_opt->count() > 0) p->name = f.name;
  if (f.start_opt->count() > 0) p->start = f.start;
  if (f.days_opt->count() > 0) p->days = f.days;
  if (f.objective_opt->count() > 0) {
    const std::optional<plan::Objective> o = plan::ParseObjective(f.objective);
    if (!o.has_value()) {
      return Status::InvalidArgument(
          fmt::format("--objective '{}' is not an objective; valid: revenue, buyers", f.objective));
    }
    p->objective = *o;
  }
  if (f.no_pressure) p->pressure.clear();
  if (f.pressure_opt->count() > 0) {
    p->pressure.clear();
    for (const std::string& text : f.pressure) {
      CF_ASSIGN_OR_RETURN(plan::PressureRule rule, ParseRule(text));
      p->pressure.push_back(rule);
    }
  }
  return Status::OK();
}

// Validates and writes; on failure the message says the file was left as it was.
Status RunInit(const PlanFlags& f) {
  if (PathExists(f.plan)) {
    return Status::AlreadyExists(fmt::format(
        "--plan {} exists and was left untouched; change it with 'audience campaign settings' or choose another path",
        f.plan));
  }
  plan::PlanFile p;
  CF_RETURN_IF_ERROR(ApplyPlanFlags(f, &p));
  if (Status w = plan::WritePlanFile(f.plan, p); !w.ok()) {
    return Status(w.code(), fmt::format("new plan refused: {}; {} was not written", w.message(), f.plan));
  }
  std::printf("wrote plan '%s' to %s: %d days from %s, objective %s, %zu pressure rules, no campaigns yet\n",
              p.name.c_str(), f.plan.c_str(), p.days, p.start.c_str(), std::string(ObjectiveName(p.objective)).c_str(),
              p.pressure.size());
  return Status::OK();
}

Status RunSettings(const PlanFlags& f) {
  plan::PlanFile p;
  std::string old_name;
  CF_RETURN_IF_ERROR(plan::EditPlanFile(f.plan, "settings", [&](plan::PlanFile& edited) -> Status {
    old_name = edited.name;
    CF_RETURN_IF_ERROR(ApplyPlanFlags(f, &edited));
    p = edited;
    return Status::OK();
  }));
  if (p.name != old_name && !p.campaigns.empty()) {
    std::fprintf(stderr,
                 "audience campaign settings: warning: the plan's name is part of every campaign's cohort id: the "
                 "next export makes %zu new cohorts\n",
                 p.campaigns.size());
  }
  std::printf("updated plan '%s' in %s: %d days from %s, objective %s, %zu pressure rules\n", p.name.c_str(),
              f.plan.c_str(), p.days, p.start.c_str(), std::string(ObjectiveName(p.objective)).c_str(),
              p.pressure.size());
  return Status::OK();
}

// The campaign flags of add and edit; an option's count() says whether it was given.
struct CampaignFlags {
  std::string plan, name, rename, offer, channel, send_date, priority, export_file_name, audience;
  int64_t fixed = 0, exclude_recent_buyers_days = 0;
  double min_probability = 0, capture_share = 0, holdout_share = 0;
  CLI::Option *rename_opt = nullptr, *offer_opt = nullptr, *channel_opt = nullptr, *send_date_opt = nullptr,
              *priority_opt = nullptr, *export_opt = nullptr, *audience_opt = nullptr, *fixed_opt = nullptr,
              *min_probability_opt = nullptr, *capture_share_opt = nullptr, *holdout_opt = nullptr,
              *recent_opt = nullptr;
};

Status ApplyCampaignFlags(const CampaignFlags& f, plan::CampaignSpec* c) {
  const int volumes = static_cast<int>(f.fixed_opt->count() > 0) +
                      static_cast<int>(f.min_probability_opt->count() > 0) +
                      static_cast<int>(f.capture_share_opt->count() > 0);
  if (volumes > 1) {
    return Status::InvalidArgument("give one volume: --fixed N, --min-probability P or --capture-share S");
  }
  if (f.offer_opt->count() > 0) c->offer = f.offer;
  if (f.channel_opt->count() > 0) {
    const std::optional<plan::Channel> ch = plan::ParseChannel(f.channel);
    if (!ch.has_value()) {
      return Status::InvalidArgument(fmt::format("--channel '{}' is not valid; valid: email, push, sms", f.channel));
    }
    c->channel = *ch;
  }
  if (f.send_date_opt->count() > 0) c->send_date = f.send_date;
  if (f.fixed_opt->count() > 0) c->volume = {plan::Volume::Kind::kFixed, static_cast<double>(f.fixed)};
  if (f.min_probability_opt->count() > 0) c->volume = {plan::Volume::Kind::kMinProbability, f.min_probability};
  if (f.capture_share_opt->count() > 0) c->volume = {plan::Volume::Kind::kCaptureShare, f.capture_share};
  if (f.priority_opt->count() > 0) {
    const std::optional<plan::Priority> p = plan::ParsePriority(f.priority);
    if (!p.has_value()) {
      return Status::InvalidArgument(fmt::format("--priority '{}' is not valid; valid: high, medium, low", f.priority));
    }
    c->priority = *p;
  }
  if (f.holdout_opt->count() > 0) c->holdout_share = f.holdout_share;
  if (f.audience_opt->count() > 0) c->audience = f.audience;
  if (f.recent_opt->count() > 0) c->exclude_recent_buyers_days = static_cast<int>(f.exclude_recent_buyers_days);
  if (f.rename_opt != nullptr && f.rename_opt->count() > 0) {
    // A defaulted export file name follows the campaign's name; a chosen one stays.
    if (c->export_file_name == c->name) c->export_file_name = f.rename;
    c->name = f.rename;
  }
  if (f.export_opt->count() > 0) c->export_file_name = f.export_file_name;
  return Status::OK();
}

// The library's NotFound and AlreadyExists, named by the flag that gave the campaign.
Status NameFlag(const Status& s) { return s.ok() ? s : Status(s.code(), "--name " + s.message()); }

Status RunAdd(const CampaignFlags& f) {
  if (f.fixed_opt->count() + f.min_probability_opt->count() + f.capture_share_opt->count() == 0) {
    return Status::InvalidArgument("give the campaign's volume: --fixed N, --min-probability P or --capture-share S");
  }
  plan::CampaignSpec c;
  c.name = f.name;
  c.export_file_name = f.name;
  CF_RETURN_IF_ERROR(ApplyCampaignFlags(f, &c));
  std::string plan_name;
  size_t campaigns = 0;
  CF_RETURN_IF_ERROR(
      plan::EditPlanFile(f.plan, fmt::format("adding campaign '{}'", f.name), [&](plan::PlanFile& p) -> Status {
        if (Status s = plan::AddCampaign(p, f.plan, c); !s.ok()) {
          return Status(s.code(), fmt::format("--name {}; change it with 'audience campaign edit --name \"{}\"'",
                                              s.message(), f.name));
        }
        plan_name = p.name;
        campaigns = p.campaigns.size();
        return Status::OK();
      }));
  std::printf("added campaign '%s' to %s (campaigns in the plan: %zu); cohort id %s\n", c.name.c_str(), f.plan.c_str(),
              campaigns, plan::CohortId(plan_name, c.name).c_str());
  return Status::OK();
}

Status RunEdit(const CampaignFlags& f) {
  std::string plan_name, new_name;
  CF_RETURN_IF_ERROR(
      plan::EditPlanFile(f.plan, fmt::format("editing campaign '{}'", f.name), [&](plan::PlanFile& p) -> Status {
        auto i = plan::FindCampaign(p, f.plan, f.name);
        if (!i.has_value()) return NameFlag(i.error());
        plan::CampaignSpec& c = p.campaigns[*i];
        CF_RETURN_IF_ERROR(ApplyCampaignFlags(f, &c));
        plan_name = p.name;
        new_name = c.name;
        return Status::OK();
      }));
  if (new_name != f.name) {
    std::printf(
        "renamed campaign '%s' to '%s' in %s: its cohort id is now %s (was %s), a new cohort at the next "
        "export\n",
        f.name.c_str(), new_name.c_str(), f.plan.c_str(), plan::CohortId(plan_name, new_name).c_str(),
        plan::CohortId(plan_name, f.name).c_str());
  } else {
    std::printf("updated campaign '%s' in %s\n", f.name.c_str(), f.plan.c_str());
  }
  return Status::OK();
}

Status RunRemove(const std::string& path, const std::string& name) {
  size_t left = 0;
  CF_RETURN_IF_ERROR(
      plan::EditPlanFile(path, fmt::format("removing campaign '{}'", name), [&](plan::PlanFile& p) -> Status {
        CF_RETURN_IF_ERROR(NameFlag(plan::RemoveCampaign(p, path, name)));
        left = p.campaigns.size();
        return Status::OK();
      }));
  std::printf("removed campaign '%s' from %s (campaigns left: %zu)\n", name.c_str(), path.c_str(), left);
  return Status::OK();
}

// Display columns of UTF-8 text (continuation bytes take none), so accented names line up.
size_t Columns(const std::string& s) {
  size_t columns = 0;
  for (unsigned char ch : s) columns += (ch & 0xC0) != 0x80;
  return columns;
}

std::string Pad(const std::string& s, size_t width) {
  const size_t columns = Columns(s);
  return columns >= width ? s : s + std::string(width - columns, ' ');
}

Status RunList(const std::string& path, bool json) {
  CF_ASSIGN_OR_RETURN(plan::PlanFile p, plan::LoadPlanFile(path));
  if (json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(plan::SerializePlan(p));
    for (size_t i = 0; i < p.campaigns.size(); ++i) {
      j["campaigns"][i]["cohort_id"] = plan::CohortId(p.name, p.campaigns[i].name);
    }
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
    return Status::OK();
  }
  std::vector<std::string> rules;
  for (const plan::PressureRule& r : p.pressure) rules.push_back(FormatRule(r));
  const int64_t last = p.StartTime() + static_cast<int64_t>(p.days - 1) * kSecondsPerDay;
  std::printf("plan '%s': %s .. %s (%d days), objective %s, pressure %s\n", p.name.c_str(), p.start.c_str(),
              FormatIsoDate(last).c_str(), p.days, std::string(ObjectiveName(p.objective)).c_str(),
              rules.empty() ? "none" : Join(rules, "; ").c_str());
  const std::vector<std::string> header = {"name",    "channel",          "send_date", "volume",  "priority",
                                           "holdout", "export_file_name", "cohort_id", "audience"};
  std::vector<std::vector<std::string>> rows;
  for (const plan::CampaignSpec& c : p.campaigns) {
    rows.push_back({c.name, std::string(plan::ChannelName(c.channel)), c.send_date, FormatVolume(c.volume),
                    std::string(plan::PriorityName(c.priority)), fmt::format("{}", c.holdout_share), c.export_file_name,
                    plan::CohortId(p.name, c.name), c.audience.empty() ? "everyone" : c.audience});
  }
  std::vector<size_t> width(header.size());
  for (size_t k = 0; k < header.size(); ++k) {
    width[k] = header[k].size();
    for (const auto& row : rows) width[k] = std::max(width[k], Columns(row[k]));
  }
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t k = 0; k < row.size(); ++k) line += (k + 1 < row.size() ? Pad(row[k], width[k] + 2) : row[k]);
    std::printf("%s\n", line.c_str());
  };
  print(header);
  for (const auto& row : rows) print(row);
  if (rows.empty()) std::printf("(no campaigns: add one with 'audience campaign add --plan %s ...')\n", path.c_str());
  return Status::OK();
}

void AddPlanFlags(CLI::App* cmd, const std::shared_ptr<PlanFlags>& f, bool init) {
  cmd->add_option("--plan", f->plan, kPlanHelp)->required();
  f->name_opt = cmd->add_option("--name", f->name, "The plan's name (part of every campaign's cohort id)");
  f->start_opt = cmd->add_option("--start", f->start, "The plan's first day, YYYY-MM-DD (UTC)");
  f->days_opt = cmd->add_option("--days", f->days, "The plan's length in days")->check(WholeNumber(1, 366));
  f->objective_opt = cmd->add_option("--objective", f->objective, "What the plan maximizes: revenue or buyers");
  f->pressure_opt = cmd->add_option("--pressure", f->pressure, kPressureHelp);
  if (init) {
    f->name_opt->required();
    f->start_opt->required();
    f->days_opt->capture_default_str();
    f->objective_opt->capture_default_str();
  } else {
    cmd->add_flag("--no-pressure", f->no_pressure, "Remove every pressure rule")->excludes(f->pressure_opt);
  }
}

void AddCampaignFlags(CLI::App* cmd, const std::shared_ptr<CampaignFlags>& f, bool add) {
  cmd->add_option("--plan", f->plan, kPlanHelp)->required();
  cmd->add_option("--name", f->name, add ? "The campaign's name, unique in the plan" : "The campaign to edit")
      ->required();
  if (!add) {
    f->rename_opt = cmd->add_option("--rename", f->rename,
                                    "New name (the cohort id follows the name: the next export makes a new cohort)");
  }
  f->offer_opt = cmd->add_option("--offer", f->offer, "Offer expression, e.g. 'category = \"COFFEE\"' or any");
  f->channel_opt = cmd->add_option("--channel", f->channel, "email, push or sms");
  f->send_date_opt = cmd->add_option("--send-date", f->send_date, "Send day, YYYY-MM-DD, within the plan's days");
  f->fixed_opt = cmd->add_option("--fixed", f->fixed, "Volume: at most N customers")->check(WholeNumber(1, 1000000000));
  f->min_probability_opt =
      cmd->add_option("--min-probability", f->min_probability, "Volume: everyone whose probability is at least P");
  f->capture_share_opt =
      cmd->add_option("--capture-share", f->capture_share,
                      "Volume: the smallest audience holding share S of the offer's expected buyers");
  f->priority_opt = cmd->add_option("--priority", f->priority, "high, medium or low (default medium)");
  f->holdout_opt =
      cmd->add_option("--holdout-share", f->holdout_share, "Share of the audience withheld as holdout (default 0.1)");
  f->export_opt = cmd->add_option("--export-file-name", f->export_file_name,
                                  "The cohort's name in the engagement platform (default: the campaign's name)");
  f->audience_opt = cmd->add_option(
      "--audience", f->audience, "Expression over customer attributes, e.g. 'region != \"North\"' (\"\" = everyone)");
  f->recent_opt = cmd->add_option("--exclude-recent-buyers-days", f->exclude_recent_buyers_days,
                                  "Skip customers who bought the offer in the last N days (0 = none)")
                      ->check(WholeNumber(0, 3650));
  if (add) {
    f->offer_opt->required();
    f->channel_opt->required();
    f->send_date_opt->required();
  }
}

}  // namespace

void AddCampaignCommand(CLI::App& app, int* exit_code) {
  CLI::App* campaign = app.add_subcommand("campaign", "Write and edit a plan file's campaigns (see docs/plan.md)");
  campaign->require_subcommand(1);

  auto init = std::make_shared<PlanFlags>();
  CLI::App* i = campaign->add_subcommand("init", "Write a new plan file with its pressure rules and no campaigns");
  AddPlanFlags(i, init, true);
  AddCommonFlags(i);
  i->callback([init, exit_code] {
    const Status s = RunInit(*init);
    *exit_code = s.ok() ? 0 : Fail("campaign init", s);
  });

  auto settings = std::make_shared<PlanFlags>();
  CLI::App* st = campaign->add_subcommand("settings", "Change a plan's name, start, days, objective or pressure rules");
  AddPlanFlags(st, settings, false);
  AddCommonFlags(st);
  st->callback([settings, exit_code] {
    const Status s = RunSettings(*settings);
    *exit_code = s.ok() ? 0 : Fail("campaign settings", s);
  });

  auto add = std::make_shared<CampaignFlags>();
  CLI::App* a = campaign->add_subcommand("add", "Add a campaign to a plan file");
  AddCampaignFlags(a, add, true);
  AddCommonFlags(a);
  a->callback([add, exit_code] {
    const Status s = RunAdd(*add);
    *exit_code = s.ok() ? 0 : Fail("campaign add", s);
  });

  auto edit = std::make_shared<CampaignFlags>();
  CLI::App* e = campaign->add_subcommand("edit", "Change a campaign of a plan file (only the flags given)");
  AddCampaignFlags(e, edit, false);
  AddCommonFlags(e);
  e->callback([edit, exit_code] {
    const Status s = RunEdit(*edit);
    *exit_code = s.ok() ? 0 : Fail("campaign edit", s);
  });

  auto remove = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* r = campaign->add_subcommand("remove", "Remove a campaign from a plan file");
  r->add_option("--plan", remove->first, kPlanHelp)->required();
  r->add_option("--name", remove->second, "The campaign to remove")->required();
  AddCommonFlags(r);
  r->callback([remove, exit_code] {
    const Status s = RunRemove(remove->first, remove->second);
    *exit_code = s.ok() ? 0 : Fail("campaign remove", s);
  });

  auto list = std::make_shared<std::pair<std::string, bool>>("", false);
  CLI::App* l = campaign->add_subcommand("list", "Print a plan's campaigns as a table");
  l->add_option("--plan", list->first, kPlanHelp)->required();
  l->add_flag("--json", list->second, "Print the plan as JSON, each campaign with its cohort_id");
  AddCommonFlags(l);
  l->callback([list, exit_code] {
    const Status s = RunList(list->first, list->second);
    *exit_code = s.ok() ? 0 : Fail("campaign list", s);
  });
}

}  // namespace cf::cli
