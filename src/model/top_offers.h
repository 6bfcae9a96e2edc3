// Top offers per customer: for every customer, the best N of up to kMaxOffers named offers by
// expected revenue (or probability) under the universal model — the per-customer view a
// marketer uses to fill a newsletter's slots.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/collective.h"
#include "base/status.h"
#include "data/dataset.h"
#include "model/event_log.h"
#include "model/universal.h"
#include "offer/product_set.h"

namespace cf::model {

inline constexpr size_t kMaxOffers = 25;  // a newsletter's choice, not a catalog: more is an input error

// One offer of an offers file: a name the marketer chose and the offer expression.
struct NamedOffer {
  std::string name;        // non-empty, unique within the file
  std::string expression;  // an offer expression (docs/model.md), e.g. category = "SOFT DRINKS"
};

// Parses an offers file: a JSON array of 1..kMaxOffers objects {"name": ..., "offer": ...}.
// `source` names the file in errors, which also name the offer (its position and name).
Result<std::vector<NamedOffer>> ParseOffers(std::string_view json, std::string_view source);

// Compiles every offer against the catalog; an offer that does not compile or matches no
// product is an error naming it.
Result<std::vector<offer::ProductSet>> CompileOffers(const std::vector<NamedOffer>& offers,
                                                     const data::Catalog& catalog, std::string_view source);

enum class TopOffersOrder { kExpectedRevenue, kProbability };

struct TopOffersOptions {
  size_t top = 4;                                           // slots per customer, 1..kMaxOffers
  double min_probability = 0;                               // offers below this are never chosen, [0, 1]
  TopOffersOrder order = TopOffersOrder::kExpectedRevenue;  // what "best" means
  Status Validate() const;
};

struct TopOffer {
  uint32_t offer = 0;  // index into the offers given
  double probability = 0;
  double expected_revenue = 0;
};

// The chosen offers of each customer, best first: slot k of customer i is
// slots[i * top + k] for k < count[i] (fewer than `top` when min_probability leaves out more).
struct TopOffers {
  size_t top = 0;
  std::vector<TopOffer> slots;
  std::vector<uint8_t> count;
  std::span<const TopOffer> Of(size_t i) const { return {slots.data() + i * top, count[i]}; }
};

// Scores every offer for `customers` with the model and keeps each customer's best
// options.top, through UniversalModel::ScoreOffers (the offer-independent work is done once
// for all offers); ties keep the order of `offers`.
Result<TopOffers> ComputeTopOffers(const UniversalModel& model, const HistoryView& history,
                                   std::span<const offer::ProductSet> offers, std::span<const uint32_t> customers,
                                   const TopOffersOptions& options);

// Every process's TopOffers (each of its own part of the customers, the parts contiguous and
// in rank order), concatenated in rank order, on rank 0; the other processes get no slots.
TopOffers GatherTopOffers(const Collective& shards, const TopOffers& mine);

}  // namespace cf::model
