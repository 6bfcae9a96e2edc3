// train, score, evaluate: the universal model and the backtest on the command line.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "apps/audience/commands.h"
#include "base/files.h"
#include "base/log.h"
#include "base/sort.h"
#include "base/strings.h"
#include "base/time.h"
#include "data/dataset.h"
#include "model/backtest.h"
#include "model/event_log.h"
#include "model/universal.h"
#include "offer/offer.h"

namespace cf::cli {
namespace {

// One wording per shared flag, so the same flag reads the same in every command's help.
constexpr const char* kDataHelp = "Dataset directory written by audience ingest";
constexpr const char* kHorizonHelp = "Purchase window in days: a purchase counts within this many days after scoring";
constexpr const char* kThreadsHelp = "Feature and scoring threads (0 = all cores)";
constexpr const char* kBoosterThreadsHelp = "XGBoost threads (0 = all cores)";
constexpr const char* kTrainCutoffsHelp = "Universal model: training cutoffs, one every horizon/2 days back";
constexpr const char* kSampleRowsHelp =
    "Universal model: customer x offer x cutoff pairs are sampled at this many over their number, buyers 25 times "
    "as often (a sampling budget, not a maximum)";
constexpr const char* kModelKind = "a model written by audience train";
constexpr const char* kScoresKind = "a scores CSV written by audience score";
constexpr const char* kJsonReportKind = "a JSON report written by audience evaluate";
constexpr const char* kHtmlReportKind = "an HTML report written by audience evaluate";

constexpr int64_t kMaxDays = 3660;
constexpr int64_t kMaxThreads = 1024;
constexpr int64_t kMaxCount = std::numeric_limits<int64_t>::max();

int Fail(const char* cmd, const Status& s) {
  std::fprintf(stderr, "audience %s: %s\n", cmd, s.message().c_str());
  return 1;
}

void Warn(const char* cmd, const std::string& message) {
  std::fprintf(stderr, "audience %s: warning: %s\n", cmd, message.c_str());
}

// Stored text can hold anything (a Latin-1 value, a stray byte): invalid UTF-8 is written as
// U+FFFD instead of throwing.
std::string DumpJson(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json ParseJsonFile(const std::string& path) {
  const Result<std::string> text = ReadFile(path);
  if (!text.has_value()) return nlohmann::json();
  return nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
}

// model.json of kind "universal", as UniversalModel::Save writes it.
bool IsModel(const std::string& dir) {
  const nlohmann::json j = ParseJsonFile(dir + "/model.json");
  return j.is_object() && j.contains("kind") && j["kind"] == "universal";
}

bool IsScores(const std::string& path) { return StartsWith(FileHead(path, 64), "customer,"); }

bool IsJsonReport(const std::string& path) {
  const nlohmann::json j = ParseJsonFile(path);
  return j.is_object() && j.contains("models") && j.contains("topics_by");
}

bool IsHtmlReport(const std::string& path) {
  const std::string head = FileHead(path, 4096);
  return StartsWith(head, "<!DOCTYPE html>") &&
         head.find("<title>Topic propensity backtest</title>") != std::string::npos;
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
  bool json = false;
  model::RunOptions run;
  model::TrainOptions options;
};

Status RunTrain(const TrainFlags& f) {
  CF_RETURN_IF_ERROR(CheckOutputDirectory("--out", f.out, kModelKind, IsModel));
  CF_RETURN_IF_ERROR(CheckOutside("--out", f.out, "dataset", f.data));
  CF_ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> ds, data::Dataset::Open(f.data));
  const model::EventLog log = model::EventLog::FromDataset(*ds);
  // Everything known is history: the cutoff sits just after the last event.
  const model::HistoryView history(log, log.last_time() + 1);
  model::TrainReport report;
  CF_ASSIGN_OR_RETURN(std::vector<model::Level> levels, LevelsFor(ds->catalog(), f.levels));
  CF_ASSIGN_OR_RETURN(std::unique_ptr<model::UniversalModel> m,
                      model::UniversalModel::Train(history, std::move(levels), f.run, f.options, &report));
  CF_RETURN_IF_ERROR(m->Save(f.out));
  if (f.json) {
    const nlohmann::json j = {{"model", f.out},
                              {"seconds", report.seconds},
                              {"horizon_days", f.run.horizon_days},
                              {"levels", report.levels},
                              {"depth", report.depth},
                              {"rounds", report.rounds},
                              {"training_rows", report.training_rows},
                              {"validation_lift_quality", report.validation_lift_quality},
                              {"validation_offers", report.validation_offers},
                              {"blend", {{"baseline", report.blend.baseline}, {"weight", report.blend.weight}}},
                              {"blended_lift_quality", report.blended_lift_quality}};
    std::printf("%s\n", DumpJson(j, 2).c_str());
    return Status::OK();
  }
  std::printf(
      "trained %s in %.1f s: horizon %d days, levels %s, depth %d, %d rounds, %llu training rows from %llu "
      "customers, validation Lift Quality %.2f over %d offers\n",
      f.out.c_str(), report.seconds, f.run.horizon_days, Join(report.levels, ", ").c_str(), report.depth, report.rounds,
      static_cast<unsigned long long>(report.training_rows), static_cast<unsigned long long>(report.training_customers),
      report.validation_lift_quality, report.validation_offers);
  if (!report.blend.baseline.empty()) {
    std::printf("validation chose a blend with %s (weight %g): Lift Quality %.2f against %.2f for the trees alone\n",
                report.blend.baseline.c_str(), report.blend.weight, report.blended_lift_quality,
                report.validation_lift_quality);
  }
  return Status::OK();
}

// A customer identifier column of the scores CSV.
struct IdColumn {
  enum class Kind { kExternalId, kDeviceId, kAlias } kind;
  std::string label;   // the alias label, for kAlias
  std::string header;  // the CSV column name
};

Result<std::vector<IdColumn>> ParseIds(const std::string& list) {
  std::vector<IdColumn> ids;
  for (std::string_view part : Split(list, ',')) {
    const std::string id(Trim(part));
    if (id.empty()) continue;
    if (id == "external_id") {
      ids.push_back({IdColumn::Kind::kExternalId, "", id});
    } else if (id == "device_id") {
      ids.push_back({IdColumn::Kind::kDeviceId, "", id});
    } else if (StartsWith(id, "alias:") && id.size() > 6) {
      ids.push_back({IdColumn::Kind::kAlias, id.substr(6), "alias_" + id.substr(6)});
    } else {
      return Err(Status::InvalidArgument(
          fmt::format("--ids: unknown identifier '{}'; expected a comma-separated list of external_id, device_id "
                      "and alias:LABEL (the name of the customer's alias with that label)",
                      id)));
    }
  }
  return ids;
}

std::string_view IdOf(const data::Customers& customers, uint32_t c, const IdColumn& id) {
  switch (id.kind) {
    case IdColumn::Kind::kExternalId:
      return customers.external_id(c);
    case IdColumn::Kind::kDeviceId:
      return customers.device_id(c);
    case IdColumn::Kind::kAlias:
      for (std::string_view line : Split(customers.aliases(c), '\n')) {
        const size_t colon = line.find(':');
        if (colon != std::string_view::npos && line.substr(0, colon) == id.label) return line.substr(colon + 1);
      }
      return {};
  }
  return {};
}

struct ScoreFlags {
  std::string data, model_dir, offer, out, at, ids;
  bool json = false;
  uint64_t top = 0;
  int threads = 0;
};

Status RunScore(const ScoreFlags& f) {
  CF_ASSIGN_OR_RETURN(const std::vector<IdColumn> ids, ParseIds(f.ids));
  CF_RETURN_IF_ERROR(CheckOutputFile("--out", f.out, kScoresKind, IsScores));
  CF_RETURN_IF_ERROR(CheckOutside("--out", f.out, "dataset", f.data));
  CF_RETURN_IF_ERROR(CheckOutside("--out", f.out, "model", f.model_dir));
  CF_ASSIGN_OR_RETURN(const std::optional<int64_t> at, ParseAtFlag(f.at));
  CF_ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> ds, data::Dataset::Open(f.data));
  CF_ASSIGN_OR_RETURN(offer::ProductSet offer, offer::CompileOffer(f.offer, ds->catalog()));
  CF_ASSIGN_OR_RETURN(std::unique_ptr<model::UniversalModel> m,
                      model::UniversalModel::Load(f.model_dir, ds->catalog(), f.threads));
  const model::EventLog log = model::EventLog::FromDataset(*ds);
  const int64_t cutoff = at.value_or(log.last_time() + 1);
  if (at.has_value() && log.num_events() > 0) {
    // The features look back from --at: before the first event nobody has a history, and far
    // past the last one every customer looks lapsed.
    if (*at <= log.first_time()) {
      Warn("score", fmt::format("--at {} is before the dataset's first event ({}): no customer has any history "
                                "there, so the scores say nothing about them",
                                f.at, FormatIsoTime(log.first_time())));
    } else if (*at > log.last_time() + kSecondsPerDay) {
      Warn("score", fmt::format("--at {} is {} days after the dataset's last event ({}): purchases after that are "
                                "unknown, so every customer looks lapsed",
                                f.at, (*at - log.last_time()) / kSecondsPerDay, FormatIsoTime(log.last_time())));
    }
  }
  const auto start = std::chrono::steady_clock::now();
  const model::HistoryView history(log, cutoff);
  // Under mpirun each rank scores its part of the customers; rank 0 alone gathers the scores
  // (in customer order: the parts are contiguous, in rank order) and writes the file.
  m->ShardAcross(Shards());
  std::vector<uint32_t> customers = m->ShardCustomers(history);
  CF_ASSIGN_OR_RETURN(model::OfferScores scores, m->Score(history, offer, customers));
  if (Sharded(Shards())) {
    scores.probability = Shards()->GatherToRoot(std::span<const double>(scores.probability));
    scores.expected_revenue = Shards()->GatherToRoot(std::span<const double>(scores.expected_revenue));
    customers.resize(log.num_customers());
    std::iota(customers.begin(), customers.end(), 0u);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!IsRoot()) {
    return Status::OK();
  }
  const std::vector<uint32_t> order = OrderByDescending(scores.probability);
  const size_t rows = f.top > 0 ? std::min<size_t>(f.top, order.size()) : order.size();
  double buyers = 0, revenue = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    buyers += scores.probability[order[i]];
    revenue += scores.expected_revenue[order[i]];
  }
  // Every row says what produced it, so a file that travels alone still tells its offer,
  // horizon, scoring date and model.
  const std::string provenance = fmt::format(",{},{},{},{}", CsvField(offer.name), m->horizon_days(),
                                             CsvField(FormatIsoTime(cutoff)), CsvField(f.model_dir));
  const data::Customers& people = ds->customers();
  std::string csv = "customer";
  for (const IdColumn& id : ids) {
    csv += ',';
    AppendCsvField(&csv, id.header);
  }
  csv += ",probability,expected_revenue,rank,offer,horizon_days,as_of,model\n";
  std::vector<uint64_t> filled(ids.size(), 0);
  for (size_t k = 0; k < ids.size(); ++k) {
    for (size_t i = 0; i < rows; ++i) {
      filled[k] += IdOf(people, order[i], ids[k]).empty() ? 0 : 1;
    }
  }
  CF_ASSIGN_OR_RETURN(std::unique_ptr<AtomicFileWriter> file, AtomicFileWriter::Create(f.out));
  CF_RETURN_IF_ERROR(file->Append(csv));
  constexpr size_t kAhead = 8;  // rows ahead: several times the latency of a miss to memory
  CF_RETURN_IF_ERROR(WriteRows(
      rows,
      [&](size_t i, std::string* out) {
        // Rows go out by rank, so each reads its customer's id and scores at random places:
        // ask for those of rows further on now, so that the misses overlap.
        if (i + 2 * kAhead < rows) {
          const uint32_t a = order[i + 2 * kAhead];
          people.crm_ids().PrefetchOffsets(a);
          __builtin_prefetch(&scores.probability[a]);
          __builtin_prefetch(&scores.expected_revenue[a]);
        }
        if (i + kAhead < rows) {
          people.crm_ids().PrefetchBytes(order[i + kAhead]);
        }
        const uint32_t c = order[i];
        AppendCsvField(out, people.crm_id(c));
        for (size_t k = 0; k < ids.size(); ++k) {
          *out += ',';
          AppendCsvField(out, IdOf(people, c, ids[k]));
        }
        *out += ',';
        AppendFixed(out, scores.probability[c], 6);
        *out += ',';
        AppendFixed(out, scores.expected_revenue[c], 4);
        char rank[24] = {','};
        out->append(rank, std::to_chars(rank + 1, rank + sizeof rank, i + 1).ptr);
        *out += provenance;
        *out += '\n';
      },
      file.get()));
  CF_RETURN_IF_ERROR(file->Commit());
  for (size_t k = 0; k < ids.size(); ++k) {
    if (rows > 0 && filled[k] == 0) {
      Warn("score",
           fmt::format("--ids {}: none of the {} customers written has one; the column is empty", ids[k].header, rows));
    }
  }
  if (f.json) {
    const nlohmann::json j = {{"customers", customers.size()},
                              {"offer", offer.name},
                              {"products", offer.count},
                              {"as_of", FormatIsoTime(cutoff)},
                              {"horizon_days", m->horizon_days()},
                              {"model", f.model_dir},
                              {"seconds", seconds},
                              {"expected_buyers", buyers},
                              {"expected_revenue", revenue},
                              {"rows", rows},
                              {"out", f.out}};
    std::printf("%s\n", DumpJson(j, 2).c_str());
    return Status::OK();
  }
  std::printf(
      "scored %zu customers for '%s' (%llu products) as of %s in %.3f s with model %s: %.1f expected buyers, %.2f "
      "expected revenue within %d days; wrote %zu rows to %s\n",
      customers.size(), offer.name.c_str(), static_cast<unsigned long long>(offer.count), FormatIsoTime(cutoff).c_str(),
      seconds, f.model_dir.c_str(), buyers, revenue, m->horizon_days(), rows, f.out.c_str());
  return Status::OK();
}

struct EvaluateFlags {
  std::string data, cutoff, topics, models, json_out, html_out, levels, population = "with-history";
  bool json = false;
  model::EvaluateOptions options;
};

Status RunEvaluate(const EvaluateFlags& f) {
  // Everything that can be wrong with the flags is found before the backtest runs.
  model::EvaluateOptions options = f.options;
  Result<int64_t> cutoff = ParseIsoTime(f.cutoff);
  if (!cutoff.has_value()) return cutoff.error().WithPrefix("--cutoff");
  options.cutoff = *cutoff;
  if (!f.models.empty()) {
    CF_ASSIGN_OR_RETURN(options.models, ModelList(f.models));
  }
  for (const auto& [flag, path, kind, is_ours] : {std::tuple{"--json-out", f.json_out, kJsonReportKind, &IsJsonReport},
                                                  std::tuple{"--html", f.html_out, kHtmlReportKind, &IsHtmlReport}}) {
    if (path.empty()) continue;
    CF_RETURN_IF_ERROR(CheckOutputFile(flag, path, kind, is_ours));
    CF_RETURN_IF_ERROR(CheckOutside(flag, path, "dataset", f.data));
  }
  CF_ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> ds, data::Dataset::Open(f.data));
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
  if (!f.json_out.empty()) {
    CF_RETURN_IF_ERROR(WriteFileAtomic(f.json_out, DumpJson(j, 1) + "\n"));
  }
  if (!f.html_out.empty()) {
    CF_RETURN_IF_ERROR(WriteFileAtomic(f.html_out, model::BacktestToHtml(result)));
  }
  if (f.json) {
    std::printf("%s\n", DumpJson(j, 2).c_str());
    return Status::OK();
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
      std::printf("calibration of %s, %s (%d offers): %.1f predicted buyers, %.0f realized (%+.1f%%)\n", m.name.c_str(),
                  c.kind.c_str(), c.offers, c.predicted, c.realized,
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
  // One default horizon for train and evaluate: the model's own.
  const int default_horizon = model::RunOptions{}.horizon_days;

  auto train = std::make_shared<TrainFlags>();
  CLI::App* t = app.add_subcommand("train", "Train the universal offer model on a dataset's whole history");
  t->add_option("--data", train->data, kDataHelp)->required();
  t->add_option("--out", train->out, "Model directory to write (replaced only if it holds a model)")->required();
  t->add_option("--horizon", train->run.horizon_days, kHorizonHelp)
      ->check(WholeNumber(1, kMaxDays))
      ->capture_default_str();
  t->add_option("--train-cutoffs", train->options.cutoffs, kTrainCutoffsHelp)
      ->check(WholeNumber(1, kMaxDays))
      ->capture_default_str();
  t->add_option("--levels", train->levels,
                "Product attributes that group products, coarsest first (default: detected from the catalog)");
  t->add_option("--sample-rows", train->options.max_rows, kSampleRowsHelp)
      ->check(WholeNumber(1, kMaxCount))
      ->capture_default_str();
  t->add_option("--max-customers", train->options.max_training_customers,
                "Customers sampled for the training rows on a larger base (0 = all)")
      ->check(WholeNumber(0, kMaxCount))
      ->capture_default_str();
  t->add_option("--threads", train->run.threads, kThreadsHelp)
      ->check(WholeNumber(0, kMaxThreads))
      ->capture_default_str();
  t->add_option("--booster-threads", train->options.booster_threads, kBoosterThreadsHelp)
      ->check(WholeNumber(0, kMaxThreads))
      ->capture_default_str();
  t->add_option("--seed", train->run.seed, "Seed of the negative sampling and tree subsampling")
      ->check(WholeNumber(0, kMaxCount))
      ->capture_default_str();
  t->add_flag("--json", train->json, "Print the training summary as JSON instead of text");
  AddCommonFlags(t);
  t->callback([train, exit_code] {
    const Status s = RunTrain(*train);
    *exit_code = s.ok() ? 0 : Fail("train", s);
  });

  auto score = std::make_shared<ScoreFlags>();
  CLI::App* s = app.add_subcommand("score", "Score every customer for an offer with a trained model");
  s->add_option("--data", score->data, kDataHelp)->required();
  s->add_option("--model", score->model_dir, "Model directory written by audience train")->required();
  s->add_option("--offer", score->offer, "Offer expression, e.g. 'product_category = \"SOFT DRINKS\"' or any")
      ->required();
  s->add_option("--out", score->out,
                "Scores CSV to write: customer, the --ids columns, probability, expected_revenue, rank, offer, "
                "horizon_days, as_of, model")
      ->required();
  s->add_option("--ids", score->ids,
                "Customer identifiers to add as columns: external_id, device_id, alias:LABEL (comma-separated)");
  s->add_option("--top", score->top, "Write only the best N customers (0 = all)")
      ->check(WholeNumber(0, kMaxCount))
      ->capture_default_str();
  s->add_option("--at", score->at, "Score as of this date or time, ISO 8601 (default: just after the last event)");
  s->add_option("--threads", score->threads, kThreadsHelp)->check(WholeNumber(0, kMaxThreads))->capture_default_str();
  s->add_flag("--json", score->json, "Print the scoring summary as JSON instead of text");
  AddCommonFlags(s);
  s->callback([score, exit_code] {
    const Status st = RunScore(*score);
    *exit_code = st.ok() ? 0 : Fail("score", st);
  });

  auto eval = std::make_shared<EvaluateFlags>();
  eval->options.run.horizon_days = default_horizon;
  CLI::App* e = app.add_subcommand("evaluate", "Backtest every model at a cutoff (see docs/model.md)");
  e->add_option("--data", eval->data, kDataHelp)->required();
  e->add_option("--cutoff", eval->cutoff, "Cutoff date T, ISO 8601: history before it, labels in [T, T + horizon)")
      ->required();
  e->add_option("--horizon", eval->options.run.horizon_days, kHorizonHelp)
      ->check(WholeNumber(1, kMaxDays))
      ->capture_default_str();
  e->add_option("--topics", eval->topics,
                "Product attribute whose values are the topics, or any, or product (default: the finest level)");
  e->add_option("--levels", eval->levels,
                "Universal model: attributes that group products, coarsest first (default: detected)");
  e->add_option("--min-positives", eval->options.min_positives, "Keep topics with at least this many buyers")
      ->check(WholeNumber(1, std::numeric_limits<uint32_t>::max()))
      ->capture_default_str();
  e->add_option("--models", eval->models, "Models to run, comma-separated (default: all)");
  e->add_option("--population", eval->population,
                "with-history (customers with a purchase before the cutoff) or all-customers (also those of the "
                "customers file without one, reported separately)")
      ->capture_default_str();
  e->add_flag("--json", eval->json, "Print the report as JSON instead of the table");
  e->add_option("--json-out", eval->json_out, "JSON report to write");
  e->add_option("--html", eval->html_out, "Self-contained HTML report to write");
  e->add_option("--threads", eval->options.run.threads, kThreadsHelp)
      ->check(WholeNumber(0, kMaxThreads))
      ->capture_default_str();
  e->add_option("--booster-threads", eval->options.train.booster_threads, kBoosterThreadsHelp)
      ->check(WholeNumber(0, kMaxThreads))
      ->capture_default_str();
  e->add_option("--seed", eval->options.run.seed, "Seed of the random baseline and of the universal model's training")
      ->check(WholeNumber(0, kMaxCount))
      ->capture_default_str();
  e->add_option("--train-cutoffs", eval->options.train.cutoffs, kTrainCutoffsHelp)
      ->check(WholeNumber(1, kMaxDays))
      ->capture_default_str();
  e->add_option("--sample-rows", eval->options.train.max_rows, kSampleRowsHelp)
      ->check(WholeNumber(1, kMaxCount))
      ->capture_default_str();
  e->add_option("--depths", eval->options.train.depths, "Universal model: candidate tree depths, comma-separated")
      ->check(WholeNumber(1, 16))
      ->delimiter(',')
      ->capture_default_str();
  AddCommonFlags(e);
  e->callback([eval, exit_code] {
    const Status st = RunEvaluate(*eval);
    *exit_code = st.ok() ? 0 : Fail("evaluate", st);
  });
}

}  // namespace cf::cli
