#include "analytics/report_output.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/time.h"
#include "report/html.h"
#include "report/svg.h"

namespace cf::analytics {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kMethods =
    "Incremental buyers: Newcombe's hybrid score interval (Wilson intervals of each group's buyer rate, combined by "
    "square and add), scaled to the treated customers. Incremental revenue: Welch's t interval for the difference of "
    "mean revenue per customer, the holdout's variance estimated from both groups pooled, scaled likewise. Whole plan: "
    "the campaigns' estimates add and their interval sides add in squares (independent holdouts). See "
    "docs/analytics.md.";
constexpr std::string_view kLastTouchLabel =
    "secondary: each purchase of an offer product goes to the treated campaign with the latest send date whose "
    "window holds it; not causal, the holdout comparison above is the measure";

// A JSON number: NaN and infinities (an empty group) become null.
json Number(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

json GroupJson(const GroupStats& g) {
  const double n = static_cast<double>(g.customers);
  return {{"customers", g.customers},
          {"buyers", g.buyers},
          {"revenue", g.revenue},
          {"online_revenue", g.online_revenue},
          {"offline_revenue", g.offline_revenue},
          {"online_buyers", g.online_buyers},
          {"offline_buyers", g.offline_buyers},
          {"buyer_rate", g.customers > 0 ? json(static_cast<double>(g.buyers) / n) : json(nullptr)},
          {"revenue_per_customer", g.customers > 0 ? json(g.revenue / n) : json(nullptr)}};
}

json IntervalJson(const Interval& i, bool measurable) {
  if (!measurable) {
    return {{"estimate", nullptr}, {"ci_low", nullptr}, {"ci_high", nullptr}, {"significant", false}};
  }
  return {{"estimate", Number(i.estimate)},
          {"ci_low", Number(i.low)},
          {"ci_high", Number(i.high)},
          {"significant", i.ExcludesZero()}};
}

void UpliftJson(const Uplift& u, json* out) {
  (*out)["incremental_buyers"] = IntervalJson(u.buyers, u.measurable);
  (*out)["incremental_revenue"] = IntervalJson(u.revenue, u.measurable);
  (*out)["incremental_online_revenue"] = IntervalJson(u.online_revenue, u.measurable);
  (*out)["incremental_offline_revenue"] = IntervalJson(u.offline_revenue, u.measurable);
  (*out)["significant"] = u.measurable && u.buyers.ExcludesZero();
  (*out)["revenue_significant"] = u.measurable && u.revenue.ExcludesZero();
}

json DecilesJson(const std::array<DecileRow, kDeciles>& deciles) {
  json out = json::array();
  for (const DecileRow& d : deciles) {
    out.push_back({{"decile", d.decile},
                   {"treated_customers", d.treated_customers},
                   {"predicted_buyers", d.predicted_buyers},
                   {"treated_buyers", d.treated_buyers},
                   {"holdout_customers", d.holdout_customers},
                   {"holdout_buyers", d.holdout_buyers}});
  }
  return out;
}

json OutcomesJson(const std::array<int64_t, kOutcomes>& outcomes) {
  json out = json::object();
  for (int o = 0; o < kOutcomes; ++o) out[std::string(OutcomeName(static_cast<Outcome>(o)))] = outcomes[o];
  return out;
}

std::string Grouped(double rounded_abs, int decimals) {
  std::string digits = fmt::format("{:.{}f}", rounded_abs, decimals);
  const size_t dot = digits.find('.');
  std::string whole = digits.substr(0, dot);
  std::string out;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) out += ',';
    out += whole[i];
  }
  return dot == std::string::npos ? out : out + digits.substr(dot);
}

bool IsCode(const std::string& currency) {
  return !currency.empty() && std::all_of(currency.begin(), currency.end(), [](char c) { return std::isalpha(c); });
}

std::string Percent(double share) { return fmt::format("{:.1f}%", 100.0 * share); }

std::string Rate(int64_t part, int64_t whole) {
  return whole > 0 ? Percent(static_cast<double>(part) / static_cast<double>(whole)) : "–";
}

std::string CountInterval(const Interval& i, bool measurable) {
  if (!measurable) return "–";
  return fmt::format("{} ({} to {})", FormatCount(i.estimate, true), FormatCount(i.low, true),
                     FormatCount(i.high, true));
}

// The largest magnitude of an interval's amounts: they are shown with one precision.
double Scale(const Interval& i) { return std::max({std::fabs(i.estimate), std::fabs(i.low), std::fabs(i.high)}); }

std::string MoneyInterval(const Interval& i, bool measurable, const std::string& currency) {
  if (!measurable) return "–";
  const double like = Scale(i);
  return fmt::format("{} ({} to {})", FormatMoney(i.estimate, currency, true, like),
                     FormatMoney(i.low, currency, true, like), FormatMoney(i.high, currency, true, like));
}

}  // namespace

Status OutputOptions::Validate() const {
  if (currency.empty() || currency.size() > 8) {
    return Status::InvalidArgument(fmt::format(
        "currency: '{}' is not valid; expected a symbol (€, $, £) or a code (EUR, USD) of 1 to 8 bytes", currency));
  }
  return Status::OK();
}

std::string FormatCount(double count, bool sign) {
  const double r = std::round(count);
  const std::string body = Grouped(std::fabs(r), 0);
  if (r < 0) return "-" + body;
  return (sign && r > 0 ? "+" : "") + body;
}

std::string FormatMoney(double amount, const std::string& currency, bool sign, double like) {
  // Cents only where they matter: small amounts.
  const int decimals = std::max(std::fabs(amount), std::fabs(like)) < 100 ? 2 : 0;
  const double scale = decimals == 2 ? 100.0 : 1.0;
  const double r = std::round(amount * scale) / scale;
  const std::string body = Grouped(std::fabs(r), decimals);
  const std::string money = IsCode(currency) ? body + " " + currency : currency + body;
  if (r < 0) return "-" + money;
  return (sign && r > 0 ? "+" : "") + money;
}

std::string Headline(const CampaignResult& r, double confidence, const OutputOptions& options) {
  const Uplift& u = r.uplift;
  if (!u.measurable) {
    return fmt::format("Not measurable: {} treated and {} holdout customers (both are needed).",
                       FormatCount(static_cast<double>(r.treated.customers)),
                       FormatCount(static_cast<double>(r.holdout.customers)));
  }
  const double like = Scale(u.revenue);
  std::string text =
      fmt::format("{} buyers ({:.0f}% CI {} to {}), {} revenue ({} to {})", FormatCount(u.buyers.estimate, true),
                  100 * confidence, FormatCount(u.buyers.low), FormatCount(u.buyers.high),
                  FormatMoney(u.revenue.estimate, options.currency, true, like),
                  FormatMoney(u.revenue.low, options.currency, false, like),
                  FormatMoney(u.revenue.high, options.currency, false, like));
  // The stores' share is meaningful only when both parts of a positive lift are positive.
  const double on = u.online_revenue.estimate, off = u.offline_revenue.estimate;
  if (u.revenue.estimate > 0 && on >= 0 && off >= 0 && on + off > 0) {
    text += fmt::format(", {:.0f}% of it in stores", 100.0 * off / (on + off));
  }
  text += u.buyers.ExcludesZero() ? "." : " — not significant: the buyers' interval includes 0.";
  return text;
}

std::string ReportJson(const CampaignReport& report, const OutputOptions& options) {
  json j;
  j["format"] = "cohortflow-campaign-report";
  j["kind"] = "holdout";
  j["plan"] = report.plan;
  j["currency"] = options.currency;
  j["confidence"] = report.confidence;
  j["methods"] = kMethods;
  json campaigns = json::array();
  for (const CampaignResult& r : report.campaigns) {
    json c;
    c["name"] = r.campaign.name;
    c["cohort_id"] = r.campaign.cohort_id;
    c["offer"] = r.campaign.offer;
    c["channel"] = r.campaign.channel;
    c["send_date"] = r.campaign.send_date;
    c["window_days"] = r.window_days;
    c["window"] = {{"start", FormatIsoTime(r.window_start)}, {"end", FormatIsoTime(r.window_end)}};
    c["treated"] = GroupJson(r.treated);
    c["holdout"] = GroupJson(r.holdout);
    UpliftJson(r.uplift, &c);
    c["predicted_buyers"] = r.predicted_buyers;
    c["headline"] = Headline(r, report.confidence, options);
    json sends = OutcomesJson(r.outcomes);
    sends["unmatched"] = r.unmatched_records;
    sends["sent_to_holdout"] = r.sent_to_holdout;
    sends["sent_outside_plan"] = r.sent_outside_plan;
    c["sends"] = sends;
    c["deciles"] = DecilesJson(r.deciles);
    c["last_touch"] = {{"buyers", r.last_touch_buyers}, {"revenue", r.last_touch_revenue}};
    campaigns.push_back(std::move(c));
  }
  j["campaigns"] = std::move(campaigns);
  json total;
  total["campaigns"] = report.campaigns.size();
  total["treated"] = GroupJson(report.treated);
  total["holdout"] = GroupJson(report.holdout);
  UpliftJson(report.uplift, &total);
  total["predicted_buyers"] = report.predicted_buyers;
  total["sends"] = OutcomesJson(report.outcomes);
  total["deciles"] = DecilesJson(report.deciles);
  j["total"] = std::move(total);
  json messages = json::object();
  for (const auto& [n, customers] : report.messages_per_customer) messages[std::to_string(n)] = customers;
  j["messages_per_customer"] = std::move(messages);
  json last_touch = {{"label", kLastTouchLabel}, {"campaigns", json::array()}};
  for (const CampaignResult& r : report.campaigns) {
    last_touch["campaigns"].push_back(
        {{"name", r.campaign.name}, {"buyers", r.last_touch_buyers}, {"revenue", r.last_touch_revenue}});
  }
  j["last_touch_attribution"] = std::move(last_touch);
  j["purchases"] = {{"rows", report.purchases},
                    {"unknown_customer", report.purchases_unknown_customer},
                    {"unknown_product", report.purchases_unknown_product}};
  j["warnings"] = report.warnings;
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string ReportHtml(const CampaignReport& report, const OutputOptions& options) {
  const std::string& cur = options.currency;
  report::HtmlPage page("Campaign report: " + report.plan);
  const int level = static_cast<int>(std::lround(100 * report.confidence));
  page.Paragraph(fmt::format(
      "What each campaign of the plan earned: customers who received the message (treated) against the plan's "
      "holdout for that campaign, counting purchases of the campaign's offer, online and in stores, within the "
      "channel's window from the send date. Intervals are {}% confidence intervals.",
      level));
  page.Heading("Headlines");
  for (const CampaignResult& r : report.campaigns) {
    page.Heading(r.campaign.name, 3);
    page.Paragraph(Headline(r, report.confidence, options));
  }
  if (report.uplift.measurable) {
    page.Heading("Whole plan", 3);
    std::string total = fmt::format(
        "{} buyers ({}% CI {} to {}), {} revenue ({} to {}) over {} campaigns.",
        FormatCount(report.uplift.buyers.estimate, true), level, FormatCount(report.uplift.buyers.low),
        FormatCount(report.uplift.buyers.high),
        FormatMoney(report.uplift.revenue.estimate, cur, true, Scale(report.uplift.revenue)),
        FormatMoney(report.uplift.revenue.low, cur, false, Scale(report.uplift.revenue)),
        FormatMoney(report.uplift.revenue.high, cur, false, Scale(report.uplift.revenue)), report.campaigns.size());
    page.Paragraph(total);
  }

  page.Heading("Treated against holdout");
  std::vector<std::vector<std::string>> rows;
  auto uplift_row = [&](const std::string& name, const std::string& channel, const std::string& window,
                        const GroupStats& t, const GroupStats& h, const Uplift& u) {
    rows.push_back({name, channel, window, FormatCount(static_cast<double>(t.customers)),
                    FormatCount(static_cast<double>(h.customers)), Rate(t.buyers, t.customers),
                    Rate(h.buyers, h.customers), CountInterval(u.buyers, u.measurable),
                    MoneyInterval(u.revenue, u.measurable, cur), MoneyInterval(u.online_revenue, u.measurable, cur),
                    MoneyInterval(u.offline_revenue, u.measurable, cur),
                    u.measurable ? (u.buyers.ExcludesZero() ? "yes" : "no") : "–"});
  };
  for (const CampaignResult& r : report.campaigns) {
    uplift_row(r.campaign.name, r.campaign.channel, fmt::format("{} + {} d", r.campaign.send_date, r.window_days),
               r.treated, r.holdout, r.uplift);
  }
  uplift_row("whole plan", "", "", report.treated, report.holdout, report.uplift);
  page.Table({"campaign", "channel", "window", "treated", "holdout", "treated buyer rate", "holdout buyer rate",
              "incremental buyers (CI)", "incremental revenue (CI)", "of it online", "of it in stores", "significant"},
             rows);

  std::vector<std::string> names;
  report::Series treated_rate{"treated", {}}, holdout_rate{"holdout", {}};
  report::Series online{"online", {}}, offline{"in stores", {}};
  double max_rate = 0, max_rev = 0;
  for (size_t i = 0; i < report.campaigns.size(); ++i) {
    const CampaignResult& r = report.campaigns[i];
    names.push_back(r.campaign.name);
    const double t = r.treated.customers ? 100.0 * r.treated.buyers / r.treated.customers : 0.0;
    const double h = r.holdout.customers ? 100.0 * r.holdout.buyers / r.holdout.customers : 0.0;
    treated_rate.points.emplace_back(static_cast<double>(i), t);
    holdout_rate.points.emplace_back(static_cast<double>(i), h);
    const double on = r.uplift.measurable ? r.uplift.online_revenue.estimate : 0.0;
    const double off = r.uplift.measurable ? r.uplift.offline_revenue.estimate : 0.0;
    online.points.emplace_back(static_cast<double>(i), std::max(0.0, on));
    offline.points.emplace_back(static_cast<double>(i), std::max(0.0, off));
    max_rate = std::max({max_rate, t, h});
    max_rev = std::max({max_rev, on, off});
  }
  if (!names.empty()) {
    report::ChartOptions co;
    co.title = "Buyers of the offer in the window (% of the group)";
    co.x_label = "campaign";
    co.y_label = "% buyers";
    co.y_max = max_rate > 0 ? max_rate * 1.1 : 1.0;
    co.width = std::max(560, static_cast<int>(names.size()) * 70);
    page.Raw(report::BarChart(co, names, {treated_rate, holdout_rate}));
    co.title = "Incremental revenue, online and in stores (" + cur + ")";
    co.y_label = "incremental revenue";
    co.y_max = max_rev > 0 ? max_rev * 1.1 : 1.0;
    page.Raw(report::BarChart(co, names, {online, offline}));
    page.Paragraph("Negative estimates are drawn as 0; the table gives them.");
  }

  page.Heading("Did the model rank well? Buyers by model score decile (whole plan)");
  page.Paragraph(
      "Decile 1 is the best tenth of each campaign's audience by the model's value. Predicted buyers are the sum of "
      "the plan's probabilities of the treated customers, over the model's horizon; realized buyers are counted in the "
      "channel's window, which may be shorter.");
  std::vector<std::vector<std::string>> decile_rows;
  report::Series treated_dec{"treated buyer rate", {}}, holdout_dec{"holdout buyer rate", {}};
  report::Series predicted_dec{"predicted (plan)", {}};
  double max_dec = 0;
  std::vector<std::string> decile_names;
  for (const DecileRow& d : report.deciles) {
    decile_rows.push_back(
        {std::to_string(d.decile), FormatCount(static_cast<double>(d.treated_customers)),
         fmt::format("{:.1f}", d.predicted_buyers), FormatCount(static_cast<double>(d.treated_buyers)),
         Rate(d.treated_buyers, d.treated_customers), FormatCount(static_cast<double>(d.holdout_customers)),
         FormatCount(static_cast<double>(d.holdout_buyers)), Rate(d.holdout_buyers, d.holdout_customers)});
    decile_names.push_back(std::to_string(d.decile));
    const double x = d.decile - 1;
    const double t = d.treated_customers ? 100.0 * d.treated_buyers / d.treated_customers : 0.0;
    const double h = d.holdout_customers ? 100.0 * d.holdout_buyers / d.holdout_customers : 0.0;
    const double p = d.treated_customers ? 100.0 * d.predicted_buyers / d.treated_customers : 0.0;
    treated_dec.points.emplace_back(x, t);
    holdout_dec.points.emplace_back(x, h);
    predicted_dec.points.emplace_back(x, p);
    max_dec = std::max({max_dec, t, h, p});
  }
  page.Table({"decile", "treated", "predicted buyers", "realized buyers", "treated buyer rate", "holdout",
              "holdout buyers", "holdout buyer rate"},
             decile_rows);
  report::ChartOptions dc;
  dc.title = "Buyer rate by model score decile";
  dc.x_label = "decile (1 = best)";
  dc.y_label = "% buyers";
  dc.y_max = max_dec > 0 ? max_dec * 1.1 : 1.0;
  page.Raw(report::BarChart(dc, decile_names, {predicted_dec, treated_dec, holdout_dec}));

  page.Heading("Buyer rate by decile, per campaign (treated / holdout)");
  std::vector<std::vector<std::string>> per_campaign;
  for (const CampaignResult& r : report.campaigns) {
    std::vector<std::string> row = {r.campaign.name};
    for (const DecileRow& d : r.deciles) {
      row.push_back(Rate(d.treated_buyers, d.treated_customers) + " / " + Rate(d.holdout_buyers, d.holdout_customers));
    }
    per_campaign.push_back(std::move(row));
  }
  std::vector<std::string> decile_header = {"campaign"};
  for (int d = 1; d <= kDeciles; ++d) decile_header.push_back("decile " + std::to_string(d));
  page.Table(decile_header, per_campaign);

  page.Heading("Predicted against realized buyers, per campaign");
  std::vector<std::vector<std::string>> calib_rows;
  for (const CampaignResult& r : report.campaigns) {
    calib_rows.push_back({r.campaign.name, fmt::format("{:.1f}", r.predicted_buyers),
                          FormatCount(static_cast<double>(r.treated.buyers)),
                          r.predicted_buyers > 0 ? fmt::format("{:.2f}", r.treated.buyers / r.predicted_buyers) : "–"});
  }
  page.Table({"campaign", "predicted buyers", "realized buyers", "realized / predicted"}, calib_rows);

  page.Heading("Sends");
  page.Paragraph(
      "Engage's send records per outcome: sent, control (engage's own control group), capped (the workspace's "
      "frequency cap), not_opted_in (the customer is not subscribed to the channel), failed (the delivery adapter "
      "could not deliver). Unmatched records name no customer of the dataset.");
  std::vector<std::vector<std::string>> send_rows;
  for (const CampaignResult& r : report.campaigns) {
    std::vector<std::string> row = {r.campaign.name};
    for (int o = 0; o < kOutcomes; ++o) row.push_back(FormatCount(static_cast<double>(r.outcomes[o])));
    row.push_back(FormatCount(static_cast<double>(r.unmatched_records)));
    send_rows.push_back(std::move(row));
  }
  page.Table({"campaign", "sent", "control", "capped", "not opted in", "failed", "unmatched"}, send_rows);

  page.Heading("Messages per customer over the plan");
  std::vector<std::vector<std::string>> msg_rows;
  for (const auto& [n, customers] : report.messages_per_customer) {
    msg_rows.push_back({std::to_string(n), FormatCount(static_cast<double>(customers))});
  }
  page.Paragraph(
      "Customers the plan allocated (or engage sent to), by the number of the plan's messages they received.");
  page.Table({"messages", "customers"}, msg_rows);

  page.Heading("Last-touch attribution (secondary)");
  page.Paragraph(std::string("Secondary table — ") + std::string(kLastTouchLabel) + ".");
  std::vector<std::vector<std::string>> lt_rows;
  for (const CampaignResult& r : report.campaigns) {
    lt_rows.push_back({r.campaign.name, FormatCount(static_cast<double>(r.last_touch_buyers)),
                       FormatMoney(r.last_touch_revenue, cur)});
  }
  page.Table({"campaign", "buyers (last touch)", "revenue (last touch)"}, lt_rows);

  page.Heading("Method");
  page.Paragraph(std::string(kMethods));
  if (!report.warnings.empty()) {
    page.Heading("Warnings");
    for (const std::string& w : report.warnings) page.Paragraph(w);
  }
  return page.Render();
}

}  // namespace cf::analytics
