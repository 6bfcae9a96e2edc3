#include "model/signals.h"

#include <algorithm>
#include <cstdint>

#include "model/parallel.h"

namespace cf::model {
namespace {

// std::lower_bound without branches: the next probe does not wait on a mispredicted
// comparison, which made the search most of the ranking's time on a million values.
template <typename T>
size_t LowerBound(const std::vector<T>& a, T x) {
  if (a.empty()) {
    return 0;
  }
  const T* base = a.data();
  size_t n = a.size();
  while (n > 1) {
    const size_t half = n / 2;
    base = base[half] < x ? base + half : base;
    n -= half;
  }
  return static_cast<size_t>(base - a.data()) + (*base < x ? 1 : 0);
}

template <typename T>
std::vector<float> Ranks(std::span<const T> values) {
  const size_t n = values.size();
  const size_t step = std::max<size_t>(1, n / kPercentileSample);
  std::vector<T> sample;
  sample.reserve(n / step + 1);
  for (size_t i = 0; i < n; i += step) {
    sample.push_back(values[i]);
  }
  std::sort(sample.begin(), sample.end());
  // The sample's distinct values and, for each, how many sampled values lie below it: one
  // search per value then finds both counts.
  std::vector<T> distinct;
  std::vector<uint32_t> below;
  for (size_t i = 0; i < sample.size(); ++i) {
    if (i == 0 || sample[i] != sample[i - 1]) {
      distinct.push_back(sample[i]);
      below.push_back(static_cast<uint32_t>(i));
    }
  }
  below.push_back(static_cast<uint32_t>(sample.size()));
  const double m = static_cast<double>(sample.size());
  const double nd = static_cast<double>(n);
  const double last = std::max(1.0, nd - 1.0);
  std::vector<float> out(n);
  ParallelFor(n, 0, [&](size_t, size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      // Runs of equal values are common (every customer who never bought an offer): one search per run.
      if (i > b && values[i] == values[i - 1]) {
        out[i] = out[i - 1];
        continue;
      }
      const size_t d = LowerBound(distinct, values[i]);
      const bool present = d < distinct.size() && distinct[d] == values[i];
      const double equal = present ? static_cast<double>(below[d + 1] - below[d]) : 0.0;
      // Share of values below plus half the share equal, scaled so that the mid-rank of a
      // tie group among all n values, (below + (equal − 1) / 2) / (n − 1), comes out exactly
      // when the sample is every value.
      const double share = (static_cast<double>(below[d]) + equal / 2.0) / m;
      out[i] = static_cast<float>(std::clamp((nd * share - 0.5) / last, 0.0, 1.0));
    }
  });
  return out;
}

}  // namespace

std::vector<float> PercentileRanks(std::span<const float> values) { return Ranks(values); }
std::vector<float> PercentileRanks(std::span<const double> values) { return Ranks(values); }

}  // namespace cf::model
