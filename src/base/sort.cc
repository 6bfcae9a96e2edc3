#include "base/sort.h"

#include <array>
#include <cmath>
#include <cstring>

namespace cf {

std::vector<uint32_t> OrderByDescending(std::span<const double> values) {
  // A key that sorts ascending as the values sort descending: the order-preserving bits of a
  // double (sign flipped for positives, all bits for negatives), complemented. NaN sorts last.
  const size_t n = values.size();
  if (n == 0) {
    return {};
  }
  constexpr int kDigits = 8;  // bytes of the key, least significant first
  std::vector<uint64_t> key(n), next_key(n);
  std::vector<uint32_t> order(n), next(n);
  std::vector<std::array<uint32_t, 256>> count(kDigits);
  for (auto& c : count) {
    c.fill(0);
  }
  for (size_t i = 0; i < n; ++i) {
    uint64_t bits;
    std::memcpy(&bits, &values[i], sizeof bits);
    const uint64_t ordered = (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
    const uint64_t k = std::isnan(values[i]) ? UINT64_MAX : ~ordered;
    key[i] = k;
    order[i] = static_cast<uint32_t>(i);
    for (int d = 0; d < kDigits; ++d) {
      ++count[static_cast<size_t>(d)][(k >> (8 * d)) & 0xFF];
    }
  }
  // One stable pass per byte, moving each key with its index (so every read is sequential and
  // the writes go to 256 places at a time, which the caches keep up with).
  for (int d = 0; d < kDigits; ++d) {
    std::array<uint32_t, 256>& c = count[static_cast<size_t>(d)];
    const int shift = 8 * d;
    if (c[(key[0] >> shift) & 0xFF] == n) {
      continue;  // every key has the same byte here: the pass would not move anything
    }
    uint32_t sum = 0;
    for (uint32_t& x : c) {
      const uint32_t here = x;
      x = sum;
      sum += here;
    }
    for (size_t i = 0; i < n; ++i) {
      const uint64_t k = key[i];
      const uint32_t to = c[(k >> shift) & 0xFF]++;
      next_key[to] = k;
      next[to] = order[i];
    }
    key.swap(next_key);
    order.swap(next);
  }
  return order;
}

}  // namespace cf
