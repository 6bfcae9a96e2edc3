#include "model/offer_totals.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "base/time.h"
#include "model/parallel.h"

namespace cf::model {
namespace {

constexpr int kMaxShiftIterations = 100;
constexpr double kShiftTolerance = 1e-10;  // relative error of the total

struct WindowCount {
  double buyers = 0;
  double revenue = 0;
};

// Customers with history before `population_cutoff` who bought the offer in [from, to), and their
// revenue in it; reads only the events in the window (binary search per customer).
WindowCount CountWindow(const HistoryView& view, const offer::ProductSet& offer, int64_t population_cutoff,
                        int64_t from, int64_t to, int threads) {
  const int t = ResolveThreads(threads);
  std::vector<WindowCount> parts(static_cast<size_t>(t));
  ParallelFor(view.num_customers(), t, [&](size_t thread, size_t b, size_t e) {
    WindowCount& part = parts[thread];
    for (size_t c = b; c < e; ++c) {
      const CustomerEvents ev = view.Customer(static_cast<uint32_t>(c));
      if (ev.empty() || ev.time.front() >= population_cutoff) {
        continue;
      }
      const size_t lo = static_cast<size_t>(std::lower_bound(ev.time.begin(), ev.time.end(), from) - ev.time.begin());
      bool bought = false;
      for (size_t k = lo; k < ev.size() && ev.time[k] < to; ++k) {
        if (offer.Contains(ev.product[k])) {
          bought = true;
          part.revenue += std::max(0.0f, ev.revenue[k]);
        }
      }
      part.buyers += bought ? 1 : 0;
    }
  });
  WindowCount total;
  for (const WindowCount& p : parts) {
    total.buyers += p.buyers;
    total.revenue += p.revenue;
  }
  return total;
}

// Least squares with non-negative weights over two columns, each row weighted by 1 / (1 + y) so
// that small offers count as much as departments (relative, Poisson-like errors).
std::array<double, kOfferWindows> NonNegativeFit(const std::vector<std::array<double, kOfferWindows>>& x,
                                                 const std::vector<double>& y) {
  auto loss = [&](const std::array<double, kOfferWindows>& w) {
    double l = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      const double r = y[i] - w[0] * x[i][0] - w[1] * x[i][1];
      l += r * r / (1 + y[i]);
    }
    return l;
  };
  double s00 = 0, s01 = 0, s11 = 0, t0 = 0, t1 = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const double v = 1 / (1 + y[i]);
    s00 += v * x[i][0] * x[i][0];
    s01 += v * x[i][0] * x[i][1];
    s11 += v * x[i][1] * x[i][1];
    t0 += v * x[i][0] * y[i];
    t1 += v * x[i][1] * y[i];
  }
  // Candidates: both columns, each alone; the feasible one with the least loss wins.
  std::vector<std::array<double, kOfferWindows>> candidates;
  const double det = s00 * s11 - s01 * s01;
  if (det > 1e-12 * std::max(1.0, s00 * s11)) {
    candidates.push_back({(t0 * s11 - t1 * s01) / det, (t1 * s00 - t0 * s01) / det});
  }
  if (s00 > 0) {
    candidates.push_back({std::max(0.0, t0 / s00), 0});
  }
  if (s11 > 0) {
    candidates.push_back({0, std::max(0.0, t1 / s11)});
  }
  std::array<double, kOfferWindows> best = {1, 0};
  double best_loss = std::numeric_limits<double>::infinity();
  for (const auto& w : candidates) {
    if (w[0] >= 0 && w[1] >= 0 && loss(w) < best_loss) {
      best_loss = loss(w);
      best = w;
    }
  }
  return best;
}

double Logit(double p) { return std::log(p / (1 - p)); }
double Sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

}  // namespace

OfferWindows MeasureOfferWindows(const HistoryView& view, const offer::ProductSet& offer, int horizon_days,
                                 int threads) {
  const int64_t horizon = static_cast<int64_t>(horizon_days) * kSecondsPerDay;
  const int64_t cutoff = view.cutoff();
  OfferWindows w;
  for (int k = 0; k < kOfferWindows; ++k) {
    const WindowCount c = CountWindow(view, offer, cutoff, cutoff - (k + 1) * horizon, cutoff - k * horizon, threads);
    w.buyers[k] = c.buyers;
    w.revenue[k] = c.revenue;
  }
  return w;
}

double OfferTotalsModel::ExpectedBuyers(const OfferWindows& w) const {
  return buyer_weights[0] * w.buyers[0] + buyer_weights[1] * w.buyers[1];
}

double OfferTotalsModel::ExpectedRevenue(const OfferWindows& w) const {
  return revenue_weights[0] * w.revenue[0] + revenue_weights[1] * w.revenue[1];
}

OfferTotalsModel OfferTotalsModel::Fit(const HistoryView& history, int64_t validation_cutoff,
                                       const std::vector<offer::ProductSet>& offers, int horizon_days, int threads) {
  const HistoryView before = history.Before(validation_cutoff);
  std::vector<std::array<double, kOfferWindows>> xb, xr;
  std::vector<double> yb, yr;
  for (const offer::ProductSet& offer : offers) {
    const OfferWindows w = MeasureOfferWindows(before, offer, horizon_days, threads);
    const WindowCount y = CountWindow(history, offer, validation_cutoff, validation_cutoff, history.cutoff(), threads);
    xb.push_back({w.buyers[0], w.buyers[1]});
    xr.push_back({w.revenue[0], w.revenue[1]});
    yb.push_back(y.buyers);
    yr.push_back(y.revenue);
  }
  OfferTotalsModel model;
  if (offers.empty()) {
    return model;
  }
  const auto b = NonNegativeFit(xb, yb);
  const auto r = NonNegativeFit(xr, yr);
  for (int k = 0; k < kOfferWindows; ++k) {
    model.buyer_weights[k] = b[static_cast<size_t>(k)];
    model.revenue_weights[k] = r[static_cast<size_t>(k)];
  }
  model.fitted_offers = static_cast<int>(offers.size());
  return model;
}

double ShiftProbability(double p, double shift) {
  if (p <= 0 || p >= 1) {
    return p;
  }
  return Sigmoid(Logit(p) + shift);
}

double LogitShiftToTotal(std::span<const double> p, double total) {
  std::vector<double> logits(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    logits[i] = p[i] <= 0   ? -std::numeric_limits<double>::infinity()
                : p[i] >= 1 ? std::numeric_limits<double>::infinity()
                            : Logit(p[i]);
  }
  return LogitShiftOfLogitsToTotal(logits, total, 1);
}

namespace {

// The shift that brings Σ sigmoid(logit + d) to `total`, solved on a histogram of the finite
// logits (bins of 1/16 over [-40, 40], each at its middle) instead of the values themselves.
// The histogram holds counts only, summed over the processes, so the guess is the same
// whatever the processes and threads.
double ApproximateShift(std::span<const double> logits, double total, const Collective* collective) {
  constexpr double kLow = -40, kHigh = 40, kWidth = 1.0 / 16;
  constexpr size_t kBins = static_cast<size_t>((kHigh - kLow) / kWidth);
  std::vector<double> count(kBins + 1, 0.0);  // the last: +inf logits, probability 1 whatever the shift
  for (double x : logits) {
    if (std::isinf(x)) {
      count[kBins] += x > 0 ? 1 : 0;
      continue;
    }
    const auto b = static_cast<size_t>(std::clamp((x - kLow) / kWidth, 0.0, static_cast<double>(kBins - 1)));
    count[b] += 1;
  }
  Sum(collective, count);
  const double always = count[kBins];
  std::vector<double> center, weight;
  for (size_t b = 0; b < kBins; ++b) {
    if (count[b] > 0) {
      center.push_back(kLow + (static_cast<double>(b) + 0.5) * kWidth);
      weight.push_back(count[b]);
    }
  }
  auto total_at = [&](double d) {
    double t = always;
    for (size_t k = 0; k < center.size(); ++k) {
      t += weight[k] / (1.0 + std::exp(-(center[k] + d)));
    }
    return t;
  };
  double lo = -100, hi = 100;
  for (int it = 0; it < 48 && hi - lo > 1e-9; ++it) {  // bisection: 200 / 2^48 is below 1e-9
    const double mid = (lo + hi) / 2;
    (total_at(mid) < total ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

}  // namespace

double LogitShiftOfLogitsToTotal(std::span<const double> logits, double total, int threads,
                                 std::span<double> probabilities, const Collective* collective) {
  const size_t blocks = (logits.size() + kShiftBlock - 1) / kShiftBlock;
  std::vector<double> block_sum(blocks), block_slope(blocks);
  const bool keep = !probabilities.empty();
  double kept_at = std::numeric_limits<double>::quiet_NaN();  // the shift `probabilities` holds
  auto sum = [&](double d, double* slope) {
    kept_at = d;
    ParallelFor(blocks, threads, [&](size_t, size_t b, size_t e) {
      for (size_t k = b; k < e; ++k) {
        double s = 0, ds = 0;
        for (size_t i = k * kShiftBlock; i < std::min(logits.size(), (k + 1) * kShiftBlock); ++i) {
          const double q = Sigmoid(logits[i] + d);
          if (keep) {
            probabilities[i] = q;
          }
          s += q;
          ds += std::isfinite(logits[i]) ? q * (1 - q) : 0;
        }
        block_sum[k] = s;
        block_slope[k] = ds;
      }
    }, /*min_chunk=*/1);
    std::vector<double> sums(2 * blocks);
    for (size_t k = 0; k < blocks; ++k) {
      sums[2 * k] = block_sum[k];
      sums[2 * k + 1] = block_slope[k];
    }
    sums = SumInBlockOrder(collective, sums, 2);
    *slope = sums[1];
    return sums[0];
  };
  // A first guess from a histogram of the logits (no exp per customer), so that the exact
  // Newton steps below start close to the root and need two or three passes, not six or more.
  const double d0 = ApproximateShift(logits, total, collective);
  // Newton steps from the guess, inside a bracket that each evaluated sum narrows (bisection
  // when a step would leave it): the sum only grows with the shift.
  double lo = -128, hi = 128, slope = 0;
  double d = std::clamp(d0, lo, hi);
  for (int it = 0; it < kMaxShiftIterations; ++it) {
    const double s = sum(d, &slope);
    if (std::abs(s - total) <= kShiftTolerance * std::max(1.0, total)) {
      break;
    }
    (s < total ? lo : hi) = d;
    const double next = slope > 0 ? d + (total - s) / slope : (lo + hi) / 2;
    d = next > lo && next < hi ? next : (lo + hi) / 2;
  }
  if (keep && !(kept_at == d)) {  // the iterations ran out after a step: one more pass
    ParallelFor(logits.size(), threads, [&](size_t, size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        probabilities[i] = Sigmoid(logits[i] + d);
      }
    });
  }
  return d;
}

}  // namespace cf::model
