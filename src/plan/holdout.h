// Holdouts: after the allocation, a seeded random share of each campaign's audience is
// withheld, stratified by score decile, so that treated and held-out customers have the same
// mix of scores and differ only in the message. A held-out customer keeps its slot: it receives
// nothing from that campaign and the solver's pressure accounting is unchanged, so no other
// campaign reaches it in the slot's place.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "plan/allocation.h"

namespace cf::plan {

struct HoldoutOptions {
  uint64_t seed = 1;           // any value: the draw
  std::vector<double> shares;  // one per campaign, each 0 <= share < 1
  // InvalidArgument naming the first share out of range, or a count unlike the campaigns'.
  Status Validate(size_t campaigns) const;
};

// Per campaign, parallel to Allocation::selected[k].
struct HoldoutDraw {
  std::vector<uint8_t> decile;   // 1 = the best tenth of the campaign's audience by value .. 10
  std::vector<uint8_t> holdout;  // 1 = withheld
};

// Deciles by the candidates' values within each campaign's selected audience (ties by customer
// number); in each decile round(share × its size) customers are withheld, chosen by a hash of
// (seed, campaign name, customer): the same plan and seed give the same holdouts, and a
// campaign's draw does not depend on the other campaigns or their order.
Result<std::vector<HoldoutDraw>> DrawHoldouts(const AllocationProblem& problem, const Allocation& allocation,
                                              const HoldoutOptions& options);

}  // namespace cf::plan
