#include "model/forest.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>

#include "model/parallel.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace cf::model {
namespace {
constexpr int kMaxDepth = 12;  // padding doubles the nodes per level: deeper trees would not pay
}  // namespace

namespace {
// Depth of a tree's deepest leaf (0: the root is a leaf), or kMaxDepth + 1 for anything deeper
// (a cycle in a corrupt file included).
template <typename Tree>
int DepthOf(const Tree& t) {
  int deepest = 0;
  std::vector<std::pair<int32_t, int>> stack = {{0, 0}};
  while (!stack.empty()) {
    const auto [n, d] = stack.back();
    stack.pop_back();
    if (d > kMaxDepth) {
      return kMaxDepth + 1;
    }
    if (t.left[static_cast<size_t>(n)] < 0) {
      deepest = std::max(deepest, d);
    } else {
      stack.emplace_back(t.left[static_cast<size_t>(n)], d + 1);
      stack.emplace_back(t.right[static_cast<size_t>(n)], d + 1);
    }
  }
  return deepest;
}
}  // namespace

Result<Forest> Forest::FromXgboostJson(std::string_view json) {
  std::vector<Tree> trees;
  float base_margin = 0;
  size_t num_features = 0;
  try {
    const nlohmann::json j = nlohmann::json::parse(json);
    const nlohmann::json& learner = j.at("learner");
    const std::string objective = learner.at("objective").at("name").get<std::string>();
    if (objective != "binary:logistic") {
      return Err(Status::InvalidArgument("unsupported tree objective '" + objective + "'; expected binary:logistic"));
    }
    const double base_score = std::stod(learner.at("learner_model_param").at("base_score").get<std::string>());
    base_margin = static_cast<float>(std::log(base_score / (1.0 - base_score)));
    num_features = std::stoul(learner.at("learner_model_param").at("num_feature").get<std::string>());
    for (const nlohmann::json& tree : learner.at("gradient_booster").at("model").at("trees")) {
      trees.push_back(
          {tree.at("left_children").get<std::vector<int32_t>>(), tree.at("right_children").get<std::vector<int32_t>>(),
           tree.at("split_indices").get<std::vector<uint32_t>>(), tree.at("split_conditions").get<std::vector<float>>(),
           tree.at("default_left").get<std::vector<int>>()});
    }
  } catch (const std::exception& e) {  // nlohmann and std::stod
    return Err(Status::Corruption(std::string("XGBoost model JSON: ") + e.what()));
  }
  for (const Tree& t : trees) {
    const size_t n = t.left.size();
    if (n == 0 || t.right.size() != n || t.feature.size() != n || t.value.size() != n || t.default_left.size() != n) {
      return Err(Status::Corruption("XGBoost model JSON: a tree without nodes or with node arrays of unequal lengths"));
    }
    for (size_t i = 0; i < n; ++i) {
      const bool leaf = t.left[i] < 0;
      const auto child_ok = [&](int32_t c) { return c > 0 && static_cast<size_t>(c) < n; };
      if (!leaf && (!child_ok(t.left[i]) || !child_ok(t.right[i]))) {
        return Err(Status::Corruption("XGBoost model JSON: a tree node with a child out of range"));
      }
      if (!leaf && t.feature[i] >= num_features) {
        return Err(Status::Corruption("tree split on feature " + std::to_string(t.feature[i]) + " of " +
                                      std::to_string(num_features)));
      }
    }
  }
  return Build(std::move(trees), base_margin, num_features);
}

size_t Forest::num_splits() const {
  size_t n = 0;
  for (const Tree& t : trees_) {
    n += static_cast<size_t>(std::count_if(t.left.begin(), t.left.end(), [](int32_t c) { return c >= 0; }));
  }
  return n;
}

Forest Forest::Specialize(std::span<const FixedFeature> fixed) const {
  std::vector<std::optional<float>> value(num_features_);
  for (const FixedFeature& x : fixed) {
    if (x.feature < num_features_) {
      value[x.feature] = x.value;
    }
  }
  float base_margin = base_margin_;
  std::vector<Tree> trees;
  trees.reserve(trees_.size());
  for (const Tree& t : trees_) {
    // Copies the nodes reachable once every fixed split is decided, renumbered in the order
    // they are reached (children after their parent, as XGBoost writes them).
    Tree out;
    auto decided = [&](int32_t n) {
      while (t.left[static_cast<size_t>(n)] >= 0) {
        const auto sn = static_cast<size_t>(n);
        const std::optional<float>& v = value[t.feature[sn]];
        if (!v.has_value()) {
          break;
        }
        const bool left = std::isnan(*v) ? t.default_left[sn] != 0 : *v < t.value[sn];
        n = left ? t.left[sn] : t.right[sn];
      }
      return n;
    };
    std::vector<std::pair<int32_t, int32_t>> pending = {{decided(0), -1}};  // (source node, parent slot)
    std::vector<int32_t*> link;
    for (size_t k = 0; k < pending.size(); ++k) {
      const auto [n, parent] = pending[k];
      const auto sn = static_cast<size_t>(n);
      const int32_t id = static_cast<int32_t>(out.left.size());
      out.left.push_back(-1);
      out.right.push_back(-1);
      out.feature.push_back(t.feature[sn]);
      out.value.push_back(t.value[sn]);
      out.default_left.push_back(t.default_left[sn]);
      if (parent >= 0) {
        // Even slots are left children, odd ones right (see the push below).
        const auto p = static_cast<size_t>(parent / 2);
        (parent % 2 == 0 ? out.left[p] : out.right[p]) = id;
      }
      if (t.left[sn] >= 0) {
        pending.emplace_back(decided(t.left[sn]), 2 * id);
        pending.emplace_back(decided(t.right[sn]), 2 * id + 1);
      }
    }
    if (out.left[0] < 0 && trees.empty()) {
      // A tree left without splits adds the same to every row. Before any other tree, that is
      // the same float addition done once, here; further on it stays a tree of one leaf, so
      // every row's margin is summed in the whole forest's order and equals its bit for bit.
      base_margin += out.value[0];
      continue;
    }
    trees.push_back(std::move(out));
  }
  Result<Forest> f = Build(std::move(trees), base_margin, num_features_);
  return std::move(*f);  // the trees are a subset of valid ones: Build cannot fail
}

Result<Forest> Forest::Build(std::vector<Tree> trees, float base_margin, size_t num_features) {
  Forest f;
  f.base_margin_ = base_margin;
  f.num_features_ = num_features;
  // The depth of the deepest tree sets the padded depth.
  std::vector<int> tree_depth;
  for (const Tree& t : trees) {
    tree_depth.push_back(DepthOf(t));
    f.depth_ = std::max(f.depth_, tree_depth.back());
  }
  if (f.depth_ > kMaxDepth) {
    return Err(Status::InvalidArgument("trees deeper than " + std::to_string(kMaxDepth) + " are not supported"));
  }
  std::vector<uint8_t> used(num_features, 0);
  for (const Tree& t : trees) {
    for (size_t i = 0; i < t.left.size(); ++i) {
      if (t.left[i] >= 0) {
        used[t.feature[i]] = 1;
      }
    }
  }
  for (size_t c = 0; c < num_features; ++c) {
    if (used[c] != 0) {
      f.used_features_.push_back(static_cast<uint32_t>(c));
    }
  }
  const size_t internal = (size_t{1} << f.depth_) - 1;
  const size_t leaves = size_t{1} << f.depth_;
  f.splits_.resize(trees.size() * internal);
  f.leaves_.resize(trees.size() * leaves);
  for (size_t k = 0; k < trees.size(); ++k) {
    const Tree& t = trees[k];
    Split* splits = &f.splits_[k * internal];
    float* leaf = &f.leaves_[k * leaves];
    // (source node, padded position, depth); a source leaf fills its whole padded subtree.
    std::vector<std::tuple<int32_t, size_t, int>> stack = {{0, 0, 0}};
    while (!stack.empty()) {
      const auto [n, pos, d] = stack.back();
      stack.pop_back();
      const auto sn = static_cast<size_t>(n);
      if (d == f.depth_) {
        leaf[pos - internal] = t.value[sn];
        continue;
      }
      if (t.left[sn] < 0) {  // a leaf above the bottom: always go left, copy it down both sides
        splits[pos] = Split{0, std::numeric_limits<float>::infinity(), 1};
        stack.emplace_back(n, 2 * pos + 1, d + 1);
        stack.emplace_back(n, 2 * pos + 2, d + 1);
        continue;
      }
      splits[pos] = Split{t.feature[sn], t.value[sn], t.default_left[sn] != 0 ? 1u : 0u};
      stack.emplace_back(t.left[sn], 2 * pos + 1, d + 1);
      stack.emplace_back(t.right[sn], 2 * pos + 2, d + 1);
    }
  }
  if (f.depth_ <= static_cast<int>(kVectorDepth)) {
    // Per tree, each level's splits and the leaves padded to a fixed width, for WalkBlockAvx2.
    // A tree is laid out to its own depth: a shallower one is walked in fewer steps.
    f.level_feature_.assign(trees.size() * kVectorDepth * kLanes, 0);
    f.level_threshold_.assign(trees.size() * kVectorDepth * kLanes, 0.0f);
    f.level_missing_left_.assign(trees.size() * kVectorDepth * kLanes, 0);
    f.level_leaves_.assign(trees.size() * 2 * kLanes, 0.0f);
    f.tree_depth_.assign(trees.size(), 0);
    for (size_t k = 0; k < trees.size(); ++k) {
      const Tree& t = trees[k];
      const int depth = tree_depth[k];
      f.tree_depth_[k] = static_cast<uint8_t>(depth);
      std::vector<std::tuple<int32_t, size_t, int>> stack = {{0, 0, 0}};  // (node, position in its level, level)
      while (!stack.empty()) {
        const auto [n, pos, d] = stack.back();
        stack.pop_back();
        const auto sn = static_cast<size_t>(n);
        if (d == depth) {
          f.level_leaves_[k * 2 * kLanes + pos] = t.value[sn];
          continue;
        }
        const size_t at = (k * kVectorDepth + static_cast<size_t>(d)) * kLanes + pos;
        if (t.left[sn] < 0) {  // a leaf above the tree's bottom: always left, copied down both sides
          f.level_feature_[at] = 0;
          f.level_threshold_[at] = std::numeric_limits<float>::infinity();
          f.level_missing_left_[at] = -1;
          stack.emplace_back(n, 2 * pos, d + 1);
          stack.emplace_back(n, 2 * pos + 1, d + 1);
          continue;
        }
        f.level_feature_[at] = static_cast<int32_t>(t.feature[sn]);
        f.level_threshold_[at] = t.value[sn];
        f.level_missing_left_[at] = t.default_left[sn] != 0 ? -1 : 0;
        stack.emplace_back(t.left[sn], 2 * pos, d + 1);
        stack.emplace_back(t.right[sn], 2 * pos + 1, d + 1);
      }
    }
  }
  f.trees_ = std::move(trees);
  return f;
}

#if defined(__x86_64__)
namespace {

// Left (−1) or right (0) for each lane: v < t, or v missing and the split sends missing values
// left (m = −1): "not greater or equal" is true for NaN, "less than" is not.
__attribute__((target("avx2"))) inline __m256i GoLeft(__m256 v, __m256 t, __m256 m) {
  return _mm256_castps_si256(_mm256_blendv_ps(_mm256_cmp_ps(v, t, _CMP_LT_OQ), _mm256_cmp_ps(v, t, _CMP_NGE_UQ), m));
}

// One tree of depth Depth (0 .. 4) over a block of 64 feature-major rows, adding its leaves
// to out. A level of such a tree has at most eight nodes, so a row's split is picked from
// registers by its position in the level (a lane permute, not a load); the root tests one
// feature for every row, so its eight values are one contiguous load, the second level's two
// features two loads and a blend, the third level's four features four loads and three
// blends, the fourth level's eight features eight loads and seven blends (no gather).
template <int Depth>
__attribute__((target("avx2"))) void WalkTree(const float* columns, const int32_t* feature, const float* threshold,
                                              const int32_t* missing_left, const float* leaves, float* out) {
  constexpr size_t kLanes = 8, kBlock = 64;
  // Everything that depends on the tree only, in registers before the rows.
  const __m256 t0 = _mm256_set1_ps(threshold[0]);
  const __m256 m0 = _mm256_castsi256_ps(_mm256_set1_epi32(missing_left[0]));
  __m256 t[4], m[4];
  for (int d = 1; d < Depth; ++d) {
    t[d] = _mm256_loadu_ps(threshold + d * kLanes);
    m[d] = _mm256_loadu_ps(reinterpret_cast<const float*>(missing_left + d * kLanes));
  }
  const float* c0 = columns + static_cast<size_t>(feature[0]) * kBlock;
  const float* c1[2];
  const float* c2[4];
  for (size_t p = 0; p < 2; ++p) {
    c1[p] = columns + static_cast<size_t>(feature[kLanes + p]) * kBlock;
  }
  for (size_t p = 0; p < 4; ++p) {
    c2[p] = columns + static_cast<size_t>(feature[2 * kLanes + p]) * kBlock;
  }
  const float* c3[8];
  for (size_t p = 0; p < 8; ++p) {
    c3[p] = columns + static_cast<size_t>(Depth > 3 ? feature[3 * kLanes + p] : 0) * kBlock;
  }
  const __m256 leaf_low = _mm256_loadu_ps(leaves);
  const __m256 leaf_high = _mm256_loadu_ps(leaves + kLanes);
  const __m256i one = _mm256_set1_epi32(1), upper_half = _mm256_set1_epi32(kLanes - 1);
  for (size_t g = 0; g < kBlock; g += kLanes) {
    __m256i pos = _mm256_setzero_si256();  // position of each row's node within its level
    if constexpr (Depth >= 1) {
      pos = _mm256_add_epi32(one, GoLeft(_mm256_loadu_ps(c0 + g), t0, m0));  // 0 left, 1 right
    }
    if constexpr (Depth >= 2) {
      const __m256 v = _mm256_blendv_ps(_mm256_loadu_ps(c1[0] + g), _mm256_loadu_ps(c1[1] + g),
                                        _mm256_castsi256_ps(_mm256_cmpeq_epi32(pos, one)));
      const __m256i left = GoLeft(v, _mm256_permutevar8x32_ps(t[1], pos), _mm256_permutevar8x32_ps(m[1], pos));
      pos = _mm256_add_epi32(_mm256_add_epi32(pos, pos), _mm256_add_epi32(one, left));  // 2p or 2p + 1
    }
    if constexpr (Depth >= 3) {
      // Four candidate features: two blends on bit 0 of the position, one on bit 1.
      const __m256 low = _mm256_castsi256_ps(_mm256_slli_epi32(pos, 31));
      const __m256 high = _mm256_castsi256_ps(_mm256_slli_epi32(pos, 30));
      const __m256 v01 = _mm256_blendv_ps(_mm256_loadu_ps(c2[0] + g), _mm256_loadu_ps(c2[1] + g), low);
      const __m256 v23 = _mm256_blendv_ps(_mm256_loadu_ps(c2[2] + g), _mm256_loadu_ps(c2[3] + g), low);
      const __m256i left = GoLeft(_mm256_blendv_ps(v01, v23, high), _mm256_permutevar8x32_ps(t[2], pos),
                                  _mm256_permutevar8x32_ps(m[2], pos));
      pos = _mm256_add_epi32(_mm256_add_epi32(pos, pos), _mm256_add_epi32(one, left));
    }
    if constexpr (Depth >= 4) {
      // Eight candidate features picked by the three bits of the position: seven blends of
      // eight contiguous loads cost less than one gather (on AMD's Zen 3 by far).
      const __m256 b0 = _mm256_castsi256_ps(_mm256_slli_epi32(pos, 31));
      const __m256 b1 = _mm256_castsi256_ps(_mm256_slli_epi32(pos, 30));
      const __m256 b2 = _mm256_castsi256_ps(_mm256_slli_epi32(pos, 29));
      const __m256 v01 = _mm256_blendv_ps(_mm256_loadu_ps(c3[0] + g), _mm256_loadu_ps(c3[1] + g), b0);
      const __m256 v23 = _mm256_blendv_ps(_mm256_loadu_ps(c3[2] + g), _mm256_loadu_ps(c3[3] + g), b0);
      const __m256 v45 = _mm256_blendv_ps(_mm256_loadu_ps(c3[4] + g), _mm256_loadu_ps(c3[5] + g), b0);
      const __m256 v67 = _mm256_blendv_ps(_mm256_loadu_ps(c3[6] + g), _mm256_loadu_ps(c3[7] + g), b0);
      const __m256 v = _mm256_blendv_ps(_mm256_blendv_ps(v01, v23, b1), _mm256_blendv_ps(v45, v67, b1), b2);
      const __m256i left = GoLeft(v, _mm256_permutevar8x32_ps(t[3], pos), _mm256_permutevar8x32_ps(m[3], pos));
      pos = _mm256_add_epi32(_mm256_add_epi32(pos, pos), _mm256_add_epi32(one, left));
    }
    // The permute reads the low three bits of pos; the high half of the leaves is picked by a blend.
    __m256 value = _mm256_permutevar8x32_ps(leaf_low, pos);
    if constexpr (Depth == 4) {
      value = _mm256_blendv_ps(value, _mm256_permutevar8x32_ps(leaf_high, pos),
                               _mm256_castsi256_ps(_mm256_cmpgt_epi32(pos, upper_half)));
    }
    _mm256_storeu_ps(out + g, _mm256_add_ps(_mm256_loadu_ps(out + g), value));
  }
}

}  // namespace

// The block walk of PredictMargins for trees of depth ≤ kVectorDepth, eight rows per AVX2
// instruction, each tree walked to its own depth. The block is first transposed to
// feature-major order (the features some split reads only).
__attribute__((target("avx2"))) void Forest::WalkBlockAvx2(const float* rows, size_t num_cols, const uint32_t* which,
                                                           size_t first, float* out) const {
  static_assert(kBlock == 64 && kLanes == 8 && kVectorDepth == 4);
  thread_local std::vector<float> by_feature;
  by_feature.resize(num_cols * kBlock);
  for (size_t r = 0; r < kBlock; ++r) {
    const float* row = &rows[(which != nullptr ? which[first + r] : first + r) * num_cols];
    for (uint32_t c : used_features_) {  // the others are never read
      by_feature[c * kBlock + r] = row[c];
    }
  }
  const float* columns = by_feature.data();
  for (size_t g = 0; g < kBlock; g += kLanes) {
    _mm256_storeu_ps(out + g, _mm256_set1_ps(base_margin_));
  }
  for (size_t k = 0; k < trees_.size(); ++k) {
    const int32_t* feature = &level_feature_[k * kVectorDepth * kLanes];
    const float* threshold = &level_threshold_[k * kVectorDepth * kLanes];
    const int32_t* missing_left = &level_missing_left_[k * kVectorDepth * kLanes];
    const float* leaves = &level_leaves_[k * 2 * kLanes];
    switch (tree_depth_[k]) {
      case 0:
        WalkTree<0>(columns, feature, threshold, missing_left, leaves, out);
        break;
      case 1:
        WalkTree<1>(columns, feature, threshold, missing_left, leaves, out);
        break;
      case 2:
        WalkTree<2>(columns, feature, threshold, missing_left, leaves, out);
        break;
      case 3:
        WalkTree<3>(columns, feature, threshold, missing_left, leaves, out);
        break;
      default:
        WalkTree<4>(columns, feature, threshold, missing_left, leaves, out);
        break;
    }
  }
}
#endif

void Forest::PredictMargins(std::span<const float> rows, size_t num_rows, size_t num_cols, std::span<float> out,
                            int threads) const {
  Predict(rows.data(), num_cols, nullptr, num_rows, out.data(), threads);
}

void Forest::PredictMarginsOf(std::span<const float> rows, size_t num_cols, std::span<const uint32_t> which,
                              std::span<float> out, int threads) const {
  Predict(rows.data(), num_cols, which.data(), which.size(), out.data(), threads);
}

void Forest::Predict(const float* rows, size_t num_cols, const uint32_t* which, size_t count, float* out,
                     int threads) const {
  const size_t internal = (size_t{1} << depth_) - 1;
  const size_t leaves = size_t{1} << depth_;
#if defined(__x86_64__)
  const bool avx2 = __builtin_cpu_supports("avx2") != 0 && !level_leaves_.empty();
#else
  const bool avx2 = false;
#endif
  auto row_of = [&](size_t k) { return which != nullptr ? static_cast<size_t>(which[k]) : k; };
  ParallelFor(count, threads, [&](size_t, size_t begin, size_t end) {
    std::array<float, kBlock> margin;
    for (size_t b = begin; b < end; b += kBlock) {
      const size_t e = std::min(end, b + kBlock);
#if defined(__x86_64__)
      if (avx2 && e - b == kBlock) {
        if (which == nullptr) {
          WalkBlockAvx2(rows, num_cols, nullptr, b, &out[b]);
        } else {
          WalkBlockAvx2(rows, num_cols, which, b, margin.data());
          for (size_t k = b; k < e; ++k) {
            out[which[k]] = margin[k - b];
          }
        }
        continue;
      }
#endif
      margin.fill(base_margin_);
      // Level by level across the block: the rows' descents are independent, so the CPU
      // overlaps them instead of waiting on one row's chain of loads.
      std::array<uint32_t, kBlock> node{};
      for (size_t k = 0; k < trees_.size(); ++k) {
        const Split* splits = &splits_[k * internal];
        const float* leaf = &leaves_[k * leaves];
        node.fill(0);
        for (int d = 0; d < depth_; ++d) {
          for (size_t r = b; r < e; ++r) {
            uint32_t& i = node[r - b];
            const Split& s = splits[i];
            const float v = rows[row_of(r) * num_cols + s.feature];
            // Branch-free: left when v < threshold, or when v is missing (NaN compares
            // false) and the split sends missing values left.
            const uint32_t left =
                static_cast<uint32_t>(v < s.threshold) | (static_cast<uint32_t>(v != v) & s.missing_left);
            const uint32_t right = 1 - left;
            i = 2 * i + 1 + right;
          }
        }
        for (size_t r = b; r < e; ++r) {
          margin[r - b] += leaf[node[r - b] - internal];
        }
      }
      for (size_t r = b; r < e; ++r) {
        out[row_of(r)] = margin[r - b];
      }
    }
  });
}

}  // namespace cf::model
