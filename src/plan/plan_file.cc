#include "plan/plan_file.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <unordered_set>
#include <utility>

#include "base/files.h"
#include "base/hash.h"
#include "base/strings.h"
#include "base/time.h"
#include "offer/offer.h"

namespace cf::plan {

namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr std::array<std::string_view, 2> kObjectiveNames = {"revenue", "buyers"};

// The keys of each object, in the documented order (SerializePlan writes them so).
constexpr std::array<std::string_view, 6> kPlanKeys = {"name", "start", "days", "objective", "pressure", "campaigns"};
constexpr std::array<std::string_view, 10> kCampaignKeys = {
    "name",     "offer",         "channel",          "send_date", "volume",
    "priority", "holdout_share", "export_file_name", "audience",  "exclude_recent_buyers_days"};
constexpr std::array<std::string_view, 4> kRuleKeys = {"channel", "max_messages", "window_days", "min_gap_days"};
constexpr std::array<std::string_view, 3> kVolumeKeys = {"fixed", "min_probability", "capture_share"};

constexpr int kMaxDays = 366;
constexpr int kMaxRecentBuyersDays = 3650;
constexpr double kMaxFixedVolume = 1e9;

template <size_t N>
std::string KeyList(const std::array<std::string_view, N>& keys) {
  std::string out;
  for (std::string_view k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

std::string_view TypeName(const Json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  return "an object";
}

// "campaigns[1]" + "volume" -> "campaigns[1].volume"; "" + "name" -> "name".
std::string FieldPath(std::string_view where, std::string_view key) {
  return where.empty() ? std::string(key) : fmt::format("{}.{}", where, key);
}

Status CheckKeys(const Json& object, std::string_view where, std::span<const std::string_view> valid,
                 std::string_view valid_list) {
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (std::string_view v : valid) known = known || v == key;
    if (!known) {
      return Status::InvalidArgument(fmt::format("{}unknown key \"{}\"; valid: {}",
                                                 where.empty() ? "" : fmt::format("{}: ", where), key, valid_list));
    }
  }
  return Status::OK();
}

Status WrongType(std::string_view field, const Json& value, std::string_view wanted) {
  return Status::InvalidArgument(fmt::format("{}: expected {}, found {} ({})", field, wanted, TypeName(value),
                                             value.dump(-1, ' ', false, Json::error_handler_t::replace)));
}

Result<std::string> GetString(const Json& object, std::string_view where, std::string_view key, bool required,
                              std::string fallback = "") {
  const std::string field = FieldPath(where, key);
  const auto it = object.find(key);
  if (it == object.end()) {
    if (required) return Err(Status::InvalidArgument(fmt::format("{}: missing (required)", field)));
    return fallback;
  }
  if (!it->is_string()) return Err(WrongType(field, *it, "a string"));
  return it->get<std::string>();
}

Result<double> GetNumber(const Json& value, std::string_view field) {
  if (!value.is_number()) return Err(WrongType(field, value, "a number"));
  return value.get<double>();
}

// A whole number in [min, max]; 7.0 counts as whole, 7.5 does not.
Result<int64_t> GetWhole(const Json& value, std::string_view field, int64_t min, int64_t max) {
  CF_ASSIGN_OR_RETURN(const double d, GetNumber(value, field));
  if (d != std::floor(d) || d < static_cast<double>(min) || d > static_cast<double>(max)) {
    return Err(Status::InvalidArgument(
        fmt::format("{}: {} is not valid; expected a whole number in {} .. {}", field, value.dump(), min, max)));
  }
  return static_cast<int64_t>(d);
}

Result<int64_t> GetOptionalWhole(const Json& object, std::string_view where, std::string_view key, int64_t fallback,
                                 int64_t min, int64_t max) {
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  return GetWhole(*it, FieldPath(where, key), min, max);
}

// Days since the epoch of a strict YYYY-MM-DD that names a real calendar date.
std::optional<int64_t> ParseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  const int year = std::stoi(std::string(s.substr(0, 4)));
  const int month = std::stoi(std::string(s.substr(5, 2)));
  const int day = std::stoi(std::string(s.substr(8, 2)));
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  const int64_t days = DaysFromCivil(year, month, day);
  const CivilDate back = CivilFromDays(days);
  if (back.year != year || back.month != month || back.day != day) return std::nullopt;  // 2026-02-30
  return days;
}

std::string DateError(std::string_view field, std::string_view value) {
  return fmt::format("{}: \"{}\" is not a date; expected YYYY-MM-DD naming a real calendar day (e.g. 2026-12-07)",
                     field, value);
}

Result<PressureRule> ParseRule(const Json& j, std::string_view where) {
  if (!j.is_object()) return Err(WrongType(where, j, "an object"));
  CF_RETURN_IF_ERROR(CheckKeys(j, where, kRuleKeys, KeyList(kRuleKeys)));
  PressureRule rule;
  CF_ASSIGN_OR_RETURN(const std::string channel, GetString(j, where, "channel", true));
  if (channel != "any") {
    const std::optional<Channel> c = ParseChannel(channel);
    if (!c.has_value()) {
      return Err(Status::InvalidArgument(
          fmt::format("{}.channel: \"{}\" is not a channel; valid: email, push, sms, any", where, channel)));
    }
    rule.channel = *c;
  }
  CF_ASSIGN_OR_RETURN(rule.max_messages, GetOptionalWhole(j, where, "max_messages", 0, 0, 1000));
  CF_ASSIGN_OR_RETURN(rule.window_days, GetOptionalWhole(j, where, "window_days", 0, 0, kMaxDays));
  CF_ASSIGN_OR_RETURN(rule.min_gap_days, GetOptionalWhole(j, where, "min_gap_days", 0, 0, kMaxDays));
  return rule;
}

Result<Volume> ParseVolume(const Json& j, std::string_view field) {
  if (!j.is_object()) {
    return Err(WrongType(field, j, "an object with one of fixed, min_probability, capture_share"));
  }
  CF_RETURN_IF_ERROR(CheckKeys(j, field, kVolumeKeys, KeyList(kVolumeKeys)));
  if (j.size() != 1) {
    return Err(Status::InvalidArgument(
        fmt::format("{}: {} given; expected exactly one of fixed, min_probability, capture_share", field, j.size())));
  }
  Volume v;
  // The iteration proxy must outlive key and value (ASan: stack-use-after-scope, found by fuzz_plan).
  auto items = j.items();
  auto first = items.begin();
  const auto& [key, value] = first;
  if (key == "fixed") {
    v.kind = Volume::Kind::kFixed;
  } else if (key == "min_probability") {
    v.kind = Volume::Kind::kMinProbability;
  } else {
    v.kind = Volume::Kind::kCaptureShare;
  }
  CF_ASSIGN_OR_RETURN(v.amount, GetNumber(value, FieldPath(field, key)));
  return v;
}

Result<CampaignSpec> ParseCampaign(const Json& j, std::string_view where) {
  if (!j.is_object()) return Err(WrongType(where, j, "an object"));
  CF_RETURN_IF_ERROR(CheckKeys(j, where, kCampaignKeys, KeyList(kCampaignKeys)));
  CampaignSpec c;
  CF_ASSIGN_OR_RETURN(c.name, GetString(j, where, "name", true));
  CF_ASSIGN_OR_RETURN(c.offer, GetString(j, where, "offer", true));
  CF_ASSIGN_OR_RETURN(const std::string channel, GetString(j, where, "channel", true));
  const std::optional<Channel> ch = ParseChannel(channel);
  if (!ch.has_value()) {
    return Err(Status::InvalidArgument(
        fmt::format("{}.channel: \"{}\" is not a campaign channel; valid: email, push, sms", where, channel)));
  }
  c.channel = *ch;
  CF_ASSIGN_OR_RETURN(c.send_date, GetString(j, where, "send_date", true));
  const auto volume = j.find("volume");
  if (volume == j.end()) return Err(Status::InvalidArgument(fmt::format("{}.volume: missing (required)", where)));
  CF_ASSIGN_OR_RETURN(c.volume, ParseVolume(*volume, FieldPath(where, "volume")));
  CF_ASSIGN_OR_RETURN(const std::string priority, GetString(j, where, "priority", false, "medium"));
  const std::optional<Priority> p = ParsePriority(priority);
  if (!p.has_value()) {
    return Err(Status::InvalidArgument(
        fmt::format("{}.priority: \"{}\" is not a priority; valid: high, medium, low", where, priority)));
  }
  c.priority = *p;
  if (const auto it = j.find("holdout_share"); it != j.end()) {
    CF_ASSIGN_OR_RETURN(c.holdout_share, GetNumber(*it, FieldPath(where, "holdout_share")));
  }
  CF_ASSIGN_OR_RETURN(c.export_file_name, GetString(j, where, "export_file_name", false, c.name));
  CF_ASSIGN_OR_RETURN(c.audience, GetString(j, where, "audience", false));
  CF_ASSIGN_OR_RETURN(const int64_t recent,
                      GetOptionalWhole(j, where, "exclude_recent_buyers_days", 0, 0, kMaxRecentBuyersDays));
  c.exclude_recent_buyers_days = static_cast<int>(recent);
  return c;
}

// nlohmann keeps the last of two equal keys silently; a plan with "volume" twice is a mistake
// the marketer should hear about, so the parser's callback records the first duplicate.
struct DuplicateKeyFinder {
  std::vector<std::set<std::string>> open;
  std::string duplicate;

  bool operator()(int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        open.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!open.empty()) open.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!open.empty() && !open.back().insert(parsed.get<std::string>()).second && duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return true;
  }
};

Result<PlanFile> ParseJson(const Json& j) {
  if (!j.is_object()) return Err(WrongType("plan", j, "an object"));
  CF_RETURN_IF_ERROR(CheckKeys(j, "", kPlanKeys, KeyList(kPlanKeys)));
  PlanFile plan;
  CF_ASSIGN_OR_RETURN(plan.name, GetString(j, "", "name", true));
  CF_ASSIGN_OR_RETURN(plan.start, GetString(j, "", "start", true));
  CF_ASSIGN_OR_RETURN(const int64_t days, GetOptionalWhole(j, "", "days", 7, 1, kMaxDays));
  plan.days = static_cast<int>(days);
  CF_ASSIGN_OR_RETURN(const std::string objective, GetString(j, "", "objective", false, "revenue"));
  const std::optional<Objective> o = ParseObjective(objective);
  if (!o.has_value()) {
    return Err(Status::InvalidArgument(
        fmt::format("objective: \"{}\" is not an objective; valid: revenue, buyers", objective)));
  }
  plan.objective = *o;
  if (const auto it = j.find("pressure"); it != j.end()) {
    if (!it->is_array()) return Err(WrongType("pressure", *it, "an array of rules"));
    for (size_t i = 0; i < it->size(); ++i) {
      CF_ASSIGN_OR_RETURN(PressureRule rule, ParseRule((*it)[i], fmt::format("pressure[{}]", i)));
      plan.pressure.push_back(rule);
    }
  }
  if (const auto it = j.find("campaigns"); it != j.end()) {
    if (!it->is_array()) return Err(WrongType("campaigns", *it, "an array of campaigns"));
    for (size_t i = 0; i < it->size(); ++i) {
      CF_ASSIGN_OR_RETURN(CampaignSpec c, ParseCampaign((*it)[i], fmt::format("campaigns[{}]", i)));
      plan.campaigns.push_back(std::move(c));
    }
  }
  return plan;
}

Status ValidateExpression(std::string_view field, std::string_view text) {
  Result<offer::Expr> e = offer::ParseOffer(text);
  if (!e.has_value()) {
    return Status::InvalidArgument(fmt::format("{}: \"{}\": {}", field, text, e.error().message()));
  }
  return Status::OK();
}

Status ValidateCampaign(const CampaignSpec& c, std::string_view where, int64_t start_day, int days,
                        std::string_view start) {
  if (Trim(c.name).empty()) {
    return Status::InvalidArgument(fmt::format("{}.name: \"{}\" is blank; give the campaign a name", where, c.name));
  }
  if (Status s = ValidateExpression(FieldPath(where, "offer"), c.offer); !s.ok()) return s;
  if (static_cast<int>(c.channel) >= kChannelCount) {
    return Status::InvalidArgument(fmt::format("{}.channel: not one of email, push, sms", where));
  }
  const std::optional<int64_t> send = ParseDate(c.send_date);
  if (!send.has_value()) return Status::InvalidArgument(DateError(FieldPath(where, "send_date"), c.send_date));
  if (*send < start_day || *send >= start_day + days) {
    return Status::InvalidArgument(
        fmt::format("{}.send_date: {} is outside the plan; valid: {} .. {} (start {} and {} days)", where, c.send_date,
                    FormatIsoDate(start_day * kSecondsPerDay), FormatIsoDate((start_day + days - 1) * kSecondsPerDay),
                    start, days));
  }
  const double a = c.volume.amount;
  switch (c.volume.kind) {
    case Volume::Kind::kFixed:
      if (!(a >= 1 && a <= kMaxFixedVolume && a == std::floor(a))) {
        return Status::InvalidArgument(fmt::format(
            "{}.volume.fixed: {} is not valid; expected a whole number of customers in 1 .. 1000000000", where, a));
      }
      break;
    case Volume::Kind::kMinProbability:
      if (!(a > 0 && a <= 1)) {
        return Status::InvalidArgument(
            fmt::format("{}.volume.min_probability: {} is not valid; expected a probability in (0, 1]", where, a));
      }
      break;
    case Volume::Kind::kCaptureShare:
      if (!(a > 0 && a <= 1)) {
        return Status::InvalidArgument(
            fmt::format("{}.volume.capture_share: {} is not valid; expected a share in (0, 1]", where, a));
      }
      break;
    default:
      return Status::InvalidArgument(
          fmt::format("{}.volume: unknown kind; valid: fixed, min_probability, capture_share", where));
  }
  if (static_cast<int>(c.priority) >= kPriorityCount) {
    return Status::InvalidArgument(fmt::format("{}.priority: not one of high, medium, low", where));
  }
  if (!(c.holdout_share >= 0 && c.holdout_share < 1)) {
    return Status::InvalidArgument(fmt::format(
        "{}.holdout_share: {} is not valid; expected a share in [0, 1) (0.1 = 10%)", where, c.holdout_share));
  }
  if (Trim(c.export_file_name).empty()) {
    return Status::InvalidArgument(
        fmt::format("{}.export_file_name: \"{}\" is blank; give a name or leave the key out to use the campaign's name",
                    where, c.export_file_name));
  }
  if (!c.audience.empty()) {
    if (Status s = ValidateExpression(FieldPath(where, "audience"), c.audience); !s.ok()) return s;
  }
  if (c.exclude_recent_buyers_days < 0 || c.exclude_recent_buyers_days > kMaxRecentBuyersDays) {
    return Status::InvalidArgument(
        fmt::format("{}.exclude_recent_buyers_days: {} is not valid; expected 0 (none) .. {}", where,
                    c.exclude_recent_buyers_days, kMaxRecentBuyersDays));
  }
  return Status::OK();
}

Status ValidateRule(const PressureRule& r, std::string_view where) {
  if (r.max_messages > 1000) {
    return Status::InvalidArgument(
        fmt::format("{}.max_messages: {} is not valid; expected 0 .. 1000", where, r.max_messages));
  }
  if (r.window_days > kMaxDays || r.min_gap_days > kMaxDays) {
    return Status::InvalidArgument(fmt::format("{}: window_days {} and min_gap_days {} must be in 0 .. {}", where,
                                               r.window_days, r.min_gap_days, kMaxDays));
  }
  if (r.window_days > 0 && r.max_messages == 0) {
    return Status::InvalidArgument(
        fmt::format("{}.window_days: {} without max_messages; a window bounds max_messages", where, r.window_days));
  }
  if (Status s = r.Validate(); !s.ok()) return s.WithPrefix(where);
  return Status::OK();
}

OrderedJson RuleJson(const PressureRule& r) {
  OrderedJson j;
  j["channel"] = r.channel.has_value() ? std::string(ChannelName(*r.channel)) : "any";
  // Zeros mean "not set" and are left out, so a written rule reads as it was meant.
  if (r.max_messages > 0) j["max_messages"] = r.max_messages;
  if (r.window_days > 0) j["window_days"] = r.window_days;
  if (r.min_gap_days > 0) j["min_gap_days"] = r.min_gap_days;
  return j;
}

OrderedJson CampaignJson(const CampaignSpec& c) {
  OrderedJson j;
  j["name"] = c.name;
  j["offer"] = c.offer;
  j["channel"] = ChannelName(c.channel);
  j["send_date"] = c.send_date;
  OrderedJson v;
  switch (c.volume.kind) {
    case Volume::Kind::kFixed:
      v["fixed"] = static_cast<int64_t>(c.volume.amount);
      break;
    case Volume::Kind::kMinProbability:
      v["min_probability"] = c.volume.amount;
      break;
    case Volume::Kind::kCaptureShare:
      v["capture_share"] = c.volume.amount;
      break;
  }
  j["volume"] = v;
  j["priority"] = PriorityName(c.priority);
  j["holdout_share"] = c.holdout_share;
  j["export_file_name"] = c.export_file_name;
  j["audience"] = c.audience;
  j["exclude_recent_buyers_days"] = c.exclude_recent_buyers_days;
  return j;
}

}  // namespace

std::string_view ObjectiveName(Objective o) { return kObjectiveNames[static_cast<size_t>(o)]; }

std::optional<Objective> ParseObjective(std::string_view s) {
  for (size_t i = 0; i < kObjectiveNames.size(); ++i) {
    if (kObjectiveNames[i] == s) return static_cast<Objective>(i);
  }
  return std::nullopt;
}

Status PlanFile::Validate() const {
  if (Trim(name).empty())
    return Status::InvalidArgument(fmt::format("name: \"{}\" is blank; give the plan a name", name));
  const std::optional<int64_t> start_day = ParseDate(start);
  if (!start_day.has_value()) return Status::InvalidArgument(DateError("start", start));
  if (days < 1 || days > kMaxDays) {
    return Status::InvalidArgument(fmt::format("days: {} is not valid; expected 1 .. {}", days, kMaxDays));
  }
  if (static_cast<size_t>(objective) >= kObjectiveNames.size()) {
    return Status::InvalidArgument("objective: not one of revenue, buyers");
  }
  for (size_t i = 0; i < pressure.size(); ++i) {
    CF_RETURN_IF_ERROR(ValidateRule(pressure[i], fmt::format("pressure[{}]", i)));
  }
  std::unordered_set<std::string_view> names, files;
  for (size_t i = 0; i < campaigns.size(); ++i) {
    const CampaignSpec& c = campaigns[i];
    const std::string where = fmt::format("campaigns[{}]", i);
    CF_RETURN_IF_ERROR(ValidateCampaign(c, where, *start_day, days, start));
    if (!names.insert(c.name).second) {
      return Status::InvalidArgument(
          fmt::format("{}.name: \"{}\" is the name of an earlier campaign; campaign names are unique", where, c.name));
    }
    if (!files.insert(c.export_file_name).second) {
      return Status::InvalidArgument(fmt::format(
          "{}.export_file_name: \"{}\" is used by an earlier campaign; export file names are unique (each is one "
          "cohort)",
          where, c.export_file_name));
    }
  }
  return Status::OK();
}

int PlanFile::SendDay(const CampaignSpec& campaign) const {
  return static_cast<int>(ParseDate(campaign.send_date).value_or(0) - ParseDate(start).value_or(0));
}

int64_t PlanFile::StartTime() const { return ParseDate(start).value_or(0) * kSecondsPerDay; }

Result<PlanFile> ParsePlan(std::string_view json_text, std::string_view source) {
  DuplicateKeyFinder duplicates;
  Json j;
  try {
    j = Json::parse(json_text.begin(), json_text.end(), std::ref(duplicates));
  } catch (const Json::exception& e) {
    // nlohmann's message names the line and column: "parse error at line 3, column 5: ...".
    std::string what = e.what();
    if (const size_t at = what.find("] "); at != std::string::npos) what = what.substr(at + 2);
    return Err(Status::InvalidArgument(fmt::format("{}: not valid JSON: {}", source, what)));
  }
  if (!duplicates.duplicate.empty()) {
    return Err(Status::InvalidArgument(
        fmt::format("{}: key \"{}\" appears twice in one object; each key once", source, duplicates.duplicate)));
  }
  Result<PlanFile> plan = ParseJson(j);
  if (!plan.has_value()) return Err(plan.error().WithPrefix(source));
  if (Status s = plan->Validate(); !s.ok()) return Err(s.WithPrefix(source));
  return plan;
}

std::string SerializePlan(const PlanFile& plan) {
  OrderedJson j;
  j["name"] = plan.name;
  j["start"] = plan.start;
  j["days"] = plan.days;
  j["objective"] = ObjectiveName(plan.objective);
  j["pressure"] = OrderedJson::array();
  for (const PressureRule& r : plan.pressure) j["pressure"].push_back(RuleJson(r));
  j["campaigns"] = OrderedJson::array();
  for (const CampaignSpec& c : plan.campaigns) j["campaigns"].push_back(CampaignJson(c));
  return j.dump(2, ' ', false, OrderedJson::error_handler_t::replace) + "\n";
}

Result<PlanFile> ReadPlanFile(const std::string& path) {
  CF_ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  return ParsePlan(text, path);
}

Status WritePlanFile(const std::string& path, const PlanFile& plan) {
  if (Status s = plan.Validate(); !s.ok()) return s.WithPrefix(path);
  return WriteFileAtomic(path, SerializePlan(plan));
}

std::string CohortId(std::string_view plan_name, std::string_view campaign_name) {
  // The separator keeps ("ab", "c") apart from ("a", "bc").
  std::string key(plan_name);
  key += '\0';
  key += campaign_name;
  return fmt::format("cf-{:016x}", HashString(key));
}

}  // namespace cf::plan
