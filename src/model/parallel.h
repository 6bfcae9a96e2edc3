// Internal to src/model (see docs/architecture.md, "Public and internal headers").
// A minimal parallel loop over [0, n) in contiguous chunks, one per thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace cf::model {

inline int ResolveThreads(int threads) {
  return threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// Below this many items per thread, a thread costs more than it saves.
inline constexpr size_t kMinChunk = 4096;

// Calls fn(thread_index, begin, end) for each chunk; inputs of fewer than 2 × min_chunk items
// run inline. A loop over blocks of many items each gives min_chunk 1.
template <typename Fn>
void ParallelFor(size_t n, int threads, Fn&& fn, size_t min_chunk = kMinChunk) {
  const size_t t = std::min<size_t>(static_cast<size_t>(ResolveThreads(threads)),
                                    std::max<size_t>(1, n / std::max<size_t>(1, min_chunk)));
  if (t <= 1) {
    fn(size_t{0}, size_t{0}, n);
    return;
  }
  std::vector<std::thread> pool;
  const size_t chunk = (n + t - 1) / t;
  for (size_t i = 0; i < t; ++i) {
    const size_t b = std::min(n, i * chunk);
    const size_t e = std::min(n, b + chunk);
    pool.emplace_back([&fn, i, b, e] { fn(i, b, e); });
  }
  for (std::thread& th : pool) {
    th.join();
  }
}

}  // namespace cf::model
