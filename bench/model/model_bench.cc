// Scoring speed of the universal model: one ad-hoc offer for every customer of a dataset,
// features included, and the planner's call (ScoreOffers: 20 offers at once). Needs
// CF_BENCH_DATA (dataset) and CF_BENCH_MODEL (model directory); CF_BENCH_OFFER overrides the
// offer, CF_BENCH_OFFERS the offers file (the first 20 of bench/model/offers25.json by default).
// bench/model/run.sh prepares them.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <optional>
#include <random>

#include "base/files.h"
#include "data/dataset.h"
#include "model/event_log.h"
#include "model/metrics.h"
#include "model/top_offers.h"
#include "model/universal.h"
#include "offer/offer.h"

namespace {

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

// What both scoring benchmarks read: the dataset and model named by CF_BENCH_DATA and
// CF_BENCH_MODEL, the event log and every customer. Empty (the benchmark skipped with the
// reason) when either cannot be opened.
struct Scoring {
  std::unique_ptr<cf::data::Dataset> dataset;
  std::unique_ptr<cf::model::UniversalModel> model;
  cf::model::EventLog log;
  std::vector<uint32_t> customers;
};

std::optional<Scoring> OpenScoring(benchmark::State& state) {
  auto ds = cf::data::Dataset::Open(Env("CF_BENCH_DATA", ""));
  if (!ds.has_value()) {
    state.SkipWithError(("CF_BENCH_DATA: " + ds.error().ToString()).c_str());
    return std::nullopt;
  }
  auto model = cf::model::UniversalModel::Load(Env("CF_BENCH_MODEL", ""), (*ds)->catalog(), 0);
  if (!model.has_value()) {
    state.SkipWithError(("CF_BENCH_MODEL: " + model.error().ToString()).c_str());
    return std::nullopt;
  }
  cf::model::EventLog log = cf::model::EventLog::FromDataset(**ds);
  std::vector<uint32_t> customers(log.num_customers());
  std::iota(customers.begin(), customers.end(), 0u);
  return Scoring{std::move(*ds), std::move(*model), std::move(log), std::move(customers)};
}

void BM_ScoreOffer(benchmark::State& state) {
  std::optional<Scoring> scoring = OpenScoring(state);
  if (!scoring.has_value()) {
    return;
  }
  const auto& ds = scoring->dataset;
  const auto& model = scoring->model;
  auto offer = cf::offer::CompileOffer(Env("CF_BENCH_OFFER", "department = \"GROCERY\""), ds->catalog());
  if (!offer.has_value()) {
    state.SkipWithError(offer.error().ToString().c_str());
    return;
  }
  const cf::model::EventLog& log = scoring->log;
  const std::vector<uint32_t>& customers = scoring->customers;
  int64_t shift = 0;
  for (auto _ : state) {
    // A fresh view each time, so the per-customer part of the features is included. The
    // model caches that part per (view, cutoff), and a new view may sit at the old one's
    // address: alternate between two cutoffs after the last event (the same history).
    const cf::model::HistoryView history(log, log.last_time() + 1 + shift);
    shift = 1 - shift;
    auto scores = model->Score(history, *offer, customers);
    benchmark::DoNotOptimize(scores);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(customers.size()));
  state.counters["customers"] = static_cast<double>(customers.size());
  state.counters["events"] = static_cast<double>(log.num_events());
}
BENCHMARK(BM_ScoreOffer)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->MinTime(2.0);

// The planner's call: 20 offers for every customer in one ScoreOffers, a fresh view each time.
void BM_ScoreOffers(benchmark::State& state) {
  constexpr size_t kPlanOffers = 20;
  std::optional<Scoring> scoring = OpenScoring(state);
  if (!scoring.has_value()) {
    return;
  }
  const auto& ds = scoring->dataset;
  const auto& model = scoring->model;
  const std::string file = Env("CF_BENCH_OFFERS", "bench/model/offers25.json");
  auto text = cf::ReadFile(file);
  if (!text.has_value()) {
    state.SkipWithError(("CF_BENCH_OFFERS: " + text.error().ToString()).c_str());
    return;
  }
  auto named = cf::model::ParseOffers(*text, file);
  if (!named.has_value()) {
    state.SkipWithError(named.error().ToString().c_str());
    return;
  }
  named->resize(std::min(named->size(), kPlanOffers));
  auto offers = cf::model::CompileOffers(*named, ds->catalog(), file);
  if (!offers.has_value()) {
    state.SkipWithError(offers.error().ToString().c_str());
    return;
  }
  const cf::model::EventLog& log = scoring->log;
  const std::vector<uint32_t>& customers = scoring->customers;
  int64_t shift = 0;
  for (auto _ : state) {
    const cf::model::HistoryView history(log, log.last_time() + 1 + shift);  // as in BM_ScoreOffer
    shift = 1 - shift;
    auto scores = model->ScoreOffers(history, *offers, customers);
    if (!scores.has_value()) {
      state.SkipWithError(scores.error().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(scores);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(customers.size()) *
                          static_cast<int64_t>(offers->size()));
  state.counters["customers"] = static_cast<double>(customers.size());
  state.counters["offers"] = static_cast<double>(offers->size());
}
BENCHMARK(BM_ScoreOffers)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->Iterations(1);

void BM_TopicMetrics(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::mt19937_64 rng(1);
  std::vector<double> scores(n);
  std::vector<uint8_t> labels(n);
  for (size_t i = 0; i < n; ++i) {
    scores[i] = std::uniform_real_distribution<double>(0, 1)(rng);
    labels[i] = scores[i] + std::uniform_real_distribution<double>(0, 1)(rng) > 1.7 ? 1 : 0;
  }
  for (auto _ : state) {
    const auto order = cf::model::RankOrder(scores);
    benchmark::DoNotOptimize(cf::model::ComputeOfferMetrics(scores, labels, order));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
}
BENCHMARK(BM_TopicMetrics)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
