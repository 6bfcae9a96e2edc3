#include "http/rate_limiter.h"

#include <algorithm>

namespace cf::http {

RateLimitDecision RateLimiter::Acquire(const std::string& key, int64_t limit, int64_t window_seconds) {
  window_seconds = std::max<int64_t>(window_seconds, 1);
  // The clock is read under the lock: read before it, a request of the window just ended could
  // reset the count after one of the new window had, and let both windows restart from zero.
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_.NowSeconds();
  const int64_t start = now - now % window_seconds;
  RateLimitDecision d;
  d.limit = limit;
  d.reset_epoch = start + window_seconds;
  Window& w = windows_[key];
  if (w.start != start) {
    w.start = start;
    w.count = 0;
  }
  if (w.count >= limit) {
    d.allowed = false;
    d.remaining = 0;
    d.retry_after = std::max<int64_t>(d.reset_epoch - now, 1);
    return d;
  }
  ++w.count;
  d.remaining = limit - w.count;
  return d;
}

}  // namespace cf::http
