// Internal to src/model (see docs/architecture.md, "Public and internal headers").
// Platt scaling: p = σ(a·margin + b), fitted by Newton's method on held-out rows.
//
// Chosen over isotonic regression because it is strictly increasing: it never merges
// distinct scores into ties, so calibrating cannot change a ranking or its Lift Quality.
#pragma once

#include <span>

namespace cf::model {

struct PlattScaling {
  double a = 1.0;
  double b = 0.0;

  double Apply(double margin) const;
  double Logit(double margin) const { return a * margin + b; }  // logit of Apply(margin)
  // Weighted fit; keeps the identity when the data cannot support a fit.
  static PlattScaling Fit(std::span<const float> margins, std::span<const float> labels,
                          std::span<const float> weights);
};

}  // namespace cf::model
