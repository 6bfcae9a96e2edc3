// MakeSolver, the "auto" choice, and what the two solvers share (solver_internal.h).
#include <fmt/format.h>

#include <chrono>
#include <limits>

#include "plan/allocation.h"
#include "base/exact_sum.h"
#include "plan/shard.h"
#include "plan/solver_internal.h"

namespace cf::plan {
namespace internal {

std::vector<WindowRule> ToWindowRules(const std::vector<PressureRule>& rules) {
  std::vector<WindowRule> out;
  for (const PressureRule& rule : rules) {
    const uint8_t mask = rule.channel.has_value() ? static_cast<uint8_t>(1u << static_cast<int>(*rule.channel))
                                                  : static_cast<uint8_t>((1u << kChannelCount) - 1);
    if (rule.max_messages > 0) out.push_back({mask, rule.max_messages, rule.window_days});
    if (rule.min_gap_days > 0) out.push_back({mask, 1, rule.min_gap_days});
  }
  return out;
}

SubsetSolver::SubsetSolver(const std::vector<WindowRule>& rules, int days)
    : rules_(rules), days_(days), counts_(rules.size() * static_cast<size_t>(days), 0) {}

bool SubsetSolver::FitsCounts(const Message& m) const {
  for (size_t r = 0; r < rules_.size(); ++r) {
    const WindowRule& rule = rules_[r];
    if (!rule.Counts(m.channel)) continue;
    const int* counts = counts_.data() + r * static_cast<size_t>(days_);
    // Every window holding m.day starts in [day - window + 1, day]; one starting before day 0
    // holds no more than the one starting at day 0.
    const int first = std::max(0, m.day - rule.window + 1);
    int sum = 0;
    for (int d = first; d < std::min(days_, first + rule.window); ++d) sum += counts[d];
    if (sum + 1 > rule.cap) return false;
    for (int s = first + 1; s <= m.day; ++s) {
      sum -= counts[s - 1];
      if (s + rule.window - 1 < days_) sum += counts[s + rule.window - 1];
      if (sum + 1 > rule.cap) return false;
    }
  }
  return true;
}

void SubsetSolver::Add(const Message& m, int delta) {
  for (size_t r = 0; r < rules_.size(); ++r) {
    if (rules_[r].Counts(m.channel)) counts_[r * static_cast<size_t>(days_) + m.day] += delta;
  }
}

bool SubsetSolver::Fits(const std::vector<Message>& current, const Message& m) {
  for (const Message& c : current) Add(c, 1);
  const bool fits = FitsCounts(m);
  for (const Message& c : current) Add(c, -1);
  return fits;
}

double SubsetSolver::Bound() {
  // Each rule alone bounds what fits: split the days into blocks of its window; a block takes
  // at most cap minus what it holds of the messages it counts, the best ones. The smallest of
  // these bounds (each relaxes every other rule) is valid.
  const std::vector<Item>& items = *items_;
  double bound = std::numeric_limits<double>::infinity();
  for (size_t r = 0; r < rules_.size(); ++r) {
    const WindowRule& rule = rules_[r];
    const int* counts = counts_.data() + r * static_cast<size_t>(days_);
    const int blocks = (days_ + rule.window - 1) / rule.window;
    room_.assign(blocks, rule.cap);
    for (int d = 0; d < days_; ++d) room_[d / rule.window] -= counts[d];
    double sum = 0;
    for (size_t j : fits_) {
      const Item& item = items[j];
      if (!rule.Counts(item.message.channel)) {
        sum += item.weight;
      } else if (room_[item.message.day / rule.window] > 0) {
        --room_[item.message.day / rule.window];
        sum += item.weight;
      }
    }
    bound = std::min(bound, sum);
  }
  if (rules_.empty()) {
    bound = 0;
    for (size_t j : fits_) bound += items[j].weight;
  }
  return bound;
}

void SubsetSolver::Search(size_t depth, double value) {
  if (value > best_) {
    best_ = value;
    best_choice_ = current_;
  }
  const std::vector<Item>& items = *items_;
  if (value + suffix_[depth] <= best_) return;
  fits_.clear();
  for (size_t j = depth; j < order_.size(); ++j) {
    if (FitsCounts(items[order_[j]].message)) fits_.push_back(order_[j]);
  }
  if (value + Bound() <= best_) return;
  // Skip the items that do not fit: they never will below this node.
  while (depth < order_.size() && !FitsCounts(items[order_[depth]].message)) ++depth;
  if (depth == order_.size()) return;
  const Item& item = items[order_[depth]];
  Add(item.message, 1);
  current_[order_[depth]] = 1;
  Search(depth + 1, value + item.weight);
  Add(item.message, -1);
  current_[order_[depth]] = 0;
  Search(depth + 1, value);
}

double SubsetSolver::Solve(const std::vector<Message>& fixed, const std::vector<Item>& items,
                           std::vector<uint8_t>& chosen) {
  chosen.assign(items.size(), 0);
  order_.clear();
  for (size_t j = 0; j < items.size(); ++j) {
    if (items[j].weight > 0) order_.push_back(j);
  }
  if (order_.empty()) return 0;
  std::sort(order_.begin(), order_.end(), [&](size_t a, size_t b) {
    return items[a].weight != items[b].weight ? items[a].weight > items[b].weight : a < b;
  });
  for (const Message& m : fixed) Add(m, 1);
  // The common case once prices are near balance: every item worth taking fits with the others.
  double all = 0;
  size_t added = 0;
  while (added < order_.size() && FitsCounts(items[order_[added]].message)) {
    Add(items[order_[added]].message, 1);
    all += items[order_[added]].weight;
    ++added;
  }
  for (size_t j = 0; j < added; ++j) Add(items[order_[j]].message, -1);
  if (added == order_.size()) {
    for (const Message& m : fixed) Add(m, -1);
    for (size_t j : order_) chosen[j] = 1;
    return all;
  }
  suffix_.assign(order_.size() + 1, 0);
  for (size_t j = order_.size(); j-- > 0;) suffix_[j] = suffix_[j + 1] + items[order_[j]].weight;
  items_ = &items;
  current_.assign(items.size(), 0);
  best_choice_.assign(items.size(), 0);
  best_ = 0;
  Search(0, 0);
  for (const Message& m : fixed) Add(m, -1);
  chosen = best_choice_;
  return best_;
}

void ScoreAllocation(const AllocationProblem& problem, Allocation& allocation, const Collective* shards) {
  std::vector<float> value(problem.num_customers, 0);
  std::vector<ExactSum> sums(kPriorityCount + 1);  // per tier, then in all
  for (size_t k = 0; k < problem.campaigns.size() && k < allocation.selected.size(); ++k) {
    for (const Candidate& c : problem.candidates[k]) value[c.customer] = c.value;
    for (uint32_t customer : allocation.selected[k]) {
      if (customer >= problem.num_customers) continue;
      sums[static_cast<int>(problem.campaigns[k].priority)].Add(value[customer]);
      sums[kPriorityCount].Add(value[customer]);
    }
    for (const Candidate& c : problem.candidates[k]) value[c.customer] = 0;
  }
  Sum(shards, std::span<ExactSum>(sums));
  for (int t = 0; t < kPriorityCount; ++t) allocation.tier_value[t] = sums[t].value();
  allocation.value = sums[kPriorityCount].value();
}

}  // namespace internal

namespace {

uint64_t TotalCandidates(const AllocationProblem& problem, const Collective* shards) {
  uint64_t n = 0;
  for (const std::vector<Candidate>& list : problem.candidates) n += list.size();
  return internal::SumCount(shards, n);
}

// Exact when the instance is small enough for the MIP, fast otherwise.
class AutoSolver final : public Solver {
 public:
  std::string_view name() const override { return "auto"; }
  Result<Allocation> Solve(const AllocationProblem& problem, const SolveOptions& options) const override {
    CF_RETURN_IF_ERROR(options.Validate());
    if (TotalCandidates(problem, options.collective) <= options.exact_max_candidates) {
      Result<Allocation> exact = exact_->Solve(problem, options);
      // Every process answers the same way: fast for all when the program ran out of time on any.
      const bool exhausted = !exact.has_value() && exact.error().code() == StatusCode::kResourceExhausted;
      if (internal::SumCount(options.collective, exhausted ? 1 : 0) == 0) return exact;
    }
    return fast_->Solve(problem, options);
  }

 private:
  std::unique_ptr<Solver> exact_ = internal::NewExactSolver();
  std::unique_ptr<Solver> fast_ = internal::NewFastSolver();
};

}  // namespace

Result<std::unique_ptr<Solver>> MakeSolver(std::string_view name) {
  if (name == "exact") return internal::NewExactSolver();
  if (name == "fast") return internal::NewFastSolver();
  if (name == "auto") return std::unique_ptr<Solver>(std::make_unique<AutoSolver>());
  return Err(Status::InvalidArgument(fmt::format("unknown solver \"{}\", valid: exact, fast, auto", name)));
}

}  // namespace cf::plan
