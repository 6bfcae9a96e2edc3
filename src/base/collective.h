// The processes of one sharded run (e.g. the ranks of `mpirun -np N audience score`), as the
// library sees them: each process owns a contiguous part of the customers and they exchange
// only what spans all customers (sums, and the values that percentile ranks are taken over).
// The library never depends on MPI: src/dist implements this over Open MPI, and a null
// `const Collective*` everywhere means one process owning every customer.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace cf {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;  // 0 .. size() - 1; rank 0 writes the outputs
  virtual int size() const = 0;
  // Every process's `mine`, concatenated in rank order, on every process.
  virtual std::vector<double> AllGather(std::span<const double> mine) const = 0;
  virtual std::vector<float> AllGather(std::span<const float> mine) const = 0;
  virtual std::vector<uint32_t> AllGather(std::span<const uint32_t> mine) const = 0;
  // The same concatenation on rank 0 only (the one that writes); empty on the others, which
  // then hold nothing of the whole.
  virtual std::vector<double> GatherToRoot(std::span<const double> mine) const = 0;
  virtual std::vector<float> GatherToRoot(std::span<const float> mine) const = 0;
  virtual std::vector<uint32_t> GatherToRoot(std::span<const uint32_t> mine) const = 0;
  // Element-wise sums over the processes, in place on every process. Use it for counts (exact
  // in a double below 2^53); sums of fractional values are gathered per block and added in
  // block order instead, so that they do not depend on the number of processes.
  virtual void Sum(std::span<double> values) const = 0;
};

// Helpers that treat a null collective as one process.
inline bool Sharded(const Collective* c) { return c != nullptr && c->size() > 1; }

template <typename T>
std::vector<T> AllGather(const Collective* c, std::span<const T> mine) {
  if (!Sharded(c)) {
    return std::vector<T>(mine.begin(), mine.end());
  }
  return c->AllGather(mine);
}

template <typename T>
std::vector<T> GatherToRoot(const Collective* c, std::span<const T> mine) {
  if (!Sharded(c)) {
    return std::vector<T>(mine.begin(), mine.end());
  }
  return c->GatherToRoot(mine);
}

inline void Sum(const Collective* c, std::span<double> values) {
  if (Sharded(c)) {
    c->Sum(values);
  }
}

// The sums of `width` values per block, over the blocks of every process in rank order, which
// is block order: the same sums whatever the number of processes. `mine` holds this process's
// blocks, `width` values each.
inline std::vector<double> SumInBlockOrder(const Collective* c, std::span<const double> mine, size_t width) {
  const std::vector<double> all = AllGather(c, mine);
  std::vector<double> sums(width, 0.0);
  for (size_t i = 0; i < all.size(); ++i) {
    sums[i % width] += all[i];
  }
  return sums;
}

// Part `rank` of `parts` near-equal contiguous parts of [0, n): [begin, end).
struct Part {
  uint64_t begin = 0, end = 0;
};
inline Part PartOf(uint64_t n, int rank, int parts) {
  const auto r = static_cast<uint64_t>(rank), p = static_cast<uint64_t>(parts);
  return Part{n * r / p, n * (r + 1) / p};
}

}  // namespace cf
