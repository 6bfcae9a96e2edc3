#include "sync/plan_dir.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <span>
#include <unordered_set>

#include "base/files.h"
#include "base/strings.h"
#include "io/record_reader.h"

namespace cf::sync {

namespace {

using nlohmann::json;

// A cohort id names the journal and CSV files, so it must be safe as a file name.
bool IsSafeCohortId(std::string_view id) {
  if (id.empty() || id.size() > 128 || id[0] == '.') return false;
  for (char c : id) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

Result<std::string> StringField(const json& object, const std::string& where, const char* key, bool required) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (!required) return std::string();
    return Err(Status::InvalidArgument(fmt::format("{}.{} is missing", where, key)));
  }
  if (!it->is_string() || it->get<std::string>().empty()) {
    return Err(Status::InvalidArgument(
        fmt::format("{}.{} must be a non-empty string, found {}", where, key, Quote(it->dump()))));
  }
  return it->get<std::string>();
}

}  // namespace

Result<PlanSummary> ReadPlanSummary(const std::string& plan_dir) {
  const std::string path = plan_dir + "/summary.json";
  if (!PathExists(path)) {
    return Err(Status::NotFound(
        fmt::format("{} does not exist; a plan directory is what `audience plan --out DIR` writes", path)));
  }
  CF_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return Err(Status::InvalidArgument(fmt::format("{}: not valid JSON: {}", path, e.what())));
  }
  if (!doc.is_object()) return Err(Status::InvalidArgument(path + ": expected a JSON object"));
  PlanSummary out;
  Result<std::string> plan = StringField(doc, "summary", "plan", true);
  if (!plan) return Err(plan.error().WithPrefix(path));
  out.plan = *plan;
  auto campaigns = doc.find("campaigns");
  if (campaigns == doc.end() || !campaigns->is_array()) {
    return Err(Status::InvalidArgument(path + ": campaigns must be an array of campaign objects"));
  }
  std::unordered_set<std::string> ids, names, file_names;
  for (size_t i = 0; i < campaigns->size(); ++i) {
    const json& c = (*campaigns)[i];
    const std::string where = fmt::format("campaigns[{}]", i);
    if (!c.is_object()) return Err(Status::InvalidArgument(fmt::format("{}: {} must be an object", path, where)));
    PlannedCampaign p;
    for (auto [field, key, required] : {std::tuple{&p.name, "name", true},
                                        {&p.export_file_name, "export_file_name", false},
                                        {&p.cohort_id, "cohort_id", true},
                                        {&p.channel, "channel", false},
                                        {&p.send_date, "send_date", false},
                                        {&p.offer, "offer", false}}) {
      Result<std::string> v = StringField(c, where, key, required);
      if (!v) return Err(v.error().WithPrefix(path));
      *field = *v;
    }
    if (p.export_file_name.empty()) p.export_file_name = p.name;
    if (!IsSafeCohortId(p.cohort_id)) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: {}.cohort_id {} must be 1 to 128 letters, digits, '-', '_' or '.' (not starting with '.')",
                      path, where, Quote(p.cohort_id))));
    }
    if (!ids.insert(p.cohort_id).second) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: {}.cohort_id {} is used by an earlier campaign", path, where, Quote(p.cohort_id))));
    }
    if (!names.insert(p.name).second) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: {}.name {} is used by an earlier campaign", path, where, Quote(p.name))));
    }
    if (!file_names.insert(p.export_file_name).second) {
      return Err(Status::InvalidArgument(fmt::format("{}: {}.export_file_name {} is used by an earlier campaign", path,
                                                     where, Quote(p.export_file_name))));
    }
    out.campaigns.push_back(std::move(p));
  }
  return out;
}

std::string CampaignCsvPath(const std::string& plan_dir, const PlannedCampaign& campaign) {
  return plan_dir + "/campaigns/" + campaign.cohort_id + ".csv";
}

// Opens the campaign's CSV and finds each of `columns` in its header (col[k] for columns[k]).
static Result<std::unique_ptr<io::RecordReader>> OpenCampaignCsv(const std::string& plan_dir,
                                                                 const PlannedCampaign& campaign,
                                                                 std::span<const char* const> columns, int* col,
                                                                 io::SourceOptions* source) {
  source->path = CampaignCsvPath(plan_dir, campaign);
  source->format = "csv";
  source->delimiter = ',';
  if (!PathExists(source->path)) {
    return Err(Status::NotFound(
        fmt::format("{} does not exist; campaign {} has no audience file", source->path, Quote(campaign.name))));
  }
  CF_ASSIGN_OR_RETURN(std::unique_ptr<io::RecordReader> reader, io::RecordReader::Open(*source));
  for (size_t k = 0; k < columns.size(); ++k) {
    col[k] = reader->ColumnIndex(columns[k]);
    if (col[k] < 0) {
      return Err(Status::InvalidArgument(
          fmt::format("{}: the header has no column {}; expected customer,external_id,alias,device_id,probability,"
                      "expected_revenue,decile,holdout",
                      source->path, columns[k])));
    }
  }
  return reader;
}

Result<CampaignAudience> ReadCampaignAudience(const std::string& plan_dir, const PlannedCampaign& campaign) {
  const char* const kColumns[] = {"customer", "external_id", "alias", "device_id", "holdout"};
  int col[5];
  io::SourceOptions source;
  CF_ASSIGN_OR_RETURN(std::unique_ptr<io::RecordReader> reader,
                      OpenCampaignCsv(plan_dir, campaign, kColumns, col, &source));
  CampaignAudience out;
  io::Record record;
  while (true) {
    CF_ASSIGN_OR_RETURN(bool more, reader->Next(&record));
    if (!more) break;
    const std::string_view holdout = Trim(record.fields[col[4]]);
    if (holdout != "0" && holdout != "1") {
      return Err(Status::InvalidArgument(
          fmt::format("{}:{}: column holdout: expected 0 or 1, found {}", source.path, record.line, Quote(holdout))));
    }
    if (holdout == "1") {
      ++out.holdout;
      continue;
    }
    std::optional<Identifier> id =
        ChooseIdentifier(record.fields[col[1]], record.fields[col[2]], record.fields[col[3]]);
    if (!id) {
      ++out.skipped;
      continue;
    }
    std::string key = id->Key();
    out.members.push_back(Member{std::string(record.fields[col[0]]), std::move(*id), std::move(key)});
  }
  // Duplicates are dropped once all rows are in, so the set can point into the members' keys.
  std::vector<bool> duplicate(out.members.size(), false);
  {
    std::unordered_set<std::string_view> seen;
    seen.reserve(out.members.size());
    for (size_t i = 0; i < out.members.size(); ++i) {
      duplicate[i] = !seen.insert(out.members[i].key).second;
    }
  }
  size_t kept = 0;
  for (size_t i = 0; i < out.members.size(); ++i) {
    if (duplicate[i]) {
      ++out.duplicates;
    } else {
      if (kept != i) out.members[kept] = std::move(out.members[i]);
      ++kept;
    }
  }
  out.members.resize(kept);
  return out;
}

Result<std::vector<PlannedRow>> ReadCampaignRows(const std::string& plan_dir, const PlannedCampaign& campaign) {
  const char* const kColumns[] = {"customer",    "external_id",      "alias",  "device_id",
                                  "probability", "expected_revenue", "decile", "holdout"};
  int col[8];
  io::SourceOptions source;
  CF_ASSIGN_OR_RETURN(std::unique_ptr<io::RecordReader> reader,
                      OpenCampaignCsv(plan_dir, campaign, kColumns, col, &source));
  std::vector<PlannedRow> out;
  io::Record record;
  while (true) {
    CF_ASSIGN_OR_RETURN(bool more, reader->Next(&record));
    if (!more) break;
    auto bad = [&](int k, std::string_view expected) {
      return Status::InvalidArgument(fmt::format("{}:{}: column {}: expected {}, found {}", source.path, record.line,
                                                 kColumns[k], expected, Quote(record.fields[col[k]])));
    };
    PlannedRow row;
    row.customer = std::string(record.fields[col[0]]);
    row.external_id = std::string(Trim(record.fields[col[1]]));
    row.alias = std::string(Trim(record.fields[col[2]]));
    row.device_id = std::string(Trim(record.fields[col[3]]));
    const std::optional<double> probability = ParseDouble(Trim(record.fields[col[4]]));
    if (!probability || !(*probability >= 0 && *probability <= 1)) return Err(bad(4, "a probability in [0, 1]"));
    row.probability = *probability;
    const std::optional<double> revenue = ParseDouble(Trim(record.fields[col[5]]));
    if (!revenue || !(*revenue >= 0) || !std::isfinite(*revenue)) return Err(bad(5, "a revenue >= 0"));
    row.expected_revenue = *revenue;
    const std::string_view decile = Trim(record.fields[col[6]]);
    if (decile.size() < 1 || decile.size() > 2 || (row.decile = std::atoi(std::string(decile).c_str())) < 1 ||
        row.decile > 10 || std::to_string(row.decile) != decile) {
      return Err(bad(6, "a decile 1 to 10"));
    }
    const std::string_view holdout = Trim(record.fields[col[7]]);
    if (holdout != "0" && holdout != "1") return Err(bad(7, "0 or 1"));
    row.holdout = holdout == "1";
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace cf::sync
