#include "model/forest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "model/xgb.h"

namespace cf::model {
namespace {

// Depths up to 4 take the vectorised walk on CPUs with AVX2 (full blocks of 64 rows) and the
// scalar one for the last rows; depth 6 takes the scalar one everywhere.
class ForestDepthTest : public ::testing::TestWithParam<int> {};

TEST_P(ForestDepthTest, PredictsTheSameMarginsAsXgboost) {
  const size_t rows = 3000, cols = 6;
  std::mt19937_64 rng(9);
  std::normal_distribution<float> normal;
  std::vector<float> x(rows * cols), y(rows), w(rows, 1.0f);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      // Some missing values, so default directions are exercised.
      x[r * cols + c] = (r + c) % 7 == 0 ? std::numeric_limits<float>::quiet_NaN() : normal(rng);
    }
    const float a = std::isnan(x[r * cols]) ? 0.5f : x[r * cols];
    y[r] = a + 0.5f * normal(rng) > 0.3f ? 1.0f : 0.0f;
  }
  auto m = XgbMatrix::FromDense(x, rows, cols, y, w, 1);
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  auto b = XgbBooster::Create(*m, {{"objective", "binary:logistic"},
                                   {"max_depth", std::to_string(GetParam())},
                                   {"nthread", "1"},
                                   {"base_score", "0.3"},
                                   {"verbosity", "0"}});
  ASSERT_TRUE(b.has_value()) << b.error().ToString();
  for (int it = 0; it < 30; ++it) {
    ASSERT_TRUE(b->UpdateOneIter(it, *m).ok());
  }
  auto expected = b->Predict(x, rows, cols, 0, 0, true);
  ASSERT_TRUE(expected.has_value()) << expected.error().ToString();
  auto json = b->Save();
  ASSERT_TRUE(json.has_value());
  auto forest = Forest::FromXgboostJson(*json);
  ASSERT_TRUE(forest.has_value()) << forest.error().ToString();
  EXPECT_EQ(forest->num_trees(), 30u);
  std::vector<float> got(rows);
  forest->PredictMargins(x, rows, cols, got, 2);
  for (size_t r = 0; r < rows; ++r) {
    ASSERT_NEAR(got[r], (*expected)[r], 1e-4) << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Depths, ForestDepthTest, ::testing::Values(1, 2, 3, 4, 6));

TEST(ForestTest, RejectsWhatItCannotEvaluate) {
  EXPECT_FALSE(Forest::FromXgboostJson("{").has_value());
  EXPECT_FALSE(Forest::FromXgboostJson(R"({"learner":{"objective":{"name":"reg:squarederror"}}})").has_value());
}

}  // namespace
}  // namespace cf::model
