#include "model/features.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numeric>

#include "base/time.h"
#include "model/parallel.h"

namespace cf::model {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr double kDecayPerWeek = 0.9;  // as the decay baseline: a purchase a week older weighs 0.9
constexpr size_t kPercentileSample = 20000;
constexpr size_t kRowChunk = 16384;   // rows per chunk handed to the sink: a few MB, reused
constexpr size_t kLevelFeatures = 3;  // count, recency, decay per level

double Days(int64_t seconds) { return static_cast<double>(seconds) / kSecondsPerDay; }
int64_t DayOf(int64_t t) { return t >= 0 ? t / kSecondsPerDay : (t - kSecondsPerDay + 1) / kSecondsPerDay; }

// Per population customer facts about one offer, gathered in one pass over the history.
struct OfferFacts {
  float count = 0, days = 0, last = 0, first = 0, decay = 0, recent = 0, spend = 0;
  bool in_recent = false, in_previous = false;
};

}  // namespace

std::vector<float> Percentiles(std::span<const float> values) {
  std::vector<float> sample;
  const size_t n = values.size();
  const size_t step = std::max<size_t>(1, n / kPercentileSample);
  for (size_t i = 0; i < n; i += step) {
    sample.push_back(values[i]);
  }
  std::sort(sample.begin(), sample.end());
  const double m = static_cast<double>(sample.size());
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    const auto lo = std::lower_bound(sample.begin(), sample.end(), values[i]);
    const auto hi = std::upper_bound(lo, sample.end(), values[i]);
    const double below = static_cast<double>(lo - sample.begin());
    const double equal = static_cast<double>(hi - lo);
    out[i] = static_cast<float>((below + equal / 2.0) / std::max(m, 1.0));
  }
  return out;
}

std::vector<std::string> FeatureBuilder::Names(const std::vector<Level>& levels) {
  std::vector<std::string> names = {"customer_log_events",
                                    "customer_days",
                                    "customer_recency",
                                    "customer_tenure",
                                    "customer_mean_gap",
                                    "customer_recency_over_gap",
                                    "customer_log_spend",
                                    "customer_online_share",
                                    "customer_recent_events",
                                    "customer_events_pct",
                                    "customer_recency_pct",
                                    "offer_count",
                                    "offer_days",
                                    "offer_recency",
                                    "offer_decay",
                                    "offer_recent",
                                    "offer_log_spend",
                                    "offer_share",
                                    "offer_first",
                                    "offer_gap",
                                    "offer_recency_over_gap",
                                    "offer_recency_over_customer_gap",
                                    "offer_decay_pct"};
  for (const Level& level : levels) {
    names.push_back(level.name + "_count");
    names.push_back(level.name + "_recency");
    names.push_back(level.name + "_decay");
  }
  names.insert(names.end(), {"affinity", "affinity_cosine", "affinity_pct", "item_cf", "item_cf_mean",
                             "offer_popularity_recent", "offer_popularity_ever", "offer_trend", "offer_repeat_rate",
                             "offer_new_rate", "offer_log_products", "window_share"});
  return names;
}

FeatureBuilder::FeatureBuilder(const HistoryView& view, const FeatureOptions& options, const ItemFactors* factors)
    : view_(&view), options_(options) {
  static const std::vector<Level> kNoLevels;
  if (options_.levels == nullptr) {
    options_.levels = &kNoLevels;
  }
  names_ = Names(*options_.levels);
  const uint32_t n = view.num_customers();
  const int64_t cutoff = view.cutoff();
  const int64_t horizon = static_cast<int64_t>(options_.horizon_days) * kSecondsPerDay;
  facts_.resize(n);
  const std::vector<uint8_t>* sample = options_.sample;
  auto in_population = [&](uint32_t c) { return view.HasHistory(c) && (sample == nullptr || (*sample)[c] != 0); };
  for (uint32_t c = 0; c < n; ++c) {
    if (in_population(c)) {
      population_.push_back(c);
    }
  }
  ParallelFor(population_.size(), options_.threads, [&](size_t, size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const uint32_t c = population_[i];
      const CustomerEvents ev = view.Customer(c);
      CustomerFacts& f = facts_[c];
      int64_t prev_day = INT64_MIN;
      double online = 0;
      double spend = 0;
      for (size_t k = 0; k < ev.size(); ++k) {
        const int64_t day = DayOf(ev.time[k]);
        f.days += day != prev_day ? 1.0f : 0.0f;
        prev_day = day;
        spend += ev.revenue[k];
        online += ev.channel[k] == static_cast<uint8_t>(data::Channel::kOnline) ? 1.0 : 0.0;
        f.recent_events += ev.time[k] >= cutoff - horizon ? 1.0f : 0.0f;
      }
      f.events = static_cast<float>(ev.size());
      f.recency = static_cast<float>(Days(cutoff - ev.time.back()));
      f.tenure = static_cast<float>(Days(cutoff - ev.time.front()));
      f.mean_gap = f.days > 1 ? static_cast<float>(Days(ev.time.back() - ev.time.front()) / (f.days - 1)) : kNaN;
      f.spend = static_cast<float>(spend);
      f.online_share = static_cast<float>(online / static_cast<double>(ev.size()));
    }
  });
  std::vector<float> events(population_.size()), recency(population_.size());
  for (size_t i = 0; i < population_.size(); ++i) {
    events[i] = facts_[population_[i]].events;
    recency[i] = -facts_[population_[i]].recency;
  }
  const std::vector<float> events_pct = Percentiles(events);
  const std::vector<float> recency_pct = Percentiles(recency);
  for (size_t i = 0; i < population_.size(); ++i) {
    facts_[population_[i]].events_pct = events_pct[i];
    facts_[population_[i]].recency_pct = recency_pct[i];
  }

  // Customer rows of the embedded grouping: log(1 + purchases per group).
  if (options_.embedding_level >= 0) {
    const Level& level = (*options_.levels)[static_cast<size_t>(options_.embedding_level)];
    const uint32_t groups = static_cast<uint32_t>(level.values.size());
    // Two parallel passes: count each customer's distinct groups, then fill the rows.
    groups_.offsets.assign(static_cast<size_t>(n) + 1, 0);
    auto for_each_row = [&](auto&& emit) {
      ParallelFor(n, options_.threads, [&](size_t, size_t b, size_t e) {
        std::vector<uint32_t> count(groups, 0);
        std::vector<uint32_t> touched;
        for (size_t c = b; c < e; ++c) {
          // Customers outside the population get empty rows, so group buyers and the
          // embedding describe the same customers as the offer's buyers.
          const CustomerEvents ev =
              in_population(static_cast<uint32_t>(c)) ? view.Customer(static_cast<uint32_t>(c)) : CustomerEvents{};
          touched.clear();
          for (size_t k = 0; k < ev.size(); ++k) {
            if (ev.product[k] != data::kNoProduct) {
              const uint32_t g = level.code_of_product[ev.product[k]];
              if (count[g]++ == 0) {
                touched.push_back(g);
              }
            }
          }
          std::sort(touched.begin(), touched.end());
          emit(c, touched, count);
          for (uint32_t g : touched) {
            count[g] = 0;
          }
        }
      });
    };
    for_each_row([&](size_t c, const std::vector<uint32_t>& touched, const std::vector<uint32_t>&) {
      groups_.offsets[c + 1] = touched.size();
    });
    std::partial_sum(groups_.offsets.begin(), groups_.offsets.end(), groups_.offsets.begin());
    groups_.groups.resize(groups_.offsets.back());
    groups_.values.resize(groups_.offsets.back());
    for_each_row([&](size_t c, const std::vector<uint32_t>& touched, const std::vector<uint32_t>& count) {
      double norm = 0;
      uint64_t at = groups_.offsets[c];
      for (uint32_t g : touched) {
        const float x = std::log1p(static_cast<float>(count[g]));
        groups_.groups[at] = g;
        groups_.values[at] = x;
        ++at;
        norm += static_cast<double>(x) * x;
      }
      facts_[c].norm = static_cast<float>(std::sqrt(norm));
    });
    group_buyers_.assign(groups, 0.0f);
    for (uint32_t g : groups_.groups) {
      group_buyers_[g] += 1.0f;
    }
    if (factors != nullptr) {
      factors_ = *factors;
    } else {
      factors_ = ComputeItemFactors(groups_, groups, options_.rank);
    }
  }
}

OfferStats FeatureBuilder::Compute(const offer::ProductSet& offer, std::span<const uint32_t> customers,
                                   float window_share, const RowSink& sink,
                                   std::vector<float>* personal_revenue) const {
  const std::vector<Level>& levels = *options_.levels;
  const size_t num_levels = levels.size();
  const int64_t cutoff = view_->cutoff();
  const int64_t horizon = static_cast<int64_t>(options_.horizon_days) * kSecondsPerDay;
  const double log_decay = std::log(kDecayPerWeek) / 7.0;

  // Which groups of each level the offer touches: the offer's "levels above".
  std::vector<std::vector<uint8_t>> level_mask(num_levels);
  for (size_t l = 0; l < num_levels; ++l) {
    level_mask[l].assign(levels[l].values.size(), offer.any ? 1 : 0);
    if (!offer.any) {
      for (size_t p = 0; p < offer.members.size(); ++p) {
        if (offer.members[p] != 0) {
          level_mask[l][levels[l].code_of_product[p]] = 1;
        }
      }
    }
  }

  const size_t pop = population_.size();
  std::vector<OfferFacts> facts(pop);
  std::vector<float> level_facts(pop * num_levels * kLevelFeatures, 0.0f);
  const int threads = ResolveThreads(options_.threads);
  const uint32_t groups = factors_.num_groups;
  std::vector<std::vector<float>> group_weight(static_cast<size_t>(threads), std::vector<float>(groups, 0.0f));
  std::vector<double> thread_revenue(static_cast<size_t>(threads), 0.0),
      thread_events(static_cast<size_t>(threads), 0.0);
  const Level* embed_level =
      options_.embedding_level >= 0 ? &levels[static_cast<size_t>(options_.embedding_level)] : nullptr;

  ParallelFor(pop, threads, [&](size_t t, size_t b, size_t e) {
    std::vector<float>& weight = group_weight[t];
    for (size_t i = b; i < e; ++i) {
      const CustomerEvents ev = view_->Customer(population_[i]);
      OfferFacts& f = facts[i];
      float* lf = &level_facts[i * num_levels * kLevelFeatures];
      int64_t prev_day = INT64_MIN;
      bool seen = false;
      for (size_t k = 0; k < ev.size(); ++k) {
        const uint32_t p = ev.product[k];
        const int64_t t_k = ev.time[k];
        const double age = Days(cutoff - t_k);
        // exp() only for events that count somewhere: most events match neither.
        float decay = -1.0f;
        auto decayed = [&] {
          if (decay < 0) {
            decay = static_cast<float>(std::exp(log_decay * age));
          }
          return decay;
        };
        if (offer.Contains(p)) {
          const int64_t day = DayOf(t_k);
          f.days += day != prev_day ? 1.0f : 0.0f;
          prev_day = day;
          if (!seen) {
            f.first = static_cast<float>(age);
            seen = true;
          }
          f.last = static_cast<float>(age);
          f.count += 1;
          f.decay += decayed();
          f.spend += ev.revenue[k];
          f.recent += t_k >= cutoff - horizon ? 1.0f : 0.0f;
          f.in_recent |= t_k >= cutoff - horizon;
          f.in_previous |= t_k >= cutoff - 2 * horizon && t_k < cutoff - horizon;
          thread_revenue[t] += ev.revenue[k];
          thread_events[t] += 1;
          if (embed_level != nullptr && p != data::kNoProduct) {
            weight[embed_level->code_of_product[p]] += 1.0f;
          }
        }
        if (p == data::kNoProduct) {
          continue;
        }
        for (size_t l = 0; l < num_levels; ++l) {
          if (level_mask[l][levels[l].code_of_product[p]] != 0) {
            lf[l * kLevelFeatures] += 1.0f;
            lf[l * kLevelFeatures + 1] = static_cast<float>(age);
            lf[l * kLevelFeatures + 2] += decayed();
          }
        }
      }
    }
  });

  OfferStats stats;
  stats.population = static_cast<double>(pop);
  double buyers_ever = 0, buyers_previous = 0, repeat = 0, fresh = 0, revenue = 0, events = 0;
  for (size_t i = 0; i < pop; ++i) {
    const OfferFacts& f = facts[i];
    buyers_ever += f.count > 0 ? 1 : 0;
    stats.buyers_recent += f.in_recent ? 1 : 0;
    buyers_previous += f.in_previous ? 1 : 0;
    repeat += f.in_previous && f.in_recent ? 1 : 0;
    fresh += !f.in_previous && f.in_recent ? 1 : 0;
    if (f.in_recent) {
      // Revenue in the recent window is not tracked per event; approximate by the share.
      stats.revenue_recent += f.count > 0 ? f.spend * (f.recent / f.count) : 0;
    }
  }
  for (int t = 0; t < threads; ++t) {
    revenue += thread_revenue[static_cast<size_t>(t)];
    events += thread_events[static_cast<size_t>(t)];
  }
  stats.revenue_per_event = events > 0 ? revenue / events : 0;
  const double popd = std::max(1.0, stats.population);
  const float popularity_recent = static_cast<float>(stats.buyers_recent / popd);
  const float popularity_ever = static_cast<float>(buyers_ever / popd);
  const float trend = static_cast<float>((stats.buyers_recent + 1) / (buyers_previous + 1));
  const float repeat_rate = static_cast<float>((repeat + 1) / (buyers_previous + 2));
  const float new_rate = static_cast<float>((fresh + 1) / (popd - buyers_previous + 2));
  const float log_products = static_cast<float>(std::log1p(static_cast<double>(offer.count)));

  // Collaborative affinity through the item subspace.
  std::vector<float> affinity(pop, 0.0f), cosine(pop, 0.0f);
  if (groups > 0) {
    std::vector<float> w(groups, 0.0f);
    double total = 0;
    for (const std::vector<float>& tw : group_weight) {
      for (uint32_t g = 0; g < groups; ++g) {
        w[g] += tw[g];
        total += tw[g];
      }
    }
    for (float& x : w) {
      x = total > 0 ? static_cast<float>(x / total) : 0.0f;
    }
    const std::vector<float> z = factors_.Project(w);
    double z_norm = 0;
    for (float x : z) {
      z_norm += static_cast<double>(x) * x;
    }
    z_norm = std::sqrt(z_norm);
    ParallelFor(pop, threads, [&](size_t, size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        const uint32_t c = population_[i];
        double s = 0;
        for (uint64_t k = groups_.offsets[c]; k < groups_.offsets[c + 1]; ++k) {
          if (groups_.groups[k] < groups) {
            s += static_cast<double>(groups_.values[k]) * z[groups_.groups[k]];
          }
        }
        affinity[i] = static_cast<float>(s);
        const double denom = static_cast<double>(facts_[c].norm) * z_norm;
        cosine[i] = denom > 0 ? static_cast<float>(s / denom) : 0.0f;
      }
    });
  }
  const std::vector<float> affinity_pct = Percentiles(affinity);

  // Item-item similarity: cosine between each group's buyers and the offer's buyers, summed
  // over the groups the customer bought.
  std::vector<float> item_cf(pop, 0.0f), item_cf_mean(pop, 0.0f);
  if (!group_buyers_.empty()) {
    std::vector<double> both(group_buyers_.size(), 0.0);
    double offer_buyers = 0;
    for (size_t i = 0; i < pop; ++i) {
      if (facts[i].count > 0) {
        offer_buyers += 1;
        const uint32_t c = population_[i];
        for (uint64_t k = groups_.offsets[c]; k < groups_.offsets[c + 1]; ++k) {
          both[groups_.groups[k]] += 1;
        }
      }
    }
    std::vector<float> sim(group_buyers_.size(), 0.0f);
    for (size_t g = 0; g < sim.size(); ++g) {
      if (both[g] > 0) {
        sim[g] = static_cast<float>(both[g] / std::sqrt(static_cast<double>(group_buyers_[g]) * offer_buyers));
      }
    }
    ParallelFor(pop, threads, [&](size_t, size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        const uint32_t c = population_[i];
        float s = 0;
        for (uint64_t k = groups_.offsets[c]; k < groups_.offsets[c + 1]; ++k) {
          s += sim[groups_.groups[k]];
        }
        const uint64_t n = groups_.offsets[c + 1] - groups_.offsets[c];
        item_cf[i] = s;
        item_cf_mean[i] = n > 0 ? s / static_cast<float>(n) : 0.0f;
      }
    });
  }
  std::vector<float> decays(pop);
  for (size_t i = 0; i < pop; ++i) {
    decays[i] = facts[i].decay;
  }
  const std::vector<float> decay_pct = Percentiles(decays);

  // Index of each customer in the population, to assemble the requested rows.
  std::vector<int64_t> slot(view_->num_customers(), -1);
  for (size_t i = 0; i < pop; ++i) {
    slot[population_[i]] = static_cast<int64_t>(i);
  }
  const size_t width = names_.size();
  if (personal_revenue != nullptr) {
    personal_revenue->assign(customers.size(), kNaN);
  }
  std::vector<float> block;
  for (size_t first = 0; first < customers.size(); first += kRowChunk) {
    const size_t count = std::min(kRowChunk, customers.size() - first);
    block.resize(count * width);  // every cell is written below
    ParallelFor(count, threads, [&](size_t, size_t b, size_t e) {
      for (size_t k = b; k < e; ++k) {
        const size_t r = first + k;
        const uint32_t c = customers[r];
        const int64_t i = slot[c];
        float* row = &block[k * width];
        const CustomerFacts& cf = facts_[c];
        size_t j = 0;
        const bool known = i >= 0;
        row[j++] = std::log1p(cf.events);
        row[j++] = cf.days;
        row[j++] = known ? cf.recency : kNaN;
        row[j++] = known ? cf.tenure : kNaN;
        row[j++] = cf.mean_gap;
        row[j++] = known && cf.mean_gap > 0 ? cf.recency / cf.mean_gap : kNaN;
        row[j++] = std::log1p(std::max(0.0f, cf.spend));
        row[j++] = known ? cf.online_share : kNaN;
        row[j++] = cf.recent_events;
        row[j++] = cf.events_pct;
        row[j++] = cf.recency_pct;
        const OfferFacts f = known ? facts[static_cast<size_t>(i)] : OfferFacts{};
        const bool bought = f.count > 0;
        const float gap = f.days > 1 ? (f.first - f.last) / (f.days - 1) : kNaN;
        row[j++] = f.count;
        row[j++] = f.days;
        row[j++] = bought ? f.last : kNaN;
        row[j++] = f.decay;
        row[j++] = f.recent;
        row[j++] = std::log1p(std::max(0.0f, f.spend));
        row[j++] = cf.events > 0 ? f.count / cf.events : 0.0f;
        row[j++] = bought ? f.first : kNaN;
        row[j++] = gap;
        row[j++] = bought && gap > 0 ? f.last / gap : kNaN;
        row[j++] = bought && cf.mean_gap > 0 ? f.last / cf.mean_gap : kNaN;
        row[j++] = known ? decay_pct[static_cast<size_t>(i)] : 0.0f;
        for (size_t l = 0; l < num_levels; ++l) {
          const float* lf = known ? &level_facts[(static_cast<size_t>(i) * num_levels + l) * kLevelFeatures] : nullptr;
          const float count = lf != nullptr ? lf[0] : 0.0f;
          row[j++] = count;
          row[j++] = count > 0 ? lf[1] : kNaN;
          row[j++] = lf != nullptr ? lf[2] : 0.0f;
        }
        row[j++] = known ? affinity[static_cast<size_t>(i)] : 0.0f;
        row[j++] = known ? cosine[static_cast<size_t>(i)] : 0.0f;
        row[j++] = known ? affinity_pct[static_cast<size_t>(i)] : 0.0f;
        row[j++] = known ? item_cf[static_cast<size_t>(i)] : 0.0f;
        row[j++] = known ? item_cf_mean[static_cast<size_t>(i)] : 0.0f;
        row[j++] = popularity_recent;
        row[j++] = popularity_ever;
        row[j++] = trend;
        row[j++] = repeat_rate;
        row[j++] = new_rate;
        row[j++] = log_products;
        row[j++] = window_share;
        assert(j == width && "FeatureBuilder::Names and the row layout disagree");
        if (personal_revenue != nullptr && bought) {
          (*personal_revenue)[r] = f.spend / f.count;
        }
      }
    });
    sink(first, block);
  }
  return stats;
}

}  // namespace cf::model
