#include "analytics/observational.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "io/record_reader.h"
#include "report/html.h"
#include "report/svg.h"

namespace cf::analytics {
namespace {

using json = nlohmann::ordered_json;

// Reads every record of a CSV with the named columns; `row` gets the fields in that order. A
// column named "?name" is optional: its field is "" when the file has no such column.
Status ReadCsv(const std::string& path, const std::vector<std::string>& columns,
               const std::function<Status(const std::vector<std::string_view>&, uint64_t line)>& row) {
  io::SourceOptions source;
  source.path = path;
  CF_ASSIGN_OR_RETURN(std::unique_ptr<io::RecordReader> reader, io::RecordReader::Open(source));
  std::vector<int> index;
  std::vector<std::string> required;
  for (const std::string& c : columns) {
    if (!StartsWith(c, "?")) required.push_back(c);
  }
  for (const std::string& c : columns) {
    const bool optional = StartsWith(c, "?");
    const int i = reader->ColumnIndex(optional ? std::string_view(c).substr(1) : std::string_view(c));
    if (i < 0 && !optional) {
      return Status::InvalidArgument(
          fmt::format("{}: no column '{}'; expected the columns {}", path, c, Join(required, ", ")));
    }
    index.push_back(i);
  }
  io::Record record;
  std::vector<std::string_view> fields(columns.size());
  for (;;) {
    CF_ASSIGN_OR_RETURN(bool more, reader->Next(&record));
    if (!more) break;
    for (size_t k = 0; k < columns.size(); ++k) fields[k] = index[k] < 0 ? std::string_view() : record.fields[index[k]];
    CF_RETURN_IF_ERROR(row(fields, record.line));
  }
  return Status::OK();
}

Result<int64_t> DayStart(std::string_view date, const std::string& where) {
  auto t = ParseIsoTime(date);
  if (!t || date.size() != 10) {
    return Err(Status::InvalidArgument(fmt::format("{}: '{}' is not a date; expected YYYY-MM-DD", where, date)));
  }
  return *t;
}

json GroupJson(const ObservedGroup& g) {
  const GroupStats& p = g.purchases;
  const double n = static_cast<double>(p.customers);
  return {{"customers", p.customers},
          {"buyers", p.buyers},
          {"revenue", p.revenue},
          {"online_revenue", p.online_revenue},
          {"offline_revenue", p.offline_revenue},
          {"buyer_rate", p.customers > 0 ? json(p.buyers / n) : json(nullptr)},
          {"revenue_per_customer", p.customers > 0 ? json(p.revenue / n) : json(nullptr)},
          {"coupon_redeemers", g.redeemers},
          {"coupon_redemptions", g.redemptions}};
}

json IntervalJson(const Interval& i, bool measurable) {
  if (!measurable) return {{"estimate", nullptr}, {"ci_low", nullptr}, {"ci_high", nullptr}};
  return {{"estimate", i.estimate}, {"ci_low", i.low}, {"ci_high", i.high}};
}

}  // namespace

Result<ObservationalInputs> ReadObservationalCampaigns(const std::string& dir) {
  ObservationalInputs in;
  in.dir = dir;
  const std::string descriptions = dir + "/campaign_descriptions.csv";
  const std::string members = dir + "/campaigns.csv";
  for (const std::string& p : {descriptions, members}) {
    if (!PathExists(p)) {
      return Err(Status::NotFound(fmt::format(
          "{} does not exist; --observational-campaigns needs campaign_descriptions.csv and campaigns.csv", p)));
    }
  }
  std::unordered_map<std::string, size_t> by_id;
  CF_RETURN_IF_ERROR(ReadCsv(
      descriptions, {"campaign_id", "start_date", "end_date", "?campaign_type"},
      [&](const std::vector<std::string_view>& f, uint64_t line) -> Status {
        const std::string where = fmt::format("{}:{}", descriptions, line);
        if (f[0].empty()) return Status::InvalidArgument(where + ": column campaign_id is empty");
        CF_ASSIGN_OR_RETURN(int64_t start, DayStart(f[1], where + ": column start_date"));
        CF_ASSIGN_OR_RETURN(int64_t end, DayStart(f[2], where + ": column end_date"));
        if (end < start) {
          return Status::InvalidArgument(fmt::format("{}: end_date {} is before start_date {}", where, f[2], f[1]));
        }
        if (!by_id.emplace(std::string(f[0]), in.campaigns.size()).second) {
          return Status::InvalidArgument(fmt::format("{}: campaign_id '{}' is listed twice", where, f[0]));
        }
        ObservedCampaign c;
        c.id = f[0];
        c.start_date = f[1];
        c.end_date = f[2];
        c.type = f[3];
        in.campaigns.push_back(std::move(c));
        return Status::OK();
      }));
  CF_RETURN_IF_ERROR(ReadCsv(
      members, {"campaign_id", "household_id"}, [&](const std::vector<std::string_view>& f, uint64_t line) -> Status {
        auto it = by_id.find(std::string(f[0]));
        if (it == by_id.end()) {
          return Status::InvalidArgument(
              fmt::format("{}:{}: campaign_id '{}' is not in campaign_descriptions.csv", members, line, f[0]));
        }
        in.campaigns[it->second].targeted.emplace_back(f[1]);
        return Status::OK();
      }));
  const std::string coupons = dir + "/coupons.csv";
  if (PathExists(coupons)) {
    in.has_coupons = true;
    CF_RETURN_IF_ERROR(ReadCsv(coupons, {"product_id", "campaign_id"},
                               [&](const std::vector<std::string_view>& f, uint64_t) -> Status {
                                 auto it = by_id.find(std::string(f[1]));
                                 if (it != by_id.end()) in.campaigns[it->second].coupon_products.emplace(f[0]);
                                 return Status::OK();
                               }));
  }
  const std::string redemptions = dir + "/coupon_redemptions.csv";
  if (PathExists(redemptions)) {
    in.has_redemptions = true;
    CF_RETURN_IF_ERROR(ReadCsv(redemptions, {"household_id", "campaign_id", "redemption_date"},
                               [&](const std::vector<std::string_view>& f, uint64_t) -> Status {
                                 in.redemptions.push_back({std::string(f[0]), std::string(f[1]), std::string(f[2])});
                                 return Status::OK();
                               }));
  }
  return in;
}

Result<ObservationalReport> BuildObservationalReport(const data::Dataset& ds, const ObservationalInputs& in,
                                                     const data::Dataset& purchases, const ReportOptions& options) {
  CF_RETURN_IF_ERROR(options.Validate());
  ObservationalReport report;
  report.dir = in.dir;
  report.confidence = options.confidence;
  const data::Customers& customers = ds.customers();
  const uint32_t n = customers.size();
  // Purchases' customers and products in the dataset's numbering.
  std::vector<uint32_t> customer_of(purchases.customers().size(), UINT32_MAX);
  for (uint32_t pc = 0; pc < purchases.customers().size(); ++pc) {
    if (auto c = customers.Find(purchases.customers().crm_id(pc))) customer_of[pc] = *c;
  }
  std::vector<uint32_t> product_of(purchases.catalog().size(), data::kNoProduct);
  for (uint32_t p = 0; p < purchases.catalog().size(); ++p) {
    if (auto q = ds.catalog().FindProduct(purchases.catalog().product_id(p))) product_of[p] = *q;
  }
  const data::Events& ev = purchases.events();
  for (const ObservedCampaign& campaign : in.campaigns) {
    ObservedResult r;
    r.campaign = campaign;
    r.campaign.targeted.clear();
    CF_ASSIGN_OR_RETURN(r.start, DayStart(campaign.start_date, "start_date"));
    CF_ASSIGN_OR_RETURN(int64_t last_day, DayStart(campaign.end_date, "end_date"));
    r.end = last_day + kSecondsPerDay;
    std::vector<uint8_t> targeted(n, 0);
    for (const std::string& id : campaign.targeted) {
      if (auto c = customers.Find(id)) {
        if (!targeted[*c]) r.campaign.targeted.push_back(id);
        targeted[*c] = 1;
      } else {
        ++r.targeted_unknown;
      }
    }
    // What counts: the campaign's coupon products when the dataset's catalog has any of them.
    std::vector<uint8_t> measured(ds.catalog().size(), 0);
    bool any_product = false;
    for (const std::string& id : campaign.coupon_products) {
      if (auto p = ds.catalog().FindProduct(id)) {
        measured[*p] = 1;
        any_product = true;
      }
    }
    r.measured = any_product ? "purchases of the campaign's coupon products" : "any purchase";
    if (!any_product && !campaign.coupon_products.empty()) {
      report.warnings.push_back(
          fmt::format("campaign {}: none of its {} coupon products is in the catalog; any purchase is measured instead",
                      campaign.id, campaign.coupon_products.size()));
    }
    std::vector<double> revenue(n, 0), online(n, 0), offline(n, 0);
    std::vector<uint8_t> bought(n, 0);
    for (uint32_t pc = 0; pc < purchases.customers().size(); ++pc) {
      const uint32_t c = customer_of[pc];
      if (c == UINT32_MAX) continue;
      for (uint64_t e = ev.begin(pc); e < ev.end(pc); ++e) {
        const int64_t t = ev.time()[e];
        if (t < r.start || t >= r.end) continue;
        const uint32_t p = ev.product()[e] == data::kNoProduct ? data::kNoProduct : product_of[ev.product()[e]];
        if (any_product && (p == data::kNoProduct || !measured[p])) continue;
        const double x = ev.revenue()[e];
        bought[c] = 1;
        revenue[c] += x;
        if (ev.channel()[e] == static_cast<uint8_t>(data::Channel::kOnline)) online[c] += x;
        if (ev.channel()[e] == static_cast<uint8_t>(data::Channel::kOffline)) offline[c] += x;
      }
    }
    std::vector<int64_t> redemptions(n, 0);
    for (const Redemption& red : in.redemptions) {
      if (red.campaign_id != campaign.id) continue;
      if (auto c = customers.Find(red.customer)) ++redemptions[*c];
    }
    GroupValues values[2];
    for (uint32_t c = 0; c < n; ++c) {
      const int g = targeted[c] ? 0 : 1;
      ObservedGroup& group = targeted[c] ? r.targeted : r.not_targeted;
      GroupStats& s = group.purchases;
      ++s.customers;
      s.buyers += bought[c];
      s.online_buyers += online[c] > 0;
      s.offline_buyers += offline[c] > 0;
      s.revenue += revenue[c];
      s.online_revenue += online[c];
      s.offline_revenue += offline[c];
      values[g][0].push_back(revenue[c]);
      values[g][1].push_back(online[c]);
      values[g][2].push_back(offline[c]);
      group.redeemers += redemptions[c] > 0;
      group.redemptions += redemptions[c];
    }
    r.difference =
        MeasureUplift(values[0], values[1], r.targeted.purchases, r.not_targeted.purchases, options.confidence);
    if (r.difference.measurable) {
      const Interval d =
          NewcombeDifference(r.targeted.redeemers, r.targeted.purchases.customers, r.not_targeted.redeemers,
                             r.not_targeted.purchases.customers, options.confidence);
      const double scale = static_cast<double>(r.targeted.purchases.customers);
      r.redeemer_difference = {d.estimate * scale, d.low * scale, d.high * scale};
    }
    if (r.targeted_unknown > 0) {
      report.warnings.push_back(
          fmt::format("campaign {}: {} targeted customers are not in the dataset", campaign.id, r.targeted_unknown));
    }
    report.campaigns.push_back(std::move(r));
  }
  return report;
}

std::string ObservationalJson(const ObservationalReport& report, const OutputOptions& options) {
  json j;
  j["format"] = "cohortflow-campaign-report";
  j["kind"] = "observational";
  j["label"] = kObservationalLabel;
  j["causal"] = false;
  j["campaigns_dir"] = report.dir;
  j["currency"] = options.currency;
  j["confidence"] = report.confidence;
  j["methods"] =
      "Targeted customers (campaigns.csv) against every other customer of the dataset, over the campaign's dates "
      "(start_date to end_date, both included). The groups were not drawn at random: the differences mix the "
      "campaign's effect with how customers were chosen. Intervals: Newcombe for rates, Welch for revenue, scaled to "
      "the targeted customers.";
  json campaigns = json::array();
  for (const ObservedResult& r : report.campaigns) {
    const bool m = r.difference.measurable;
    campaigns.push_back({{"name", r.campaign.id},
                         {"campaign_id", r.campaign.id},
                         {"campaign_type", r.campaign.type},
                         {"start_date", r.campaign.start_date},
                         {"end_date", r.campaign.end_date},
                         {"label", kObservationalLabel},
                         {"measured", r.measured},
                         {"targeted", GroupJson(r.targeted)},
                         {"not_targeted", GroupJson(r.not_targeted)},
                         {"targeted_not_in_dataset", r.targeted_unknown},
                         {"difference_buyers", IntervalJson(r.difference.buyers, m)},
                         {"difference_revenue", IntervalJson(r.difference.revenue, m)},
                         {"difference_coupon_redeemers", IntervalJson(r.redeemer_difference, m)}});
  }
  j["campaigns"] = std::move(campaigns);
  j["warnings"] = report.warnings;
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string ObservationalHtml(const ObservationalReport& report, const OutputOptions& options) {
  report::HtmlPage page("Campaign report: targeted against not targeted (observational, not causal)");
  page.Paragraph(
      "Observational, not causal. These campaigns had no holdout: targeted customers are compared with every other "
      "customer of the dataset over each campaign's dates. Whoever chose the targets chose them for a reason, so a "
      "difference here mixes what the campaign did with who was chosen; it is not the campaign's effect. Coupon "
      "redemptions are a second measure.");
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> names;
  report::Series targeted{"targeted", {}}, other{"not targeted", {}};
  double max_rate = 0;
  for (const ObservedResult& r : report.campaigns) {
    const GroupStats& t = r.targeted.purchases;
    const GroupStats& o = r.not_targeted.purchases;
    auto rate = [](int64_t a, int64_t b) { return b > 0 ? fmt::format("{:.1f}%", 100.0 * a / b) : std::string("–"); };
    const bool m = r.difference.measurable;
    rows.push_back(
        {r.campaign.id, r.campaign.type, r.campaign.start_date + " .. " + r.campaign.end_date, r.measured,
         FormatCount(static_cast<double>(t.customers)), rate(t.buyers, t.customers),
         FormatCount(static_cast<double>(o.customers)), rate(o.buyers, o.customers),
         m ? fmt::format("{} ({} to {})", FormatCount(r.difference.buyers.estimate, true),
                         FormatCount(r.difference.buyers.low, true), FormatCount(r.difference.buyers.high, true))
           : "–",
         m ? fmt::format("{} ({} to {})", FormatMoney(r.difference.revenue.estimate, options.currency, true),
                         FormatMoney(r.difference.revenue.low, options.currency, true),
                         FormatMoney(r.difference.revenue.high, options.currency, true))
           : "–",
         fmt::format("{} / {}", r.targeted.redeemers, r.targeted.redemptions),
         fmt::format("{} / {}", r.not_targeted.redeemers, r.not_targeted.redemptions)});
    names.push_back(r.campaign.id);
    const double tr = t.customers ? 100.0 * t.buyers / t.customers : 0.0;
    const double orate = o.customers ? 100.0 * o.buyers / o.customers : 0.0;
    targeted.points.emplace_back(static_cast<double>(names.size() - 1), tr);
    other.points.emplace_back(static_cast<double>(names.size() - 1), orate);
    max_rate = std::max({max_rate, tr, orate});
  }
  page.Heading("Targeted against not targeted (observational, not causal)");
  page.Table({"campaign", "type", "dates", "measured", "targeted", "targeted buyer rate", "not targeted",
              "not targeted buyer rate", "difference in buyers (CI)", "difference in revenue (CI)",
              "targeted coupon redeemers / redemptions", "not targeted redeemers / redemptions"},
             rows);
  if (!names.empty()) {
    report::ChartOptions co;
    co.title = "Buyer rate, targeted and not targeted (observational, not causal)";
    co.x_label = "campaign";
    co.y_label = "% buyers";
    co.y_max = max_rate > 0 ? max_rate * 1.1 : 1.0;
    co.width = std::max(560, static_cast<int>(names.size()) * 40);
    page.Raw(report::BarChart(co, names, {targeted, other}));
  }
  if (!report.warnings.empty()) {
    page.Heading("Warnings");
    for (const std::string& w : report.warnings) page.Paragraph(w);
  }
  return page.Render();
}

}  // namespace cf::analytics
