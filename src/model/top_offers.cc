#include "model/top_offers.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "base/strings.h"
#include "model/parallel.h"
#include "offer/offer.h"

namespace cf::model {
namespace {

// "offer 3 ('Soft drinks')": how errors point at an offer of the file (1-based, as a reader counts).
std::string OfferLabel(size_t index, std::string_view name) {
  return name.empty() ? fmt::format("offer {}", index + 1) : fmt::format("offer {} ({})", index + 1, Quote(name));
}

// True when `a` should come before `b` in a customer's slots.
bool Better(const TopOffer& a, const TopOffer& b, TopOffersOrder order) {
  const double ka = order == TopOffersOrder::kExpectedRevenue ? a.expected_revenue : a.probability;
  const double kb = order == TopOffersOrder::kExpectedRevenue ? b.expected_revenue : b.probability;
  if (ka != kb) {
    return ka > kb;
  }
  return a.offer < b.offer;  // ties keep the file's order
}

}  // namespace

Result<std::vector<NamedOffer>> ParseOffers(std::string_view json, std::string_view source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    return Err(Status::InvalidArgument(fmt::format("{}: not valid JSON ({})", source, e.what())));
  }
  if (!j.is_array()) {
    return Err(Status::InvalidArgument(
        fmt::format("{}: expected a JSON array of offers [{{\"name\": ..., \"offer\": ...}}, ...], found a {}", source,
                    j.type_name())));
  }
  if (j.empty() || j.size() > kMaxOffers) {
    return Err(
        Status::InvalidArgument(fmt::format("{}: holds {} offers; expected 1 to {}", source, j.size(), kMaxOffers)));
  }
  std::vector<NamedOffer> offers;
  std::set<std::string> names;
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& o = j[i];
    if (!o.is_object()) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: {}: expected an object {{\"name\": ..., \"offer\": ...}}, found a {}", source,
                      OfferLabel(i, ""), o.type_name())));
    }
    const std::string name = o.contains("name") && o["name"].is_string() ? o["name"].get<std::string>() : "";
    const std::string label = OfferLabel(i, name);
    for (const auto& [key, value] : o.items()) {
      if (key != "name" && key != "offer") {
        return Err(Status::InvalidArgument(
            fmt::format("{}: {}: unknown field {}; expected \"name\" and \"offer\"", source, label, Quote(key))));
      }
    }
    if (!o.contains("name") || !o["name"].is_string() || Trim(name).empty()) {
      return Err(
          Status::InvalidArgument(fmt::format("{}: {}: field \"name\" must be a non-empty string", source, label)));
    }
    if (!o.contains("offer") || !o["offer"].is_string() || Trim(o["offer"].get<std::string>()).empty()) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: {}: field \"offer\" must be an offer expression such as \"category = \\\"SOFT DRINKS\\\"\"",
                      source, label)));
    }
    if (!names.insert(name).second) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: {}: the name is used by an earlier offer; names must be unique", source, label)));
    }
    offers.push_back(NamedOffer{name, o["offer"].get<std::string>()});
  }
  return offers;
}

Result<std::vector<offer::ProductSet>> CompileOffers(const std::vector<NamedOffer>& offers,
                                                     const data::Catalog& catalog, std::string_view source) {
  std::vector<offer::ProductSet> sets;
  sets.reserve(offers.size());
  for (size_t i = 0; i < offers.size(); ++i) {
    auto set = offer::CompileOffer(offers[i].expression, catalog);
    if (!set.has_value()) {
      return Err(set.error().WithPrefix(fmt::format("{}: {}", source, OfferLabel(i, offers[i].name))));
    }
    sets.push_back(*std::move(set));
  }
  return sets;
}

Status TopOffersOptions::Validate() const {
  if (top < 1 || top > kMaxOffers) {
    return Status::InvalidArgument(fmt::format("top must be between 1 and {} offers, got {}", kMaxOffers, top));
  }
  if (!(min_probability >= 0 && min_probability <= 1)) {
    return Status::InvalidArgument(
        fmt::format("min_probability must be a probability in [0, 1], got {}", min_probability));
  }
  return Status::OK();
}

Result<TopOffers> ComputeTopOffers(const UniversalModel& model, const HistoryView& history,
                                   std::span<const offer::ProductSet> offers, std::span<const uint32_t> customers,
                                   const TopOffersOptions& options) {
  CF_RETURN_IF_ERROR(options.Validate());
  if (offers.empty() || offers.size() > kMaxOffers) {
    return Err(
        Status::InvalidArgument(fmt::format("offers: expected 1 to {} offers, got {}", kMaxOffers, offers.size())));
  }
  TopOffers out;
  out.top = std::min(options.top, offers.size());
  out.slots.resize(customers.size() * out.top);
  out.count.assign(customers.size(), 0);
  // One multi-offer call: what does not depend on the offer is computed once, and each
  // offer's scores are folded into the slots as soon as they are ready (memory holds one offer's).
  CF_RETURN_IF_ERROR(model.ScoreOffers(history, offers, customers, [&](size_t o, OfferScores scores) {
    ParallelFor(customers.size(), 0, [&](size_t, size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        const TopOffer candidate{static_cast<uint32_t>(o), scores.probability[i], scores.expected_revenue[i]};
        if (candidate.probability < options.min_probability) {
          continue;
        }
        // Insertion into the customer's sorted slots: at most 25 offers × a few slots.
        TopOffer* slots = &out.slots[i * out.top];
        size_t n = out.count[i];
        if (n == out.top && !Better(candidate, slots[n - 1], options.order)) {
          continue;
        }
        size_t k = n < out.top ? n : n - 1;
        while (k > 0 && Better(candidate, slots[k - 1], options.order)) {
          slots[k] = slots[k - 1];
          --k;
        }
        slots[k] = candidate;
        out.count[i] = static_cast<uint8_t>(std::min(n + 1, out.top));
      }
    });
    return Status::OK();
  }));
  return out;
}

TopOffers GatherTopOffers(const Collective& shards, const TopOffers& mine) {
  std::vector<uint32_t> offer(mine.slots.size());
  std::vector<double> probability(mine.slots.size()), revenue(mine.slots.size());
  for (size_t k = 0; k < mine.slots.size(); ++k) {
    offer[k] = mine.slots[k].offer;
    probability[k] = mine.slots[k].probability;
    revenue[k] = mine.slots[k].expected_revenue;
  }
  const std::vector<uint32_t> count(mine.count.begin(), mine.count.end());
  offer = shards.GatherToRoot(std::span<const uint32_t>(offer));
  probability = shards.GatherToRoot(std::span<const double>(probability));
  revenue = shards.GatherToRoot(std::span<const double>(revenue));
  const std::vector<uint32_t> all_count = shards.GatherToRoot(std::span<const uint32_t>(count));
  TopOffers all;
  all.top = mine.top;
  all.slots.resize(offer.size());
  for (size_t k = 0; k < offer.size(); ++k) {
    all.slots[k] = TopOffer{offer[k], probability[k], revenue[k]};
  }
  all.count.assign(all_count.begin(), all_count.end());
  return all;
}

}  // namespace cf::model
