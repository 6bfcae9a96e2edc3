// generate: a synthetic retail dataset with known ground truth (docs/generator.md).
#include <cstdio>
#include <limits>
#include <memory>

#include "apps/audience/commands.h"
#include "data/generator.h"

namespace cf::cli {
namespace {

// The widest values the options' types hold; the generator checks its own narrower limits.
constexpr int64_t kMax64 = std::numeric_limits<int64_t>::max();
constexpr int64_t kMax32 = std::numeric_limits<uint32_t>::max();
constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();

}  // namespace

void AddGenerateCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<data::GeneratorOptions>();
  CLI::App* cmd = app.add_subcommand(
      "generate", "Write synthetic customers, products and purchases with ground-truth purchase probabilities");
  cmd->add_option("--customers", o->customers, "Number of customers")
      ->check(WholeNumber(1, kMax64))
      ->capture_default_str();
  cmd->add_option("--products", o->products, "Number of products")
      ->check(WholeNumber(1, kMax32))
      ->capture_default_str();
  cmd->add_option("--days", o->days, "Days of purchase history")->check(WholeNumber(1, kMaxInt))->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed: the same flags give byte-identical files")
      ->check(WholeNumber(0, kMax64))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Output directory (replaced if it holds an earlier generated dataset)")->required();
  cmd->add_option("--start", o->start, "First day of the history (YYYY-MM-DD, UTC)")->capture_default_str();
  cmd->add_flag("--independent", o->independent,
                "Purchases independent of each customer's history (equal truth probabilities; leakage tests)");
  cmd->add_option("--truth-cutoff", o->truth_cutoff,
                  "First day of the truth window (default: --truth-horizon days before the end)");
  cmd->add_option("--truth-horizon", o->truth_horizon, "Truth window in days")
      ->check(WholeNumber(1, kMaxInt))
      ->capture_default_str();
  cmd->add_option("--truth-categories", o->truth_categories, "Truth covers the K most popular categories")
      ->check(WholeNumber(1, kMax32))
      ->capture_default_str();
  cmd->add_option("--truth-customers", o->truth_customers,
                  "Truth covers all customers, or an evenly spaced sample of this many (0 = none)")
      ->check(WholeNumber(0, kMax64))
      ->capture_default_str();
  AddCommonFlags(cmd);
  cmd->callback([o, exit_code] {
    Result<data::GeneratorReport> report = data::Generate(*o);
    if (!report.has_value()) {
      std::fprintf(stderr, "audience generate: %s\n", report.error().message().c_str());
      *exit_code = 1;
      return;
    }
    const double mb = static_cast<double>(report->bytes_written) / 1e6;
    std::printf(
        "generated %s: %llu customers, %u products in %u categories, %llu purchases, %llu truth rows "
        "(%.1f MB in %.1f s, %.0f purchases/s)\n",
        o->out.c_str(), static_cast<unsigned long long>(report->customers), report->products, report->categories,
        static_cast<unsigned long long>(report->purchases), static_cast<unsigned long long>(report->truth_rows), mb,
        report->seconds, report->seconds > 0 ? static_cast<double>(report->purchases) / report->seconds : 0.0);
  });
}

}  // namespace cf::cli
