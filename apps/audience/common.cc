#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "apps/audience/commands.h"
#include "base/files.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/strings.h"
#include "base/time.h"

namespace cf::cli {
namespace {

namespace fs = std::filesystem;

std::string CommandNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
  }
  return Join(names, ", ");
}

// The option of `cmd` named by a command-line token ("--json", "--top=5"), or null.
const CLI::Option* OptionOf(const CLI::App& cmd, const std::string& token) {
  if (!StartsWith(token, "-")) return nullptr;
  const std::string name = token.substr(0, token.find('='));
  for (const CLI::Option* opt : cmd.get_options()) {
    if (opt->check_name(name)) return opt;
  }
  return nullptr;
}

// What the parser could not place, in the words of the README: unknown flags and stray
// arguments, with a hint when a stray argument follows a flag that takes no value.
std::string StrayArguments(const CLI::App& cmd, const std::vector<std::string>& stray, int argc, char** argv) {
  std::vector<std::string> parts;
  for (const std::string& arg : stray) {
    if (StartsWith(arg, "-") && !ParseDouble(arg).has_value()) {
      parts.push_back(fmt::format("unknown flag '{}'", arg));
      continue;
    }
    std::string part = fmt::format("unexpected argument '{}'", arg);
    for (int i = 2; i < argc; ++i) {
      const CLI::Option* before = OptionOf(cmd, argv[i - 1]);
      if (arg == argv[i] && before != nullptr && before->get_expected_max() == 0) {
        const std::string flag = before->get_name();
        part += fmt::format(" ({} is a flag and takes no value", flag);
        // --json prints to stdout; a file is --json-out's.
        if (OptionOf(cmd, flag + "-out") != nullptr) part += fmt::format("; {}-out {} writes a file", flag, arg);
        part += ")";
        break;
      }
    }
    parts.push_back(part);
  }
  return Join(parts, "; ");
}

// CLI11's message for an error, rephrased where its wording is not ours.
std::string ParserMessage(const CLI::App& cmd, const CLI::ParseError& e, int argc, char** argv) {
  std::vector<std::string> stray = cmd.remaining();
  if (cmd.get_parent() != nullptr) {
    for (const std::string& arg : cmd.get_parent()->remaining()) stray.push_back(arg);
  }
  // An unknown flag explains a missing required one ("--dta x"), so it is named first.
  if (!stray.empty()) return StrayArguments(cmd, stray, argc, argv);
  const std::string what = e.what();
  if (e.get_name() == "ArgumentMismatch") {
    const size_t colon = what.find(':');
    return fmt::format("{} needs a value", what.substr(0, colon));
  }
  return what;
}

}  // namespace

void AddCommonFlags(CLI::App* cmd) {
  auto level = std::make_shared<std::string>("info");
  cmd->add_option("--log-level", *level, "Log level: trace, debug, info, warn, error, off")->capture_default_str();
  cmd->add_flag_callback(
      "--quiet", [] { Progress::SetEnabled(false); }, "No progress bars");
  cmd->parse_complete_callback([level] {
    Status s = SetLogLevel(*level);
    if (!s.ok()) throw CLI::ValidationError("--log-level", s.message());
  });
}

namespace {
const Collective* g_shards = nullptr;
}  // namespace

const Collective* Shards() { return g_shards; }
void SetShards(const Collective* shards) { g_shards = shards; }
bool IsRoot() { return !Sharded(g_shards) || g_shards->rank() == 0; }

int RunCommandLine(CLI::App& app, int argc, char** argv, const int& exit_code) {
  const std::string root = app.get_name();
  if (argc < 2) {
    std::fprintf(stderr, "%s: no command given; the commands are %s; see '%s --help'\n", root.c_str(),
                 CommandNames(app).c_str(), root.c_str());
    return 1;
  }
  const std::string first = argv[1];
  const auto named = [&first](CLI::App* sub) { return sub->check_name(first); };
  if (!StartsWith(first, "-") && app.get_subcommands(named).empty()) {
    std::fprintf(stderr, "%s: unknown command '%s'; the commands are %s; see '%s --help'\n", root.c_str(),
                 first.c_str(), CommandNames(app).c_str(), root.c_str());
    return 1;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    // The deepest command chosen ("audience campaign add"), so the message and its help hint
    // name the command the mistake was made in.
    const CLI::App* cmd = &app;
    std::string name = root;
    while (!cmd->get_subcommands().empty()) {
      cmd = cmd->get_subcommands().front();
      name += " " + cmd->get_name();
    }
    std::fprintf(stderr, "%s: %s; see '%s --help'\n", name.c_str(), ParserMessage(*cmd, e, argc, argv).c_str(),
                 name.c_str());
    return 1;
  } catch (const std::exception& e) {
    // The last line of defence: whatever a library throws, the process ends with a message
    // and exit code 1 rather than an abort.
    const std::vector<CLI::App*> chosen = app.get_subcommands();
    const std::string name = chosen.empty() ? root : root + " " + chosen.front()->get_name();
    std::fprintf(stderr, "%s: internal error: %s\n", name.c_str(), e.what());
    return 1;
  }
  return exit_code;
}

CLI::Validator WholeNumber(int64_t min, int64_t max) {
  return CLI::Validator(
      [min, max](std::string& value) -> std::string {
        const std::optional<int64_t> n = ParseInt64(value);
        if (n.has_value() && *n >= min && *n <= max) return "";
        if (max == std::numeric_limits<int64_t>::max()) {
          return fmt::format("expected a whole number of at least {}, got '{}'", min, value);
        }
        return fmt::format("expected a whole number from {} to {}, got '{}'", min, max, value);
      },
      "");
}

std::string FileHead(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string head(n, '\0');
  in.read(head.data(), static_cast<std::streamsize>(n));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

Status CheckOutputFile(std::string_view flag, const std::string& path, std::string_view kind,
                       const Recognizer& is_ours) {
  if (path.empty()) {
    return Status::InvalidArgument(fmt::format("{} is empty: give the path of the file to write", flag));
  }
  if (IsDirectory(path)) {
    return Status::AlreadyExists(fmt::format("{} {} is a directory: give the path of the file to write", flag, path));
  }
  // An empty file holds nothing to lose (mktemp makes them).
  if (PathExists(path) && FileSize(path).value_or(1) > 0 && !is_ours(path)) {
    return Status::AlreadyExists(
        fmt::format("{} {} exists and is not {}; it was left untouched: choose another path", flag, path, kind));
  }
  std::string parent = fs::path(path).parent_path().string();
  if (parent.empty()) parent = ".";
  if (!PathExists(parent)) {
    return Status::NotFound(fmt::format("{} {}: the directory {} does not exist", flag, path, parent));
  }
  if (!IsDirectory(parent)) {
    return Status::InvalidArgument(fmt::format("{} {}: {} is not a directory", flag, path, parent));
  }
  if (::access(parent.c_str(), W_OK) != 0) {
    return Status::PermissionDenied(fmt::format("{} {}: cannot write in the directory {}", flag, path, parent));
  }
  return Status::OK();
}

Status CheckOutputDirectory(std::string_view flag, const std::string& path, std::string_view kind,
                            const Recognizer& is_ours) {
  if (path.empty()) {
    return Status::InvalidArgument(fmt::format("{} is empty: give the directory to write", flag));
  }
  if (!PathExists(path)) {
    // Missing parents are created; a file where one of them should be is found now, not after the work.
    fs::path ancestor = fs::absolute(path).parent_path();
    while (!PathExists(ancestor.string()) && ancestor != ancestor.parent_path()) ancestor = ancestor.parent_path();
    if (!IsDirectory(ancestor.string())) {
      return Status::InvalidArgument(
          fmt::format("{} {}: {} is a file, not a directory", flag, path, ancestor.string()));
    }
    return Status::OK();
  }
  if (!IsDirectory(path)) {
    return Status::AlreadyExists(fmt::format(
        "{} {} exists and is a file, not {}; it was left untouched: choose another path", flag, path, kind));
  }
  std::error_code ec;
  if ((fs::is_empty(path, ec) && !ec) || is_ours(path)) return Status::OK();
  return Status::AlreadyExists(fmt::format(
      "{} {} is a directory that is not {}; it was left untouched: choose a new or empty directory", flag, path, kind));
}

Status CheckOutside(std::string_view flag, const std::string& path, std::string_view what, const std::string& dir) {
  std::error_code ec;
  const fs::path inside = fs::weakly_canonical(fs::absolute(path, ec), ec);
  const fs::path outer = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  if (ec) return Status::OK();
  for (fs::path p = inside; !p.empty(); p = p.parent_path()) {
    if (p == outer) {
      return Status::InvalidArgument(
          fmt::format("{} {} lies inside the {} {}, which is replaced whole when rewritten: write it elsewhere", flag,
                      path, what, dir));
    }
    if (p == p.parent_path()) break;
  }
  return Status::OK();
}

bool IsDataset(const std::string& dir) {
  const Result<std::string> text = ReadFile(dir + "/dataset.json");
  if (!text.has_value()) return false;
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains("format") && j["format"] == "cohortflow-dataset";
}

Result<std::optional<int64_t>> ParseAtFlag(const std::string& value) {
  if (value.empty()) return std::optional<int64_t>();
  Result<int64_t> t = ParseIsoTime(value);
  if (!t.has_value()) return Err(t.error().WithPrefix("--at"));
  return std::optional<int64_t>(*t);
}

}  // namespace cf::cli
