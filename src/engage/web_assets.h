// The console's files (web/engage), embedded in the binary at build time by
// cmake/embed_files.cmake: nothing is read from disk at run time and nothing from the network.
#pragma once

#include <cstddef>
#include <string_view>

namespace cf::engage {

struct WebAsset {
  const char* name;  // path under web/engage, e.g. "app.js"
  const unsigned char* data;
  size_t size;
};

// nullptr when no file has this name.
const WebAsset* FindWebAsset(std::string_view name);

}  // namespace cf::engage
