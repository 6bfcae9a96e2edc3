// Internal to src/model (see docs/architecture.md, "Public and internal headers").
// A compact evaluator of an XGBoost tree ensemble, read from XGBoost's JSON model.
//
// Scoring does not go through XGBoost: flat node arrays walked by blocks of rows are ~10×
// faster than XGBoost 1.7's in-place prediction for our shallow trees, and loading a model
// needs no booster. Training still uses XGBoost; forest_test checks both agree.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cf::model {

class Forest {
 public:
  // Parses the JSON written by XGBoosterSaveModelToBuffer (binary:logistic, numerical splits).
  static Result<Forest> FromXgboostJson(std::string_view json);

  // Margins (log-odds) of dense row-major rows; NaN = missing.
  void PredictMargins(std::span<const float> rows, size_t num_rows, size_t num_cols, std::span<float> out,
                      int threads) const;

  // The same for the rows `which` of `rows` only: out[which[k]] is row which[k]'s margin.
  void PredictMarginsOf(std::span<const float> rows, size_t num_cols, std::span<const uint32_t> which,
                        std::span<float> out, int threads) const;

  // A feature whose value is the same in every row a caller will predict.
  struct FixedFeature {
    size_t feature = 0;
    float value = 0;
  };
  // The same function on rows whose `fixed` features hold those values: each split on a fixed
  // feature is decided once, here, so its trees are shallower. A tree left without splits
  // joins the base margin only before the first tree that keeps a split; later ones stay
  // trees of one leaf, so on such rows the margins equal the whole forest's bit for bit
  // (the leaves are added in the same order). Scoring one offer fixes the offer-level features.
  Forest Specialize(std::span<const FixedFeature> fixed) const;
  size_t num_trees() const { return trees_.size(); }
  size_t num_splits() const;  // over every tree
  size_t num_features() const { return num_features_; }

 private:
  // A tree as XGBoost writes it: node 0 is the root; a node with left < 0 is a leaf of value.
  struct Tree {
    std::vector<int32_t> left, right;
    std::vector<uint32_t> feature;
    std::vector<float> value;  // the split's threshold, or the leaf's value
    std::vector<int> default_left;
  };
  // Margins of `count` rows: row which[k] (k when which is null) into out[which[k]] (out[k]).
  void Predict(const float* rows, size_t num_cols, const uint32_t* which, size_t count, float* out, int threads) const;
  // Lays the trees out for the walks below.
  static Result<Forest> Build(std::vector<Tree> trees, float base_margin, size_t num_features);

  // Every tree is padded to a complete tree of depth depth_ (a leaf above the bottom becomes
  // a chain of always-left splits), so a row descends with index arithmetic and no
  // pointer chasing: node i's children are 2i + 1 and 2i + 2.
  struct Split {
    uint32_t feature = 0;
    float threshold = 0;        // go left when x < threshold
    uint32_t missing_left = 1;  // where a missing value goes
  };
  static constexpr size_t kBlock = 64;  // rows walked together through each tree, for cache locality
  static constexpr size_t kLanes = 8;   // floats in an AVX2 register
  // Deepest trees for WalkBlockAvx2: every level has at most 8 nodes, the 16 leaves fill two registers.
  static constexpr size_t kVectorDepth = 4;
#if defined(__x86_64__)
  // One full block of kBlock rows, for CPUs with AVX2 (checked at run time) and trees of
  // depth ≤ kVectorDepth.
  // Rows which[first .. first + kBlock) (first .. first + kBlock when which is null) of `rows`.
  void WalkBlockAvx2(const float* rows, size_t num_cols, const uint32_t* which, size_t first, float* out) const;
#endif

  std::vector<Tree> trees_;  // the source of the layouts below, kept for Specialize
  int depth_ = 0;
  size_t num_features_ = 0;
  float base_margin_ = 0;
  std::vector<uint32_t> used_features_;  // the features some split reads, ascending
  std::vector<Split> splits_;            // num_trees × (2^depth − 1)
  std::vector<float> leaves_;            // num_trees × 2^depth
  // The same trees by level for WalkBlockAvx2 (empty when deeper than kVectorDepth): each
  // tree walked to its own depth (tree_depth_), num_trees × kVectorDepth × kLanes splits
  // (missing_left as a −1/0 mask), num_trees × 16 leaves.
  std::vector<uint8_t> tree_depth_;
  std::vector<int32_t> level_feature_;
  std::vector<float> level_threshold_;
  std::vector<int32_t> level_missing_left_;
  std::vector<float> level_leaves_;
};

}  // namespace cf::model
