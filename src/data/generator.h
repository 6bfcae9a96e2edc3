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

// Every field's valid range is written beside it; Validate() checks them all.
struct GeneratorOptions {
  static constexpr uint64_t kMaxCustomers = 2'000'000'000;
  static constexpr uint32_t kMaxProducts = 10'000'000;
  static constexpr int32_t kMaxDays = 3660;

  uint64_t customers = 10000;        // rows of customers.csv: 1 to kMaxCustomers
  uint32_t products = 1000;          // rows of products.csv: 1 to kMaxProducts
  int32_t days = 365;                // length of the purchase history in days: 1 to kMaxDays
  uint64_t seed = 1;                 // everything random derives from this: any value
  std::string out;                   // output directory, required; replaced as a whole when the run succeeds
  std::string start = "2025-01-01";  // first day of the history (UTC): a date YYYY-MM-DD
  // Purchases independent of history: one shared rate and category mix, uniform time, no
  // churn, cycles or seasonality. Every customer's truth probabilities are then equal.
  bool independent = false;
  // First day of the truth window: empty (the last `truth_horizon` days), or a date YYYY-MM-DD
  // such that [truth_cutoff, truth_cutoff + truth_horizon) lies within the history.
  std::string truth_cutoff;
  int32_t truth_horizon = 30;         // truth window length in days: 1 to `days`
  uint32_t truth_categories = 20;     // truth covers the K most popular categories: at least 1
  uint64_t truth_customers = 100000;  // truth covers every customer, or an evenly spaced sample of this many (0: none)
  bool progress = true;               // show a progress bar when stderr is a terminal

  // OK, or InvalidArgument naming the first field out of its range, its value and what is valid.
  Status Validate() const;
};

struct GeneratorReport {
  uint64_t customers = 0;
  uint32_t products = 0;
  uint32_t categories = 0;
  uint64_t purchases = 0;   // rows of purchases.csv
  uint64_t truth_rows = 0;  // rows of truth_probabilities.csv
  // Customers per identity kind (they add up to `customers`).
  uint64_t identified = 0;        // external_id and an email alias; some a device too
  uint64_t alias_only = 0;        // an email alias only: newsletter subscribers without an account
  uint64_t anonymous = 0;         // device_id only
  uint64_t identified_later = 0;  // customers anonymous first, identified later
  uint64_t bytes_written = 0;     // all files together
  double seconds = 0;             // wall time of the run
};

// Generates the dataset into options.out (written beside it first, then renamed into place,
// so a failed run leaves no partial directory). Invalid options give Validate()'s error.
Result<GeneratorReport> Generate(const GeneratorOptions& options);

}  // namespace cf::data
