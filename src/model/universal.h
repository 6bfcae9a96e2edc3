// The universal model: one gradient-boosted tree model of P(customer buys the offer within
// H days | history) for every offer, trained on (customer, offer) rows drawn at several past
// cutoffs, with hyperparameters chosen on a validation cutoff and Platt-calibrated there.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/collective.h"
#include "base/status.h"
#include "model/event_log.h"
#include "model/levels.h"
#include "model/options.h"
#include "model/scorer.h"
#include "offer/product_set.h"

namespace cf {
class Progress;
}

namespace cf::model {

class FeatureBuilder;

// How the universal model trains. The horizon, threads and seed are RunOptions, passed beside.
// Each field: default, valid range (checked by Validate), why.
struct TrainOptions {
  int cutoffs = 6;                         // 1 .. 100: training cutoffs, every H/2 days back from the end of history
  uint64_t max_rows = 200000;              // 1000 .. 1e9: about this many training rows; sampled rows are reweighted
  uint32_t min_offer_buyers = 10;          // >= 1: a training offer (a level value) needs this many past buyers
  uint32_t max_offers_per_level = 300;     // >= 1: most-bought values of each level used as training offers
  uint32_t rank = 16;                      // 1 .. 1500: rank of the collaborative embedding
  std::vector<int> depths = {2, 3, 4};     // each 1 .. 10, at least one: candidate tree depths, chosen on validation
  int max_rounds = 200;                    // 1 .. 10000: most boosting rounds tried on the validation cutoff
  int eval_every = 10;                     // 1 .. max_rounds: validation Lift Quality measured every this many rounds
  double eta = 0.1;                        // (0, 1]: learning rate
  double min_child_weight = 20;            // >= 0: shallow, smooth trees generalize across datasets
  double subsample = 0.8;                  // (0, 1]: row subsampling per tree
  double colsample = 0.8;                  // (0, 1]: feature subsampling per tree
  uint32_t min_validation_positives = 20;  // >= 1: a validation offer needs this many buyers
  // 0, or >= 100: customers (with history) whose rows train and validate the model, a uniform
  // sample by a hash of (seed, customer) when the base is larger; 0 = every customer. Bounds the
  // cost of feature building, which otherwise grows with customers × training offers × cutoffs.
  uint64_t max_training_customers = 20000;
  // Baselines the validation cutoff compares the trees with (see BaselineBlend); each one a
  // registered scorer marked blendable (popularity, topic_rfm, decay); empty = none.
  std::vector<std::string> blend_baselines = {"topic_rfm", "decay", "popularity"};
  std::vector<double> blend_weights = {0.5, 1, 2, 4, 8, 16, 64};  // each > 0: baseline weights tried in a blend
  double min_blend_gain = 1.0;  // >= 0: validation Lift Quality a blend must add to be used: less is noise
  // 0 .. kMaxThreads: XGBoost (OpenMP) threads; 0 = hardware concurrency. On a shared 2-core
  // machine OpenMP's spin-waiting made 2 threads about 3× slower than 1, hence the default.
  int booster_threads = 1;

  // InvalidArgument naming the first field out of its range, its value and the range.
  Status Validate() const;
};

// The safeguard against losing to a simple baseline, chosen on the validation cutoff: the
// score is the trees' margin + weight × the baseline's percentile rank in the population
// (0 lowest, 1 highest), then Platt-calibrated. A large weight orders customers by the
// baseline and lets the trees break its ties. No baseline = the trees alone.
struct BaselineBlend {
  std::string baseline;  // "topic_rfm", "decay", "popularity", or empty
  double weight = 0;
};

// What training measured, for logs and docs.
struct TrainReport {
  int depth = 0;
  int rounds = 0;
  double validation_lift_quality = 0;  // of the trees alone, macro over validation offers
  BaselineBlend blend;                 // what the validation chose (empty: the trees alone)
  double blended_lift_quality = 0;     // validation Lift Quality of the chosen scores
  std::vector<std::pair<std::string, double>> baseline_lift_quality;  // each baseline alone on validation
  uint64_t training_rows = 0;
  uint64_t training_customers = 0;  // customers the rows were drawn from (the sample, or all)
  uint64_t validation_rows = 0;
  int validation_offers = 0;
  uint64_t cold_start_rows = 0;  // (customer without purchases, cutoff) rows of the cold-start model
  std::vector<std::string> levels;
  double seconds = 0;
};

struct OfferScores {
  std::vector<double> probability;       // calibrated P(buys within H days)
  std::vector<double> expected_revenue;  // probability × expected spend when buying
};

class UniversalModel {
 public:
  ~UniversalModel();
  // Trains on history strictly before history.cutoff(); `levels` are the catalog groupings
  // (see ChooseLevels) and must outlive the model.
  static Result<std::unique_ptr<UniversalModel>> Train(const HistoryView& history, std::vector<Level> levels,
                                                       const RunOptions& run, const TrainOptions& options,
                                                       TrainReport* report);
  // Writes the model directory atomically (model.json + booster.json).
  Status Save(const std::string& dir) const;
  // Loads a model; `catalog` supplies the level groupings named in it.
  static Result<std::unique_ptr<UniversalModel>> Load(const std::string& dir, const data::Catalog& catalog,
                                                      int threads);

  // Scores `customers` for the offer as of history.cutoff(). Fails (and scores nothing)
  // rather than returning zeros: a caller that cannot handle the error still gets it.
  Result<OfferScores> Score(const HistoryView& history, const offer::ProductSet& offer,
                            std::span<const uint32_t> customers) const;

  // Scores `customers` for several offers at once (the planner's call: every campaign's offer
  // over the whole base). Element k equals Score(history, offers[k], customers) exactly, but
  // what does not depend on the offer is done once: the view's customer features and history
  // passes, new customers' P(buys anything), and the per-offer buffers, which are reused.
  // Errors name the first bad customer or offer (offers[k] and its name); nothing is scored then.
  Result<std::vector<OfferScores>> ScoreOffers(const HistoryView& history, std::span<const offer::ProductSet> offers,
                                               std::span<const uint32_t> customers) const;
  // The same, handing each offer's scores to `sink` in the order of `offers` as soon as they
  // are ready, so memory holds one offer's scores, not all of them (top offers per customer).
  // A sink error stops the scoring and is returned.
  using OfferScoresSink = std::function<Status(size_t offer, OfferScores scores)>;
  Status ScoreOffers(const HistoryView& history, std::span<const offer::ProductSet> offers,
                     std::span<const uint32_t> customers, const OfferScoresSink& sink) const;
  // Shards scoring across the processes of `collective` (not owned; null = one process, the
  // default): each process scores only its part of the customers, ShardCustomers(history), and the
  // processes exchange what spans all of them (sums per block, percentile samples), so every
  // customer's scores equal those of one process. Every process must then make the same
  // Score/ScoreOffers calls with the same offers, in the same order.
  void ShardAcross(const Collective* collective);
  // The customers this process scores for `history`: all of them when not sharded.
  std::vector<uint32_t> ShardCustomers(const HistoryView& history) const;
  const Collective* collective() const { return collective_; }

  int horizon_days() const { return horizon_days_; }
  const std::vector<Level>& levels() const { return levels_; }
  const TrainReport& report() const { return report_; }
  // Bytes held by the loaded model (trees excluded: XGBoost owns them).
  uint64_t MemoryBytes() const;

 private:
  struct Cache;
  struct OfferBuffers;
  UniversalModel();
  // The cached offer-independent features of `history`, rebuilt when the view changed; with cache_ locked.
  const FeatureBuilder& BuilderFor(const HistoryView& history) const;
  // One offer of ScoreOffers on `threads` threads, with cache_ locked and its builder ready.
  Status ScoreOneOffer(const HistoryView& history, const offer::ProductSet& offer, std::span<const uint32_t> customers,
                       int threads, Progress* progress, OfferBuffers* buffers, OfferScores* out) const;
  // The offers of ScoreOffers `workers` at a time, each on one thread of its own.
  Status ScoreOffersAtOnce(const HistoryView& history, std::span<const offer::ProductSet> offers,
                           std::span<const uint32_t> customers, size_t workers, Progress* progress,
                           const OfferScoresSink& sink) const;

  int horizon_days_ = 30;
  int threads_ = 0;
  int embedding_level_ = -1;
  std::vector<Level> levels_;
  // The fitted pieces (embedding, calibration, offer totals, cold start, trees), whose types are
  // internal to src/model: defined in universal.cc, so this public header includes none of them.
  struct Parts;
  std::unique_ptr<Parts> parts_;
  BaselineBlend blend_;
  std::unique_ptr<Scorer> blend_scorer_;  // the scorer of blend_.baseline, if any
  std::string booster_json_;              // the trees as XGBoost wrote them (saved with the model)
  TrainReport report_;
  std::unique_ptr<Cache> cache_;
  const Collective* collective_ = nullptr;
};

std::unique_ptr<Scorer> MakeUniversalScorer(const ScorerContext& context);

}  // namespace cf::model
