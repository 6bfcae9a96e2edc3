// Internal to src/plan (see docs/architecture.md, "Public and internal headers").
// What the exact and the fast solver share: the pressure rules as window constraints, the
// candidates grouped per customer, the per-customer best subset and a parallel loop.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "base/collective.h"
#include "plan/allocation.h"

namespace cf::plan::internal {

// Every rule as "at most `cap` counted messages in every window of `window` days". A gap of g
// days is the same as at most one message in every g-day window, so both kinds of rule (and a
// rule with both) become one or two of these.
struct WindowRule {
  uint8_t channel_mask = 0;  // bit c set: messages on Channel c count
  int cap = 0;               // >= 1
  int window = 0;            // >= 1
  bool Counts(Channel c) const { return (channel_mask >> static_cast<int>(c)) & 1; }
};
std::vector<WindowRule> ToWindowRules(const std::vector<PressureRule>& rules);

// One message a customer receives (or may receive): its day and channel.
struct Message {
  int day = 0;
  Channel channel = Channel::kEmail;
};

// The per-customer subproblem, exactly: the subset of `items` of largest total weight that,
// together with the `fixed` messages the customer already receives, obeys every rule. Items of
// weight <= 0 are never chosen. Branch and bound over the items by decreasing weight, bounded
// by what still fits (a message that does not fit now never fits after more are added) under
// each rule alone. One instance per thread: it keeps its buffers between calls.
class SubsetSolver {
 public:
  struct Item {
    Message message;
    double weight = 0;
  };
  SubsetSolver(const std::vector<WindowRule>& rules, int days);

  // Returns the best total weight; chosen[j] is set to 1 for each chosen item, 0 otherwise.
  double Solve(const std::vector<Message>& fixed, const std::vector<Item>& items, std::vector<uint8_t>& chosen);

  // Whether `m` fits beside the messages `current` under every rule.
  bool Fits(const std::vector<Message>& current, const Message& m);

 private:
  bool FitsCounts(const Message& m) const;
  void Add(const Message& m, int delta);
  void Search(size_t depth, double value);
  double Bound();

  const std::vector<WindowRule>& rules_;
  int days_;
  std::vector<int> counts_;  // counts_[r * days_ + d]: counted messages of rule r on day d
  std::vector<size_t> order_;
  std::vector<size_t> fits_;  // the items from the current depth on that fit, best first
  std::vector<int> room_;
  std::vector<double> suffix_;  // suffix_[j]: the weights of the items from position j on
  const std::vector<Item>* items_ = nullptr;
  std::vector<uint8_t> current_;
  std::vector<uint8_t> best_choice_;
  double best_ = 0;
};

std::unique_ptr<Solver> NewExactSolver();
std::unique_ptr<Solver> NewFastSolver();

// Value per tier and in total of an allocation, from the problem's candidate values, summed
// exactly over every process of `shards` (each holding its own customers' candidates).
void ScoreAllocation(const AllocationProblem& problem, Allocation& allocation, const Collective* shards = nullptr);

inline int ResolveThreads(int threads) {
  return threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// Customers per block of a parallel loop.
inline constexpr size_t kParallelBlock = 8192;

// Calls fn(thread_index, begin, end) for each block [b, b + kParallelBlock) of [0, n), the
// blocks taken from a shared counter so that a thread that meets cheap customers takes more of
// them. The blocks are the same whatever the number of threads (sums kept per block and added
// in order do not depend on it); small inputs run on the calling thread.
template <typename Fn>
void ParallelBlocks(size_t n, int threads, Fn&& fn) {
  const size_t blocks = (n + kParallelBlock - 1) / kParallelBlock;
  const size_t t = std::min<size_t>(static_cast<size_t>(ResolveThreads(threads)), blocks);
  std::atomic<size_t> next{0};
  auto run = [&](size_t thread_index) {
    for (size_t b = next.fetch_add(kParallelBlock); b < n; b = next.fetch_add(kParallelBlock)) {
      fn(thread_index, b, std::min(n, b + kParallelBlock));
    }
  };
  std::vector<std::thread> pool;
  for (size_t i = 1; i < t; ++i) pool.emplace_back(run, i);
  run(0);
  for (std::thread& th : pool) th.join();
}

}  // namespace cf::plan::internal
