#include "model/calibration.h"

#include <algorithm>
#include <cmath>

namespace cf::model {
namespace {
constexpr int kNewtonSteps = 50;
constexpr double kTolerance = 1e-10;
constexpr double kRidge = 1e-6;   // keeps the Hessian invertible on separable data
constexpr int kMaxHalvings = 40;  // step halvings before a Newton step is given up

// Weighted log-loss of the map on the rows.
double LogLoss(const PlattScaling& s, std::span<const float> margins, std::span<const float> labels,
               std::span<const float> weights) {
  double loss = 0;
  for (size_t i = 0; i < margins.size(); ++i) {
    const double w = weights.empty() ? 1.0 : weights[i];
    const double z = s.a * margins[i] + s.b;
    // log(1 + e^z) − y·z, written to stay finite for large |z|.
    loss += w * (std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))) - labels[i] * z);
  }
  return loss;
}
}  // namespace

double PlattScaling::Apply(double margin) const { return 1.0 / (1.0 + std::exp(-Logit(margin))); }

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
    double da = (hbb * ga - hab * gb) / det;
    double db = (haa * gb - hab * ga) / det;
    // Full Newton steps overshoot when margins span a wide range (a baseline blend adds up
    // to 64 to them): halve the step until the loss goes down.
    const double loss = LogLoss(s, margins, labels, weights);
    PlattScaling next{s.a - da, s.b - db};
    for (int h = 0; h < kMaxHalvings && !(next.a > 0 && LogLoss(next, margins, labels, weights) <= loss); ++h) {
      da /= 2;
      db /= 2;
      next = PlattScaling{s.a - da, s.b - db};
    }
    if (!std::isfinite(next.a) || !std::isfinite(next.b) || next.a <= 0) {
      return PlattScaling{};
    }
    s = next;
    if (da * da + db * db < kTolerance) {
      break;
    }
  }
  return s;
}

}  // namespace cf::model
