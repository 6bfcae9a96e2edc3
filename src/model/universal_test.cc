#include "model/universal.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "model/backtest.h"
#include "model/metrics.h"
#include "model/test_data.h"
#include "offer/offer.h"

namespace cf::model {
namespace {

// Lift Quality differences below this are noise (../shared/data/README.md: 1–2 points).
constexpr double kNoise = 2.0;

// Small enough for a unit test; the shipped defaults search more.
TrainOptions QuickOptions() {
  TrainOptions o;
  o.depths = {3};
  o.max_rounds = 150;
  o.eval_every = 25;
  o.max_rows = 80000;
  return o;
}

TEST(UniversalModelTest, ScoresLikeRandomWhenTheFutureIsIndependentOfThePast) {
  const TempDirectory scratch("model-independent");
  ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
  const std::string dir = scratch.path();
  data::GeneratorOptions g;
  g.customers = 3000;
  g.products = 300;
  g.days = 240;
  g.seed = 11;
  g.independent = true;
  auto ds = testing::GenerateAndIngest(g, dir);
  ASSERT_TRUE(ds);
  const EventLog log = EventLog::FromDataset(*ds);
  EvaluateOptions options;
  options.run.horizon_days = 30;
  options.cutoff = log.last_time() - 30 * kSecondsPerDay;
  options.min_positives = 30;
  options.models = {"random", "universal"};
  options.train = QuickOptions();
  auto topics = BacktestOffers(ds->catalog(), "category");
  ASSERT_TRUE(topics.has_value());
  auto result = RunBacktest(log, ChooseLevels(ds->catalog()), *topics, "category", options);
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  ASSERT_GE(result->offers.size(), 10u);
  const ModelBacktest& universal = result->models[1];
  EXPECT_NEAR(universal.macro.lift_quality, 0.0, 5.0);
  EXPECT_NEAR(universal.macro.auc, 0.5, 0.03);
  // Calibrated: the mean predicted probability is the mean base rate, within a third.
  double predicted = 0;
  for (double p : universal.calibration_predicted) {
    predicted += p / static_cast<double>(universal.calibration_predicted.size());
  }
  EXPECT_NEAR(predicted, result->base_rate, result->base_rate / 3);
}

TEST(UniversalModelTest, AgreesWithTheGeneratorsTruthBetterThanBaselines) {
  const TempDirectory scratch("model-truth");
  ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
  const std::string dir = scratch.path();
  data::GeneratorOptions g;
  g.customers = 3000;
  g.products = 300;
  g.days = 365;
  g.seed = 3;
  auto ds = testing::GenerateAndIngest(g, dir);
  ASSERT_TRUE(ds);
  auto truth_text = ReadFile(dir + "/gen/truth.json");
  ASSERT_TRUE(truth_text.has_value());
  const nlohmann::json truth = nlohmann::json::parse(*truth_text);
  const int64_t cutoff = ParseIsoTime(truth["options"]["truth_cutoff"].get<std::string>()).value();
  const int horizon = truth["options"]["truth_horizon_days"].get<int>();

  // True probabilities per category, per customer.
  auto csv = ReadFile(dir + "/gen/truth_probabilities.csv");
  ASSERT_TRUE(csv.has_value());
  std::map<std::string, std::vector<std::pair<uint32_t, double>>> by_category;
  bool header = true;
  for (std::string_view line : Split(*csv, '\n')) {
    if (header || line.empty()) {
      header = false;
      continue;
    }
    const std::vector<std::string_view> f = Split(line, ',');
    ASSERT_EQ(f.size(), 3u) << line;
    const auto c = ds->customers().Find(f[0]);
    if (!c.has_value()) {
      continue;  // never bought anything: not in the ingested events
    }
    by_category[std::string(f[1])].emplace_back(*c, ParseDouble(f[2]).value());
  }
  ASSERT_GE(by_category.size(), 10u);

  const EventLog log = EventLog::FromDataset(*ds);
  const HistoryView history(log, cutoff);
  auto model = UniversalModel::Train(history, ChooseLevels(ds->catalog()), RunOptions{.horizon_days = horizon},
                                     QuickOptions(), nullptr);
  ASSERT_TRUE(model.has_value()) << model.error().ToString();
  ScorerContext context;
  context.run.horizon_days = horizon;
  auto rfm = MakeScorer("topic_rfm", context);
  auto popularity = MakeScorer("popularity", context);
  ASSERT_TRUE(rfm.has_value() && popularity.has_value());

  double universal_rho = 0, rfm_rho = 0, popularity_rho = 0;
  for (const auto& [category, rows] : by_category) {
    auto offer = offer::CompileOffer("category = \"" + category + "\"", ds->catalog());
    ASSERT_TRUE(offer.has_value()) << offer.error().ToString();
    std::vector<uint32_t> customers;
    std::vector<double> truth_p;
    for (const auto& [c, p] : rows) {
      if (history.HasHistory(c)) {
        customers.push_back(c);
        truth_p.push_back(p);
      }
    }
    auto scored = (*model)->Score(history, *offer, customers);
    ASSERT_TRUE(scored.has_value()) << scored.error().ToString();
    const OfferScores& s = *scored;
    std::vector<double> r(customers.size()), q(customers.size());
    ASSERT_TRUE((*rfm)->Score(history, *offer, customers, r).ok());
    ASSERT_TRUE((*popularity)->Score(history, *offer, customers, q).ok());
    universal_rho += Spearman(s.probability, truth_p) / static_cast<double>(by_category.size());
    rfm_rho += Spearman(r, truth_p) / static_cast<double>(by_category.size());
    popularity_rho += Spearman(q, truth_p) / static_cast<double>(by_category.size());
  }
  RecordProperty("universal_spearman", std::to_string(universal_rho));
  RecordProperty("topic_rfm_spearman", std::to_string(rfm_rho));
  RecordProperty("popularity_spearman", std::to_string(popularity_rho));
  std::printf("mean Spearman with the true probabilities: universal %.3f, topic_rfm %.3f, popularity %.3f\n",
              universal_rho, rfm_rho, popularity_rho);
  EXPECT_GT(universal_rho, rfm_rho + 0.05);
  EXPECT_GT(universal_rho, popularity_rho + 0.05);
}

// A tiny log without products (the weak spot the validation safeguard exists for): 375
// customers with a steady personal purchase rate, so total purchases (popularity) is close to
// the best possible ranking and a 375-customer training set leaves the trees little to learn.
EventLog TinyLogWithoutProducts() {
  constexpr uint32_t kCustomers = 375;
  constexpr int kDays = 365;
  constexpr int64_t kStart = 1704067200;  // 2024-01-01
  std::mt19937_64 rng(375);
  std::normal_distribution<double> log_rate(std::log(1.0 / 45.0), 1.0);
  OwnedEvents ev;
  ev.num_customers = kCustomers;
  for (uint32_t c = 0; c < kCustomers; ++c) {
    std::exponential_distribution<double> gap(std::exp(log_rate(rng)));
    for (double day = gap(rng); day < kDays; day += gap(rng)) {
      ev.customer.push_back(c);
      ev.time.push_back(kStart + static_cast<int64_t>(day * kSecondsPerDay));
      ev.product.push_back(data::kNoProduct);
      ev.revenue.push_back(10.0f);
      ev.channel.push_back(0);
    }
  }
  return EventLog::FromOwned(std::move(ev));
}

TEST(UniversalModelTest, DoesNotLoseToTheBaselinesOnATinyLogWithoutProducts) {
  const EventLog log = TinyLogWithoutProducts();
  EvaluateOptions options;
  options.run.horizon_days = 30;
  options.cutoff = log.last_time() - 30 * kSecondsPerDay;
  options.min_positives = 30;
  options.models = {"popularity", "topic_rfm", "decay", "universal"};
  const std::vector<offer::ProductSet> topics = {offer::ProductSet::Any(0)};
  auto result = RunBacktest(log, {}, topics, "any", options);
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  ASSERT_EQ(result->offers.size(), 1u);
  const double universal = result->models.back().macro.lift_quality;
  for (size_t m = 0; m + 1 < result->models.size(); ++m) {
    std::printf("%s %.2f, universal %.2f\n", result->models[m].name.c_str(), result->models[m].macro.lift_quality,
                universal);
    EXPECT_GT(universal, result->models[m].macro.lift_quality - kNoise) << result->models[m].name;
  }
  // The blend is calibrated as it is scored: the mean probability is the base rate, within a third.
  const std::vector<double>& predicted = result->models.back().calibration_predicted;
  EXPECT_NEAR(std::accumulate(predicted.begin(), predicted.end(), 0.0) / static_cast<double>(predicted.size()),
              result->base_rate, result->base_rate / 3);
}

TEST(UniversalModelTest, SavesTheBaselineBlendChosenOnValidation) {
  const TempDirectory scratch("model-blend");
  ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
  const std::string dir = scratch.path();
  const EventLog log = TinyLogWithoutProducts();
  const HistoryView history(log, log.last_time() - 30 * kSecondsPerDay);  // as in the test above
  TrainOptions options;
  TrainReport report;
  auto model = UniversalModel::Train(history, {}, RunOptions{.horizon_days = 30}, options, &report);
  ASSERT_TRUE(model.has_value()) << model.error().ToString();
  ASSERT_FALSE(report.blend.baseline.empty()) << "the tiny log is where the trees need a baseline";
  EXPECT_GT(report.blended_lift_quality, report.validation_lift_quality + options.min_blend_gain);
  ASSERT_TRUE((*model)->Save(dir + "/model").ok());
  const data::Catalog no_products;
  auto loaded = UniversalModel::Load(dir + "/model", no_products, 1);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  EXPECT_EQ((*loaded)->report().blend.baseline, report.blend.baseline);
  const offer::ProductSet any = offer::ProductSet::Any(0);
  std::vector<uint32_t> all(log.num_customers());
  std::iota(all.begin(), all.end(), 0u);
  auto a = (*model)->Score(history, any, all);
  auto b = (*loaded)->Score(history, any, all);
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  ASSERT_TRUE(b.has_value()) << b.error().ToString();
  // A customer's score is their own, whoever else is in the request.
  const std::vector<uint32_t> some = {all[7], all[300]};
  auto c = (*loaded)->Score(history, any, some);
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_NEAR(a->probability[i], b->probability[i], 1e-6);
  }
  EXPECT_NEAR(c->probability[0], a->probability[7], 1e-6);
  EXPECT_NEAR(c->probability[1], a->probability[300], 1e-6);
}

TEST(UniversalModelTest, SavedModelScoresTheSameAfterLoading) {
  const TempDirectory scratch("model-save");
  ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
  const std::string dir = scratch.path();
  data::GeneratorOptions g;
  g.customers = 1500;
  g.products = 200;
  g.days = 200;
  g.seed = 5;
  auto ds = testing::GenerateAndIngest(g, dir);
  ASSERT_TRUE(ds);
  const EventLog log = EventLog::FromDataset(*ds);
  const HistoryView history(log, log.last_time() + 1);
  TrainOptions options = QuickOptions();
  options.max_rounds = 50;
  auto model = UniversalModel::Train(history, ChooseLevels(ds->catalog()), RunOptions{}, options, nullptr);
  ASSERT_TRUE(model.has_value()) << model.error().ToString();
  ASSERT_TRUE((*model)->Save(dir + "/model").ok());
  auto loaded = UniversalModel::Load(dir + "/model", ds->catalog(), 1);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  auto offer = offer::CompileOffer("department = \"PRODUCE\" or brand in (\"x\")", ds->catalog());
  ASSERT_TRUE(offer.has_value()) << offer.error().ToString();
  std::vector<uint32_t> customers(log.num_customers());
  std::iota(customers.begin(), customers.end(), 0u);
  auto a = (*model)->Score(history, *offer, customers);
  auto b = (*loaded)->Score(history, *offer, customers);
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  ASSERT_TRUE(b.has_value()) << b.error().ToString();
  ASSERT_EQ(a->probability.size(), customers.size());
  ASSERT_EQ(b->probability.size(), customers.size());
  double total = 0;
  for (size_t i = 0; i < a->probability.size(); ++i) {
    ASSERT_NEAR(a->probability[i], b->probability[i], 1e-6);
    ASSERT_NEAR(a->expected_revenue[i], b->expected_revenue[i], 1e-4);
    ASSERT_GT(a->probability[i], 0.0);
    ASSERT_LE(a->probability[i], 1.0);
    total += a->probability[i];
  }
  EXPECT_GT(total, 1.0) << "a trained model expects some buyers";
  auto missing = UniversalModel::Load(dir + "/nope", ds->catalog(), 1);
  EXPECT_FALSE(missing.has_value());
}

// The planner's call: several offers at once give, offer by offer, exactly what Score gives
// alone, whatever the order of the offers or the other offers in the batch (the reused buffers
// carry nothing from one offer to the next), for customers with and without history.
TEST(UniversalModelTest, ScoresSeveralOffersExactlyAsOneAtATime) {
  const TempDirectory scratch("model-score-offers");
  ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
  const std::string dir = scratch.path();
  data::GeneratorOptions g;
  g.customers = 1500;
  g.products = 200;
  g.days = 200;
  g.seed = 7;
  auto ds = testing::GenerateAndIngestWithCustomers(g, dir);
  ASSERT_TRUE(ds);
  const EventLog log = EventLog::FromDataset(*ds);
  const HistoryView history(log, log.last_time() + 1);
  TrainOptions options = QuickOptions();
  options.max_rounds = 50;
  auto model = UniversalModel::Train(history, ChooseLevels(ds->catalog()), RunOptions{}, options, nullptr);
  ASSERT_TRUE(model.has_value()) << model.error().ToString();
  ASSERT_TRUE((*model)->Save(dir + "/model").ok());
  auto alone = UniversalModel::Load(dir + "/model", ds->catalog(), 1);
  ASSERT_TRUE(alone.has_value()) << alone.error().ToString();
  std::vector<offer::ProductSet> offers;
  for (const char* e : {"department = \"PRODUCE\"", "price < 3", "any", "department = \"GROCERY\" and price >= 3",
                        "department = \"PRODUCE\""}) {
    auto o = offer::CompileOffer(e, ds->catalog());
    ASSERT_TRUE(o.has_value()) << e << ": " << o.error().ToString();
    offers.push_back(*std::move(o));
  }
  // Every customer, and a shuffled subset with a repeat.
  std::vector<uint32_t> all(log.num_customers());
  std::iota(all.begin(), all.end(), 0u);
  size_t cold = 0;
  for (uint32_t c : all) {
    cold += history.HasHistory(c) ? 0 : 1;
  }
  ASSERT_GT(cold, 0u) << "the customers file lists customers without purchases";
  std::vector<uint32_t> some(all.begin(), all.begin() + 400);
  std::shuffle(some.begin(), some.end(), std::mt19937(3));
  some.push_back(some.front());
  for (const std::vector<uint32_t>& customers : {all, some}) {
    auto batch = (*model)->ScoreOffers(history, offers, customers);
    ASSERT_TRUE(batch.has_value()) << batch.error().ToString();
    ASSERT_EQ(batch->size(), offers.size());
    // The same offers in the other order, through the sink.
    std::vector<OfferScores> reversed(offers.size());
    std::vector<offer::ProductSet> backwards(offers.rbegin(), offers.rend());
    ASSERT_TRUE((*model)
                    ->ScoreOffers(history, backwards, customers,
                                  [&](size_t k, OfferScores s) {
                                    reversed[offers.size() - 1 - k] = std::move(s);
                                    return Status::OK();
                                  })
                    .ok());
    for (size_t k = 0; k < offers.size(); ++k) {
      auto one = (*alone)->Score(history, offers[k], customers);
      ASSERT_TRUE(one.has_value()) << one.error().ToString();
      ASSERT_EQ(one->probability.size(), customers.size());
      double total = 0;
      for (size_t i = 0; i < customers.size(); ++i) {
        ASSERT_EQ((*batch)[k].probability[i], one->probability[i]) << offers[k].name << ", customer " << customers[i];
        ASSERT_EQ((*batch)[k].expected_revenue[i], one->expected_revenue[i]) << offers[k].name;
        ASSERT_EQ(reversed[k].probability[i], one->probability[i]) << offers[k].name;
        ASSERT_EQ(reversed[k].expected_revenue[i], one->expected_revenue[i]) << offers[k].name;
        total += one->probability[i];
      }
      EXPECT_GT(total, 1.0) << offers[k].name;
    }
  }
  // The duplicate offer scores alike; different offers do not.
  auto batch = (*model)->ScoreOffers(history, offers, all);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ((*batch)[0].probability, (*batch)[4].probability);
  EXPECT_NE((*batch)[0].probability, (*batch)[1].probability);
}

// A bad offer or customer fails the whole request, naming it; a sink's error stops the scoring.
TEST(UniversalModelTest, ScoringSeveralOffersReportsTheBadOneAndStopsOnASinkError) {
  const EventLog log = TinyLogWithoutProducts();
  const HistoryView history(log, log.last_time() + 1);
  TrainOptions options = QuickOptions();
  options.max_rounds = 20;
  options.eval_every = 10;
  auto model = UniversalModel::Train(history, {}, RunOptions{}, options, nullptr);
  ASSERT_TRUE(model.has_value()) << model.error().ToString();
  const std::vector<offer::ProductSet> offers = {offer::ProductSet::Any(0),
                                                 offer::ProductSet::FromMembers("other", {1, 0, 1})};
  auto bad = (*model)->ScoreOffers(history, offers, std::vector<uint32_t>{0, 1});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("offers[1] ('other') was compiled against a catalog of 3 products"),
            std::string::npos)
      << bad.error().message();
  const std::vector<offer::ProductSet> two = {offer::ProductSet::Any(0), offer::ProductSet::Any(0)};
  auto unknown = (*model)->ScoreOffers(history, two, std::vector<uint32_t>{log.num_customers()});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message().find("customers[0]"), std::string::npos) << unknown.error().message();
  int calls = 0;
  const Status stopped = (*model)->ScoreOffers(history, two, std::vector<uint32_t>{0}, [&](size_t, OfferScores) {
    ++calls;
    return Status::ResourceExhausted("enough");
  });
  EXPECT_EQ(stopped.message(), "enough");
  EXPECT_EQ(calls, 1);
}

// Options out of range are errors naming the field, before any work (not a division by zero).
TEST(UniversalModelTest, OptionsOutOfRangeAreErrorsNamingTheField) {
  const EventLog log = TinyLogWithoutProducts();
  const HistoryView history(log, log.last_time() + 1);
  TrainOptions every_zero = QuickOptions();
  every_zero.eval_every = 0;
  auto a = UniversalModel::Train(history, {}, RunOptions{}, every_zero, nullptr);
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().message(), "eval_every must be between 1 and 150, got 0");
  auto b = UniversalModel::Train(history, {}, RunOptions{.horizon_days = -3}, QuickOptions(), nullptr);
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().message(), "horizon_days must be between 1 and 3650, got -3");
  TrainOptions blend = QuickOptions();
  blend.blend_baselines = {"universal"};
  auto c = UniversalModel::Train(history, {}, RunOptions{}, blend, nullptr);
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("blend_baselines: cannot blend with baseline 'universal'; expected one of "
                                     "popularity, topic_rfm, decay"),
            std::string::npos)
      << c.error().message();
  EvaluateOptions evaluate;
  evaluate.models = {"random", "gbm"};
  EXPECT_EQ(evaluate.Validate().message(),
            "models: unknown model 'gbm'; expected one of random, popularity, topic_rfm, decay, item_cf, universal");
  evaluate.models = {"random"};
  evaluate.train.depths = {3, 0};
  EXPECT_EQ(evaluate.Validate().message(), "train: depths[1] must be between 1 and 10, got 0");
  EXPECT_TRUE(EvaluateOptions{}.Validate().ok());
  EXPECT_TRUE(TrainOptions{}.Validate().ok());
}

// Requests the model cannot answer are errors that say why, never scores of zero.
TEST(UniversalModelTest, ScoringAnUnanswerableRequestIsAnErrorNotZeros) {
  const EventLog log = TinyLogWithoutProducts();
  const HistoryView history(log, log.last_time() + 1);
  TrainOptions options = QuickOptions();
  options.max_rounds = 20;
  options.eval_every = 10;
  auto model = UniversalModel::Train(history, {}, RunOptions{}, options, nullptr);
  ASSERT_TRUE(model.has_value()) << model.error().ToString();
  const offer::ProductSet any = offer::ProductSet::Any(0);
  const std::vector<uint32_t> unknown = {0, log.num_customers()};
  auto scores = (*model)->Score(history, any, unknown);
  ASSERT_FALSE(scores.has_value());
  EXPECT_EQ(scores.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(scores.error().message().find(fmt::format("customers[1] is {}", log.num_customers())), std::string::npos)
      << scores.error().message();
  // An offer compiled against another catalog (3 products; this log has none).
  const offer::ProductSet other = offer::ProductSet::FromMembers("other", {1, 0, 1});
  auto mismatched = (*model)->Score(history, other, std::vector<uint32_t>{0});
  ASSERT_FALSE(mismatched.has_value());
  EXPECT_NE(mismatched.error().message().find("3 products"), std::string::npos) << mismatched.error().message();
}

}  // namespace
}  // namespace cf::model
