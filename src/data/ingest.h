// Ingest: read customers, products and events from CSV / JSON Lines (optionally gzip) into a
// dataset directory. The new dataset is built in a temporary directory and renamed into
// place, so a failed ingest leaves the previous dataset (or nothing) untouched. Ingesting
// into an existing dataset appends the new events (and new customers and products) to it; an
// events file whose content was already ingested into the dataset is skipped (see Batch).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "data/format.h"
#include "io/record_reader.h"

namespace cf::data {

// How one input file is read (path, delimiter, format, encoding).
using SourceOptions = io::SourceOptions;

struct IngestOptions {
  SourceOptions events;                      // required: one row per purchase (customer and time at least)
  SourceOptions products;                    // optional: the catalog; without it, derived from events
  SourceOptions customers;                   // optional: identities and attributes; without it, from events
  std::string product_key = "product_id";    // products file column that matches events' product
  std::string customer_key = "customer_id";  // customers file column that matches events' customer
  // Logical field -> column name in the events file. Logical fields: customer, time, product,
  // quantity, revenue, channel, store. Unmapped fields use a column of the same name (or
  // customer_id / product_id / store_id / timestamp / date) when present. JSON Lines columns
  // of nested objects are dotted paths (line.price.amount).
  std::map<std::string, std::string> map;
  // Logical field -> column name in the customers file: external_id, device_id, aliases, email
  // (the email becomes the customer's `email` alias).
  std::map<std::string, std::string> customer_map;
  // strftime-style (see TimeFormat), "epoch" (seconds since 1970, fractions allowed) or
  // "epoch_ms" (milliseconds); "" = ISO 8601 (with or without zone).
  std::string time_format;
  // IANA zone of times written without an offset ("" = UTC). Times with an offset keep it.
  std::string timezone;
  // Decimal mark of quantity, revenue and numeric attributes: '.' or ','. With ',', a '.' or
  // a space between groups of three digits is a thousands separator (1.234,50).
  char decimal = '.';
  // Extra spellings of the channel values: (online|offline, value as written in the file),
  // matched without regard to case. "online" and "offline" are always understood.
  std::vector<std::pair<std::string, std::string>> channel_values;
  // Bad rows. With none of these set, the first bad row stops the ingest. skip_bad_rows skips
  // and counts any number of them; max_bad_rows (a count) or max_bad_share (a fraction of the
  // rows read, 0..1) skip them up to that limit and fail above it. In every case a run in
  // which rows were read and every one was bad fails.
  bool skip_bad_rows = false;
  std::optional<uint64_t> max_bad_rows;
  std::optional<double> max_bad_share;
  // Where to write the rejected rows (CSV: file, line, reason, record); "" = nowhere. Written
  // whenever rows were rejected, also when the ingest fails for too many of them.
  std::string rejects;
  std::string out;  // dataset directory (created, or appended to if it exists)

  // Checks the settings that need no file (names of fields, encodings, zones, limits).
  Status Validate() const;
};

// Parses a bad-row limit: "N" (a count), "P%" (a share of the rows read) or "0.F" (a share).
Status ParseBadRowLimit(std::string_view text, IngestOptions* options);

struct IngestReport {
  uint64_t events_read = 0;                                       // rows accepted from the events file in this run
  uint64_t rows_read = 0;                                         // rows of every input file in this run, good and bad
  uint64_t bad_rows = 0;                                          // rows skipped
  std::vector<std::pair<std::string, uint64_t>> bad_row_reasons;  // reason -> rows, most frequent first
  std::vector<std::string> first_bad_rows;                        // "FILE:LINE: column C: why, value 'V'", up to 10
  std::vector<std::string> warnings;     // problems that lost no row (duplicates, text in numbers, ...)
  bool events_already_ingested = false;  // the events file matched a batch of the dataset
  uint64_t customers = 0;                // in the dataset after this run
  uint64_t products = 0;
  uint64_t events = 0;
};

// Reads a dataset config file (JSON; see docs/data-formats.md) into `options`; fields given
// there fill what the command line left unset.
Status LoadDatasetConfig(const std::string& path, IngestOptions* options);

Result<IngestReport> Ingest(const IngestOptions& options);

}  // namespace cf::data
