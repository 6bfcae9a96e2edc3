#include "model/embeddings.h"

#include <Eigen/Dense>
#include <algorithm>

namespace cf::model {

std::vector<float> ItemFactors::Project(std::span<const float> w) const {
  std::vector<float> z(num_groups, 0.0f);
  std::vector<double> coef(rank, 0.0);
  for (uint32_t g = 0; g < num_groups && g < w.size(); ++g) {
    for (uint32_t r = 0; r < rank; ++r) {
      coef[r] += static_cast<double>(v[static_cast<size_t>(g) * rank + r]) * w[g];
    }
  }
  for (uint32_t g = 0; g < num_groups; ++g) {
    double s = 0;
    for (uint32_t r = 0; r < rank; ++r) {
      s += static_cast<double>(v[static_cast<size_t>(g) * rank + r]) * coef[r];
    }
    z[g] = static_cast<float>(s);
  }
  return z;
}

ItemFactors ComputeItemFactors(const SparseRows& rows, uint32_t num_groups, uint32_t rank) {
  ItemFactors f;
  f.num_groups = num_groups;
  f.rank = std::min(rank, num_groups);
  if (f.rank == 0) {
    return f;
  }
  // The Gram matrix XᵀX costs Σ nnz(row)² and stays small (groups × groups).
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(num_groups, num_groups);
  const size_t n = rows.offsets.size() - 1;
  for (size_t c = 0; c < n; ++c) {
    for (uint64_t i = rows.offsets[c]; i < rows.offsets[c + 1]; ++i) {
      for (uint64_t j = rows.offsets[c]; j < rows.offsets[c + 1]; ++j) {
        gram(rows.groups[i], rows.groups[j]) += static_cast<double>(rows.values[i]) * rows.values[j];
      }
    }
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(gram);
  // Eigenvalues come in increasing order: the last `rank` columns are the top ones.
  f.v.resize(static_cast<size_t>(num_groups) * f.rank);
  for (uint32_t r = 0; r < f.rank; ++r) {
    const Eigen::Index col = static_cast<Eigen::Index>(num_groups) - 1 - r;
    for (uint32_t g = 0; g < num_groups; ++g) {
      f.v[static_cast<size_t>(g) * f.rank + r] = static_cast<float>(solver.eigenvectors()(g, col));
    }
  }
  return f;
}

}  // namespace cf::model
