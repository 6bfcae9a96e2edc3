#include "model/signals.h"

#include <algorithm>

namespace cf::model {
namespace {

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
  const double m = static_cast<double>(sample.size());
  const double nd = static_cast<double>(n);
  const double last = std::max(1.0, nd - 1.0);
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    const auto lo = std::lower_bound(sample.begin(), sample.end(), values[i]);
    const auto hi = std::upper_bound(lo, sample.end(), values[i]);
    // Share of values below plus half the share equal, scaled so that the mid-rank of a
    // tie group among all n values, (below + (equal − 1) / 2) / (n − 1), comes out exactly
    // when the sample is every value.
    const double share = (static_cast<double>(lo - sample.begin()) + static_cast<double>(hi - lo) / 2.0) / m;
    out[i] = static_cast<float>(std::clamp((nd * share - 0.5) / last, 0.0, 1.0));
  }
  return out;
}

}  // namespace

std::vector<float> PercentileRanks(std::span<const float> values) { return Ranks(values); }
std::vector<float> PercentileRanks(std::span<const double> values) { return Ranks(values); }

}  // namespace cf::model
