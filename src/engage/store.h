// Opens engage's Storage from what an operator names: a data directory (--data DIR, the embedded
// SQLite store DIR/engage.db, the default) or a database URL (--store postgresql://...).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engage/storage.h"

namespace cf::engage {

struct StoreOptions {
  std::string data_dir = "data";  // used when store_url is empty
  std::string store_url;          // postgresql://... ; empty: SQLite in data_dir
  bool read_only = false;         // SQLite: never create the database
  bool synchronous_full = true;   // SQLite: fsync every commit
  int busy_timeout_ms = 10000;    // SQLite: waiting for another process's write lock
  std::function<void()> on_busy_wait;
  bool migrate = true;            // PostgreSQL: apply missing schema migrations on open

  Status Validate() const;
  bool postgres() const { return !store_url.empty(); }
  // For messages: the directory or the URL without its password.
  std::string Describe() const;
};

Result<std::unique_ptr<Storage>> OpenStore(const StoreOptions& options);

}  // namespace cf::engage
