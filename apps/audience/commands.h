// The `audience` command line: each file registers its subcommands on the root app.
// A subcommand's callback runs the work and stores the process exit code in `*exit_code`.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/collective.h"
#include "base/status.h"

namespace cf::cli {

// Flags every subcommand shares: --log-level, --quiet.
void AddCommonFlags(CLI::App* cmd);

void AddDataCommands(CLI::App& app, int* exit_code);          // ingest, inspect
void AddGenerateCommand(CLI::App& app, int* exit_code);       // generate
void AddModelCommands(CLI::App& app, int* exit_code);         // train, score, evaluate
void AddTopOffersCommand(CLI::App& app, int* exit_code);      // top-offers
void AddPlanCommand(CLI::App& app, int* exit_code);           // plan
void AddCampaignCommand(CLI::App& app, int* exit_code);       // campaign init|settings|add|edit|remove|list
void AddCurveCommand(CLI::App& app, int* exit_code);          // curve
void AddExportCommand(CLI::App& app, int* exit_code);         // export
void AddOpportunitiesCommand(CLI::App& app, int* exit_code);  // opportunities
void AddReportCommand(CLI::App& app, int* exit_code);         // report
void AddSimulateCommand(CLI::App& app, int* exit_code);       // simulate
void AddServeCommand(CLI::App& app, int* exit_code);          // serve (the audience console)
void AddUserCommand(CLI::App& app, int* exit_code);           // user create|list|remove

// Parses the command line and runs the chosen command. Parser errors follow the README's
// contract: `audience <command>: <message>; see 'audience <command> --help'`, exit code 1.
int RunCommandLine(CLI::App& app, int argc, char** argv, const int& exit_code);

// The ranks of `mpirun -np N audience ...` (null: one process), set by main before the
// commands run. The commands that shard (score, top-offers, plan) split customers across
// them; rank 0 writes the outputs and prints.
const Collective* Shards();
void SetShards(const Collective* shards);
bool IsRoot();  // rank 0, or one process

// A flag's value must be a whole number in [min, max]; the parser's error names the flag.
CLI::Validator WholeNumber(int64_t min, int64_t max);

// Whether an existing file or directory is one this command wrote and may replace.
using Recognizer = std::function<bool(const std::string& path)>;

// Checks, before any work, that `path` (the value of `flag`) can be written as a file: its
// directory exists and is writable, and it is not a directory. An existing file is replaced
// only when it is empty or `is_ours` recognizes it; `kind` says what that is ("a scores CSV").
Status CheckOutputFile(std::string_view flag, const std::string& path, std::string_view kind,
                       const Recognizer& is_ours);

// Checks, before any work, that `path` can be written as a directory: it does not exist, is
// empty, or is `kind` as `is_ours` recognizes it. Anything else stays untouched.
Status CheckOutputDirectory(std::string_view flag, const std::string& path, std::string_view kind,
                            const Recognizer& is_ours);

// Refuses `path` inside the directory `dir` (a dataset or model, which is replaced whole
// when rewritten, so anything put inside it would be lost).
Status CheckOutside(std::string_view flag, const std::string& path, std::string_view what, const std::string& dir);

// Recognizers of the directories the commands write.
bool IsDataset(const std::string& dir);  // dataset.json of format cohortflow-dataset

// The value of an `--at` flag: nullopt when empty (the command's default, just after the last
// event), else the ISO 8601 time, or an error prefixed "--at".
Result<std::optional<int64_t>> ParseAtFlag(const std::string& value);


// The first `n` bytes of a file ("" if it cannot be read).
std::string FileHead(const std::string& path, size_t n);

}  // namespace cf::cli
