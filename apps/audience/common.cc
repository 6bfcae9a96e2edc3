#include <cstdio>
#include <string>

#include "apps/audience/commands.h"
#include "base/log.h"
#include "base/progress.h"

namespace cf::cli {

void AddCommonFlags(CLI::App* cmd) {
  auto level = std::make_shared<std::string>("info");
  cmd->add_option("--log-level", *level, "Log level: trace, debug, info, warn, error, off")
      ->capture_default_str();
  cmd->add_flag_callback("--quiet", [] { Progress::SetEnabled(false); }, "No progress bars");
  cmd->parse_complete_callback([level] {
    Status s = SetLogLevel(*level);
    if (!s.ok()) throw CLI::ValidationError("--log-level", s.message());
  });
}

}  // namespace cf::cli
