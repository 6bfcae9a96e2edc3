// Ingest: read customers, products and events from CSV / JSON Lines (optionally .gz) into a
// dataset directory. The new dataset is built in a temporary directory and renamed into
// place, so a failed ingest leaves the previous dataset (or nothing) untouched. Ingesting
// into an existing dataset appends the new events (and new customers and products) to it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "io/record_reader.h"

namespace cf::data {

// How one input file is read (path, delimiter, format).
using SourceOptions = io::SourceOptions;

struct IngestOptions {
  SourceOptions events;          // required: one row per purchase (customer and time at least)
  SourceOptions products;        // optional: the catalog; without it, derived from events
  SourceOptions customers;       // optional: identities and attributes; without it, from events
  std::string product_key = "product_id";    // products file column that matches events' product
  std::string customer_key = "customer_id";  // customers file column that matches events' customer
  // Logical field -> column name in the events file. Logical fields: customer, time, product,
  // quantity, revenue, channel, store. Unmapped fields use a column of the same name (or
  // customer_id / product_id / store_id / timestamp / date) when present.
  std::map<std::string, std::string> map;
  // Logical field -> column name in the customers file: external_id, device_id, aliases.
  std::map<std::string, std::string> customer_map;
  std::string time_format;       // strftime-style; "" = ISO 8601 (with or without zone)
  bool skip_bad_rows = false;    // count and skip unparseable rows instead of failing
  std::string out;               // dataset directory (created, or appended to if it exists)
};

struct IngestReport {
  uint64_t events_read = 0;      // rows accepted from the events file in this run
  uint64_t bad_rows = 0;         // rows skipped (only with skip_bad_rows)
  std::vector<std::string> first_bad_rows;  // "FILE:LINE: column C: why, value 'V'", up to 10
  uint64_t customers = 0;        // in the dataset after this run
  uint64_t products = 0;
  uint64_t events = 0;
};

// Reads a dataset config file (JSON; see docs/data-formats.md) into `options`; fields given
// there fill what the command line left unset.
Status LoadDatasetConfig(const std::string& path, IngestOptions* options);

Result<IngestReport> Ingest(const IngestOptions& options);

}  // namespace cf::data
