// Rate limits are exact under load: many concurrent keep-alive clients hammer a rate-limited
// endpoint across several short windows, and in every window the server accepts exactly the
// limit (or everything sent, if fewer) and answers the rest 429 with Braze's headers. Windows
// are told apart by the server's own X-RateLimit-Reset, so a reset during the test is part of
// what is checked, not a source of flakiness. With CF_ENGAGE_BACKEND=postgresql the same runs
// on the shared count in PostgreSQL, and then also across two servers on one database.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

// fmt::format, not "literal" + std::to_string(): GCC 12 warns falsely on the latter (-Wrestrict).
#include <fmt/format.h>

#include "base/strings.h"
#include "pg_cluster.h"
#include "test_util.h"

namespace cf::engage_test {
namespace {

using nlohmann::json;

constexpr int kClients = 16;
constexpr int64_t kLimit = 150;
constexpr int64_t kWindowSeconds = 2;
// At least three window boundaries fall inside the run, so two windows at least are whole.
constexpr auto kRunFor = std::chrono::milliseconds(kWindowSeconds * 1000 * 3 + 500);
const char* const kEndpoint = "/users/export/ids";

struct Window {
  int64_t accepted = 0;
  int64_t refused = 0;
  std::multiset<int64_t> remaining;  // X-RateLimit-Remaining of the accepted requests
};

// Sends until the run is over from kClients threads, each with one keep-alive connection to
// one of `urls` (round-robin), and sorts every answer into its window.
std::map<int64_t, Window> Hammer(const std::vector<std::string>& urls, const std::string& key) {
  std::mutex mu;
  std::map<int64_t, Window> windows;
  std::atomic<int> failures{0};
  const json body = {{"external_ids", {"nobody"}}};
  const auto until = std::chrono::steady_clock::now() + kRunFor;
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      http::Client client(urls[t % urls.size()]);
      const std::string payload = body.dump();
      while (std::chrono::steady_clock::now() < until) {
        auto r = client.Post(kEndpoint, payload, {{"Authorization", "Bearer " + key}});
        if (!r.has_value() || (r->status != 201 && r->status != 429)) {
          ADD_FAILURE() << (r.has_value() ? fmt::format("{} {}", r->status, r->body) : r.error().ToString());
          if (++failures > 10) return;
          continue;
        }
        EXPECT_EQ(r->Header("x-ratelimit-limit"), std::to_string(kLimit));
        auto reset = ParseInt64(r->Header("x-ratelimit-reset"));
        auto remaining = ParseInt64(r->Header("x-ratelimit-remaining"));
        if (!reset || !remaining) {
          ADD_FAILURE() << "rate-limit headers missing: status " << r->status;
          continue;
        }
        EXPECT_EQ(*reset % kWindowSeconds, 0) << "windows start at multiples of their length";
        if (r->status == 429) {
          EXPECT_EQ(*remaining, 0);
          auto retry = ParseInt64(r->Header("retry-after"));
          EXPECT_TRUE(retry && *retry >= 1 && *retry <= kWindowSeconds) << r->Header("retry-after");
          EXPECT_NE(r->body.find("API rate limit exceeded"), std::string::npos) << r->body;
        }
        std::lock_guard<std::mutex> lock(mu);
        Window& w = windows[*reset];
        if (r->status == 201) {
          ++w.accepted;
          w.remaining.insert(*remaining);
        } else {
          ++w.refused;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  return windows;
}

// In every window: never more than the limit, a refusal only once the limit is reached, and
// the accepted requests counted one by one (Remaining limit-1, limit-2, ... each once).
void CheckWindows(const std::map<int64_t, Window>& windows) {
  int saturated = 0;
  int64_t total = 0;
  for (const auto& [reset, w] : windows) {
    SCOPED_TRACE(fmt::format("window ending at {}: {} accepted, {} refused", reset, w.accepted, w.refused));
    total += w.accepted + w.refused;
    EXPECT_LE(w.accepted, kLimit);
    if (w.refused > 0) {
      EXPECT_EQ(w.accepted, kLimit) << "refused before the limit was reached";
      ++saturated;
    }
    std::multiset<int64_t> want;
    for (int64_t i = 1; i <= w.accepted; ++i) want.insert(kLimit - i);
    EXPECT_TRUE(w.remaining == want) << "X-RateLimit-Remaining of the accepted requests is not limit-1 .. "
                                        "limit-accepted, each once";
  }
  EXPECT_GE(saturated, 2) << "the clients did not fill two windows: too slow to test the limit";
  std::printf("rate limit %lld per %lld s: %lld requests from %d clients in %zu windows, %d saturated\n",
              static_cast<long long>(kLimit), static_cast<long long>(kWindowSeconds), static_cast<long long>(total),
              kClients, windows.size(), saturated);
}

class LoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = MakeTempDir("engage-load");
    creds_ = SetUpCredentials(data_);
    ASSERT_EQ(RunAdmin(data_, {"rate-limit", "set", "--endpoint", kEndpoint, "--limit", std::to_string(kLimit),
                               "--window-seconds", std::to_string(kWindowSeconds)})
                  .exit_code,
              0);
  }
  void TearDown() override { std::filesystem::remove_all(data_); }

  std::string data_;
  Credentials creds_;
};

TEST_F(LoadTest, RateLimitIsExactUnderConcurrentKeepAliveClients) {
  EngageServer server(data_);
  ASSERT_TRUE(server.running());
  CheckWindows(Hammer({server.base_url()}, creds_.api_key));
}

// Braze counts a workspace's requests wherever they land; two servers share the count in the
// database (Storage::CountRequest), so the limit holds for their sum.
TEST_F(LoadTest, RateLimitIsExactAcrossTwoServersOnOneDatabase) {
  if (!UsingPostgres()) GTEST_SKIP() << "two servers share a store only on PostgreSQL: runs in the engage_pg pass";
  EngageServer a(data_), b(data_);  // the same directory names the same database
  ASSERT_TRUE(a.running() && b.running());
  CheckWindows(Hammer({a.base_url(), b.base_url()}, creds_.api_key));
}

}  // namespace
}  // namespace cf::engage_test
