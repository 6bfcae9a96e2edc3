#include "model/backtest.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "base/log.h"
#include "base/progress.h"
#include "base/strings.h"
#include "base/time.h"
#include "model/cold_start.h"
#include "model/scorer.h"

namespace cf::model {
namespace {

// Who bought the offer in [from, to), per population customer. Only the evaluator reads there.
std::vector<uint8_t> BuyersIn(const EventLog& log, const std::vector<uint32_t>& population,
                              const offer::ProductSet& offer, int64_t from, int64_t to) {
  std::vector<uint8_t> y(population.size(), 0);
  for (size_t i = 0; i < population.size(); ++i) {
    const CustomerEvents ev = log.All(population[i]);
    const auto lo = std::lower_bound(ev.time.begin(), ev.time.end(), from) - ev.time.begin();
    for (size_t k = static_cast<size_t>(lo); k < ev.size() && ev.time[k] < to; ++k) {
      if (offer.Contains(ev.product[k])) {
        y[i] = 1;
        break;
      }
    }
  }
  return y;
}

}  // namespace

std::string_view PopulationName(Population p) {
  return p == Population::kAllCustomers ? "all-customers" : "with-history";
}

Result<Population> ParsePopulation(std::string_view name) {
  if (name == "with-history") {
    return Population::kWithHistory;
  }
  if (name == "all-customers") {
    return Population::kAllCustomers;
  }
  return Err(Status::InvalidArgument(
      fmt::format("population '{}' is not known; expected with-history or all-customers", name)));
}

Result<std::vector<offer::ProductSet>> BacktestOffers(const data::Catalog& catalog, const std::string& by) {
  std::vector<offer::ProductSet> offers;
  const uint32_t n = catalog.size();
  if (by == "any") {
    offers.push_back(offer::ProductSet::Any(n));
    return offers;
  }
  if (by == "product") {
    for (uint32_t p = 0; p < n; ++p) {
      std::vector<uint8_t> members(n, 0);
      members[p] = 1;
      offers.push_back(offer::ProductSet::FromMembers(std::string(catalog.product_id(p)), std::move(members)));
    }
    return offers;
  }
  for (const data::Attribute& attr : catalog.attributes()) {
    if (attr.name != by) {
      continue;
    }
    std::vector<std::vector<uint8_t>> members(attr.dict.size());
    for (uint32_t p = 0; p < n; ++p) {
      std::vector<uint8_t>& m = members[attr.codes[p]];
      if (m.empty()) {
        m.assign(n, 0);
      }
      m[p] = 1;
    }
    for (size_t code = 1; code < members.size(); ++code) {
      if (!members[code].empty()) {
        offers.push_back(offer::ProductSet::FromMembers(std::string(attr.dict[code]), std::move(members[code])));
      }
    }
    return offers;
  }
  std::string valid = "any, product";
  for (const data::Attribute& attr : catalog.attributes()) {
    valid += ", " + attr.name;
  }
  return Err(
      Status::InvalidArgument(fmt::format("offers by '{}': not a product attribute; expected one of {}", by, valid)));
}

Status EvaluateOptions::Validate() const {
  CF_RETURN_IF_ERROR(run.Validate());
  CF_RETURN_IF_ERROR(CheckRange("min_positives", min_positives, 1, UINT32_MAX));
  if (models.empty()) {
    return Status::InvalidArgument("models must name at least one of " + Join(ScorerNames(), ", "));
  }
  for (const std::string& name : models) {
    auto info = FindScorer(name);
    if (!info.has_value()) {
      return info.error().WithPrefix("models");
    }
  }
  return train.Validate().WithPrefix("train");
}

Result<BacktestResult> RunBacktest(const EventLog& log, const std::vector<Level>& levels,
                                   const std::vector<offer::ProductSet>& offers, const std::string& offers_by,
                                   const EvaluateOptions& options) {
  CF_RETURN_IF_ERROR(options.Validate());
  const int64_t cutoff = options.cutoff;
  const int64_t end = cutoff + static_cast<int64_t>(options.run.horizon_days) * kSecondsPerDay;
  const HistoryView history(log, cutoff);
  BacktestResult result;
  result.cutoff = cutoff;
  result.horizon_days = options.run.horizon_days;
  result.offers_by = offers_by;
  result.min_positives = options.min_positives;
  std::vector<uint32_t> population;
  std::vector<uint8_t> is_new;
  result.population_kind = options.population;
  for (uint32_t c = 0; c < log.num_customers(); ++c) {
    const bool with_history = history.HasHistory(c);
    if (with_history || (options.population == Population::kAllCustomers && KnownAt(history, c))) {
      population.push_back(c);
      is_new.push_back(with_history ? 0 : 1);
      result.new_customers += with_history ? 0 : 1;
    }
  }
  if (population.empty()) {
    return Err(Status::FailedPrecondition(
        fmt::format("no customer has a purchase before the cutoff {}", FormatIsoDate(cutoff))));
  }
  result.population = population.size();

  // Labels: who bought each offer in [T, T + H). Only the evaluator reads past the cutoff.
  std::vector<std::vector<uint8_t>> labels;
  std::vector<const offer::ProductSet*> kept;
  for (const offer::ProductSet& offer_set : offers) {
    std::vector<uint8_t> y = BuyersIn(log, population, offer_set, cutoff, end);
    uint64_t positives = 0;
    for (uint8_t v : y) {
      positives += v;
    }
    if (positives >= options.min_positives) {
      kept.push_back(&offer_set);
      labels.push_back(std::move(y));
      result.offers.push_back(offer_set.name);
      result.positives.push_back(positives);
    }
  }
  if (kept.empty()) {
    return Err(Status::FailedPrecondition(
        fmt::format("no offer has at least {} buyers between {} and {}; lower min_positives or move the cutoff",
                    options.min_positives, FormatIsoDate(cutoff), FormatIsoDate(end))));
  }
  for (uint64_t p : result.positives) {
    result.base_rate +=
        static_cast<double>(p) / static_cast<double>(population.size()) / static_cast<double>(kept.size());
  }

  // The offers of each calibration level with enough buyers, and their labels.
  struct KindOffers {
    std::string kind;
    std::vector<offer::ProductSet> offers;
    std::vector<std::vector<uint8_t>> labels;
  };
  std::vector<KindOffers> kinds;
  for (const Level& level : options.calibration_levels) {
    KindOffers k;
    k.kind = level.name;
    for (uint32_t code = 1; code < level.values.size(); ++code) {
      std::vector<uint8_t> members(level.code_of_product.size(), 0);
      for (size_t p = 0; p < members.size(); ++p) {
        members[p] = level.code_of_product[p] == code ? 1 : 0;
      }
      offer::ProductSet offer = offer::ProductSet::FromMembers(level.name + "=" + level.values[code], members);
      std::vector<uint8_t> y = BuyersIn(log, population, offer, cutoff, end);
      uint64_t positives = 0;
      for (uint8_t v : y) {
        positives += v;
      }
      if (positives >= options.min_positives) {
        k.offers.push_back(std::move(offer));
        k.labels.push_back(std::move(y));
      }
    }
    if (!k.offers.empty()) {
      kinds.push_back(std::move(k));
    }
  }

  ScorerContext context;
  context.levels = levels;
  context.run = options.run;
  context.train = &options.train;
  const size_t n = population.size();
  for (const std::string& name : options.models) {
    CF_ASSIGN_OR_RETURN(const ScorerInfo* info, FindScorer(name));
    std::unique_ptr<Scorer> scorer = info->make(context);
    const auto start = std::chrono::steady_clock::now();
    CF_RETURN_IF_ERROR(scorer->Fit(history).WithPrefix(name));
    ModelBacktest mb;
    mb.name = name;
    mb.probabilities = info->calibrated;
    BuyerCalibration offers_calibration{"offers", static_cast<int>(kept.size()), 0, 0};
    std::vector<double> new_scores;
    std::vector<uint8_t> new_labels;
    mb.gains.assign(kGainsPoints + 1, 0.0);
    mb.deciles.assign(10, 0.0);
    std::vector<std::pair<double, uint8_t>> pairs;
    pairs.reserve(kept.size() * n);
    std::vector<double> scores(n);
    Progress progress("scoring " + name, kept.size(), "offers");
    for (size_t t = 0; t < kept.size(); ++t) {
      CF_RETURN_IF_ERROR(scorer->Score(history, *kept[t], population, scores).WithPrefix(name));
      const std::vector<uint32_t> order = RankOrder(scores);
      OfferMetrics m = ComputeOfferMetrics(scores, labels[t], order);
      mb.per_offer.push_back(m);
      const double k = static_cast<double>(kept.size());
      mb.macro.auc += m.auc / k;
      mb.macro.average_precision += m.average_precision / k;
      mb.macro.lift_at_10 += m.lift_at_10 / k;
      mb.macro.lift_quality += m.lift_quality / k;
      const std::vector<double> deciles = DecileShares(labels[t], order);
      for (size_t d = 0; d < deciles.size(); ++d) {
        mb.deciles[d] += deciles[d] / k;
      }
      uint64_t seen = 0;
      size_t next = 1;
      for (size_t i = 0; i < n; ++i) {
        seen += labels[t][order[i]];
        while (next <= kGainsPoints && (i + 1) * kGainsPoints >= next * n) {
          mb.gains[next] += static_cast<double>(seen) / static_cast<double>(m.positives) / k;
          ++next;
        }
      }
      double predicted = 0;
      for (size_t i = 0; i < n; ++i) {
        pairs.emplace_back(scores[i], labels[t][i]);
        predicted += scores[i];
      }
      mb.predicted_buyers.push_back(predicted);
      offers_calibration.predicted += predicted;
      offers_calibration.realized += static_cast<double>(m.positives);
      if (result.new_customers > 0) {
        new_scores.clear();
        new_labels.clear();
        uint64_t new_positives = 0;
        for (size_t i = 0; i < n; ++i) {
          if (is_new[i] != 0) {
            new_scores.push_back(scores[i]);
            new_labels.push_back(labels[t][i]);
            new_positives += labels[t][i];
            mb.new_predicted += scores[i];
          }
        }
        mb.new_realized += static_cast<double>(new_positives);
        if (new_positives >= kMinNewCustomerPositives) {
          mb.new_lift_quality += LiftQuality(new_scores, new_labels, RankOrder(new_scores));
          ++mb.new_offers;
        }
      }
      progress.Add(1);
    }
    progress.Finish();
    mb.new_lift_quality = mb.new_offers > 0 ? mb.new_lift_quality / mb.new_offers : 0;
    if (mb.probabilities) {
      mb.calibration_by_kind.push_back(offers_calibration);
      for (const KindOffers& k : kinds) {
        BuyerCalibration c{k.kind, static_cast<int>(k.offers.size()), 0, 0};
        for (size_t o = 0; o < k.offers.size(); ++o) {
          CF_RETURN_IF_ERROR(scorer->Score(history, k.offers[o], population, scores).WithPrefix(name));
          for (size_t i = 0; i < n; ++i) {
            c.predicted += scores[i];
            c.realized += k.labels[o][i];
          }
        }
        mb.calibration_by_kind.push_back(c);
      }
    }
    std::sort(pairs.begin(), pairs.end());
    for (int b = 0; b < kCalibrationBins; ++b) {
      const size_t lo = pairs.size() * static_cast<size_t>(b) / kCalibrationBins;
      const size_t hi = pairs.size() * static_cast<size_t>(b + 1) / kCalibrationBins;
      double s = 0, y = 0;
      for (size_t i = lo; i < hi; ++i) {
        s += pairs[i].first;
        y += pairs[i].second;
      }
      const double count = static_cast<double>(std::max<size_t>(1, hi - lo));
      mb.calibration_predicted.push_back(s / count);
      mb.calibration_observed.push_back(y / count);
    }
    mb.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CF_LOG_INFO("{}: macro AUC {:.4f}, lift quality {:.2f} ({:.1f} s)", name, mb.macro.auc, mb.macro.lift_quality,
                mb.seconds);
    result.models.push_back(std::move(mb));
  }
  return result;
}

nlohmann::json BacktestToJson(const BacktestResult& result) {
  nlohmann::json j;
  j["cutoff"] = FormatIsoDate(result.cutoff);
  j["horizon_days"] = result.horizon_days;
  // The protocol's keys: a topic is an offer (see backtest.h).
  j["topics_by"] = result.offers_by;
  j["min_positives"] = result.min_positives;
  j["topics"] = result.offers.size();
  j["population"] = result.population;
  j["population_kind"] = PopulationName(result.population_kind);
  j["new_customers"] = result.new_customers;
  j["base_rate"] = result.base_rate;
  nlohmann::json models = nlohmann::json::object();
  for (const ModelBacktest& m : result.models) {
    nlohmann::json per_topic = nlohmann::json::array();
    for (size_t t = 0; t < m.per_offer.size(); ++t) {
      const OfferMetrics& tm = m.per_offer[t];
      per_topic.push_back({{"topic", result.offers[t]},
                           {"positives", tm.positives},
                           {"auc", tm.auc},
                           {"average_precision", tm.average_precision},
                           {"lift_at_10", tm.lift_at_10},
                           {"lift_quality", tm.lift_quality}});
      if (m.probabilities) {
        per_topic.back()["predicted_buyers"] = m.predicted_buyers[t];
      }
    }
    models[m.name] = {{"auc", m.macro.auc},
                      {"average_precision", m.macro.average_precision},
                      {"lift_at_10", m.macro.lift_at_10},
                      {"lift_quality", m.macro.lift_quality},
                      {"seconds", m.seconds},
                      {"deciles", m.deciles},
                      {"gains", m.gains},
                      {"per_topic", per_topic}};
    if (m.probabilities) {
      nlohmann::json kinds = nlohmann::json::array();
      for (const BuyerCalibration& c : m.calibration_by_kind) {
        kinds.push_back(
            {{"kind", c.kind}, {"offers", c.offers}, {"predicted_buyers", c.predicted}, {"realized_buyers", c.realized}});
      }
      models[m.name]["calibration_by_kind"] = kinds;
    }
    if (result.new_customers > 0) {
      nlohmann::json fresh = {{"lift_quality", m.new_lift_quality}, {"offers", m.new_offers},
                              {"realized_buyers", m.new_realized}};
      if (m.probabilities) {
        fresh["predicted_buyers"] = m.new_predicted;
      }
      models[m.name]["new_customers"] = fresh;
    }
  }
  j["models"] = models;
  return j;
}

}  // namespace cf::model
