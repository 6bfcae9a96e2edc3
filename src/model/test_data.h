// Internal to src/model (see docs/architecture.md, "Public and internal headers").
// Datasets for the model tests: ingested from the shared fixtures or generated.
#pragma once

#include <memory>
#include <string>

#include "base/files.h"
#include "data/dataset.h"
#include "data/generator.h"

namespace cf::model::testing {

// A path under ../shared/data, the real data sets that live beside the repository (not in it).
std::string SharedData(const std::string& relative);

// Skips the running test, saying why, when ../shared/data/<relative> is absent: a bare clone
// of the repository still passes `make test`; CI, which has the data, runs the test.
#define CF_SKIP_WITHOUT_SHARED_DATA(relative)                                             \
  do {                                                                                    \
    if (!::cf::PathExists(::cf::model::testing::SharedData(relative))) {                  \
      GTEST_SKIP() << "skipped: " << ::cf::model::testing::SharedData(relative)           \
                   << " is absent (the shared data sets are not part of the repository)"; \
    }                                                                                     \
  } while (false)

// The backtest fixture of ../shared/data/backtest-fixture, categories as products.
std::unique_ptr<data::Dataset> IngestFixture(const std::string& dir);

// `audience generate` output (with truth files) in dir/gen, ingested into dir/ds.
std::unique_ptr<data::Dataset> GenerateAndIngest(const data::GeneratorOptions& options, const std::string& dir);
// The same with customers.csv ingested too (signup dates, attributes, customers without purchases).
std::unique_ptr<data::Dataset> GenerateAndIngestWithCustomers(const data::GeneratorOptions& options,
                                                              const std::string& dir);

}  // namespace cf::model::testing
