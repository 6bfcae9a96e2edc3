#include "engage/user_import.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "base/strings.h"
#include "engage/wire.h"
#include "io/record_reader.h"

namespace cf::engage {

namespace {

constexpr std::string_view kAliasPrefix = "alias:";

// Braze's standard profile fields: always strings (a phone number "0612345678" must keep its
// leading zero), whatever their cells look like. Every other column is a custom attribute.
bool IsStandardStringField(std::string_view name) {
  static const char* const kFields[] = {"first_name",      "last_name",     "email",  "phone", "country",   "language",
                                        "home_city",       "bio",           "gender", "dob",   "image_url", "time_zone",
                                        "email_subscribe", "push_subscribe"};
  return std::any_of(std::begin(kFields), std::end(kFields), [&](const char* f) { return name == f; });
}

// A JSON number as Braze's CSV import reads one: digits with an optional '-', '.' fraction and
// exponent; no spaces, no thousands separators, no leading zeros ("007" is an identifier-like
// string and stays one).
bool IsPlainNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  if (s[i] == '0' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) return false;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  return i == s.size();
}

// The stored JSON value of a non-empty cell: TRUE/FALSE (any case) is a boolean, a plain number
// a number, anything else (ISO 8601 times included, as /users/track stores them) a string.
nlohmann::json CellValue(std::string_view column, std::string_view cell) {
  if (!IsStandardStringField(column)) {
    const std::string lower = ToLower(cell);
    if (lower == "true") return true;
    if (lower == "false") return false;
    if (IsPlainNumber(cell)) {
      if (cell.find_first_of(".eE") == std::string_view::npos) {
        if (auto i = ParseInt64(cell)) return *i;
      }
      const double d = std::strtod(std::string(cell).c_str(), nullptr);
      if (std::isfinite(d)) return d;
    }
  }
  return std::string(cell);
}

enum class IdKind { kExternalId = 0, kBrazeId = 1, kAlias = 2 };

struct Layout {
  int external_id = -1;
  int braze_id = -1;
  int alias_name = -1;                                     // user_alias_name
  int alias_label = -1;                                    // user_alias_label
  std::vector<std::pair<int, std::string>> alias_columns;  // alias:LABEL -> (column, LABEL)
  std::vector<int> attributes;
};

Result<Layout> ReadLayout(const std::string& path, const std::vector<std::string>& header) {
  Layout l;
  auto bad = [&](size_t col, const std::string& why) {
    return Err(Status::InvalidArgument(path + ":1: column " + std::to_string(col + 1) + " " + Quote(header[col]) +
                                       ": " + why));
  };
  for (size_t c = 0; c < header.size(); ++c) {
    const std::string& name = header[c];
    const int ci = static_cast<int>(c);
    if (name == "external_id") {
      l.external_id = ci;
    } else if (name == "braze_id") {
      l.braze_id = ci;
    } else if (name == "user_alias_name") {
      l.alias_name = ci;
    } else if (name == "user_alias_label") {
      l.alias_label = ci;
    } else if (StartsWith(name, kAliasPrefix)) {
      std::string label = name.substr(kAliasPrefix.size());
      std::string problem = IdentifierProblem(label);
      if (!problem.empty()) return bad(c, "the alias label after 'alias:' " + problem + " (e.g. alias:email)");
      l.alias_columns.emplace_back(ci, std::move(label));
    } else if (name == "device_id") {
      return bad(c,
                 "devices cannot be imported from a CSV file; they come from SDK sessions (POST /sdk/v1/session "
                 "or `engage user add-device`)");
    } else if (name == "user_aliases" || name == "user_alias" || name == "_update_existing_only") {
      return bad(c, "is reserved; name aliases with alias:LABEL columns or the pair user_alias_name, user_alias_label");
    } else {
      std::string problem = IdentifierProblem(name);
      if (!problem.empty()) return bad(c, "an attribute name " + problem);
      l.attributes.push_back(ci);
    }
  }
  if ((l.alias_name >= 0) != (l.alias_label >= 0)) {
    return Err(
        Status::InvalidArgument(path + ":1: user_alias_name and user_alias_label come together; the header has " +
                                std::string(l.alias_name >= 0 ? "user_alias_name" : "user_alias_label") + " alone"));
  }
  if (l.external_id >= 0 && l.braze_id >= 0) {
    return Err(Status::InvalidArgument(path +
                                       ":1: a file names its users by external_id or by braze_id, not both (Braze's "
                                       "rule); keep one of the two columns"));
  }
  if (l.external_id < 0 && l.braze_id < 0 && l.alias_name < 0 && l.alias_columns.empty()) {
    return Err(Status::InvalidArgument(
        path +
        ":1: no identifier column; the header needs external_id, braze_id, alias:LABEL (e.g. alias:email) or "
        "the pair user_alias_name, user_alias_label, and has: " +
        Join(header, ", ")));
  }
  return l;
}

struct AliasCell {
  Alias alias;
  std::string column;  // where it came from, for errors
};

// One row, checked and ready to apply.
struct Row {
  uint64_t ordinal = 0;  // rows read before this one: file order, for the error report
  uint64_t line = 0;
  IdKind kind = IdKind::kAlias;
  std::string key;  // the identifier that orders the batch
  std::optional<std::string> external_id;
  std::optional<std::string> braze_id;
  std::vector<AliasCell> aliases;
  std::vector<std::pair<std::string, std::string>> attributes;  // (name, value as JSON)
};

// A row error before anything is written: the cell's column and value and why.
struct CellError {
  std::string column;
  std::string value;
  std::string message;
};

std::optional<CellError> ParseRow(const Layout& l, const std::vector<std::string>& header, const io::Record& rec,
                                  Row* row) {
  row->line = rec.line;
  auto cell = [&](int c) { return rec.fields[c]; };
  if (l.external_id >= 0 && !cell(l.external_id).empty()) {
    const std::string_view v = cell(l.external_id);
    std::string problem = IdentifierProblem(v, true);
    if (!problem.empty()) return CellError{"external_id", std::string(v), "the external_id " + problem};
    row->external_id = std::string(v);
  }
  if (l.braze_id >= 0 && !cell(l.braze_id).empty()) {
    const std::string_view v = cell(l.braze_id);
    std::string problem = IdentifierProblem(v);
    if (!problem.empty()) return CellError{"braze_id", std::string(v), "the braze_id " + problem};
    row->braze_id = std::string(v);
  }
  if (l.alias_name >= 0) {
    const std::string_view name = cell(l.alias_name), label = cell(l.alias_label);
    if (name.empty() != label.empty()) {
      const bool no_label = label.empty();
      return CellError{no_label ? "user_alias_label" : "user_alias_name", "",
                       no_label ? "is empty while user_alias_name is set; an alias needs both"
                                : "is empty while user_alias_label is set; an alias needs both"};
    }
    if (!name.empty()) {
      for (auto [column, v] : {std::pair{"user_alias_name", name}, std::pair{"user_alias_label", label}}) {
        std::string problem = IdentifierProblem(v);
        if (!problem.empty()) return CellError{column, std::string(v), std::string("the ") + column + " " + problem};
      }
      row->aliases.push_back({Alias{std::string(label), std::string(name)}, "user_alias_name"});
    }
  }
  for (const auto& [c, label] : l.alias_columns) {
    const std::string_view v = cell(c);
    if (v.empty()) continue;
    std::string problem = IdentifierProblem(v);
    if (!problem.empty()) return CellError{header[c], std::string(v), "the alias " + problem};
    row->aliases.push_back({Alias{label, std::string(v)}, header[c]});
  }
  // Two cells naming one label would give the profile two aliases of one label.
  for (size_t i = 0; i < row->aliases.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const AliasCell& a = row->aliases[i];
      const AliasCell& b = row->aliases[j];
      if (a.alias.label == b.alias.label && a.alias.name != b.alias.name) {
        return CellError{a.column, a.alias.name,
                         "a second alias with label " + Quote(a.alias.label) + " (column " + b.column + " has " +
                             Quote(b.alias.name) + "); a profile has one alias per label"};
      }
    }
  }
  if (row->external_id) {
    row->kind = IdKind::kExternalId;
    row->key = *row->external_id;
  } else if (row->braze_id) {
    row->kind = IdKind::kBrazeId;
    row->key = *row->braze_id;
  } else if (!row->aliases.empty()) {
    row->kind = IdKind::kAlias;
    row->key = row->aliases[0].alias.label + '\x1f' + row->aliases[0].alias.name;
  } else {
    std::vector<std::string> columns;
    if (l.external_id >= 0) columns.push_back("external_id");
    if (l.braze_id >= 0) columns.push_back("braze_id");
    if (l.alias_name >= 0) columns.push_back("user_alias_name");
    for (const auto& [c, label] : l.alias_columns) columns.push_back(header[c]);
    return CellError{"", "",
                     "no identifier: " + Join(columns, ", ") + " " + (columns.size() > 1 ? "are" : "is") +
                         " empty; a row needs an external_id or an alias"};
  }
  for (int c : l.attributes) {
    const std::string_view v = cell(c);
    if (v.empty()) continue;  // a blank cell leaves the attribute as it is
    nlohmann::json value = CellValue(header[c], v);
    if (!CheckStringValue(header[c], value).ok()) {
      size_t chars = 0;
      for (char ch : v) chars += (static_cast<unsigned char>(ch) & 0xc0) != 0x80;
      return CellError{header[c], std::string(v.substr(0, 40)) + "...",
                       "is " + std::to_string(chars) + " characters long; a string attribute holds at most " +
                           std::to_string(kMaxNameChars)};
    }
    row->attributes.emplace_back(header[c], value.dump());
  }
  return std::nullopt;
}

std::string Describe(const Profile& p) {
  return p.external_id ? "the user with external_id " + Quote(*p.external_id) : "an alias-only user";
}

// Applies one row inside the batch's transaction. A row error is returned in `error` (the
// caller rolls the row back); a failed Status is a database error that ends the import.
Status ApplyRow(Transaction& txn, int64_t ws, const Row& row, int64_t now, bool* created,
                std::optional<CellError>* error) {
  // The profile each alias names now, if any.
  std::vector<std::optional<Profile>> holders;
  for (const AliasCell& a : row.aliases) {
    CF_ASSIGN_OR_RETURN(auto p, txn.FindByAlias(ws, a.alias));
    holders.push_back(std::move(p));
  }
  std::optional<Profile> target;
  if (row.kind == IdKind::kExternalId) {
    CF_ASSIGN_OR_RETURN(target, txn.FindByExternalId(ws, *row.external_id));
    for (size_t i = 0; i < holders.size(); ++i) {
      const auto& h = holders[i];
      if (!h || (target && h->index == target->index)) continue;
      if (target || h->external_id) {
        *error = CellError{row.aliases[i].column, row.aliases[i].alias.name,
                           "this alias belongs to " + Describe(*h) +
                               (h->external_id ? "" : "; merge it into this user with POST /users/identify")};
        return Status::OK();
      }
      // An alias-only profile gets the external_id and keeps its data, as /users/identify does
      // when no profile has the external_id yet: the subscriber who later created an account.
      CF_RETURN_IF_ERROR(txn.SetExternalId(h->index, *row.external_id));
      target = h;
      target->external_id = row.external_id;
    }
    if (!target) {
      CF_ASSIGN_OR_RETURN(Profile p, txn.InsertProfile(ws, *row.external_id, now));
      target = std::move(p);
      *created = true;
    }
  } else if (row.kind == IdKind::kBrazeId) {
    CF_ASSIGN_OR_RETURN(target, txn.FindByBrazeId(ws, *row.braze_id));
    if (!target) {
      *error = CellError{"braze_id", *row.braze_id,
                         "no user has this braze_id (an import by braze_id only updates users, as Braze's does)"};
      return Status::OK();
    }
  } else {
    size_t named_by = 0;  // the alias that found `target`
    for (size_t i = 0; i < holders.size(); ++i) {
      const auto& h = holders[i];
      if (!h) continue;
      if (target && h->index != target->index) {
        *error = CellError{row.aliases[i].column, row.aliases[i].alias.name,
                           "this alias belongs to " + Describe(*h) + ", the row's alias " +
                               Quote(row.aliases[named_by].alias.name) + " to another user"};
        return Status::OK();
      }
      if (!target) named_by = i;
      target = h;
    }
    if (!target) {
      CF_ASSIGN_OR_RETURN(Profile p, txn.InsertProfile(ws, std::nullopt, now));
      target = std::move(p);
      *created = true;
    }
  }
  // Aliases the profile lacks; one that is another user's, or a different name for a label the
  // profile has, is a conflict.
  for (size_t i = 0; i < holders.size(); ++i) {
    if (holders[i] && holders[i]->index != target->index) {
      *error = CellError{
          row.aliases[i].column, row.aliases[i].alias.name,
          "this alias belongs to another user than the row's " + std::string(row.braze_id ? "braze_id" : "identifier")};
      return Status::OK();
    }
  }
  if (!row.aliases.empty()) {
    CF_ASSIGN_OR_RETURN(auto existing, txn.Aliases(target->index));
    for (size_t i = 0; i < row.aliases.size(); ++i) {
      if (holders[i] && holders[i]->index == target->index) continue;
      const Alias& a = row.aliases[i].alias;
      auto same = std::find_if(existing.begin(), existing.end(), [&](const Alias& e) { return e.label == a.label; });
      if (same != existing.end()) {
        if (same->name == a.name) continue;
        *error = CellError{row.aliases[i].column, a.name,
                           Describe(*target) + " already has the alias " + Quote(same->name) + " with label " +
                               Quote(a.label) + "; a profile has one alias per label"};
        return Status::OK();
      }
      CF_RETURN_IF_ERROR(txn.AddAlias(ws, target->index, a));
      existing.push_back(a);
    }
  }
  for (const auto& [name, value] : row.attributes) CF_RETURN_IF_ERROR(txn.SetAttribute(target->index, name, value));
  return Status::OK();
}

// The order to apply a batch in: by identifier, so that its lookups and inserts walk each index
// from one end to the other, except that rows naming one user, through an identifier of the
// row or an existing profile an identifier leads to, stay together in file order: the result
// is the one of applying the file row by row.
Result<std::vector<size_t>> ApplyOrder(Transaction& txn, int64_t ws, const std::vector<Row>& rows) {
  std::vector<size_t> parent(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) parent[i] = i;
  auto find = [&](size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  std::unordered_map<std::string, size_t> owner;  // key -> a row that has it
  auto claim = [&](size_t i, std::string key) {
    auto [it, fresh] = owner.emplace(std::move(key), i);
    if (fresh) return;
    const size_t a = find(i), b = find(it->second);
    parent[std::max(a, b)] = std::min(a, b);  // the root is the component's first row
  };
  auto claim_profile = [&](size_t i, const std::optional<Profile>& p) {
    if (p) claim(i, "p" + std::to_string(p->index));
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (r.external_id) {
      claim(i, "e" + *r.external_id);
      CF_ASSIGN_OR_RETURN(auto p, txn.FindByExternalId(ws, *r.external_id));
      claim_profile(i, p);
    }
    if (r.braze_id) {
      claim(i, "b" + *r.braze_id);
      CF_ASSIGN_OR_RETURN(auto p, txn.FindByBrazeId(ws, *r.braze_id));
      claim_profile(i, p);
    }
    for (const AliasCell& a : r.aliases) {
      claim(i, "a" + a.alias.label + '\x1f' + a.alias.name);
      CF_ASSIGN_OR_RETURN(auto p, txn.FindByAlias(ws, a.alias));
      claim_profile(i, p);
    }
  }
  std::vector<size_t> order(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    const Row& fx = rows[find(x)];
    const Row& fy = rows[find(y)];
    return std::tie(fx.kind, fx.key, x) < std::tie(fy.kind, fy.key, y);
  });
  return order;
}

Result<int64_t> ImportWorkspace(Storage& storage, const std::string& workspace, int64_t now) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(false));
  CF_ASSIGN_OR_RETURN(auto ws, txn->FindWorkspace(workspace));
  if (ws) return *ws;
  if (workspace != kDefaultWorkspace) {
    return Err(Status::NotFound("no workspace named " + Quote(workspace) +
                                "; a workspace is created by `engage api-key create --workspace " + workspace + "`"));
  }
  txn.reset();
  CF_ASSIGN_OR_RETURN(auto write, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(auto again, write->FindWorkspace(workspace));
  if (again) return *again;
  CF_ASSIGN_OR_RETURN(int64_t created, write->CreateWorkspace(workspace, now));
  CF_RETURN_IF_ERROR(write->Commit());
  return created;
}

}  // namespace

Status UserImportOptions::Validate() const {
  if (csv_path.empty()) return Status::InvalidArgument("csv_path: the CSV file to import is required");
  if (workspace.empty()) return Status::InvalidArgument("workspace: must not be empty");
  if (pause_between_batches_ms < 0 || pause_between_batches_ms > 10000) {
    return Status::InvalidArgument("pause_between_batches_ms: " + std::to_string(pause_between_batches_ms) +
                                   " is out of range; use 0 to 10000");
  }
  if (batch_rows < 1 || batch_rows > 100000) {
    return Status::InvalidArgument("batch_rows: " + std::to_string(batch_rows) + " is out of range; use 1 to 100000");
  }
  return Status::OK();
}

std::string UserImportRowError::ToString(const std::string& path) const {
  std::string out = line > 0 ? path + ":" + std::to_string(line) + ": " : "";
  if (!column.empty()) out += "column " + Quote(column) + ": ";
  out += message;
  if (!value.empty()) out += " (value " + Quote(value) + ")";
  return out;
}

Result<UserImportReport> ImportUsers(Storage& storage, const UserImportOptions& options, int64_t now,
                                     const UserImportProgress& progress) {
  CF_RETURN_IF_ERROR(options.Validate());
  io::SourceOptions source;
  source.path = options.csv_path;
  source.format = "csv";
  source.delimiter = ',';
  CF_ASSIGN_OR_RETURN(auto reader, io::RecordReader::Open(source));
  const std::vector<std::string> header = reader->header();
  CF_ASSIGN_OR_RETURN(Layout layout, ReadLayout(options.csv_path, header));
  CF_ASSIGN_OR_RETURN(int64_t ws, ImportWorkspace(storage, options.workspace, now));

  UserImportReport report;
  auto fail = [&](UserImportRowError e) {
    ++report.failed;
    if (report.errors.size() < options.max_reported_errors) report.errors.push_back(std::move(e));
  };
  std::vector<Row> batch;
  // The batch's row errors with the ordinal of their row: applying runs in identifier order,
  // the report is in file order.
  std::vector<std::pair<uint64_t, UserImportRowError>> batch_errors;
  uint64_t first_line = 0;  // of the batch, for the error of a failed commit

  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    const std::string where = "the rows from line " + std::to_string(first_line) + " on were not imported: ";
    auto txn = storage.Begin(true);
    if (!txn.has_value()) return Status(txn.error().code(), where + txn.error().message());
    auto order = ApplyOrder(**txn, ws, batch);
    if (!order.has_value()) return Status(order.error().code(), where + order.error().message());
    uint64_t created = 0, updated = 0;
    for (size_t i : *order) {
      const Row& row = batch[i];
      CF_RETURN_IF_ERROR((*txn)->Savepoint());
      bool was_created = false;
      std::optional<CellError> error;
      Status s = ApplyRow(**txn, ws, row, now, &was_created, &error);
      if (!s.ok()) return Status(s.code(), where + s.message());
      if (error) {
        CF_RETURN_IF_ERROR((*txn)->RollbackToSavepoint());
        batch_errors.push_back({row.ordinal, {row.line, error->column, error->value, error->message}});
        continue;
      }
      CF_RETURN_IF_ERROR((*txn)->ReleaseSavepoint());
      ++(was_created ? created : updated);
    }
    if (Status s = (*txn)->Commit(); !s.ok()) return Status(s.code(), where + s.message());
    report.created += created;
    report.updated += updated;
    std::stable_sort(batch_errors.begin(), batch_errors.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& e : batch_errors) fail(std::move(e.second));
    batch.clear();
    batch_errors.clear();
    if (progress) progress(reader->bytes_done(), reader->bytes_total());
    if (options.pause_between_batches_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(options.pause_between_batches_ms));
    }
    return Status::OK();
  };

  io::Record rec;
  while (true) {
    auto more = reader->Next(&rec);
    if (!more.has_value()) {
      if (more.error().code() != StatusCode::kInvalidArgument) {
        CF_RETURN_IF_ERROR(flush());
        return Err(more.error());
      }
      // A record the reader could not read (wrong number of fields, a stray quote): its
      // message names the file and line already.
      batch_errors.push_back({report.rows++, {0, "", "", more.error().message()}});
      continue;
    }
    if (!*more) break;
    if (batch.empty() && batch_errors.empty()) first_line = rec.line;
    Row row;
    row.ordinal = report.rows++;
    if (auto error = ParseRow(layout, header, rec, &row)) {
      batch_errors.push_back({row.ordinal, {rec.line, error->column, error->value, error->message}});
    } else {
      batch.push_back(std::move(row));
    }
    if (batch.size() >= options.batch_rows) CF_RETURN_IF_ERROR(flush());
  }
  CF_RETURN_IF_ERROR(flush());
  for (auto& e : batch_errors) fail(std::move(e.second));  // a last batch of bad rows only
  if (progress) progress(reader->bytes_total(), reader->bytes_total());
  return report;
}

}  // namespace cf::engage
