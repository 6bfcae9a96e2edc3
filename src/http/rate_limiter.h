// Fixed-window request counting, the way Braze reports limits: a window starts at a multiple
// of its length in epoch seconds, and X-RateLimit-Reset is when the current one ends.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "base/time.h"

namespace cf::http {

struct RateLimitDecision {
  bool allowed = true;
  int64_t limit = 0;        // X-RateLimit-Limit
  int64_t remaining = 0;    // X-RateLimit-Remaining, after this request
  int64_t reset_epoch = 0;  // X-RateLimit-Reset: UTC epoch seconds when the window ends
  int64_t retry_after = 0;  // Retry-After seconds, when refused
};

class RateLimiter {
 public:
  explicit RateLimiter(const Clock& clock) : clock_(clock) {}

  // Counts one request against `key` allowing `limit` per `window_seconds` (both > 0).
  RateLimitDecision Acquire(const std::string& key, int64_t limit, int64_t window_seconds);

 private:
  struct Window {
    int64_t start = 0;
    int64_t count = 0;
  };
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace cf::http
