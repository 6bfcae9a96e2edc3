// The event-mapping flags of `audience ingest`, shared with `audience report --purchases`, so
// that a purchases file is read the same way by both.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "data/ingest.h"

namespace cf::cli {

struct IngestFlags {
  data::IngestOptions options;
  std::vector<std::string> map, customer_map, channel_values;
  std::string delimiter, config, encoding, decimal, max_bad_rows;
};

// Registers how events are read: --map, --time-format, --timezone, --decimal, --encoding,
// --channel-values, --delimiter, --config, --skip-bad-rows, --max-bad-rows, --rejects.
void AddEventReadingFlags(CLI::App* cmd, IngestFlags* flags);
// --customer-map, for commands that read a customers file.
void AddCustomerMapFlag(CLI::App* cmd, IngestFlags* flags);

// Turns the flags' text into `flags->options` (maps, delimiter, encoding, decimal, bad-row
// limits, then the config file's settings for what the flags left unset).
Status ApplyIngestFlags(IngestFlags* flags);

}  // namespace cf::cli
