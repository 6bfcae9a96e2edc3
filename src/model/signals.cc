#include "model/signals.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "model/parallel.h"

namespace cf::model {
namespace {

// A key of x that orders like x (NaN aside): the sign bit flipped for positives, every bit
// for negatives.
inline uint32_t OrderKey(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
}

// std::lower_bound over a sorted array, sped up by an index of where each run of keys with
// the same top kIndexBits starts: a search reads the index once, then bisects the few values
// of its bucket without branches (the next probe does not wait on a mispredicted comparison).
template <typename T>
class SortedIndex {
 public:
  explicit SortedIndex(const std::vector<T>& a) : a_(a), start_((size_t{1} << kIndexBits) + 1, 0) {
    size_t i = 0;
    for (size_t b = 0; b < (size_t{1} << kIndexBits); ++b) {
      while (i < a.size() && Bucket(a[i]) < b) {
        ++i;
      }
      start_[b] = static_cast<uint32_t>(i);
    }
    start_.back() = static_cast<uint32_t>(a.size());
  }

  size_t LowerBound(T x) const {
    const size_t b = Bucket(x);
    const T* base = a_.data() + start_[b];
    size_t n = start_[b + 1] - start_[b];
    if (n == 0) {
      return start_[b];
    }
    while (n > 1) {
      const size_t half = n / 2;
      base = base[half] < x ? base + half : base;
      n -= half;
    }
    return static_cast<size_t>(base - a_.data()) + (*base < x ? 1 : 0);
  }

 private:
  static constexpr int kIndexBits = 16;
  // Never decreases with x (rounding a double to a float does not), so every value of an
  // earlier bucket is below x and every value of a later one above: x's lower bound is in its
  // own bucket or at the start of the next. 16 bits of a float key: 128 buckets per octave.
  static size_t Bucket(T x) { return OrderKey(static_cast<float>(x)) >> (32 - kIndexBits); }
  const std::vector<T>& a_;
  std::vector<uint32_t> start_;  // per bucket: the first index of a value in it or a later bucket
};

// The ranks of `part`, values [begin, begin + part.size()) of a population of `whole`, against
// the population's evenly spaced sample, whose values at indices 0, step, 2·step, ... each
// process of a sharded run contributes from its own part.
template <typename T>
std::vector<float> Ranks(std::span<const T> part, uint64_t begin, uint64_t whole, const Collective* collective) {
  const size_t n = static_cast<size_t>(whole);
  const size_t step = std::max<size_t>(1, n / kPercentileSample);
  std::vector<T> sample;
  for (size_t i = (begin + step - 1) / step * step; i < begin + part.size(); i += step) {
    sample.push_back(part[i - begin]);
  }
  sample = AllGather(collective, std::span<const T>(sample));
  const std::span<const T> values = part;
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
  const SortedIndex<T> index(distinct);
  std::vector<float> out(values.size());
  ParallelFor(values.size(), 0, [&](size_t, size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      // Runs of equal values are common (every customer who never bought an offer): one search per run.
      if (i > b && values[i] == values[i - 1]) {
        out[i] = out[i - 1];
        continue;
      }
      const size_t d = index.LowerBound(values[i]);
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

std::vector<float> PercentileRanks(std::span<const float> values) { return Ranks(values, 0, values.size(), nullptr); }
std::vector<float> PercentileRanks(std::span<const double> values) { return Ranks(values, 0, values.size(), nullptr); }
std::vector<float> PercentileRanks(std::span<const float> part, uint64_t begin, uint64_t whole,
                                   const Collective* collective) {
  return Ranks(part, begin, whole, collective);
}
std::vector<float> PercentileRanks(std::span<const double> part, uint64_t begin, uint64_t whole,
                                   const Collective* collective) {
  return Ranks(part, begin, whole, collective);
}

}  // namespace cf::model
