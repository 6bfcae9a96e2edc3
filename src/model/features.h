// Internal to src/model (see docs/architecture.md, "Public and internal headers").
// The universal model's features of a (customer, offer) pair, computed from a HistoryView
// only: nothing at or after the view's cutoff can reach them. The same code builds training
// rows (at past cutoffs) and scoring rows (at the present), so they cannot disagree.
//
// The layout is one table (kFeatures in features.cc): each entry has its name, the pass of
// FeatureBuilder::Compute that gathers what it reads, and how its cell is filled. Names,
// column order and the row writes all come from that table; code that needs a column looks
// it up by name (FeatureLayout::Index), never by number.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/collective.h"
#include "base/status.h"
#include "model/embeddings.h"
#include "model/event_log.h"
#include "model/offer_totals.h"
#include "model/options.h"
#include "offer/product_set.h"

namespace cf::model {

struct FeatureOptions {
  const std::vector<Level>* levels = nullptr;  // product groupings (not owned), may be empty
  int embedding_level = -1;                    // index into levels of the grouping embedded; -1 = none
  uint32_t rank = 16;                          // embedding rank when the factors are computed from the view
  RunOptions run;                              // the horizon H and the threads (the seed is unused)
  // Not owned; when set, only customers c with (*sample)[c] != 0 form the population: training
  // on a customer sample sees the sample as the whole base (popularity, percentiles, embedding).
  const std::vector<uint8_t>* sample = nullptr;
  // Not owned; when set with more than one process, this process builds the features of its
  // own part of the customers only (see FeatureBuilder::population()), and what spans the
  // population is exchanged: the rows equal those of one process. Scoring only (factors given).
  const Collective* collective = nullptr;
};

// The passes of FeatureBuilder: each gathers the facts one group of features reads.
enum class FeaturePass {
  kCustomer,       // the customer's whole history (offer-independent, computed once per view)
  kCustomerOffer,  // the customer's purchases in the offer
  kCustomerLevel,  // the customer's purchases in the offer's groups at each level ("{level}_…")
  kCollaborative,  // what similar buyers buy: the item subspace and item-item similarity
  kOffer,          // the offer across the population (the same for every customer)
  kWindow,         // the label window (training rows at late cutoffs have truncated ones)
};

// One column of the feature rows.
struct FeatureColumn {
  std::string name;
  FeaturePass pass;
  size_t entry = 0;  // index of its entry in the feature table
  size_t level = 0;  // the level of a kCustomerLevel column
};

// The columns for a set of levels, in row order.
class FeatureLayout {
 public:
  explicit FeatureLayout(const std::vector<Level>& levels);

  size_t size() const { return columns_.size(); }
  const std::vector<FeatureColumn>& columns() const { return columns_; }
  std::vector<std::string> Names() const;
  // The column of a named feature; NotFound names it and lists the valid names.
  Result<size_t> Index(std::string_view name) const;

 private:
  std::vector<FeatureColumn> columns_;
};

// Offer-level facts that do not depend on the customer; also used for expected revenue.
struct OfferStats {
  double population = 0;         // customers with history before the cutoff
  double buyers_recent = 0;      // bought the offer in [cutoff − H, cutoff)
  double revenue_recent = 0;     // their revenue in the offer in that window
  double revenue_per_event = 0;  // mean revenue of an offer purchase, whole history
  // The population's buyers and revenue of the offer in the last two horizons: what
  // MeasureOfferWindows gives (on the whole view when there is no sample), from the same pass.
  OfferWindows windows;
};

class FeatureBuilder {
 public:
  // `factors` null: computed from the view (training); else used as given (scoring).
  FeatureBuilder(const HistoryView& view, const FeatureOptions& options, const ItemFactors* factors);

  static std::vector<std::string> Names(const std::vector<Level>& levels) { return FeatureLayout(levels).Names(); }
  const FeatureLayout& layout() const { return layout_; }
  size_t num_features() const { return layout_.size(); }
  // Population customers per block of the sums that span the population: a process's part of
  // the population is whole blocks.
  static constexpr size_t kPartBlock = 16384;
  // Customers with at least one event before the cutoff: this process's part of them when
  // sharded. The parts are whole blocks of the population (kPartBlock customers each), so that
  // sums taken per block and added in block order do not depend on the number of processes.
  const std::vector<uint32_t>& population() const { return population_; }
  // The customers of every process with history (population() of one process).
  uint64_t whole_population() const { return whole_population_; }
  // The index in the whole population of population()[0].
  uint64_t population_begin() const { return population_begin_; }
  // The customers this process scores: [customers_begin(), customers_end()), which holds
  // population() and the customers without history between. All customers in one process.
  uint32_t customers_begin() const { return customers_begin_; }
  uint32_t customers_end() const { return customers_end_; }
  const ItemFactors& factors() const { return factors_; }
  const HistoryView& view() const { return *view_; }

  // Receives the rows of customers [first, first + rows.size() / num_features()).
  using RowSink = std::function<void(size_t first, std::span<const float> rows)>;
  // kInOrder: the sink is called on the caller's thread, chunk after chunk in row order.
  // kConcurrent: the first chunk so, then the others from several threads at once, each
  // chunk once, in no order; the sink must be thread-safe for that.
  enum class SinkCalls { kInOrder, kConcurrent };

  // What Compute gathers about one offer, kept between calls: scoring offer after offer with
  // one workspace reuses its buffers instead of faulting in ~100 MB of fresh pages per offer
  // of a million customers. One workspace serves one Compute at a time.
  struct OfferWork;
  class Workspace {
   public:
    Workspace();
    ~Workspace();
    Workspace(Workspace&&) noexcept;
    Workspace& operator=(Workspace&&) noexcept;

   private:
    friend class FeatureBuilder;
    std::unique_ptr<OfferWork> work_;
    std::vector<std::vector<float>> blocks_;  // one chunk of rows per thread
  };

  // Rows (num_features() floats per customer, row-major, NaN = missing) for the offer,
  // handed to `sink` in chunks so that a million customers never need one huge matrix.
  // `window_share` is the label window's length over H (1 at scoring). Also fills, when not
  // null, each customer's offer revenue per offer purchase (NaN without one).
  // `workspace` may be null (buffers of this call only). `threads` 0: the builder's run.threads.
  // The rows do not depend on the threads.
  OfferStats Compute(const offer::ProductSet& offer, std::span<const uint32_t> customers, float window_share,
                     const RowSink& sink, std::vector<float>* personal_revenue, Workspace* workspace = nullptr,
                     SinkCalls calls = SinkCalls::kInOrder, int threads = 0) const;

  // The population's buyers and revenue of any purchase in the last two horizons (what
  // MeasureOfferWindows gives for every purchase on the whole view when there is no sample).
  const OfferWindows& AnyWindows() const { return any_windows_; }

  // Customer c's index in population(), or kNotInPopulation (also outside this process's part).
  static constexpr uint32_t kNotInPopulation = UINT32_MAX;
  uint32_t PopulationIndex(uint32_t c) const {
    const uint32_t k = c - customers_begin_;  // wraps to a large value below the part
    return k < slot_.size() ? slot_[k] : kNotInPopulation;
  }

  // What the kCustomer pass gathers about one customer (zeros without history).
  struct CustomerFacts {
    float events = 0, days = 0, recency = 0, tenure = 0, mean_gap = 0, spend = 0, online_share = 0;
    float recent_events = 0, events_pct = 0, recency_pct = 0, norm = 0;
    float log_events = 0, log_spend = 0;  // log(1 + events), log(1 + max(0, spend))
  };

 private:
  // The passes, in the order they run; each fills what the next ones and the rows read.
  void CustomerPass(const ItemFactors* factors);
  void CustomerOfferPass(const offer::ProductSet& offer, int threads, OfferWork* work) const;
  void OfferPass(const offer::ProductSet& offer, OfferWork* work) const;
  void CollaborativePass(int threads, OfferWork* work) const;
  // A customer with history before the cutoff, within options_.sample when there is one.
  bool InPopulation(uint32_t c) const {
    return view_->HasHistory(c) && (options_.sample == nullptr || (*options_.sample)[c] != 0);
  }

  const HistoryView* view_;
  FeatureOptions options_;
  FeatureLayout layout_;
  std::vector<uint32_t> population_;
  uint64_t whole_population_ = 0, population_begin_ = 0;
  uint32_t customers_begin_ = 0, customers_end_ = 0;
  std::vector<uint32_t> slot_;        // per customer of the part, from customers_begin_: index in population_, kNoSlot outside it
  std::vector<CustomerFacts> facts_;  // per customer of population_
  SparseRows groups_;                 // per customer: embedding group, log(1 + count)
  std::vector<float> group_buyers_;   // per embedding group: customers who bought it
  OfferWindows any_windows_;
  ItemFactors factors_;
};

}  // namespace cf::model
