// Holdouts: after the allocation, a seeded random share of each campaign's selected audience is
// withheld, stratified by score decile, so that treated and held-out customers differ only in
// the message. A held-out customer keeps its slot: it is not given to anyone else, and its
// other campaigns are unchanged (docs/planning.md).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/collective.h"
#include "base/status.h"
#include "plan/allocation.h"

namespace cf::plan {

// One campaign's holdout, parallel to Allocation::selected[k].
struct CampaignHoldout {
  // 1 .. 10: the customer's tenth of the campaign's selected audience by value (1 = the best
  // tenth; ties by customer number).
  std::vector<uint8_t> decile;
  std::vector<uint8_t> holdout;  // 1 = withheld: receives nothing from this campaign
  uint64_t held_out = 0;         // how many 1s in holdout (sharded: over every process)
};

// shares[k] in [0, 1] is campaign k's holdout share. In each decile of size n_d the number
// withheld is round(share * N_d) - round(share * N_{d-1}) with N_d the sizes of deciles 1 .. d
// summed: within 1 of share * n_d, and round(share * audience) in all. Which customers is a
// function of the seed, the campaign's name and its selected set only (not their order).
// InvalidArgument naming the campaign for a share out of range, or if the allocation does
// not match the problem. Sharded (each process holding its own customers' part of the problem
// and the allocation, as SolveOptions::collective describes), the deciles and the draw span
// every process's customers, and each process gets its own customers' part: the same as one
// process would give them.
Result<std::vector<CampaignHoldout>> AssignHoldouts(const AllocationProblem& problem, const Allocation& allocation,
                                                    std::span<const double> shares, uint64_t seed,
                                                    const Collective* shards = nullptr);

}  // namespace cf::plan
