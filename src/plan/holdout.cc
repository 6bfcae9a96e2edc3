#include "plan/holdout.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string_view>
#include <unordered_map>

#include "base/hash.h"
#include "plan/shard.h"

namespace cf::plan {
namespace {

constexpr int kDeciles = 10;

// The positions 0 .. size - 1 that the first `take` steps of a Fisher-Yates shuffle of
// `size` positions move to the front, with the draws of `state`. Only the positions a step
// touched are stored, so a process can draw for a list it holds only a part of.
std::vector<uint64_t> DrawPositions(uint64_t size, uint64_t take, uint64_t state) {
  std::unordered_map<uint64_t, uint64_t> moved;  // position -> what it holds, where not itself
  auto at = [&](uint64_t p) {
    const auto it = moved.find(p);
    return it == moved.end() ? p : it->second;
  };
  std::vector<uint64_t> out;
  out.reserve(take);
  for (uint64_t i = 0; i < take; ++i) {
    const uint64_t j = i + static_cast<uint64_t>(UnitInterval(SplitMix64(state)) * static_cast<double>(size - i));
    const uint64_t held_i = at(i), held_j = at(j);
    moved[i] = held_j;
    moved[j] = held_i;
    out.push_back(held_j);
  }
  return out;
}

}  // namespace

Result<std::vector<CampaignHoldout>> AssignHoldouts(const AllocationProblem& problem, const Allocation& allocation,
                                                    std::span<const double> shares, uint64_t seed,
                                                    const Collective* shards) {
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
    // Deciles by rank (best value first, ties by customer number) over every process: the
    // keys at the deciles' first positions, then each customer's decile from its key.
    std::vector<uint64_t> keys(selected.size());
    for (size_t i = 0; i < selected.size(); ++i) keys[i] = internal::RankKey(value[selected[i]], selected[i]);
    const uint64_t n = internal::SumCount(shards, selected.size());
    std::vector<uint64_t> first_position(kDeciles - 1);
    for (int d = 1; d < kDeciles; ++d) first_position[d - 1] = n * d / kDeciles + 1;
    const std::vector<std::span<const uint64_t>> lists(kDeciles - 1, std::span<const uint64_t>(keys));
    const std::vector<uint64_t> starts = internal::KthSmallest(shards, lists, first_position);
    CampaignHoldout& h = out[k];
    h.decile.assign(selected.size(), 1);
    h.holdout.assign(selected.size(), 0);
    // Members of each decile by customer number, so the draw does not depend on the order of selected.
    std::vector<std::vector<size_t>> members(kDeciles);
    std::vector<size_t> by_customer(selected.size());
    std::iota(by_customer.begin(), by_customer.end(), size_t{0});
    std::sort(by_customer.begin(), by_customer.end(), [&](size_t a, size_t b) { return selected[a] < selected[b]; });
    for (size_t i : by_customer) {
      for (uint64_t start : starts) h.decile[i] += keys[i] >= start ? 1 : 0;
      members[h.decile[i] - 1].push_back(i);
    }
    // Where this process's members sit in each decile's list over every process.
    std::vector<double> counts(kDeciles);
    for (int d = 0; d < kDeciles; ++d) counts[d] = static_cast<double>(members[d].size());
    const std::vector<double> all = AllGather(shards, std::span<const double>(counts));
    const int rank = Sharded(shards) ? shards->rank() : 0;
    int64_t withheld_before = 0;
    for (int d = 0; d < kDeciles; ++d) {
      const uint64_t begin = n * d / kDeciles, end = n * (d + 1) / kDeciles;
      const int64_t withheld_through = std::llround(share * static_cast<double>(end));
      const uint64_t take = std::min(static_cast<uint64_t>(withheld_through - withheld_before), end - begin);
      withheld_before = withheld_through;
      uint64_t offset = 0;
      for (int r = 0; r < rank; ++r) offset += static_cast<uint64_t>(all[static_cast<size_t>(r) * kDeciles + d]);
      const uint64_t state = Mix(seed) ^ HashString(name) ^ Mix(static_cast<uint64_t>(d));
      for (uint64_t p : DrawPositions(end - begin, take, state)) {
        if (p >= offset && p < offset + members[d].size()) h.holdout[members[d][p - offset]] = 1;
      }
      h.held_out += take;
    }
    for (const Candidate& c : problem.candidates[k]) eligible[c.customer] = 0;
  }
  return out;
}

}  // namespace cf::plan
