#include "model/universal.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <thread>

#include "base/files.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/strings.h"
#include "base/time.h"
#include "model/calibration.h"
#include "model/cold_start.h"
#include "model/embeddings.h"
#include "model/features.h"
#include "model/forest.h"
#include "model/metrics.h"
#include "model/offer_totals.h"
#include "model/parallel.h"
#include "model/signals.h"
#include "model/xgb.h"

namespace cf::model {
namespace {

constexpr double kPositiveOversampling = 25.0;  // see AppendRows
constexpr size_t kProgressCustomers = 200000;   // smallest scoring request with a progress bar
constexpr int kPatience = 5;                    // validation checks without improvement before stopping
constexpr double kRevenuePrior = 3.0;           // purchases of evidence that halve the offer-level prior
constexpr const char* kModelFile = "model.json";
constexpr const char* kBoosterFile = "booster.json";
constexpr int kFormatVersion = 3;            // 2: the baseline blend; 3: offer totals and new customers
constexpr double kMinExpectedBuyers = 1e-6;  // an offer nobody bought lately: scores near 0, still ordered
constexpr double kMaxBuyerShare = 0.999;     // of the population: keeps the logit shift finite

constexpr uint64_t kSampleSalt = 0x5a3b1e;       // keeps the customer sample independent of the row sampling
constexpr uint64_t kMinTrainingCustomers = 100;  // a smaller sample could not fill the validation offers

// A uniform draw in [0, 1) that depends only on (seed, customer, group): the same rows are
// sampled whatever the threads or the order.
double Uniform(uint64_t a, uint64_t b, uint64_t c) { return UnitInterval(Mix(a ^ Mix(b ^ Mix(c)))); }

// The training sample: each customer with history is kept with probability
// max_training_customers ÷ customers with history, by a hash of (seed, customer), so the same
// customers are kept at every cutoff and the sample is uniform (every population-relative
// feature — popularity, percentile ranks, item similarity — estimates its value on the whole
// base). Empty when every customer is used.
std::vector<uint8_t> TrainingSample(const HistoryView& history, const TrainOptions& options, uint64_t seed,
                                    uint64_t* kept) {
  uint64_t population = 0;
  for (uint32_t c = 0; c < history.num_customers(); ++c) {
    population += history.HasHistory(c) ? 1 : 0;
  }
  *kept = population;
  if (options.max_training_customers == 0 || population <= options.max_training_customers) {
    return {};
  }
  const double rate = static_cast<double>(options.max_training_customers) / static_cast<double>(population);
  std::vector<uint8_t> sample(history.num_customers(), 0);
  *kept = 0;
  for (uint32_t c = 0; c < history.num_customers(); ++c) {
    if (history.HasHistory(c) && Uniform(seed, c, kSampleSalt) < rate) {
      sample[c] = 1;
      ++*kept;
    }
  }
  return sample;
}

std::string LevelNames(const std::vector<Level>& levels) {
  std::vector<std::string> names;
  for (const Level& level : levels) {
    names.push_back(level.name);
  }
  return Join(names, ", ");
}

int EmbeddingLevel(const std::vector<Level>& levels) {
  int best = -1;
  for (size_t l = 0; l < levels.size(); ++l) {
    const size_t n = levels[l].values.size();
    if (n <= kMaxEmbeddingGroups && (best < 0 || n > levels[static_cast<size_t>(best)].values.size())) {
      best = static_cast<int>(l);
    }
  }
  return best;
}

// Training rows: features, labels, weights and the (cutoff, offer) group of each row.
struct RowSet {
  size_t cols = 0;
  std::vector<float> x, y, w;
  std::vector<uint32_t> group;
  std::vector<uint32_t> customer;
  uint64_t rows() const { return y.size(); }
};

// The level values bought by at least `min_buyers` customers, most bought first.
std::vector<offer::ProductSet> TrainingOffers(const HistoryView& view, const std::vector<Level>& levels,
                                              const TrainOptions& options) {
  std::vector<offer::ProductSet> offers;
  for (const Level& level : levels) {
    std::vector<uint32_t> buyers(level.values.size(), 0), stamp(level.values.size(), UINT32_MAX);
    for (uint32_t c = 0; c < view.num_customers(); ++c) {
      const CustomerEvents ev = view.Customer(c);
      for (size_t k = 0; k < ev.size(); ++k) {
        if (ev.product[k] == data::kNoProduct) {
          continue;
        }
        const uint32_t g = level.code_of_product[ev.product[k]];
        if (stamp[g] != c) {
          stamp[g] = c;
          ++buyers[g];
        }
      }
    }
    std::vector<uint32_t> codes;
    for (uint32_t g = 1; g < buyers.size(); ++g) {
      if (buyers[g] >= options.min_offer_buyers) {
        codes.push_back(g);
      }
    }
    std::sort(codes.begin(), codes.end(), [&](uint32_t a, uint32_t b) { return buyers[a] > buyers[b]; });
    codes.resize(std::min<size_t>(codes.size(), options.max_offers_per_level));
    for (uint32_t g : codes) {
      std::vector<uint8_t> members(level.code_of_product.size(), 0);
      for (size_t p = 0; p < members.size(); ++p) {
        members[p] = level.code_of_product[p] == g ? 1 : 0;
      }
      offers.push_back(offer::ProductSet::FromMembers(level.name + "=" + level.values[g], std::move(members)));
    }
  }
  return offers;
}

// Appends rows for every offer at `cutoff`, labelled by purchases in [cutoff, label_end),
// which `history` clamps to its own cutoff. Negatives are kept with probability `rate`.
// Rows are weighted by the inverse of their keeping probability, so the objective and the
// probabilities stay unbiased.
void AppendRows(const HistoryView& history, int64_t cutoff, int64_t label_end,
                const std::vector<offer::ProductSet>& offers, const FeatureOptions& features, double rate,
                uint64_t seed, uint32_t* next_group, RowSet* rows, Progress* progress) {
  const HistoryView view = history.Before(cutoff);
  const FeatureBuilder builder(view, features, nullptr);
  rows->cols = builder.num_features();
  const std::vector<uint32_t>& population = builder.population();
  const int64_t end = std::min(label_end, history.cutoff());
  // Positives are rarer and carry most of the signal: keep them kPositiveOversampling times
  // as often as negatives (all of them on sparse data), reweighted like the negatives.
  const double positive_rate = std::min(1.0, rate * kPositiveOversampling);
  const float share = static_cast<float>(static_cast<double>(end - cutoff) /
                                         (static_cast<double>(features.run.horizon_days) * kSecondsPerDay));
  std::vector<uint32_t> chosen;
  std::vector<float> labels;
  for (const offer::ProductSet& offer : offers) {
    const uint32_t group = (*next_group)++;
    chosen.clear();
    labels.clear();
    for (uint32_t c : population) {
      const CustomerEvents window = history.Window(c, cutoff, end);
      bool bought = false;
      for (size_t k = 0; k < window.size() && !bought; ++k) {
        bought = offer.Contains(window.product[k]);
      }
      if (Uniform(seed, c, group) < (bought ? positive_rate : rate)) {
        chosen.push_back(c);
        labels.push_back(bought ? 1.0f : 0.0f);
      }
    }
    builder.Compute(
        offer, chosen, share,
        [&](size_t, std::span<const float> block) { rows->x.insert(rows->x.end(), block.begin(), block.end()); },
        nullptr);
    for (float y : labels) {
      rows->y.push_back(y);
      rows->w.push_back(static_cast<float>(1.0 / (y > 0 ? positive_rate : rate)));
      rows->group.push_back(group);
    }
    rows->customer.insert(rows->customer.end(), chosen.begin(), chosen.end());
    if (progress != nullptr) {
      progress->Add(1);
    }
  }
}

double Elapsed(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Row ranges [begin, end) of each group, in order.
std::vector<std::pair<uint64_t, uint64_t>> GroupRanges(const RowSet& rows) {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (uint64_t i = 0; i < rows.rows();) {
    uint64_t j = i;
    while (j < rows.rows() && rows.group[j] == rows.group[i]) {
      ++j;
    }
    ranges.emplace_back(i, j);
    i = j;
  }
  return ranges;
}

// Drops the groups with fewer than `min_positives` positives: too few to measure.
void KeepGroupsWithPositives(uint32_t min_positives, RowSet* rows) {
  RowSet kept;
  kept.cols = rows->cols;
  for (const auto& [b, e] : GroupRanges(*rows)) {
    uint64_t positives = 0;
    for (uint64_t i = b; i < e; ++i) {
      positives += rows->y[i] > 0 ? 1 : 0;
    }
    if (positives < min_positives) {
      continue;
    }
    kept.x.insert(kept.x.end(), rows->x.begin() + static_cast<std::ptrdiff_t>(b * rows->cols),
                  rows->x.begin() + static_cast<std::ptrdiff_t>(e * rows->cols));
    kept.y.insert(kept.y.end(), rows->y.begin() + static_cast<std::ptrdiff_t>(b),
                  rows->y.begin() + static_cast<std::ptrdiff_t>(e));
    kept.w.insert(kept.w.end(), rows->w.begin() + static_cast<std::ptrdiff_t>(b),
                  rows->w.begin() + static_cast<std::ptrdiff_t>(e));
    kept.group.insert(kept.group.end(), rows->group.begin() + static_cast<std::ptrdiff_t>(b),
                      rows->group.begin() + static_cast<std::ptrdiff_t>(e));
    kept.customer.insert(kept.customer.end(), rows->customer.begin() + static_cast<std::ptrdiff_t>(b),
                         rows->customer.begin() + static_cast<std::ptrdiff_t>(e));
  }
  *rows = std::move(kept);
}

// Macro Lift Quality of the predictions over the groups of `rows`.
double MacroLiftQuality(std::span<const float> predictions, const RowSet& rows, int* offers) {
  const auto ranges = GroupRanges(rows);
  std::vector<double> sums(ranges.size(), 0.0);
  ParallelFor(ranges.size(), 0, [&](size_t, size_t b, size_t e) {
    std::vector<double> scores;
    std::vector<uint8_t> labels;
    for (size_t g = b; g < e; ++g) {
      const auto [lo, hi] = ranges[g];
      scores.assign(predictions.begin() + static_cast<std::ptrdiff_t>(lo),
                    predictions.begin() + static_cast<std::ptrdiff_t>(hi));
      labels.resize(hi - lo);
      for (uint64_t i = lo; i < hi; ++i) {
        labels[i - lo] = rows.y[i] > 0 ? 1 : 0;
      }
      sums[g] = LiftQuality(scores, labels, RankOrder(scores));
    }
  });
  if (offers != nullptr) {
    *offers = static_cast<int>(ranges.size());
  }
  return ranges.empty() ? 0 : std::accumulate(sums.begin(), sums.end(), 0.0) / static_cast<double>(ranges.size());
}

// A baseline the blend may use: only the simple ones, which need no fitting.
Result<std::unique_ptr<Scorer>> MakeBlendScorer(const std::string& name) {
  auto info = FindScorer(name);
  if (!info.has_value() || !(*info)->blendable) {
    std::vector<std::string> valid;
    for (const ScorerInfo& s : RegisteredScorers()) {
      if (s.blendable) {
        valid.emplace_back(s.name);
      }
    }
    return Err(Status::InvalidArgument(
        fmt::format("cannot blend with baseline '{}'; expected one of {}", name, Join(valid, ", "))));
  }
  return (*info)->make(ScorerContext{});
}

// The baseline's percentile ranks of `customers` for `offer`, within `customers`, or, with
// `begin`, `whole` and a sharded `collective`, within every process's customers together
// (`customers` being the part [begin, begin + size) of them).
Result<std::vector<float>> BaselineRanks(const Scorer& scorer, const HistoryView& view, const offer::ProductSet& offer,
                                         std::span<const uint32_t> customers, uint64_t begin = 0,
                                         uint64_t whole = 0, const Collective* collective = nullptr) {
  std::vector<double> scores(customers.size());
  CF_RETURN_IF_ERROR(scorer.Score(view, offer, customers, scores));
  return PercentileRanks(scores, begin, Sharded(collective) ? whole : customers.size(), collective);
}

// Compares the trees' validation margins with blends of each baseline (validation rows hold
// the whole population of every validation offer, so percentile ranks within a group are
// ranks in the population, as at scoring time). Returns the best blend if it beats the trees
// by more than options.min_blend_gain, and then replaces `margins` by its scores.
Result<BaselineBlend> ChooseBlend(const HistoryView& view, const std::vector<offer::ProductSet>& offers,
                                  uint32_t first_group, const RowSet& valid, const TrainOptions& options,
                                  std::vector<float>* margins, TrainReport* report) {
  const auto ranges = GroupRanges(valid);
  BaselineBlend best;
  double best_lq = report->validation_lift_quality;
  std::vector<float> best_scores, blended(valid.rows());
  for (const std::string& name : options.blend_baselines) {
    CF_ASSIGN_OR_RETURN(std::unique_ptr<Scorer> scorer, MakeBlendScorer(name));
    std::vector<float> ranks(valid.rows());
    for (const auto& [lo, hi] : ranges) {
      const std::span<const uint32_t> customers(valid.customer.data() + lo, hi - lo);
      CF_ASSIGN_OR_RETURN(std::vector<float> r,
                          BaselineRanks(*scorer, view, offers[valid.group[lo] - first_group], customers));
      std::copy(r.begin(), r.end(), ranks.begin() + static_cast<std::ptrdiff_t>(lo));
    }
    report->baseline_lift_quality.emplace_back(name, MacroLiftQuality(ranks, valid, nullptr));
    for (double weight : options.blend_weights) {
      for (size_t i = 0; i < blended.size(); ++i) {
        blended[i] = (*margins)[i] + static_cast<float>(weight) * ranks[i];
      }
      const double lq = MacroLiftQuality(blended, valid, nullptr);
      CF_LOG_DEBUG("validation blend {} × {}: macro lift quality {:.2f}", name, weight, lq);
      if (lq > best_lq) {
        best_lq = lq;
        best = BaselineBlend{name, weight};
        best_scores = blended;
      }
    }
  }
  if (best.baseline.empty() || best_lq - report->validation_lift_quality <= options.min_blend_gain) {
    report->blended_lift_quality = report->validation_lift_quality;
    return BaselineBlend{};
  }
  report->blended_lift_quality = best_lq;
  *margins = std::move(best_scores);
  return best;
}

std::vector<std::pair<std::string, std::string>> BoosterParams(const TrainOptions& options, uint64_t seed, int depth) {
  return {{"objective", "binary:logistic"},
          {"tree_method", "hist"},
          {"base_score", "0.5"},  // zero margin, so margins of round ranges add up
          {"max_depth", std::to_string(depth)},
          {"eta", fmt::format("{}", options.eta)},
          {"min_child_weight", fmt::format("{}", options.min_child_weight)},
          {"subsample", fmt::format("{}", options.subsample)},
          {"colsample_bytree", fmt::format("{}", options.colsample)},
          {"nthread", std::to_string(ResolveThreads(options.booster_threads))},
          {"seed", std::to_string(seed)},
          {"verbosity", "0"}};
}

// Training cutoffs every H/2 days back from `end`, the latest ones with truncated windows.
std::vector<int64_t> TrainingCutoffs(const HistoryView& history, int64_t end, int horizon_days,
                                     const TrainOptions& options) {
  const int64_t horizon = static_cast<int64_t>(horizon_days) * kSecondsPerDay;
  const int64_t step = std::max<int64_t>(kSecondsPerDay, horizon / 2);
  std::vector<int64_t> cutoffs;
  for (int k = 1; k <= options.cutoffs; ++k) {
    const int64_t cutoff = end - k * step;
    // A cutoff needs some history before it to describe customers with.
    if (cutoff - history.first_time() < step) {
      break;
    }
    cutoffs.push_back(cutoff);
  }
  return cutoffs;
}

Result<RowSet> BuildTrainingRows(const HistoryView& history, int64_t end, const std::vector<offer::ProductSet>& offers,
                                 const FeatureOptions& features, const TrainOptions& options, uint32_t* next_group,
                                 const std::string& label) {
  const std::vector<int64_t> cutoffs = TrainingCutoffs(history, end, features.run.horizon_days, options);
  if (cutoffs.empty()) {
    return Err(Status::FailedPrecondition(fmt::format("not enough history to train: need at least {} days before {}",
                                                      features.run.horizon_days, FormatIsoDate(end))));
  }
  uint64_t population = 0;
  for (uint32_t c = 0; c < history.num_customers(); ++c) {
    population += history.HasHistory(c) && (features.sample == nullptr || (*features.sample)[c] != 0) ? 1 : 0;
  }
  const double candidates =
      static_cast<double>(population) * static_cast<double>(offers.size()) * static_cast<double>(cutoffs.size());
  const double rate = std::min(1.0, static_cast<double>(options.max_rows) / std::max(1.0, candidates));
  RowSet rows;
  Progress progress(label, cutoffs.size() * offers.size(), "offers");
  const int64_t horizon = static_cast<int64_t>(features.run.horizon_days) * kSecondsPerDay;
  for (int64_t cutoff : cutoffs) {
    AppendRows(history, cutoff, cutoff + horizon, offers, features, rate, features.run.seed, next_group, &rows,
               &progress);
  }
  progress.Finish();
  return rows;
}

Result<XgbMatrix> MatrixOf(const RowSet& rows, int threads) {
  return XgbMatrix::FromDense(rows.x, rows.rows(), rows.cols, rows.y, rows.w, ResolveThreads(threads));
}

}  // namespace

Status TrainOptions::Validate() const {
  CF_RETURN_IF_ERROR(CheckRange("cutoffs", cutoffs, 1, 100));
  CF_RETURN_IF_ERROR(CheckRange("max_rows", static_cast<double>(max_rows), 1000, 1e9));
  CF_RETURN_IF_ERROR(CheckRange("min_offer_buyers", min_offer_buyers, 1, UINT32_MAX));
  CF_RETURN_IF_ERROR(CheckRange("max_offers_per_level", max_offers_per_level, 1, UINT32_MAX));
  CF_RETURN_IF_ERROR(CheckRange("rank", rank, 1, kMaxEmbeddingGroups));
  if (depths.empty()) {
    return Status::InvalidArgument("depths must list at least one tree depth between 1 and 10");
  }
  for (size_t i = 0; i < depths.size(); ++i) {
    CF_RETURN_IF_ERROR(CheckRange(fmt::format("depths[{}]", i).c_str(), depths[i], 1, 10));
  }
  CF_RETURN_IF_ERROR(CheckRange("max_rounds", max_rounds, 1, 10000));
  CF_RETURN_IF_ERROR(CheckRange("eval_every", eval_every, 1, max_rounds));
  if (!(eta > 0 && eta <= 1)) {
    return Status::InvalidArgument(fmt::format("eta must be in (0, 1], got {}", eta));
  }
  CF_RETURN_IF_ERROR(CheckRange("min_child_weight", min_child_weight, 0, 1e12));
  if (!(subsample > 0 && subsample <= 1)) {
    return Status::InvalidArgument(fmt::format("subsample must be in (0, 1], got {}", subsample));
  }
  if (!(colsample > 0 && colsample <= 1)) {
    return Status::InvalidArgument(fmt::format("colsample must be in (0, 1], got {}", colsample));
  }
  CF_RETURN_IF_ERROR(CheckRange("min_validation_positives", min_validation_positives, 1, UINT32_MAX));
  if (max_training_customers != 0 && max_training_customers < kMinTrainingCustomers) {
    return Status::InvalidArgument(
        fmt::format("max_training_customers must be 0 (every customer) or at least {}, got {}", kMinTrainingCustomers,
                    max_training_customers));
  }
  for (const std::string& name : blend_baselines) {
    auto scorer = MakeBlendScorer(name);
    if (!scorer.has_value()) {
      return scorer.error().WithPrefix("blend_baselines");
    }
  }
  for (size_t i = 0; i < blend_weights.size(); ++i) {
    if (!(blend_weights[i] > 0)) {
      return Status::InvalidArgument(fmt::format("blend_weights[{}] must be above 0, got {}", i, blend_weights[i]));
    }
  }
  CF_RETURN_IF_ERROR(CheckRange("min_blend_gain", min_blend_gain, 0, 100));
  return CheckRange("booster_threads", booster_threads, 0, kMaxThreads);
}

// The buffers of one offer being scored, reused so that offer after offer touches no fresh pages.
struct UniversalModel::OfferBuffers {
  FeatureBuilder::Workspace workspace;
  std::vector<float> margins, offer_counts, personal;  // per population customer
  std::vector<double> probability, spend, shifted;     // per population customer
};

// What scoring keeps from one call to the next: the offer-independent features of the last
// view, and the per-offer buffers.
struct UniversalModel::Cache {
  std::mutex mu;
  const HistoryView* view = nullptr;
  int64_t cutoff = 0;
  std::unique_ptr<FeatureBuilder> builder;
  // The cold-start model on the view, and per customer of this process's part (from the
  // builder's customers_begin()) without history: P(buys anything), 0 when unknown at the
  // cutoff; both empty until a request holds such a customer.
  std::optional<ColdStartModel::OnView> cold;
  std::vector<double> cold_probability;
  std::vector<OfferBuffers> buffers;  // one per offer scored at once
};

struct UniversalModel::Parts {
  ItemFactors factors;
  PlattScaling calibration;
  OfferTotalsModel totals;  // each offer's expected buyers and revenue (persistence until fitted)
  ColdStartModel cold;      // customers without purchases
  Forest forest;            // the trees, for scoring
};

namespace {

// The trees for the rows of one offer, specialized twice (Forest::Specialize). The offer-level
// features are the same in every row, so their splits are decided once per offer. The rows of
// customers who never bought the offer hold the same value in every customer × offer cell
// (zero purchases, no recency, the rank of a zero decay), so for them those splits are
// decided too, in a second, smaller forest. Which rows those are is checked cell by cell
// against the first such row, so a row walks a forest only where its values are the ones
// fixed. The margins equal the whole forest's.
class OfferForests {
 public:
  OfferForests(const Forest& forest, const FeatureLayout& layout, size_t offer_count_column)
      : forest_(forest), offer_count_column_(offer_count_column) {
    for (size_t j = 0; j < layout.size(); ++j) {
      const FeaturePass pass = layout.columns()[j].pass;
      if (pass == FeaturePass::kOffer || pass == FeaturePass::kWindow) {
        offer_columns_.push_back(j);
      } else if (pass == FeaturePass::kCustomerOffer) {
        customer_offer_columns_.push_back(j);
      }
    }
  }

  // The first call specializes the forests on its rows; later calls only read them, so
  // once the first has returned, any number may run at once.
  void Predict(std::span<const float> rows, size_t width, std::span<float> out, int threads) {
    const size_t n = out.size();
    if (n == 0) {
      return;
    }
    if (!set_up_) {
      SetUp(rows, width, n);
      set_up_ = true;
    }
    // Rows whose customer × offer cells are the fixed ones, and the others.
    std::vector<uint32_t> untouched_rows, other_rows;
    for (size_t i = 0; i < n; ++i) {
      (Untouched(&rows[i * width]) ? untouched_rows : other_rows).push_back(static_cast<uint32_t>(i));
    }
    if (other_rows.empty() || untouched_rows.empty()) {
      (other_rows.empty() ? *untouched_ : *offer_).PredictMargins(rows, n, width, out, threads);
      return;
    }
    untouched_->PredictMarginsOf(rows, width, untouched_rows, out, threads);
    offer_->PredictMarginsOf(rows, width, other_rows, out, threads);
  }

 private:
  void SetUp(std::span<const float> rows, size_t width, size_t n) {
    std::vector<Forest::FixedFeature> fixed;
    for (size_t j : offer_columns_) {
      fixed.push_back({j, rows[j]});
    }
    offer_ = forest_.Specialize(fixed);
    fixed_ = std::move(fixed);
    for (size_t i = 0; i < n; ++i) {
      if (rows[i * width + offer_count_column_] == 0) {
        std::vector<Forest::FixedFeature> fixed_untouched = fixed_;
        for (size_t j : customer_offer_columns_) {
          fixed_untouched.push_back({j, rows[i * width + j]});
        }
        untouched_ = forest_.Specialize(fixed_untouched);
        untouched_values_ = std::move(fixed_untouched);
        CF_LOG_DEBUG("trees for the offer: {} splits of {}; for customers who never bought it: {}",
                     offer_->num_splits(), forest_.num_splits(), untouched_->num_splits());
        break;
      }
    }
  }

  bool Untouched(const float* row) const {
    if (!untouched_.has_value()) {
      return false;
    }
    for (size_t k = fixed_.size(); k < untouched_values_.size(); ++k) {
      const float v = row[untouched_values_[k].feature], want = untouched_values_[k].value;
      if (!(v == want || (std::isnan(v) && std::isnan(want)))) {
        return false;
      }
    }
    return true;
  }

  const Forest& forest_;
  size_t offer_count_column_;
  std::vector<size_t> offer_columns_, customer_offer_columns_;
  std::optional<Forest> offer_, untouched_;
  std::vector<Forest::FixedFeature> fixed_;             // the offer-level cells
  std::vector<Forest::FixedFeature> untouched_values_;  // those, then the customer × offer cells of a non-buyer
  bool set_up_ = false;
};

}  // namespace

UniversalModel::UniversalModel() : parts_(std::make_unique<Parts>()), cache_(std::make_unique<Cache>()) {}
UniversalModel::~UniversalModel() = default;

Result<std::unique_ptr<UniversalModel>> UniversalModel::Train(const HistoryView& history, std::vector<Level> levels,
                                                              const RunOptions& run, const TrainOptions& options,
                                                              TrainReport* report) {
  CF_RETURN_IF_ERROR(run.Validate());
  CF_RETURN_IF_ERROR(options.Validate());
  const auto start = std::chrono::steady_clock::now();
  auto model = std::unique_ptr<UniversalModel>(new UniversalModel());
  model->horizon_days_ = run.horizon_days;
  model->threads_ = run.threads;
  if (levels.empty() && history.num_products() <= kMaxEmbeddingGroups) {
    levels.push_back(ProductLevel(history.num_products(), kProductLevel));
  }
  model->levels_ = std::move(levels);
  model->embedding_level_ = EmbeddingLevel(model->levels_);
  FeatureOptions features;
  features.levels = &model->levels_;
  features.embedding_level = model->embedding_level_;
  features.rank = options.rank;
  features.run = run;
  TrainReport rep;
  // On a large base the rows come from a customer sample (see TrainingSample).
  const std::vector<uint8_t> sample = TrainingSample(history, options, run.seed, &rep.training_customers);
  features.sample = sample.empty() ? nullptr : &sample;
  if (!sample.empty()) {
    CF_LOG_INFO("training on a sample of {} customers", rep.training_customers);
  }

  std::vector<offer::ProductSet> offers = TrainingOffers(history, model->levels_, options);
  if (model->levels_.empty() || offers.empty()) {
    // The trees then only learn "buys anything": every offer gets the same ranking.
    CF_LOG_WARN(
        "no usable training offer: no value of the levels ({}) was bought by at least {} customers; training on the "
        "single offer 'any', so every offer is ranked alike (choose other levels, or more history)",
        model->levels_.empty() ? std::string("none") : LevelNames(model->levels_), options.min_offer_buyers);
    offers.push_back(offer::ProductSet::Any(history.num_products()));
  }
  for (const Level& level : model->levels_) {
    rep.levels.push_back(level.name);
  }
  const int64_t horizon = static_cast<int64_t>(run.horizon_days) * kSecondsPerDay;
  const int64_t end = history.cutoff();
  const int64_t validation_cutoff = end - horizon;
  const int threads = ResolveThreads(options.booster_threads);

  // Hyperparameters and calibration are chosen at a validation cutoff one horizon before
  // the end of history, with a model trained only on what came before it.
  int best_depth = options.depths.empty() ? 3 : options.depths[options.depths.size() / 2];
  int best_rounds = options.max_rounds / 2;
  uint32_t next_group = 0;
  const HistoryView validation_history = history.Before(validation_cutoff);
  // Candidates are compared on half the rows: their ranking barely moves, the time halves.
  TrainOptions search = options;
  search.max_rows = options.max_rows / 2;
  auto validation_train = BuildTrainingRows(validation_history, validation_cutoff, offers, features, search,
                                            &next_group, "validation rows");
  if (validation_train.has_value()) {
    RowSet valid;
    const uint32_t first_valid_group = next_group;
    AppendRows(history, validation_cutoff, end, offers, features, 1.0, run.seed, &next_group, &valid, nullptr);
    KeepGroupsWithPositives(options.min_validation_positives, &valid);
    rep.validation_rows = valid.rows();
    CF_LOG_DEBUG("validation: {} training rows, {} validation rows ({:.1f} s)", validation_train->rows(), valid.rows(),
                 Elapsed(start));
    CF_ASSIGN_OR_RETURN(XgbMatrix dtrain, MatrixOf(*validation_train, threads));
    double best_lq = -1e9;
    std::vector<float> best_margins;
    Progress progress("choosing depth", options.depths.size() * static_cast<uint64_t>(options.max_rounds), "rounds");
    for (int depth : options.depths) {
      CF_ASSIGN_OR_RETURN(XgbBooster booster, XgbBooster::Create(dtrain, BoosterParams(options, run.seed, depth)));
      std::vector<float> margins(valid.rows(), 0.0f);
      int stale = 0;
      double depth_best = -1e9;
      for (int it = 0; it < options.max_rounds && stale < kPatience; ++it) {
        CF_RETURN_IF_ERROR(booster.UpdateOneIter(it, dtrain));
        progress.Add(1);
        if ((it + 1) % options.eval_every != 0) {
          continue;
        }
        CF_ASSIGN_OR_RETURN(std::vector<float> part, booster.Predict(valid.x, valid.rows(), valid.cols,
                                                                     it + 1 - options.eval_every, it + 1, true));
        for (size_t i = 0; i < margins.size(); ++i) {
          margins[i] += part[i];
        }
        int measured = 0;
        const double lq = MacroLiftQuality(margins, valid, &measured);
        rep.validation_offers = measured;
        CF_LOG_DEBUG("validation depth {} rounds {}: macro lift quality {:.2f} over {} offers ({:.1f} s)", depth,
                     it + 1, lq, measured, Elapsed(start));
        if (lq > depth_best) {
          depth_best = lq;
          stale = 0;
        } else {
          ++stale;
        }
        if (lq > best_lq) {
          best_lq = lq;
          best_depth = depth;
          best_rounds = it + 1;
          best_margins = margins;
        }
      }
    }
    progress.Finish();
    if (rep.validation_offers == 0) {
      CF_LOG_WARN(
          "no validation offer has {} buyers in the validation window; hyperparameters and calibration rest on "
          "no measurement",
          options.min_validation_positives);
    }
    rep.validation_lift_quality = best_lq;
    // The safeguard: a simple baseline (or a blend with it) that wins on validation by more
    // than noise is used instead of the trees alone, and calibrated as what is scored.
    CF_ASSIGN_OR_RETURN(
        model->blend_, ChooseBlend(validation_history, offers, first_valid_group, valid, options, &best_margins, &rep));
    if (!model->blend_.baseline.empty()) {
      CF_ASSIGN_OR_RETURN(model->blend_scorer_, MakeBlendScorer(model->blend_.baseline));
      CF_LOG_INFO("validation: {} blended in with weight {} (lift quality {:.2f}, trees alone {:.2f})",
                  model->blend_.baseline, model->blend_.weight, rep.blended_lift_quality, rep.validation_lift_quality);
    }
    rep.blend = model->blend_;
    model->parts_->calibration = PlattScaling::Fit(best_margins, valid.y, {});
    model->parts_->totals = OfferTotalsModel::Fit(history, validation_cutoff, offers, run.horizon_days, run.threads);
  } else {
    CF_LOG_WARN("no validation cutoff ({}); using depth {} and {} rounds uncalibrated",
                validation_train.error().message(), best_depth, best_rounds);
  }

  CF_ASSIGN_OR_RETURN(RowSet rows,
                      BuildTrainingRows(history, end, offers, features, options, &next_group, "training rows"));
  rep.training_rows = rows.rows();
  CF_LOG_DEBUG("final: {} training rows ({:.1f} s)", rows.rows(), Elapsed(start));
  CF_ASSIGN_OR_RETURN(XgbMatrix dtrain, MatrixOf(rows, threads));
  CF_ASSIGN_OR_RETURN(XgbBooster booster, XgbBooster::Create(dtrain, BoosterParams(options, run.seed, best_depth)));
  Progress progress("training", static_cast<uint64_t>(best_rounds), "rounds");
  for (int it = 0; it < best_rounds; ++it) {
    CF_RETURN_IF_ERROR(booster.UpdateOneIter(it, dtrain));
    progress.Add(1);
  }
  progress.Finish();
  CF_ASSIGN_OR_RETURN(model->booster_json_, booster.Save());
  CF_ASSIGN_OR_RETURN(model->parts_->forest, Forest::FromXgboostJson(model->booster_json_));
  // The embedding used at scoring time: the item subspace of all history before the end,
  // from every customer (the scoring population), sampled or not.
  features.sample = nullptr;
  const FeatureBuilder final_view(history, features, nullptr);
  model->parts_->factors = final_view.factors();
  model->parts_->cold =
      ColdStartModel::Fit(history, TrainingCutoffs(history, end, run.horizon_days, options), run.horizon_days);
  rep.cold_start_rows = model->parts_->cold.training_rows();
  rep.depth = best_depth;
  rep.rounds = best_rounds;
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  model->report_ = rep;
  if (report != nullptr) {
    *report = rep;
  }
  return model;
}

Result<OfferScores> UniversalModel::Score(const HistoryView& history, const offer::ProductSet& offer,
                                          std::span<const uint32_t> customers) const {
  OfferScores out;
  CF_RETURN_IF_ERROR(
      ScoreOffers(history, std::span<const offer::ProductSet>(&offer, 1), customers, [&](size_t, OfferScores scores) {
        out = std::move(scores);
        return Status::OK();
      }));
  return out;
}

Result<std::vector<OfferScores>> UniversalModel::ScoreOffers(const HistoryView& history,
                                                             std::span<const offer::ProductSet> offers,
                                                             std::span<const uint32_t> customers) const {
  std::vector<OfferScores> out;
  out.reserve(offers.size());
  CF_RETURN_IF_ERROR(ScoreOffers(history, offers, customers, [&](size_t, OfferScores scores) {
    out.push_back(std::move(scores));
    return Status::OK();
  }));
  return out;
}

Status UniversalModel::ScoreOffers(const HistoryView& history, std::span<const offer::ProductSet> offers,
                                   std::span<const uint32_t> customers, const OfferScoresSink& sink) const {
  for (size_t i = 0; i < customers.size(); ++i) {
    if (customers[i] >= history.num_customers()) {
      return Status::InvalidArgument(fmt::format("customers[{}] is {}; the history has customers 0 to {}", i,
                                                 customers[i], static_cast<int64_t>(history.num_customers()) - 1));
    }
  }
  for (size_t o = 0; o < offers.size(); ++o) {
    if (!offers[o].any && offers[o].members.size() != history.num_products()) {
      return Status::InvalidArgument(
          fmt::format("offers[{}] ('{}') was compiled against a catalog of {} products; this history has {}", o,
                      offers[o].name, offers[o].members.size(), history.num_products()));
    }
  }
  std::lock_guard<std::mutex> lock(cache_->mu);
  Cache& cache = *cache_;
  const FeatureBuilder& builder = BuilderFor(history);
  if (Sharded(collective_)) {
    for (size_t i = 0; i < customers.size(); ++i) {
      if (customers[i] < builder.customers_begin() || customers[i] >= builder.customers_end()) {
        return Status::InvalidArgument(
            fmt::format("customers[{}] is {}, outside this process's part of the customers ({} to {}; see ShardCustomers)",
                        i, customers[i], builder.customers_begin(), static_cast<int64_t>(builder.customers_end()) - 1));
      }
    }
  }
  // P(buys anything) of the customers without history, once per view: it does not depend on the offer.
  bool any_cold = false;
  for (uint32_t c : customers) {
    any_cold = any_cold || cache.builder->PopulationIndex(c) == FeatureBuilder::kNotInPopulation;
  }
  if (any_cold && !cache.cold.has_value()) {
    const ColdStartModel::OnView& cold = cache.cold.emplace(parts_->cold.On(history, threads_));
    const uint32_t first = builder.customers_begin();
    cache.cold_probability.assign(builder.customers_end() - first, 0.0);  // this process's part only
    ParallelFor(builder.customers_end() - first, threads_, [&](size_t, size_t b, size_t e) {
      for (size_t k = b; k < e; ++k) {
        const uint32_t customer = static_cast<uint32_t>(first + k);
        if (cache.builder->PopulationIndex(customer) == FeatureBuilder::kNotInPopulation &&
            KnownAt(history, customer)) {
          cache.cold_probability[k] = cold.BuyProbability(customer);
        }
      }
    });
  }
  // Only large requests get a bar: evaluate scores small populations many times under its own.
  std::optional<Progress> progress;
  if (customers.size() >= kProgressCustomers && (!Sharded(collective_) || collective_->rank() == 0)) {
    progress.emplace("scoring", cache.builder->population().size() * offers.size(), "customer-offers");
  }
  Progress* bar = progress.has_value() ? &*progress : nullptr;
  // Several offers: one per core, each on one thread, so that no core waits on the other at
  // an offer's serial steps (its summary, the specialized trees, the totals) nor between its
  // chunks. One offer, or a blend (its baseline may not be safe to call from two threads):
  // every core on each offer in turn. The scores are the same either way (every sum is taken
  // in blocks whose order does not depend on the threads).
  // Sharded, the offers go one at a time: every process must exchange the same offer's sums.
  const size_t workers = blend_scorer_ != nullptr || Sharded(collective_)
                             ? 1
                             : std::min(offers.size(), static_cast<size_t>(ResolveThreads(threads_)));
  if (cache.buffers.size() < std::max<size_t>(1, workers)) {
    cache.buffers.resize(std::max<size_t>(1, workers));
  }
  if (workers <= 1) {
    for (size_t o = 0; o < offers.size(); ++o) {
      OfferScores scores;
      CF_RETURN_IF_ERROR(ScoreOneOffer(history, offers[o], customers, threads_, bar, &cache.buffers[0], &scores));
      CF_RETURN_IF_ERROR(sink(o, std::move(scores)));
    }
  } else {
    CF_RETURN_IF_ERROR(ScoreOffersAtOnce(history, offers, customers, workers, bar, sink));
  }
  if (progress.has_value()) {
    progress->Finish();
  }
  return Status::OK();
}

const FeatureBuilder& UniversalModel::BuilderFor(const HistoryView& history) const {
  Cache& cache = *cache_;
  if (cache.builder == nullptr || cache.view != &history || cache.cutoff != history.cutoff()) {
    FeatureOptions features;
    features.levels = &levels_;
    features.embedding_level = embedding_level_;
    features.run.horizon_days = horizon_days_;
    features.run.threads = threads_;
    features.collective = collective_;
    const auto start = std::chrono::steady_clock::now();
    cache.builder = std::make_unique<FeatureBuilder>(history, features, &parts_->factors);
    CF_LOG_DEBUG("customer features of {} customers: {:.3f} s", history.num_customers(), Elapsed(start));
    cache.view = &history;
    cache.cutoff = history.cutoff();
    cache.cold.reset();
    cache.cold_probability.clear();
  }
  return *cache.builder;
}

std::vector<uint32_t> UniversalModel::ShardCustomers(const HistoryView& history) const {
  std::lock_guard<std::mutex> lock(cache_->mu);
  const FeatureBuilder& builder = BuilderFor(history);
  std::vector<uint32_t> customers(builder.customers_end() - builder.customers_begin());
  std::iota(customers.begin(), customers.end(), builder.customers_begin());
  return customers;
}

void UniversalModel::ShardAcross(const Collective* collective) {
  std::lock_guard<std::mutex> lock(cache_->mu);
  collective_ = collective;
  cache_->builder = nullptr;
}

Status UniversalModel::ScoreOffersAtOnce(const HistoryView& history, std::span<const offer::ProductSet> offers,
                                         std::span<const uint32_t> customers, size_t workers, Progress* progress,
                                         const OfferScoresSink& sink) const {
  // Workers take the next offer; this thread hands the scores to the sink in offer order.
  // A worker runs at most `workers` offers ahead of the sink, so memory holds that many.
  struct Slot {
    bool done = false;
    Status status;
    OfferScores scores;
  };
  std::vector<Slot> slots(offers.size());
  std::mutex mu;
  std::condition_variable changed;
  size_t next_offer = 0, delivered = 0;
  bool stop = false;
  auto work = [&](size_t w) {
    while (true) {
      size_t o = 0;
      {
        std::unique_lock<std::mutex> lock(mu);
        changed.wait(lock, [&] { return stop || next_offer >= offers.size() || next_offer < delivered + workers; });
        if (stop || next_offer >= offers.size()) {
          return;
        }
        o = next_offer++;
      }
      OfferScores scores;
      Status status = ScoreOneOffer(history, offers[o], customers, 1, progress, &cache_->buffers[w], &scores);
      std::lock_guard<std::mutex> lock(mu);
      slots[o].done = true;
      slots[o].status = std::move(status);
      slots[o].scores = std::move(scores);
      changed.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (size_t w = 0; w < workers; ++w) {
    pool.emplace_back(work, w);
  }
  Status result;
  for (size_t o = 0; o < offers.size() && result.ok(); ++o) {
    Slot slot;
    {
      std::unique_lock<std::mutex> lock(mu);
      changed.wait(lock, [&] { return slots[o].done; });
      slot = std::move(slots[o]);
    }
    result = slot.status.ok() ? sink(o, std::move(slot.scores)) : slot.status;
    std::lock_guard<std::mutex> lock(mu);
    delivered = o + 1;
    stop = !result.ok();
    changed.notify_all();
  }
  for (std::thread& t : pool) {
    t.join();
  }
  return result;
}

Status UniversalModel::ScoreOneOffer(const HistoryView& history, const offer::ProductSet& offer,
                                     std::span<const uint32_t> customers, int threads, Progress* progress,
                                     OfferBuffers* buffers, OfferScores* out) const {
  const Cache& cache = *cache_;
  const FeatureBuilder& builder = *cache.builder;
  const auto start = std::chrono::steady_clock::now();
  const size_t width = builder.num_features();
  CF_ASSIGN_OR_RETURN(const size_t offer_count_column, builder.layout().Index("offer_count"));
  // The trees score the whole population, whoever is requested: the offer's total (below) is
  // spread over it, so a customer's score does not depend on who else is in the request.
  const std::vector<uint32_t>& population = builder.population();
  const size_t pop = population.size();
  std::vector<float>& margins = buffers->margins;
  std::vector<float>& offer_counts = buffers->offer_counts;
  std::vector<float>& personal = buffers->personal;
  margins.resize(pop);
  offer_counts.resize(pop);
  OfferForests forests(parts_->forest, builder.layout(), offer_count_column);
  const OfferStats stats = builder.Compute(
      offer, population, 1.0f,
      [&](size_t first, std::span<const float> rows) {
        const size_t n = rows.size() / width;
        if (progress != nullptr) {
          progress->Add(n);
        }
        // The first chunk comes alone (and sets the forests up) and walks on every core;
        // the others come from every core at once, each walking on its own.
        forests.Predict(rows, width, std::span<float>(margins).subspan(first, n), first == 0 ? threads : 1);
        for (size_t i = 0; i < n; ++i) {
          offer_counts[first + i] = rows[i * width + offer_count_column];
        }
      },
      &personal, &buffers->workspace, FeatureBuilder::SinkCalls::kConcurrent, threads);
  if (blend_scorer_ != nullptr) {
    // Ranks in the view's population, as on validation.
    CF_ASSIGN_OR_RETURN(std::vector<float> ranks, BaselineRanks(*blend_scorer_, history, offer, population,
                                                               builder.population_begin(),
                                                               builder.whole_population(), collective_));
    for (size_t i = 0; i < pop; ++i) {
      margins[i] += static_cast<float>(blend_.weight) * ranks[i];
    }
  }
  CF_LOG_DEBUG("scored {} customers in {:.3f} s (offer features and trees)", pop, Elapsed(start));
  // Spend of a buyer in the window: the offer's recent revenue per buyer, scaled by how much
  // this customer spends per offer purchase relative to everyone, shrunk toward 1.
  const double per_buyer =
      stats.buyers_recent > 0 ? stats.revenue_recent / stats.buyers_recent : stats.revenue_per_event;
  std::vector<double>& probability = buffers->probability;
  std::vector<double>& spend = buffers->spend;
  probability.resize(pop);  // the calibrated logits first, then the probabilities
  spend.resize(pop);
  ParallelFor(pop, threads, [&](size_t, size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      probability[i] = parts_->calibration.Logit(margins[i]);
      double ratio = 1.0;
      if (std::isfinite(personal[i]) && stats.revenue_per_event > 0) {
        const double n = offer_counts[i];
        ratio = (n * personal[i] / stats.revenue_per_event + kRevenuePrior) / (n + kRevenuePrior);
      }
      spend[i] = per_buyer * ratio;
    }
  });
  // The offer's totals, which never grow when products are removed (offer_totals.h): the
  // probabilities are shifted to sum to its expected buyers, the revenue scaled to its own.
  // Sharded, the sums span every process's part (each a whole number of blocks).
  static_assert(FeatureBuilder::kPartBlock % kShiftBlock == 0);
  const OfferWindows& windows = stats.windows;
  double revenue_scale = 0;
  if (const uint64_t whole = builder.whole_population(); whole > 0) {
    const double buyers = std::clamp(parts_->totals.ExpectedBuyers(windows), kMinExpectedBuyers,
                                     kMaxBuyerShare * static_cast<double>(whole));
    std::vector<double>& shifted = buffers->shifted;
    shifted.resize(pop);
    LogitShiftOfLogitsToTotal(probability, buyers, threads, shifted, collective_);
    probability.swap(shifted);
    std::vector<double> block_revenue((pop + kShiftBlock - 1) / kShiftBlock, 0.0);
    for (size_t i = 0; i < pop; ++i) {
      block_revenue[i / kShiftBlock] += probability[i] * spend[i];
    }
    const double raw_revenue = SumInBlockOrder(collective_, block_revenue, 1)[0];
    revenue_scale = raw_revenue > 0 ? parts_->totals.ExpectedRevenue(windows) / raw_revenue : 0;
  }
  out->probability.resize(customers.size());
  out->expected_revenue.resize(customers.size());
  std::optional<ColdStartModel::OfferShare> share;  // new customers' share of the offer, when needed
  for (size_t r = 0; r < customers.size(); ++r) {
    const uint32_t c = customers[r];
    if (const uint32_t i = builder.PopulationIndex(c); i != FeatureBuilder::kNotInPopulation) {
      out->probability[r] = probability[i];
      out->expected_revenue[r] = probability[i] * spend[i] * revenue_scale;
      continue;
    }
    // No purchase yet: the cold-start estimate, for customers the CRM knew at the cutoff.
    const double p_any = cache.cold_probability[c - builder.customers_begin()];
    if (p_any > 0 && !share.has_value()) {
      share = cache.cold->Share(offer, windows, builder.AnyWindows());
    }
    out->probability[r] = share.has_value() ? p_any * share->buyers : 0.0;
    out->expected_revenue[r] = share.has_value() ? p_any * share->revenue : 0.0;
  }
  return Status::OK();
}

uint64_t UniversalModel::MemoryBytes() const {
  uint64_t bytes = parts_->factors.v.size() * sizeof(float);
  for (const Level& level : levels_) {
    bytes += level.code_of_product.size() * sizeof(uint32_t);
    for (const std::string& v : level.values) {
      bytes += v.size() + sizeof(std::string);
    }
  }
  return bytes;
}

Status UniversalModel::Save(const std::string& dir) const {
  nlohmann::json j;
  j["format_version"] = kFormatVersion;
  j["kind"] = "universal";
  j["horizon_days"] = horizon_days_;
  std::vector<std::string> level_names;
  for (const Level& level : levels_) {
    level_names.push_back(level.name);
  }
  j["levels"] = level_names;
  j["embedding_level"] = embedding_level_;
  j["feature_names"] = FeatureBuilder::Names(levels_);
  j["calibration"] = {{"a", parts_->calibration.a}, {"b", parts_->calibration.b}};
  j["blend"] = {{"baseline", blend_.baseline}, {"weight", blend_.weight}};
  j["offer_totals"] = {{"buyer_weights", parts_->totals.buyer_weights},
                       {"revenue_weights", parts_->totals.revenue_weights},
                       {"fitted_offers", parts_->totals.fitted_offers}};
  j["cold_start"] = parts_->cold.ToJson();
  j["factors"] = {{"groups", parts_->factors.num_groups}, {"rank", parts_->factors.rank}, {"v", parts_->factors.v}};
  j["training"] = {{"depth", report_.depth},
                   {"rounds", report_.rounds},
                   {"validation_lift_quality", report_.validation_lift_quality},
                   {"training_rows", report_.training_rows},
                   {"training_customers", report_.training_customers},
                   {"validation_rows", report_.validation_rows},
                   {"seconds", report_.seconds}};
  CF_ASSIGN_OR_RETURN(std::string tmp, MakeTempDirBeside(dir));
  CF_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/" + kModelFile, j.dump(1)));
  CF_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/" + kBoosterFile, booster_json_));
  return ReplaceDirectory(tmp, dir);
}

Result<std::unique_ptr<UniversalModel>> UniversalModel::Load(const std::string& dir, const data::Catalog& catalog,
                                                             int threads) {
  CF_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/" + kModelFile));
  auto model = std::unique_ptr<UniversalModel>(new UniversalModel());
  std::vector<std::string> saved_features;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    if (j.at("format_version").get<int>() != kFormatVersion || j.at("kind").get<std::string>() != "universal") {
      return Err(
          Status::InvalidArgument(dir + ": not a universal model of format version " + std::to_string(kFormatVersion)));
    }
    model->horizon_days_ = j.at("horizon_days").get<int>();
    model->threads_ = threads;
    const auto names = j.at("levels").get<std::vector<std::string>>();
    if (names.size() > kMaxLevels) {
      return Err(Status::Corruption(
          fmt::format("{}: the model has {} levels; at most {} are possible", dir, names.size(), kMaxLevels)));
    }
    model->levels_ = LevelsByName(catalog, names);
    if (model->levels_.size() != names.size()) {
      return Err(
          Status::InvalidArgument(fmt::format("{}: the model groups products by {}, which this dataset's catalog "
                                              "lacks",
                                              dir, Join(names, ", "))));
    }
    saved_features = j.at("feature_names").get<std::vector<std::string>>();
    model->embedding_level_ = j.at("embedding_level").get<int>();
    model->parts_->calibration.a = j.at("calibration").at("a").get<double>();
    model->parts_->calibration.b = j.at("calibration").at("b").get<double>();
    model->blend_.baseline = j.at("blend").at("baseline").get<std::string>();
    model->blend_.weight = j.at("blend").at("weight").get<double>();
    model->report_.blend = model->blend_;
    const nlohmann::json& totals = j.at("offer_totals");
    for (int k = 0; k < kOfferWindows; ++k) {
      model->parts_->totals.buyer_weights[k] = totals.at("buyer_weights").at(static_cast<size_t>(k)).get<double>();
      model->parts_->totals.revenue_weights[k] = totals.at("revenue_weights").at(static_cast<size_t>(k)).get<double>();
    }
    model->parts_->totals.fitted_offers = totals.at("fitted_offers").get<int>();
    auto cold = ColdStartModel::FromJson(j.at("cold_start"));
    if (!cold.has_value()) {
      return Err(cold.error().WithPrefix(dir + "/" + kModelFile));
    }
    model->parts_->cold = *std::move(cold);
    model->parts_->factors.num_groups = j.at("factors").at("groups").get<uint32_t>();
    model->parts_->factors.rank = j.at("factors").at("rank").get<uint32_t>();
    model->parts_->factors.v = j.at("factors").at("v").get<std::vector<float>>();
    const nlohmann::json& t = j.at("training");
    model->report_.depth = t.at("depth").get<int>();
    model->report_.rounds = t.at("rounds").get<int>();
    model->report_.validation_lift_quality = t.at("validation_lift_quality").get<double>();
    model->report_.levels = names;
  } catch (const nlohmann::json::exception& e) {
    return Err(Status::Corruption(fmt::format("{}/{}: {}", dir, kModelFile, e.what())));
  }
  CF_ASSIGN_OR_RETURN(model->booster_json_, ReadFile(dir + "/" + kBoosterFile));
  auto forest = Forest::FromXgboostJson(model->booster_json_);
  if (!forest.has_value()) {
    return Err(forest.error().WithPrefix(dir + "/" + kBoosterFile));
  }
  model->parts_->forest = *std::move(forest);
  if (!model->blend_.baseline.empty()) {
    auto scorer = MakeBlendScorer(model->blend_.baseline);
    if (!scorer.has_value()) {
      return Err(scorer.error().WithPrefix(dir + "/" + kModelFile));
    }
    model->blend_scorer_ = *std::move(scorer);
  }
  // The trees read columns by position: the saved names must be this version's layout.
  const std::vector<std::string> names = FeatureBuilder::Names(model->levels_);
  for (size_t i = 0; i < std::max(names.size(), saved_features.size()); ++i) {
    const std::string want = i < names.size() ? names[i] : "(none)";
    const std::string got = i < saved_features.size() ? saved_features[i] : "(none)";
    if (want != got) {
      return Err(Status::InvalidArgument(
          fmt::format("{}/{}: feature_names[{}] is '{}' but this version computes '{}' there; retrain the model", dir,
                      kModelFile, i, got, want)));
    }
  }
  if (model->parts_->forest.num_features() != names.size()) {
    return Err(Status::InvalidArgument(fmt::format("{}/{}: the trees use {} features, this version computes {}", dir,
                                                   kBoosterFile, model->parts_->forest.num_features(), names.size())));
  }
  return model;
}

namespace {

// The universal model behind the Scorer interface: Fit trains it on the history.
class UniversalScorer final : public Scorer {
 public:
  explicit UniversalScorer(const ScorerContext& context) : context_(context) {}
  std::string_view name() const override { return "universal"; }
  Status Fit(const HistoryView& history) override {
    const TrainOptions options = context_.train != nullptr ? *context_.train : TrainOptions{};
    CF_ASSIGN_OR_RETURN(model_, UniversalModel::Train(history, context_.levels, context_.run, options, nullptr));
    return Status::OK();
  }
  Status Score(const HistoryView& history, const offer::ProductSet& offer, std::span<const uint32_t> customers,
               std::span<double> scores) const override {
    if (model_ == nullptr) {
      return Status::FailedPrecondition("the universal model must be fitted before scoring");
    }
    CF_ASSIGN_OR_RETURN(OfferScores s, model_->Score(history, offer, customers));
    std::copy(s.probability.begin(), s.probability.end(), scores.begin());
    return Status::OK();
  }

 private:
  ScorerContext context_;
  std::unique_ptr<UniversalModel> model_;
};

}  // namespace

std::unique_ptr<Scorer> MakeUniversalScorer(const ScorerContext& context) {
  return std::make_unique<UniversalScorer>(context);
}

}  // namespace cf::model
