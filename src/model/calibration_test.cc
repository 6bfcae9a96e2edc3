#include "model/calibration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace cf::model {
namespace {

// Labels drawn from σ(a·m + b); the fit must find a and b again.
void ExpectRecovers(double a, double b, double spread) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> margin(-spread, spread), u(0.0, 1.0);
  std::vector<float> margins, labels;
  const PlattScaling truth{a, b};
  for (int i = 0; i < 200000; ++i) {
    const double m = margin(rng);
    margins.push_back(static_cast<float>(m));
    labels.push_back(u(rng) < truth.Apply(m) ? 1.0f : 0.0f);
  }
  const PlattScaling fit = PlattScaling::Fit(margins, labels, {});
  EXPECT_NEAR(fit.a, a, 0.05 * a) << "spread " << spread;
  EXPECT_NEAR(fit.b, b, 0.1) << "spread " << spread;
}

TEST(PlattScalingTest, RecoversTheMapOfNarrowMargins) { ExpectRecovers(1.5, -1.0, 3.0); }

// Margins of a baseline blend span tens of units: plain Newton from the identity overshoots.
TEST(PlattScalingTest, RecoversTheMapOfWideMargins) { ExpectRecovers(0.1, -3.0, 60.0); }

}  // namespace
}  // namespace cf::model
