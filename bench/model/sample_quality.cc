// What training on a customer sample costs in quality, on a generated dataset with truth:
// the universal model is trained before the generator's truth cutoff once per sample size
// (TrainOptions::max_training_customers; 0 = every customer) and scored for every truth
// category over the population, then compared with what happened (macro Lift Quality of the
// purchases in the truth window) and with the generator's exact probabilities (mean Spearman
// correlation over the truth categories).
//
// Usage: sample_quality DATASET GENERATOR_DIR SAMPLE [SAMPLE ...]
//   DATASET        the ingested `audience generate` output
//   GENERATOR_DIR  the generator's directory (truth.json, truth_probabilities.csv)
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "data/dataset.h"
#include "model/event_log.h"
#include "model/metrics.h"
#include "model/universal.h"
#include "offer/offer.h"

namespace {

using cf::Result;
using cf::Status;

struct Truth {
  int64_t cutoff = 0;
  int horizon_days = 0;
  std::map<std::string, std::vector<double>> probability;  // category → per dataset customer (-1: unknown)
};

Result<Truth> ReadTruth(const std::string& gen, const cf::data::Dataset& ds) {
  Truth truth;
  CF_ASSIGN_OR_RETURN(std::string text, cf::ReadFile(gen + "/truth.json"));
  const nlohmann::json j = nlohmann::json::parse(text);
  CF_ASSIGN_OR_RETURN(truth.cutoff, cf::ParseIsoTime(j["options"]["truth_cutoff"].get<std::string>()));
  truth.horizon_days = j["options"]["truth_horizon_days"].get<int>();
  CF_ASSIGN_OR_RETURN(std::string csv, cf::ReadFile(gen + "/truth_probabilities.csv"));
  const uint32_t n = ds.customers().size();
  bool header = true;
  for (std::string_view line : cf::Split(csv, '\n')) {
    if (header || line.empty()) {
      header = false;
      continue;
    }
    const std::vector<std::string_view> f = cf::Split(line, ',');
    if (f.size() != 3) {
      return cf::Err(Status::Corruption(fmt::format("truth_probabilities.csv: expected 3 fields in '{}'", line)));
    }
    const auto c = ds.customers().Find(f[0]);
    if (!c.has_value()) {
      continue;  // never bought anything: not in the ingested events
    }
    std::vector<double>& p = truth.probability[std::string(f[1])];
    p.resize(n, -1.0);
    const std::optional<double> value = cf::ParseDouble(f[2]);
    if (!value.has_value()) {
      return cf::Err(
          Status::Corruption(fmt::format("truth_probabilities.csv: probability '{}' is not a number", f[2])));
    }
    p[*c] = *value;
  }
  return truth;
}

Status Run(const std::string& data, const std::string& gen, const std::vector<uint64_t>& samples) {
  CF_ASSIGN_OR_RETURN(std::unique_ptr<cf::data::Dataset> ds, cf::data::Dataset::Open(data));
  CF_ASSIGN_OR_RETURN(Truth truth, ReadTruth(gen, *ds));
  const cf::model::EventLog log = cf::model::EventLog::FromDataset(*ds);
  const cf::model::HistoryView history(log, truth.cutoff);
  std::vector<uint32_t> population;
  for (uint32_t c = 0; c < log.num_customers(); ++c) {
    if (history.HasHistory(c)) {
      population.push_back(c);
    }
  }
  const int64_t end = truth.cutoff + static_cast<int64_t>(truth.horizon_days) * cf::kSecondsPerDay;
  std::printf("%zu customers with history before %s, %zu truth categories, horizon %d days\n", population.size(),
              cf::FormatIsoDate(truth.cutoff).c_str(), truth.probability.size(), truth.horizon_days);
  std::printf("%10s %10s %10s %9s %9s %8s\n", "sample", "customers", "rows", "LQ", "Spearman", "seconds");
  for (uint64_t sample : samples) {
    cf::model::TrainOptions options;
    options.max_training_customers = sample;
    cf::model::TrainReport report;
    const auto start = std::chrono::steady_clock::now();
    CF_ASSIGN_OR_RETURN(
        std::unique_ptr<cf::model::UniversalModel> model,
        cf::model::UniversalModel::Train(history, cf::model::ChooseLevels(ds->catalog()),
                                         cf::model::RunOptions{.horizon_days = truth.horizon_days}, options, &report));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double lq = 0, rho = 0;
    for (const auto& [category, truth_p] : truth.probability) {
      CF_ASSIGN_OR_RETURN(cf::offer::ProductSet offer,
                          cf::offer::CompileOffer("category = \"" + category + "\"", ds->catalog()));
      CF_ASSIGN_OR_RETURN(cf::model::OfferScores s, model->Score(history, offer, population));
      std::vector<uint8_t> labels(population.size(), 0);
      std::vector<double> model_p, exact_p;
      for (size_t i = 0; i < population.size(); ++i) {
        const uint32_t c = population[i];
        const cf::model::CustomerEvents ev = log.All(c);
        for (size_t k = 0; k < ev.size(); ++k) {
          if (ev.time[k] >= truth.cutoff && ev.time[k] < end && offer.Contains(ev.product[k])) {
            labels[i] = 1;
            break;
          }
        }
        if (truth_p[c] >= 0) {
          model_p.push_back(s.probability[i]);
          exact_p.push_back(truth_p[c]);
        }
      }
      lq += cf::model::LiftQuality(s.probability, labels, cf::model::RankOrder(s.probability));
      rho += cf::model::Spearman(model_p, exact_p);
    }
    const double k = static_cast<double>(truth.probability.size());
    std::printf("%10llu %10llu %10llu %9.2f %9.4f %8.1f\n", static_cast<unsigned long long>(sample),
                static_cast<unsigned long long>(report.training_customers),
                static_cast<unsigned long long>(report.training_rows), lq / k, rho / k, seconds);
    std::fflush(stdout);
  }
  return Status::OK();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: sample_quality DATASET GENERATOR_DIR SAMPLE [SAMPLE ...] (0 = every customer)\n");
    return 2;
  }
  std::vector<uint64_t> samples;
  for (int i = 3; i < argc; ++i) {
    const std::optional<int64_t> n = cf::ParseInt64(argv[i]);
    if (!n.has_value() || *n < 0) {
      std::fprintf(stderr, "sample_quality: SAMPLE must be a number of customers >= 0, got '%s'\n", argv[i]);
      return 2;
    }
    samples.push_back(static_cast<uint64_t>(*n));
  }
  const Status s = Run(argv[1], argv[2], samples);
  if (!s.ok()) {
    std::fprintf(stderr, "sample_quality: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
