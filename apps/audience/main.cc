// audience: the predictive audience builder's command line.
#include "apps/audience/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"audience: predictive CRM audiences (ingest, generate, train, score, evaluate)", "audience"};
  app.set_version_flag("--version", "audience " CF_VERSION, "Print the version and exit");
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
