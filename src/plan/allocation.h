// The allocation problem of a campaign plan, as the solvers see it: which customer receives
// which campaign, so that the plan's total value (expected revenue or expected buyers) is as
// large as possible without breaking a marketing-pressure rule or a campaign's volume.
//
// It knows nothing of offers, models or files: the planner (plan/planner.h) turns a plan file
// and the model's scores into an AllocationProblem, a solver answers with an Allocation, and
// CountViolations checks any answer independently of the solver that produced it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/collective.h"
#include "base/status.h"

namespace cf::plan {

enum class Channel : uint8_t { kEmail, kPush, kSms };
inline constexpr int kChannelCount = 3;
std::string_view ChannelName(Channel c);                  // "email", "push", "sms"
std::optional<Channel> ParseChannel(std::string_view s);  // nullopt if not one of them

// Tiers, solved lexicographically: high first, then medium keeping high's value, then low.
enum class Priority : uint8_t { kHigh = 0, kMedium = 1, kLow = 2 };
inline constexpr int kPriorityCount = 3;
std::string_view PriorityName(Priority p);                  // "high", "medium", "low"
std::optional<Priority> ParsePriority(std::string_view s);  // nullopt if not one of them

// One marketing-pressure rule over the messages one customer receives during the plan.
// `channel` nullopt means "any channel". A rule sets a cap, a gap, or both.
struct PressureRule {
  std::optional<Channel> channel;  // the messages the rule counts; nullopt = all channels
  int max_messages = 0;            // 0 = no cap; else >= 1: at most this many in every window
  int window_days = 0;             // >= 1 when max_messages > 0: a window is days [d, d + window_days - 1]
  int min_gap_days = 0;            // 0 = no gap; else two counted messages are >= this many days apart
                                   // (1 = never two on the same day)
  Status Validate() const;
};

// One campaign as the allocator sees it.
struct CampaignSlot {
  std::string name;
  Channel channel = Channel::kEmail;
  int send_day = 0;           // days after the plan's start, 0 .. days - 1
  uint64_t max_audience = 0;  // the campaign's volume: at most this many customers receive it
  Priority priority = Priority::kMedium;
};

// A customer who may receive a campaign, and what that is worth to the objective.
struct Candidate {
  uint32_t customer = 0;  // < AllocationProblem::num_customers
  float value = 0;        // >= 0: expected revenue or probability of buying, per the objective
};

struct AllocationProblem {
  uint32_t num_customers = 0;
  int days = 0;  // the plan's length, >= 1
  std::vector<CampaignSlot> campaigns;
  // candidates[k]: who may receive campaign k (eligible: audience, opt-in, volume kind), each
  // customer at most once per campaign, in any order.
  std::vector<std::vector<Candidate>> candidates;
  std::vector<PressureRule> rules;

  // InvalidArgument naming the first campaign, candidate or rule that is out of range.
  Status Validate() const;
};

// Who receives what. selected[k] lists the customers given campaign k (each a candidate of k).
struct Allocation {
  std::vector<std::vector<uint32_t>> selected;
  std::string solver;  // the solver that produced it: "exact" or "fast"
  double value = 0;    // sum of the selected candidates' values
  // A proven bound on the best value (== value when exact): the sum of tier_upper_bound, so with
  // one tier a bound on the optimum, and with several each tier's given the tiers above as
  // allocated here (docs/planning.md, "Tiers, the bound and the gap").
  double upper_bound = 0;
  double tier_value[kPriorityCount] = {0, 0, 0};  // value per priority tier
  // A proven bound per tier on the best value that tier can reach given the messages the
  // earlier tiers of this allocation hold (== tier_value when exact).
  double tier_upper_bound[kPriorityCount] = {0, 0, 0};
  double seconds = 0;

  // (upper_bound - value) / upper_bound, 0 when the bound is 0.
  double gap() const;
};

struct SolveOptions {
  int threads = 0;  // 0 .. 256: 0 = hardware concurrency
  // 0 .. 1e9: "auto" uses the exact solver when there are at most this many candidates in all.
  uint64_t exact_max_candidates = 20000;
  // (0, 86400]: the exact solver gives up (ResourceExhausted) when one tier's program takes
  // longer; "auto" then answers with the fast solver.
  double exact_time_limit_seconds = 60;
  // The processes of a sharded plan (`mpirun`), or null for one process. Sharded, each
  // process's problem holds the candidates of its own customers (a contiguous range, in
  // process order), and each gets the same allocation's part for them: selected, with the
  // values and bounds of the whole plan.
  const Collective* collective = nullptr;
  Status Validate() const;
};

class Solver {
 public:
  virtual ~Solver() = default;
  virtual std::string_view name() const = 0;
  virtual Result<Allocation> Solve(const AllocationProblem& problem, const SolveOptions& options) const = 0;
};

// "exact", "fast" or "auto" (exact when small enough, else fast); InvalidArgument otherwise,
// naming the valid names.
Result<std::unique_ptr<Solver>> MakeSolver(std::string_view name);

// Every broken rule in an allocation, counted independently of any solver: a customer given
// a campaign it is not a candidate of, or twice; a campaign over its volume; each window of a
// rule holding more than max_messages for a customer (counted once per customer, rule and
// first offending window start); each pair of a customer's messages closer than a rule's gap.
// Sharded (each process holding its own customers' part of the problem and the allocation),
// the count of every process's, on every process.
uint64_t CountViolations(const AllocationProblem& problem, const Allocation& allocation,
                         const Collective* shards = nullptr);

}  // namespace cf::plan
