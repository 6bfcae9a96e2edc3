#include "data/ingest.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "base/files.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/strings.h"
#include "base/time.h"
#include "data/dataset.h"
#include "data/ingest_timezone.h"
#include "data/tables.h"
#include "io/record_reader.h"

namespace cf::data {
namespace {

constexpr size_t kMaxBadRowsShown = 10;
constexpr size_t kMaxExamples = 3;

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

enum IdentityField : size_t { kExternalId, kDeviceId, kAliases, kEmail, kIdentityCount };
constexpr std::array<std::string_view, kIdentityCount> kIdentityNames = {"external_id", "device_id", "aliases",
                                                                         "email"};

std::string Columns(const io::RecordReader& r) {
  std::string out;
  for (const std::string& h : r.header()) {
    if (!out.empty()) out += ", ";
    out += h;
  }
  return out;
}

// "1 row repeats" / "3 rows repeat".
std::string Rows(uint64_t n, const char* verb_one, const char* verb_many) {
  return std::to_string(n) + (n == 1 ? " row " : " rows ") + (n == 1 ? verb_one : verb_many);
}

std::string FileName(const std::string& path) { return std::filesystem::path(path).filename().string(); }

std::string Percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g%%", share * 100);
  return buf;
}

// A problem with one row: where, why (the reason rows are counted under) and the full message.
struct RowProblem {
  uint64_t line = 0;
  std::string reason;   // "column time: not an ISO 8601 date ..."
  std::string message;  // "FILE:LINE: column time: ..., value 'V'"
};

RowProblem RowError(const io::RecordReader& r, uint64_t line, std::string_view column, std::string_view why,
                    std::string_view value) {
  RowProblem p;
  p.line = line;
  p.reason = "column " + std::string(column) + ": " + std::string(why);
  p.message = r.path() + ":" + std::to_string(line) + ": " + p.reason + ", value " + Quote(value);
  return p;
}

// A reader's error about a record ("FILE:LINE: why"): its reason is the message without the place.
RowProblem ReaderError(const io::RecordReader& r, const Status& s) {
  RowProblem p;
  p.message = s.message();
  p.reason = p.message;
  const std::string prefix = r.path() + ":";
  if (StartsWith(p.reason, prefix)) {
    size_t i = prefix.size(), j = i;
    while (j < p.reason.size() && p.reason[j] >= '0' && p.reason[j] <= '9') ++j;
    if (j > i) p.line = ParseInt64(std::string_view(p.reason).substr(i, j - i)).value_or(0);
    if (j + 1 < p.reason.size() && p.reason[j] == ':' && p.reason[j + 1] == ' ') p.reason = p.reason.substr(j + 2);
  }
  return p;
}

// Rejected rows of one reader (or one part of the events file), merged in file order.
struct BadRowLog {
  struct Reject {
    std::string file;
    uint64_t line;
    std::string reason;
    std::string record;
  };
  uint64_t count = 0;
  std::map<std::string, uint64_t> reasons;
  std::vector<std::string> first;
  std::vector<Reject> rejects;

  void Add(const io::RecordReader& r, RowProblem p, std::string_view raw, bool keep_record) {
    ++count;
    ++reasons[p.reason];
    if (first.size() < kMaxBadRowsShown) first.push_back(p.message);
    if (keep_record) {
      while (!raw.empty() && (raw.back() == '\n' || raw.back() == '\r')) raw.remove_suffix(1);
      rejects.push_back({r.path(), p.line, std::move(p.reason), std::string(raw)});
    }
  }
  void Merge(BadRowLog&& o) {
    count += o.count;
    for (auto& [k, v] : o.reasons) reasons[k] += v;
    for (std::string& f : o.first) {
      if (first.size() < kMaxBadRowsShown) first.push_back(std::move(f));
    }
    for (Reject& j : o.rejects) rejects.push_back(std::move(j));
  }
};


// Resolves the column of each logical field; -1 where absent.
Result<std::array<int, kFieldCount>> ResolveEventColumns(const io::RecordReader& r,
                                                         const std::map<std::string, std::string>& map) {
  std::array<int, kFieldCount> cols;
  cols.fill(-1);
  for (const auto& [field, column] : map) {
    auto it = std::find(kFieldNames.begin(), kFieldNames.end(), field);
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
      return Err(Status::InvalidArgument(r.path() + ": no column for the required field '" +
                                         std::string(kFieldNames[required]) + "' (looked for " + tried +
                                         "; columns: " + Columns(r) + "); map one with --map " +
                                         std::string(kFieldNames[required]) + "=COLUMN"));
    }
  }
  return cols;
}

// A number written with `decimal` as its decimal mark. With ',', a '.' or a space between
// groups of three digits is a thousands separator; any other '.' makes it not a number.
std::optional<double> ParseNumber(std::string_view text, char decimal) {
  text = Trim(text);
  if (decimal == '.') return ParseDouble(text);
  std::string buf;
  buf.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ',') {
      buf += '.';
    } else if (c == '.' || c == ' ') {
      const auto digit = [&](size_t k) { return k < text.size() && std::isdigit(static_cast<unsigned char>(text[k])); };
      if (!(i > 0 && digit(i - 1) && digit(i + 1) && digit(i + 2) && digit(i + 3) && !digit(i + 4))) {
        return std::nullopt;
      }
    } else {
      buf += c;
    }
  }
  return ParseDouble(buf);
}

// The text of a decimal-comma number with a decimal point, so that offers compare it as a number.
std::string NormalizeDecimal(std::string_view text) {
  std::string out;
  for (char c : Trim(text)) {
    if (c == ',') {
      out += '.';
    } else if (c != '.' && c != ' ') {
      out += c;
    }
  }
  return out;
}

bool IsoHasZone(std::string_view t) {
  return t.size() > 10 && (t.back() == 'Z' || t.back() == 'z' || t.find_first_of("+-", 10) != std::string_view::npos);
}

}  // namespace

Status ParseBadRowLimit(std::string_view text, IngestOptions* o) {
  text = Trim(text);
  const auto bad = [&] {
    return Status::InvalidArgument(
        "bad-row limit '" + std::string(text) +
        "' is not a count (e.g. 100), a percentage (e.g. 1%) or a share below 1 (e.g. 0.01)");
  };
  if (!text.empty() && text.back() == '%') {
    auto v = ParseDouble(text.substr(0, text.size() - 1));
    if (!v || *v < 0 || *v > 100) return bad();
    o->max_bad_share = *v / 100;
    return Status::OK();
  }
  if (text.find('.') != std::string_view::npos) {
    auto v = ParseDouble(text);
    if (!v || *v < 0 || *v >= 1) return bad();
    o->max_bad_share = *v;
    return Status::OK();
  }
  auto n = ParseInt64(text);
  if (!n || *n < 0) return bad();
  o->max_bad_rows = static_cast<uint64_t>(*n);
  return Status::OK();
}

Status IngestOptions::Validate() const {
  for (const SourceOptions* s : {&events, &products, &customers}) {
    if (!s->path.empty()) CF_RETURN_IF_ERROR(s->Validate());
  }
  for (const auto& [field, column] : map) {
    if (std::find(kFieldNames.begin(), kFieldNames.end(), field) == kFieldNames.end()) {
      return Status::InvalidArgument("map: unknown field '" + field +
                                     "' (valid: customer, time, product, quantity, revenue, channel, store)");
    }
  }
  for (const auto& [field, column] : customer_map) {
    if (std::find(kIdentityNames.begin(), kIdentityNames.end(), field) == kIdentityNames.end()) {
      return Status::InvalidArgument("customer_map: unknown field '" + field +
                                     "' (valid: external_id, device_id, aliases, email)");
    }
  }
  if (decimal != '.' && decimal != ',') {
    return Status::InvalidArgument(std::string("decimal: '") + decimal + "' is not a decimal mark (valid: '.' or ',')");
  }
  for (const auto& [channel, value] : channel_values) {
    if (channel != "online" && channel != "offline") {
      return Status::InvalidArgument("channel_values: '" + channel + "=" + value +
                                     "' maps to an unknown channel (valid: online=VALUE or offline=VALUE)");
    }
    if (Trim(value).empty()) return Status::InvalidArgument("channel_values: empty value for " + channel);
  }
  if (max_bad_share && (*max_bad_share < 0 || *max_bad_share > 1)) {
    return Status::InvalidArgument("max_bad_share must be within 0..1, got " + std::to_string(*max_bad_share));
  }
  if (max_bad_rows && max_bad_share) {
    return Status::InvalidArgument(
        "give the bad-row limit as a count (max_bad_rows) or a share (max_bad_share), not both");
  }
  if (!rejects.empty()) {
    const std::string parent = std::filesystem::path(rejects).parent_path().string();
    if (!parent.empty() && !IsDirectory(parent)) {
      return Status::InvalidArgument("rejects file " + rejects + ": the directory " + parent + " does not exist");
    }
    if (IsDirectory(rejects)) return Status::InvalidArgument("rejects file " + rejects + " is a directory");
  }
  return Status::OK();
}

namespace {
class Ingester {
 public:
  Ingester(const IngestOptions& o, IngestReport* report) : o_(o), report_(report) {}

  Status Run() {
    if (o_.events.path.empty()) {
      return Status::InvalidArgument("no events file given; pass --events FILE (CSV or JSON Lines)");
    }
    if (o_.out.empty()) {
      return Status::InvalidArgument("no output dataset given; pass --out DIR");
    }
    CF_RETURN_IF_ERROR(o_.Validate());
    skipping_ = o_.skip_bad_rows || o_.max_bad_rows || o_.max_bad_share;
    keep_rejects_ = !o_.rejects.empty();
    if (o_.time_format == "epoch") {
      time_kind_ = TimeKind::kEpochSeconds;
    } else if (o_.time_format == "epoch_ms") {
      time_kind_ = TimeKind::kEpochMillis;
    } else if (!o_.time_format.empty()) {
      CF_ASSIGN_OR_RETURN(TimeFormat f, TimeFormat::Compile(o_.time_format));
      time_format_ = std::move(f);
      time_kind_ = TimeKind::kFormat;
      format_has_zone_ = o_.time_format.find("%z") != std::string::npos;
    }
    if (!o_.timezone.empty() && o_.timezone != "UTC") {
      CF_ASSIGN_OR_RETURN(TimeZone tz, TimeZone::Load(o_.timezone));
      tz_ = std::move(tz);
    }
    for (const auto& [channel, value] : o_.channel_values) {
      channel_values_.emplace_back(ToLower(Trim(value)), channel == "online" ? Channel::kOnline : Channel::kOffline);
    }
    // Open every input before touching anything, so a bad path or header fails early.
    CF_ASSIGN_OR_RETURN(auto events, io::RecordReader::Open(o_.events));
    NoteDelimiter(*events);
    CF_ASSIGN_OR_RETURN(auto cols, ResolveEventColumns(*events, o_.map));
    std::unique_ptr<io::RecordReader> products, customers;
    if (!o_.products.path.empty()) {
      CF_ASSIGN_OR_RETURN(products, io::RecordReader::Open(o_.products));
      NoteDelimiter(*products);
    }
    if (!o_.customers.path.empty()) {
      CF_ASSIGN_OR_RETURN(customers, io::RecordReader::Open(o_.customers));
      NoteDelimiter(*customers);
    }

    if (PathExists(o_.out)) {
      CF_ASSIGN_OR_RETURN(auto existing, Dataset::Open(o_.out));
      CF_ASSIGN_OR_RETURN(DatasetMeta meta, ReadMeta(o_.out));
      LoadTables(*existing, &t_);
      t_.batches = std::move(meta.batches);
      CF_LOG_INFO("appending to {} ({} customers, {} events)", o_.out, existing->customers().size(),
                  existing->events().size());
    }
    if (products) CF_RETURN_IF_ERROR(ReadProducts(*products));
    if (customers) CF_RETURN_IF_ERROR(ReadCustomers(*customers));
    CF_RETURN_IF_ERROR(ReadEvents(*events, cols));
    if (report_->events_already_ingested && !products && !customers) {
      // Nothing to add: the dataset is left as it is.
      report_->customers = t_.customers.size();
      report_->products = t_.products.size();
      report_->events = t_.events.size();
      return Status::OK();
    }
    events.reset();
    products.reset();
    customers.reset();
    CF_RETURN_IF_ERROR(FinishBadRows());

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
  enum class TimeKind { kIso, kFormat, kEpochSeconds, kEpochMillis };

  // Rows read and rejected per input file, to judge the bad-row limits.
  struct FileRows {
    std::string path;
    uint64_t rows = 0;
    uint64_t bad = 0;
  };

  // Says so when a delimiter was detected, so that a wrong guess is visible.
  static void NoteDelimiter(const io::RecordReader& r) {
    if (!r.delimiter_detected()) return;
    const std::string d = r.delimiter() == '\t' ? "tab" : std::string(1, r.delimiter());
    CF_LOG_INFO("{}: the header has no ',' but '{}': read as '{}'-delimited", r.path(), d, d);
  }

  // Decides on the bad rows of the whole run: writes the rejects, fills the report, and fails
  // when a limit is exceeded or a file had rows and every one was bad.
  Status FinishBadRows() {
    if (keep_rejects_ && log_.count > 0) {
      std::string out = "file,line,reason,record\n";
      for (const BadRowLog::Reject& j : log_.rejects) {
        out +=
            CsvField(j.file) + "," + std::to_string(j.line) + "," + CsvField(j.reason) + "," + CsvField(j.record) + "\n";
      }
      CF_RETURN_IF_ERROR(WriteFileAtomic(o_.rejects, out));
    }
    report_->bad_rows = log_.count;
    report_->first_bad_rows = log_.first;
    report_->bad_row_reasons.assign(log_.reasons.begin(), log_.reasons.end());
    std::stable_sort(report_->bad_row_reasons.begin(), report_->bad_row_reasons.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    uint64_t rows = 0;
    for (const FileRows& f : files_) rows += f.rows;
    report_->rows_read = rows;
    std::string why;
    for (const FileRows& f : files_) {
      if (f.rows > 0 && f.bad == f.rows) {
        why = f.path + ": every one of its " + std::to_string(f.rows) + " rows is bad";
        break;
      }
    }
    if (why.empty() && o_.max_bad_rows && log_.count > *o_.max_bad_rows) {
      why = std::to_string(log_.count) + " bad rows, more than the limit of " + std::to_string(*o_.max_bad_rows) +
            " (max_bad_rows)";
    }
    if (why.empty() && o_.max_bad_share && rows > 0 &&
        static_cast<double>(log_.count) > *o_.max_bad_share * static_cast<double>(rows)) {
      why = std::to_string(log_.count) + " bad rows of " + std::to_string(rows) + " (" +
            Percent(static_cast<double>(log_.count) / static_cast<double>(rows)) + "), more than the limit of " +
            Percent(*o_.max_bad_share) + " (max_bad_share)";
    }
    if (why.empty()) return Status::OK();
    std::string msg = why + "; nothing was written. Bad rows by reason:";
    size_t shown = 0;
    for (const auto& [reason, n] : report_->bad_row_reasons) {
      if (++shown > kMaxBadRowsShown) break;
      msg += "\n  " + std::to_string(n) + " x " + reason;
    }
    msg += "\nThe first ones:";
    for (const std::string& line : log_.first) msg += "\n  " + line;
    if (keep_rejects_) msg += "\nAll rejected rows are in " + o_.rejects;
    return Status::InvalidArgument(msg);
  }

  // Records a bad row. Returns the error to stop with (not skipping, or an error of the file
  // itself, which no skipping can get past), or OK to go on.
  Status Bad(BadRowLog& log, FileRows& f, const io::RecordReader& r, RowProblem p, std::string_view raw) {
    ++f.bad;
    ++f.rows;
    if (!skipping_) return Status::InvalidArgument(p.message);
    log.Add(r, std::move(p), raw, keep_rejects_);
    return Status::OK();
  }

  // Reads a file keyed by one column (products, customers): every row's id is interned into
  // `table` and every column other than the key and `identity_cols` is an attribute. `check`
  // may reject a row before anything of it is kept; `apply` stores the rest. An empty cell
  // never erases a value that an earlier file gave. A repeated id within the file keeps its
  // first row; the repeats are reported.
  Status ReadKeyed(io::RecordReader& r, const std::string& key_name, const char* key_flag, const char* what,
                   const std::vector<int>& identity_cols, EntityTable* table,
                   const std::function<std::optional<RowProblem>(const io::Record&)>& check,
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
    files_.push_back({r.path()});
    FileRows& f = files_.back();
    std::vector<uint64_t> first_line;  // per row: the line of this file that gave it, 0 if none
    uint64_t repeats = 0;
    std::vector<std::string> examples;
    io::Record rec;
    while (true) {
      auto more = r.Next(&rec);
      if (!more.has_value()) {
        if (more.error().code() != StatusCode::kInvalidArgument) return more.error();
        CF_RETURN_IF_ERROR(Bad(log_, f, r, ReaderError(r, more.error()), r.last_raw()));
        continue;
      }
      if (!*more) break;
      std::string_view id = Trim(rec.fields[static_cast<size_t>(key)]);
      if (id.empty()) {
        CF_RETURN_IF_ERROR(
            Bad(log_, f, r, RowError(r, rec.line, key_name, std::string("empty ") + what + " id", id), rec.raw));
        continue;
      }
      if (std::optional<RowProblem> p = check(rec)) {
        CF_RETURN_IF_ERROR(Bad(log_, f, r, std::move(*p), rec.raw));
        continue;
      }
      ++f.rows;
      bool created = false;
      uint32_t row = table->Intern(id, &created);
      if (first_line.size() <= row) first_line.resize(row + 1, 0);
      if (first_line[row] != 0) {
        if (++repeats <= kMaxExamples) {
          examples.push_back("line " + std::to_string(rec.line) + " repeats " + Quote(id) + " of line " +
                             std::to_string(first_line[row]));
        }
        continue;
      }
      first_line[row] = rec.line;
      apply(rec, row);
      for (size_t i = 0; i < attrs.size(); ++i) {
        if (attrs[i] != nullptr && !rec.fields[i].empty()) attrs[i]->Set(row, rec.fields[i]);
      }
    }
    if (repeats > 0) {
      report_->warnings.push_back(r.path() + ": " + Rows(repeats, "repeats", "repeat") + " a " + what +
                                  " id of an earlier row (" + Join(examples, "; ") +
                                  (repeats > kMaxExamples ? "; ..." : "") +
                                  "); the first row of each id was kept and the repeats were ignored");
    }
    CheckNumericAttributes(r, what, table, attrs);
    return Status::OK();
  }

  // A column whose values are numbers but for a few is meant to be numeric: the few are
  // reported (an offer's `price < 5` can never match text). With a decimal comma, numeric
  // columns are stored with a decimal point, so that offers compare them as numbers.
  void CheckNumericAttributes(const io::RecordReader& r, const char* what, EntityTable* table,
                              const std::vector<AttributeTable*>& attrs) {
    for (AttributeTable* a : attrs) {
      if (a == nullptr) continue;
      const Interner& values = a->dict.values();
      std::vector<uint64_t> rows(values.size(), 0);
      for (uint32_t c : a->codes) ++rows[c];
      uint64_t filled = 0, numbers = 0, comma_numbers = 0;
      std::vector<uint32_t> text_codes;
      for (uint32_t code = 1; code < values.size(); ++code) {
        if (rows[code] == 0) continue;
        filled += rows[code];
        if (ParseNumber(values[code], o_.decimal)) {
          numbers += rows[code];
        } else {
          if (o_.decimal == '.' && ParseNumber(values[code], ',')) comma_numbers += rows[code];
          text_codes.push_back(code);
        }
      }
      if (filled == 0 || numbers == filled) {
        if (filled > 0 && o_.decimal == ',') NormalizeNumbers(a);
        continue;
      }
      const auto example = [&](size_t k) {
        const uint32_t code = text_codes[k];
        for (uint32_t row = 0; row < a->codes.size(); ++row) {
          if (a->codes[row] == code) return Quote(values[code]) + " for " + what + " " + Quote(table->ids()[row]);
        }
        return Quote(values[code]);
      };
      std::string shown;
      for (size_t k = 0; k < text_codes.size() && k < kMaxExamples; ++k) shown += (k ? ", " : "") + example(k);
      if (comma_numbers > 0 && (numbers + comma_numbers) * 10 >= filled * 9) {
        report_->warnings.push_back(r.path() + ": column " + a->name + ": " + std::to_string(comma_numbers) + " of " +
                                    std::to_string(filled) + " values are numbers with a decimal comma (" + shown +
                                    "), stored as text that comparisons such as `" + a->name +
                                    " < 5` never match; set the decimal mark to ','");
      } else if (numbers * 10 >= filled * 8) {
        report_->warnings.push_back(r.path() + ": column " + a->name + " holds numbers, but " +
                                    std::to_string(filled - numbers) + " of " + std::to_string(filled) +
                                    " values are not numbers (" + shown + "); comparisons such as `" + a->name +
                                    " < 5` never match them");
        if (o_.decimal == ',') NormalizeNumbers(a);
      }
    }
  }

  void NormalizeNumbers(AttributeTable* a) const {
    const Interner& values = a->dict.values();
    Dictionary normalized;
    std::vector<uint32_t> remap(values.size(), kMissingCode);
    for (uint32_t code = 1; code < values.size(); ++code) {
      remap[code] = normalized.Intern(ParseNumber(values[code], ',') ? NormalizeDecimal(values[code])
                                                                     : std::string(values[code]));
    }
    for (uint32_t& c : a->codes) c = remap[c];
    a->dict = std::move(normalized);
  }

  Status ReadProducts(io::RecordReader& r) {
    t_.has_products = true;
    return ReadKeyed(
        r, o_.product_key, "--product-key", "product", {}, &t_.products,
        [](const io::Record&) { return std::optional<RowProblem>(); }, [](const io::Record&, uint32_t) {});
  }

  Status ReadCustomers(io::RecordReader& r) {
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
    // external_id -> customer row: an external id names one customer; the first one keeps it.
    std::unordered_map<std::string, uint32_t> owner;
    for (uint32_t row = 0; row < t_.external_ids.size(); ++row) {
      if (!t_.external_ids[row].empty()) owner.emplace(t_.external_ids[row], row);
    }
    uint64_t taken = 0;
    std::vector<std::string> examples;
    std::string aliases;
    uint64_t line = 0;
    const auto check = [&](const io::Record& rec) -> std::optional<RowProblem> {
      line = rec.line;
      if (id_cols[kAliases] < 0) {
        aliases.clear();
        return std::nullopt;
      }
      std::string_view raw = rec.fields[static_cast<size_t>(id_cols[kAliases])];
      Status s = ParseAliases(raw, &aliases);
      if (s.ok()) return std::nullopt;
      return RowError(r, rec.line, r.header()[static_cast<size_t>(id_cols[kAliases])], s.message(), raw);
    };
    const auto apply = [&](const io::Record& rec, uint32_t row) {
      t_.PadIdentities();
      const auto cell = [&](int col) {
        return col < 0 ? std::string_view() : Trim(rec.fields[static_cast<size_t>(col)]);
      };
      if (std::string_view ext = cell(id_cols[kExternalId]); !ext.empty()) {
        auto [it, fresh] = owner.emplace(std::string(ext), row);
        if (fresh || it->second == row) {
          t_.external_ids[row] = std::string(ext);
        } else if (++taken <= kMaxExamples) {
          examples.push_back("line " + std::to_string(line) + ": " + Quote(ext) + " of customer " +
                             Quote(t_.customers.ids()[it->second]) + " given to " + Quote(t_.customers.ids()[row]));
        }
      }
      if (std::string_view dev = cell(id_cols[kDeviceId]); !dev.empty()) t_.device_ids[row] = std::string(dev);
      std::string merged = t_.aliases[row];
      const auto add_alias = [&](std::string_view item) {
        for (std::string_view have : Split(merged, '\n')) {
          if (have == item) return;
        }
        if (!merged.empty()) merged += '\n';
        merged += item;
      };
      for (std::string_view item : Split(aliases, '\n')) {
        if (!item.empty()) add_alias(item);
      }
      if (std::string_view email = cell(id_cols[kEmail]); !email.empty()) add_alias("email:" + std::string(email));
      t_.aliases[row] = std::move(merged);
    };
    CF_RETURN_IF_ERROR(
        ReadKeyed(r, o_.customer_key, "--customer-key", "customer", id_cols, &t_.customers, check, apply));
    if (taken > 0) {
      report_->warnings.push_back(r.path() + ": " + Rows(taken, "gives", "give") +
                                  " an external_id that already belongs to another customer (" + Join(examples, "; ") +
                                  (taken > kMaxExamples ? "; ..." : "") +
                                  "); the customer who had it first keeps it, the others were left without it");
    }
    return Status::OK();
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
        return Status::InvalidArgument(
            "an alias must be label:name (e.g. email:jane@example.com), items separated by ';'");
      }
      if (!out->empty()) *out += '\n';
      *out += item;
    }
    return Status::OK();
  }

  // One range of the events file, parsed on its own thread into its own tables; the parts
  // are merged in file order afterwards, so ids and errors come out as a sequential read would.
  struct EventPart {
    io::RecordReader* reader = nullptr;
    EntityTable customers;  // local ids
    EntityTable products;
    EventColumns events;
    uint64_t events_read = 0;
    FileRows rows;
    BadRowLog log;
    Status fatal;
  };

  Status ReadEvents(io::RecordReader& r, const std::array<int, kFieldCount>& cols) {
    constexpr uint64_t kParallelMinBytes = 16 << 20;
    constexpr unsigned kMaxParts = 8;
    const bool has_product = cols[kProduct] >= 0;
    if (has_product) {
      t_.has_products = true;
    } else if (t_.has_products) {
      return Status::InvalidArgument(r.path() +
                                     ": the dataset's events name products, but this file has no product "
                                     "column (map one with --map product=COLUMN)");
    }
    // Streamed input (gzip, converted encodings) is read by one thread, front to back.
    unsigned parts = 1;
    if (r.splittable() && r.bytes_total() >= kParallelMinBytes) {
      parts = std::clamp(std::thread::hardware_concurrency(), 1u, kMaxParts);
    }
    parts_ = parts;
    std::vector<std::unique_ptr<io::RecordReader>> readers;
    if (parts > 1) readers = r.Split(static_cast<int>(parts));
    std::vector<EventPart> split(parts > 1 ? readers.size() : 1);
    for (size_t i = 0; i < split.size(); ++i) split[i].reader = parts > 1 ? readers[i].get() : &r;
    Progress progress("ingest " + FileName(r.path()), r.bytes_total(), "bytes");
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
    // The same content as an events file ingested before (under any name, plain or gzip) is
    // not added again: a re-run nightly job doubles nothing.
    const auto [bytes, checksum] = r.Checksum();
    for (const Batch& b : t_.batches) {
      if (b.bytes == bytes && b.checksum == checksum) {
        report_->events_already_ingested = true;
        report_->warnings.push_back(r.path() + ": the same content (" + std::to_string(bytes) + " bytes, checksum " +
                                    checksum + ") was ingested into " + o_.out + " on " + b.ingested_at + " as " +
                                    b.file + "; its events were not added again");
        return Status::OK();
      }
    }
    FileRows rows{r.path()};
    for (EventPart& part : split) {
      rows.rows += part.rows.rows;
      rows.bad += part.rows.bad;
    }
    files_.push_back(rows);
    MergeParts(split);
    t_.batches.push_back(
        {FileName(r.path()), bytes, checksum, report_->events_read, FormatIsoTime(SystemClock().NowSeconds())});
    return Status::OK();
  }

  void ParsePart(EventPart& part, const std::array<int, kFieldCount>& cols, bool has_product,
                 std::atomic<uint64_t>* bytes_done, Progress* progress) const {
    constexpr uint64_t kBytesPerRowGuess = 48;
    io::RecordReader& r = *part.reader;
    // The first part's columns become the merged ones: reserving room for the whole file
    // there costs address space only, and spares the merge a copy of them.
    const bool first = progress != nullptr;
    const uint64_t share = r.decoded_size_hint() / kBytesPerRowGuess / parts_;
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
    // False when the part must stop (a bad row without skipping).
    const auto bad = [&](RowProblem p, std::string_view raw) {
      ++part.rows.bad;
      ++part.rows.rows;
      if (!skipping_) {
        part.fatal = Status::InvalidArgument(p.message);
        return false;
      }
      part.log.Add(r, std::move(p), raw, keep_rejects_);
      return true;
    };
    const auto not_a_number = [&](std::string_view text) {
      std::string why = "not a number";
      if (o_.decimal == '.' && ParseNumber(text, ',')) why += " (it has a decimal comma: set the decimal mark to ',')";
      if (o_.decimal == ',' && ParseDouble(Trim(text))) why += " with a decimal comma (the decimal mark is set to ',')";
      return why;
    };
    while (true) {
      auto more = r.Next(&rec);
      if (!more.has_value()) {
        if (more.error().code() != StatusCode::kInvalidArgument) {
          part.fatal = more.error();  // the file itself is broken (truncated, unreadable)
          return;
        }
        if (!bad(ReaderError(r, more.error()), r.last_raw())) return;
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
        if (!bad(RowError(r, rec.line, name(kCustomer), "empty customer id", customer), rec.raw)) return;
        continue;
      }
      int64_t time = 0;
      std::string_view time_text = col(kTime);
      if (!ParseTime(time_text, &time)) {
        if (!bad(RowError(r, rec.line, name(kTime), TimeError(time_text), time_text), rec.raw)) return;
        continue;
      }
      float quantity = 1;
      if (std::string_view q = col(kQuantity); !q.empty()) {
        std::optional<double> v = ParseNumber(q, o_.decimal);
        if (!v) {
          if (!bad(RowError(r, rec.line, name(kQuantity), not_a_number(q), q), rec.raw)) return;
          continue;
        }
        if (*v < 0) {
          if (!bad(RowError(r, rec.line, name(kQuantity), "negative quantity (returns are not purchases; must be >= 0)",
                            q),
                   rec.raw)) {
            return;
          }
          continue;
        }
        quantity = static_cast<float>(*v);
      }
      float revenue = 0;
      if (std::string_view rv = col(kRevenue); !rv.empty()) {
        std::optional<double> v = ParseNumber(rv, o_.decimal);
        if (!v) {
          if (!bad(RowError(r, rec.line, name(kRevenue), not_a_number(rv), rv), rec.raw)) return;
          continue;
        }
        revenue = static_cast<float>(*v);
      }
      Channel channel = Channel::kUnknown;
      if (std::string_view ch = Trim(col(kChannel)); !ch.empty()) {
        if (!ParseChannel(ch, &channel)) {
          if (!bad(RowError(r, rec.line, name(kChannel), ChannelError(), ch), rec.raw)) return;
          continue;
        }
      }
      bool created = false;
      uint32_t product = kNoProduct;
      if (has_product) {
        std::string_view pid = Trim(col(kProduct));
        if (pid.empty()) {
          if (!bad(RowError(r, rec.line, name(kProduct), "empty product id", pid), rec.raw)) return;
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
      ++part.rows.rows;
    }
    bytes_done->fetch_add(r.bytes_done() - last_pos);
  }

  bool ParseChannel(std::string_view ch, Channel* out) const {
    if (EqualsNoCase(ch, "online")) {
      *out = Channel::kOnline;
      return true;
    }
    if (EqualsNoCase(ch, "offline")) {
      *out = Channel::kOffline;
      return true;
    }
    for (const auto& [value, channel] : channel_values_) {
      if (EqualsNoCase(ch, value)) {
        *out = channel;
        return true;
      }
    }
    return false;
  }

  std::string ChannelError() const {
    std::string valid = "online, offline";
    for (const auto& [value, channel] : channel_values_) valid += ", " + value;
    return "unknown channel (valid: " + valid + "; other values are mapped with channel values such as online=web)";
  }

  std::string TimeError(std::string_view text) const {
    std::string why;
    switch (time_kind_) {
      case TimeKind::kFormat:
        why = "not a date in the format '" + time_format_->pattern() + "'";
        break;
      case TimeKind::kEpochSeconds:
        why = "not a Unix time in seconds";
        break;
      case TimeKind::kEpochMillis:
        why = "not a Unix time in milliseconds";
        break;
      case TimeKind::kIso:
        why = "not an ISO 8601 date (e.g. 2017-10-01 or 2017-10-01T12:30:00Z; use --time-format for other layouts)";
        break;
    }
    text = Trim(text);
    const bool digits =
        !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits && time_kind_ != TimeKind::kEpochSeconds && time_kind_ != TimeKind::kEpochMillis) {
      if (text.size() >= 12 && text.size() <= 14) why += "; it looks like Unix milliseconds: time format epoch_ms";
      if (text.size() >= 9 && text.size() <= 11) why += "; it looks like Unix seconds: time format epoch";
    }
    return why;
  }

  bool ParseTime(std::string_view text, int64_t* out) const {
    text = Trim(text);
    bool zoned = false;
    switch (time_kind_) {
      case TimeKind::kEpochSeconds:
      case TimeKind::kEpochMillis: {
        auto v = ParseDouble(text);
        if (!v || !std::isfinite(*v)) return false;
        const double seconds = time_kind_ == TimeKind::kEpochMillis ? *v / 1000 : *v;
        if (std::fabs(seconds) > 1e13) return false;
        *out = static_cast<int64_t>(std::floor(seconds));
        return true;  // an instant: no zone applies
      }
      case TimeKind::kFormat:
        if (!time_format_->Parse(text, out)) return false;
        zoned = format_has_zone_;
        break;
      case TimeKind::kIso: {
        auto t = ParseIsoTime(text);
        if (!t.has_value()) return false;
        *out = *t;
        zoned = IsoHasZone(text);
        break;
      }
    }
    if (tz_ && !zoned) *out = tz_->LocalToUtc(*out);
    return true;
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
      log_.Merge(std::move(part.log));
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
      report_->warnings.push_back(std::to_string(unknown_products) + " products named by " + o_.events.path +
                                  " are not in " + o_.products.path + "; they were added without attributes");
    }
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
  bool skipping_ = false;
  bool keep_rejects_ = false;
  BadRowLog log_;
  std::vector<FileRows> files_;
  TimeKind time_kind_ = TimeKind::kIso;
  std::optional<TimeFormat> time_format_;
  bool format_has_zone_ = false;
  std::optional<TimeZone> tz_;
  std::vector<std::pair<std::string, Channel>> channel_values_;
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
  const auto rel = [&](const std::string& p) { return p.empty() || p[0] == '/' || dir.empty() ? p : dir + "/" + p; };
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) return Status::InvalidArgument(path + ": expected a JSON object");
    static const std::vector<std::string> kKeys = {"events",        "products",     "customers",      "product_key",
                                                   "customer_key",  "map",          "customer_map",   "time_format",
                                                   "timezone",      "decimal",      "channel_values", "encoding",
                                                   "skip_bad_rows", "max_bad_rows", "rejects",        "out"};
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
        return Status::InvalidArgument(path + ": '" + key +
                                       "' must be a path or {\"path\":..., \"delimiter\":..., \"format\":..., "
                                       "\"encoding\":...}");
      }
      s->path = rel(v["path"].get<std::string>());
      std::string d = v.value("delimiter", "");
      if (d.size() > 1) return Status::InvalidArgument(path + ": '" + key + ".delimiter' must be one character");
      if (s->delimiter == 0 && d.size() == 1) s->delimiter = d[0];
      if (s->format.empty()) s->format = v.value("format", "");
      if (s->encoding.empty()) s->encoding = v.value("encoding", "");
      return Status::OK();
    };
    CF_RETURN_IF_ERROR(source("events", &o->events));
    CF_RETURN_IF_ERROR(source("products", &o->products));
    CF_RETURN_IF_ERROR(source("customers", &o->customers));
    if (j.contains("product_key") && o->product_key == IngestOptions{}.product_key) o->product_key = j["product_key"];
    if (j.contains("customer_key") && o->customer_key == IngestOptions{}.customer_key)
      o->customer_key = j["customer_key"];
    if (j.contains("map")) {
      for (auto& [k, v] : j["map"].items()) o->map.emplace(k, v.get<std::string>());
    }
    if (j.contains("customer_map")) {
      for (auto& [k, v] : j["customer_map"].items()) o->customer_map.emplace(k, v.get<std::string>());
    }
    if (j.contains("time_format") && o->time_format.empty()) o->time_format = j["time_format"];
    if (j.contains("out") && o->out.empty()) o->out = rel(j["out"].get<std::string>());
    if (j.contains("skip_bad_rows")) o->skip_bad_rows = o->skip_bad_rows || j["skip_bad_rows"].get<bool>();
    if (j.contains("encoding")) {
      for (io::SourceOptions* s : {&o->events, &o->products, &o->customers}) {
        if (s->encoding.empty()) s->encoding = j["encoding"].get<std::string>();
      }
    }
    if (j.contains("timezone") && o->timezone.empty()) o->timezone = j["timezone"];
    if (j.contains("decimal") && o->decimal == '.') {
      const std::string d = j["decimal"];
      if (d.size() != 1) return Status::InvalidArgument(path + ": 'decimal' must be \".\" or \",\", got '" + d + "'");
      o->decimal = d[0];
    }
    if (j.contains("channel_values") && o->channel_values.empty()) {
      // {"online": ["web", "shop"], "offline": ["store"]}
      for (auto& [channel, values] : j["channel_values"].items()) {
        for (const auto& v : values) o->channel_values.emplace_back(channel, v.get<std::string>());
      }
    }
    if (j.contains("max_bad_rows") && !o->max_bad_rows && !o->max_bad_share) {
      const auto& v = j["max_bad_rows"];
      CF_RETURN_IF_ERROR(ParseBadRowLimit(v.is_string() ? v.get<std::string>() : v.dump(), o));
    }
    if (j.contains("rejects") && o->rejects.empty()) o->rejects = rel(j["rejects"].get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  }
  return Status::OK();
}

}  // namespace cf::data
