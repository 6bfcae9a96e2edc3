// The allocation solvers on a generated plan: `plan_bench CUSTOMERS CAMPAIGNS SOLVER [THREADS] [SEED]`
// with SOLVER exact, fast or both. Each campaign reaches a random 80% of the customers with
// lognormal values (a median per campaign between 1 and 3), a volume between 10% and 40% of the
// customers, on email or push over 7 days; a fifth of the campaigns are high priority, a
// third low; the rules are the issue's: at most 2 emails in any 7 days, 1 day between two
// messages of any channel. Prints one line per solver: wall and CPU seconds (all threads), value,
// bound, gap, violations.
#include <fmt/format.h>

#include <cstdlib>
#include <ctime>
#include <random>
#include <string>

#include "plan/allocation.h"

namespace {

cf::plan::AllocationProblem Generate(uint32_t customers, int campaigns, uint64_t seed) {
  using cf::plan::Candidate;
  std::mt19937_64 rng(seed);
  cf::plan::AllocationProblem p;
  p.num_customers = customers;
  p.days = 7;
  for (int k = 0; k < campaigns; ++k) {
    cf::plan::CampaignSlot c;
    c.name = fmt::format("campaign {}", k + 1);
    c.channel = k % 3 == 2 ? cf::plan::Channel::kPush : cf::plan::Channel::kEmail;
    c.send_day = k % p.days;
    c.max_audience = customers / 10 + rng() % (customers * 3 / 10 + 1);
    c.priority =
        k % 5 == 0 ? cf::plan::Priority::kHigh : (k % 3 == 1 ? cf::plan::Priority::kLow : cf::plan::Priority::kMedium);
    p.campaigns.push_back(c);
    std::lognormal_distribution<float> value(std::uniform_real_distribution<float>(0.0f, 1.1f)(rng), 1.0f);
    std::vector<Candidate> list;
    list.reserve(customers);
    for (uint32_t i = 0; i < customers; ++i) {
      if (rng() % 5 != 0) list.push_back({i, value(rng)});
    }
    p.candidates.push_back(std::move(list));
  }
  p.rules = {{cf::plan::Channel::kEmail, 2, 7, 0}, {std::nullopt, 0, 0, 1}};
  return p;
}

void Run(std::string_view name, const cf::plan::AllocationProblem& problem, int threads) {
  auto solver = cf::plan::MakeSolver(name);
  cf::plan::SolveOptions options;
  options.threads = threads;
  const std::clock_t cpu_start = std::clock();
  auto a = (*solver)->Solve(problem, options);
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  if (!a.has_value()) {
    fmt::print("{}: {}\n", name, a.error().ToString());
    return;
  }
  fmt::print(
      "{:5}  {:7.2f} s wall  {:7.2f} s cpu  value {:.1f}  bound {:.1f}  gap {:.4f}%  violations {}  tiers {:.1f} / "
      "{:.1f} / {:.1f}\n",
      name, a->seconds, cpu, a->value, a->upper_bound, 100 * a->gap(), cf::plan::CountViolations(problem, *a),
      a->tier_value[0], a->tier_value[1], a->tier_value[2]);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    fmt::print(stderr, "usage: plan_bench CUSTOMERS CAMPAIGNS exact|fast|both [THREADS] [SEED]\n");
    return 2;
  }
  const uint32_t customers = static_cast<uint32_t>(std::strtoul(argv[1], nullptr, 10));
  const int campaigns = std::atoi(argv[2]);
  const std::string which = argv[3];
  const int threads = argc > 4 ? std::atoi(argv[4]) : 0;
  const uint64_t seed = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 1;
  const cf::plan::AllocationProblem problem = Generate(customers, campaigns, seed);
  if (which == "exact" || which == "both") Run("exact", problem, threads);
  if (which == "fast" || which == "both") Run("fast", problem, threads);
  return 0;
}
