// audience: the predictive audience builder's command line.
#include <cstdio>
#include <string>
#include <string_view>

#include "apps/audience/commands.h"
#include "base/progress.h"
#include "dist/mpi.h"

int main(int argc, char** argv) {
  // Under `mpirun -np N`, the ranks of the run; score, top-offers and plan split the customers
  // across them, the other commands run on one process.
  auto ranks = cf::dist::Ranks::Start();
  if (!ranks.has_value()) {
    std::fprintf(stderr, "audience: %s\n", ranks.error().message().c_str());
    return 1;
  }
  const cf::Collective* shards = (*ranks)->collective();
  if (cf::Sharded(shards) && argc >= 2) {
    const std::string_view command = argv[1];
    if (command != "score" && command != "top-offers" && command != "plan") {
      if (shards->rank() == 0) {
        std::fprintf(stderr,
                     "audience %s: runs on one process; of the commands, only score, top-offers and plan run "
                     "across the %d ranks of mpirun (run this one without mpirun)\n",
                     argv[1], shards->size());
      }
      return 1;
    }
  }
  cf::cli::SetShards(shards);
  if (cf::Sharded(shards) && shards->rank() != 0) {
    cf::Progress::SetEnabled(false);  // one bar, rank 0's
  }
  CLI::App app{"audience: predictive CRM audiences (ingest, generate, train, score, evaluate)", "audience"};
  app.set_version_flag("--version",
                       std::string("audience " CF_VERSION) +
                           (cf::dist::BuiltWithMpi() ? " (Open MPI: score, top-offers, plan under mpirun)" : " (no MPI)"),
                       "Print the version and exit");
  app.require_subcommand(1);
  int exit_code = 0;
  cf::cli::AddDataCommands(app, &exit_code);
  cf::cli::AddGenerateCommand(app, &exit_code);
  cf::cli::AddModelCommands(app, &exit_code);
  cf::cli::AddTopOffersCommand(app, &exit_code);
  cf::cli::AddPlanCommand(app, &exit_code);
  cf::cli::AddCampaignCommand(app, &exit_code);
  cf::cli::AddCurveCommand(app, &exit_code);
  cf::cli::AddExportCommand(app, &exit_code);
  cf::cli::AddOpportunitiesCommand(app, &exit_code);
  cf::cli::AddReportCommand(app, &exit_code);
  cf::cli::AddSimulateCommand(app, &exit_code);
  cf::cli::AddServeCommand(app, &exit_code);
  cf::cli::AddUserCommand(app, &exit_code);
  return cf::cli::RunCommandLine(app, argc, argv, exit_code);
}
