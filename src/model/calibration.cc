#include "model/calibration.h"

#include <cmath>

namespace cf::model {
namespace {
constexpr int kNewtonSteps = 50;
constexpr double kTolerance = 1e-10;
constexpr double kRidge = 1e-6;  // keeps the Hessian invertible on separable data
}  // namespace

double PlattScaling::Apply(double margin) const { return 1.0 / (1.0 + std::exp(-(a * margin + b))); }

PlattScaling PlattScaling::Fit(std::span<const float> margins, std::span<const float> labels,
                               std::span<const float> weights) {
  PlattScaling s;
  for (int step = 0; step < kNewtonSteps; ++step) {
    double ga = 0, gb = 0, haa = kRidge, hab = 0, hbb = kRidge;
    for (size_t i = 0; i < margins.size(); ++i) {
      const double w = weights.empty() ? 1.0 : weights[i];
      const double x = margins[i];
      const double p = s.Apply(x);
      const double r = (p - labels[i]) * w;
      const double h = p * (1 - p) * w;
      ga += r * x;
      gb += r;
      haa += h * x * x;
      hab += h * x;
      hbb += h;
    }
    const double det = haa * hbb - hab * hab;
    if (!(det > 0)) {
      return PlattScaling{};
    }
    const double da = (hbb * ga - hab * gb) / det;
    const double db = (haa * gb - hab * ga) / det;
    s.a -= da;
    s.b -= db;
    if (!std::isfinite(s.a) || !std::isfinite(s.b) || s.a <= 0) {
      return PlattScaling{};
    }
    if (da * da + db * db < kTolerance) {
      break;
    }
  }
  return s;
}

}  // namespace cf::model
