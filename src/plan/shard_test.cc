// The sharded plan against the one-process plan, with the processes played by threads that
// exchange through an in-process Collective (the real one, over Open MPI, is tested end to
// end in tests/dist/mpi_test.cc): random instances with many tied values and tight pressure,
// so that the repair, the greedy fill's rounds and the holdout draw all have work to do.
#include "plan/shard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <barrier>
#include <cstring>
#include <functional>
#include <random>
#include <thread>

#include "plan/allocation.h"
#include "plan/holdout.h"

namespace cf::plan {
namespace {

// `size` threads, each a process of one run.
class ThreadRun {
 public:
  explicit ThreadRun(int size) : size_(size), barrier_(size), slots_(size) {}

  // Calls fn(collective) on every "process" at once.
  void Run(const std::function<void(const Collective&)>& fn) {
    std::vector<std::thread> threads;
    for (int r = 0; r < size_; ++r) {
      threads.emplace_back([&, r] {
        const Member member(this, r);
        fn(member);
      });
    }
    for (std::thread& t : threads) t.join();
  }

 private:
  class Member final : public Collective {
   public:
    Member(ThreadRun* run, int rank) : run_(run), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return run_->size_; }
    std::vector<double> AllGather(std::span<const double> mine) const override { return Gather(mine); }
    std::vector<float> AllGather(std::span<const float> mine) const override { return Gather(mine); }
    std::vector<uint32_t> AllGather(std::span<const uint32_t> mine) const override { return Gather(mine); }
    std::vector<double> GatherToRoot(std::span<const double> mine) const override { return ToRoot(mine); }
    std::vector<float> GatherToRoot(std::span<const float> mine) const override { return ToRoot(mine); }
    std::vector<uint32_t> GatherToRoot(std::span<const uint32_t> mine) const override { return ToRoot(mine); }
    void Sum(std::span<double> values) const override {
      const std::vector<double> all = Gather(std::span<const double>(values));
      std::fill(values.begin(), values.end(), 0.0);
      for (size_t i = 0; i < all.size(); ++i) values[i % values.size()] += all[i];
    }

   private:
    template <typename T>
    std::vector<T> ToRoot(std::span<const T> mine) const {
      std::vector<T> all = Gather(mine);
      if (rank_ != 0) all.clear();
      return all;
    }
    template <typename T>
    std::vector<T> Gather(std::span<const T> mine) const {
      std::vector<uint8_t>& slot = run_->slots_[rank_];
      slot.resize(mine.size_bytes());
      if (!mine.empty()) std::memcpy(slot.data(), mine.data(), mine.size_bytes());
      run_->barrier_.arrive_and_wait();
      std::vector<T> out;
      for (const std::vector<uint8_t>& s : run_->slots_) {
        const size_t at = out.size();
        out.resize(at + s.size() / sizeof(T));
        if (!s.empty()) std::memcpy(out.data() + at, s.data(), s.size());
      }
      run_->barrier_.arrive_and_wait();  // every slot read before the next exchange
      return out;
    }
    ThreadRun* run_;
    int rank_;
  };

  int size_;
  std::barrier<> barrier_;
  std::vector<std::vector<uint8_t>> slots_;
};

// Rank r's part of [0, n): the same contiguous split the model's shards use, in rank order.
Part RangeOf(uint32_t n, const Collective& c) { return PartOf(n, c.rank(), c.size()); }

TEST(ExactSumTest, DoesNotDependOnTheOrderOfItsTerms) {
  std::mt19937_64 rng(7);
  std::vector<double> terms;
  for (int i = 0; i < 10000; ++i) terms.push_back(std::ldexp(std::uniform_real_distribution<double>(-1, 1)(rng), i % 40 - 20));
  ExactSum forward, backward;
  for (double t : terms) forward.Add(t);
  for (auto it = terms.rbegin(); it != terms.rend(); ++it) backward.Add(*it);
  EXPECT_EQ(forward.fixed(), backward.fixed());
  double naive = 0;
  for (double t : terms) naive += t;
  EXPECT_NEAR(forward.value(), naive, 1e-6);
  std::vector<uint32_t> words;
  forward.AppendWords(words);
  EXPECT_EQ(ExactSum::FromWords(words.data()).fixed(), forward.fixed());
  ExactSum bad;
  bad.Add(std::nan(""));
  EXPECT_TRUE(std::isnan(bad.value()));
}

TEST(ShardTest, KthSmallestAndPrefixesMatchOneProcessOnAnyNumberOfProcesses) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 20; ++round) {
    const uint32_t n = 1 + static_cast<uint32_t>(rng() % 3000);
    std::vector<uint64_t> keys(n);
    std::vector<double> weights(n);
    for (uint32_t i = 0; i < n; ++i) {
      keys[i] = internal::RankKey(static_cast<float>(rng() % 50) / 8, i);  // many ties in value
      weights[i] = static_cast<double>(rng() % 1000) / 997;
    }
    std::vector<uint64_t> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    const std::vector<uint64_t> m = {1, n / 2 + 1, n, n + 1, 0};
    ExactSum total;
    for (double w : weights) total.Add(w);
    ExactSum target;
    target.Add(total.value() * 0.37);
    for (int size : {1, 2, 3, 5}) {
      SCOPED_TRACE(std::to_string(n) + " keys, " + std::to_string(size) + " processes");
      ThreadRun run(size);
      run.Run([&](const Collective& c) {
        const Part part = RangeOf(n, c);
        const std::vector<uint64_t> mine(keys.begin() + part.begin, keys.begin() + part.end);
        const std::vector<double> my_weights(weights.begin() + part.begin, weights.begin() + part.end);
        const std::vector<std::vector<uint64_t>> lists(m.size(), mine);
        const std::vector<uint64_t> kth = internal::KthSmallest(&c, lists, m);
        const uint64_t last = internal::SmallestPrefixReaching(&c, mine, my_weights, target);
        if (c.rank() != 0) return;
        EXPECT_EQ(kth[0], sorted[0]);
        EXPECT_EQ(kth[1], sorted[n / 2]);
        EXPECT_EQ(kth[2], sorted[n - 1]);
        EXPECT_EQ(kth[3], UINT64_MAX);
        EXPECT_EQ(kth[4], UINT64_MAX);
        // The prefix: the first key, in key order, at which the running weight reaches the target.
        std::vector<size_t> order(n);
        for (size_t i = 0; i < n; ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
        ExactSum running;
        uint64_t expected = UINT64_MAX;
        for (size_t i : order) {
          running.Add(weights[i]);
          if (running.fixed() >= target.fixed()) {
            expected = keys[i];
            break;
          }
        }
        EXPECT_EQ(last, expected);
      });
    }
  }
}

// A random instance with scarce volumes and tight pressure, candidates by customer number.
AllocationProblem TightProblem(std::mt19937_64& rng, bool small) {
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  AllocationProblem p;
  p.num_customers = static_cast<uint32_t>(small ? uniform(20, 60) : uniform(50, 2500));
  p.days = uniform(3, 10);
  const int campaigns = uniform(2, 9);
  for (int k = 0; k < campaigns; ++k) {
    CampaignSlot c;
    c.name = "c" + std::to_string(k);
    c.channel = static_cast<Channel>(uniform(0, 2));
    c.send_day = uniform(0, p.days - 1);
    c.max_audience = static_cast<uint64_t>(uniform(0, static_cast<int>(p.num_customers) / 2));
    c.priority = static_cast<Priority>(uniform(0, 2));
    p.campaigns.push_back(c);
    std::vector<Candidate> list;
    for (uint32_t i = 0; i < p.num_customers; ++i) {
      if (uniform(0, 9) < 6) list.push_back({i, uniform(0, 6) == 0 ? 0.0f : static_cast<float>(uniform(1, 12)) / 4});
    }
    p.candidates.push_back(list);
  }
  p.rules.push_back({std::nullopt, uniform(1, 2), uniform(2, 7), 0});
  if (uniform(0, 1) == 1) p.rules.push_back({static_cast<Channel>(uniform(0, 2)), 0, 0, uniform(1, 3)});
  return p;
}

// Process r's part of the problem: the candidates of its customers.
AllocationProblem PartOfProblem(const AllocationProblem& whole, const Part& part) {
  AllocationProblem p = whole;
  for (std::vector<Candidate>& list : p.candidates) {
    std::erase_if(list, [&](const Candidate& c) { return c.customer < part.begin || c.customer >= part.end; });
  }
  return p;
}

TEST(ShardTest, TheShardedPlanIsTheOneProcessPlan) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 25; ++round) {
    const AllocationProblem whole = TightProblem(rng, round % 3 == 0);
    const std::vector<double> shares(whole.campaigns.size(), 0.15);
    for (const char* name : {"fast", "exact"}) {
      if (std::string_view(name) == "exact" && whole.num_customers > 60) continue;  // the MIP on small ones only
      SCOPED_TRACE(std::string(name) + ", round " + std::to_string(round) + ", " +
                   std::to_string(whole.num_customers) + " customers");
      auto solver = MakeSolver(name);
      ASSERT_TRUE(solver.has_value());
      SolveOptions one;
      one.threads = 1;
      Result<Allocation> expected = (*solver)->Solve(whole, one);
      ASSERT_TRUE(expected.has_value()) << expected.error().ToString();
      ASSERT_EQ(CountViolations(whole, *expected), 0u);
      Result<std::vector<CampaignHoldout>> expected_holdouts = AssignHoldouts(whole, *expected, shares, 9);
      ASSERT_TRUE(expected_holdouts.has_value());
      for (int size : {2, 3}) {
        SCOPED_TRACE(std::to_string(size) + " processes");
        std::vector<Allocation> parts(size);
        std::vector<std::vector<CampaignHoldout>> holdouts(size);
        std::vector<uint64_t> violations(size);
        ThreadRun run(size);
        run.Run([&](const Collective& c) {
          const AllocationProblem mine = PartOfProblem(whole, RangeOf(whole.num_customers, c));
          SolveOptions options = one;
          options.collective = &c;
          Result<Allocation> a = (*solver)->Solve(mine, options);
          if (!a.has_value()) return;
          violations[c.rank()] = CountViolations(mine, *a, &c);
          Result<std::vector<CampaignHoldout>> h = AssignHoldouts(mine, *a, shares, 9, &c);
          if (h.has_value()) holdouts[c.rank()] = std::move(*h);
          parts[c.rank()] = std::move(*a);
        });
        EXPECT_EQ(violations[0], 0u);
        for (const Allocation& a : parts) {
          EXPECT_EQ(a.value, expected->value);
          EXPECT_EQ(a.upper_bound, expected->upper_bound);
        }
        for (size_t k = 0; k < whole.campaigns.size(); ++k) {
          std::vector<uint32_t> selected;
          std::vector<uint8_t> decile, holdout;
          for (int r = 0; r < size; ++r) {
            ASSERT_EQ(holdouts[r].size(), whole.campaigns.size());
            selected.insert(selected.end(), parts[r].selected[k].begin(), parts[r].selected[k].end());
            decile.insert(decile.end(), holdouts[r][k].decile.begin(), holdouts[r][k].decile.end());
            holdout.insert(holdout.end(), holdouts[r][k].holdout.begin(), holdouts[r][k].holdout.end());
          }
          EXPECT_EQ(selected, expected->selected[k]) << "campaign " << k;
          EXPECT_EQ(decile, (*expected_holdouts)[k].decile) << "campaign " << k;
          EXPECT_EQ(holdout, (*expected_holdouts)[k].holdout) << "campaign " << k;
        }
      }
    }
  }
}

}  // namespace
}  // namespace cf::plan
