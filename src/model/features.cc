#include "model/features.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>

#include "base/strings.h"
#include "base/time.h"
#include "model/levels.h"
#include "model/parallel.h"
#include "model/signals.h"

namespace cf::model {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr size_t kSumBlock = FeatureBuilder::kPartBlock;  // customers per partial sum
constexpr size_t kRowChunk = 16384;   // rows per chunk handed to the sink: a few MB, reused
constexpr size_t kLevelFeatures = 3;  // count, recency, decay per level
constexpr uint32_t kNoSlot = FeatureBuilder::kNotInPopulation;

double Days(int64_t seconds) { return static_cast<double>(seconds) / kSecondsPerDay; }
int64_t DayOf(int64_t t) { return t >= 0 ? t / kSecondsPerDay : (t - kSecondsPerDay + 1) / kSecondsPerDay; }

using CustomerFacts = FeatureBuilder::CustomerFacts;

// The windows of every block of every process, added in block order.
OfferWindows SumWindows(const Collective* shards, std::span<const OfferWindows> blocks) {
  constexpr size_t kWidth = 2 * kOfferWindows;
  std::vector<double> flat;
  flat.reserve(blocks.size() * kWidth);
  for (const OfferWindows& w : blocks) {
    flat.insert(flat.end(), std::begin(w.buyers), std::end(w.buyers));
    flat.insert(flat.end(), std::begin(w.revenue), std::end(w.revenue));
  }
  const std::vector<double> sums = SumInBlockOrder(shards, flat, kWidth);
  OfferWindows out;
  for (int k = 0; k < kOfferWindows; ++k) {
    out.buyers[k] = sums[static_cast<size_t>(k)];
    out.revenue[k] = sums[static_cast<size_t>(kOfferWindows + k)];
  }
  return out;
}

// Distinct purchase days of a customer's events (in time order), without a branch per event.
[[gnu::noinline]] float PurchaseDays(std::span<const int64_t> time) {
  float days = 0;
  int64_t previous = INT64_MIN;
  for (int64_t t : time) {
    const int64_t day = DayOf(t);
    days += day != previous ? 1.0f : 0.0f;
    previous = day;
  }
  return days;
}

[[gnu::noinline]] double Sum(std::span<const float> x) {
  double s = 0;
  for (float v : x) {
    s += v;
  }
  return s;
}

[[gnu::noinline]] double PositiveSum(std::span<const float> x) {
  double s = 0;
  for (float v : x) {
    s += std::max(0.0f, v);
  }
  return s;
}

[[gnu::noinline]] uint32_t CountOnline(std::span<const uint8_t> channel) {
  uint32_t n = 0;
  for (uint8_t c : channel) {
    n += c == static_cast<uint8_t>(data::Channel::kOnline) ? 1u : 0u;
  }
  return n;
}

// Adds each purchase to count[its group] and returns the groups bought, each once (in the
// order first bought). `touched` must hold a slot per purchase; no branch per purchase.
[[gnu::noinline]] size_t CountGroups(std::span<const uint32_t> product, const uint32_t* code, uint32_t* count,
                                     uint32_t* touched) {
  size_t n = 0;
  for (uint32_t p : product) {
    if (p != data::kNoProduct) {
      const uint32_t g = code[p];
      touched[n] = g;
      n += count[g]++ == 0 ? 1 : 0;
    }
  }
  return n;
}

// Appends the customer's row of the embedded grouping — (group, log(1 + purchases)) for each
// group bought, by group — resets their counts and returns the row's Euclidean norm.
[[gnu::noinline]] float AppendGroupRow(std::span<uint32_t> touched, uint32_t* count, std::vector<uint32_t>* groups,
                                       std::vector<float>* values) {
  // log1p of small counts, looked up: most of a customer's group counts are below 256.
  static const std::array<float, 256> kLogTable = [] {
    std::array<float, 256> table{};
    for (size_t k = 0; k < table.size(); ++k) {
      table[k] = std::log1p(static_cast<float>(k));
    }
    return table;
  }();
  std::sort(touched.begin(), touched.end());
  const size_t at = groups->size();
  groups->resize(at + touched.size());
  values->resize(at + touched.size());
  uint32_t* const g_out = groups->data() + at;
  float* const v_out = values->data() + at;
  double norm = 0;
  for (size_t k = 0; k < touched.size(); ++k) {
    const uint32_t g = touched[k];
    const float x = count[g] < kLogTable.size() ? kLogTable[count[g]] : std::log1p(static_cast<float>(count[g]));
    g_out[k] = g;
    v_out[k] = x;
    norm += static_cast<double>(x) * x;
    count[g] = 0;
  }
  return static_cast<float>(std::sqrt(norm));
}

// What the kCustomerOffer pass gathers about one customer and the offer.
struct OfferFacts {
  float count = 0, days = 0, last = 0, first = 0, decay = 0, recent = 0, spend = 0;
  bool in_recent = false, in_previous = false;
};

// What the kOffer pass finds: the offer across the population.
struct OfferSummary {
  float popularity_recent = 0, popularity_ever = 0, trend = 0, repeat_rate = 0, new_rate = 0, log_products = 0;
};

// What the kCollaborative pass computes for one customer (zeros without history).
struct CollaborativeFacts {
  float affinity = 0, cosine = 0, affinity_pct = 0, item_cf = 0, item_cf_mean = 0;
};

// Everything a feature's cell may be computed from, for one (customer, offer) row.
struct RowInputs {
  const CustomerFacts& customer;
  bool known;                    // the customer has history before the cutoff
  const OfferFacts& offer;       // zeros without history
  float offer_gap;               // mean days between the customer's offer purchase days; NaN below two
  float decay_pct;               // percentile rank of offer.decay in the population (0 without history)
  const float* level;            // kLevelFeatures per level; null without history
  const CollaborativeFacts& cf;  // zeros without history
  const OfferSummary& summary;
  float window_share;
};

// One entry of the feature table. Entries of pass kCustomerLevel are repeated for every
// level, named "{level}{suffix}"; a run of them is laid out level by level.
struct FeatureEntry {
  const char* name;  // the name, or the suffix after the level's name
  FeaturePass pass;
  float (*fill)(const RowInputs& r, size_t level);
};

bool Bought(const RowInputs& r) { return r.offer.count > 0; }

// The feature table: the one list of the universal model's features, in row order.
constexpr FeatureEntry kFeatures[] = {
    // The customer's overall activity and rhythm; the ratio and the percentile ranks do not
    // drift with the cutoff or the dataset's length.
    {"customer_log_events", FeaturePass::kCustomer, [](const RowInputs& r, size_t) { return r.customer.log_events; }},
    {"customer_days", FeaturePass::kCustomer, [](const RowInputs& r, size_t) { return r.customer.days; }},
    {"customer_recency", FeaturePass::kCustomer,
     [](const RowInputs& r, size_t) { return r.known ? r.customer.recency : kNaN; }},
    {"customer_tenure", FeaturePass::kCustomer,
     [](const RowInputs& r, size_t) { return r.known ? r.customer.tenure : kNaN; }},
    {"customer_mean_gap", FeaturePass::kCustomer, [](const RowInputs& r, size_t) { return r.customer.mean_gap; }},
    {"customer_recency_over_gap", FeaturePass::kCustomer,
     [](const RowInputs& r, size_t) {
       return r.known && r.customer.mean_gap > 0 ? r.customer.recency / r.customer.mean_gap : kNaN;
     }},
    {"customer_log_spend", FeaturePass::kCustomer, [](const RowInputs& r, size_t) { return r.customer.log_spend; }},
    {"customer_online_share", FeaturePass::kCustomer,
     [](const RowInputs& r, size_t) { return r.known ? r.customer.online_share : kNaN; }},
    {"customer_recent_events", FeaturePass::kCustomer,
     [](const RowInputs& r, size_t) { return r.customer.recent_events; }},
    {"customer_events_pct", FeaturePass::kCustomer, [](const RowInputs& r, size_t) { return r.customer.events_pct; }},
    {"customer_recency_pct", FeaturePass::kCustomer, [](const RowInputs& r, size_t) { return r.customer.recency_pct; }},
    // Repeat purchase of the offer and its rhythm, relative to the customer's own cycle.
    {"offer_count", FeaturePass::kCustomerOffer, [](const RowInputs& r, size_t) { return r.offer.count; }},
    {"offer_days", FeaturePass::kCustomerOffer, [](const RowInputs& r, size_t) { return r.offer.days; }},
    {"offer_recency", FeaturePass::kCustomerOffer,
     [](const RowInputs& r, size_t) { return Bought(r) ? r.offer.last : kNaN; }},
    {"offer_decay", FeaturePass::kCustomerOffer, [](const RowInputs& r, size_t) { return r.offer.decay; }},
    {"offer_recent", FeaturePass::kCustomerOffer, [](const RowInputs& r, size_t) { return r.offer.recent; }},
    {"offer_log_spend", FeaturePass::kCustomerOffer,
     [](const RowInputs& r, size_t) { return r.offer.spend > 0 ? std::log1p(r.offer.spend) : 0.0f; }},
    {"offer_share", FeaturePass::kCustomerOffer,
     [](const RowInputs& r, size_t) { return r.customer.events > 0 ? r.offer.count / r.customer.events : 0.0f; }},
    {"offer_first", FeaturePass::kCustomerOffer,
     [](const RowInputs& r, size_t) { return Bought(r) ? r.offer.first : kNaN; }},
    {"offer_gap", FeaturePass::kCustomerOffer, [](const RowInputs& r, size_t) { return r.offer_gap; }},
    {"offer_recency_over_gap", FeaturePass::kCustomerOffer,
     [](const RowInputs& r, size_t) { return Bought(r) && r.offer_gap > 0 ? r.offer.last / r.offer_gap : kNaN; }},
    {"offer_recency_over_customer_gap", FeaturePass::kCustomerOffer,
     [](const RowInputs& r, size_t) {
       return Bought(r) && r.customer.mean_gap > 0 ? r.offer.last / r.customer.mean_gap : kNaN;
     }},
    {"offer_decay_pct", FeaturePass::kCustomerOffer, [](const RowInputs& r, size_t) { return r.decay_pct; }},
    // The offer's groups at each level: ranks customers who never bought the offer but buy
    // its department.
    {"_count", FeaturePass::kCustomerLevel,
     [](const RowInputs& r, size_t l) { return r.level != nullptr ? r.level[l * kLevelFeatures] : 0.0f; }},
    {"_recency", FeaturePass::kCustomerLevel,
     [](const RowInputs& r, size_t l) {
       return r.level != nullptr && r.level[l * kLevelFeatures] > 0 ? r.level[l * kLevelFeatures + 1] : kNaN;
     }},
    {"_decay", FeaturePass::kCustomerLevel,
     [](const RowInputs& r, size_t l) { return r.level != nullptr ? r.level[l * kLevelFeatures + 2] : 0.0f; }},
    // What similar buyers buy.
    {"affinity", FeaturePass::kCollaborative, [](const RowInputs& r, size_t) { return r.cf.affinity; }},
    {"affinity_cosine", FeaturePass::kCollaborative, [](const RowInputs& r, size_t) { return r.cf.cosine; }},
    {"affinity_pct", FeaturePass::kCollaborative, [](const RowInputs& r, size_t) { return r.cf.affinity_pct; }},
    {"item_cf", FeaturePass::kCollaborative, [](const RowInputs& r, size_t) { return r.cf.item_cf; }},
    {"item_cf_mean", FeaturePass::kCollaborative, [](const RowInputs& r, size_t) { return r.cf.item_cf_mean; }},
    // The offer's popularity and granularity, which let one model serve products, categories
    // and departments.
    {"offer_popularity_recent", FeaturePass::kOffer,
     [](const RowInputs& r, size_t) { return r.summary.popularity_recent; }},
    {"offer_popularity_ever", FeaturePass::kOffer,
     [](const RowInputs& r, size_t) { return r.summary.popularity_ever; }},
    {"offer_trend", FeaturePass::kOffer, [](const RowInputs& r, size_t) { return r.summary.trend; }},
    {"offer_repeat_rate", FeaturePass::kOffer, [](const RowInputs& r, size_t) { return r.summary.repeat_rate; }},
    {"offer_new_rate", FeaturePass::kOffer, [](const RowInputs& r, size_t) { return r.summary.new_rate; }},
    {"offer_log_products", FeaturePass::kOffer, [](const RowInputs& r, size_t) { return r.summary.log_products; }},
    {"window_share", FeaturePass::kWindow, [](const RowInputs& r, size_t) { return r.window_share; }},
};

// The first entry after the run of kCustomerLevel entries that starts at `e`.
constexpr size_t LevelRunEnd(size_t e) {
  while (e < std::size(kFeatures) && kFeatures[e].pass == FeaturePass::kCustomerLevel) {
    ++e;
  }
  return e;
}

// The cells of entries [E, End) of a kCustomerLevel run, for level l.
template <size_t E, size_t End>
float* WriteLevelCells(const RowInputs& in, size_t l, float* cell) {
  if constexpr (E == End) {
    return cell;
  } else {
    constexpr auto fill = kFeatures[E].fill;
    *cell = fill(in, l);
    return WriteLevelCells<E + 1, End>(in, l, cell + 1);
  }
}

// Writes the cells of entries E onwards in the layout's order (FeatureLayout lays the columns
// out by the same walk of the table) and returns the end of what it wrote. Every fill is a
// constant here, so each call is inlined: the row costs its cells' arithmetic, not one
// indirect call per cell.
template <size_t E = 0>
float* WriteRow(const RowInputs& in, size_t num_levels, float* cell) {
  if constexpr (E == std::size(kFeatures)) {
    return cell;
  } else if constexpr (kFeatures[E].pass != FeaturePass::kCustomerLevel) {
    constexpr auto fill = kFeatures[E].fill;
    *cell = fill(in, 0);
    return WriteRow<E + 1>(in, num_levels, cell + 1);
  } else {
    constexpr size_t kEnd = LevelRunEnd(E);
    for (size_t l = 0; l < num_levels; ++l) {
      cell = WriteLevelCells<E, kEnd>(in, l, cell);
    }
    return WriteRow<kEnd>(in, num_levels, cell);
  }
}

}  // namespace

FeatureLayout::FeatureLayout(const std::vector<Level>& levels) {
  const size_t n = std::size(kFeatures);
  for (size_t e = 0; e < n;) {
    if (kFeatures[e].pass != FeaturePass::kCustomerLevel) {
      columns_.push_back({kFeatures[e].name, kFeatures[e].pass, e, 0});
      ++e;
      continue;
    }
    size_t end = e;
    while (end < n && kFeatures[end].pass == FeaturePass::kCustomerLevel) {
      ++end;
    }
    for (size_t l = 0; l < levels.size(); ++l) {
      for (size_t k = e; k < end; ++k) {
        columns_.push_back({levels[l].name + kFeatures[k].name, FeaturePass::kCustomerLevel, k, l});
      }
    }
    e = end;
  }
}

std::vector<std::string> FeatureLayout::Names() const {
  std::vector<std::string> names;
  names.reserve(columns_.size());
  for (const FeatureColumn& c : columns_) {
    names.push_back(c.name);
  }
  return names;
}

Result<size_t> FeatureLayout::Index(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) {
      return i;
    }
  }
  return Err(Status::NotFound(fmt::format("no feature named '{}'; the features are {}", name, Join(Names(), ", "))));
}

FeatureBuilder::FeatureBuilder(const HistoryView& view, const FeatureOptions& options, const ItemFactors* factors)
    : view_(&view), options_(options), layout_(options.levels != nullptr ? *options.levels : std::vector<Level>{}) {
  static const std::vector<Level> kNoLevels;
  if (options_.levels == nullptr) {
    options_.levels = &kNoLevels;
  }
  CustomerPass(factors);
}

// The kCustomer pass, in one read of every customer's events: the customer's facts, the
// rows of the embedded grouping, log(1 + purchases per group), which the kCollaborative pass
// reads, and the population's purchases in the last two horizons (AnyWindows). Then the
// percentile ranks of activity and recency in the cutoff's population, and the item factors
// when they are not given.
void FeatureBuilder::CustomerPass(const ItemFactors* factors) {
  const HistoryView& view = *view_;
  const uint32_t n = view.num_customers();
  const int64_t cutoff = view.cutoff();
  const int64_t horizon = static_cast<int64_t>(options_.run.horizon_days) * kSecondsPerDay;
  const Collective* shards = options_.collective;
  // This process's part: whole blocks of the population, and the customers from its first
  // member up to the next part's first member (the first part from 0, the last to n).
  std::vector<uint32_t> everyone;
  for (uint32_t c = 0; c < n; ++c) {
    if (InPopulation(c)) {
      everyone.push_back(c);
    }
  }
  whole_population_ = everyone.size();
  const int rank = Sharded(shards) ? shards->rank() : 0, parts = Sharded(shards) ? shards->size() : 1;
  const uint64_t all_blocks = (everyone.size() + kSumBlock - 1) / kSumBlock;
  auto first_member = [&](int r) {
    return std::min<uint64_t>(everyone.size(), PartOf(all_blocks, r, parts).begin * kSumBlock);
  };
  auto first_customer = [&](int r) {
    return r == 0 ? 0u : r == parts ? n : first_member(r) < everyone.size() ? everyone[first_member(r)] : n;
  };
  population_begin_ = first_member(rank);
  population_.assign(everyone.begin() + static_cast<std::ptrdiff_t>(population_begin_),
                     everyone.begin() + static_cast<std::ptrdiff_t>(rank + 1 == parts ? everyone.size()
                                                                                        : first_member(rank + 1)));
  customers_begin_ = first_customer(rank);
  customers_end_ = first_customer(rank + 1);
  everyone = {};
  // Sized to this process's part only: a rank of a sharded run holds no whole-base array here.
  slot_.assign(customers_end_ - customers_begin_, kNoSlot);
  for (size_t i = 0; i < population_.size(); ++i) {
    slot_[population_[i] - customers_begin_] = static_cast<uint32_t>(i);
  }
  const size_t pop = population_.size();
  facts_.assign(pop, CustomerFacts{});
  const Level* level =
      options_.embedding_level >= 0 ? &(*options_.levels)[static_cast<size_t>(options_.embedding_level)] : nullptr;
  const uint32_t groups = level != nullptr ? static_cast<uint32_t>(level->values.size()) : 0;
  // Each thread builds the group rows of its contiguous range of blocks; the ranges are joined
  // in population order. The windows are summed per block, added in block order.
  struct Part {
    std::vector<uint64_t> sizes;  // per population customer of the range
    std::vector<uint32_t> groups;
    std::vector<float> values;
    std::vector<uint64_t> buyers;  // per group: the range's customers who bought it
  };
  const size_t blocks = (pop + kSumBlock - 1) / kSumBlock;
  std::vector<OfferWindows> block_windows(blocks);
  std::vector<Part> parts_of_threads(static_cast<size_t>(ResolveThreads(options_.run.threads)));
  std::vector<size_t> part_begin(parts_of_threads.size(), pop);
  ParallelFor(blocks, options_.run.threads, [&](size_t t, size_t first_block, size_t end_block) {
    Part& part = parts_of_threads[t];
    const size_t b = first_block * kSumBlock, e = std::min(pop, end_block * kSumBlock);
    part_begin[t] = b;
    part.sizes.reserve(e - b);
    if (level != nullptr) {
      // A customer has at most one group row entry per event: reserved at once, the rows are
      // never moved as they grow (pages reserved but not written cost nothing).
      size_t most = 0;
      for (size_t i = b; i < e; ++i) {
        most += view.Customer(population_[i]).size();
      }
      part.groups.reserve(most);
      part.values.reserve(most);
    }
    std::vector<uint32_t> count(groups, 0);
    std::vector<uint32_t> touched;
    for (size_t i = b; i < e; ++i) {
      const CustomerEvents ev = view.Customer(population_[i]);
      CustomerFacts& f = facts_[i];
      OfferWindows& windows = block_windows[i / kSumBlock];
      const size_t size = ev.size();
      // Small loops over the columns, each in a function of its own so that its sums stay in
      // registers (inlined into this body they were kept on the stack).
      f.days = PurchaseDays(ev.time);
      // The last two horizons, found by search: events are in time order.
      const size_t previous_begin =
          static_cast<size_t>(std::lower_bound(ev.time.begin(), ev.time.end(), cutoff - 2 * horizon) - ev.time.begin());
      const size_t recent_begin = static_cast<size_t>(
          std::lower_bound(ev.time.begin() + previous_begin, ev.time.end(), cutoff - horizon) - ev.time.begin());
      const double spend = Sum(ev.revenue);
      const uint32_t online = CountOnline(ev.channel);
      const double previous_revenue = PositiveSum(ev.revenue.subspan(previous_begin, recent_begin - previous_begin));
      const double recent_revenue = PositiveSum(ev.revenue.subspan(recent_begin));
      f.recent_events = static_cast<float>(size - recent_begin);
      windows.buyers[0] += recent_begin < size ? 1 : 0;
      windows.buyers[1] += previous_begin < recent_begin ? 1 : 0;
      windows.revenue[0] += recent_revenue;
      windows.revenue[1] += previous_revenue;
      size_t bought = 0;
      if (level != nullptr) {
        touched.resize(std::max(touched.size(), size));
        bought = CountGroups(ev.product, level->code_of_product.data(), count.data(), touched.data());
      }
      f.events = static_cast<float>(ev.size());
      f.log_events = std::log1p(f.events);
      f.recency = static_cast<float>(Days(cutoff - ev.time.back()));
      f.tenure = static_cast<float>(Days(cutoff - ev.time.front()));
      f.mean_gap = f.days > 1 ? static_cast<float>(Days(ev.time.back() - ev.time.front()) / (f.days - 1)) : kNaN;
      f.spend = static_cast<float>(spend);
      f.log_spend = std::log1p(std::max(0.0f, f.spend));
      f.online_share = static_cast<float>(static_cast<double>(online) / static_cast<double>(size));
      f.norm = AppendGroupRow(std::span<uint32_t>(touched).first(bought), count.data(), &part.groups, &part.values);
      part.sizes.push_back(bought);
    }
    part.buyers.assign(groups, 0);
    for (uint32_t g : part.groups) {
      ++part.buyers[g];
    }
  }, /*min_chunk=*/1);
  any_windows_ = SumWindows(shards, block_windows);
  std::vector<float> events(pop), recency(pop);
  for (size_t i = 0; i < pop; ++i) {
    events[i] = facts_[i].events;
    recency[i] = -facts_[i].recency;
  }
  const std::vector<float> events_pct = PercentileRanks(events, population_begin_, whole_population_, shards);
  const std::vector<float> recency_pct = PercentileRanks(recency, population_begin_, whole_population_, shards);
  for (size_t i = 0; i < pop; ++i) {
    facts_[i].events_pct = events_pct[i];
    facts_[i].recency_pct = recency_pct[i];
  }
  if (level == nullptr) {
    return;
  }
  // The rows are per customer (empty outside population_), as the embedding reads them.
  // Each thread's part is copied to its place at once, on its own thread.
  std::vector<size_t> part_at(parts_of_threads.size() + 1, 0);
  for (size_t t = 0; t < parts_of_threads.size(); ++t) {
    part_at[t + 1] = part_at[t] + parts_of_threads[t].groups.size();
  }
  groups_.offsets.assign(static_cast<size_t>(n) + 1, 0);
  groups_.groups.resize(part_at.back());
  groups_.values.resize(part_at.back());
  ParallelFor(parts_of_threads.size(), options_.run.threads, [&](size_t, size_t first, size_t end) {
    for (size_t t = first; t < end; ++t) {
      Part& part = parts_of_threads[t];
      for (size_t i = 0; i < part.sizes.size(); ++i) {
        groups_.offsets[population_[part_begin[t] + i] + 1] = part.sizes[i];
      }
      std::copy(part.groups.begin(), part.groups.end(), groups_.groups.begin() + static_cast<std::ptrdiff_t>(part_at[t]));
      std::copy(part.values.begin(), part.values.end(), groups_.values.begin() + static_cast<std::ptrdiff_t>(part_at[t]));
      part.groups = {};
      part.values = {};
    }
  }, /*min_chunk=*/1);
  std::partial_sum(groups_.offsets.begin(), groups_.offsets.end(), groups_.offsets.begin());
  std::vector<double> group_buyers(groups, 0.0);
  for (const Part& part : parts_of_threads) {
    for (uint32_t g = 0; g < part.buyers.size(); ++g) {
      group_buyers[g] += static_cast<double>(part.buyers[g]);
    }
  }
  Sum(shards, group_buyers);
  group_buyers_.assign(group_buyers.begin(), group_buyers.end());
  factors_ = factors != nullptr ? *factors : ComputeItemFactors(groups_, groups, options_.rank);
}

// What the passes of Compute gather about one offer, pass by pass.
struct FeatureBuilder::OfferWork {
  std::vector<uint32_t> product_bits;            // per product: what its purchases count for (CustomerOfferPass)
  std::vector<OfferFacts> facts;                 // per population customer
  std::vector<float> level_facts;                // per population customer × level: kLevelFeatures
  std::vector<float> decay_pct;                  // per population customer: rank of facts[i].decay
  std::vector<std::vector<float>> group_weight;  // per thread × embedding group: the offer's purchases
  std::vector<std::vector<double>> group_both;   // per thread × embedding group: the offer's buyers who bought it
  // Per block of kSumBlock population customers: the offer's revenue, purchases and revenue
  // (≥ 0) per window, added up in block order so that the sums do not depend on the threads.
  std::vector<double> block_revenue, block_events;
  std::vector<OfferWindows> block_windows;
  OfferStats stats;
  OfferSummary summary;
  std::vector<CollaborativeFacts> collaborative;  // per population customer
  std::vector<float> affinity;                    // per population customer: collaborative[i].affinity, to rank
};

FeatureBuilder::Workspace::Workspace() : work_(std::make_unique<OfferWork>()) {}
FeatureBuilder::Workspace::~Workspace() = default;
FeatureBuilder::Workspace::Workspace(Workspace&&) noexcept = default;
FeatureBuilder::Workspace& FeatureBuilder::Workspace::operator=(Workspace&&) noexcept = default;

// The kCustomerOffer and kCustomerLevel passes: one pass over every customer's history
// gathers their purchases in the offer and in the offer's groups at each level, and the
// offer's purchases per embedding group for the collaborative pass.
void FeatureBuilder::CustomerOfferPass(const offer::ProductSet& offer, int threads, OfferWork* work) const {
  const std::vector<Level>& levels = *options_.levels;
  const size_t num_levels = levels.size();
  const int64_t cutoff = view_->cutoff();
  const int64_t horizon = static_cast<int64_t>(options_.run.horizon_days) * kSecondsPerDay;

  // Per product, what its purchases count for: bit 0 the offer, bit 1 + l a group of level l
  // that the offer touches (the offer's "levels above"). One lookup per event then tells
  // whether the event matters at all, which most do not.
  static_assert(kMaxLevels < 32);
  std::vector<uint32_t>& bits = work->product_bits;
  bits.assign(view_->num_products(), offer.any ? 1u : 0u);
  for (size_t p = 0; p < bits.size(); ++p) {
    bits[p] |= offer.Contains(static_cast<uint32_t>(p)) ? 1u : 0u;
  }
  for (size_t l = 0; l < num_levels; ++l) {
    std::vector<uint8_t> touched(levels[l].values.size(), offer.any ? 1 : 0);
    for (size_t p = 0; p < bits.size(); ++p) {
      if ((bits[p] & 1u) != 0) {
        touched[levels[l].code_of_product[p]] = 1;
      }
    }
    for (size_t p = 0; p < bits.size(); ++p) {
      bits[p] |= touched[levels[l].code_of_product[p]] != 0 ? 2u << l : 0u;
    }
  }
  const uint32_t no_product_bits = offer.any ? 1u : 0u;  // a purchase without a product counts only for "any"
  const size_t pop = population_.size();
  work->facts.assign(pop, OfferFacts{});
  work->level_facts.assign(pop * num_levels * kLevelFeatures, 0.0f);
  work->group_weight.assign(static_cast<size_t>(threads), std::vector<float>(factors_.num_groups, 0.0f));
  work->group_both.assign(static_cast<size_t>(threads), std::vector<double>(group_buyers_.size(), 0.0));
  const size_t blocks = (pop + kSumBlock - 1) / kSumBlock;
  work->block_revenue.assign(blocks, 0.0);
  work->block_events.assign(blocks, 0.0);
  work->block_windows.assign(blocks, OfferWindows{});
  const Level* embed_level =
      options_.embedding_level >= 0 ? &levels[static_cast<size_t>(options_.embedding_level)] : nullptr;

  ParallelFor(blocks, threads, [&](size_t t, size_t first_block, size_t end_block) {
   std::vector<float>& weight = work->group_weight[t];
   std::vector<double>& both = work->group_both[t];
   const uint32_t* product_bits = bits.data();
   for (size_t block = first_block; block < end_block; ++block) {
    const size_t b = block * kSumBlock, e = std::min(pop, b + kSumBlock);
    // Sums kept in registers, stored once: per-thread slots side by side in one cache line
    // would bounce between the cores on every purchase of the offer.
    double revenue = 0, events = 0;
    OfferWindows windows;
    for (size_t i = b; i < e; ++i) {
      // Only the events that count read their time and revenue, scattered over those
      // columns: fetch them for a customer a few ahead while this one's are used.
      constexpr size_t kAhead = 4;
      if (i + kAhead < e) {
        const CustomerEvents ahead = view_->Customer(population_[i + kAhead]);
        for (size_t k = 0; k < ahead.size(); k += 64 / sizeof(int64_t)) {
          __builtin_prefetch(&ahead.time[k]);
        }
        for (size_t k = 0; k < ahead.size(); k += 64 / sizeof(float)) {
          __builtin_prefetch(&ahead.revenue[k]);
        }
      }
      const CustomerEvents ev = view_->Customer(population_[i]);
      OfferFacts& f = work->facts[i];
      float* lf = &work->level_facts[i * num_levels * kLevelFeatures];
      int64_t prev_day = INT64_MIN;
      bool seen = false;
      for (size_t k = 0; k < ev.size(); ++k) {
        const uint32_t p = ev.product[k];
        const int64_t t_k = ev.time[k];
        // The age and exp() only for events that count somewhere: most events match nothing.
        float age = -1.0f, decay = -1.0f;
        auto aged = [&] {
          if (age < 0) {
            age = static_cast<float>(Days(cutoff - t_k));
          }
          return age;
        };
        auto decayed = [&] {
          if (decay < 0) {
            decay = static_cast<float>(DecayWeight(Days(cutoff - t_k)));
          }
          return decay;
        };
        const uint32_t m = p == data::kNoProduct ? no_product_bits : product_bits[p];
        if (m == 0) {
          continue;
        }
        if ((m & 1u) != 0) {
          const int64_t day = DayOf(t_k);
          f.days += day != prev_day ? 1.0f : 0.0f;
          prev_day = day;
          if (!seen) {
            f.first = aged();
            seen = true;
          }
          f.last = aged();
          f.count += 1;
          f.decay += decayed();
          f.spend += ev.revenue[k];
          const bool in_recent = t_k >= cutoff - horizon;
          const bool in_previous = !in_recent && t_k >= cutoff - 2 * horizon;
          f.recent += in_recent ? 1.0f : 0.0f;
          f.in_recent |= in_recent;
          f.in_previous |= in_previous;
          if (in_recent || in_previous) {
            windows.revenue[in_recent ? 0 : 1] += std::max(0.0f, ev.revenue[k]);
          }
          revenue += ev.revenue[k];
          events += 1;
          if (embed_level != nullptr && p != data::kNoProduct) {
            weight[embed_level->code_of_product[p]] += 1.0f;
          }
        }
        for (uint32_t lb = m >> 1; lb != 0; lb &= lb - 1) {
          const size_t l = static_cast<size_t>(std::countr_zero(lb));
          lf[l * kLevelFeatures] += 1.0f;
          lf[l * kLevelFeatures + 1] = aged();
          lf[l * kLevelFeatures + 2] += decayed();
        }
      }
      // The groups of the offer's buyers, for the item-item similarity (CollaborativePass).
      if (f.count > 0 && !both.empty()) {
        const uint32_t c = population_[i];
        for (uint64_t k = groups_.offsets[c]; k < groups_.offsets[c + 1]; ++k) {
          both[groups_.groups[k]] += 1;
        }
      }
    }
    work->block_revenue[block] = revenue;
    work->block_events[block] = events;
    work->block_windows[block] = windows;
   }
  }, /*min_chunk=*/1);
  std::vector<float> decays(pop);
  for (size_t i = 0; i < pop; ++i) {
    decays[i] = work->facts[i].decay;
  }
  work->decay_pct = PercentileRanks(decays, population_begin_, whole_population_, options_.collective);
}

// The kOffer pass: the offer's popularity, trend and repeat rate across the population.
void FeatureBuilder::OfferPass(const offer::ProductSet& offer, OfferWork* work) const {
  const size_t pop = population_.size();
  OfferStats& stats = work->stats;
  stats.population = static_cast<double>(whole_population_);
  // Counts summed over the processes; sums of revenue per block, in block order.
  enum { kBuyersEver, kBuyersRecent, kBuyersPrevious, kRepeat, kFresh, kCounts };
  std::vector<double> counts(kCounts, 0.0);
  enum { kRevenue, kEvents, kWindowRevenue0, kWindowRevenue1, kRevenueRecent, kBlockWidth };
  static_assert(kOfferWindows == 2);
  const size_t blocks = work->block_revenue.size();
  std::vector<double> block_sums(blocks * kBlockWidth, 0.0);
  for (size_t i = 0; i < pop; ++i) {
    const OfferFacts& f = work->facts[i];
    counts[kBuyersEver] += f.count > 0 ? 1 : 0;
    counts[kBuyersRecent] += f.in_recent ? 1 : 0;
    counts[kBuyersPrevious] += f.in_previous ? 1 : 0;
    counts[kRepeat] += f.in_previous && f.in_recent ? 1 : 0;
    counts[kFresh] += !f.in_previous && f.in_recent ? 1 : 0;
    if (f.in_recent) {
      // Revenue in the recent window is not tracked per event; approximate by the share.
      block_sums[i / kSumBlock * kBlockWidth + kRevenueRecent] += f.count > 0 ? f.spend * (f.recent / f.count) : 0;
    }
  }
  for (size_t t = 0; t < blocks; ++t) {
    double* b = &block_sums[t * kBlockWidth];
    b[kRevenue] = work->block_revenue[t];
    b[kEvents] = work->block_events[t];
    b[kWindowRevenue0] = work->block_windows[t].revenue[0];
    b[kWindowRevenue1] = work->block_windows[t].revenue[1];
  }
  Sum(options_.collective, counts);
  const std::vector<double> sums = SumInBlockOrder(options_.collective, block_sums, kBlockWidth);
  const double buyers_ever = counts[kBuyersEver], buyers_previous = counts[kBuyersPrevious];
  const double repeat = counts[kRepeat], fresh = counts[kFresh];
  const double revenue = sums[kRevenue], events = sums[kEvents];
  stats.buyers_recent = counts[kBuyersRecent];
  stats.revenue_recent = sums[kRevenueRecent];
  stats.windows.revenue[0] = sums[kWindowRevenue0];
  stats.windows.revenue[1] = sums[kWindowRevenue1];
  stats.windows.buyers[0] = stats.buyers_recent;
  stats.windows.buyers[1] = buyers_previous;
  stats.revenue_per_event = events > 0 ? revenue / events : 0;
  const double popd = std::max(1.0, stats.population);
  OfferSummary& s = work->summary;
  s.popularity_recent = static_cast<float>(stats.buyers_recent / popd);
  s.popularity_ever = static_cast<float>(buyers_ever / popd);
  s.trend = static_cast<float>((stats.buyers_recent + 1) / (buyers_previous + 1));
  s.repeat_rate = static_cast<float>((repeat + 1) / (buyers_previous + 2));
  s.new_rate = static_cast<float>((fresh + 1) / (popd - buyers_previous + 2));
  s.log_products = static_cast<float>(std::log1p(static_cast<double>(offer.count)));
}

// The kCollaborative pass: the affinity through the item subspace, x_c·V·Vᵀ·w with w the
// offer's share of purchases per group, and the item-item similarity (cosine between each
// group's buyers and the offer's buyers) summed over the groups the customer bought.
void FeatureBuilder::CollaborativePass(int threads, OfferWork* work) const {
  const size_t pop = population_.size();
  const uint32_t groups = factors_.num_groups;
  // z: the offer's direction in the item subspace, from its share of purchases per group.
  std::vector<float> z;
  double z_norm = 0;
  if (groups > 0) {
    // Counts of purchases (whole numbers, exact as floats below 2^24), summed over the
    // threads and then the processes, with their total last.
    std::vector<float> w(groups, 0.0f);
    double total = 0;
    for (const std::vector<float>& tw : work->group_weight) {
      for (uint32_t g = 0; g < groups; ++g) {
        w[g] += tw[g];
        total += tw[g];
      }
    }
    if (Sharded(options_.collective)) {
      std::vector<double> counts(w.begin(), w.end());
      counts.push_back(total);
      options_.collective->Sum(counts);
      std::copy(counts.begin(), counts.end() - 1, w.begin());
      total = counts.back();
    }
    for (float& x : w) {
      x = total > 0 ? static_cast<float>(x / total) : 0.0f;
    }
    z = factors_.Project(w);
    for (float x : z) {
      z_norm += static_cast<double>(x) * x;
    }
    z_norm = std::sqrt(z_norm);
  }
  // sim: per group, the cosine between its buyers and the offer's (counted in CustomerOfferPass).
  std::vector<float> sim(group_buyers_.size(), 0.0f);
  if (!sim.empty()) {
    std::vector<double> both(group_buyers_.size(), 0.0);
    for (const std::vector<double>& tb : work->group_both) {
      for (size_t g = 0; g < both.size(); ++g) {
        both[g] += tb[g];
      }
    }
    double offer_buyers = 0;
    for (const OfferFacts& f : work->facts) {
      offer_buyers += f.count > 0 ? 1 : 0;
    }
    both.push_back(offer_buyers);
    Sum(options_.collective, both);
    offer_buyers = both.back();
    for (size_t g = 0; g < sim.size(); ++g) {
      sim[g] = static_cast<float>(BuyerCosine(both[g], group_buyers_[g], offer_buyers));
    }
  }
  work->collaborative.resize(pop);
  std::vector<CollaborativeFacts>& out = work->collaborative;
  std::vector<float>& affinity = work->affinity;
  affinity.resize(pop);
  // One walk over each customer's groups gives both signals.
  ParallelFor(pop, threads, [&](size_t, size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const uint32_t c = population_[i];
      double s = 0;
      float s_sim = 0;
      for (uint64_t k = groups_.offsets[c]; k < groups_.offsets[c + 1]; ++k) {
        const uint32_t g = groups_.groups[k];
        if (g < groups) {
          s += static_cast<double>(groups_.values[k]) * z[g];
        }
        s_sim += sim.empty() ? 0.0f : sim[g];
      }
      CollaborativeFacts& o = out[i];
      o.affinity = static_cast<float>(s);
      affinity[i] = o.affinity;
      const double denom = static_cast<double>(facts_[i].norm) * z_norm;
      o.cosine = denom > 0 ? static_cast<float>(s / denom) : 0.0f;
      const uint64_t n = groups_.offsets[c + 1] - groups_.offsets[c];
      o.item_cf = s_sim;
      o.item_cf_mean = n > 0 ? s_sim / static_cast<float>(n) : 0.0f;
    }
  });
  const std::vector<float> affinity_pct =
      PercentileRanks(affinity, population_begin_, whole_population_, options_.collective);
  ParallelFor(pop, threads, [&](size_t, size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      out[i].affinity_pct = affinity_pct[i];
    }
  });
}

OfferStats FeatureBuilder::Compute(const offer::ProductSet& offer, std::span<const uint32_t> customers,
                                   float window_share, const RowSink& sink, std::vector<float>* personal_revenue,
                                   Workspace* workspace, SinkCalls calls, int threads_wanted) const {
  const int threads = ResolveThreads(threads_wanted > 0 ? threads_wanted : options_.run.threads);
  Workspace local;
  Workspace& space = workspace != nullptr ? *workspace : local;
  OfferWork& work = *space.work_;
  work.stats = OfferStats{};
  CustomerOfferPass(offer, threads, &work);
  OfferPass(offer, &work);
  CollaborativePass(threads, &work);

  // The rows: every cell filled by its entry of the feature table (WriteRow).
  const size_t width = layout_.size();
  const size_t num_levels = options_.levels->size();
  if (personal_revenue != nullptr) {
    personal_revenue->assign(customers.size(), kNaN);
  }
  const CustomerFacts no_facts;
  const OfferFacts no_offer;
  const CollaborativeFacts no_collaborative;
  auto fill_row = [&](size_t r, float* row) {
    const uint32_t c = customers[r];
    const uint32_t slot = PopulationIndex(c);
    const bool known = slot != kNoSlot;
    const size_t i = known ? slot : 0;
    const OfferFacts& f = known ? work.facts[i] : no_offer;
    const RowInputs in{known ? facts_[i] : no_facts,
                       known,
                       f,
                       f.days > 1 ? (f.first - f.last) / (f.days - 1) : kNaN,
                       known ? work.decay_pct[i] : 0.0f,
                       known ? &work.level_facts[i * num_levels * kLevelFeatures] : nullptr,
                       known ? work.collaborative[i] : no_collaborative,
                       work.summary,
                       window_share};
    WriteRow(in, num_levels, row);
    if (personal_revenue != nullptr && f.count > 0) {
      (*personal_revenue)[r] = f.spend / f.count;
    }
  };
  space.blocks_.resize(static_cast<size_t>(threads));
  // In order: each chunk's rows are filled on all cores, then handed over on this thread.
  // Concurrent: the first chunk so (the sink may set itself up on it), then each thread fills
  // and hands over the chunks of its own share, with no wait between chunks.
  const size_t in_order = calls == SinkCalls::kInOrder ? customers.size() : std::min(kRowChunk, customers.size());
  for (size_t first = 0; first < in_order; first += kRowChunk) {
    const size_t count = std::min(kRowChunk, in_order - first);
    std::vector<float>& block = space.blocks_[0];
    block.resize(count * width);  // every cell is written below
    ParallelFor(count, threads, [&](size_t, size_t b, size_t e) {
      for (size_t k = b; k < e; ++k) {
        fill_row(first + k, &block[k * width]);
      }
    });
    sink(first, block);
  }
  ParallelFor(customers.size() - in_order, threads, [&](size_t t, size_t b, size_t e) {
    std::vector<float>& block = space.blocks_[t];
    for (size_t first = in_order + b; first < in_order + e; first += kRowChunk) {
      const size_t count = std::min(kRowChunk, in_order + e - first);
      block.resize(count * width);
      for (size_t k = 0; k < count; ++k) {
        fill_row(first + k, &block[k * width]);
      }
      sink(first, block);
    }
  });
  return work.stats;
}

}  // namespace cf::model
