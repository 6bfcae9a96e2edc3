// Training on a customer sample (TrainOptions::max_training_customers): the sample has the
// size asked for, and the model it trains agrees with the generator's truth as well as the
// model trained on every customer.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "model/metrics.h"
#include "model/test_data.h"
#include "model/universal.h"
#include "offer/offer.h"

namespace cf::model {
namespace {

TEST(TrainingSampleTest, TheSampleSizeIsValidated) {
  TrainOptions o;
  EXPECT_TRUE(o.Validate().ok());
  o.max_training_customers = 0;  // every customer
  EXPECT_TRUE(o.Validate().ok());
  o.max_training_customers = 5;
  const Status s = o.Validate();
  EXPECT_NE(s.message().find("max_training_customers must be 0 (every customer) or at least 100, got 5"),
            std::string::npos)
      << s.message();
}

TEST(TrainingSampleTest, ASampleTrainsAsWellAsEveryCustomer) {
  const TempDirectory scratch("model-training-sample");
  ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
  const std::string& dir = scratch.path();
  data::GeneratorOptions g;
  g.customers = 3000;
  g.products = 300;
  g.days = 365;
  g.seed = 3;
  auto ds = testing::GenerateAndIngest(g, dir);
  ASSERT_TRUE(ds);
  const nlohmann::json truth = nlohmann::json::parse(ReadFile(dir + "/gen/truth.json").value());
  const int64_t cutoff = ParseIsoTime(truth["options"]["truth_cutoff"].get<std::string>()).value();
  const int horizon = truth["options"]["truth_horizon_days"].get<int>();
  std::map<std::string, std::vector<std::pair<uint32_t, double>>> by_category;
  bool header = true;
  // Named: Split's views must not outlive the file's text (a temporary in the range-for).
  const std::string probabilities = ReadFile(dir + "/gen/truth_probabilities.csv").value();
  for (std::string_view line : Split(probabilities, '\n')) {
    if (header || line.empty()) {
      header = false;
      continue;
    }
    const std::vector<std::string_view> f = Split(line, ',');
    ASSERT_EQ(f.size(), 3u) << line;
    if (const auto c = ds->customers().Find(f[0]); c.has_value()) {
      by_category[std::string(f[1])].emplace_back(*c, ParseDouble(f[2]).value());
    }
  }
  ASSERT_GE(by_category.size(), 10u);

  const EventLog log = EventLog::FromDataset(*ds);
  const HistoryView history(log, cutoff);
  uint64_t population = 0;
  for (uint32_t c = 0; c < log.num_customers(); ++c) {
    population += history.HasHistory(c) ? 1 : 0;
  }
  TrainOptions options;
  options.depths = {3};
  options.max_rounds = 150;
  options.eval_every = 25;
  options.max_rows = 80000;

  // Mean Spearman correlation with the true probabilities over the truth categories.
  auto agreement = [&](uint64_t sample, TrainReport* report) {
    options.max_training_customers = sample;
    auto model = UniversalModel::Train(history, ChooseLevels(ds->catalog()), RunOptions{.horizon_days = horizon},
                                       options, report);
    EXPECT_TRUE(model.has_value()) << model.error().ToString();
    if (!model.has_value()) {
      return 0.0;
    }
    double rho = 0;
    for (const auto& [category, rows] : by_category) {
      auto offer = offer::CompileOffer("category = \"" + category + "\"", ds->catalog());
      EXPECT_TRUE(offer.has_value()) << offer.error().ToString();
      std::vector<uint32_t> customers;
      std::vector<double> truth_p;
      for (const auto& [c, p] : rows) {
        if (history.HasHistory(c)) {
          customers.push_back(c);
          truth_p.push_back(p);
        }
      }
      auto scores = (*model)->Score(history, *offer, customers);
      EXPECT_TRUE(scores.has_value()) << scores.error().ToString();
      rho += Spearman(scores->probability, truth_p) / static_cast<double>(by_category.size());
    }
    return rho;
  };

  TrainReport all, sampled;
  const double rho_all = agreement(0, &all);
  const double rho_sampled = agreement(population / 3, &sampled);
  std::printf("mean Spearman with the truth: every customer (%llu) %.3f, a sample of %llu %.3f\n",
              static_cast<unsigned long long>(all.training_customers), rho_all,
              static_cast<unsigned long long>(sampled.training_customers), rho_sampled);
  EXPECT_EQ(all.training_customers, population);
  // A hash sample: about the size asked for.
  EXPECT_NEAR(static_cast<double>(sampled.training_customers), static_cast<double>(population) / 3,
              0.1 * static_cast<double>(population) / 3);
  EXPECT_GT(rho_all, 0.5);
  EXPECT_GT(rho_sampled, rho_all - 0.05);
}

}  // namespace
}  // namespace cf::model
