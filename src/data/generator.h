// A synthetic retail data generator with known ground truth (`audience generate`).
//
// It writes customers.csv, products.csv and purchases.csv in the formats `audience ingest`
// reads by default, plus truth.json (the generator's parameters), truth_probabilities.csv
// (the exact probability each sampled customer buys each top category in the truth window)
// and truth_identified_later.csv. Output depends only on the options: the same options give
// byte-identical files. Customers are generated one at a time, so memory is
// O(products + categories × days), not O(customers). See docs/generator.md for the model.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace cf::data {

struct GeneratorOptions {
  uint64_t customers = 10000;        // number of customers (rows of customers.csv)
  uint32_t products = 1000;          // number of products (rows of products.csv)
  int32_t days = 365;                // length of the purchase history in days
  uint64_t seed = 1;                 // everything random derives from this
  std::string out;                   // output directory; replaced as a whole when the run succeeds
  std::string start = "2025-01-01";  // first day of the history (UTC)
  // Purchases independent of history: one shared rate and category mix, uniform time, no
  // churn, cycles or seasonality. Every customer's truth probabilities are then equal.
  bool independent = false;
  std::string truth_cutoff;           // first day of the truth window; empty: last `truth_horizon` days
  int32_t truth_horizon = 30;         // truth window length in days
  uint32_t truth_categories = 20;     // truth covers the K most popular categories
  uint64_t truth_customers = 100000;  // truth covers every customer, or an evenly spaced sample of this many
  bool progress = true;               // show a progress bar when stderr is a terminal
};

struct GeneratorReport {
  uint64_t customers = 0;
  uint32_t products = 0;
  uint32_t categories = 0;
  uint64_t purchases = 0;         // rows of purchases.csv
  uint64_t truth_rows = 0;        // rows of truth_probabilities.csv
  uint64_t identified_later = 0;  // customers anonymous first, identified later
  uint64_t bytes_written = 0;     // all files together
  double seconds = 0;             // wall time of the run
};

// Generates the dataset into options.out (written beside it first, then renamed into place,
// so a failed run leaves no partial directory). Invalid options give InvalidArgument.
Result<GeneratorReport> Generate(const GeneratorOptions& options);

}  // namespace cf::data
