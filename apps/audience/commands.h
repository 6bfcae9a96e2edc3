// The `audience` command line: each file registers its subcommands on the root app.
// A subcommand's callback runs the work and stores the process exit code in `*exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace cf::cli {

// Flags every subcommand shares: --log-level, --quiet.
void AddCommonFlags(CLI::App* cmd);

void AddDataCommands(CLI::App& app, int* exit_code);      // ingest, inspect
void AddGenerateCommand(CLI::App& app, int* exit_code);   // generate
void AddModelCommands(CLI::App& app, int* exit_code);     // train, score, evaluate
void AddTopOffersCommand(CLI::App& app, int* exit_code);  // top-offers

}  // namespace cf::cli
