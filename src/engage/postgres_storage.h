// The scale-out Storage: a PostgreSQL 15 database over libpq, shared by several `engage serve`
// processes and the admin command line. Same tables as the SQLite store; the schema is versioned
// (table schema_version) and upgraded by numbered migrations when a store opens it.
#pragma once

#include <memory>
#include <string>

#include "engage/storage.h"

namespace cf::engage {

struct PostgresStorageOptions {
  std::string url;         // a libpq connection string, e.g. postgresql://user@host:5432/engage
  bool migrate = true;     // false: an older schema is an error instead of being upgraded
  int max_idle_connections = 8;

  Status Validate() const;
};

// True for the store arguments this backend takes: postgresql:// or postgres:// URLs.
bool IsPostgresUrl(const std::string& store);

Result<std::unique_ptr<Storage>> OpenPostgresStorage(const PostgresStorageOptions& options);

// The schema version the database at `url` has, and the one this engage writes.
struct SchemaVersions {
  int database = 0;
  int current = 0;
};
Result<SchemaVersions> PostgresSchemaVersions(const std::string& url);

// Per table: row count and an order-independent checksum of every row's values, computed the
// same way for both backends so that a copied store can be compared with its source.
struct TableSummary {
  std::string table;
  int64_t rows = 0;
  std::string checksum;  // hex
};
Result<std::vector<TableSummary>> SummarizeSqlite(const std::string& sqlite_path);
Result<std::vector<TableSummary>> SummarizePostgres(const std::string& url);

// Copies every row of the SQLite store at `sqlite_path` into the PostgreSQL database at `url`,
// which must hold no engage data yet, in one transaction; then compares the tables' summaries
// and fails (rolling back) on any difference. Returns the summaries.
Result<std::vector<TableSummary>> CopySqliteToPostgres(const std::string& sqlite_path, const std::string& url);

}  // namespace cf::engage
