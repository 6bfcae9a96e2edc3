// Logging with levels (spdlog underneath). Logs go to stderr so stdout stays for results.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "base/status.h"

namespace cf {

// Sets the process-wide level: trace, debug, info, warn, error, off.
Status SetLogLevel(std::string_view level);

}  // namespace cf

#define CF_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define CF_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define CF_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define CF_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
