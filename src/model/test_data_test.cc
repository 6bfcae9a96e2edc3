// Shared helpers of the model tests (compiled into model_test only).
#include "model/test_data.h"

#include <gtest/gtest.h>

#include "base/files.h"
#include "data/ingest.h"

namespace cf::model::testing {

std::string SharedData(const std::string& relative) {
  return std::string(CF_SOURCE_DIR) + "/../shared/data/" + relative;
}

std::unique_ptr<data::Dataset> IngestFixture(const std::string& dir) {
  data::IngestOptions o;
  o.events.path = SharedData("backtest-fixture/purchases.csv");
  o.map = {{"customer", "customer"}, {"time", "date"}, {"product", "category"}, {"revenue", "revenue"}};
  o.out = dir + "/fixture";
  auto r = data::Ingest(o);
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  auto ds = data::Dataset::Open(o.out);
  EXPECT_TRUE(ds.has_value()) << ds.error().ToString();
  return ds.has_value() ? std::move(*ds) : nullptr;
}

namespace {

std::unique_ptr<data::Dataset> Generate(const data::GeneratorOptions& options, const std::string& dir,
                                        bool with_customers) {
  data::GeneratorOptions g = options;
  g.out = dir + "/gen";
  g.progress = false;
  auto gen = data::Generate(g);
  EXPECT_TRUE(gen.has_value()) << gen.error().ToString();
  data::IngestOptions o;
  o.events.path = g.out + "/purchases.csv";
  o.products.path = g.out + "/products.csv";
  if (with_customers) {
    o.customers.path = g.out + "/customers.csv";
  }
  o.out = dir + "/ds";
  auto r = data::Ingest(o);
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  auto ds = data::Dataset::Open(o.out);
  EXPECT_TRUE(ds.has_value()) << ds.error().ToString();
  return ds.has_value() ? std::move(*ds) : nullptr;
}

}  // namespace

std::unique_ptr<data::Dataset> GenerateAndIngest(const data::GeneratorOptions& options, const std::string& dir) {
  return Generate(options, dir, false);
}

std::unique_ptr<data::Dataset> GenerateAndIngestWithCustomers(const data::GeneratorOptions& options,
                                                              const std::string& dir) {
  return Generate(options, dir, true);
}

}  // namespace cf::model::testing
