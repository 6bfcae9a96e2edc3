#include "base/sort.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace cf {
namespace {

// The order a stable sort by value, largest first, NaN last gives.
std::vector<uint32_t> StableDescending(const std::vector<double>& v) {
  std::vector<uint32_t> order(v.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (std::isnan(v[a]) || std::isnan(v[b])) {
      return !std::isnan(v[a]) && std::isnan(v[b]);
    }
    return v[a] > v[b];
  });
  return order;
}

TEST(SortTest, OrderByDescendingIsAStableSortWithNaNLast) {
  std::mt19937_64 rng(7);
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{17}, size_t{1000}, size_t{200000}}) {
    std::vector<double> v(n);
    for (double& x : v) {
      switch (rng() % 6) {
        case 0: x = static_cast<double>(rng() % 5); break;  // many ties
        case 1: x = -std::ldexp(static_cast<double>(rng() % 1000), -static_cast<int>(rng() % 60)); break;
        case 2: x = std::numeric_limits<double>::quiet_NaN(); break;
        case 3: x = (rng() % 2 == 0) ? 0.0 : -0.0; break;
        default: x = std::ldexp(static_cast<double>(rng()), -64 - static_cast<int>(rng() % 8)); break;  // probabilities
      }
    }
    std::vector<uint32_t> got = OrderByDescending(v), want = StableDescending(v);
    // -0.0 and 0.0 compare equal but have different bits; the sort puts 0.0 first.
    for (size_t i = 0; i + 1 < got.size(); ++i) {
      if (!std::isnan(v[got[i]]) && !std::isnan(v[got[i + 1]]) && v[got[i]] == v[got[i + 1]] &&
          std::signbit(v[got[i]]) == std::signbit(v[got[i + 1]])) {
        EXPECT_LT(got[i], got[i + 1]) << "equal values out of index order at " << i;
      }
    }
    for (size_t i = 0; i < got.size(); ++i) {
      const double a = v[got[i]], b = v[want[i]];
      ASSERT_TRUE((std::isnan(a) && std::isnan(b)) || a == b) << "n " << n << " position " << i;
    }
  }
}

}  // namespace
}  // namespace cf
