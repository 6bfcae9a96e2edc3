// The console's files (web/engage), embedded in the binary at build time by
// cmake/embed_files.cmake: nothing is read from disk at run time and nothing from the network.
#pragma once

#include <string_view>

#include "http/console_gate.h"

namespace cf::engage {

using http::WebAsset;  // name: a path under web/engage, e.g. "app.js"

// nullptr when no file has this name.
const WebAsset* FindWebAsset(std::string_view name);

}  // namespace cf::engage
