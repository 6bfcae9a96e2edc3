// plan: allocate customers across a plan's campaigns under its pressure rules, draw the
// holdouts, and write the plan directory that `audience export` sends to engage.
#include <cstdio>
#include <string>

#include "apps/audience/commands.h"
#include "base/files.h"
#include "base/log.h"
#include "base/time.h"
#include "data/dataset.h"
#include "model/universal.h"
#include "plan/plan_file.h"
#include "plan/planner.h"

namespace cf::cli {
namespace {

struct PlanFlags {
  std::string data, model_dir, plan, out, at;
  plan::PlannerOptions options;
  bool json = false;
};

Status RunPlan(const PlanFlags& f) {
  plan::PlannerOptions options = f.options;
  CF_ASSIGN_OR_RETURN(options.as_of, ParseAtFlag(f.at));
  CF_RETURN_IF_ERROR(options.Validate());
  CF_RETURN_IF_ERROR(
      CheckOutputDirectory("--out", f.out, "a plan directory written by audience plan", plan::IsPlanDirectory));
  CF_RETURN_IF_ERROR(CheckOutside("--out", f.out, "dataset", f.data));
  CF_RETURN_IF_ERROR(CheckOutside("--out", f.out, "model", f.model_dir));
  CF_ASSIGN_OR_RETURN(plan::PlanFile plan_file, plan::ReadPlanFile(f.plan));
  CF_ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> ds, data::Dataset::Open(f.data));
  CF_ASSIGN_OR_RETURN(std::unique_ptr<model::UniversalModel> m,
                      model::UniversalModel::Load(f.model_dir, ds->catalog(), options.threads));
  // Under mpirun the ranks share the scoring; every rank allocates the same plan and rank 0
  // writes it.
  m->ShardAcross(Shards());
  if (!IsRoot()) {
    Result<plan::PlanResult> same = plan::MakePlan(*ds, *m, plan_file, options);
    return same.has_value() ? Status::OK() : same.error();
  }
  CF_ASSIGN_OR_RETURN(plan::PlanResult result, plan::PlanIntoDirectory(*ds, *m, plan_file, options, f.out));
  if (f.json) {
    std::fputs(plan::SummaryJson(result).c_str(), stdout);
  } else {
    std::fputs(plan::SummaryTable(result).c_str(), stdout);
    std::printf("scored in %.2f s, solved in %.2f s; wrote %s\n", result.seconds_scoring, result.seconds_solving,
                f.out.c_str());
  }
  return Status::OK();
}

}  // namespace

void AddPlanCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<PlanFlags>();
  CLI::App* p = app.add_subcommand("plan", "Allocate customers across a plan's campaigns under its pressure rules");
  p->add_option("--data", flags->data, "Dataset directory written by audience ingest")->required();
  p->add_option("--model", flags->model_dir, "Model directory written by audience train")->required();
  p->add_option("--plan", flags->plan, "Plan file (JSON, see docs/plan.md)")->required();
  p->add_option("--out", flags->out,
                "Plan directory to write: summary.json and campaigns/<cohort_id>.csv (its export journal stays)")
      ->required();
  p->add_option("--solver", flags->options.solver, "exact, fast, or auto (exact when the instance is small)")
      ->capture_default_str();
  p->add_option("--seed", flags->options.seed, "Seed of the holdout draw")->capture_default_str();
  p->add_option("--at", flags->at, "Score as of this date or time, ISO 8601 (default: just after the last event)");
  p->add_option("--threads", flags->options.threads, "Scoring and solver threads (0 = all cores)")
      ->check(WholeNumber(0, 1024))
      ->capture_default_str();
  p->add_flag("--json", flags->json, "Print the summary as JSON (as summary.json holds it) instead of a table");
  AddCommonFlags(p);
  p->callback([flags, exit_code] {
    const Status s = RunPlan(*flags);
    if (!s.ok()) std::fprintf(stderr, "audience plan: %s\n", s.message().c_str());
    *exit_code = s.ok() ? 0 : 1;
  });
}

}  // namespace cf::cli
