#include "plan/allocation.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "plan/shard.h"

namespace cf::plan {

namespace {
constexpr std::array<std::string_view, kChannelCount> kChannelNames = {"email", "push", "sms"};
constexpr std::array<std::string_view, kPriorityCount> kPriorityNames = {"high", "medium", "low"};
}  // namespace

std::string_view ChannelName(Channel c) { return kChannelNames[static_cast<size_t>(c)]; }

std::optional<Channel> ParseChannel(std::string_view s) {
  for (size_t i = 0; i < kChannelNames.size(); ++i) {
    if (kChannelNames[i] == s) return static_cast<Channel>(i);
  }
  return std::nullopt;
}

std::string_view PriorityName(Priority p) { return kPriorityNames[static_cast<size_t>(p)]; }

std::optional<Priority> ParsePriority(std::string_view s) {
  for (size_t i = 0; i < kPriorityNames.size(); ++i) {
    if (kPriorityNames[i] == s) return static_cast<Priority>(i);
  }
  return std::nullopt;
}

Status PressureRule::Validate() const {
  if (max_messages < 0) return Status::InvalidArgument(fmt::format("max_messages {} must be >= 0", max_messages));
  if (window_days < 0) return Status::InvalidArgument(fmt::format("window_days {} must be >= 0", window_days));
  if (min_gap_days < 0) return Status::InvalidArgument(fmt::format("min_gap_days {} must be >= 0", min_gap_days));
  if (max_messages > 0 && window_days == 0) {
    return Status::InvalidArgument("a rule with max_messages needs window_days >= 1");
  }
  if (max_messages == 0 && min_gap_days == 0) {
    return Status::InvalidArgument("a rule needs max_messages (with window_days) or min_gap_days");
  }
  return Status::OK();
}

Status AllocationProblem::Validate() const {
  if (days < 1) return Status::InvalidArgument(fmt::format("days {} must be >= 1", days));
  if (candidates.size() != campaigns.size()) {
    return Status::InvalidArgument(
        fmt::format("{} candidate lists for {} campaigns: one list per campaign", candidates.size(), campaigns.size()));
  }
  for (size_t i = 0; i < rules.size(); ++i) {
    if (Status s = rules[i].Validate(); !s.ok()) return s.WithPrefix(fmt::format("pressure rule {}", i + 1));
  }
  std::vector<uint8_t> seen(num_customers, 0);
  for (size_t k = 0; k < campaigns.size(); ++k) {
    const CampaignSlot& c = campaigns[k];
    if (c.send_day < 0 || c.send_day >= days) {
      return Status::InvalidArgument(
          fmt::format("campaign \"{}\": send day {} is outside the plan's days 0 .. {}", c.name, c.send_day, days - 1));
    }
    for (const Candidate& cand : candidates[k]) {
      if (cand.customer >= num_customers) {
        return Status::InvalidArgument(fmt::format("campaign \"{}\": candidate customer {} >= {} customers", c.name,
                                                   cand.customer, num_customers));
      }
      if (!(cand.value >= 0) || !std::isfinite(cand.value)) {
        return Status::InvalidArgument(
            fmt::format("campaign \"{}\": candidate {} has value {}, valid: finite and >= 0", c.name, cand.customer,
                        cand.value));
      }
      if (seen[cand.customer]) {
        return Status::InvalidArgument(
            fmt::format("campaign \"{}\": customer {} is a candidate twice", c.name, cand.customer));
      }
      seen[cand.customer] = 1;
    }
    for (const Candidate& cand : candidates[k]) seen[cand.customer] = 0;
  }
  return Status::OK();
}

double Allocation::gap() const { return upper_bound > 0 ? std::max(0.0, (upper_bound - value) / upper_bound) : 0.0; }

Status SolveOptions::Validate() const {
  if (threads < 0 || threads > 256) return Status::InvalidArgument(fmt::format("threads {} must be in 0 .. 256", threads));
  if (exact_max_candidates > 1000000000ULL) {
    return Status::InvalidArgument(fmt::format("exact_max_candidates {} must be <= 1e9", exact_max_candidates));
  }
  if (!(exact_time_limit_seconds > 0 && exact_time_limit_seconds <= 86400)) {
    return Status::InvalidArgument(
        fmt::format("exact_time_limit_seconds {} must be in (0, 86400]", exact_time_limit_seconds));
  }
  return Status::OK();
}

uint64_t CountViolations(const AllocationProblem& problem, const Allocation& allocation, const Collective* shards) {
  uint64_t violations = 0;
  if (allocation.selected.size() != problem.campaigns.size()) return internal::SumCount(shards, 1);
  std::vector<uint64_t> audience(problem.campaigns.size());  // over every process
  for (size_t k = 0; k < audience.size(); ++k) audience[k] = allocation.selected[k].size();
  internal::SumCounts(shards, audience);
  const uint32_t n = problem.num_customers;
  // Flat arrays rather than a container per customer: this runs on every plan of millions.
  // state[c]: 1 = candidate of the campaign at hand, 2 = given it already.
  std::vector<uint8_t> state(n, 0);
  std::vector<uint32_t> count(static_cast<size_t>(n) + 1, 0);
  std::vector<std::vector<uint8_t>> valid(problem.campaigns.size());
  for (size_t k = 0; k < problem.campaigns.size(); ++k) {
    for (const Candidate& c : problem.candidates[k]) state[c.customer] = 1;
    const std::vector<uint32_t>& selected = allocation.selected[k];
    valid[k].assign(selected.size(), 0);
    for (size_t i = 0; i < selected.size(); ++i) {
      const uint32_t customer = selected[i];
      if (customer >= n || state[customer] != 1) {
        ++violations;  // not a candidate, or given twice
        continue;
      }
      state[customer] = 2;
      valid[k][i] = 1;
      ++count[customer + 1];
    }
    // Counted once, on the first process.
    if (audience[k] > problem.campaigns[k].max_audience && (!Sharded(shards) || shards->rank() == 0)) ++violations;
    for (const Candidate& c : problem.candidates[k]) state[c.customer] = 0;
  }
  // Each customer's messages as (day, channel), grouped by customer (a counting sort).
  for (uint32_t c = 0; c < n; ++c) count[c + 1] += count[c];
  struct Message {
    int day;
    Channel channel;
  };
  std::vector<Message> messages(count[n]);
  std::vector<uint32_t> next(count.begin(), count.end() - 1);
  for (size_t k = 0; k < problem.campaigns.size(); ++k) {
    const std::vector<uint32_t>& selected = allocation.selected[k];
    for (size_t i = 0; i < selected.size(); ++i) {
      if (valid[k][i]) messages[next[selected[i]]++] = {problem.campaigns[k].send_day, problem.campaigns[k].channel};
    }
  }
  std::vector<int> days;
  for (uint32_t c = 0; c < n; ++c) {
    if (count[c + 1] - count[c] < 2) continue;
    for (const PressureRule& rule : problem.rules) {
      days.clear();
      for (uint32_t m = count[c]; m < count[c + 1]; ++m) {
        if (!rule.channel.has_value() || *rule.channel == messages[m].channel) days.push_back(messages[m].day);
      }
      std::sort(days.begin(), days.end());
      if (rule.max_messages > 0) {
        // A window starting at each message's day: more than max_messages inside is one violation.
        for (size_t i = 0; i < days.size(); ++i) {
          if (i > 0 && days[i] == days[i - 1]) continue;
          const size_t end = std::upper_bound(days.begin(), days.end(), days[i] + rule.window_days - 1) - days.begin();
          if (end - i > static_cast<size_t>(rule.max_messages)) ++violations;
        }
      }
      if (rule.min_gap_days > 0) {
        for (size_t i = 0; i + 1 < days.size(); ++i) {
          for (size_t j = i + 1; j < days.size() && days[j] - days[i] < rule.min_gap_days; ++j) ++violations;
        }
      }
    }
  }
  return internal::SumCount(shards, violations);
}

}  // namespace cf::plan
