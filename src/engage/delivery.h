// How a decided message leaves engage: a delivery adapter chosen by name (DeliveryRecord.adapter).
// `store` only records the send (an ESP reads the sends feed); `webhook` POSTs each message to a
// URL, retrying with exponential backoff and jitter, and reports a final failure with its reason.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "engage/storage.h"

namespace cf::engage {

struct DeliveryResult {
  bool delivered = false;
  std::string reason;  // why not, naming the last status or error and the attempts made
};

class DeliveryAdapter {
 public:
  virtual ~DeliveryAdapter() = default;
  // False for an adapter whose decision is the delivery (store): its records are final at once.
  virtual bool delivers() const = 0;
  // Delivers one message (a JSON object); `idempotency_key` names it uniquely, for receivers that
  // deduplicate. Blocks through the retries.
  virtual DeliveryResult Deliver(const std::string& idempotency_key, const std::string& body) = 0;
};

// The names MakeDeliveryAdapter accepts.
const std::vector<std::string>& DeliveryAdapterNames();

// Checks the settings' fields: a known adapter, an http(s) URL for webhook, positive limits.
Status ValidateDelivery(const DeliveryRecord& record);

// `sleep_ms` waits between attempts (a seam for tests; the default sleeps).
Result<std::unique_ptr<DeliveryAdapter>> MakeDeliveryAdapter(const DeliveryRecord& record,
                                                             std::function<void(int64_t)> sleep_ms = {});

// The webhook's wait before retry `attempt` (1 = the first retry): uniformly drawn in
// [0, min(kMaxBackoffMs, initial_backoff_ms * 2^(attempt-1))] ("full jitter"), at least what a
// 429's Retry-After asked (capped likewise). `unit` is a draw in [0, 1).
inline constexpr int64_t kMaxBackoffMs = 10000;
int64_t BackoffMs(int64_t initial_backoff_ms, int attempt, double unit, int64_t retry_after_ms = 0);

}  // namespace cf::engage
