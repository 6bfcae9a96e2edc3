// The universal model's features of a (customer, offer) pair, computed from a HistoryView
// only: nothing at or after the view's cutoff can reach them. The same code builds training
// rows (at past cutoffs) and scoring rows (at the present), so they cannot disagree.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "model/embeddings.h"
#include "model/event_log.h"
#include "offer/product_set.h"

namespace cf::model {

struct FeatureOptions {
  const std::vector<Level>* levels = nullptr;  // product groupings (not owned), may be empty
  int embedding_level = -1;                    // index into levels of the grouping embedded; -1 = none
  int horizon_days = 30;                       // the prediction horizon H
  uint32_t rank = 16;                          // embedding rank when the factors are computed from the view
  int threads = 0;                             // 0 = hardware concurrency
  // Not owned; when set, only customers c with (*sample)[c] != 0 form the population: training
  // on a customer sample sees the sample as the whole base (popularity, percentiles, embedding).
  const std::vector<uint8_t>* sample = nullptr;
};

// Offer-level facts that do not depend on the customer; also used for expected revenue.
struct OfferStats {
  double population = 0;         // customers with history before the cutoff
  double buyers_recent = 0;      // bought the offer in [cutoff − H, cutoff)
  double revenue_recent = 0;     // their revenue in the offer in that window
  double revenue_per_event = 0;  // mean revenue of an offer purchase, whole history
};

class FeatureBuilder {
 public:
  // `factors` null: computed from the view (training); else used as given (scoring).
  FeatureBuilder(const HistoryView& view, const FeatureOptions& options, const ItemFactors* factors);

  static std::vector<std::string> Names(const std::vector<Level>& levels);
  size_t num_features() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }
  // Customers with at least one event before the cutoff.
  const std::vector<uint32_t>& population() const { return population_; }
  const ItemFactors& factors() const { return factors_; }
  const HistoryView& view() const { return *view_; }

  // Receives the rows of customers [first, first + rows.size() / num_features()).
  using RowSink = std::function<void(size_t first, std::span<const float> rows)>;

  // Rows (num_features() floats per customer, row-major, NaN = missing) for the offer,
  // handed to `sink` in chunks so that a million customers never need one huge matrix.
  // `window_share` is the label window's length over H (1 at scoring). Also fills, when not
  // null, each customer's offer revenue per offer purchase (NaN without one).
  OfferStats Compute(const offer::ProductSet& offer, std::span<const uint32_t> customers, float window_share,
                     const RowSink& sink, std::vector<float>* personal_revenue) const;

 private:
  struct CustomerFacts {
    float events = 0, days = 0, recency = 0, tenure = 0, mean_gap = 0, spend = 0, online_share = 0;
    float recent_events = 0, events_pct = 0, recency_pct = 0, norm = 0;
  };

  const HistoryView* view_;
  FeatureOptions options_;
  std::vector<std::string> names_;
  std::vector<uint32_t> population_;
  std::vector<CustomerFacts> facts_;  // per customer (zeros without history)
  SparseRows groups_;                 // per customer: embedding group, log(1 + count)
  std::vector<float> group_buyers_;   // per embedding group: customers who bought it
  ItemFactors factors_;
};

// Mid-rank percentile in [0, 1] of every value among `values`, estimated from at most
// kPercentileSample evenly spaced sorted values (exact below that).
std::vector<float> Percentiles(std::span<const float> values);

}  // namespace cf::model
