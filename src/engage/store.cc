#include "engage/store.h"

#include "engage/engage.h"
#include "engage/postgres_storage.h"
#include "engage/sqlite_storage.h"

namespace cf::engage {

Status StoreOptions::Validate() const {
  if (!store_url.empty()) {
    if (!IsPostgresUrl(store_url)) {
      return Status::InvalidArgument("--store '" + store_url +
                                     "' is not a store URL; valid: postgresql://[user[:password]@]host[:port]/database "
                                     "(or omit --store for the SQLite store in --data DIR)");
    }
    return Status::OK();
  }
  if (data_dir.empty()) return Status::InvalidArgument("--data must name a directory");
  return Status::OK();
}

std::string StoreOptions::Describe() const {
  if (store_url.empty()) return data_dir;
  auto scheme = store_url.find("://");
  auto at = store_url.find('@');
  if (scheme == std::string::npos || at == std::string::npos) return store_url;
  auto colon = store_url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return store_url;
  return store_url.substr(0, colon) + ":***" + store_url.substr(at);
}

Result<std::unique_ptr<Storage>> OpenStore(const StoreOptions& options) {
  CF_RETURN_IF_ERROR(options.Validate());
  if (options.postgres()) {
    PostgresStorageOptions po;
    po.url = options.store_url;
    po.migrate = options.migrate;
    return OpenPostgresStorage(po);
  }
  SqliteStorageOptions so;
  so.path = options.data_dir + "/engage.db";
  so.create = !options.read_only;
  so.synchronous_full = options.synchronous_full;
  so.busy_timeout_ms = options.busy_timeout_ms;
  so.on_busy_wait = options.on_busy_wait;
  if (!options.read_only) CF_RETURN_IF_ERROR(CreateDataDirectory(options.data_dir));
  return OpenSqliteStorage(so);
}

}  // namespace cf::engage
