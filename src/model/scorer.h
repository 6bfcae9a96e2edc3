// One interface for every way of scoring customers for an offer: the baselines and the
// universal model. Implementations are created by name through MakeScorer.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/event_log.h"
#include "model/options.h"
#include "offer/product_set.h"

namespace cf::model {

struct TrainOptions;

// What a scorer may know besides the history: the catalog's groupings and the horizon.
struct ScorerContext {
  std::vector<Level> levels;            // product groupings, coarsest first (e.g. department, category)
  RunOptions run;                       // the horizon predicted, threads, the seed of sampling and of random
  const TrainOptions* train = nullptr;  // the universal model's options (not owned); null = defaults
};

class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual std::string_view name() const = 0;
  // Learns from the history (strictly before its cutoff); called once before Score.
  virtual Status Fit(const HistoryView& history) = 0;
  // Writes one score per customer; higher means likelier to buy the offer within the
  // horizon after history.cutoff(). Probabilities when the scorer is calibrated.
  virtual Status Score(const HistoryView& history, const offer::ProductSet& offer, std::span<const uint32_t> customers,
                       std::span<double> scores) const = 0;
};

// One registered scorer: the one list of scorer names (scorer.cc).
struct ScorerInfo {
  std::string_view name;
  bool calibrated;  // scores are probabilities (the universal model), not only a ranking
  bool blendable;   // a simple baseline, needing no fit, that the universal model's safeguard may blend in
  std::unique_ptr<Scorer> (*make)(const ScorerContext& context);
};

// Every scorer, in report order: random, popularity, topic_rfm, decay, item_cf, universal.
std::span<const ScorerInfo> RegisteredScorers();
std::vector<std::string> ScorerNames();
// The named scorer; InvalidArgument lists the valid names.
Result<const ScorerInfo*> FindScorer(std::string_view name);
Result<std::unique_ptr<Scorer>> MakeScorer(std::string_view name, const ScorerContext& context);

// The finest level of `levels` (most values), or one group per product when there is none.
Level FinestLevel(const std::vector<Level>& levels, uint32_t num_products);

}  // namespace cf::model
