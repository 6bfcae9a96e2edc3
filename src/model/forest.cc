#include "model/forest.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>

#include "model/parallel.h"

namespace cf::model {
namespace {
constexpr size_t kBlock = 64;  // rows walked together through each tree, for cache locality
constexpr int kMaxDepth = 12;  // padding doubles the nodes per level: deeper trees would not pay
}  // namespace

Result<Forest> Forest::FromXgboostJson(std::string_view json) {
  Forest f;
  struct Tree {
    std::vector<int32_t> left, right;
    std::vector<uint32_t> feature;
    std::vector<float> value;
    std::vector<int> default_left;
  };
  std::vector<Tree> trees;
  try {
    const nlohmann::json j = nlohmann::json::parse(json);
    const nlohmann::json& learner = j.at("learner");
    const std::string objective = learner.at("objective").at("name").get<std::string>();
    if (objective != "binary:logistic") {
      return Err(Status::InvalidArgument("unsupported tree objective '" + objective + "'; expected binary:logistic"));
    }
    const double base_score = std::stod(learner.at("learner_model_param").at("base_score").get<std::string>());
    f.base_margin_ = static_cast<float>(std::log(base_score / (1.0 - base_score)));
    f.num_features_ = std::stoul(learner.at("learner_model_param").at("num_feature").get<std::string>());
    for (const nlohmann::json& tree : learner.at("gradient_booster").at("model").at("trees")) {
      trees.push_back(
          {tree.at("left_children").get<std::vector<int32_t>>(), tree.at("right_children").get<std::vector<int32_t>>(),
           tree.at("split_indices").get<std::vector<uint32_t>>(), tree.at("split_conditions").get<std::vector<float>>(),
           tree.at("default_left").get<std::vector<int>>()});
    }
  } catch (const std::exception& e) {  // nlohmann and std::stod
    return Err(Status::Corruption(std::string("XGBoost model JSON: ") + e.what()));
  }
  // The depth of the deepest tree sets the padded depth.
  auto depth_of = [](const Tree& t) {
    int deepest = 0;
    std::vector<std::pair<int32_t, int>> stack = {{0, 0}};
    while (!stack.empty()) {
      const auto [n, d] = stack.back();
      stack.pop_back();
      if (t.left[static_cast<size_t>(n)] < 0) {
        deepest = std::max(deepest, d);
      } else {
        stack.emplace_back(t.left[static_cast<size_t>(n)], d + 1);
        stack.emplace_back(t.right[static_cast<size_t>(n)], d + 1);
      }
    }
    return deepest;
  };
  for (const Tree& t : trees) {
    if (t.left.empty()) {
      return Err(Status::Corruption("XGBoost model JSON: a tree without nodes"));
    }
    f.depth_ = std::max(f.depth_, depth_of(t));
  }
  if (f.depth_ > kMaxDepth) {
    return Err(Status::InvalidArgument("trees deeper than " + std::to_string(kMaxDepth) + " are not supported"));
  }
  const size_t internal = (size_t{1} << f.depth_) - 1;
  const size_t leaves = size_t{1} << f.depth_;
  f.num_trees_ = trees.size();
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
      if (t.feature[sn] >= f.num_features_) {
        return Err(Status::Corruption("tree split on feature " + std::to_string(t.feature[sn]) + " of " +
                                      std::to_string(f.num_features_)));
      }
      splits[pos] = Split{t.feature[sn], t.value[sn], t.default_left[sn] != 0 ? 1u : 0u};
      stack.emplace_back(t.left[sn], 2 * pos + 1, d + 1);
      stack.emplace_back(t.right[sn], 2 * pos + 2, d + 1);
    }
  }
  return f;
}

void Forest::PredictMargins(std::span<const float> rows, size_t num_rows, size_t num_cols, std::span<float> out,
                            int threads) const {
  const size_t internal = (size_t{1} << depth_) - 1;
  const size_t leaves = size_t{1} << depth_;
  ParallelFor(num_rows, threads, [&](size_t, size_t begin, size_t end) {
    for (size_t b = begin; b < end; b += kBlock) {
      const size_t e = std::min(end, b + kBlock);
      for (size_t r = b; r < e; ++r) {
        out[r] = base_margin_;
      }
      // Level by level across the block: the rows' descents are independent, so the CPU
      // overlaps them instead of waiting on one row's chain of loads.
      std::array<uint32_t, kBlock> node{};
      for (size_t k = 0; k < num_trees_; ++k) {
        const Split* splits = &splits_[k * internal];
        const float* leaf = &leaves_[k * leaves];
        node.fill(0);
        for (int d = 0; d < depth_; ++d) {
          for (size_t r = b; r < e; ++r) {
            uint32_t& i = node[r - b];
            const Split& s = splits[i];
            const float v = rows[r * num_cols + s.feature];
            // Branch-free: left when v < threshold, or when v is missing (NaN compares
            // false) and the split sends missing values left.
            const uint32_t left =
                static_cast<uint32_t>(v < s.threshold) | (static_cast<uint32_t>(v != v) & s.missing_left);
            const uint32_t right = 1 - left;
            i = 2 * i + 1 + right;
          }
        }
        for (size_t r = b; r < e; ++r) {
          out[r] += leaf[node[r - b] - internal];
        }
      }
    }
  });
}

}  // namespace cf::model
