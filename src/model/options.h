// The settings that training, scoring and the backtest share. RunOptions owns them; every
// other options struct of the model holds one (FeatureOptions, ScorerContext,
// EvaluateOptions) or receives one (UniversalModel::Train), so each is set in one place.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace cf::model {

inline constexpr int kMaxHorizonDays = 3650;
inline constexpr int kMaxThreads = 1024;

struct RunOptions {
  int horizon_days = 30;  // H: days after the cutoff in which a purchase counts; 1 .. kMaxHorizonDays
  int threads = 0;        // worker threads; 0 = hardware concurrency; 0 .. kMaxThreads
  uint64_t seed = 1;      // row sampling, tree subsampling and the random baseline; any value

  // InvalidArgument naming the field, its value and the valid range.
  Status Validate() const;
};

// "field must be between lo and hi, got value": the form of every range error of the options.
Status CheckRange(const char* field, double value, double lo, double hi);

}  // namespace cf::model
