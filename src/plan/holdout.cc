#include "plan/holdout.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/hash.h"

namespace cf::plan {

Status HoldoutOptions::Validate(size_t campaigns) const {
  if (shares.size() != campaigns) {
    return Status::InvalidArgument(fmt::format("{} holdout shares for {} campaigns", shares.size(), campaigns));
  }
  for (size_t k = 0; k < shares.size(); ++k) {
    if (!(shares[k] >= 0 && shares[k] < 1)) {
      return Status::InvalidArgument(fmt::format("holdout share {} of campaign {} is outside [0, 1)", shares[k], k + 1));
    }
  }
  return Status::OK();
}

Result<std::vector<HoldoutDraw>> DrawHoldouts(const AllocationProblem& problem, const Allocation& allocation,
                                              const HoldoutOptions& options) {
  CF_RETURN_IF_ERROR(options.Validate(problem.campaigns.size()));
  if (allocation.selected.size() != problem.campaigns.size()) {
    return Err(Status::InvalidArgument(fmt::format("an allocation of {} campaigns for a problem of {}",
                                               allocation.selected.size(), problem.campaigns.size())));
  }
  std::vector<float> value(problem.num_customers, 0);
  std::vector<HoldoutDraw> draws(problem.campaigns.size());
  for (size_t k = 0; k < problem.campaigns.size(); ++k) {
    for (const Candidate& c : problem.candidates[k]) value[c.customer] = c.value;
    const std::vector<uint32_t>& selected = allocation.selected[k];
    const size_t n = selected.size();
    // Positions in `selected`, best value first.
    std::vector<uint32_t> rank(n);
    std::iota(rank.begin(), rank.end(), 0u);
    std::sort(rank.begin(), rank.end(), [&](uint32_t a, uint32_t b) {
      const float va = value[selected[a]], vb = value[selected[b]];
      return va != vb ? va > vb : selected[a] < selected[b];
    });
    HoldoutDraw& draw = draws[k];
    draw.decile.assign(n, 0);
    draw.holdout.assign(n, 0);
    const uint64_t campaign_seed = HashString(problem.campaigns[k].name, options.seed);
    std::vector<std::pair<uint64_t, uint32_t>> stratum;
    for (int d = 0; d < 10; ++d) {
      const size_t begin = n * static_cast<size_t>(d) / 10, end = n * static_cast<size_t>(d + 1) / 10;
      stratum.clear();
      for (size_t i = begin; i < end; ++i) {
        draw.decile[rank[i]] = static_cast<uint8_t>(d + 1);
        stratum.emplace_back(Mix(campaign_seed ^ Scramble(selected[rank[i]])), rank[i]);
      }
      // Cumulative rounding keeps the campaign's total at round(share × n) as well.
      const size_t quota = static_cast<size_t>(std::llround(options.shares[k] * static_cast<double>(end))) -
                           static_cast<size_t>(std::llround(options.shares[k] * static_cast<double>(begin)));
      std::sort(stratum.begin(), stratum.end());
      for (size_t i = 0; i < quota && i < stratum.size(); ++i) draw.holdout[stratum[i].second] = 1;
    }
    for (const Candidate& c : problem.candidates[k]) value[c.customer] = 0;
  }
  return draws;
}

}  // namespace cf::plan
