// The baselines the universal model must beat, exactly as ../shared/data/README.md defines
// them, plus an item-item collaborative scorer.
#include "model/baselines.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

#include "base/hash.h"
#include "base/time.h"
#include "model/signals.h"

namespace cf::model {
namespace {

class RandomScorer final : public Scorer {
 public:
  explicit RandomScorer(uint64_t seed) : seed_(seed) {}
  std::string_view name() const override { return "random"; }
  Status Fit(const HistoryView&) override { return Status::OK(); }
  Status Score(const HistoryView&, const offer::ProductSet& offer, std::span<const uint32_t> customers,
               std::span<double> scores) const override {
    const uint64_t offer_hash = std::hash<std::string>{}(offer.name);
    for (size_t i = 0; i < customers.size(); ++i) {
      scores[i] = UnitInterval(Mix(seed_ ^ Mix(offer_hash ^ customers[i])));
    }
    return Status::OK();
  }

 private:
  uint64_t seed_;
};

class PopularityScorer final : public Scorer {
 public:
  std::string_view name() const override { return "popularity"; }
  Status Fit(const HistoryView&) override { return Status::OK(); }
  Status Score(const HistoryView& history, const offer::ProductSet&, std::span<const uint32_t> customers,
               std::span<double> scores) const override {
    for (size_t i = 0; i < customers.size(); ++i) {
      scores[i] = static_cast<double>(history.Customer(customers[i]).size());
    }
    return Status::OK();
  }
};

// Count in the offer, then its most recent purchase, then total purchases; equal keys tie.
class TopicRfmScorer final : public Scorer {
 public:
  std::string_view name() const override { return "topic_rfm"; }
  Status Fit(const HistoryView&) override { return Status::OK(); }
  Status Score(const HistoryView& history, const offer::ProductSet& offer, std::span<const uint32_t> customers,
               std::span<double> scores) const override {
    using Key = std::tuple<uint64_t, int64_t, uint64_t>;
    std::vector<Key> keys(customers.size());
    for (size_t i = 0; i < customers.size(); ++i) {
      const CustomerEvents ev = history.Customer(customers[i]);
      uint64_t count = 0;
      int64_t last = INT64_MIN;
      for (size_t e = 0; e < ev.size(); ++e) {
        if (offer.Contains(ev.product[e])) {
          ++count;
          last = std::max(last, ev.time[e]);
        }
      }
      keys[i] = {count, last, ev.size()};
    }
    std::vector<uint32_t> idx(keys.size());
    std::iota(idx.begin(), idx.end(), 0u);
    std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });
    double rank = 0;
    for (size_t i = 0; i < idx.size(); ++i) {
      if (i > 0 && keys[idx[i]] != keys[idx[i - 1]]) {
        ++rank;
      }
      scores[idx[i]] = rank;
    }
    return Status::OK();
  }
};

class DecayScorer final : public Scorer {
 public:
  std::string_view name() const override { return "decay"; }
  Status Fit(const HistoryView&) override { return Status::OK(); }
  Status Score(const HistoryView& history, const offer::ProductSet& offer, std::span<const uint32_t> customers,
               std::span<double> scores) const override {
    for (size_t i = 0; i < customers.size(); ++i) {
      const CustomerEvents ev = history.Customer(customers[i]);
      double s = 0;
      for (size_t e = 0; e < ev.size(); ++e) {
        if (offer.Contains(ev.product[e])) {
          s += DecayWeight(static_cast<double>(history.cutoff() - ev.time[e]) / kSecondsPerDay);
        }
      }
      scores[i] = s;
    }
    return Status::OK();
  }
};

// Item-item collaborative filtering over the finest product grouping: a customer scores the
// sum, over the groups they bought, of the cosine similarity between the group's buyers and
// the offer's buyers. Computed per offer, so it works for any ad-hoc offer.
class ItemCfScorer final : public Scorer {
 public:
  explicit ItemCfScorer(const ScorerContext& context) : level_(FinestLevel(context.levels, 0)) {}
  std::string_view name() const override { return "item_cf"; }
  Status Fit(const HistoryView& history) override {
    if (level_.code_of_product.empty()) {
      level_ = FinestLevel({}, history.num_products());
    }
    return Status::OK();
  }
  Status Score(const HistoryView& history, const offer::ProductSet& offer, std::span<const uint32_t> customers,
               std::span<double> scores) const override {
    const size_t groups = level_.values.size() + 1;  // + one group for events without product
    const uint32_t no_group = static_cast<uint32_t>(level_.values.size());
    auto group_of = [&](uint32_t p) { return p == data::kNoProduct ? no_group : level_.code_of_product[p]; };
    std::vector<double> buyers(groups, 0), both(groups, 0);
    std::vector<uint32_t> stamp(groups, UINT32_MAX);
    double offer_buyers = 0;
    const uint32_t n = history.num_customers();
    std::vector<uint8_t> bought(n, 0);
    for (uint32_t c = 0; c < n; ++c) {
      const CustomerEvents ev = history.Customer(c);
      for (size_t e = 0; e < ev.size() && !bought[c]; ++e) {
        bought[c] = offer.Contains(ev.product[e]) ? 1 : 0;
      }
      offer_buyers += bought[c];
      for (size_t e = 0; e < ev.size(); ++e) {
        const uint32_t g = group_of(ev.product[e]);
        if (stamp[g] != c) {
          stamp[g] = c;
          buyers[g] += 1;
          both[g] += bought[c];
        }
      }
    }
    std::vector<double> sim(groups, 0);
    for (size_t g = 0; g < groups; ++g) {
      sim[g] = BuyerCosine(both[g], buyers[g], offer_buyers);
    }
    std::fill(stamp.begin(), stamp.end(), UINT32_MAX);
    for (size_t i = 0; i < customers.size(); ++i) {
      const uint32_t c = customers[i];
      const CustomerEvents ev = history.Customer(c);
      double s = 0;
      for (size_t e = 0; e < ev.size(); ++e) {
        const uint32_t g = group_of(ev.product[e]);
        if (stamp[g] != c) {
          stamp[g] = c;
          s += sim[g];
        }
      }
      scores[i] = s;
    }
    return Status::OK();
  }

 private:
  Level level_;
};

}  // namespace

std::unique_ptr<Scorer> MakeRandomScorer(const ScorerContext& context) {
  return std::make_unique<RandomScorer>(context.run.seed);
}
std::unique_ptr<Scorer> MakePopularityScorer(const ScorerContext&) { return std::make_unique<PopularityScorer>(); }
std::unique_ptr<Scorer> MakeTopicRfmScorer(const ScorerContext&) { return std::make_unique<TopicRfmScorer>(); }
std::unique_ptr<Scorer> MakeDecayScorer(const ScorerContext&) { return std::make_unique<DecayScorer>(); }
std::unique_ptr<Scorer> MakeItemCfScorer(const ScorerContext& context) {
  return std::make_unique<ItemCfScorer>(context);
}

}  // namespace cf::model
