// Internal to src/model (see docs/architecture.md, "Public and internal headers").
// Offer-level totals that stay coherent: the expected number of buyers and the expected revenue
// of an offer never grow when products are removed from it.
//
// Trees score each offer on its own, so nothing ties the sum of their probabilities over a
// subset of an offer to the sum over the offer (a department without its bananas could get
// more expected revenue than the department). Here each total is a non-negative combination of
// set functions that cannot grow on a subset (buyers and revenue of the offer in the last two
// horizons), fitted on the validation cutoff; the trees' probabilities are then shifted by one
// constant in logit space so that they sum to it. The shift keeps every ranking (and so every
// Lift Quality) and calibrates every offer kind, not only the kinds trained on.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/collective.h"
#include "model/event_log.h"
#include "offer/product_set.h"

namespace cf::model {

inline constexpr int kOfferWindows = 2;  // [cutoff − H, cutoff) and [cutoff − 2H, cutoff − H)

// What the population (customers with history before the view's cutoff) did with an offer in
// the last horizons. Both are monotone: a subset of the offer has at most as many buyers and
// as much revenue (negative revenue lines, returns, count as zero).
struct OfferWindows {
  double buyers[kOfferWindows] = {0, 0};
  double revenue[kOfferWindows] = {0, 0};
};

OfferWindows MeasureOfferWindows(const HistoryView& view, const offer::ProductSet& offer, int horizon_days,
                                 int threads);

struct OfferTotalsModel {
  // Non-negative weights of the windows (persistence: the last window, unchanged).
  double buyer_weights[kOfferWindows] = {1, 0};
  double revenue_weights[kOfferWindows] = {1, 0};
  int fitted_offers = 0;  // offers the weights were fitted on (0: the persistence default)

  double ExpectedBuyers(const OfferWindows& w) const;
  double ExpectedRevenue(const OfferWindows& w) const;

  // Fits the weights on what the population at `validation_cutoff` did in
  // [validation_cutoff, history.cutoff()) against the windows before it, over `offers`.
  static OfferTotalsModel Fit(const HistoryView& history, int64_t validation_cutoff,
                              const std::vector<offer::ProductSet>& offers, int horizon_days, int threads);
};

// The constant δ such that Σ σ(logit(p_i) + δ) = total, for 0 < total < p.size(); probabilities
// of 0 or 1 stay put. Σ is increasing in δ, so the solution is unique (Newton with bisection).
double LogitShiftToTotal(std::span<const double> p, double total);
// The same for the probabilities σ(logits[i]) (±infinity for 0 and 1), as scoring has them from
// Platt scaling: no logarithm per step, and the sums run on `threads` over fixed blocks, so the
// shift is the same whatever the threads.
// When `probabilities` is not empty (it must have one slot per logit, and may not be
// `logits`), it receives σ(logits[i] + shift) of the returned shift: the last sum's own values.
// With a sharded `collective`, `logits` are this process's part of them, starting at a
// multiple of kShiftBlock, and the shift is that of all the processes' logits together.
inline constexpr size_t kShiftBlock = 16384;  // logits per partial sum: the summation order
double LogitShiftOfLogitsToTotal(std::span<const double> logits, double total, int threads,
                                 std::span<double> probabilities = {}, const Collective* collective = nullptr);
// σ(logit(p) + shift), exact at p = 0 and p = 1.
double ShiftProbability(double p, double shift);

}  // namespace cf::model
