#include "apps/audience/ingest_flags.h"

#include <map>
#include <utility>

#include "base/strings.h"

namespace cf::cli {
namespace {

// Splits repeated "a=b,c=d" flag values into (a, b) pairs, trimmed; `form` names the shape in
// the error ("FIELD=COLUMN (e.g. customer=household_id)").
Result<std::vector<std::pair<std::string, std::string>>> ParsePairs(const std::vector<std::string>& items,
                                                                    const char* flag, const char* form) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const std::string& item : items) {
    for (std::string_view pair : Split(item, ',')) {
      pair = Trim(pair);
      if (pair.empty()) continue;
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0 || eq + 1 == pair.size()) {
        return Err(Status::InvalidArgument(std::string(flag) + ": '" + std::string(pair) + "' is not " + form));
      }
      pairs.emplace_back(Trim(pair.substr(0, eq)), Trim(pair.substr(eq + 1)));
    }
  }
  return pairs;
}

// --map and --customer-map: a later FIELD wins.
Status ParseMap(const std::vector<std::string>& items, const char* flag, std::map<std::string, std::string>* out) {
  CF_ASSIGN_OR_RETURN(auto pairs, ParsePairs(items, flag, "FIELD=COLUMN (e.g. customer=household_id)"));
  for (auto& [field, column] : pairs) (*out)[field] = std::move(column);
  return Status::OK();
}

Result<char> Delimiter(const std::string& d) {
  if (d.empty()) return '\0';
  if (d == "\\t" || d == "tab") return '\t';
  if (d.size() != 1)
    return Err(Status::InvalidArgument("--delimiter must be one character (or 'tab'), got '" + d + "'"));
  return d[0];
}

// "online=web,offline=store": repeated channels are allowed (several spellings of one).
Status ParseChannelValues(const std::vector<std::string>& items, data::IngestOptions* o) {
  CF_ASSIGN_OR_RETURN(auto pairs,
                      ParsePairs(items, "--channel-values", "CHANNEL=VALUE (e.g. online=web or offline=store)"));
  for (auto& [channel, value] : pairs) o->channel_values.emplace_back(ToLower(channel), std::move(value));
  return Status::OK();
}

}  // namespace

void AddEventReadingFlags(CLI::App* cmd, IngestFlags* flags) {
  data::IngestOptions& o = flags->options;
  cmd->add_option("--map", flags->map,
                  "Event columns: FIELD=COLUMN,... with FIELD in customer, time, product, quantity, revenue, "
                  "channel, store");
  cmd->add_option("--time-format", o.time_format,
                  "Time layout: strftime-style (%d.%m.%Y %H:%M, %I:%M %p), epoch or epoch_ms (default ISO 8601)");
  cmd->add_option("--timezone", o.timezone, "IANA zone of times without an offset, e.g. Europe/Paris (default UTC)");
  cmd->add_option("--decimal", flags->decimal, "Decimal mark of numbers: '.' (default) or ','");
  cmd->add_option("--encoding", flags->encoding,
                  "Text encoding of the input files: utf-8 (default, checked), latin1 or windows-1252");
  cmd->add_option("--channel-values", flags->channel_values,
                  "More channel spellings: CHANNEL=VALUE,... e.g. online=web,online=shop,offline=store");
  cmd->add_option("--delimiter", flags->delimiter,
                  "CSV delimiter (default ',', tab for .tsv, or ';' / tab / '|' when the header has no ',')");
  cmd->add_option("--config", flags->config, "Dataset config file (JSON) with the same settings");
  cmd->add_flag("--skip-bad-rows", o.skip_bad_rows,
                "Skip and count rows that cannot be parsed (a file whose every row is bad still fails)");
  cmd->add_option("--max-bad-rows", flags->max_bad_rows,
                  "Skip bad rows up to N, or a share like 1% or 0.01 of the rows read; fail above it");
  cmd->add_option("--rejects", o.rejects, "Write the rejected rows with their reasons to this CSV file");
}

void AddCustomerMapFlag(CLI::App* cmd, IngestFlags* flags) {
  cmd->add_option("--customer-map", flags->customer_map,
                  "Customer columns: FIELD=COLUMN,... with FIELD in external_id, device_id, aliases, email");
}

Status ApplyIngestFlags(IngestFlags* f) {
  data::IngestOptions& o = f->options;
  CF_RETURN_IF_ERROR(ParseMap(f->map, "--map", &o.map));
  CF_RETURN_IF_ERROR(ParseMap(f->customer_map, "--customer-map", &o.customer_map));
  CF_RETURN_IF_ERROR(ParseChannelValues(f->channel_values, &o));
  if (!f->max_bad_rows.empty()) CF_RETURN_IF_ERROR(data::ParseBadRowLimit(f->max_bad_rows, &o));
  CF_ASSIGN_OR_RETURN(char d, Delimiter(f->delimiter));
  o.events.delimiter = o.products.delimiter = o.customers.delimiter = d;
  o.events.encoding = o.products.encoding = o.customers.encoding = f->encoding;
  if (f->decimal == "," || f->decimal == ".") {
    o.decimal = f->decimal[0];
  } else if (!f->decimal.empty()) {
    return Status::InvalidArgument("--decimal must be '.' or ',', got '" + f->decimal + "'");
  }
  if (!f->config.empty()) CF_RETURN_IF_ERROR(data::LoadDatasetConfig(f->config, &o));
  return Status::OK();
}

}  // namespace cf::cli
