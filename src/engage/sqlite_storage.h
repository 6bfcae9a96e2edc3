// The embedded Storage: one SQLite file in WAL mode, shared by `engage serve` and the admin
// command line (another process may write at any time; every read goes to the database).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engage/storage.h"

namespace cf::engage {

struct SqliteStorageOptions {
  std::string path;              // the database file, e.g. DIR/engage.db
  bool synchronous_full = true;  // true: fsync the WAL at every commit (durable on power loss)
  int busy_timeout_ms = 10000;   // how long a writer waits for another process's write lock
  int cache_mib = 64;            // page cache per connection; the default 2 MiB thrashes at 1M profiles
  bool create = true;            // false: a missing database is an error (read-only commands)
  // Called once per wait for another process's write lock that lasts busy_notice_after_ms.
  std::function<void()> on_busy_wait;
  int busy_notice_after_ms = 1000;
};

Result<std::unique_ptr<Storage>> OpenSqliteStorage(const SqliteStorageOptions& options);

}  // namespace cf::engage
