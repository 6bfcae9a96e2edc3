// The fast solver: Lagrangian prices on the campaigns' volumes, an exact best subset per
// customer under the pressure rules at those prices, then a repair to the volumes and a greedy
// fill of what is left. Tiers are solved one after the other, each beside the messages the
// tiers above it gave (docs/planning.md).
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "plan/shard.h"
#include "plan/solver_internal.h"

namespace cf::plan::internal {
namespace {

constexpr int kMaxPriceRounds = 10;        // passes over the customers per tier, at most
constexpr double kVolumeTolerance = 2e-3;  // |demand - volume| <= this share of the volume: balanced

// One tier's subproblems: per customer, its candidates of the tier's campaigns and the messages
// the tiers above gave it.
struct TierView {
  struct Item {
    uint32_t campaign;
    float value;
  };
  std::vector<uint64_t> offset;  // customer i's items: items[offset[i] .. offset[i + 1])
  std::vector<Item> items;
  std::vector<uint64_t> fixed_offset;  // customer i's fixed messages, likewise
  std::vector<Message> fixed;
};

class Tier {
 public:
  // Sharded, each process's view holds its own customers, and every count, sum and rank
  // below spans every process's (shard.h): each process finds the same prices.
  Tier(const AllocationProblem& problem, const std::vector<WindowRule>& rules, const std::vector<uint8_t>& active,
       const TierView& view, int threads, const Collective* shards)
      : problem_(problem), rules_(rules), active_(active), view_(view), threads_(threads), shards_(shards) {
    // The view holds only the candidates a campaign still fits: its volume is at most those.
    const size_t num_campaigns = problem.campaigns.size();
    std::vector<uint64_t> count(num_campaigns, 0);
    std::vector<ExactSum> sum(num_campaigns);
    for (const TierView::Item& item : view.items) {
      ++count[item.campaign];
      sum[item.campaign].Add(item.value);
    }
    SumCounts(shards, count);
    Sum(shards, std::span<ExactSum>(sum));
    scale_.assign(num_campaigns, 0);
    volume_.assign(num_campaigns, 0);
    message_.resize(num_campaigns);
    for (size_t k = 0; k < num_campaigns; ++k) {
      message_[k] = {problem.campaigns[k].send_day, problem.campaigns[k].channel};
      if (!active[k] || count[k] == 0) continue;
      volume_[k] = std::min<uint64_t>(problem.campaigns[k].max_audience, count[k]);
      scale_[k] = sum[k].value() / static_cast<double>(count[k]);
    }
  }

  // Prices for the active campaigns, starting where each campaign alone would be balanced, then a per-campaign search
  // on demand == volume: a step that grows while the demand keeps its side and halves when it crosses. Every pass gives
  // a valid bound (the subproblems are exact); the smallest is returned. pick holds the last pass's.
  double FindPrices(std::vector<uint8_t>& pick) const {
    std::vector<double> price = StartPrices();
    const size_t num_campaigns = problem_.campaigns.size();
    std::vector<double> step(num_campaigns);
    std::vector<int> last_side(num_campaigns, 0);
    for (size_t k = 0; k < num_campaigns; ++k) step[k] = 0.1 * std::max(price[k], scale_[k]);
    double best = std::numeric_limits<double>::infinity();
    for (int round = 0; round < kMaxPriceRounds; ++round) {
      std::vector<uint64_t> demand;
      best = std::min(best, Evaluate(price, pick, demand));
      if (round + 1 == kMaxPriceRounds) break;
      bool balanced = true;
      for (size_t k = 0; k < num_campaigns; ++k) {
        if (!active_[k]) continue;
        const double excess = static_cast<double>(demand[k]) - static_cast<double>(volume_[k]);
        int side = 0;
        if (excess > kVolumeTolerance * static_cast<double>(volume_[k])) side = 1;
        if (excess < -kVolumeTolerance * static_cast<double>(volume_[k]) && price[k] > 0) side = -1;
        if (side == 0) continue;
        balanced = false;
        if (last_side[k] != 0 && side != last_side[k]) {
          step[k] *= 0.5;
        } else if (last_side[k] == side) {
          step[k] *= 1.5;
        }
        last_side[k] = side;
        price[k] = std::max(0.0, price[k] + side * step[k]);
      }
      if (balanced) break;
    }
    return best;
  }

  // Makes pick a valid allocation of the tier: a campaign picked by more customers than its
  // volume keeps the best ones (dropping a message never breaks a rule), then free volume goes
  // to the remaining candidates by decreasing value where the customer's pressure allows.
  void Repair(std::vector<uint8_t>& pick) const {
    const size_t num_campaigns = problem_.campaigns.size();
    // Best value first, ties in item order (customer, then campaign).
    const auto better = [](const Ref& a, const Ref& b) {
      return a.value != b.value ? a.value > b.value : a.item < b.item;
    };
    // Per campaign, the picked items' keys (value, then customer: item order within a campaign).
    std::vector<std::vector<uint64_t>> picked(num_campaigns);
    for (uint32_t i = 0; i < problem_.num_customers; ++i) {
      for (uint64_t j = view_.offset[i]; j < view_.offset[i + 1]; ++j) {
        if (pick[j]) picked[view_.items[j].campaign].push_back(RankKey(view_.items[j].value, i));
      }
    }
    std::vector<uint64_t> count(num_campaigns), last(num_campaigns);
    for (size_t k = 0; k < num_campaigns; ++k) count[k] = picked[k].size();
    SumCounts(shards_, count);
    for (size_t k = 0; k < num_campaigns; ++k) last[k] = count[k] > volume_[k] ? volume_[k] : 0;
    const std::vector<uint64_t> keep_through = KthSmallest(shards_, picked, last);
    std::vector<uint64_t> taken(num_campaigns, 0);
    for (size_t k = 0; k < num_campaigns; ++k) taken[k] = std::min<uint64_t>(count[k], volume_[k]);
    for (uint32_t i = 0; i < problem_.num_customers; ++i) {
      for (uint64_t j = view_.offset[i]; j < view_.offset[i + 1]; ++j) {
        const uint32_t k = view_.items[j].campaign;
        if (pick[j] && last[k] > 0 && RankKey(view_.items[j].value, i) > keep_through[k]) pick[j] = 0;
      }
    }
    picked.clear();
    // What fits now is all that may fit later (adding messages only takes room): filter in
    // parallel, then fill one by one in value order.
    std::vector<uint8_t> open(view_.items.size(), 0);
    ParallelBlocks(problem_.num_customers, threads_, [&](size_t, size_t begin, size_t end) {
      SubsetSolver solver(rules_, problem_.days);
      std::vector<Message> current;
      for (size_t i = begin; i < end; ++i) {
        bool loaded = false;
        for (uint64_t j = view_.offset[i]; j < view_.offset[i + 1]; ++j) {
          const TierView::Item& item = view_.items[j];
          if (pick[j] || item.value <= 0 || taken[item.campaign] >= volume_[item.campaign]) continue;
          if (!loaded) {
            Messages(static_cast<uint32_t>(i), &pick, current);
            loaded = true;
          }
          open[j] = solver.Fits(current, MessageOf(item.campaign));
        }
      }
    });
    std::vector<Ref> free;
    for (uint32_t i = 0; i < problem_.num_customers; ++i) {
      for (uint64_t j = view_.offset[i]; j < view_.offset[i + 1]; ++j) {
        if (open[j]) free.push_back({view_.items[j].value, i, j});
      }
    }
    std::sort(free.begin(), free.end(), better);
    if (Sharded(shards_)) {
      FillAcrossProcesses(free, taken, pick);
      return;
    }
    SubsetSolver solver(rules_, problem_.days);
    std::vector<Message> current;
    for (const Ref& ref : free) {
      const uint32_t k = view_.items[ref.item].campaign;
      if (taken[k] >= volume_[k]) continue;
      Messages(ref.customer, &pick, current);
      if (!solver.Fits(current, MessageOf(k))) continue;
      pick[ref.item] = 1;
      ++taken[k];
    }
  }

 private:
  struct Ref {
    float value;
    uint32_t customer;
    uint64_t item;
  };

  Message MessageOf(uint32_t k) const { return message_[k]; }

  // The greedy fill of Repair when each process holds a part of the customers, with the
  // answer of the one-process fill: give each free candidate, best first, its campaign while
  // the campaign has room and the customer's pressure allows. Which candidates a campaign
  // takes depends only on where in that order it fills up. So each round fills every
  // process's part with the campaigns' cut-offs known so far, finds (across processes) the
  // place where each campaign without a cut-off would fill up, and fixes the cut-off of the
  // one that fills first: before that place the round was exact. At most one round per
  // campaign, each a pass over the free candidates and one selection.
  void FillAcrossProcesses(const std::vector<Ref>& free, const std::vector<uint64_t>& taken,
                           std::vector<uint8_t>& pick) const {
    const size_t num_campaigns = problem_.campaigns.size();
    std::vector<uint64_t> room(num_campaigns);
    std::vector<uint8_t> cut(num_campaigns, 0);
    std::vector<uint64_t> cut_key(num_campaigns, 0);  // a cut campaign takes keys <= this
    for (size_t k = 0; k < num_campaigns; ++k) {
      room[k] = volume_[k] - std::min(volume_[k], taken[k]);
      cut[k] = room[k] == 0;
    }
    SubsetSolver solver(rules_, problem_.days);
    std::vector<Message> current;
    std::vector<uint8_t> trial;
    std::vector<std::vector<uint64_t>> given(num_campaigns);
    while (true) {
      trial = pick;
      for (auto& g : given) g.clear();
      for (const Ref& ref : free) {
        const uint32_t k = view_.items[ref.item].campaign;
        const uint64_t key = RankKey(ref.value, ref.customer);
        if (cut[k] && (room[k] == 0 || key > cut_key[k])) continue;
        Messages(ref.customer, &trial, current);
        if (!solver.Fits(current, MessageOf(k))) continue;
        trial[ref.item] = 1;
        if (!cut[k]) given[k].push_back(key);
      }
      std::vector<uint64_t> count(num_campaigns), at(num_campaigns, 0);
      for (size_t k = 0; k < num_campaigns; ++k) count[k] = given[k].size();
      SumCounts(shards_, count);
      for (size_t k = 0; k < num_campaigns; ++k) {
        if (!cut[k] && count[k] > room[k]) at[k] = room[k];
      }
      const std::vector<uint64_t> fills = KthSmallest(shards_, given, at);
      size_t first = num_campaigns;
      for (size_t k = 0; k < num_campaigns; ++k) {
        if (at[k] > 0 && (first == num_campaigns || fills[k] < fills[first])) first = k;
      }
      if (first == num_campaigns) break;  // no campaign overflows: the round was the fill
      cut[first] = 1;
      cut_key[first] = fills[first];
    }
    pick.swap(trial);
  }

  // Customer i's fixed messages, and its picked items' when pick is given.
  void Messages(uint32_t i, const std::vector<uint8_t>* pick, std::vector<Message>& out) const {
    out.assign(view_.fixed.begin() + static_cast<ptrdiff_t>(view_.fixed_offset[i]),
               view_.fixed.begin() + static_cast<ptrdiff_t>(view_.fixed_offset[i + 1]));
    if (pick == nullptr) return;
    for (uint64_t j = view_.offset[i]; j < view_.offset[i + 1]; ++j) {
      if ((*pick)[j]) out.push_back(MessageOf(view_.items[j].campaign));
    }
  }

  // Per campaign, its volume-th best value: the price at which it alone would be balanced.
  std::vector<double> StartPrices() const {
    const size_t num_campaigns = problem_.campaigns.size();
    std::vector<std::vector<uint64_t>> values(num_campaigns);  // keys by value alone
    for (const TierView::Item& item : view_.items) values[item.campaign].push_back(RankKey(item.value, 0));
    std::vector<uint64_t> m(num_campaigns);
    for (size_t k = 0; k < num_campaigns; ++k) m[k] = volume_[k] + 1;
    const std::vector<uint64_t> kth = KthSmallest(shards_, values, m);
    std::vector<double> price(num_campaigns, 0);
    for (size_t k = 0; k < num_campaigns; ++k) {
      if (kth[k] != std::numeric_limits<uint64_t>::max()) price[k] = KeyValue(kth[k]);
    }
    return price;
  }

  // One pass: each customer's best subset at weight value - price beside its fixed messages.
  // Sets pick for the items in a best subset and returns the dual value,
  // sum(price * volume) + sum(best subset weights), a bound on the tier's value.
  double Evaluate(const std::vector<double>& price, std::vector<uint8_t>& pick, std::vector<uint64_t>& demand) const {
    const size_t num_campaigns = problem_.campaigns.size();
    const size_t n = problem_.num_customers;
    std::vector<ExactSum> block_sum((n + kParallelBlock - 1) / kParallelBlock);
    std::vector<std::vector<uint64_t>> thread_demand(threads_, std::vector<uint64_t>(num_campaigns, 0));
    ParallelBlocks(n, threads_, [&](size_t thread, size_t begin, size_t end) {
      SubsetSolver solver(rules_, problem_.days);
      std::vector<Message> fixed;
      std::vector<SubsetSolver::Item> items;
      std::vector<uint8_t> chosen;
      std::vector<uint64_t>& counts = thread_demand[thread];
      ExactSum sum;
      std::vector<uint64_t> item_index;
      for (size_t i = begin; i < end; ++i) {
        items.clear();
        item_index.clear();
        for (uint64_t j = view_.offset[i]; j < view_.offset[i + 1]; ++j) {
          pick[j] = 0;
          const TierView::Item& item = view_.items[j];
          const double weight = item.value - price[item.campaign];
          if (weight <= 0) continue;  // never worth taking at these prices
          items.push_back({message_[item.campaign], weight});
          item_index.push_back(j);
        }
        if (items.empty()) continue;
        Messages(static_cast<uint32_t>(i), nullptr, fixed);
        sum.Add(solver.Solve(fixed, items, chosen));
        for (size_t j = 0; j < items.size(); ++j) {
          if (!chosen[j]) continue;
          pick[item_index[j]] = 1;
          ++counts[view_.items[item_index[j]].campaign];
        }
      }
      block_sum[begin / kParallelBlock] = sum;
    });
    demand.assign(num_campaigns, 0);
    for (const auto& d : thread_demand) {
      for (size_t k = 0; k < num_campaigns; ++k) demand[k] += d[k];
    }
    // Exact sums: the bound does not depend on the number of threads or processes.
    SumCounts(shards_, demand);
    ExactSum total;
    for (const ExactSum& b : block_sum) total.Add(b);
    Sum(shards_, std::span<ExactSum>(&total, 1));
    double dual = total.value();
    for (size_t k = 0; k < num_campaigns; ++k) dual += price[k] * static_cast<double>(volume_[k]);
    return dual;
  }

  const AllocationProblem& problem_;
  const std::vector<WindowRule>& rules_;
  const std::vector<uint8_t>& active_;
  const TierView& view_;
  int threads_;
  const Collective* shards_;
  std::vector<uint64_t> volume_;  // max_audience, at most the number of candidates
  std::vector<double> scale_;     // mean candidate value per campaign: the first price steps
  std::vector<Message> message_;  // per campaign, its day and channel
};

// The view of one tier: its campaigns' candidates per customer, beside the fixed messages
// (moved in) that the tiers above gave.
TierView MakeView(const AllocationProblem& problem, const std::vector<WindowRule>& rules, int threads,
                  const std::vector<uint8_t>& active, std::vector<uint64_t> fixed_offset, std::vector<Message> fixed) {
  TierView view;
  const size_t n = problem.num_customers;
  view.offset.assign(n + 1, 0);
  for (size_t k = 0; k < problem.campaigns.size(); ++k) {
    if (!active[k]) continue;
    for (const Candidate& c : problem.candidates[k]) ++view.offset[c.customer + 1];
  }
  for (size_t i = 1; i <= n; ++i) view.offset[i] += view.offset[i - 1];
  view.items.resize(view.offset.back());
  std::vector<uint64_t> fill(view.offset.begin(), view.offset.end() - 1);
  for (size_t k = 0; k < problem.campaigns.size(); ++k) {
    if (!active[k]) continue;
    for (const Candidate& c : problem.candidates[k])
      view.items[fill[c.customer]++] = {static_cast<uint32_t>(k), c.value};
  }
  view.fixed_offset = std::move(fixed_offset);
  view.fixed = std::move(fixed);
  if (view.fixed.empty()) return view;
  // A candidate whose message does not fit beside the fixed ones can never be given: drop it
  // once here rather than in every pass.
  std::vector<uint8_t> keep(view.items.size(), 1);
  ParallelBlocks(n, threads, [&](size_t, size_t begin, size_t end) {
    SubsetSolver solver(rules, problem.days);
    std::vector<Message> given;
    for (size_t i = begin; i < end; ++i) {
      if (view.fixed_offset[i] == view.fixed_offset[i + 1]) continue;
      given.assign(view.fixed.begin() + static_cast<ptrdiff_t>(view.fixed_offset[i]),
                   view.fixed.begin() + static_cast<ptrdiff_t>(view.fixed_offset[i + 1]));
      for (uint64_t j = view.offset[i]; j < view.offset[i + 1]; ++j) {
        const CampaignSlot& c = problem.campaigns[view.items[j].campaign];
        keep[j] = solver.Fits(given, {c.send_day, c.channel});
      }
    }
  });
  uint64_t w = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t begin = view.offset[i];
    view.offset[i] = w;
    for (uint64_t j = begin; j < view.offset[i + 1]; ++j) {
      if (keep[j]) view.items[w++] = view.items[j];
    }
  }
  view.offset[n] = w;
  view.items.resize(w);
  return view;
}

class FastSolver final : public Solver {
 public:
  std::string_view name() const override { return "fast"; }

  Result<Allocation> Solve(const AllocationProblem& problem, const SolveOptions& options) const override {
    CF_RETURN_IF_ERROR(options.Validate());
    CF_RETURN_IF_ERROR(problem.Validate());
    const auto start = std::chrono::steady_clock::now();
    const size_t num_campaigns = problem.campaigns.size();
    const int threads = ResolveThreads(options.threads);
    const std::vector<WindowRule> rules = ToWindowRules(problem.rules);

    Allocation result;
    result.solver = "fast";
    result.selected.assign(num_campaigns, {});
    // Per customer, the messages the tiers solved so far gave it.
    std::vector<uint64_t> fixed_offset(static_cast<size_t>(problem.num_customers) + 1, 0);
    std::vector<Message> fixed;
    const Collective* shards = options.collective;
    std::vector<uint64_t> candidates(num_campaigns);  // over every process
    for (size_t k = 0; k < num_campaigns; ++k) candidates[k] = problem.candidates[k].size();
    SumCounts(shards, candidates);
    for (int tier = 0; tier < kPriorityCount; ++tier) {
      std::vector<uint8_t> active(num_campaigns, 0);
      bool any = false;
      for (size_t k = 0; k < num_campaigns; ++k) {
        active[k] = static_cast<int>(problem.campaigns[k].priority) == tier && problem.campaigns[k].max_audience > 0 &&
                    candidates[k] > 0;
        any = any || active[k];
      }
      if (!any) continue;
      TierView view = MakeView(problem, rules, threads, active, std::move(fixed_offset), std::move(fixed));
      const Tier solver(problem, rules, active, view, threads, shards);
      std::vector<uint8_t> pick(view.items.size(), 0);
      result.tier_upper_bound[tier] = solver.FindPrices(pick);
      solver.Repair(pick);
      fixed_offset.assign(view.fixed_offset.size(), 0);
      fixed.clear();
      for (uint32_t i = 0; i < problem.num_customers; ++i) {
        fixed.insert(fixed.end(), view.fixed.begin() + static_cast<ptrdiff_t>(view.fixed_offset[i]),
                     view.fixed.begin() + static_cast<ptrdiff_t>(view.fixed_offset[i + 1]));
        for (uint64_t j = view.offset[i]; j < view.offset[i + 1]; ++j) {
          if (!pick[j]) continue;
          const uint32_t k = view.items[j].campaign;
          result.selected[k].push_back(i);
          fixed.push_back({problem.campaigns[k].send_day, problem.campaigns[k].channel});
        }
        fixed_offset[i + 1] = fixed.size();
      }
    }
    ScoreAllocation(problem, result, shards);
    result.upper_bound = 0;
    for (int t = 0; t < kPriorityCount; ++t) {
      result.tier_upper_bound[t] = std::max(result.tier_upper_bound[t], result.tier_value[t]);
      result.upper_bound += result.tier_upper_bound[t];
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }
};

}  // namespace

std::unique_ptr<Solver> NewFastSolver() { return std::make_unique<FastSolver>(); }

}  // namespace cf::plan::internal
