#include "engage/delivery.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "base/strings.h"
#include "http/client.h"

namespace cf::engage {

namespace {

class StoreAdapter final : public DeliveryAdapter {
 public:
  bool delivers() const override { return false; }
  DeliveryResult Deliver(const std::string&, const std::string&) override { return {true, ""}; }
};

// 5xx and 429 are the receiver asking to retry later (as Braze's own API asks its clients);
// any other 4xx would fail again the same way.
bool Retryable(long status) { return status == 429 || status >= 500; }

class WebhookAdapter final : public DeliveryAdapter {
 public:
  WebhookAdapter(const DeliveryRecord& r, std::function<void(int64_t)> sleep_ms)
      : record_(r), sleep_ms_(std::move(sleep_ms)), rng_(std::random_device{}()) {
    // The client takes a base URL and a path; the whole URL is the base and the path is empty.
    http::ClientOptions o;
    o.timeout_ms = r.timeout_ms;
    o.connect_timeout_ms = std::min<int64_t>(r.timeout_ms, 5000);
    client_ = std::make_unique<http::Client>(r.url, o);
  }
  bool delivers() const override { return true; }

  DeliveryResult Deliver(const std::string& key, const std::string& body) override {
    std::string last;
    for (int attempt = 1; attempt <= record_.max_attempts; ++attempt) {
      int64_t retry_after_ms = 0;
      auto r = client_->Post("", body, {{"Content-Type", "application/json"}, {"Idempotency-Key", key}});
      if (r.has_value() && r->status >= 200 && r->status < 300) return {true, ""};
      if (r.has_value()) {
        last = "HTTP " + std::to_string(r->status) + (r->body.empty() ? "" : ": " + r->body.substr(0, 200));
        if (!Retryable(r->status)) return {false, "the webhook answered " + last + " (not retried)"};
        if (auto s = ParseInt64(r->Header("retry-after")); s && *s > 0) retry_after_ms = *s * 1000;
      } else {
        last = r.error().message();
      }
      if (attempt == record_.max_attempts) break;
      const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
      const int64_t wait = BackoffMs(record_.initial_backoff_ms, attempt, unit, retry_after_ms);
      if (sleep_ms_) {
        sleep_ms_(wait);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(wait));
      }
    }
    return {false, "the webhook " + record_.url + " failed " + std::to_string(record_.max_attempts) +
                       " attempts; the last: " + last};
  }

 private:
  DeliveryRecord record_;
  std::function<void(int64_t)> sleep_ms_;
  std::mt19937_64 rng_;
  std::unique_ptr<http::Client> client_;
};

}  // namespace

const std::vector<std::string>& DeliveryAdapterNames() {
  static const std::vector<std::string> kNames = {"store", "webhook"};
  return kNames;
}

int64_t BackoffMs(int64_t initial_backoff_ms, int attempt, double unit, int64_t retry_after_ms) {
  int64_t ceiling = initial_backoff_ms;
  for (int i = 1; i < attempt && ceiling < kMaxBackoffMs; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, kMaxBackoffMs);
  const auto drawn = static_cast<int64_t>(unit * static_cast<double>(ceiling + 1));
  return std::min(std::max(drawn, retry_after_ms), kMaxBackoffMs);
}

Status ValidateDelivery(const DeliveryRecord& r) {
  const auto& names = DeliveryAdapterNames();
  if (std::find(names.begin(), names.end(), r.adapter) == names.end()) {
    return Status::InvalidArgument("adapter " + Quote(r.adapter) +
                                   " is not a delivery adapter; valid: " + Join(names, ", "));
  }
  if (r.adapter == "webhook" && !StartsWith(r.url, "http://") && !StartsWith(r.url, "https://")) {
    return Status::InvalidArgument("url " + Quote(r.url) +
                                   ": the webhook adapter needs an http:// or https:// URL to POST messages to");
  }
  if (r.adapter == "store" && !r.url.empty()) {
    return Status::InvalidArgument("url " + Quote(r.url) + ": the store adapter sends nothing, so it takes no url");
  }
  if (r.max_attempts < 1 || r.max_attempts > 100) {
    return Status::InvalidArgument("max_attempts " + std::to_string(r.max_attempts) + ": expected 1 to 100");
  }
  if (r.initial_backoff_ms < 0 || r.initial_backoff_ms > kMaxBackoffMs) {
    return Status::InvalidArgument("initial_backoff_ms " + std::to_string(r.initial_backoff_ms) + ": expected 0 to " +
                                   std::to_string(kMaxBackoffMs));
  }
  if (r.timeout_ms < 1 || r.timeout_ms > 600000) {
    return Status::InvalidArgument("timeout_ms " + std::to_string(r.timeout_ms) + ": expected 1 to 600000");
  }
  return Status::OK();
}

Result<std::unique_ptr<DeliveryAdapter>> MakeDeliveryAdapter(const DeliveryRecord& record,
                                                             std::function<void(int64_t)> sleep_ms) {
  CF_RETURN_IF_ERROR(ValidateDelivery(record));
  if (record.adapter == "webhook") {
    return std::unique_ptr<DeliveryAdapter>(std::make_unique<WebhookAdapter>(record, std::move(sleep_ms)));
  }
  return std::unique_ptr<DeliveryAdapter>(std::make_unique<StoreAdapter>());
}

}  // namespace cf::engage
