// Internal to src/plan (see docs/architecture.md, "Public and internal headers").
// What the planner and the fast solver need to work on a part of the customers when the plan
// runs on several processes (`mpirun -np N audience plan`): ranks over every process's
// customers found by selection on the values, and sums that are exact. Each process holds a
// contiguous range of customers, the ranges in process order; with a null collective the one
// process holds them all and the same code gives the same answers.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "base/collective.h"
#include "base/exact_sum.h"

namespace cf::plan::internal {

// A customer's place in a ranking by value, best first and ties by customer number, as one
// integer: a smaller key ranks before. value >= 0.
inline uint64_t RankKey(float value, uint32_t customer) {
  uint32_t bits = 0;
  if (value > 0) std::memcpy(&bits, &value, sizeof bits);  // 0 and -0 alike
  return (static_cast<uint64_t>(~bits) << 32) | customer;
}
// The value a key ranks by.
inline float KeyValue(uint64_t key) {
  const uint32_t bits = ~static_cast<uint32_t>(key >> 32);
  float value = 0;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// For each list l: the m[l]-th smallest key (1-based) of lists[l] over every process;
// UINT64_MAX when m[l] is 0 or the lists hold fewer keys. Keys need not be unique. Across
// processes a radix selection: eight rounds, each a sum of 256 counts per list; in one
// process nth_element.
std::vector<uint64_t> KthSmallest(const Collective* c, std::span<const std::span<const uint64_t>> lists,
                                  std::span<const uint64_t> m);
inline std::vector<uint64_t> KthSmallest(const Collective* c, const std::vector<std::vector<uint64_t>>& lists,
                                         std::span<const uint64_t> m) {
  const std::vector<std::span<const uint64_t>> spans(lists.begin(), lists.end());
  return KthSmallest(c, std::span<const std::span<const uint64_t>>(spans), m);
}

// The smallest key t such that the weights of the keys <= t over every process add up to at
// least `target` (exactly, in ExactSum's units); UINT64_MAX when all of them do not. Keys
// unique over all processes.
uint64_t SmallestPrefixReaching(const Collective* c, std::span<const uint64_t> keys, std::span<const double> weights,
                                const ExactSum& target);

// Counts summed over every process (exact below 2^53).
inline void SumCounts(const Collective* c, std::vector<uint64_t>& counts) {
  if (!Sharded(c)) return;
  std::vector<double> d(counts.begin(), counts.end());
  c->Sum(d);
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = static_cast<uint64_t>(d[i]);
}
inline uint64_t SumCount(const Collective* c, uint64_t count) {
  std::vector<uint64_t> one{count};
  SumCounts(c, one);
  return one[0];
}

}  // namespace cf::plan::internal
