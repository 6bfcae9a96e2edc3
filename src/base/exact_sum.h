// Sums of doubles that do not depend on the order of their terms, nor on how many processes
// added a part of them: each term is rounded once to a multiple of 2^-40 (about 1e-12) and
// added exactly in a 128-bit integer. A plan's totals and bounds use it so that one process
// and any number of ranks of `mpirun` print the same digits (docs/scaling.md).
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "base/collective.h"

namespace cf {

class ExactSum {
 public:
  __extension__ using Int128 = __int128;
  __extension__ using UInt128 = unsigned __int128;
  static constexpr int kFractionBits = 40;

  // x finite with |x| < 2^62; a term that is not is kept apart and turns the sum into NaN.
  void Add(double x) {
    if (!std::isfinite(x) || std::fabs(x) >= 0x1p62) {
      invalid_ = true;
      return;
    }
    const double whole = std::floor(x);
    const auto fraction = static_cast<int64_t>(std::nearbyint((x - whole) * 0x1p40));
    total_ += (static_cast<Int128>(static_cast<int64_t>(whole)) << kFractionBits) + fraction;
  }
  void Add(const ExactSum& other) {
    total_ += other.total_;
    invalid_ = invalid_ || other.invalid_;
  }
  double value() const {
    return invalid_ ? std::nan("") : static_cast<double>(total_) / 0x1p40;
  }
  // The sum as a fixed-point integer (units of 2^-40), for exact comparisons.
  Int128 fixed() const { return total_; }
  bool valid() const { return !invalid_; }

  // Four words of the total and one of the validity, for a collective's gather.
  static constexpr size_t kWords = 5;
  void AppendWords(std::vector<uint32_t>& out) const {
    const auto bits = static_cast<UInt128>(total_);
    for (int w = 0; w < 4; ++w) out.push_back(static_cast<uint32_t>(bits >> (32 * w)));
    out.push_back(invalid_ ? 1u : 0u);
  }
  static ExactSum FromWords(const uint32_t* words) {
    UInt128 bits = 0;
    for (int w = 3; w >= 0; --w) bits = (bits << 32) | words[w];
    ExactSum s;
    s.total_ = static_cast<Int128>(bits);
    s.invalid_ = words[4] != 0;
    return s;
  }

 private:
  Int128 total_ = 0;
  bool invalid_ = false;
};

// Element-wise sums over every process, in place on every process; exact, so the same
// whatever the number of processes and their order.
inline void Sum(const Collective* c, std::span<ExactSum> sums) {
  if (!Sharded(c)) return;
  std::vector<uint32_t> mine;
  mine.reserve(sums.size() * ExactSum::kWords);
  for (const ExactSum& s : sums) s.AppendWords(mine);
  const std::vector<uint32_t> all = c->AllGather(std::span<const uint32_t>(mine));
  for (ExactSum& s : sums) s = ExactSum();
  for (size_t i = 0; i < all.size() / ExactSum::kWords; ++i) {
    sums[i % sums.size()].Add(ExactSum::FromWords(all.data() + i * ExactSum::kWords));
  }
}

}  // namespace cf
