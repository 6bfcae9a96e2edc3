// Braze's CSV user import (`engage users import`): a header row naming the identifier columns
// and the attributes, then one user per row. Rows create or update identified profiles (by
// `external_id`) and alias-only profiles (by an alias), in batches of one transaction each.
//
// Safe while `engage serve` runs on the same database: the server resolves identifiers (cohort
// import, /users/export/ids, segments) through the database on every request and keeps no
// cache of profiles, and an import only adds profiles or identifiers, so nothing the server
// holds in memory (cohort bitmaps over profile indexes) goes stale. See docs/engage.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engage/engage.h"
#include "engage/storage.h"

namespace cf::engage {

struct UserImportOptions {
  std::string csv_path;                       // the CSV file (optionally gzip-compressed)
  std::string workspace = kDefaultWorkspace;  // must exist, except `default`, which is created
  size_t batch_rows = 1000;                   // rows per transaction: the server waits at most one batch
  size_t max_reported_errors = 1000;          // row errors kept in the report (all are counted)
  // A pause after each committed batch, so that writers waiting for the database's write lock
  // (a running server's, which retry every 20 ms) get it between two batches instead of
  // waiting for the whole import.
  int pause_between_batches_ms = 25;

  Status Validate() const;
};

// One row that was not imported.
struct UserImportRowError {
  uint64_t line = 0;   // 1-based line of the row
  std::string column;  // the column at fault, "" for the row as a whole
  std::string value;   // the cell, when one is at fault
  std::string message;
  // "FILE:LINE: column 'C': MESSAGE (value 'V')".
  std::string ToString(const std::string& path) const;
};

struct UserImportReport {
  uint64_t rows = 0;  // data rows read
  uint64_t created = 0;
  uint64_t updated = 0;
  uint64_t failed = 0;
  std::vector<UserImportRowError> errors;  // the first max_reported_errors of them, in file order
};

// Called after each committed batch with the bytes of the file read so far and in all.
using UserImportProgress = std::function<void(uint64_t done, uint64_t total)>;

// Imports the file. A header the import cannot use (no identifier column, a reserved or
// malformed column name) is an error and imports nothing. A bad row is reported and skipped;
// the others are imported. An error of the database or of the file itself stops the import:
// the batches committed before it stay imported, and the error says up to which line.
Result<UserImportReport> ImportUsers(Storage& storage, const UserImportOptions& options, int64_t now,
                                     const UserImportProgress& progress = {});

}  // namespace cf::engage
