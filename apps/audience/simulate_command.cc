// simulate: a generated dataset continued past a plan's send dates, with the plan's messages taking
// effect, and the true incremental buyers and revenue they caused (docs/simulate.md). This file reads
// the plan directory and the sends feed; src/data/simulate.h takes plain customers and windows.
#include <fmt/format.h>
#include <simdjson.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "apps/audience/commands.h"
#include "base/strings.h"
#include "base/time.h"
#include "data/simulate.h"
#include "offer/offer.h"
#include "sync/plan_dir.h"

namespace cf::cli {
namespace {

struct SimulateFlags {
  std::string raw, plan_dir, sends;
  std::string window = "email=14,sms=3,push=3";
  data::SimulateOptions options;
};

void Warn(const std::string& message) { std::fprintf(stderr, "audience simulate: warning: %s\n", message.c_str()); }

// "email=14,sms=3" over the defaults email=14, sms=3, push=3.
Result<std::map<std::string, int64_t>> ParseWindows(const std::string& text) {
  std::map<std::string, int64_t> windows = {{"email", 14}, {"sms", 3}, {"push", 3}};
  for (const std::string_view part : Split(text, ',')) {
    const size_t eq = part.find('=');
    const std::string channel(Trim(part.substr(0, eq)));
    int64_t days = 0;
    const std::string value = eq == std::string::npos ? "" : std::string(Trim(part.substr(eq + 1)));
    const bool number = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos &&
                        value.size() <= 4 && (days = std::stoll(value)) >= 1;
    if (!windows.contains(channel) || !number) {
      return Err(Status::InvalidArgument(fmt::format(
          "--window: {} is not CHANNEL=DAYS with a channel email, sms or push and 1 to 9999 days (e.g. email=14,sms=3)",
          Quote(part))));
    }
    windows[channel] = days;
  }
  return windows;
}

// Where the plan's customers are, by each identifier the sends may carry.
struct Directory {
  std::unordered_map<std::string, uint64_t> by_external_id, by_alias, by_device_id;
  std::vector<std::unordered_set<uint64_t>> holdout;  // per plan campaign
};

constexpr size_t kRowsChecked = 50;  // plan rows whose identifiers are checked against the generated customers

// A plan made from another dataset would treat the wrong people: the first rows' identifiers must be
// the generated customers' own.
Status CheckPlanMatchesData(const std::string& file, const std::vector<sync::PlannedRow>& rows,
                            const data::GeneratedData& data) {
  std::vector<uint64_t> indices;
  for (size_t r = 0; r < rows.size() && r < kRowsChecked; ++r) indices.push_back(std::stoull(rows[r].customer) - 1);
  const std::vector<data::GeneratedData::Identifiers> generated = data.IdentifiersOf(indices);
  for (size_t r = 0; r < indices.size(); ++r) {
    const sync::PlannedRow& row = rows[r];
    const data::GeneratedData::Identifiers& ids = generated[r];
    bool alias_known = row.alias.empty();
    for (std::string_view a : Split(ids.aliases, ';')) alias_known = alias_known || a == row.alias;
    struct Field {
      const char* name;
      const std::string& planned;
      const std::string& generated;
      bool same;
    };
    const Field fields[] = {
        {"external_id", row.external_id, ids.external_id,
         row.external_id.empty() || row.external_id == ids.external_id},
        {"device_id", row.device_id, ids.device_id, row.device_id.empty() || row.device_id == ids.device_id},
        {"alias", row.alias, ids.aliases, alias_known}};
    for (const Field& field : fields) {
      if (!field.same) {
        return Status::InvalidArgument(fmt::format(
            "{}: line {}: customer {} has {} {}, the generated customer {} has {}: the plan was not made from the "
            "dataset in --raw",
            file, r + 2, row.customer, field.name, Quote(field.planned), row.customer, Quote(field.generated)));
      }
    }
  }
  return Status::OK();
}

Result<Directory> ReadPlanCustomers(const std::string& plan_dir, const sync::PlanSummary& plan,
                                    const data::GeneratedData& data) {
  const uint64_t customers = data.customers();
  Directory d;
  d.holdout.resize(plan.campaigns.size());
  for (size_t k = 0; k < plan.campaigns.size(); ++k) {
    const sync::PlannedCampaign& campaign = plan.campaigns[k];
    CF_ASSIGN_OR_RETURN(const std::vector<sync::PlannedRow> rows, sync::ReadCampaignRows(plan_dir, campaign));
    const std::string file = sync::CampaignCsvPath(plan_dir, campaign);
    d.by_external_id.reserve(d.by_external_id.size() + rows.size());
    d.by_alias.reserve(d.by_alias.size() + rows.size());
    d.by_device_id.reserve(d.by_device_id.size() + rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      const sync::PlannedRow& row = rows[r];
      uint64_t id = 0;
      const bool number = !row.customer.empty() && row.customer.size() <= 19 &&
                          row.customer.find_first_not_of("0123456789") == std::string::npos &&
                          (id = std::stoull(row.customer)) >= 1 && id <= customers;
      if (!number) {
        return Err(Status::InvalidArgument(fmt::format(
            "{}: line {}: customer {} is not a customer_id of the generated dataset (1 to {}): was the plan made "
            "from another dataset?",
            file, r + 2, Quote(row.customer), customers)));
      }
      const uint64_t index = id - 1;
      if (!row.external_id.empty()) d.by_external_id.try_emplace(row.external_id, index);
      if (!row.alias.empty()) d.by_alias.try_emplace(row.alias, index);
      if (!row.device_id.empty()) d.by_device_id.try_emplace(row.device_id, index);
      if (row.holdout) d.holdout[k].insert(index);
    }
    CF_RETURN_IF_ERROR(CheckPlanMatchesData(file, rows, data));
  }
  return d;
}

// A string field of a send record; "" when absent, null or not a string.
std::string_view StringField(simdjson::dom::object record, std::string_view name) {
  std::string_view v;
  return record[name].get_string().get(v) == simdjson::SUCCESS ? v : std::string_view();
}

// The customer a send record names: by external_user_id (or user_id), then its aliases, then device_id.
std::optional<uint64_t> Resolve(simdjson::dom::object record, const Directory& d, std::string* key) {
  for (std::string_view name : {"external_user_id", "user_id"}) {
    key->assign(StringField(record, name));
    if (auto it = d.by_external_id.find(*key); !key->empty() && it != d.by_external_id.end()) return it->second;
  }
  simdjson::dom::array aliases;
  if (record["user_aliases"].get_array().get(aliases) == simdjson::SUCCESS) {
    for (simdjson::dom::element a : aliases) {
      simdjson::dom::object alias;
      if (a.get_object().get(alias) != simdjson::SUCCESS) continue;
      key->assign(StringField(alias, "alias_label"));
      key->push_back(':');
      key->append(StringField(alias, "alias_name"));
      if (auto it = d.by_alias.find(*key); it != d.by_alias.end()) return it->second;
    }
  }
  key->assign(StringField(record, "device_id"));
  if (auto it = d.by_device_id.find(*key); !key->empty() && it != d.by_device_id.end()) return it->second;
  return std::nullopt;
}

bool HasIdentifier(simdjson::dom::object record) {
  if (!StringField(record, "external_user_id").empty() || !StringField(record, "device_id").empty()) return true;
  simdjson::dom::array aliases;
  return record["user_aliases"].get_array().get(aliases) == simdjson::SUCCESS && aliases.size() > 0;
}

struct Plan {
  std::vector<data::SimulatedCampaign> campaigns;
  std::vector<int64_t> send_day;
  std::vector<int64_t> window_days;
};

Result<Plan> CompilePlan(const SimulateFlags& f, const sync::PlanSummary& summary, const data::GeneratedData& data,
                         const std::map<std::string, int64_t>& windows) {
  Plan plan;
  const std::string file = f.plan_dir + "/summary.json";
  for (size_t k = 0; k < summary.campaigns.size(); ++k) {
    const sync::PlannedCampaign& c = summary.campaigns[k];
    const std::string where = fmt::format("{}: campaigns[{}] ({})", file, k, Quote(c.name));
    Result<offer::ProductSet> set = offer::CompileOffer(c.offer, data.catalog());
    if (!set.has_value()) {
      return Err(Status::InvalidArgument(fmt::format("{}: offer {} against the generated products: {}", where,
                                                     Quote(c.offer), set.error().message())));
    }
    data::SimulatedCampaign sc;
    sc.name = c.name;
    sc.offer.assign(data.catalog().size(), 0);
    for (uint32_t p = 0; p < data.catalog().size(); ++p) sc.offer[p] = set->Contains(p) ? 1 : 0;
    plan.campaigns.push_back(std::move(sc));
    Result<int64_t> t = ParseIsoTime(c.send_date);
    if (!t.has_value()) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: send_date {} is not a date like 2026-01-05", where, Quote(c.send_date))));
    }
    plan.send_day.push_back(*t / kSecondsPerDay);
    const auto w = windows.find(c.channel);
    if (w == windows.end()) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: channel {} has no window: use email, sms or push", where, Quote(c.channel))));
    }
    plan.window_days.push_back(w->second);
  }
  return plan;
}

// The `sent` records of plan campaigns, as messages to customers. Errors name the file and line.
Result<std::vector<data::Message>> ReadSends(const SimulateFlags& f, const sync::PlanSummary& summary, const Plan& plan,
                                             const Directory& directory) {
  std::ifstream in(f.sends);
  if (!in) {
    return Err(Status::NotFound(fmt::format("--sends {}: cannot open the file", Quote(f.sends))));
  }
  std::unordered_map<std::string, size_t> campaign_of;
  for (size_t k = 0; k < summary.campaigns.size(); ++k) campaign_of.emplace(summary.campaigns[k].name, k);
  std::vector<data::Message> messages;
  std::unordered_set<std::string> unknown_campaigns;
  uint64_t unmatched = 0, held_out = 0;
  size_t first_unmatched = 0;
  simdjson::dom::parser parser;
  std::string line, key;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto where = [&] { return fmt::format("{}: line {}", f.sends, number); };
    simdjson::dom::element element;
    if (const auto error = parser.parse(line).get(element); error != simdjson::SUCCESS) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: not JSON ({}): {}", where(), simdjson::error_message(error), Quote(line))));
    }
    simdjson::dom::object record;
    if (element.get_object().get(record) != simdjson::SUCCESS) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: expected a JSON object (a send record), found {}", where(), Quote(line))));
    }
    std::string_view name, outcome;
    for (auto [field, value] : {std::pair{"campaign_name", &name}, std::pair{"outcome", &outcome}}) {
      if (record[field].get_string().get(*value) != simdjson::SUCCESS) {
        return Err(Status::InvalidArgument(fmt::format(
            "{}: field {} is missing or not a string (a send record needs campaign_name, time, outcome and an "
            "identifier)",
            where(), field)));
      }
    }
    int64_t time = 0;
    if (record["time"].get_int64().get(time) != simdjson::SUCCESS) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: field time is missing or not whole epoch seconds: {}", where(), Quote(line))));
    }
    if (!HasIdentifier(record)) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: the record names no customer: give external_user_id, user_aliases or device_id", where())));
    }
    if (outcome != "sent" && outcome != "control" && outcome != "capped" && outcome != "not_opted_in" &&
        outcome != "failed") {
      return Err(Status::InvalidArgument(fmt::format(
          "{}: outcome {} is not one of sent, control, capped, not_opted_in, failed", where(), Quote(outcome))));
    }
    const auto k = campaign_of.find(std::string(name));
    if (k == campaign_of.end()) {
      if (unknown_campaigns.emplace(name).second) {
        Warn(fmt::format("{}: campaign {} is not in the plan: its sends are ignored", where(), Quote(name)));
      }
      continue;
    }
    if (outcome != "sent") continue;
    const std::optional<uint64_t> customer = Resolve(record, directory, &key);
    if (!customer.has_value()) {
      if (unmatched++ == 0) first_unmatched = number;
      continue;
    }
    if (directory.holdout[k->second].contains(*customer)) {
      ++held_out;
      continue;
    }
    const int64_t first = plan.send_day[k->second];
    messages.push_back(
        data::Message{*customer, static_cast<uint32_t>(k->second), first, first + plan.window_days[k->second]});
  }
  if (in.bad()) {
    return Err(Status::IOError(fmt::format("--sends {}: read error", Quote(f.sends))));
  }
  if (unmatched > 0) {
    Warn(fmt::format("{} sent records (first: {} line {}) name no customer of the plan's campaign files: ignored",
                     unmatched, f.sends, first_unmatched));
  }
  if (held_out > 0) {
    Warn(fmt::format("{} sent records are of holdout customers: they are not treated", held_out));
  }
  return messages;
}

int Run(const SimulateFlags& f) {
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "audience simulate: %s\n", s.message().c_str());
    return 1;
  };
  if (Status s = f.options.Validate(); !s.ok()) return fail(s);
  Result<std::map<std::string, int64_t>> windows = ParseWindows(f.window);
  if (!windows.has_value()) return fail(windows.error());
  Result<std::unique_ptr<data::GeneratedData>> data = data::GeneratedData::Open(f.raw);
  if (!data.has_value()) return fail(data.error());
  Result<sync::PlanSummary> summary = sync::ReadPlanSummary(f.plan_dir);
  if (!summary.has_value()) return fail(summary.error());
  Result<Plan> plan = CompilePlan(f, *summary, **data, *windows);
  if (!plan.has_value()) return fail(plan.error());
  Result<Directory> directory = ReadPlanCustomers(f.plan_dir, *summary, **data);
  if (!directory.has_value()) return fail(directory.error());
  Result<std::vector<data::Message>> messages = ReadSends(f, *summary, *plan, *directory);
  if (!messages.has_value()) return fail(messages.error());

  const int64_t begin = (*data)->end_day();
  const int64_t end = begin + f.options.days;
  std::vector<uint8_t> sent(summary->campaigns.size(), 0);
  for (const data::Message& m : *messages) sent[m.campaign] = 1;
  for (size_t k = 0; k < summary->campaigns.size(); ++k) {
    const sync::PlannedCampaign& c = summary->campaigns[k];
    const int64_t day = plan->send_day[k];
    if (day >= begin && day < end) continue;
    const std::string message = fmt::format(
        "{}/summary.json: campaign {}: send_date {} is outside the simulated days [{}, {}) (the generated history "
        "ends before {}; --days {})",
        f.plan_dir, Quote(c.name), c.send_date, FormatIsoDate(begin * kSecondsPerDay),
        FormatIsoDate(end * kSecondsPerDay), FormatIsoDate(begin * kSecondsPerDay), f.options.days);
    if (sent[k] != 0) return fail(Status::InvalidArgument(message + ": raise --days or plan from this dataset"));
    Warn(message + "; it has no sent records, so nothing is lost");
  }
  for (size_t k = 0; k < summary->campaigns.size(); ++k) {
    if (sent[k] != 0 && plan->send_day[k] + plan->window_days[k] > end) {
      Warn(fmt::format("campaign {}: its window runs past the simulated days (to {}): it is cut at {}",
                       Quote(summary->campaigns[k].name),
                       FormatIsoDate((plan->send_day[k] + plan->window_days[k]) * kSecondsPerDay),
                       FormatIsoDate(end * kSecondsPerDay)));
    }
  }

  Result<data::SimulateReport> report = data::Simulate(**data, plan->campaigns, std::move(*messages), f.options);
  if (!report.has_value()) return fail(report.error());
  std::printf("simulated %s: %llu customers over %d days, %llu purchases (%llu caused by messages) in %.1f s\n",
              f.options.out.c_str(), static_cast<unsigned long long>(report->customers), f.options.days,
              static_cast<unsigned long long>(report->purchases),
              static_cast<unsigned long long>(report->extra_purchases), report->seconds);
  for (const data::CampaignTruth& c : report->campaigns) {
    std::printf("  %s: %llu treated, true incremental buyers %.2f, revenue %.2f\n", c.name.c_str(),
                static_cast<unsigned long long>(c.treated), c.true_incremental_buyers, c.true_incremental_revenue);
  }
  return 0;
}

}  // namespace

void AddSimulateCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<SimulateFlags>();
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Continue a generated dataset past a plan's send dates, with messages taking effect, and write the "
      "later purchases and the true uplift");
  cmd->add_option("--raw", f->raw, "Directory `audience generate` wrote (re-created from its truth.json)")->required();
  cmd->add_option("--plan-dir", f->plan_dir, "Plan directory (summary.json, campaigns/*.csv)")->required();
  cmd->add_option("--sends", f->sends, "Send records as JSON Lines (`engage campaign sends`)")->required();
  cmd->add_option("--days", f->options.days, "Days simulated after the generated history")
      ->check(WholeNumber(1, data::SimulateOptions::kMaxDays))
      ->capture_default_str();
  cmd->add_option("--treatment-effect", f->options.treatment_effect,
                  "Factor on the rate of buying the offer during a message's window (1 = no effect)")
      ->capture_default_str();
  cmd->add_option("--seed", f->options.seed, "Random seed of the continuation: the same inputs give the same bytes")
      ->capture_default_str();
  cmd->add_option("--out", f->options.out, "Output directory: purchases.csv and truth.json")->required();
  cmd->add_option("--window", f->window, "Days a message acts, per channel")->capture_default_str();
  cmd->add_option("--threads", f->options.threads, "Worker threads (0 = every core)")
      ->check(WholeNumber(0, 256))
      ->capture_default_str();
  AddCommonFlags(cmd);
  cmd->callback([f, exit_code] {
    f->options.progress = true;
    *exit_code = Run(*f);
  });
}

}  // namespace cf::cli
