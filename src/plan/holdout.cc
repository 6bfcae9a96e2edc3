#include "plan/holdout.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string_view>

#include "base/hash.h"

namespace cf::plan {
namespace {

constexpr int kDeciles = 10;


}  // namespace

Result<std::vector<CampaignHoldout>> AssignHoldouts(const AllocationProblem& problem, const Allocation& allocation,
                                                    std::span<const double> shares, uint64_t seed) {
  const size_t num_campaigns = problem.campaigns.size();
  if (shares.size() != num_campaigns) {
    return Err(Status::InvalidArgument(
        fmt::format("{} holdout shares for {} campaigns: one share per campaign", shares.size(), num_campaigns)));
  }
  if (allocation.selected.size() != num_campaigns) {
    return Err(Status::InvalidArgument(
        fmt::format("the allocation has {} campaigns, the problem {}", allocation.selected.size(), num_campaigns)));
  }
  std::vector<float> value(problem.num_customers, 0);
  std::vector<uint8_t> eligible(problem.num_customers, 0);
  std::vector<CampaignHoldout> out(num_campaigns);
  for (size_t k = 0; k < num_campaigns; ++k) {
    const std::string& name = problem.campaigns[k].name;
    const double share = shares[k];
    if (!(share >= 0 && share <= 1)) {
      return Err(
          Status::InvalidArgument(fmt::format("campaign \"{}\": holdout share {} is outside 0 .. 1", name, share)));
    }
    for (const Candidate& c : problem.candidates[k]) {
      value[c.customer] = c.value;
      eligible[c.customer] = 1;
    }
    const std::vector<uint32_t>& selected = allocation.selected[k];
    for (uint32_t customer : selected) {
      if (customer >= problem.num_customers || !eligible[customer]) {
        return Err(Status::InvalidArgument(
            fmt::format("campaign \"{}\": selected customer {} is not one of its candidates", name, customer)));
      }
    }
    const size_t n = selected.size();
    // Positions into selected, best value first, ties by customer number.
    std::vector<size_t> rank(n);
    std::iota(rank.begin(), rank.end(), size_t{0});
    std::sort(rank.begin(), rank.end(), [&](size_t a, size_t b) {
      const float va = value[selected[a]], vb = value[selected[b]];
      return va != vb ? va > vb : selected[a] < selected[b];
    });
    CampaignHoldout& h = out[k];
    h.decile.assign(n, 0);
    h.holdout.assign(n, 0);
    std::vector<size_t> members;
    int64_t withheld_before = 0;
    for (int d = 0; d < kDeciles; ++d) {
      const size_t begin = n * d / kDeciles, end = n * (d + 1) / kDeciles;
      const int64_t withheld_through = std::llround(share * static_cast<double>(end));
      const size_t take = std::min(static_cast<size_t>(withheld_through - withheld_before), end - begin);
      withheld_before = withheld_through;
      members.assign(rank.begin() + static_cast<ptrdiff_t>(begin), rank.begin() + static_cast<ptrdiff_t>(end));
      for (size_t pos : members) h.decile[pos] = static_cast<uint8_t>(d + 1);
      // By customer number, so the draw does not depend on the order of selected.
      std::sort(members.begin(), members.end(), [&](size_t a, size_t b) { return selected[a] < selected[b]; });
      uint64_t state = Mix(seed) ^ HashString(name) ^ Mix(static_cast<uint64_t>(d));
      for (size_t i = 0; i < take; ++i) {  // a partial Fisher-Yates shuffle
        const size_t j =
            i + static_cast<size_t>(UnitInterval(SplitMix64(state)) * static_cast<double>(members.size() - i));
        std::swap(members[i], members[j]);
        h.holdout[members[i]] = 1;
      }
      h.held_out += take;
    }
    for (const Candidate& c : problem.candidates[k]) eligible[c.customer] = 0;
  }
  return out;
}

}  // namespace cf::plan
