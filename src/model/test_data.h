// Datasets for the model tests: ingested from the shared fixtures or generated.
#pragma once

#include <memory>
#include <string>

#include "data/dataset.h"
#include "data/generator.h"

namespace cf::model::testing {

// A fresh scratch directory for the running test.
std::string ScratchDir(const std::string& label);

// The backtest fixture of ../shared/data/backtest-fixture, categories as products.
std::unique_ptr<data::Dataset> IngestFixture(const std::string& dir);

// `audience generate` output (with truth files) in dir/gen, ingested into dir/ds.
std::unique_ptr<data::Dataset> GenerateAndIngest(const data::GeneratorOptions& options, const std::string& dir);
// The same with customers.csv ingested too (signup dates, attributes, customers without purchases).
std::unique_ptr<data::Dataset> GenerateAndIngestWithCustomers(const data::GeneratorOptions& options,
                                                              const std::string& dir);

}  // namespace cf::model::testing
