// Internal to src/model (see docs/architecture.md, "Public and internal headers").
// Low-rank collaborative structure of customer × group purchase counts.
//
// The item side of a truncated SVD of X (X[c][g] = log(1 + purchases of customer c in group
// g)): the top eigenvectors of XᵀX. A customer's affinity to an offer is the offer's column
// reconstructed from the customer's row through that subspace, x_c·V·Vᵀ·w, which ranks
// customers who never bought the offer by what similar buyers bought.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace cf::model {

// Sparse rows: customer c's groups are groups[offsets[c] .. offsets[c+1]).
struct SparseRows {
  std::vector<uint64_t> offsets{0};
  std::vector<uint32_t> groups;
  std::vector<float> values;
};

struct ItemFactors {
  uint32_t num_groups = 0;
  uint32_t rank = 0;
  std::vector<float> v;  // num_groups × rank, row-major; columns orthonormal

  // z = V·Vᵀ·w: the weights whose dot product with a customer row gives the affinity.
  std::vector<float> Project(std::span<const float> w) const;
};

// Top-`rank` right singular vectors of the rows (fewer when there are fewer groups).
ItemFactors ComputeItemFactors(const SparseRows& rows, uint32_t num_groups, uint32_t rank);

}  // namespace cf::model
