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

// Specialize decides the splits on fixed features once; on rows that hold those values it must
// give the margins of the whole forest bit for bit (the leaves are added in the same order),
// whichever walk (vector or scalar) each gets.
TEST_P(ForestDepthTest, SpecializedForestsPredictTheSameOnRowsWithTheFixedValues) {
  const size_t rows = 2000, cols = 5;
  std::mt19937_64 rng(5);
  std::normal_distribution<float> normal;
  std::vector<float> x(rows * cols), y(rows), w(rows, 1.0f);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      x[r * cols + c] = (r + 2 * c) % 11 == 0 ? std::numeric_limits<float>::quiet_NaN() : normal(rng);
    }
    // Columns 1 and 3 matter, so the trees split on them.
    y[r] = x[r * cols + 1] + 0.7f * x[r * cols + 3] + 0.5f * normal(rng) > 0.2f ? 1.0f : 0.0f;
  }
  auto m = XgbMatrix::FromDense(x, rows, cols, y, w, 1);
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  auto b = XgbBooster::Create(*m, {{"objective", "binary:logistic"},
                                   {"max_depth", std::to_string(GetParam())},
                                   {"nthread", "1"},
                                   {"verbosity", "0"}});
  ASSERT_TRUE(b.has_value()) << b.error().ToString();
  for (int it = 0; it < 25; ++it) {
    ASSERT_TRUE(b->UpdateOneIter(it, *m).ok());
  }
  auto json = b->Save();
  ASSERT_TRUE(json.has_value());
  auto forest = Forest::FromXgboostJson(*json);
  ASSERT_TRUE(forest.has_value()) << forest.error().ToString();
  const float kNaN = std::numeric_limits<float>::quiet_NaN();
  for (const auto& [v1, v3] : std::vector<std::pair<float, float>>{{0.3f, -0.2f}, {-2.0f, 2.0f}, {kNaN, 0.1f}}) {
    std::vector<float> z = x;
    for (size_t r = 0; r < rows; ++r) {
      z[r * cols + 1] = v1;
      z[r * cols + 3] = v3;
    }
    const Forest::FixedFeature fixed[] = {{1, v1}, {3, v3}};
    const Forest special = forest->Specialize(fixed);
    EXPECT_LE(special.num_trees(), forest->num_trees());
    std::vector<float> want(rows), got(rows);
    forest->PredictMargins(z, rows, cols, want, 1);
    special.PredictMargins(z, rows, cols, got, 2);
    for (size_t r = 0; r < rows; ++r) {
      ASSERT_EQ(got[r], want[r]) << "row " << r << " fixed " << v1 << ", " << v3;
    }
  }
}

TEST(ForestTest, RejectsWhatItCannotEvaluate) {
  EXPECT_FALSE(Forest::FromXgboostJson("{").has_value());
  EXPECT_FALSE(Forest::FromXgboostJson(R"({"learner":{"objective":{"name":"reg:squarederror"}}})").has_value());
}

}  // namespace
}  // namespace cf::model
