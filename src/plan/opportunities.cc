#include "plan/opportunities.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <thread>

#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "io/record_reader.h"
#include "model/levels.h"

namespace cf::plan {
namespace {

constexpr size_t kMaxTop = 100000;

// `by = "value"` in the offer grammar (a quote inside a value is doubled).
std::string OfferExpression(const std::string& by, const std::string& value) {
  std::string quoted;
  for (char c : value) {
    quoted += c;
    if (c == '"') {
      quoted += '"';
    }
  }
  return fmt::format("{} = \"{}\"", by, quoted);
}

double Growth(double recent, double previous) {
  return previous > 0 ? recent / previous - 1 : std::numeric_limits<double>::quiet_NaN();
}

// Buyers and revenue (lines ≥ 0) of every value of `level` in the two horizons before the
// cutoff, in one pass over the events of those windows.
struct ValueWindows {
  std::vector<double> buyers[2], revenue[2];  // [0]: [cutoff − H, cutoff); [1]: the H days before
};

ValueWindows MeasureValueWindows(const model::HistoryView& history, const model::Level& level, int horizon_days) {
  const size_t values = level.values.size();
  const int64_t horizon = static_cast<int64_t>(horizon_days) * kSecondsPerDay;
  const int64_t cutoff = history.cutoff();
  const uint32_t n = history.num_customers();
  const size_t threads = std::max<size_t>(1, std::min<size_t>(std::thread::hardware_concurrency(), n / 4096 + 1));
  std::vector<ValueWindows> parts(threads);
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ValueWindows& w = parts[t];
      std::vector<uint32_t> stamp[2];
      for (int k = 0; k < 2; ++k) {
        w.buyers[k].assign(values, 0);
        w.revenue[k].assign(values, 0);
        stamp[k].assign(values, UINT32_MAX);
      }
      for (uint32_t c = static_cast<uint32_t>(t * n / threads); c < (t + 1) * n / threads; ++c) {
        const model::CustomerEvents ev = history.Customer(c);
        const auto first = std::lower_bound(ev.time.begin(), ev.time.end(), cutoff - 2 * horizon);
        for (size_t k = static_cast<size_t>(first - ev.time.begin()); k < ev.size(); ++k) {
          if (ev.product[k] == data::kNoProduct) {
            continue;
          }
          const uint32_t g = level.code_of_product[ev.product[k]];
          const int window = ev.time[k] >= cutoff - horizon ? 0 : 1;
          if (stamp[window][g] != c) {
            stamp[window][g] = c;
            w.buyers[window][g] += 1;
          }
          w.revenue[window][g] += std::max(0.0f, ev.revenue[k]);
        }
      }
    });
  }
  for (std::thread& th : pool) {
    th.join();
  }
  ValueWindows total = std::move(parts[0]);
  for (size_t t = 1; t < parts.size(); ++t) {
    for (int k = 0; k < 2; ++k) {
      for (size_t g = 0; g < values; ++g) {
        total.buyers[k][g] += parts[t].buyers[k][g];
        total.revenue[k][g] += parts[t].revenue[k][g];
      }
    }
  }
  return total;
}

}  // namespace

Status OpportunityOptions::Validate() const {
  if (Trim(by).empty()) {
    return Status::InvalidArgument("by must name a product attribute (category, brand, department, ...)");
  }
  if (top < 1 || top > kMaxTop) {
    return Status::InvalidArgument(fmt::format("top must be between 1 and {} values, got {}", kMaxTop, top));
  }
  return Status::OK();
}

Result<PlannedReach> ReadPlannedReach(const std::string& plan_dir, const data::Customers& customers) {
  const std::string summary_path = plan_dir + "/summary.json";
  CF_ASSIGN_OR_RETURN(std::string text, ReadFile(summary_path));
  PlannedReach reach;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object() || !j.contains("campaigns") || !j["campaigns"].is_array()) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: expected an object with a \"campaigns\" array, as audience plan writes it", summary_path)));
    }
    const nlohmann::json& campaigns = j["campaigns"];
    for (size_t i = 0; i < campaigns.size(); ++i) {
      const nlohmann::json& c = campaigns[i];
      if (!c.is_object() || !c.contains("cohort_id") || !c["cohort_id"].is_string() ||
          c["cohort_id"].get<std::string>().empty()) {
        return Err(Status::InvalidArgument(
            fmt::format("{}: campaigns[{}]: field \"cohort_id\" must be a non-empty string", summary_path, i)));
      }
      PlannedReach::Campaign campaign;
      campaign.cohort_id = c["cohort_id"].get<std::string>();
      if (campaign.cohort_id.find_first_of("/\\") != std::string::npos || campaign.cohort_id == "." ||
          campaign.cohort_id == "..") {
        return Err(Status::InvalidArgument(fmt::format("{}: campaigns[{}]: cohort_id {} is not a file name",
                                                       summary_path, i, Quote(campaign.cohort_id))));
      }
      campaign.name = c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : campaign.cohort_id;
      campaign.offer = c.contains("offer") && c["offer"].is_string() ? c["offer"].get<std::string>() : "";
      reach.campaigns.push_back(std::move(campaign));
    }
  } catch (const nlohmann::json::exception& e) {
    return Err(Status::InvalidArgument(fmt::format("{}: not valid JSON ({})", summary_path, e.what())));
  }
  reach.reached.assign(customers.size(), 0);
  for (PlannedReach::Campaign& campaign : reach.campaigns) {
    io::SourceOptions source;
    source.path = plan_dir + "/campaigns/" + campaign.cohort_id + ".csv";
    source.format = "csv";
    CF_ASSIGN_OR_RETURN(std::unique_ptr<io::RecordReader> reader, io::RecordReader::Open(source));
    const int customer_column = reader->ColumnIndex("customer");
    const int holdout_column = reader->ColumnIndex("holdout");
    if (customer_column < 0 || holdout_column < 0) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: the header lacks the column {}; an audience file has columns customer and holdout",
                      source.path, customer_column < 0 ? "customer" : "holdout")));
    }
    io::Record record;
    while (true) {
      Result<bool> more = reader->Next(&record);
      if (!more.has_value()) {
        return Err(more.error());
      }
      if (!*more) {
        break;
      }
      const std::string_view id = record.fields[static_cast<size_t>(customer_column)];
      const std::string_view holdout = record.fields[static_cast<size_t>(holdout_column)];
      if (holdout != "0" && holdout != "1") {
        return Err(Status::InvalidArgument(
            fmt::format("{}:{}: column holdout: expected 0 or 1, found {}", source.path, record.line, Quote(holdout))));
      }
      const std::optional<uint32_t> c = customers.Find(id);
      if (!c.has_value()) {
        return Err(Status::InvalidArgument(
            fmt::format("{}:{}: column customer: {} is not a customer of this dataset (was the plan made on another?)",
                        source.path, record.line, Quote(id))));
      }
      if (holdout == "1") {
        ++campaign.holdout;
        continue;
      }
      ++campaign.treated;
      if (reach.reached[*c] == 0) {
        reach.reached[*c] = 1;
        ++reach.customers;
      }
    }
  }
  return reach;
}

Result<Opportunities> FindOpportunities(const model::UniversalModel& model, const data::Catalog& catalog,
                                        const model::HistoryView& history, const PlannedReach* plan,
                                        const OpportunityOptions& options) {
  CF_RETURN_IF_ERROR(options.Validate());
  const data::Attribute* attribute = catalog.FindAttribute(options.by);
  if (attribute == nullptr) {
    std::vector<std::string> valid;
    for (const data::Attribute& a : catalog.attributes()) {
      valid.push_back(a.name);
    }
    return Err(Status::InvalidArgument(
        fmt::format("by: {} is not a product attribute of the catalog; expected one of {}", Quote(options.by),
                    valid.empty() ? std::string("(none: the dataset has no product attributes)") : Join(valid, ", "))));
  }
  if (plan != nullptr && plan->reached.size() != history.num_customers()) {
    return Err(Status::InvalidArgument(fmt::format("plan: reaches a base of {} customers; the history has {}",
                                                   plan->reached.size(), history.num_customers())));
  }
  const std::vector<model::Level> levels = model::LevelsByName(catalog, {options.by});
  const model::Level& level = levels.front();
  // Every non-empty value is an offer (code 0 is the missing value).
  std::vector<uint32_t> codes;
  std::vector<offer::ProductSet> offers;
  for (uint32_t g = 1; g < level.values.size(); ++g) {
    std::vector<uint8_t> members(level.code_of_product.size(), 0);
    for (size_t p = 0; p < members.size(); ++p) {
      members[p] = level.code_of_product[p] == g ? 1 : 0;
    }
    offer::ProductSet set =
        offer::ProductSet::FromMembers(OfferExpression(options.by, level.values[g]), std::move(members));
    if (set.count > 0) {
      codes.push_back(g);
      offers.push_back(std::move(set));
    }
  }
  Opportunities out;
  out.by = options.by;
  out.horizon_days = model.horizon_days();
  out.as_of = history.cutoff();
  out.customers = history.num_customers();
  out.values = offers.size();
  out.with_plan = plan != nullptr;
  const ValueWindows windows = MeasureValueWindows(history, level, model.horizon_days());
  std::vector<uint32_t> customers(history.num_customers());
  std::iota(customers.begin(), customers.end(), 0u);
  std::vector<Opportunity> all(offers.size());
  CF_RETURN_IF_ERROR(model.ScoreOffers(history, offers, customers, [&](size_t k, model::OfferScores scores) {
    Opportunity& o = all[k];
    const uint32_t g = codes[k];
    o.value = level.values[g];
    o.offer = offers[k].name;
    o.products = offers[k].count;
    for (size_t i = 0; i < customers.size(); ++i) {
      o.expected_buyers += scores.probability[i];
      o.expected_revenue += scores.expected_revenue[i];
      if (plan != nullptr && plan->reached[i] != 0) {
        o.reached_buyers += scores.probability[i];
      }
    }
    o.recent_buyers = windows.buyers[0][g];
    o.recent_revenue = windows.revenue[0][g];
    o.previous_buyers = windows.buyers[1][g];
    o.previous_revenue = windows.revenue[1][g];
    o.buyer_growth = Growth(o.recent_buyers, o.previous_buyers);
    o.revenue_growth = Growth(o.recent_revenue, o.previous_revenue);
    if (plan != nullptr) {
      o.reached_share = o.expected_buyers > 0 ? o.reached_buyers / o.expected_buyers : 0;
      o.untapped_buyers = o.expected_buyers - o.reached_buyers;
    }
    return Status::OK();
  }));
  std::vector<size_t> order(all.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return options.order == OpportunityOrder::kExpectedRevenue ? all[a].expected_revenue > all[b].expected_revenue
                                                               : all[a].expected_buyers > all[b].expected_buyers;
  });
  order.resize(std::min(order.size(), options.top));
  for (size_t k : order) {
    out.ranked.push_back(std::move(all[k]));
  }
  return out;
}

namespace {
nlohmann::json GrowthJson(double g) { return std::isnan(g) ? nlohmann::json(nullptr) : nlohmann::json(g); }
}  // namespace

nlohmann::json OpportunitiesToJson(const Opportunities& o, const PlannedReach* reach) {
  nlohmann::json values = nlohmann::json::array();
  for (size_t r = 0; r < o.ranked.size(); ++r) {
    const Opportunity& v = o.ranked[r];
    nlohmann::json j = {{"rank", r + 1},
                        {"value", v.value},
                        {"offer", v.offer},
                        {"products", v.products},
                        {"expected_buyers", v.expected_buyers},
                        {"expected_revenue", v.expected_revenue},
                        {"recent_buyers", v.recent_buyers},
                        {"recent_revenue", v.recent_revenue},
                        {"previous_buyers", v.previous_buyers},
                        {"previous_revenue", v.previous_revenue},
                        {"buyer_growth", GrowthJson(v.buyer_growth)},
                        {"revenue_growth", GrowthJson(v.revenue_growth)}};
    if (o.with_plan) {
      j["reached_buyers"] = v.reached_buyers;
      j["reached_share"] = v.reached_share;
      j["untapped_buyers"] = v.untapped_buyers;
    }
    values.push_back(std::move(j));
  }
  nlohmann::json plan_json = nullptr;
  if (reach != nullptr) {
    nlohmann::json campaigns = nlohmann::json::array();
    for (const PlannedReach::Campaign& c : reach->campaigns) {
      campaigns.push_back({{"name", c.name},
                           {"cohort_id", c.cohort_id},
                           {"offer", c.offer},
                           {"treated", c.treated},
                           {"holdout", c.holdout}});
    }
    plan_json = {{"customers_reached", reach->customers}, {"campaigns", campaigns}};
  }
  return {{"by", o.by},
          {"horizon_days", o.horizon_days},
          {"as_of", FormatIsoTime(o.as_of)},
          {"customers", o.customers},
          {"values", o.values},
          {"plan", plan_json},
          {"opportunities", values}};
}

}  // namespace cf::plan
