// ingest and inspect: the data layer's command line.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "apps/audience/commands.h"
#include "apps/audience/ingest_flags.h"
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

int RunIngest(IngestFlags& f) {
  data::IngestOptions& o = f.options;
  Status s = ApplyIngestFlags(&f);
  if (!s.ok()) return Fail("ingest", s);
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
  AddCustomerMapFlag(ingest, flags.get());
  AddEventReadingFlags(ingest, flags.get());
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
