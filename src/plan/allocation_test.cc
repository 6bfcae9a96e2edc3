#include "plan/allocation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <random>

namespace cf::plan {
namespace {

constexpr double kEps = 1e-4;

Allocation SolveWith(std::string_view name, const AllocationProblem& problem, SolveOptions options = {}) {
  auto solver = MakeSolver(name);
  EXPECT_TRUE(solver.has_value());
  auto allocation = (*solver)->Solve(problem, options);
  EXPECT_TRUE(allocation.has_value()) << allocation.error().ToString();
  return allocation.has_value() ? *allocation : Allocation{};
}

// A small random instance: random channels, days, volumes, priorities, rules and values (some
// tied, some zero).
AllocationProblem RandomProblem(std::mt19937_64& rng, int max_customers, int max_campaigns, bool one_tier) {
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  AllocationProblem p;
  p.num_customers = uniform(1, max_customers);
  p.days = uniform(1, 7);
  const int campaigns = uniform(1, max_campaigns);
  for (int k = 0; k < campaigns; ++k) {
    CampaignSlot c;
    c.name = "c" + std::to_string(k);
    c.channel = static_cast<Channel>(uniform(0, 2));
    c.send_day = uniform(0, p.days - 1);
    c.max_audience = uniform(0, static_cast<int>(p.num_customers));
    c.priority = one_tier ? Priority::kMedium : static_cast<Priority>(uniform(0, 2));
    p.campaigns.push_back(c);
    std::vector<Candidate> list;
    for (uint32_t i = 0; i < p.num_customers; ++i) {
      if (uniform(0, 9) < 7) list.push_back({i, uniform(0, 5) == 0 ? 0.0f : static_cast<float>(uniform(1, 40)) / 4});
    }
    std::shuffle(list.begin(), list.end(), rng);
    p.candidates.push_back(list);
  }
  const int rules = uniform(0, 3);
  for (int r = 0; r < rules; ++r) {
    PressureRule rule;
    if (uniform(0, 2) > 0) rule.channel = static_cast<Channel>(uniform(0, 2));
    const int kind = uniform(0, 2);
    if (kind != 1) {
      rule.max_messages = uniform(1, 3);
      rule.window_days = uniform(1, 5);
    }
    if (kind != 0) rule.min_gap_days = uniform(1, 3);
    p.rules.push_back(rule);
  }
  return p;
}

// The lexicographic optimum by enumerating every subset of the candidates.
std::array<double, kPriorityCount> BruteForce(const AllocationProblem& p) {
  std::vector<std::pair<size_t, size_t>> all;
  for (size_t k = 0; k < p.candidates.size(); ++k) {
    for (size_t j = 0; j < p.candidates[k].size(); ++j) all.push_back({k, j});
  }
  EXPECT_LE(all.size(), 20u);
  std::array<double, kPriorityCount> best = {-1, -1, -1};
  Allocation a;
  for (uint64_t mask = 0; mask < (uint64_t{1} << all.size()); ++mask) {
    a.selected.assign(p.campaigns.size(), {});
    std::array<double, kPriorityCount> tiers = {0, 0, 0};
    for (size_t b = 0; b < all.size(); ++b) {
      if (!((mask >> b) & 1)) continue;
      const auto [k, j] = all[b];
      a.selected[k].push_back(p.candidates[k][j].customer);
      tiers[static_cast<int>(p.campaigns[k].priority)] += p.candidates[k][j].value;
    }
    if (CountViolations(p, a) != 0) continue;
    bool better = false;
    for (int t = 0; t < kPriorityCount; ++t) {
      if (tiers[t] > best[t] + 1e-9) {
        better = true;
        break;
      }
      if (tiers[t] < best[t] - 1e-9) break;
    }
    if (better) best = tiers;
  }
  return best;
}

size_t CandidateCount(const AllocationProblem& p) {
  size_t n = 0;
  for (const auto& list : p.candidates) n += list.size();
  return n;
}

TEST(AllocationTest, ExactMatchesBruteForceOnTinyInstances) {
  std::mt19937_64 rng(7);
  int checked = 0;
  while (checked < 300) {
    const AllocationProblem p = RandomProblem(rng, 4, 3, /*one_tier=*/false);
    if (CandidateCount(p) > 12) continue;
    ++checked;
    const Allocation exact = SolveWith("exact", p);
    ASSERT_EQ(CountViolations(p, exact), 0u) << "instance " << checked;
    const auto best = BruteForce(p);
    for (int t = 0; t < kPriorityCount; ++t) {
      EXPECT_NEAR(exact.tier_value[t], best[t], kEps) << "instance " << checked << " tier " << t;
    }
    EXPECT_DOUBLE_EQ(exact.upper_bound, exact.value);
  }
}

TEST(AllocationTest, NoSolverEverBreaksARule) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 400; ++i) {
    const AllocationProblem p = RandomProblem(rng, 30, 8, /*one_tier=*/false);
    ASSERT_TRUE(p.Validate().ok());
    for (std::string_view name : {"exact", "fast", "auto"}) {
      const Allocation a = SolveWith(name, p);
      ASSERT_EQ(CountViolations(p, a), 0u) << name << " on instance " << i;
      EXPECT_LE(a.value, a.upper_bound + kEps) << name << " on instance " << i;
      for (size_t k = 0; k < p.campaigns.size(); ++k) {
        for (uint32_t customer : a.selected[k]) {
          const auto it = std::find_if(p.candidates[k].begin(), p.candidates[k].end(),
                                       [&](const Candidate& c) { return c.customer == customer; });
          EXPECT_GT(it->value, 0.0f) << name << " gives a candidate worth nothing, instance " << i;
        }
      }
    }
  }
}

TEST(AllocationTest, FastIsWithinItsGapOfTheOptimum) {
  std::mt19937_64 rng(13);
  for (int i = 0; i < 200; ++i) {
    const bool one_tier = i % 2 == 0;
    const AllocationProblem p = RandomProblem(rng, 40, 6, one_tier);
    const Allocation exact = SolveWith("exact", p);
    const Allocation fast = SolveWith("fast", p);
    ASSERT_EQ(CountViolations(p, fast), 0u);
    // The first tier's bound holds against the optimum; a later tier's holds given the tiers
    // above as the fast solver allocated them, so the total's only with one tier.
    const int first = static_cast<int>(std::min_element(p.campaigns.begin(), p.campaigns.end(), [](auto& a, auto& b) {
                                         return a.priority < b.priority;
                                       })->priority);
    EXPECT_GE(fast.tier_upper_bound[first], exact.tier_value[first] - kEps) << "instance " << i;
    EXPECT_LE(fast.tier_value[first], exact.tier_value[first] + kEps) << "instance " << i;
    if (one_tier) {
      EXPECT_GE(fast.upper_bound, exact.value - kEps) << "instance " << i;
      EXPECT_GE(fast.value, exact.value * (1 - fast.gap()) - kEps) << "instance " << i;
      EXPECT_LE(fast.value, exact.value + kEps) << "instance " << i;
    }
  }
}

// Two campaigns on the same day for the same customers, one message a day: the high one keeps
// every customer it values at all, even where the medium one is worth far more.
TEST(AllocationTest, AHighCampaignNeverLosesValueToAMediumOne) {
  AllocationProblem p;
  p.num_customers = 100;
  p.days = 1;
  p.campaigns = {{"high", Channel::kEmail, 0, 100, Priority::kHigh},
                 {"medium", Channel::kPush, 0, 100, Priority::kMedium}};
  p.candidates.resize(2);
  for (uint32_t i = 0; i < p.num_customers; ++i) {
    p.candidates[0].push_back({i, 1.0f});
    p.candidates[1].push_back({i, 50.0f});
  }
  p.rules.push_back({std::nullopt, 0, 0, 1});
  for (std::string_view name : {"exact", "fast"}) {
    const Allocation a = SolveWith(name, p);
    EXPECT_EQ(CountViolations(p, a), 0u);
    EXPECT_EQ(a.selected[0].size(), 100u) << name;
    EXPECT_TRUE(a.selected[1].empty()) << name;
    EXPECT_NEAR(a.tier_value[0], 100.0, kEps) << name;
  }
}

// A mid-size instance with realistic (lognormal) values and the rules: the fast
// solver is close to the optimum and says so, and its answer does not depend on the threads.
TEST(AllocationTest, FastIsCloseOnAMidSizeInstance) {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<float> value(0.0f, 1.0f);
  AllocationProblem p;
  p.num_customers = 1500;
  p.days = 7;
  for (int k = 0; k < 6; ++k) {
    p.campaigns.push_back(
        {"c" + std::to_string(k), k % 2 ? Channel::kPush : Channel::kEmail, k, 400, Priority::kMedium});
    std::vector<Candidate> list;
    for (uint32_t i = 0; i < p.num_customers; ++i) {
      if (rng() % 3 != 0) list.push_back({i, value(rng)});
    }
    p.candidates.push_back(list);
  }
  p.rules = {{Channel::kEmail, 2, 7, 0}, {std::nullopt, 0, 0, 2}};
  const Allocation exact = SolveWith("exact", p);
  const Allocation fast = SolveWith("fast", p);
  EXPECT_EQ(CountViolations(p, fast), 0u);
  EXPECT_LE(fast.gap(), 0.01);
  EXPECT_LE(fast.value, exact.value + kEps);
  EXPECT_GE(fast.upper_bound, exact.value - kEps);
}

// Several blocks of customers: one thread or three, the same allocation and the same bound.
TEST(AllocationTest, FastDoesNotDependOnThreads) {
  std::mt19937_64 rng(8);
  std::lognormal_distribution<float> value(0.0f, 1.0f);
  AllocationProblem p;
  p.num_customers = 40000;
  p.days = 7;
  for (int k = 0; k < 8; ++k) {
    p.campaigns.push_back(
        {"c" + std::to_string(k), k % 3 ? Channel::kEmail : Channel::kPush, k % 7, 9000, static_cast<Priority>(k % 3)});
    std::vector<Candidate> list;
    for (uint32_t i = 0; i < p.num_customers; ++i) {
      if (rng() % 2) list.push_back({i, value(rng)});
    }
    p.candidates.push_back(list);
  }
  p.rules = {{Channel::kEmail, 2, 7, 0}, {std::nullopt, 0, 0, 1}};
  SolveOptions one;
  one.threads = 1;
  SolveOptions three;
  three.threads = 3;
  const Allocation a = SolveWith("fast", p, one);
  const Allocation b = SolveWith("fast", p, three);
  EXPECT_EQ(CountViolations(p, a), 0u);
  EXPECT_EQ(a.selected, b.selected);
  EXPECT_EQ(a.upper_bound, b.upper_bound);
  EXPECT_EQ(a.value, b.value);
}

TEST(AllocationTest, AutoChoosesBySize) {
  std::mt19937_64 rng(3);
  const AllocationProblem p = RandomProblem(rng, 20, 4, false);
  SolveOptions options;
  options.exact_max_candidates = CandidateCount(p);
  EXPECT_EQ(SolveWith("auto", p, options).solver, "exact");
  options.exact_max_candidates = CandidateCount(p) - 1;
  EXPECT_EQ(SolveWith("auto", p, options).solver, "fast");
}

// The exact solver gives up at its time limit and says which setting it hit; auto then answers
// with the fast solver instead of failing the plan.
TEST(AllocationTest, AutoFallsBackToFastAtTheExactTimeLimit) {
  std::mt19937_64 rng(17);
  std::lognormal_distribution<float> value(0.0f, 1.0f);
  AllocationProblem p;
  p.num_customers = 3000;
  p.days = 7;
  for (int k = 0; k < 6; ++k) {
    p.campaigns.push_back({"c" + std::to_string(k), Channel::kEmail, k, 700, Priority::kMedium});
    std::vector<Candidate> list;
    for (uint32_t i = 0; i < p.num_customers; ++i) list.push_back({i, value(rng)});
    p.candidates.push_back(list);
  }
  p.rules = {{Channel::kEmail, 2, 7, 0}, {std::nullopt, 0, 0, 2}};
  SolveOptions options;
  options.exact_time_limit_seconds = 0.001;
  auto exact = (*MakeSolver("exact"))->Solve(p, options);
  ASSERT_FALSE(exact.has_value());
  EXPECT_EQ(exact.error().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(exact.error().ToString().find("exact_time_limit_seconds"), std::string::npos);
  const Allocation a = SolveWith("auto", p, options);
  EXPECT_EQ(a.solver, "fast");
  EXPECT_EQ(CountViolations(p, a), 0u);
  options.exact_time_limit_seconds = 0;
  EXPECT_FALSE((*MakeSolver("auto"))->Solve(p, options).has_value());
}

TEST(AllocationTest, AnEmptyPlanGetsAnEmptyAllocation) {
  AllocationProblem p;
  p.days = 7;
  for (std::string_view name : {"exact", "fast"}) {
    const Allocation a = SolveWith(name, p);
    EXPECT_TRUE(a.selected.empty());
    EXPECT_EQ(a.value, 0);
    EXPECT_EQ(a.gap(), 0);
  }
  p.num_customers = 3;
  p.campaigns = {{"nobody", Channel::kSms, 0, 0, Priority::kLow}};
  p.candidates = {{{0, 2.0f}, {1, 3.0f}}};
  for (std::string_view name : {"exact", "fast"}) {
    const Allocation a = SolveWith(name, p);
    ASSERT_EQ(a.selected.size(), 1u);
    EXPECT_TRUE(a.selected[0].empty()) << name << ": a volume of 0 reaches no one";
  }
}

TEST(AllocationTest, UnknownSolverNamesTheValidOnes) {
  auto solver = MakeSolver("greedy");
  ASSERT_FALSE(solver.has_value());
  EXPECT_NE(solver.error().ToString().find("\"greedy\""), std::string::npos);
  EXPECT_NE(solver.error().ToString().find("exact, fast, auto"), std::string::npos);
}

TEST(AllocationTest, SolversRejectAnInvalidProblem) {
  AllocationProblem p;
  p.num_customers = 2;
  p.days = 3;
  p.campaigns = {{"late", Channel::kEmail, 5, 1, Priority::kHigh}};
  p.candidates = {{{0, 1.0f}}};
  for (std::string_view name : {"exact", "fast"}) {
    auto solver = MakeSolver(name);
    auto a = (*solver)->Solve(p, {});
    ASSERT_FALSE(a.has_value());
    EXPECT_NE(a.error().ToString().find("\"late\""), std::string::npos) << a.error().ToString();
  }
}

TEST(AllocationTest, CountViolationsCountsEachBrokenRule) {
  AllocationProblem p;
  p.num_customers = 1;
  p.days = 7;
  for (int k = 0; k < 3; ++k) p.campaigns.push_back({"c" + std::to_string(k), Channel::kEmail, k, 1, Priority::kHigh});
  p.candidates = {{{0, 1.0f}}, {{0, 1.0f}}, {{0, 1.0f}}};
  p.rules = {{Channel::kEmail, 2, 7, 0}};
  Allocation a;
  a.selected = {{0}, {0}, {0}};
  EXPECT_EQ(CountViolations(p, a), 1u);  // three in the window starting on day 0
  p.rules = {{std::nullopt, 0, 0, 2}};
  EXPECT_EQ(CountViolations(p, a), 2u);  // days 0-1 and 1-2 are closer than 2 days
  a.selected = {{0, 0}, {}, {}};
  EXPECT_EQ(CountViolations(p, a), 2u);  // given twice, and over the volume of 1
}

}  // namespace
}  // namespace cf::plan
