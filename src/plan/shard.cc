#include "plan/shard.h"

#include <algorithm>
#include <limits>

namespace cf::plan::internal {

std::vector<uint64_t> KthSmallest(const Collective* c, std::span<const std::span<const uint64_t>> lists,
                                  std::span<const uint64_t> m) {
  const size_t n = lists.size();
  std::vector<uint64_t> out(n, std::numeric_limits<uint64_t>::max());
  if (!Sharded(c)) {
    // One process holds every key: a selection in place of eight counting rounds.
    std::vector<uint64_t> keys;
    for (size_t l = 0; l < n; ++l) {
      if (m[l] >= 1 && m[l] <= lists[l].size()) {
        keys.assign(lists[l].begin(), lists[l].end());
        std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(m[l] - 1), keys.end());
        out[l] = keys[m[l] - 1];
      }
    }
    return out;
  }
  std::vector<uint64_t> total(n);
  for (size_t l = 0; l < n; ++l) total[l] = lists[l].size();
  SumCounts(c, total);
  std::vector<uint64_t> prefix(n, 0), remaining(n, 0);
  std::vector<uint8_t> wanted(n, 0);
  for (size_t l = 0; l < n; ++l) {
    wanted[l] = m[l] >= 1 && m[l] <= total[l];
    remaining[l] = m[l];
  }
  constexpr int kBits = 8, kBins = 1 << kBits;
  for (int shift = 64 - kBits; shift >= 0; shift -= kBits) {
    // Counts of the keys that share the prefix found so far, by their next 8 bits.
    std::vector<double> bins(n * kBins, 0);
    for (size_t l = 0; l < n; ++l) {
      if (!wanted[l]) continue;
      const int high = shift + kBits;
      for (uint64_t key : lists[l]) {
        if (high < 64 && (key >> high) != prefix[l]) continue;
        bins[l * kBins + ((key >> shift) & (kBins - 1))] += 1;
      }
    }
    Sum(c, std::span<double>(bins));
    for (size_t l = 0; l < n; ++l) {
      if (!wanted[l]) continue;
      int digit = 0;
      for (; digit < kBins - 1; ++digit) {
        const auto count = static_cast<uint64_t>(bins[l * kBins + digit]);
        if (remaining[l] <= count) break;
        remaining[l] -= count;
      }
      prefix[l] = (prefix[l] << kBits) | static_cast<uint64_t>(digit);
    }
  }
  for (size_t l = 0; l < n; ++l) {
    if (wanted[l]) out[l] = prefix[l];
  }
  return out;
}

uint64_t SmallestPrefixReaching(const Collective* c, std::span<const uint64_t> keys, std::span<const double> weights,
                                const ExactSum& target) {
  ExactSum all;
  for (double w : weights) all.Add(w);
  std::span<ExactSum> one(&all, 1);
  Sum(c, one);
  if (all.fixed() < target.fixed()) return std::numeric_limits<uint64_t>::max();
  ExactSum::Int128 remaining = target.fixed();
  uint64_t prefix = 0;
  constexpr int kBits = 8, kBins = 1 << kBits;
  for (int shift = 64 - kBits; shift >= 0; shift -= kBits) {
    std::vector<ExactSum> bins(kBins);
    const int high = shift + kBits;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (high < 64 && (keys[i] >> high) != prefix) continue;
      bins[(keys[i] >> shift) & (kBins - 1)].Add(weights[i]);
    }
    Sum(c, std::span<ExactSum>(bins));
    int digit = 0;
    for (; digit < kBins - 1; ++digit) {
      if (remaining <= bins[digit].fixed()) break;
      remaining -= bins[digit].fixed();
    }
    prefix = (prefix << kBits) | static_cast<uint64_t>(digit);
  }
  return prefix;
}

}  // namespace cf::plan::internal
