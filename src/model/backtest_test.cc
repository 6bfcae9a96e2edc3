#include "model/backtest.h"

#include <gtest/gtest.h>

#include "base/files.h"
#include "base/time.h"
#include "model/test_data.h"

namespace cf::model {
namespace {

TEST(BacktestTest, ReproducesTheFixtureExpectedMetrics) {
  const TempDirectory scratch("model-fixture");
  ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
  const std::string dir = scratch.path();
  CF_SKIP_WITHOUT_SHARED_DATA("backtest-fixture");
  auto ds = testing::IngestFixture(dir);
  ASSERT_TRUE(ds);
  auto expected_text = ReadFile(testing::SharedData("backtest-fixture/expected.json"));
  ASSERT_TRUE(expected_text.has_value());
  const nlohmann::json expected = nlohmann::json::parse(*expected_text);

  EvaluateOptions options;
  options.cutoff = ParseIsoTime(expected["cutoff"].get<std::string>()).value();
  options.run.horizon_days = expected["horizon_days"].get<int>();
  options.min_positives = expected["min_positives"].get<uint32_t>();
  options.models = {"popularity", "topic_rfm", "decay"};
  auto topics = BacktestOffers(ds->catalog(), "product");
  ASSERT_TRUE(topics.has_value());
  const EventLog log = EventLog::FromDataset(*ds);
  auto result = RunBacktest(log, {}, *topics, "product", options);
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  const nlohmann::json got = BacktestToJson(*result);

  EXPECT_EQ(got["population"].get<uint64_t>(), expected["population"].get<uint64_t>());
  EXPECT_EQ(got["topics"].get<size_t>(), expected["topics"].size());
  int checked = 0;
  for (const auto& [model, body] : got["models"].items()) {
    for (const nlohmann::json& t : body["per_topic"]) {
      const nlohmann::json& want = expected["topics"][t["topic"].get<std::string>()];
      EXPECT_EQ(t["positives"].get<uint64_t>(), want["positives"].get<uint64_t>());
      for (const char* metric : {"auc", "average_precision"}) {
        EXPECT_NEAR(t[metric].get<double>(), want["models"][model][metric].get<double>(), 1e-6)
            << model << " " << t["topic"] << " " << metric;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 3 * 8 * 2);
}

TEST(BacktestTest, ReportsJsonAndSelfContainedHtml) {
  const TempDirectory scratch("model-report");
  ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
  const std::string dir = scratch.path();
  CF_SKIP_WITHOUT_SHARED_DATA("backtest-fixture");
  auto ds = testing::IngestFixture(dir);
  ASSERT_TRUE(ds);
  EvaluateOptions options;
  options.cutoff = ParseIsoTime("2024-07-01").value();
  options.run.horizon_days = 30;
  options.min_positives = 10;
  options.models = {"random", "popularity", "topic_rfm", "decay", "item_cf"};
  auto topics = BacktestOffers(ds->catalog(), "product");
  ASSERT_TRUE(topics.has_value());
  const EventLog log = EventLog::FromDataset(*ds);
  auto result = RunBacktest(log, {}, *topics, "product", options);
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  const nlohmann::json j = BacktestToJson(*result);
  for (const char* key : {"topics", "population", "base_rate", "models"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  for (const char* model : {"random", "popularity", "topic_rfm", "decay", "item_cf"}) {
    for (const char* key : {"auc", "average_precision", "lift_at_10", "lift_quality", "per_topic"}) {
      EXPECT_TRUE(j["models"][model].contains(key)) << model << " " << key;
    }
  }
  // Deciles of each model share all buyers.
  double total = 0;
  for (double d : result->models[2].deciles) {
    total += d;
  }
  EXPECT_NEAR(total, 1.0, 1e-9);
  EXPECT_GT(result->models[2].macro.lift_quality, result->models[0].macro.lift_quality);
  const std::string html = BacktestToHtml(*result);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("Cumulative gains"), std::string::npos);
  EXPECT_NE(html.find("decile 10"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://cdn"), std::string::npos);
}

TEST(BacktestTest, RejectsUnknownTopicsAndEmptyWindows) {
  const TempDirectory scratch("model-errors");
  ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
  const std::string dir = scratch.path();
  CF_SKIP_WITHOUT_SHARED_DATA("backtest-fixture");
  auto ds = testing::IngestFixture(dir);
  ASSERT_TRUE(ds);
  auto bad = BacktestOffers(ds->catalog(), "colour");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("expected one of any, product"), std::string::npos);
  EvaluateOptions options;
  options.cutoff = ParseIsoTime("2030-01-01").value();  // nothing after it
  options.models = {"popularity"};
  const EventLog log = EventLog::FromDataset(*ds);
  auto topics = BacktestOffers(ds->catalog(), "any");
  auto result = RunBacktest(log, {}, *topics, "any", options);
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().message().find("no offer has at least"), std::string::npos);
}

}  // namespace
}  // namespace cf::model
