// train, score, evaluate: the universal model and the backtest on the command line.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <string>

#include "apps/audience/commands.h"
#include "base/files.h"
#include "base/log.h"
#include "base/strings.h"
#include "base/time.h"
#include "data/dataset.h"
#include "model/backtest.h"
#include "model/event_log.h"
#include "model/universal.h"
#include "offer/offer.h"

namespace cf::cli {
namespace {

int Fail(const char* cmd, const Status& s) {
  std::fprintf(stderr, "audience %s: %s\n", cmd, s.message().c_str());
  return 1;
}

Result<std::vector<std::string>> ModelList(const std::string& list) {
  std::vector<std::string> names;
  const std::vector<std::string> known = model::ScorerNames();
  for (std::string_view part : Split(list, ',')) {
    const std::string name(Trim(part));
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return Err(Status::InvalidArgument(
          fmt::format("--models: unknown model '{}'; expected a comma-separated list of {}", name, Join(known, ", "))));
    }
    names.push_back(name);
  }
  return names;
}

// The levels named by --levels (comma-separated), or the ones detected from the catalog.
Result<std::vector<model::Level>> LevelsFor(const data::Catalog& catalog, const std::string& list) {
  if (list.empty()) {
    return model::ChooseLevels(catalog);
  }
  std::vector<std::string> names;
  for (std::string_view part : Split(list, ',')) {
    names.emplace_back(Trim(part));
  }
  return model::LevelsNamed(catalog, names);
}

struct TrainFlags {
  std::string data, out, levels;
  model::RunOptions run;
  model::TrainOptions options;
};

Status RunTrain(const TrainFlags& f) {
  CF_ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> ds, data::Dataset::Open(f.data));
  const model::EventLog log = model::EventLog::FromDataset(*ds);
  // Everything known is history: the cutoff sits just after the last event.
  const model::HistoryView history(log, log.last_time() + 1);
  model::TrainReport report;
  CF_ASSIGN_OR_RETURN(std::vector<model::Level> levels, LevelsFor(ds->catalog(), f.levels));
  CF_ASSIGN_OR_RETURN(std::unique_ptr<model::UniversalModel> m,
                      model::UniversalModel::Train(history, std::move(levels), f.run, f.options, &report));
  CF_RETURN_IF_ERROR(m->Save(f.out));
  std::printf(
      "trained %s in %.1f s: horizon %d days, levels %s, depth %d, %d rounds, %llu training rows, "
      "validation Lift Quality %.2f over %d offers\n",
      f.out.c_str(), report.seconds, f.run.horizon_days, Join(report.levels, ", ").c_str(), report.depth, report.rounds,
      static_cast<unsigned long long>(report.training_rows), report.validation_lift_quality, report.validation_offers);
  if (!report.blend.baseline.empty()) {
    std::printf("validation chose a blend with %s (weight %g): Lift Quality %.2f against %.2f for the trees alone\n",
                report.blend.baseline.c_str(), report.blend.weight, report.blended_lift_quality,
                report.validation_lift_quality);
  }
  return Status::OK();
}

struct ScoreFlags {
  std::string data, model_dir, offer, out, at;
  uint64_t top = 0;
  int threads = 0;
};

Status RunScore(const ScoreFlags& f) {
  CF_ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> ds, data::Dataset::Open(f.data));
  CF_ASSIGN_OR_RETURN(offer::ProductSet offer, offer::CompileOffer(f.offer, ds->catalog()));
  CF_ASSIGN_OR_RETURN(std::unique_ptr<model::UniversalModel> m,
                      model::UniversalModel::Load(f.model_dir, ds->catalog(), f.threads));
  const model::EventLog log = model::EventLog::FromDataset(*ds);
  int64_t cutoff = log.last_time() + 1;
  if (!f.at.empty()) {
    CF_ASSIGN_OR_RETURN(cutoff, ParseIsoTime(f.at));
  }
  const auto start = std::chrono::steady_clock::now();
  const model::HistoryView history(log, cutoff);
  std::vector<uint32_t> customers(log.num_customers());
  std::iota(customers.begin(), customers.end(), 0u);
  CF_ASSIGN_OR_RETURN(model::OfferScores scores, m->Score(history, offer, customers));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<uint32_t> order(customers.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return scores.probability[a] > scores.probability[b]; });
  const size_t rows = f.top > 0 ? std::min<size_t>(f.top, order.size()) : order.size();
  std::string csv = "customer,probability,expected_revenue,rank\n";
  double buyers = 0, revenue = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    buyers += scores.probability[order[i]];
    revenue += scores.expected_revenue[order[i]];
  }
  for (size_t i = 0; i < rows; ++i) {
    const uint32_t c = order[i];
    csv += fmt::format("{},{:.6f},{:.4f},{}\n", ds->customers().crm_id(c), scores.probability[c],
                       scores.expected_revenue[c], i + 1);
  }
  CF_RETURN_IF_ERROR(WriteFileAtomic(f.out, csv));
  std::printf(
      "scored %zu customers for '%s' (%llu products) in %.3f s: %.1f expected buyers, %.2f expected revenue "
      "within %d days; wrote %zu rows to %s\n",
      customers.size(), offer.name.c_str(), static_cast<unsigned long long>(offer.count), seconds, buyers, revenue,
      m->horizon_days(), rows, f.out.c_str());
  return Status::OK();
}

struct EvaluateFlags {
  std::string data, cutoff, topics, models, json, html, levels, population = "with-history";
  model::EvaluateOptions options;
};

Status RunEvaluate(const EvaluateFlags& f) {
  CF_ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> ds, data::Dataset::Open(f.data));
  model::EvaluateOptions options = f.options;
  CF_ASSIGN_OR_RETURN(options.cutoff, ParseIsoTime(f.cutoff));
  if (!f.models.empty()) {
    CF_ASSIGN_OR_RETURN(options.models, ModelList(f.models));
  }
  CF_ASSIGN_OR_RETURN(options.population, model::ParsePopulation(f.population));
  CF_ASSIGN_OR_RETURN(std::vector<model::Level> levels, LevelsFor(ds->catalog(), f.levels));
  // Calibration is reported for every attribute that could be a level (department, brand, ...).
  std::vector<std::string> kinds;
  for (const model::LevelCandidate& c : model::LevelCandidates(ds->catalog())) {
    kinds.push_back(c.name);
  }
  options.calibration_levels = model::LevelsByName(ds->catalog(), kinds);
  // Without --topics, the finest catalog level the model uses (a category, in any language).
  std::string topics_by = f.topics;
  for (auto it = levels.rbegin(); topics_by.empty() && it != levels.rend(); ++it) {
    if (it->name != model::kProductLevel) {
      topics_by = it->name;
    }
  }
  if (topics_by.empty()) {
    topics_by = ds->has_products() ? "product" : "any";
  }
  CF_ASSIGN_OR_RETURN(std::vector<offer::ProductSet> topics, model::BacktestOffers(ds->catalog(), topics_by));
  const model::EventLog log = model::EventLog::FromDataset(*ds);
  CF_ASSIGN_OR_RETURN(model::BacktestResult result, model::RunBacktest(log, levels, topics, topics_by, options));
  const nlohmann::json j = model::BacktestToJson(result);
  if (!f.json.empty()) {
    CF_RETURN_IF_ERROR(WriteFileAtomic(f.json, j.dump(1) + "\n"));
  }
  if (!f.html.empty()) {
    CF_RETURN_IF_ERROR(WriteFileAtomic(f.html, model::BacktestToHtml(result)));
  }
  std::printf("%zu topics by %s, population %llu (%s", result.offers.size(), topics_by.c_str(),
              static_cast<unsigned long long>(result.population),
              std::string(model::PopulationName(result.population_kind)).c_str());
  if (result.new_customers > 0) {
    std::printf(", %llu of them without a purchase yet", static_cast<unsigned long long>(result.new_customers));
  }
  std::printf("), mean base rate %.2f%%\n", 100.0 * result.base_rate);
  std::printf("%-12s %8s %8s %9s %8s\n", "model", "AUC", "AP", "lift@10%", "LQ");
  for (const model::ModelBacktest& m : result.models) {
    std::printf("%-12s %8.4f %8.4f %9.3f %8.2f\n", m.name.c_str(), m.macro.auc, m.macro.average_precision,
                m.macro.lift_at_10, m.macro.lift_quality);
  }
  for (const model::ModelBacktest& m : result.models) {
    for (const model::BuyerCalibration& c : m.calibration_by_kind) {
      std::printf("calibration of %s, %s (%d offers): %.1f predicted buyers, %.0f realized (%+.1f%%)\n",
                  m.name.c_str(), c.kind.c_str(), c.offers, c.predicted, c.realized,
                  c.realized > 0 ? 100.0 * (c.predicted / c.realized - 1) : 0.0);
    }
  }
  if (result.new_customers > 0) {
    for (const model::ModelBacktest& m : result.models) {
      std::printf("new customers, %s: Lift Quality %.2f over %d topics, %s predicted buyers, %.0f realized\n",
                  m.name.c_str(), m.new_lift_quality, m.new_offers,
                  m.probabilities ? fmt::format("{:.1f}", m.new_predicted).c_str() : "no", m.new_realized);
    }
  }
  return Status::OK();
}

}  // namespace

void AddModelCommands(CLI::App& app, int* exit_code) {
  auto train = std::make_shared<TrainFlags>();
  CLI::App* t = app.add_subcommand("train", "Train the universal offer model on a dataset's whole history");
  t->add_option("--data", train->data, "Dataset directory")->required();
  t->add_option("--horizon", train->run.horizon_days, "Days after scoring in which a purchase counts")
      ->capture_default_str();
  t->add_option("--out", train->out, "Model directory to write")->required();
  t->add_option("--levels", train->levels,
                "Product attributes that group products, coarsest first (default: detected from the catalog)");
  t->add_option("--cutoffs", train->options.cutoffs, "Training cutoffs, every horizon/2 days back")
      ->capture_default_str();
  t->add_option("--max-rows", train->options.max_rows, "Most training rows (negatives are subsampled)")
      ->capture_default_str();
  t->add_option("--threads", train->run.threads, "Threads (0 = all cores)")->capture_default_str();
  t->add_option("--seed", train->run.seed, "Sampling seed")->capture_default_str();
  t->add_option("--booster-threads", train->options.booster_threads, "XGBoost threads (0 = all cores)")
      ->capture_default_str();
  AddCommonFlags(t);
  t->callback([train, exit_code] {
    const Status s = RunTrain(*train);
    *exit_code = s.ok() ? 0 : Fail("train", s);
  });

  auto score = std::make_shared<ScoreFlags>();
  CLI::App* s = app.add_subcommand("score", "Score every customer for an offer with a trained model");
  s->add_option("--data", score->data, "Dataset directory")->required();
  s->add_option("--model", score->model_dir, "Model directory written by train")->required();
  s->add_option("--offer", score->offer, "Offer expression, e.g. 'product_category = \"SOFT DRINKS\"' or any")
      ->required();
  s->add_option("--out", score->out, "CSV to write: customer,probability,expected_revenue,rank")->required();
  s->add_option("--top", score->top, "Write only the best N customers (0 = all)")->capture_default_str();
  s->add_option("--at", score->at, "Score as of this date (default: after the last event)");
  s->add_option("--threads", score->threads, "Threads (0 = all cores)")->capture_default_str();
  AddCommonFlags(s);
  s->callback([score, exit_code] {
    const Status st = RunScore(*score);
    *exit_code = st.ok() ? 0 : Fail("score", st);
  });

  auto eval = std::make_shared<EvaluateFlags>();
  CLI::App* e = app.add_subcommand("evaluate", "Backtest every model at a cutoff (see docs/model.md)");
  e->add_option("--data", eval->data, "Dataset directory")->required();
  e->add_option("--cutoff", eval->cutoff, "Cutoff date T: history before it, labels in [T, T + horizon)")->required();
  e->add_option("--horizon", eval->options.run.horizon_days, "Label window in days")->capture_default_str();
  e->add_option("--topics", eval->topics,
                "Product attribute whose values are the topics, or any, or product (default: the finest level)");
  e->add_option("--levels", eval->levels,
                "Universal model: attributes that group products, coarsest first (default: detected)");
  e->add_option("--min-positives", eval->options.min_positives, "Keep topics with at least this many buyers")
      ->capture_default_str();
  e->add_option("--models", eval->models, "Comma-separated models (default: all)");
  e->add_option("--population", eval->population,
                "with-history (customers with a purchase before the cutoff) or all-customers (also those of the "
                "customers file without one, reported separately)")
      ->capture_default_str();
  e->add_option("--json", eval->json, "Write the report as JSON");
  e->add_option("--html", eval->html, "Write the report as a self-contained HTML page");
  e->add_option("--threads", eval->options.run.threads, "Threads (0 = all cores)")->capture_default_str();
  e->add_option("--seed", eval->options.run.seed, "Seed of the random baseline and of training")->capture_default_str();
  e->add_option("--booster-threads", eval->options.train.booster_threads, "XGBoost threads (0 = all cores)")
      ->capture_default_str();
  e->add_option("--train-cutoffs", eval->options.train.cutoffs,
                "Universal model: training cutoffs, every horizon/2 days")
      ->capture_default_str();
  e->add_option("--max-rows", eval->options.train.max_rows, "Universal model: most training rows")
      ->capture_default_str();
  e->add_option("--depths", eval->options.train.depths, "Universal model: candidate tree depths")->delimiter(',');
  AddCommonFlags(e);
  e->callback([eval, exit_code] {
    const Status st = RunEvaluate(*eval);
    *exit_code = st.ok() ? 0 : Fail("evaluate", st);
  });
}

}  // namespace cf::cli
