// The audience console's files (web/audience), embedded in the binary at build time by
// cmake/embed_files.cmake: nothing is read from disk at run time and nothing from the network.
#pragma once

#include <string_view>

#include "http/console_gate.h"

namespace cf::console {

using http::WebAsset;  // name: a path under web/audience, e.g. "app.js"

// nullptr when no file has this name.
const WebAsset* FindWebAsset(std::string_view name);

}  // namespace cf::console
