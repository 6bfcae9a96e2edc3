// The exact solver: the allocation as a 0/1 program, one variable per candidate, solved tier by
// tier (high, medium, low) with each earlier tier's optimum kept as a constraint.
#include <fmt/format.h>
#include <glpk.h>

#include <chrono>
#include <cmath>

#include "plan/solver_internal.h"

namespace cf::plan::internal {
namespace {

// "sum of coef * x <= rhs" over 0-based columns.
struct Row {
  std::vector<int> cols;
  std::vector<double> coefs;
  double rhs = 0;
  bool at_least = false;  // ">= rhs" instead
};

struct Mip {
  int num_cols = 0;
  std::vector<Row> rows;
};

// The tier constraints keep an earlier optimum up to this relative slack, so that rounding in
// the solver never makes the next tier infeasible.
constexpr double kTierTolerance = 1e-7;

Result<std::vector<double>> SolveMip(const Mip& mip, const std::vector<double>& objective, double seconds) {
  glp_term_out(GLP_OFF);
  glp_prob* lp = glp_create_prob();
  glp_set_obj_dir(lp, GLP_MAX);
  if (mip.num_cols > 0) glp_add_cols(lp, mip.num_cols);
  for (int c = 0; c < mip.num_cols; ++c) {
    glp_set_col_kind(lp, c + 1, GLP_BV);
    glp_set_obj_coef(lp, c + 1, objective[c]);
  }
  if (!mip.rows.empty()) glp_add_rows(lp, static_cast<int>(mip.rows.size()));
  std::vector<int> ia{0}, ja{0};
  std::vector<double> ar{0};
  for (size_t r = 0; r < mip.rows.size(); ++r) {
    const Row& row = mip.rows[r];
    glp_set_row_bnds(lp, static_cast<int>(r) + 1, row.at_least ? GLP_LO : GLP_UP, row.rhs, row.rhs);
    for (size_t i = 0; i < row.cols.size(); ++i) {
      ia.push_back(static_cast<int>(r) + 1);
      ja.push_back(row.cols[i] + 1);
      ar.push_back(row.coefs[i]);
    }
  }
  glp_load_matrix(lp, static_cast<int>(ia.size()) - 1, ia.data(), ja.data(), ar.data());
  glp_iocp params;
  glp_init_iocp(&params);
  params.presolve = GLP_ON;
  params.mip_gap = 0;
  params.tm_lim = static_cast<int>(std::min(seconds * 1000, 86400e3));
  const int rc = glp_intopt(lp, &params);
  const int status = glp_mip_status(lp);
  if (rc == GLP_ETMLIM) {
    glp_delete_prob(lp);
    return Err(Status::ResourceExhausted(
        fmt::format("the exact solver found no proven optimum within exact_time_limit_seconds = {}", seconds)));
  }
  if (rc != 0 || status != GLP_OPT) {
    glp_delete_prob(lp);
    return Err(Status::Internal(
        fmt::format("the MIP solver (GLPK) stopped without an optimum (code {}, status {})", rc, status)));
  }
  std::vector<double> out(mip.num_cols);
  for (int c = 0; c < mip.num_cols; ++c) out[c] = glp_mip_col_val(lp, c + 1);
  glp_delete_prob(lp);
  return out;
}

class ExactSolver final : public Solver {
 public:
  std::string_view name() const override { return "exact"; }

  Result<Allocation> Solve(const AllocationProblem& problem, const SolveOptions& options) const override {
    CF_RETURN_IF_ERROR(options.Validate());
    CF_RETURN_IF_ERROR(problem.Validate());
    if (Sharded(options.collective)) return SolveGathered(problem, options);
    const auto start = std::chrono::steady_clock::now();
    const size_t num_campaigns = problem.campaigns.size();
    std::vector<int> first_col(num_campaigns + 1, 0);
    for (size_t k = 0; k < num_campaigns; ++k) {
      first_col[k + 1] = first_col[k] + static_cast<int>(problem.candidates[k].size());
    }
    Mip mip;
    mip.num_cols = first_col.back();
    for (size_t k = 0; k < num_campaigns; ++k) {
      const auto& list = problem.candidates[k];
      if (list.size() <= problem.campaigns[k].max_audience) continue;
      Row row;
      row.rhs = static_cast<double>(problem.campaigns[k].max_audience);
      for (size_t j = 0; j < list.size(); ++j) {
        row.cols.push_back(first_col[k] + static_cast<int>(j));
        row.coefs.push_back(1);
      }
      mip.rows.push_back(std::move(row));
    }
    AddPressureRows(problem, first_col, mip);

    Allocation result;
    result.solver = "exact";
    result.selected.assign(num_campaigns, {});
    std::vector<double> x(mip.num_cols, 0);
    for (int tier = 0; tier < kPriorityCount; ++tier) {
      std::vector<double> objective(mip.num_cols, 0);
      Row keep;
      for (size_t k = 0; k < num_campaigns; ++k) {
        if (static_cast<int>(problem.campaigns[k].priority) != tier) continue;
        for (size_t j = 0; j < problem.candidates[k].size(); ++j) {
          const int col = first_col[k] + static_cast<int>(j);
          objective[col] = problem.candidates[k][j].value;
          if (objective[col] > 0) {
            keep.cols.push_back(col);
            keep.coefs.push_back(objective[col]);
          }
        }
      }
      if (keep.cols.empty()) continue;
      Result<std::vector<double>> solved = SolveMip(mip, objective, options.exact_time_limit_seconds);
      // GLPK keeps an environment per thread; free it, or every thread that ever planned
      // (a console job, a test's threads) leaks it when it ends.
      glp_free_env();
      if (!solved.has_value()) return Err(solved.error());
      x = std::move(*solved);
      double best = 0;
      for (size_t i = 0; i < keep.cols.size(); ++i) best += keep.coefs[i] * x[keep.cols[i]];
      keep.at_least = true;
      keep.rhs = best - kTierTolerance * std::max(1.0, best);
      mip.rows.push_back(std::move(keep));
    }
    for (size_t k = 0; k < num_campaigns; ++k) {
      for (size_t j = 0; j < problem.candidates[k].size(); ++j) {
        // A candidate worth nothing is left out: it adds no value and only uses pressure.
        if (x[first_col[k] + j] > 0.5 && problem.candidates[k][j].value > 0) {
          result.selected[k].push_back(problem.candidates[k][j].customer);
        }
      }
    }
    ScoreAllocation(problem, result);
    result.upper_bound = result.value;
    for (int t = 0; t < kPriorityCount; ++t) result.tier_upper_bound[t] = result.tier_value[t];
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }

 private:
  // The program is small (that is when it is chosen): sharded, every process gathers the whole
  // problem, solves the same program, and keeps its own customers' part of the answer.
  Result<Allocation> SolveGathered(const AllocationProblem& problem, const SolveOptions& options) const {
    const Collective* shards = options.collective;
    AllocationProblem whole = problem;
    std::vector<uint8_t> mine(problem.num_customers, 0);
    for (size_t k = 0; k < problem.candidates.size(); ++k) {
      std::vector<uint32_t> customers;
      std::vector<float> values;
      for (const Candidate& c : problem.candidates[k]) {
        mine[c.customer] = 1;
        customers.push_back(c.customer);
        values.push_back(c.value);
      }
      customers = shards->AllGather(std::span<const uint32_t>(customers));
      values = shards->AllGather(std::span<const float>(values));
      whole.candidates[k].clear();
      for (size_t i = 0; i < customers.size(); ++i) whole.candidates[k].push_back({customers[i], values[i]});
    }
    SolveOptions one = options;
    one.collective = nullptr;
    CF_ASSIGN_OR_RETURN(Allocation result, Solve(whole, one));
    for (std::vector<uint32_t>& selected : result.selected) {
      std::erase_if(selected, [&](uint32_t c) { return !mine[c]; });
    }
    return result;
  }

  // Per customer and window rule, one row per window that holds more counted candidates than the
  // cap: a window starting at each counted candidate's day holds every larger set.
  static void AddPressureRows(const AllocationProblem& problem, const std::vector<int>& first_col, Mip& mip) {
    struct Slot {
      int col;
      Message message;
    };
    std::vector<std::vector<Slot>> per_customer(problem.num_customers);
    for (size_t k = 0; k < problem.campaigns.size(); ++k) {
      const CampaignSlot& c = problem.campaigns[k];
      for (size_t j = 0; j < problem.candidates[k].size(); ++j) {
        per_customer[problem.candidates[k][j].customer].push_back(
            {first_col[k] + static_cast<int>(j), {c.send_day, c.channel}});
      }
    }
    const std::vector<WindowRule> rules = ToWindowRules(problem.rules);
    std::vector<Slot> counted;
    for (std::vector<Slot>& slots : per_customer) {
      if (slots.size() < 2) continue;
      std::sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) { return a.message.day < b.message.day; });
      for (const WindowRule& rule : rules) {
        counted.clear();
        for (const Slot& s : slots) {
          if (rule.Counts(s.message.channel)) counted.push_back(s);
        }
        size_t last_end = 0;
        for (size_t i = 0; i < counted.size(); ++i) {
          if (i > 0 && counted[i].message.day == counted[i - 1].message.day) continue;
          size_t end = i;
          while (end < counted.size() && counted[end].message.day <= counted[i].message.day + rule.window - 1) ++end;
          // A window that ends where the previous one ended holds a subset of it.
          if (end - i <= static_cast<size_t>(rule.cap) || end == last_end) continue;
          last_end = end;
          Row row;
          row.rhs = rule.cap;
          for (size_t j = i; j < end; ++j) {
            row.cols.push_back(counted[j].col);
            row.coefs.push_back(1);
          }
          mip.rows.push_back(std::move(row));
        }
      }
    }
  }
};

}  // namespace

std::unique_ptr<Solver> NewExactSolver() { return std::make_unique<ExactSolver>(); }

}  // namespace cf::plan::internal
