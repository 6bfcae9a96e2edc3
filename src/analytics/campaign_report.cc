#include "analytics/campaign_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "offer/offer.h"

namespace cf::analytics {
namespace {

constexpr uint32_t kNone = UINT32_MAX;

// Finds a dataset customer by any identifier engage or the plan knows it by.
class IdentityIndex {
 public:
  explicit IdentityIndex(const data::Customers& customers) : customers_(customers) {
    external_.reserve(customers.size());
    device_.reserve(customers.size());
    for (uint32_t c = 0; c < customers.size(); ++c) {
      if (!customers.external_id(c).empty()) external_.emplace(customers.external_id(c), c);
      if (!customers.device_id(c).empty()) device_.emplace(customers.device_id(c), c);
      for (std::string_view a : Split(customers.aliases(c), '\n')) {
        if (!a.empty()) alias_.emplace(a, c);
      }
    }
  }

  // In Braze's order of trust: external_id, then an alias, then device_id (a device may have
  // moved to another profile; an external id never does).
  uint32_t Resolve(std::string_view external_id, const std::vector<std::string_view>& aliases,
                   std::string_view device_id) const {
    if (!external_id.empty()) {
      if (auto it = external_.find(external_id); it != external_.end()) return it->second;
    }
    for (std::string_view a : aliases) {
      if (auto it = alias_.find(a); it != alias_.end()) return it->second;
    }
    if (!device_id.empty()) {
      if (auto it = device_.find(device_id); it != device_.end()) return it->second;
    }
    return kNone;
  }

  uint32_t ResolveRow(const sync::PlannedRow& row) const {
    if (auto c = customers_.Find(row.customer)) return *c;
    std::vector<std::string_view> aliases;
    if (!row.alias.empty()) aliases.push_back(row.alias);
    return Resolve(row.external_id, aliases, row.device_id);
  }

 private:
  const data::Customers& customers_;
  std::unordered_map<std::string_view, uint32_t> external_, device_, alias_;
};

Result<int64_t> ParseSendDate(const std::string& summary, const sync::PlannedCampaign& c, size_t index) {
  auto bad = [&] {
    return Status::InvalidArgument(
        fmt::format("{}: campaigns[{}].send_date {} (campaign '{}') is not a date; expected YYYY-MM-DD", summary, index,
                    Quote(c.send_date), c.name));
  };
  if (c.send_date.size() != 10 || c.send_date[4] != '-' || c.send_date[7] != '-') return Err(bad());
  auto y = ParseInt64(std::string_view(c.send_date).substr(0, 4));
  auto m = ParseInt64(std::string_view(c.send_date).substr(5, 2));
  auto d = ParseInt64(std::string_view(c.send_date).substr(8, 2));
  if (!y || !m || !d || *m < 1 || *m > 12 || *d < 1 || *d > 31) return Err(bad());
  return DaysFromCivil(*y, static_cast<int>(*m), static_cast<int>(*d)) * kSecondsPerDay;
}

// A customer's part in one campaign.
struct Member {
  uint32_t customer = 0;
  bool in_plan = false;  // the plan's CSV lists the customer
  bool holdout = false;
  bool sent = false;
  uint8_t decile = 0;  // 0 when not in the plan
  double probability = 0;
};

// What a member bought of the campaign's offer in its window.
struct Bought {
  double revenue = 0, online = 0, offline = 0;
  bool any = false, any_online = false, any_offline = false;
};

}  // namespace

Uplift MeasureUplift(const GroupValues& treated, const GroupValues& holdout, const GroupStats& t, const GroupStats& h,
                     double confidence) {
  Uplift u;
  if (t.customers == 0 || h.customers == 0) return u;
  u.measurable = true;
  const double n = static_cast<double>(t.customers);
  auto scale = [n](Interval i) { return Interval{i.estimate * n, i.low * n, i.high * n}; };
  u.buyers = scale(NewcombeDifference(t.buyers, t.customers, h.buyers, h.customers, confidence));
  Interval* parts[] = {&u.revenue, &u.online_revenue, &u.offline_revenue};
  for (int i = 0; i < 3; ++i) {
    Moments a, b;
    for (double x : treated[i]) a.Add(x);
    for (double x : holdout[i]) b.Add(x);
    *parts[i] = scale(WelchDifference(a, b, confidence, /*pool_second_variance=*/true).difference);
  }
  return u;
}

Status ReportOptions::Validate() const {
  for (const auto& [channel, days] : window_days) {
    if (channel != "email" && channel != "sms" && channel != "push") {
      return Status::InvalidArgument(
          fmt::format("window_days: channel '{}' is not valid; expected email, sms or push", channel));
    }
    if (days < 1 || days > 366) {
      return Status::InvalidArgument(
          fmt::format("window_days: {}={} is not valid; expected a whole number of days, 1 .. 366", channel, days));
    }
  }
  if (!(confidence > 0 && confidence < 1)) {
    return Status::InvalidArgument(fmt::format("confidence: {} is not valid; expected a level in (0, 1)", confidence));
  }
  if (send_time_tolerance_seconds < 0) return Status::InvalidArgument("send_time_tolerance_seconds: must be >= 0");
  return Status::OK();
}

Status ParseWindows(std::string_view text, ReportOptions* options) {
  for (std::string_view item : Split(text, ',')) {
    item = Trim(item);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string channel = ToLower(Trim(item.substr(0, eq)));
    auto days = eq == std::string_view::npos ? std::nullopt : ParseInt64(Trim(item.substr(eq + 1)));
    if (!days || (channel != "email" && channel != "sms" && channel != "push")) {
      return Status::InvalidArgument(fmt::format(
          "window: '{}' is not valid; expected CHANNEL=DAYS with CHANNEL email, sms or push (e.g. email=14,sms=3)",
          item));
    }
    if (*days < 1 || *days > 366) {
      return Status::InvalidArgument(fmt::format("window: '{}': {} days is not valid; expected 1 .. 366", item, *days));
    }
    options->window_days[channel] = static_cast<int>(*days);
  }
  return Status::OK();
}

void GroupStats::Add(const GroupStats& o) {
  customers += o.customers;
  buyers += o.buyers;
  online_buyers += o.online_buyers;
  offline_buyers += o.offline_buyers;
  revenue += o.revenue;
  online_revenue += o.online_revenue;
  offline_revenue += o.offline_revenue;
}

void DecileRow::Add(const DecileRow& o) {
  treated_customers += o.treated_customers;
  predicted_buyers += o.predicted_buyers;
  treated_buyers += o.treated_buyers;
  holdout_customers += o.holdout_customers;
  holdout_buyers += o.holdout_buyers;
}

Result<PlanInputs> ReadPlanInputs(const std::string& plan_dir) {
  PlanInputs in;
  in.summary_path = plan_dir + "/summary.json";
  CF_ASSIGN_OR_RETURN(in.summary, sync::ReadPlanSummary(plan_dir));
  for (const sync::PlannedCampaign& c : in.summary.campaigns) {
    CF_ASSIGN_OR_RETURN(std::vector<sync::PlannedRow> rows, sync::ReadCampaignRows(plan_dir, c));
    in.rows.push_back(std::move(rows));
  }
  return in;
}

Result<Purchases> IngestPurchases(data::IngestOptions options, const std::string& scratch_dir) {
  options.out = scratch_dir + "/purchases";
  CF_RETURN_IF_ERROR(options.Validate());
  Purchases p;
  CF_ASSIGN_OR_RETURN(p.ingest, data::Ingest(options));
  CF_ASSIGN_OR_RETURN(p.dataset, data::Dataset::Open(options.out));
  return p;
}

Result<CampaignReport> BuildCampaignReport(const data::Dataset& ds, const PlanInputs& plan,
                                           const std::vector<SendRecord>& sends, const data::Dataset& purchases,
                                           const ReportOptions& options) {
  CF_RETURN_IF_ERROR(options.Validate());
  if (plan.rows.size() != plan.summary.campaigns.size()) {
    return Err(Status::InvalidArgument("plan: rows must hold one list per campaign of the summary"));
  }
  const size_t k_count = plan.summary.campaigns.size();
  CampaignReport report;
  report.plan = plan.summary.plan;
  report.confidence = options.confidence;
  report.campaigns.resize(k_count);

  std::vector<offer::ProductSet> offers;
  std::unordered_map<std::string, size_t> by_name;
  for (size_t k = 0; k < k_count; ++k) {
    const sync::PlannedCampaign& c = plan.summary.campaigns[k];
    CampaignResult& r = report.campaigns[k];
    r.campaign = c;
    if (c.offer.empty()) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: campaigns[{}].offer (campaign '{}') is missing; the report measures purchases of the offer",
                      plan.summary_path, k, c.name)));
    }
    auto offer = offer::CompileOffer(c.offer, ds.catalog());
    if (!offer) {
      return Err(offer.error().WithPrefix(
          fmt::format("{}: campaigns[{}].offer {} (campaign '{}')", plan.summary_path, k, Quote(c.offer), c.name)));
    }
    offers.push_back(std::move(*offer));
    auto window = options.window_days.find(c.channel);
    if (window == options.window_days.end()) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: campaigns[{}].channel {} (campaign '{}') is not valid; expected email, sms or push",
                      plan.summary_path, k, Quote(c.channel), c.name)));
    }
    r.window_days = window->second;
    CF_ASSIGN_OR_RETURN(r.window_start, ParseSendDate(plan.summary_path, c, k));
    r.window_end = r.window_start + static_cast<int64_t>(r.window_days) * kSecondsPerDay;
    by_name.emplace(c.name, k);
  }

  const IdentityIndex index(ds.customers());
  const uint32_t n_customers = ds.customers().size();

  // Members of each campaign: the plan's rows, then the customers engage sent it to.
  std::vector<std::vector<Member>> members(k_count);
  std::vector<std::unordered_map<uint32_t, uint32_t>> member_of(k_count);
  for (size_t k = 0; k < k_count; ++k) {
    int64_t unresolved = 0;
    for (const sync::PlannedRow& row : plan.rows[k]) {
      const uint32_t c = index.ResolveRow(row);
      if (c == kNone) {
        ++unresolved;
        continue;
      }
      auto [it, fresh] = member_of[k].emplace(c, static_cast<uint32_t>(members[k].size()));
      if (!fresh) continue;
      members[k].push_back({.customer = c,
                            .in_plan = true,
                            .holdout = row.holdout,
                            .sent = false,
                            .decile = static_cast<uint8_t>(row.decile >= 1 && row.decile <= kDeciles ? row.decile : 0),
                            .probability = row.probability});
    }
    if (unresolved > 0) {
      report.warnings.push_back(fmt::format(
          "campaign '{}': {} rows of its plan CSV name no customer of the dataset (by customer id, external_id, alias "
          "or device_id) and were left out",
          plan.summary.campaigns[k].name, unresolved));
    }
  }
  std::map<std::string, int64_t> unknown_campaigns;
  std::vector<int64_t> min_time(k_count, INT64_MAX), max_time(k_count, INT64_MIN);
  std::vector<std::string_view> aliases;
  for (const SendRecord& s : sends) {
    auto k_it = by_name.find(s.campaign_name);
    if (k_it == by_name.end()) {
      ++unknown_campaigns[s.campaign_name];
      continue;
    }
    const size_t k = k_it->second;
    CampaignResult& r = report.campaigns[k];
    ++r.outcomes[static_cast<int>(s.outcome)];
    min_time[k] = std::min(min_time[k], s.time);
    max_time[k] = std::max(max_time[k], s.time);
    aliases.assign(s.aliases.begin(), s.aliases.end());
    const uint32_t c = index.Resolve(s.external_id, aliases, s.device_id);
    if (c == kNone) {
      ++r.unmatched_records;
      continue;
    }
    if (s.outcome != Outcome::kSent) continue;
    auto [it, fresh] = member_of[k].emplace(c, static_cast<uint32_t>(members[k].size()));
    if (fresh) members[k].push_back({.customer = c});
    Member& m = members[k][it->second];
    if (m.sent) continue;  // one customer, several records (dispatches): one treated customer
    m.sent = true;
    if (m.holdout) ++r.sent_to_holdout;
    if (!m.in_plan) ++r.sent_outside_plan;
  }
  for (const auto& [name, n] : unknown_campaigns) {
    report.warnings.push_back(
        fmt::format("{} send records of campaign '{}' were ignored: the plan has no campaign of that name", n, name));
  }
  for (size_t k = 0; k < k_count; ++k) {
    CampaignResult& r = report.campaigns[k];
    if (min_time[k] == INT64_MAX) {
      report.warnings.push_back(fmt::format(
          "campaign '{}': no send records name it (engage has no campaign of that name, or it was not sent)",
          r.campaign.name));
      continue;
    }
    const int64_t tol = options.send_time_tolerance_seconds;
    if (min_time[k] < r.window_start - tol || max_time[k] > r.window_start + tol) {
      report.warnings.push_back(fmt::format(
          "campaign '{}': its send records' times ({} .. {}) are more than 1 day from its send_date {}; the window "
          "starts at the send_date all the same (docs/analytics.md)",
          r.campaign.name, FormatIsoTime(min_time[k]), FormatIsoTime(max_time[k]), r.campaign.send_date));
    }
    if (r.sent_to_holdout > 0) {
      report.warnings.push_back(
          fmt::format("campaign '{}': {} held-out customers have a `sent` record; they stay in the holdout only if "
                      "never sent — they were left out of both groups",
                      r.campaign.name, r.sent_to_holdout));
    }
    if (r.unmatched_records > 0) {
      report.warnings.push_back(
          fmt::format("campaign '{}': {} send records name no customer of the dataset and were left out",
                      r.campaign.name, r.unmatched_records));
    }
  }

  // Each customer's analysed memberships (treated: sent and not held out; holdout: held out
  // and never sent), as (campaign, member) pairs in CSR form.
  struct Slot {
    uint32_t campaign, member;
    bool treated;
  };
  std::vector<uint32_t> slot_begin(static_cast<size_t>(n_customers) + 1, 0);
  std::vector<uint16_t> messages(n_customers, 0);
  std::vector<uint8_t> allocated(n_customers, 0);
  for (size_t k = 0; k < k_count; ++k) {
    for (const Member& m : members[k]) {
      if (m.in_plan) allocated[m.customer] = 1;
      if (m.sent) {
        allocated[m.customer] = 1;
        ++messages[m.customer];
      }
      if (m.sent != m.holdout) ++slot_begin[m.customer + 1];
    }
  }
  for (uint32_t c = 0; c < n_customers; ++c) slot_begin[c + 1] += slot_begin[c];
  std::vector<Slot> slots(slot_begin[n_customers]);
  {
    std::vector<uint32_t> fill(slot_begin.begin(), slot_begin.end() - 1);
    for (size_t k = 0; k < k_count; ++k) {
      for (uint32_t i = 0; i < members[k].size(); ++i) {
        const Member& m = members[k][i];
        if (m.sent != m.holdout) slots[fill[m.customer]++] = {static_cast<uint32_t>(k), i, m.sent};
      }
    }
  }
  for (uint32_t c = 0; c < n_customers; ++c) {
    if (allocated[c]) ++report.messages_per_customer[messages[c]];
  }

  // The purchases: per member, what it bought of its campaign's offer in the window; per
  // purchase, the last campaign (latest send_date) that touched the buyer, for the secondary table.
  std::vector<std::vector<Bought>> bought(k_count);
  for (size_t k = 0; k < k_count; ++k) bought[k].resize(members[k].size());
  const data::Catalog& pcat = purchases.catalog();
  std::vector<uint32_t> product_map(pcat.size(), data::kNoProduct);
  for (uint32_t p = 0; p < pcat.size(); ++p) {
    if (auto q = ds.catalog().FindProduct(pcat.product_id(p))) product_map[p] = *q;
  }
  std::vector<uint32_t> last_touch_customer(k_count, kNone);
  const data::Events& ev = purchases.events();
  report.purchases = ev.size();
  for (uint32_t pc = 0; pc < purchases.customers().size(); ++pc) {
    const uint64_t begin = ev.begin(pc), end = ev.end(pc);
    if (begin == end) continue;
    const auto c = ds.customers().Find(purchases.customers().crm_id(pc));
    if (!c) {
      report.purchases_unknown_customer += end - begin;
      continue;
    }
    const Slot* first = slots.data() + slot_begin[*c];
    const Slot* last = slots.data() + slot_begin[*c + 1];
    for (uint64_t e = begin; e < end; ++e) {
      const uint32_t raw_product = ev.product()[e];
      const uint32_t product = raw_product == data::kNoProduct ? data::kNoProduct : product_map[raw_product];
      if (raw_product != data::kNoProduct && product == data::kNoProduct) ++report.purchases_unknown_product;
      if (first == last) continue;
      const int64_t t = ev.time()[e];
      const double revenue = ev.revenue()[e];
      const auto channel = static_cast<data::Channel>(ev.channel()[e]);
      int best = -1;
      for (const Slot* s = first; s != last; ++s) {
        const CampaignResult& r = report.campaigns[s->campaign];
        if (t < r.window_start || t >= r.window_end || !offers[s->campaign].Contains(product)) continue;
        Bought& b = bought[s->campaign][s->member];
        b.any = true;
        b.revenue += revenue;
        if (channel == data::Channel::kOnline) {
          b.online += revenue;
          b.any_online = true;
        } else if (channel == data::Channel::kOffline) {
          b.offline += revenue;
          b.any_offline = true;
        }
        if (s->treated && (best < 0 || r.window_start > report.campaigns[best].window_start)) {
          best = static_cast<int>(s->campaign);
        }
      }
      if (best >= 0) {
        CampaignResult& r = report.campaigns[best];
        r.last_touch_revenue += revenue;
        if (last_touch_customer[best] != *c) {
          last_touch_customer[best] = *c;
          ++r.last_touch_buyers;
        }
      }
    }
  }
  if (report.purchases_unknown_customer > 0) {
    report.warnings.push_back(fmt::format("{} purchases name a customer the dataset does not have and were ignored",
                                          report.purchases_unknown_customer));
  }
  if (report.purchases_unknown_product > 0) {
    report.warnings.push_back(
        fmt::format("{} purchases name a product the dataset's catalog does not have; they count for no offer",
                    report.purchases_unknown_product));
  }

  // The groups, their uplift, the deciles.
  std::vector<Interval> buyers_parts, revenue_parts, online_parts, offline_parts;
  for (size_t k = 0; k < k_count; ++k) {
    CampaignResult& r = report.campaigns[k];
    GroupValues values[2];  // treated, holdout
    for (uint32_t i = 0; i < members[k].size(); ++i) {
      const Member& m = members[k][i];
      if (m.sent == m.holdout) continue;
      const Bought& b = bought[k][i];
      const int g = m.sent ? 0 : 1;
      GroupStats& s = m.sent ? r.treated : r.holdout;
      ++s.customers;
      s.buyers += b.any;
      s.online_buyers += b.any_online;
      s.offline_buyers += b.any_offline;
      s.revenue += b.revenue;
      s.online_revenue += b.online;
      s.offline_revenue += b.offline;
      values[g][0].push_back(b.revenue);
      values[g][1].push_back(b.online);
      values[g][2].push_back(b.offline);
      if (m.sent && m.in_plan) r.predicted_buyers += m.probability;
      if (m.decile > 0) {
        DecileRow& d = r.deciles[m.decile - 1];
        if (m.sent) {
          ++d.treated_customers;
          d.predicted_buyers += m.probability;
          d.treated_buyers += b.any;
        } else {
          ++d.holdout_customers;
          d.holdout_buyers += b.any;
        }
      }
    }
    for (int d = 0; d < kDeciles; ++d) r.deciles[d].decile = d + 1;
    r.uplift = MeasureUplift(values[0], values[1], r.treated, r.holdout, options.confidence);
    if (!r.uplift.measurable) {
      report.warnings.push_back(fmt::format(
          "campaign '{}': {} treated and {} holdout customers; its uplift cannot be measured and is left out of the "
          "total",
          r.campaign.name, r.treated.customers, r.holdout.customers));
    } else {
      buyers_parts.push_back(r.uplift.buyers);
      revenue_parts.push_back(r.uplift.revenue);
      online_parts.push_back(r.uplift.online_revenue);
      offline_parts.push_back(r.uplift.offline_revenue);
    }
    report.treated.Add(r.treated);
    report.holdout.Add(r.holdout);
    report.predicted_buyers += r.predicted_buyers;
    for (int d = 0; d < kDeciles; ++d) report.deciles[d].Add(r.deciles[d]);
    for (int o = 0; o < kOutcomes; ++o) report.outcomes[o] += r.outcomes[o];
  }
  for (int d = 0; d < kDeciles; ++d) report.deciles[d].decile = d + 1;
  report.uplift.measurable = !buyers_parts.empty();
  report.uplift.buyers = SumOfIndependent(buyers_parts);
  report.uplift.revenue = SumOfIndependent(revenue_parts);
  report.uplift.online_revenue = SumOfIndependent(online_parts);
  report.uplift.offline_revenue = SumOfIndependent(offline_parts);
  return report;
}

}  // namespace cf::analytics
