#include "model/options.h"

#include <fmt/format.h>

namespace cf::model {

Status CheckRange(const char* field, double value, double lo, double hi) {
  if (!(value >= lo && value <= hi)) {  // also rejects NaN
    return Status::InvalidArgument(fmt::format("{} must be between {} and {}, got {}", field, lo, hi, value));
  }
  return Status::OK();
}

Status RunOptions::Validate() const {
  CF_RETURN_IF_ERROR(CheckRange("horizon_days", horizon_days, 1, kMaxHorizonDays));
  return CheckRange("threads", threads, 0, kMaxThreads);
}

}  // namespace cf::model
