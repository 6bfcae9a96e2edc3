#include "data/ingest.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <thread>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/strings.h"
#include "base/time.h"
#include "data/dataset.h"
#include "data/tables.h"
#include "io/record_reader.h"

namespace cf::data {
namespace {

constexpr size_t kMaxBadRowsShown = 10;

enum Field { kCustomer, kTime, kProduct, kQuantity, kRevenue, kChannel, kStore, kFieldCount };
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {"customer", "time",    "product", "quantity",
                                                                   "revenue",  "channel", "store"};
// Column names tried, in order, for a field the user did not map.
const std::array<std::vector<std::string_view>, kFieldCount> kDefaultColumns = {{
    {"customer", "customer_id"},
    {"time", "timestamp", "date", "event_time"},
    {"product", "product_id"},
    {"quantity"},
    {"revenue"},
    {"channel"},
    {"store", "store_id"},
}};

enum IdentityField : size_t { kExternalId, kDeviceId, kAliases, kIdentityCount };
constexpr std::array<std::string_view, kIdentityCount> kIdentityNames = {"external_id", "device_id", "aliases"};

std::string Columns(const io::RecordReader& r) {
  std::string out;
  for (const std::string& h : r.header()) {
    if (!out.empty()) out += ", ";
    out += h;
  }
  return out;
}

// Collects bad rows: fatal unless skipping, in which case they are counted.
class BadRows {
 public:
  BadRows(bool skip, IngestReport* report) : skip_(skip), report_(report) {}
  // Returns the error to stop with, or OK to go on.
  Status Add(const Status& s) {
    if (!skip_) return s;
    ++report_->bad_rows;
    if (report_->first_bad_rows.size() < kMaxBadRowsShown) report_->first_bad_rows.push_back(s.message());
    return Status::OK();
  }

 private:
  bool skip_;
  IngestReport* report_;
};

Status RowError(const io::RecordReader& r, uint64_t line, std::string_view column, std::string_view why,
                std::string_view value) {
  return Status::InvalidArgument(r.path() + ":" + std::to_string(line) + ": column " + std::string(column) + ": " +
                                 std::string(why) + ", value " + Quote(value));
}

// Resolves the column of each logical field; -1 where absent.
Result<std::array<int, kFieldCount>> ResolveEventColumns(const io::RecordReader& r,
                                                         const std::map<std::string, std::string>& map) {
  std::array<int, kFieldCount> cols;
  cols.fill(-1);
  for (const auto& [field, column] : map) {
    auto it = std::find(kFieldNames.begin(), kFieldNames.end(), field);
    if (it == kFieldNames.end()) {
      return Err(Status::InvalidArgument("--map: unknown field '" + field +
                                         "' (valid: customer, time, product, quantity, revenue, channel, store)"));
    }
    int idx = r.ColumnIndex(column);
    if (idx < 0) {
      return Err(Status::InvalidArgument(r.path() + ": mapped column '" + column + "' for field '" + field +
                                         "' does not exist (columns: " + Columns(r) + ")"));
    }
    cols[static_cast<size_t>(it - kFieldNames.begin())] = idx;
  }
  for (size_t f = 0; f < kFieldCount; ++f) {
    if (cols[f] >= 0) continue;
    for (std::string_view name : kDefaultColumns[f]) {
      int idx = r.ColumnIndex(name);
      if (idx >= 0) {
        cols[f] = idx;
        break;
      }
    }
  }
  for (Field required : {kCustomer, kTime}) {
    if (cols[required] < 0) {
      std::string tried;
      for (std::string_view n : kDefaultColumns[required]) tried += (tried.empty() ? "" : ", ") + std::string(n);
      return Err(Status::InvalidArgument(
          r.path() + ": no column for the required field '" + std::string(kFieldNames[required]) + "' (looked for " +
          tried + "; columns: " + Columns(r) + "); map one with --map " + std::string(kFieldNames[required]) +
          "=COLUMN"));
    }
  }
  return cols;
}

class Ingester {
 public:
  Ingester(const IngestOptions& o, IngestReport* report)
      : o_(o), report_(report), bad_(o.skip_bad_rows, report) {}

  Status Run() {
    if (o_.events.path.empty()) {
      return Status::InvalidArgument("no events file given; pass --events FILE (CSV or JSON Lines)");
    }
    if (o_.out.empty()) {
      return Status::InvalidArgument("no output dataset given; pass --out DIR");
    }
    if (!o_.time_format.empty()) {
      CF_ASSIGN_OR_RETURN(TimeFormat f, TimeFormat::Compile(o_.time_format));
      time_format_ = std::move(f);
    }
    // Open every input before touching anything, so a bad path or header fails early.
    CF_ASSIGN_OR_RETURN(auto events, io::RecordReader::Open(o_.events));
    CF_ASSIGN_OR_RETURN(auto cols, ResolveEventColumns(*events, o_.map));
    std::unique_ptr<io::RecordReader> products, customers;
    if (!o_.products.path.empty()) {
      CF_ASSIGN_OR_RETURN(products, io::RecordReader::Open(o_.products));
    }
    if (!o_.customers.path.empty()) {
      CF_ASSIGN_OR_RETURN(customers, io::RecordReader::Open(o_.customers));
    }

    if (PathExists(o_.out)) {
      CF_ASSIGN_OR_RETURN(auto existing, Dataset::Open(o_.out));
      LoadTables(*existing, &t_);
      CF_LOG_INFO("appending to {} ({} customers, {} events)", o_.out, existing->customers().size(),
                  existing->events().size());
    }
    if (products) CF_RETURN_IF_ERROR(ReadProducts(*products));
    if (customers) CF_RETURN_IF_ERROR(ReadCustomers(*customers));
    CF_RETURN_IF_ERROR(ReadEvents(*events, cols));
    events.reset();
    products.reset();
    customers.reset();

    report_->customers = t_.customers.size();
    report_->products = t_.products.size();
    report_->events = t_.events.size();
    CF_ASSIGN_OR_RETURN(std::string tmp, MakeTempDirBeside(o_.out));
    Status s = WriteTables(t_, tmp);
    if (s.ok()) s = ReplaceDirectory(tmp, o_.out);
    if (!s.ok()) {
      (void)RemoveAll(tmp);
      return s;
    }
    return Status::OK();
  }

 private:
  // Reads a file keyed by one column (products, customers): every row's id is interned into
  // `table` and every column other than the key and `identity_cols` is an attribute. `check`
  // may reject a row before anything of it is kept; `apply` stores the rest. An empty cell
  // never erases a value that an earlier file gave.
  Status ReadKeyed(io::RecordReader& r, const std::string& key_name, const char* key_flag, const char* what,
                   const std::vector<int>& identity_cols, EntityTable* table,
                   const std::function<Status(const io::Record&)>& check,
                   const std::function<void(const io::Record&, uint32_t)>& apply) {
    const int key = r.ColumnIndex(key_name);
    if (key < 0) {
      return Status::InvalidArgument(r.path() + ": " + what + " key column '" + key_name +
                                     "' does not exist (columns: " + Columns(r) + "); choose one with " + key_flag);
    }
    std::vector<bool> is_attr(r.header().size());
    for (size_t i = 0; i < r.header().size(); ++i) {
      is_attr[i] = static_cast<int>(i) != key &&
                   std::find(identity_cols.begin(), identity_cols.end(), static_cast<int>(i)) == identity_cols.end();
    }
    std::vector<AttributeTable*> attrs = AttributeColumns(r, is_attr, table);
    io::Record rec;
    while (true) {
      auto more = r.Next(&rec);
      if (!more.has_value()) {
        CF_RETURN_IF_ERROR(bad_.Add(more.error()));
        continue;
      }
      if (!*more) break;
      std::string_view id = Trim(rec.fields[static_cast<size_t>(key)]);
      if (id.empty()) {
        CF_RETURN_IF_ERROR(bad_.Add(RowError(r, rec.line, key_name, std::string("empty ") + what + " id", id)));
        continue;
      }
      if (Status s = check(rec); !s.ok()) {
        CF_RETURN_IF_ERROR(bad_.Add(s));
        continue;
      }
      bool created = false;
      uint32_t row = table->Intern(id, &created);
      apply(rec, row);
      for (size_t i = 0; i < attrs.size(); ++i) {
        if (attrs[i] != nullptr && !rec.fields[i].empty()) attrs[i]->Set(row, rec.fields[i]);
      }
    }
    return Status::OK();
  }

  Status ReadProducts(io::RecordReader& r) {
    t_.has_products = true;
    return ReadKeyed(
        r, o_.product_key, "--product-key", "product", {}, &t_.products,
        [](const io::Record&) { return Status::OK(); }, [](const io::Record&, uint32_t) {});
  }

  Status ReadCustomers(io::RecordReader& r) {
    for (const auto& [field, column] : o_.customer_map) {
      if (std::find(kIdentityNames.begin(), kIdentityNames.end(), field) == kIdentityNames.end()) {
        return Status::InvalidArgument("--customer-map: unknown field '" + field +
                                       "' (valid: external_id, device_id, aliases)");
      }
    }
    std::vector<int> id_cols(kIdentityCount);
    for (size_t f = 0; f < kIdentityCount; ++f) {
      std::string name(kIdentityNames[f]);
      auto it = o_.customer_map.find(name);
      id_cols[f] = r.ColumnIndex(it != o_.customer_map.end() ? it->second : name);
      if (it != o_.customer_map.end() && id_cols[f] < 0) {
        return Status::InvalidArgument(r.path() + ": mapped column '" + it->second + "' for '" + name +
                                       "' does not exist (columns: " + Columns(r) + ")");
      }
    }
    std::string aliases;
    const auto check = [&](const io::Record& rec) {
      if (id_cols[kAliases] < 0) return Status::OK();
      std::string_view raw = rec.fields[static_cast<size_t>(id_cols[kAliases])];
      Status s = ParseAliases(raw, &aliases);
      return s.ok() ? s : RowError(r, rec.line, r.header()[static_cast<size_t>(id_cols[kAliases])], s.message(), raw);
    };
    const auto apply = [&](const io::Record& rec, uint32_t row) {
      t_.PadIdentities();
      const auto set = [&](int col, std::string& dst) {
        if (col < 0) return;
        std::string_view v = Trim(rec.fields[static_cast<size_t>(col)]);
        if (!v.empty()) dst = std::string(v);
      };
      set(id_cols[kExternalId], t_.external_ids[row]);
      set(id_cols[kDeviceId], t_.device_ids[row]);
      if (!aliases.empty()) t_.aliases[row] = aliases;
    };
    return ReadKeyed(r, o_.customer_key, "--customer-key", "customer", id_cols, &t_.customers, check, apply);
  }

  // The attribute table of each column (nullptr for columns that are not attributes).
  static std::vector<AttributeTable*> AttributeColumns(const io::RecordReader& r, const std::vector<bool>& is_attr,
                                                       EntityTable* table) {
    // Create them all first: pointers into the table's vector are stable only afterwards.
    for (size_t i = 0; i < is_attr.size(); ++i) {
      if (is_attr[i]) table->Attribute(r.header()[i]);
    }
    std::vector<AttributeTable*> out(is_attr.size(), nullptr);
    for (size_t i = 0; i < is_attr.size(); ++i) {
      if (is_attr[i]) out[i] = &table->Attribute(r.header()[i]);
    }
    return out;
  }

  // "email:a@b.c;phone:+33..." -> "email:a@b.c\nphone:+33...".
  static Status ParseAliases(std::string_view raw, std::string* out) {
    out->clear();
    for (std::string_view item : Split(raw, ';')) {
      item = Trim(item);
      if (item.empty()) continue;
      size_t colon = item.find(':');
      if (colon == std::string_view::npos || colon == 0 || colon + 1 == item.size()) {
        return Status::InvalidArgument("an alias must be label:name (e.g. email:jane@example.com), items separated by ';'");
      }
      if (!out->empty()) *out += '\n';
      *out += item;
    }
    return Status::OK();
  }

  // One range of the events file, parsed on its own thread into its own tables; the parts
  // are merged in file order afterwards, so ids and errors come out as a sequential read would.
  struct EventPart {
    std::unique_ptr<io::RecordReader> reader;
    EntityTable customers;  // local ids
    EntityTable products;
    EventColumns events;
    uint64_t events_read = 0;
    uint64_t bad_rows = 0;
    std::vector<std::string> first_bad_rows;
    Status fatal;
  };

  Status ReadEvents(io::RecordReader& r, const std::array<int, kFieldCount>& cols) {
    constexpr uint64_t kParallelMinBytes = 16 << 20;
    constexpr unsigned kMaxParts = 8;
    const bool has_product = cols[kProduct] >= 0;
    if (has_product) {
      t_.has_products = true;
    } else if (t_.has_products) {
      return Status::InvalidArgument(r.path() + ": the dataset's events name products, but this file has no product "
                                     "column (map one with --map product=COLUMN)");
    }
    unsigned parts = 1;
    if (r.bytes_total() >= kParallelMinBytes) {
      parts = std::clamp(std::thread::hardware_concurrency(), 1u, kMaxParts);
    }
    parts_ = parts;
    std::vector<EventPart> split(parts);
    {
      auto readers = r.Split(static_cast<int>(parts));
      split.resize(readers.size());
      for (size_t i = 0; i < readers.size(); ++i) split[i].reader = std::move(readers[i]);
    }
    Progress progress("ingest " + std::filesystem::path(r.path()).filename().string(), r.bytes_total(), "bytes");
    std::atomic<uint64_t> bytes_done{0};
    std::vector<std::thread> threads;
    for (size_t i = 1; i < split.size(); ++i) {
      threads.emplace_back([&, i] { ParsePart(split[i], cols, has_product, &bytes_done, nullptr); });
    }
    if (!split.empty()) ParsePart(split[0], cols, has_product, &bytes_done, &progress);
    for (std::thread& t : threads) t.join();
    progress.Update(r.bytes_total());
    progress.Finish();
    for (EventPart& part : split) {
      if (!part.fatal.ok()) return part.fatal;
    }
    MergeParts(split);
    return Status::OK();
  }

  void ParsePart(EventPart& part, const std::array<int, kFieldCount>& cols, bool has_product,
                 std::atomic<uint64_t>* bytes_done, Progress* progress) const {
    constexpr uint64_t kBytesPerRowGuess = 48;
    io::RecordReader& r = *part.reader;
    // The first part's columns become the merged ones: reserving room for the whole file
    // there costs address space only, and spares the merge a copy of them.
    const bool first = progress != nullptr;
    const uint64_t share = r.bytes_total() / kBytesPerRowGuess / parts_;
    part.events.Reserve(first && parts_ > 1 ? share * parts_ * 11 / 10 : share + 16);
    io::Record rec;
    uint64_t n = 0;
    uint64_t last_pos = r.bytes_done();  // a part starts inside the file
    std::string last_customer;
    uint32_t last_customer_id = 0;
    const auto col = [&](Field f) -> std::string_view {
      return cols[f] >= 0 ? rec.fields[static_cast<size_t>(cols[f])] : std::string_view();
    };
    const auto name = [&](Field f) -> const std::string& { return r.header()[static_cast<size_t>(cols[f])]; };
    // False when the part must stop (a bad row without --skip-bad-rows).
    const auto bad = [&](Status s) {
      if (!o_.skip_bad_rows) {
        part.fatal = std::move(s);
        return false;
      }
      ++part.bad_rows;
      if (part.first_bad_rows.size() < kMaxBadRowsShown) part.first_bad_rows.push_back(s.message());
      return true;
    };
    while (true) {
      auto more = r.Next(&rec);
      if (!more.has_value()) {
        if (!bad(more.error())) return;
        continue;
      }
      if (!*more) break;
      if ((++n & 0xFFFF) == 0) {
        uint64_t pos = r.bytes_done();
        bytes_done->fetch_add(pos - last_pos);
        last_pos = pos;
        if (progress != nullptr) progress->Update(bytes_done->load());
      }
      std::string_view customer = col(kCustomer);
      if (customer.empty()) {
        if (!bad(RowError(r, rec.line, name(kCustomer), "empty customer id", customer))) return;
        continue;
      }
      int64_t time = 0;
      std::string_view time_text = col(kTime);
      if (!ParseTime(time_text, &time)) {
        std::string why = time_format_ ? "not a date in the format '" + time_format_->pattern() + "'"
                                       : "not an ISO 8601 date (e.g. 2017-10-01 or 2017-10-01T12:30:00Z; "
                                         "use --time-format for other layouts)";
        if (!bad(RowError(r, rec.line, name(kTime), why, time_text))) return;
        continue;
      }
      float quantity = 1;
      if (std::string_view q = col(kQuantity); !q.empty()) {
        auto v = ParseDouble(q);
        if (!v) {
          if (!bad(RowError(r, rec.line, name(kQuantity), "not a number", q))) return;
          continue;
        }
        if (*v < 0) {
          if (!bad(RowError(r, rec.line, name(kQuantity), "negative quantity (returns are not purchases; must be >= 0)",
                            q))) {
            return;
          }
          continue;
        }
        quantity = static_cast<float>(*v);
      }
      float revenue = 0;
      if (std::string_view rv = col(kRevenue); !rv.empty()) {
        auto v = ParseDouble(rv);
        if (!v) {
          if (!bad(RowError(r, rec.line, name(kRevenue), "not a number", rv))) return;
          continue;
        }
        revenue = static_cast<float>(*v);
      }
      Channel channel = Channel::kUnknown;
      if (std::string_view ch = col(kChannel); !ch.empty()) {
        if (EqualsNoCase(ch, "online")) {
          channel = Channel::kOnline;
        } else if (EqualsNoCase(ch, "offline")) {
          channel = Channel::kOffline;
        } else {
          if (!bad(RowError(r, rec.line, name(kChannel), "unknown channel (valid: online, offline)", ch))) return;
          continue;
        }
      }
      bool created = false;
      uint32_t product = kNoProduct;
      if (has_product) {
        std::string_view pid = Trim(col(kProduct));
        if (pid.empty()) {
          if (!bad(RowError(r, rec.line, name(kProduct), "empty product id", pid))) return;
          continue;
        }
        product = part.products.Intern(pid, &created);
      }
      EventColumns& e = part.events;
      // Files often hold a customer's rows together: skip the lookup for a repeat.
      if (customer != last_customer) {
        last_customer.assign(customer);
        last_customer_id = part.customers.Intern(customer, &created);
      }
      e.customer.push_back(last_customer_id);
      e.time.push_back(time);
      e.product.push_back(product);
      e.quantity.push_back(quantity);
      e.revenue.push_back(revenue);
      e.channel.push_back(static_cast<uint8_t>(channel));
      e.store.push_back(cols[kStore] >= 0 ? e.stores.Intern(Trim(col(kStore))) : kMissingCode);
      ++part.events_read;
    }
    bytes_done->fetch_add(r.bytes_done() - last_pos);
  }

  // Appends the parts' events to the dataset's, one column at a time so that only one merged
  // column exists beside the parts' columns at any moment.
  void MergeParts(std::vector<EventPart>& parts) {
    const bool catalog_given = !o_.products.path.empty();
    uint64_t unknown_products = 0;
    size_t total = t_.events.size();
    std::vector<std::vector<uint32_t>> customer_map(parts.size()), product_map(parts.size()), store_map(parts.size());
    for (size_t k = 0; k < parts.size(); ++k) {
      EventPart& part = parts[k];
      bool created = false;
      for (uint32_t i = 0; i < part.customers.size(); ++i) {
        customer_map[k].push_back(t_.customers.Intern(part.customers.ids()[i], &created));
      }
      for (uint32_t i = 0; i < part.products.size(); ++i) {
        product_map[k].push_back(t_.products.Intern(part.products.ids()[i], &created));
        if (created && catalog_given) ++unknown_products;
      }
      const Interner& stores = part.events.stores.values();
      for (uint32_t i = 0; i < stores.size(); ++i) store_map[k].push_back(t_.events.stores.Intern(stores[i]));
      total += part.events.size();
      report_->events_read += part.events_read;
      report_->bad_rows += part.bad_rows;
      for (std::string& line : part.first_bad_rows) {
        if (report_->first_bad_rows.size() < kMaxBadRowsShown) report_->first_bad_rows.push_back(std::move(line));
      }
    }
    const auto merge = [&](auto member, const std::vector<std::vector<uint32_t>>* remap) {
      auto& out = t_.events.*member;
      size_t k = 0;
      if (out.empty() && !parts.empty()) {
        // The first part's column is taken over and renumbered in place.
        out.swap(parts[0].events.*member);
        if (remap != nullptr) {
          for (auto& v : out) v = v == kNoProduct ? v : (*remap)[0][v];
        }
        k = 1;
      }
      out.reserve(total);
      for (; k < parts.size(); ++k) {
        auto& in = parts[k].events.*member;
        if (remap == nullptr) {
          out.insert(out.end(), in.begin(), in.end());
        } else {
          const std::vector<uint32_t>& m = (*remap)[k];
          for (auto v : in) out.push_back(v == kNoProduct ? v : m[v]);
        }
        std::remove_reference_t<decltype(in)>().swap(in);
      }
    };
    merge(&EventColumns::customer, &customer_map);
    merge(&EventColumns::time, nullptr);
    merge(&EventColumns::product, &product_map);
    merge(&EventColumns::quantity, nullptr);
    merge(&EventColumns::revenue, nullptr);
    merge(&EventColumns::channel, nullptr);
    merge(&EventColumns::store, &store_map);
    if (unknown_products > 0) {
      CF_LOG_WARN("{} products named by events are not in the products file; they were added without attributes",
                  unknown_products);
    }
  }

  bool ParseTime(std::string_view text, int64_t* out) const {
    text = Trim(text);
    if (time_format_) return time_format_->Parse(text, out);
    auto t = ParseIsoTime(text);
    if (!t.has_value()) return false;
    *out = *t;
    return true;
  }

  static bool EqualsNoCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
    }
    return true;
  }

  const IngestOptions& o_;
  IngestReport* report_;
  BadRows bad_;
  std::optional<TimeFormat> time_format_;
  unsigned parts_ = 1;
  DatasetTables t_;
};

}  // namespace

Result<IngestReport> Ingest(const IngestOptions& options) {
  IngestReport report;
  Ingester ingester(options, &report);
  CF_RETURN_IF_ERROR(ingester.Run());
  return report;
}

Status LoadDatasetConfig(const std::string& path, IngestOptions* o) {
  CF_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const auto rel = [&](const std::string& p) {
    return p.empty() || p[0] == '/' || dir.empty() ? p : dir + "/" + p;
  };
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) return Status::InvalidArgument(path + ": expected a JSON object");
    static const std::vector<std::string> kKeys = {"events",   "products",     "customers",   "product_key",
                                                   "customer_key", "map",      "customer_map", "time_format",
                                                   "out",      "skip_bad_rows"};
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (std::find(kKeys.begin(), kKeys.end(), it.key()) == kKeys.end()) {
        return Status::InvalidArgument(path + ": unknown key '" + it.key() + "' (valid: " + Join(kKeys, ", ") + ")");
      }
    }
    const auto source = [&](const char* key, io::SourceOptions* s) -> Status {
      if (!j.contains(key) || !s->path.empty()) return Status::OK();
      const auto& v = j[key];
      if (v.is_string()) {
        s->path = rel(v.get<std::string>());
        return Status::OK();
      }
      if (!v.is_object() || !v.contains("path")) {
        return Status::InvalidArgument(path + ": '" + key + "' must be a path or {\"path\":..., \"delimiter\":..., \"format\":...}");
      }
      s->path = rel(v["path"].get<std::string>());
      std::string d = v.value("delimiter", "");
      if (d.size() > 1) return Status::InvalidArgument(path + ": '" + key + ".delimiter' must be one character");
      if (s->delimiter == 0 && d.size() == 1) s->delimiter = d[0];
      if (s->format.empty()) s->format = v.value("format", "");
      return Status::OK();
    };
    CF_RETURN_IF_ERROR(source("events", &o->events));
    CF_RETURN_IF_ERROR(source("products", &o->products));
    CF_RETURN_IF_ERROR(source("customers", &o->customers));
    if (j.contains("product_key") && o->product_key == IngestOptions{}.product_key) o->product_key = j["product_key"];
    if (j.contains("customer_key") && o->customer_key == IngestOptions{}.customer_key) o->customer_key = j["customer_key"];
    if (j.contains("map")) {
      for (auto& [k, v] : j["map"].items()) o->map.emplace(k, v.get<std::string>());
    }
    if (j.contains("customer_map")) {
      for (auto& [k, v] : j["customer_map"].items()) o->customer_map.emplace(k, v.get<std::string>());
    }
    if (j.contains("time_format") && o->time_format.empty()) o->time_format = j["time_format"];
    if (j.contains("out") && o->out.empty()) o->out = rel(j["out"].get<std::string>());
    if (j.contains("skip_bad_rows")) o->skip_bad_rows = o->skip_bad_rows || j["skip_bad_rows"].get<bool>();
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  }
  return Status::OK();
}

}  // namespace cf::data
