#include "base/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <string>

namespace cf {

Status SetLogLevel(std::string_view level) {
  static const bool installed = [] {
    auto logger = spdlog::stderr_color_mt("cohortflow");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    spdlog::set_default_logger(logger);
    return true;
  }();
  (void)installed;
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    return Status::InvalidArgument("unknown log level '" + std::string(level) +
                                   "' (valid: trace, debug, info, warn, error, off)");
  }
  spdlog::set_level(lvl);
  return Status::OK();
}

}  // namespace cf
