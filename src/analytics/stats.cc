#include "analytics/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cf::analytics {
namespace {

// The continued fraction of the regularized incomplete beta function (Lentz's method), which
// converges fast for x < (a + 1) / (a + b + 2).
double BetaContinuedFraction(double a, double b, double x) {
  constexpr int kMaxIterations = 300;
  constexpr double kEpsilon = 1e-15;
  constexpr double kTiny = 1e-300;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a - 1.0 + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < kEpsilon) break;
  }
  return h;
}

// I_x(a, b).
double RegularizedBeta(double x, double a, double b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * BetaContinuedFraction(a, b, x) / a;
  return 1.0 - front * BetaContinuedFraction(b, a, 1.0 - x) / b;
}

double TwoSidedZ(double level) { return NormalQuantile(0.5 + level / 2.0); }

}  // namespace

double NormalQuantile(double p) {
  // Acklam's rational approximation (relative error < 1.2e-9), refined by one Halley step on
  // erfc, which brings it to double precision.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01, -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  if (p <= 0) return -std::numeric_limits<double>::infinity();
  if (p >= 1) return std::numeric_limits<double>::infinity();
  constexpr double kLow = 0.02425;
  double x;
  if (p < kLow) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - kLow) {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

double StudentTCdf(double t, double df) {
  const double x = df / (df + t * t);
  const double tail = 0.5 * RegularizedBeta(x, df / 2.0, 0.5);
  return t >= 0 ? 1.0 - tail : tail;
}

double StudentTQuantile(double p, double df) {
  if (p <= 0) return -std::numeric_limits<double>::infinity();
  if (p >= 1) return std::numeric_limits<double>::infinity();
  if (p == 0.5) return 0;
  // Bisection on the CDF, bracketed from the normal quantile outwards: the t quantile is
  // further from 0 than the normal one.
  const double z = NormalQuantile(p);
  double lo = std::min(z, 0.0), hi = std::max(z, 0.0);
  while (StudentTCdf(lo, df) > p) lo = 2 * lo - 1;
  while (StudentTCdf(hi, df) < p) hi = 2 * hi + 1;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * std::max(1.0, std::fabs(hi)); ++i) {
    const double mid = (lo + hi) / 2;
    (StudentTCdf(mid, df) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

Interval WilsonInterval(int64_t successes, int64_t trials, double level) {
  if (trials <= 0) return {};
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(successes) / n;
  const double z = TwoSidedZ(level);
  const double z2 = z * z;
  const double center = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half = z / (1 + z2 / n) * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
  // At 0 and 1 successes the bound is exactly the point; rounding must not put it past it.
  return {p, successes == 0 ? 0.0 : std::max(0.0, center - half),
          successes == trials ? 1.0 : std::min(1.0, center + half)};
}

Interval NewcombeDifference(int64_t x1, int64_t n1, int64_t x2, int64_t n2, double level) {
  const Interval a = WilsonInterval(x1, n1, level);
  const Interval b = WilsonInterval(x2, n2, level);
  const double d = a.estimate - b.estimate;
  return {d, d - std::hypot(a.estimate - a.low, b.high - b.estimate),
          d + std::hypot(a.high - a.estimate, b.estimate - b.low)};
}

void Moments::Add(double x) {
  ++n_;
  const double delta = x - mean_;
  mean_ += delta / static_cast<double>(n_);
  m2_ += delta * (x - mean_);
}

WelchResult WelchDifference(const Moments& a, const Moments& b, double level, bool pool_second_variance) {
  WelchResult r;
  const double d = a.mean() - b.mean();
  double b_variance = b.variance();
  if (pool_second_variance && a.count() + b.count() > 2) {
    // The pooled variance about the grand mean: under no effect, the variance both share.
    const double na = static_cast<double>(a.count()), nb = static_cast<double>(b.count());
    const double grand = (a.sum() + b.sum()) / (na + nb);
    const double ss = a.variance() * (na - 1) + b.variance() * std::max(0.0, nb - 1) +
                      na * (a.mean() - grand) * (a.mean() - grand) + nb * (b.mean() - grand) * (b.mean() - grand);
    b_variance = ss / (na + nb - 1);
  }
  const double va = a.count() > 0 ? a.variance() / static_cast<double>(a.count()) : 0.0;
  const double vb = b.count() > 0 ? b_variance / static_cast<double>(b.count()) : 0.0;
  r.standard_error = std::sqrt(va + vb);
  if (r.standard_error == 0) {
    r.difference = {d, d, d};
    return r;
  }
  // Welch-Satterthwaite; a group of one contributes no variance and no degrees of freedom.
  double denom = 0;
  if (a.count() > 1) denom += va * va / static_cast<double>(a.count() - 1);
  if (b.count() > 1) denom += vb * vb / static_cast<double>(b.count() - 1);
  r.df = denom > 0 ? (va + vb) * (va + vb) / denom : 1.0;
  const double t = StudentTQuantile(0.5 + level / 2.0, r.df);
  r.difference = {d, d - t * r.standard_error, d + t * r.standard_error};
  return r;
}

Interval SumOfIndependent(const std::vector<Interval>& parts) {
  Interval sum;
  double below = 0, above = 0;
  for (const Interval& p : parts) {
    sum.estimate += p.estimate;
    below += (p.estimate - p.low) * (p.estimate - p.low);
    above += (p.high - p.estimate) * (p.high - p.estimate);
  }
  sum.low = sum.estimate - std::sqrt(below);
  sum.high = sum.estimate + std::sqrt(above);
  return sum;
}

}  // namespace cf::analytics
