// Orderings of large arrays.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace cf {

// Indices of `values` from the largest to the smallest, equal values in index order, NaN last:
// a stable radix sort on the doubles' bits, a byte a pass, each key moved with its index.
std::vector<uint32_t> OrderByDescending(std::span<const double> values);

}  // namespace cf
