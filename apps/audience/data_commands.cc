// ingest and inspect: the data layer's command line.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "apps/audience/commands.h"
#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "data/dataset.h"
#include "data/ingest.h"

namespace cf::cli {
namespace {

constexpr size_t kTopValues = 5;

int Fail(const char* cmd, const Status& s) {
  std::fprintf(stderr, "audience %s: %s\n", cmd, s.message().c_str());
  return 1;
}

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

struct IngestFlags {
  data::IngestOptions options;
  std::vector<std::string> map, customer_map, channel_values;
  std::string delimiter, config, encoding, decimal, max_bad_rows;
};

int RunIngest(IngestFlags& f) {
  data::IngestOptions& o = f.options;
  Status s = ParseMap(f.map, "--map", &o.map);
  if (s.ok()) s = ParseMap(f.customer_map, "--customer-map", &o.customer_map);
  if (s.ok()) s = ParseChannelValues(f.channel_values, &o);
  if (s.ok() && !f.max_bad_rows.empty()) s = data::ParseBadRowLimit(f.max_bad_rows, &o);
  if (!s.ok()) return Fail("ingest", s);
  auto d = Delimiter(f.delimiter);
  if (!d.has_value()) return Fail("ingest", d.error());
  o.events.delimiter = o.products.delimiter = o.customers.delimiter = *d;
  o.events.encoding = o.products.encoding = o.customers.encoding = f.encoding;
  if (f.decimal == "," || f.decimal == ".") {
    o.decimal = f.decimal[0];
  } else if (!f.decimal.empty()) {
    return Fail("ingest", Status::InvalidArgument("--decimal must be '.' or ',', got '" + f.decimal + "'"));
  }
  if (!f.config.empty()) {
    s = data::LoadDatasetConfig(f.config, &o);
    if (!s.ok()) return Fail("ingest", s);
  }
  // Ingest appends to a dataset or writes a new one; anything else at --out stays untouched.
  if (!o.out.empty()) {
    s = CheckOutputDirectory("--out", o.out, "a dataset", IsDataset);
    if (!s.ok()) return Fail("ingest", s);
  }
  // An empty directory is taken as a new dataset: it is removed so that the dataset, written
  // beside it, can be renamed into its place, and put back if the ingest fails.
  std::error_code ec;
  const bool empty_dir =
      !o.out.empty() && IsDirectory(o.out) && !IsDataset(o.out) && std::filesystem::remove(o.out, ec);
  auto report = data::Ingest(o);
  if (!report.has_value()) {
    if (empty_dir) (void)CreateDirectories(o.out);
    return Fail("ingest", report.error());
  }
  for (const std::string& w : report->warnings) std::fprintf(stderr, "audience ingest: warning: %s\n", w.c_str());
  if (report->bad_rows > 0) {
    std::fprintf(stderr, "audience ingest: skipped %llu bad rows of %llu; by reason:\n",
                 static_cast<unsigned long long>(report->bad_rows), static_cast<unsigned long long>(report->rows_read));
    for (const auto& [reason, n] : report->bad_row_reasons) {
      std::fprintf(stderr, "  %llu x %s\n", static_cast<unsigned long long>(n), reason.c_str());
    }
    std::fprintf(stderr, "the first ones:\n");
    for (const std::string& line : report->first_bad_rows) std::fprintf(stderr, "  %s\n", line.c_str());
    if (!o.rejects.empty()) std::fprintf(stderr, "all rejected rows are in %s\n", o.rejects.c_str());
  }
  if (report->events_already_ingested) {
    std::printf(
        "%s was already ingested into %s; nothing was added: %llu customers, %llu products, %llu events in all\n",
        o.events.path.c_str(), o.out.c_str(), static_cast<unsigned long long>(report->customers),
        static_cast<unsigned long long>(report->products), static_cast<unsigned long long>(report->events));
    return 0;
  }
  std::printf("ingested %llu events into %s: %llu customers, %llu products, %llu events in all\n",
              static_cast<unsigned long long>(report->events_read), o.out.c_str(),
              static_cast<unsigned long long>(report->customers), static_cast<unsigned long long>(report->products),
              static_cast<unsigned long long>(report->events));
  return 0;
}

// The most frequent values of an attribute, weighted by rows.
std::vector<std::pair<std::string, uint64_t>> TopValues(const data::Attribute& a, size_t k) {
  std::vector<uint64_t> counts(a.dict.size(), 0);
  for (uint32_t c : a.codes) ++counts[c];
  std::vector<std::pair<std::string, uint64_t>> out;
  for (uint32_t i = 1; i < counts.size(); ++i) {
    if (counts[i] > 0) out.emplace_back(std::string(a.dict[i]), counts[i]);
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    return x.second != y.second ? x.second > y.second : x.first < y.first;
  });
  if (out.size() > k) out.resize(k);
  return out;
}

int RunInspect(const std::string& dir, bool json) {
  auto ds = data::Dataset::Open(dir);
  if (!ds.has_value()) return Fail("inspect", ds.error());
  const data::Dataset& d = **ds;
  const data::Events& ev = d.events();
  uint64_t online = 0, offline = 0;
  double revenue = 0;
  for (size_t i = 0; i < ev.size(); ++i) {
    online += ev.channel()[i] == static_cast<uint8_t>(data::Channel::kOnline);
    offline += ev.channel()[i] == static_cast<uint8_t>(data::Channel::kOffline);
    revenue += ev.revenue()[i];
  }
  uint64_t identified = 0, anonymous = 0;
  for (uint32_t c = 0; c < d.customers().size(); ++c) {
    identified += !d.customers().external_id(c).empty();
    anonymous += d.customers().external_id(c).empty() && !d.customers().device_id(c).empty();
  }
  const std::string first = ev.size() ? FormatIsoTime(d.first_time()) : "";
  const std::string last = ev.size() ? FormatIsoTime(d.last_time()) : "";
  if (json) {
    nlohmann::json j = {{"customers", d.customers().size()},
                        {"events", ev.size()},
                        {"products", d.catalog().size()},
                        {"first_event", first},
                        {"last_event", last},
                        {"identified_customers", identified},
                        {"anonymous_customers", anonymous},
                        {"online_events", online},
                        {"offline_events", offline},
                        {"revenue", revenue}};
    nlohmann::json attrs = nlohmann::json::object();
    for (const data::Attribute& a : d.catalog().attributes()) {
      nlohmann::json top = nlohmann::json::array();
      for (auto& [v, n] : TopValues(a, kTopValues)) top.push_back({{"value", v}, {"products", n}});
      attrs[a.name] = {{"distinct", a.dict.size() - 1}, {"top", top}};
    }
    j["product_attributes"] = attrs;
    // Stored text is whatever the input held: a byte that is not UTF-8 is shown as U+FFFD
    // rather than aborting the dump (a dataset from before encodings were checked).
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("dataset    %s\n", dir.c_str());
  std::printf("customers  %u (%llu identified, %llu anonymous)\n", d.customers().size(),
              static_cast<unsigned long long>(identified), static_cast<unsigned long long>(anonymous));
  std::printf("products   %u\n", d.catalog().size());
  std::printf("events     %llu (%llu online, %llu offline), revenue %.2f\n", static_cast<unsigned long long>(ev.size()),
              static_cast<unsigned long long>(online), static_cast<unsigned long long>(offline), revenue);
  std::printf("time range %s .. %s\n", first.c_str(), last.c_str());
  for (const data::Attribute& a : d.catalog().attributes()) {
    std::printf("\nproduct attribute %s: %zu distinct values\n", a.name.c_str(), a.dict.size() - 1);
    for (auto& [v, n] : TopValues(a, kTopValues)) {
      std::printf("  %-40s %llu products\n", v.c_str(), static_cast<unsigned long long>(n));
    }
  }
  return 0;
}

}  // namespace

void AddDataCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<IngestFlags>();
  data::IngestOptions& o = flags->options;
  CLI::App* ingest = app.add_subcommand("ingest", "Load customers, products and purchases into a dataset");
  ingest->add_option("--events", o.events.path, "Purchases file (CSV or JSON Lines, optionally .gz)");
  ingest->add_option("--products", o.products.path, "Products file: product key plus attribute columns");
  ingest->add_option("--customers", o.customers.path,
                     "Customers file: key, external_id, device_id, aliases (label:name;...), attributes");
  ingest->add_option("--product-key", o.product_key, "Products file column matching the events' product")
      ->capture_default_str();
  ingest->add_option("--customer-key", o.customer_key, "Customers file column matching the events' customer")
      ->capture_default_str();
  ingest->add_option("--map", flags->map,
                     "Event columns: FIELD=COLUMN,... with FIELD in customer, time, product, quantity, revenue, "
                     "channel, store");
  ingest->add_option("--customer-map", flags->customer_map,
                     "Customer columns: FIELD=COLUMN,... with FIELD in external_id, device_id, aliases, email");
  ingest->add_option("--time-format", o.time_format,
                     "Time layout: strftime-style (%d.%m.%Y %H:%M, %I:%M %p), epoch or epoch_ms (default ISO 8601)");
  ingest->add_option("--timezone", o.timezone, "IANA zone of times without an offset, e.g. Europe/Paris (default UTC)");
  ingest->add_option("--decimal", flags->decimal, "Decimal mark of numbers: '.' (default) or ','");
  ingest->add_option("--encoding", flags->encoding,
                     "Text encoding of the input files: utf-8 (default, checked), latin1 or windows-1252");
  ingest->add_option("--channel-values", flags->channel_values,
                     "More channel spellings: CHANNEL=VALUE,... e.g. online=web,online=shop,offline=store");
  ingest->add_option("--delimiter", flags->delimiter,
                     "CSV delimiter (default ',', tab for .tsv, or ';' / tab / '|' when the header has no ',')");
  ingest->add_option("--config", flags->config, "Dataset config file (JSON) with the same settings");
  ingest->add_flag("--skip-bad-rows", o.skip_bad_rows,
                   "Skip and count rows that cannot be parsed (a file whose every row is bad still fails)");
  ingest->add_option("--max-bad-rows", flags->max_bad_rows,
                     "Skip bad rows up to N, or a share like 1% or 0.01 of the rows read; fail above it");
  ingest->add_option("--rejects", o.rejects, "Write the rejected rows with their reasons to this CSV file");
  ingest->add_option("--out,--data", o.out, "Dataset directory (appended to if it exists)");
  AddCommonFlags(ingest);
  ingest->callback([flags, exit_code] { *exit_code = RunIngest(*flags); });

  auto dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  CLI::App* inspect = app.add_subcommand("inspect", "Print a dataset's counts, time range and top attribute values");
  inspect->add_option("dataset,--data", *dir, "Dataset directory")->required();
  inspect->add_flag("--json", *json, "Print JSON");
  AddCommonFlags(inspect);
  inspect->callback([dir, json, exit_code] { *exit_code = RunInspect(*dir, *json); });
}

}  // namespace cf::cli
