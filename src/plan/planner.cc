#include "plan/planner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <numeric>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "base/files.h"
#include "base/progress.h"
#include "base/strings.h"
#include "base/time.h"
#include "model/event_log.h"
#include "offer/offer.h"
#include "plan/audience_filter.h"
#include "plan/holdout.h"
#include "plan/shard.h"

namespace cf::plan {

namespace {

constexpr const char* kPlanFormat = "cohortflow-plan";
constexpr int64_t kDay = 86400;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Customers of [first, end) who bought a product of `offer` in [from, to).
void MarkRecentBuyers(const data::Events& events, const offer::ProductSet& offer, int64_t from, int64_t to,
                      uint32_t first, uint32_t end, std::vector<uint8_t>* bought) {
  const std::span<const int64_t> time = events.time();
  const std::span<const uint32_t> product = events.product();
  for (uint32_t c = first; c < end; ++c) {
    const auto begin = time.begin() + static_cast<ptrdiff_t>(events.begin(c));
    const auto last = time.begin() + static_cast<ptrdiff_t>(events.end(c));
    for (auto it = std::lower_bound(begin, last, from); it != last && *it < to; ++it) {
      if (offer.Contains(product[static_cast<size_t>(it - time.begin())])) {
        (*bought)[c] = 1;
        break;
      }
    }
  }
}

// The eligible customers of one campaign and what each is worth to the objective.
struct Eligibility {
  std::vector<Candidate> candidates;  // by customer number
  uint64_t max_audience = 0;
};

// The candidates among this process's customers [first, first + scores' size), with the
// campaign's volume over every process's: a capture share or a minimum probability is
// decided on the ranking by probability (best first, ties by customer number) of all of them.
Result<Eligibility> Candidates(const CampaignSpec& spec, const model::OfferScores& scores,
                               const std::vector<uint8_t>& allowed, Objective objective, uint32_t first,
                               const Collective* shards) {
  std::vector<uint32_t> eligible;
  for (size_t i = 0; i < scores.probability.size(); ++i) {
    const uint32_t c = first + static_cast<uint32_t>(i);
    if (!allowed[c]) continue;
    const double p = scores.probability[i], revenue = scores.expected_revenue[i];
    if (!(p >= 0 && p <= 1)) {
      return Err(Status::InvalidArgument(
          fmt::format("probability of customer {}: {} is not valid; expected 0 .. 1", c, p)));
    }
    if (!(revenue >= 0) || !std::isfinite(revenue)) {
      return Err(Status::InvalidArgument(fmt::format(
          "expected revenue of customer {}: {} is not valid; expected finite and >= 0", c, revenue)));
    }
    eligible.push_back(c);
  }
  auto probability = [&](uint32_t c) { return scores.probability[c - first]; };
  Eligibility out;
  std::vector<uint32_t> kept;
  switch (spec.volume.kind) {
    case Volume::Kind::kFixed:
      out.max_audience = static_cast<uint64_t>(spec.volume.amount);
      kept = std::move(eligible);
      break;
    case Volume::Kind::kMinProbability:
      // Ties at the threshold are all in.
      for (uint32_t c : eligible) {
        if (probability(c) >= spec.volume.amount) kept.push_back(c);
      }
      out.max_audience = internal::SumCount(shards, kept.size());
      break;
    case Volume::Kind::kCaptureShare: {
      // The smallest audience whose expected buyers reach the share of all eligible customers'.
      std::vector<uint64_t> keys;
      std::vector<double> weights;
      ExactSum total;
      for (uint32_t c : eligible) {
        keys.push_back(internal::RankKey(static_cast<float>(probability(c)), c));
        weights.push_back(probability(c));
        total.Add(probability(c));
      }
      Sum(shards, std::span<ExactSum>(&total, 1));
      const double share = spec.volume.amount;
      if (total.fixed() > 0 && share >= 1) {
        for (uint32_t c : eligible) {
          if (probability(c) > 0) kept.push_back(c);
        }
      } else if (total.fixed() > 0 && share > 0) {
        ExactSum target;
        target.Add(share * total.value());
        const uint64_t last = internal::SmallestPrefixReaching(shards, keys, weights, target);
        for (size_t i = 0; i < eligible.size(); ++i) {
          if (keys[i] <= last) kept.push_back(eligible[i]);
        }
      }
      out.max_audience = internal::SumCount(shards, kept.size());
      break;
    }
  }
  out.candidates.reserve(kept.size());
  for (uint32_t c : kept) {
    const double v = objective == Objective::kRevenue ? scores.expected_revenue[c - first] : probability(c);
    out.candidates.push_back({c, static_cast<float>(std::max(0.0, v))});
  }
  return out;
}

}  // namespace

Status PlannerOptions::Validate() const {
  if (threads < 0 || threads > 1024) return Status::InvalidArgument(fmt::format("threads {} must be in 0 .. 1024", threads));
  // The solver registry names the valid solvers: one list, in solvers.cc.
  Result<std::unique_ptr<Solver>> known = MakeSolver(solver);
  return known.has_value() ? Status::OK() : known.error();
}

std::string_view ChosenAlias(std::string_view aliases) {
  if (aliases.empty()) return {};
  std::string_view first;
  for (std::string_view line : Split(aliases, '\n')) {
    if (line.empty()) continue;
    if (StartsWith(line, "email:")) return line;
    if (first.empty()) first = line;
  }
  return first;
}

Result<PlanResult> MakePlan(const data::Dataset& dataset, const model::UniversalModel& model, const PlanFile& plan,
                            const PlannerOptions& options) {
  CF_RETURN_IF_ERROR(options.Validate());
  CF_RETURN_IF_ERROR(plan.Validate());
  const data::Customers& people = dataset.customers();
  const uint32_t n = people.size();
  const model::EventLog log = model::EventLog::FromDataset(dataset);
  const int64_t as_of = options.as_of.value_or(log.last_time() + 1);
  const model::HistoryView history(log, as_of);

  PlanResult result;
  result.plan_name = plan.name;
  result.objective = plan.objective;
  result.as_of = as_of;
  result.horizon_days = model.horizon_days();

  // Offers first: a plan with a typo fails before any scoring.
  std::vector<offer::ProductSet> offers;
  std::unordered_map<std::string, size_t> offer_index;  // expression -> offers[i]
  std::vector<size_t> campaign_offer(plan.campaigns.size());
  for (size_t k = 0; k < plan.campaigns.size(); ++k) {
    const std::string& text = plan.campaigns[k].offer;
    auto [it, inserted] = offer_index.try_emplace(text, offers.size());
    if (inserted) {
      Result<offer::ProductSet> set = offer::CompileOffer(text, dataset.catalog());
      if (!set.has_value()) return Err(set.error().WithPrefix(fmt::format("campaigns[{}].offer", k)));
      offers.push_back(std::move(*set));
    }
    campaign_offer[k] = it->second;
  }
  // Who each campaign may reach, before scores: audience, opt-in, then recent buyers.
  std::vector<std::vector<uint8_t>> allowed(plan.campaigns.size());
  for (size_t k = 0; k < plan.campaigns.size(); ++k) {
    const CampaignSpec& spec = plan.campaigns[k];
    Result<std::vector<uint8_t>> selected = SelectCustomers(spec.audience, people);
    if (!selected.has_value()) return Err(selected.error().WithPrefix(fmt::format("campaigns[{}].audience", k)));
    allowed[k] = std::move(*selected);
    if (const data::Attribute* opt_in = OptInColumn(people, spec.channel); opt_in != nullptr) {
      for (uint32_t c = 0; c < n; ++c) allowed[k][c] &= IsOptedIn(*opt_in, c) ? 1 : 0;
    }
  }

  const auto scoring = std::chrono::steady_clock::now();
  // Sharded (mpirun), each process scores and allocates its part of the customers (a
  // contiguous range): the solver and the holdouts exchange counts, sums and ranks, not
  // scores. Only the selected customers are gathered, to rank 0, which writes the plan: the
  // other ranks' results hold the solver's totals but not the campaigns' customers or sums.
  const std::vector<uint32_t> mine = model.ShardCustomers(history);
  const Collective* shards = model.collective();
  const uint32_t first = mine.empty() ? 0 : mine.front();
  const uint32_t end = first + static_cast<uint32_t>(mine.size());
  for (size_t k = 0; k < plan.campaigns.size(); ++k) {
    const CampaignSpec& spec = plan.campaigns[k];
    if (spec.exclude_recent_buyers_days <= 0) continue;
    std::vector<uint8_t> bought(n, 0);
    MarkRecentBuyers(dataset.events(), offers[campaign_offer[k]], as_of - spec.exclude_recent_buyers_days * kDay,
                     as_of, first, end, &bought);
    for (uint32_t c = first; c < end; ++c) allowed[k][c] &= bought[c] ? 0 : 1;
  }
  std::vector<model::OfferScores> scores(offers.size());
  auto tell = [&](double fraction, const std::string& step) {
    if (options.on_progress) options.on_progress(fraction, step);
  };
  Progress progress("scoring offers", offers.size(), "offers");
  size_t scored = 0;
  tell(0.05, fmt::format("scoring offers (0 of {})", offers.size()));
  CF_RETURN_IF_ERROR(model.ScoreOffers(history, offers, mine, [&](size_t i, model::OfferScores s) {
    scores[i] = std::move(s);
    progress.Add(1);
    ++scored;
    // Scoring is most of a plan's time; allocating and writing the rest.
    tell(0.05 + 0.65 * static_cast<double>(scored) / static_cast<double>(offers.size()),
         fmt::format("scoring offers ({} of {})", scored, offers.size()));
    return Status::OK();
  }));
  progress.Finish();
  result.seconds_scoring = Seconds(scoring);

  AllocationProblem problem;
  problem.num_customers = n;
  problem.days = plan.days;
  problem.rules = plan.pressure;
  for (size_t k = 0; k < plan.campaigns.size(); ++k) {
    const CampaignSpec& spec = plan.campaigns[k];
    Result<Eligibility> e = Candidates(spec, scores[campaign_offer[k]], allowed[k], plan.objective, first, shards);
    if (!e.has_value()) return Err(e.error().WithPrefix(fmt::format("campaigns[{}]", k)));
    problem.campaigns.push_back({spec.name, spec.channel, plan.SendDay(spec), e->max_audience, spec.priority});
    problem.candidates.push_back(std::move(e->candidates));
  }
  allowed.clear();
  CF_RETURN_IF_ERROR(problem.Validate());

  tell(0.75, fmt::format("allocating customers to {} campaigns", plan.campaigns.size()));
  const auto solving = std::chrono::steady_clock::now();
  CF_ASSIGN_OR_RETURN(std::unique_ptr<Solver> solver, MakeSolver(options.solver));
  SolveOptions solve_options;
  solve_options.threads = options.threads;
  solve_options.collective = shards;
  CF_ASSIGN_OR_RETURN(Allocation allocation, solver->Solve(problem, solve_options));
  result.seconds_solving = Seconds(solving);
  result.solver = allocation.solver;
  result.violations = CountViolations(problem, allocation, shards);
  result.allocated_value = allocation.value;
  result.upper_bound = allocation.upper_bound;
  result.gap = allocation.gap();

  std::vector<double> shares;
  for (const CampaignSpec& spec : plan.campaigns) shares.push_back(spec.holdout_share);
  CF_ASSIGN_OR_RETURN(std::vector<CampaignHoldout> draws,
                      AssignHoldouts(problem, allocation, shares, options.seed, shards));

  std::vector<int> received(n, 0);
  for (size_t k = 0; k < plan.campaigns.size(); ++k) {
    const CampaignSpec& spec = plan.campaigns[k];
    const model::OfferScores& s = scores[campaign_offer[k]];
    PlannedCampaign pc;
    pc.spec = spec;
    pc.cohort_id = CohortId(plan.name, spec.name);
    pc.send_day = problem.campaigns[k].send_day;
    pc.eligible = internal::SumCount(shards, problem.candidates[k].size());
    // The selected customers of every process, by customer number (both solvers give them in
    // candidate order, which is customer order, and the processes hold ascending ranges).
    std::vector<uint32_t> selected = allocation.selected[k];
    std::vector<double> probability, revenue;
    std::vector<uint32_t> marks;  // decile, and 256 when withheld
    for (size_t i = 0; i < selected.size(); ++i) {
      probability.push_back(s.probability[selected[i] - first]);
      revenue.push_back(s.expected_revenue[selected[i] - first]);
      marks.push_back(draws[k].decile[i] + (draws[k].holdout[i] ? 256u : 0u));
    }
    selected = GatherToRoot(shards, std::span<const uint32_t>(selected));
    probability = GatherToRoot(shards, std::span<const double>(probability));
    revenue = GatherToRoot(shards, std::span<const double>(revenue));
    marks = GatherToRoot(shards, std::span<const uint32_t>(marks));
    pc.selected = std::move(selected);
    for (size_t i = 0; i < pc.selected.size(); ++i) {
      const uint32_t c = pc.selected[i];
      const bool withheld = marks[i] >= 256;
      pc.probability.push_back(static_cast<float>(probability[i]));
      pc.expected_revenue.push_back(static_cast<float>(revenue[i]));
      pc.decile.push_back(static_cast<uint8_t>(marks[i] & 255u));
      pc.holdout.push_back(withheld ? 1 : 0);
      if (withheld) {
        ++pc.holdouts;
        continue;
      }
      ++received[c];
      pc.expected_buyers += probability[i];
      pc.expected_revenue_sum += revenue[i];
    }
    result.value += plan.objective == Objective::kRevenue ? pc.expected_revenue_sum : pc.expected_buyers;
    result.campaigns.push_back(std::move(pc));
  }
  for (int r : received) ++result.messages_per_customer[r];
  return result;
}

Result<PlanResult> PlanIntoDirectory(const data::Dataset& dataset, const model::UniversalModel& model,
                                     const PlanFile& plan, const PlannerOptions& options, const std::string& dir) {
  CF_ASSIGN_OR_RETURN(PlanResult result, MakePlan(dataset, model, plan, options));
  if (result.violations != 0) {
    return Err(Status::Internal(
        fmt::format("the {} solver's allocation breaks {} rules; nothing written", result.solver, result.violations)));
  }
  if (options.on_progress) options.on_progress(0.9, "writing the plan directory");
  CF_RETURN_IF_ERROR(WritePlanDirectory(dir, dataset.customers(), result));
  return result;
}

std::string SummaryJson(const PlanResult& r) {
  nlohmann::ordered_json j;
  j["format"] = kPlanFormat;
  j["plan"] = r.plan_name;
  j["objective"] = ObjectiveName(r.objective);
  j["as_of"] = FormatIsoTime(r.as_of);
  j["horizon_days"] = r.horizon_days;
  j["solver"] = r.solver;
  j["value"] = r.value;
  j["allocated_value"] = r.allocated_value;
  j["upper_bound"] = r.upper_bound;
  j["gap"] = r.gap;
  j["violations"] = r.violations;
  nlohmann::ordered_json campaigns = nlohmann::ordered_json::array();
  for (const PlannedCampaign& c : r.campaigns) {
    campaigns.push_back({{"name", c.spec.name},
                         {"export_file_name", c.spec.export_file_name},
                         {"cohort_id", c.cohort_id},
                         {"offer", c.spec.offer},
                         {"channel", ChannelName(c.spec.channel)},
                         {"send_date", c.spec.send_date},
                         {"priority", PriorityName(c.spec.priority)},
                         {"eligible", c.eligible},
                         {"selected", c.selected.size() - c.holdouts},
                         {"holdout", c.holdouts},
                         {"expected_buyers", c.expected_buyers},
                         {"expected_revenue", c.expected_revenue_sum}});
  }
  j["campaigns"] = std::move(campaigns);
  nlohmann::ordered_json messages = nlohmann::ordered_json::object();
  for (const auto& [count, customers] : r.messages_per_customer) messages[std::to_string(count)] = customers;
  j["messages_per_customer"] = std::move(messages);
  return j.dump(2) + "\n";
}

std::string SummaryTable(const PlanResult& r) {
  std::string out = fmt::format(
      "plan \"{}\": objective {}, value {:.2f} without the holdouts; solver {}: allocated {:.2f}, upper bound {:.2f}, "
      "gap {:.3f} %; {} violations\n",
      r.plan_name, ObjectiveName(r.objective), r.value, r.solver, r.allocated_value, r.upper_bound, 100 * r.gap,
      r.violations);
  out += fmt::format("{:<28} {:<6} {:<10} {:<6} {:>9} {:>9} {:>8} {:>12} {:>14}  {}\n", "campaign", "chan", "send",
                     "prio", "eligible", "selected", "holdout", "exp. buyers", "exp. revenue", "cohort");
  for (const PlannedCampaign& c : r.campaigns) {
    out += fmt::format("{:<28} {:<6} {:<10} {:<6} {:>9} {:>9} {:>8} {:>12.1f} {:>14.2f}  {}\n", c.spec.name,
                       ChannelName(c.spec.channel), c.spec.send_date, PriorityName(c.spec.priority), c.eligible,
                       c.selected.size() - c.holdouts, c.holdouts, c.expected_buyers, c.expected_revenue_sum,
                       c.cohort_id);
  }
  out += "messages per customer:";
  for (const auto& [count, customers] : r.messages_per_customer) out += fmt::format(" {}: {}", count, customers);
  out += "\n";
  return out;
}

bool IsPlanDirectory(const std::string& dir) {
  Result<std::string> text = ReadFile(dir + "/summary.json");
  if (!text.has_value()) return false;
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  return j.is_object() && j.value("format", "") == kPlanFormat;
}

Status WritePlanDirectory(const std::string& dir, const data::Customers& customers, const PlanResult& result) {
  // What an earlier plan wrote here and this one does not: its campaign files go.
  std::vector<std::string> stale;
  if (Result<std::string> old = ReadFile(dir + "/summary.json"); old.has_value()) {
    const nlohmann::json j = nlohmann::json::parse(*old, nullptr, false);
    if (j.is_object() && j.contains("campaigns") && j["campaigns"].is_array()) {
      for (const nlohmann::json& c : j["campaigns"]) {
        if (c.is_object() && c.contains("cohort_id") && c["cohort_id"].is_string()) {
          stale.push_back(c["cohort_id"].get<std::string>());
        }
      }
    }
  }
  CF_RETURN_IF_ERROR(CreateDirectories(dir + "/campaigns"));
  for (const PlannedCampaign& c : result.campaigns) {
    std::string csv = "customer,external_id,alias,device_id,probability,expected_revenue,decile,holdout\n";
    csv.reserve(csv.size() + c.selected.size() * 96);
    for (size_t i = 0; i < c.selected.size(); ++i) {
      const uint32_t p = c.selected[i];
      csv += CsvField(customers.crm_id(p));
      csv += ',';
      csv += CsvField(customers.external_id(p));
      csv += ',';
      csv += CsvField(ChosenAlias(customers.aliases(p)));
      csv += ',';
      csv += CsvField(customers.device_id(p));
      csv += fmt::format(",{:.6f},{:.4f},{},{}\n", c.probability[i], c.expected_revenue[i], c.decile[i],
                         c.holdout[i] ? 1 : 0);
    }
    CF_RETURN_IF_ERROR(WriteFileAtomic(dir + "/campaigns/" + c.cohort_id + ".csv", csv));
    std::erase(stale, c.cohort_id);
  }
  for (const std::string& id : stale) {
    // Only names of the shape CohortId makes: nothing else in the directory is touched.
    if (id.find('/') == std::string::npos && !id.empty() && id[0] != '.') {
      std::remove((dir + "/campaigns/" + id + ".csv").c_str());
    }
  }
  // The summary last: a reader that sees it sees every campaign file it names.
  return WriteFileAtomic(dir + "/summary.json", SummaryJson(result));
}

}  // namespace cf::plan
