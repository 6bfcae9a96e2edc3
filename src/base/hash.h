#pragma once
// splitmix64: the one hash and seed expander of the code base. The baselines, the model's
// sampling and the generator all use it, so a seed means the same everywhere.
#include <cstdint>
#include <string_view>

namespace cf {

// The splitmix64 finalizer: a bijection of 64-bit values with good avalanche.
constexpr uint64_t Scramble(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// A stateless hash of one value: splitmix64's step applied to x.
constexpr uint64_t Mix(uint64_t x) { return Scramble(x + 0x9E3779B97F4A7C15ULL); }

// The splitmix64 generator: advances state and returns its next output.
constexpr uint64_t SplitMix64(uint64_t& state) { return Scramble(state += 0x9E3779B97F4A7C15ULL); }

// A uniform double in [0, 1) from 53 bits of a hash.
constexpr double UnitInterval(uint64_t hash) { return static_cast<double>(hash >> 11) * 0x1.0p-53; }

// A stable 64-bit hash of a string (FNV-1a, then Scramble for avalanche): the same on every
// machine and run, so ids and draws derived from names are reproducible.
constexpr uint64_t HashString(std::string_view s, uint64_t seed = 0) {
  uint64_t h = 0xCBF29CE484222325ULL ^ Scramble(seed);
  for (unsigned char ch : s) h = (h ^ ch) * 0x100000001B3ULL;
  return Scramble(h);
}

}  // namespace cf
