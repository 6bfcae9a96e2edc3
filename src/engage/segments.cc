// Segments: a named filter over a workspace's profiles, evaluated exactly with bitmaps.
#include <algorithm>
#include <cmath>

#include "base/strings.h"
#include "engage/engage.h"
#include "engage/wire.h"

namespace cf::engage {

using nlohmann::json;

namespace {

constexpr size_t kSegmentsPerPage = 100;
// A filter is evaluated at every details call, each clause a scan: its size is bounded.
constexpr size_t kMaxFilterClauses = 100;  // filter objects of every kind, and/or/not included
constexpr size_t kMaxFilterDepth = 20;     // filters a filter may be nested in

// Refuses a filter over the size limits before anything is evaluated.
Status CheckFilterSize(const json& f, const std::string& path, size_t depth, size_t* clauses) {
  if (depth > kMaxFilterDepth) {
    return BadField(path, "is nested in " + std::to_string(depth) + " filters; at most " +
                              std::to_string(kMaxFilterDepth) + " levels of nesting are allowed");
  }
  if (++*clauses > kMaxFilterClauses) {
    return BadField("filter", "has more than " + std::to_string(kMaxFilterClauses) +
                                  " filters (and, or, not and conditions count alike); at most " +
                                  std::to_string(kMaxFilterClauses) + " are allowed");
  }
  if (!f.is_object() || f.size() != 1) return Status::OK();  // Eval names the shape error
  const std::string& op = f.begin().key();
  const json& arg = f.begin().value();
  const std::string here = path + "." + op;
  if ((op == "and" || op == "or") && arg.is_array()) {
    for (size_t i = 0; i < arg.size(); ++i) {
      CF_RETURN_IF_ERROR(CheckFilterSize(arg[i], here + "[" + std::to_string(i) + "]", depth + 1, clauses));
    }
  } else if (op == "not") {
    CF_RETURN_IF_ERROR(CheckFilterSize(arg, here, depth + 1, clauses));
  }
  return Status::OK();
}

// Evaluates a filter tree; the workspace's full profile set is read only when a negation needs it.
class FilterEvaluator {
 public:
  FilterEvaluator(Transaction& txn, const CohortIndex& cohorts, int64_t ws, int64_t now)
      : txn_(txn), cohorts_(cohorts), ws_(ws), now_(now) {}

  Result<Roaring> Eval(const json& f, const std::string& path) {
    if (!f.is_object() || f.size() != 1) {
      return Err(BadField(path,
                          "must be an object with exactly one of 'and', 'or', 'not', 'partner_cohort', "
                          "'custom_attribute', 'purchased'"));
    }
    const std::string& op = f.begin().key();
    const json& arg = f.begin().value();
    const std::string here = path + "." + op;
    if (op == "and" || op == "or") {
      if (!arg.is_array() || arg.empty()) return Err(BadField(here, "must be a non-empty array of filters"));
      Roaring acc;
      for (size_t i = 0; i < arg.size(); ++i) {
        CF_ASSIGN_OR_RETURN(Roaring r, Eval(arg[i], here + "[" + std::to_string(i) + "]"));
        if (i == 0)
          acc = std::move(r);
        else if (op == "and")
          acc &= r;
        else
          acc |= r;
      }
      return acc;
    }
    if (op == "not") {
      CF_ASSIGN_OR_RETURN(Roaring r, Eval(arg, here));
      CF_ASSIGN_OR_RETURN(const Roaring* all, Universe());
      return *all - r;
    }
    if (op == "partner_cohort") return PartnerCohort(arg, here);
    if (op == "custom_attribute") return CustomAttribute(arg, here);
    if (op == "purchased") return Purchased(arg, here);
    return Err(BadField(path, "has unknown filter " + Quote(op) +
                                  "; valid: and, or, not, partner_cohort, custom_attribute, purchased"));
  }

 private:
  Result<const Roaring*> Universe() {
    if (!universe_) {
      CF_ASSIGN_OR_RETURN(auto all, txn_.AllProfiles(ws_));
      universe_ = Roaring(all.size(), all.data());
    }
    return &*universe_;
  }

  Result<Roaring> PartnerCohort(const json& arg, const std::string& here) {
    CF_RETURN_IF_ERROR(CheckKeys(arg, {"partner", "includes", "excludes"}).WithPrefix(here));
    if (!arg.contains("partner") || !IsNonEmptyString(arg["partner"])) {
      return Err(BadField(here + ".partner", "must be the name of a registered partner, e.g. \"tinyclues\""));
    }
    CF_RETURN_IF_ERROR(CheckIdentifier(here + ".partner", arg["partner"]));
    CF_ASSIGN_OR_RETURN(auto partner, txn_.FindPartner(arg["partner"].get<std::string>()));
    if (!partner) return Err(BadField(here + ".partner", "names no registered partner: " + arg["partner"].dump()));
    if (!arg.contains("includes") && !arg.contains("excludes")) {
      return Err(BadField(here, "needs 'includes' and/or 'excludes', each a non-empty array of cohort names"));
    }
    auto cohorts_named = [&](const char* key) -> Result<std::vector<int64_t>> {
      const json& names = arg[key];
      if (!names.is_array() || names.empty())
        return Err(BadField(here + "." + key, "must be a non-empty array of cohort names"));
      std::vector<int64_t> pks;
      for (size_t i = 0; i < names.size(); ++i) {
        const json& n = names[i];
        if (!IsNonEmptyString(n)) return Err(BadField(here + "." + key, "must contain only non-empty strings"));
        CF_RETURN_IF_ERROR(CheckIdentifier(here + "." + key + "[" + std::to_string(i) + "]", n));
        CF_ASSIGN_OR_RETURN(auto found, txn_.FindCohortsByName(ws_, partner->id, n.get<std::string>()));
        if (found.empty()) {
          return Err(
              BadField(here + "." + key, "names no cohort of partner " + Quote(partner->name) + ": " + n.dump()));
        }
        for (const auto& c : found) pks.push_back(c.pk);
      }
      return pks;
    };
    Roaring out;
    if (arg.contains("includes")) {
      CF_ASSIGN_OR_RETURN(auto pks, cohorts_named("includes"));
      out = cohorts_.Union(pks);
    } else {
      CF_ASSIGN_OR_RETURN(const Roaring* all, Universe());
      out = *all;
    }
    if (arg.contains("excludes")) {
      CF_ASSIGN_OR_RETURN(auto pks, cohorts_named("excludes"));
      out -= cohorts_.Union(pks);
    }
    return out;
  }

  Result<Roaring> CustomAttribute(const json& arg, const std::string& here) {
    CF_RETURN_IF_ERROR(CheckKeys(arg, {"name", "comparison", "value"}).WithPrefix(here));
    if (!arg.contains("name")) return Err(BadField(here + ".name", "must be a non-empty string"));
    CF_RETURN_IF_ERROR(CheckIdentifier(here + ".name", arg["name"]));
    static const std::vector<std::string> kComparisons = {"equals",    "not_equals", "greater_than",
                                                          "less_than", "exists",     "does_not_exist"};
    std::string cmp =
        arg.contains("comparison") && arg["comparison"].is_string() ? arg["comparison"].get<std::string>() : "";
    if (std::find(kComparisons.begin(), kComparisons.end(), cmp) == kComparisons.end()) {
      return Err(BadField(here + ".comparison", "must be one of " + Join(kComparisons, ", ")));
    }
    const bool needs_value = cmp != "exists" && cmp != "does_not_exist";
    if (needs_value && !arg.contains("value")) return Err(BadField(here + ".value", "is required for " + Quote(cmp)));
    const json value = needs_value ? arg["value"] : json();
    if ((cmp == "greater_than" || cmp == "less_than") && !value.is_number()) {
      return Err(BadField(here + ".value", "must be a number for " + Quote(cmp)));
    }
    Roaring has, match;
    CF_RETURN_IF_ERROR(
        txn_.ScanAttribute(ws_, arg["name"].get<std::string>(), [&](ProfileIndex i, const std::string& v) {
          has.add(i);
          if (!needs_value) return;
          json stored = json::parse(v, nullptr, false);
          bool m = false;
          if (cmp == "equals" || cmp == "not_equals")
            m = stored == value;
          else if (stored.is_number())
            m = cmp == "greater_than" ? stored.get<double>() > value.get<double>()
                                      : stored.get<double>() < value.get<double>();
          if (m) match.add(i);
        }));
    if (cmp == "exists") return has;
    if (cmp == "equals" || cmp == "greater_than" || cmp == "less_than") return match;
    CF_ASSIGN_OR_RETURN(const Roaring* all, Universe());
    if (cmp == "does_not_exist") return *all - has;
    return *all - match;  // not_equals: includes profiles without the attribute, as Braze does
  }

  Result<Roaring> Purchased(const json& arg, const std::string& here) {
    CF_RETURN_IF_ERROR(CheckKeys(arg, {"product_id", "within_days"}).WithPrefix(here));
    if (!arg.contains("product_id")) return Err(BadField(here + ".product_id", "must be a non-empty string"));
    CF_RETURN_IF_ERROR(CheckIdentifier(here + ".product_id", arg["product_id"]));
    int64_t since = std::numeric_limits<int64_t>::min();
    if (arg.contains("within_days")) {
      if (!arg["within_days"].is_number_integer() || arg["within_days"].get<int64_t>() < 1) {
        return Err(BadField(here + ".within_days", "must be a positive integer"));
      }
      // More days than have passed since 1970 means ever (and keeps the product from overflowing).
      const int64_t days = arg["within_days"].get<int64_t>();
      if (days <= now_ / kSecondsPerDay) since = now_ - days * kSecondsPerDay;
    }
    CF_ASSIGN_OR_RETURN(auto idx, txn_.PurchasersOf(ws_, arg["product_id"].get<std::string>(), since));
    return Roaring(idx.size(), idx.data());
  }

  Transaction& txn_;
  const CohortIndex& cohorts_;
  int64_t ws_;
  int64_t now_;
  std::optional<Roaring> universe_;
};

}  // namespace

Result<json> Engage::CreateSegment(int64_t ws, const json& body) {
  CF_RETURN_IF_ERROR(CheckKeys(body, {"name", "filter"}));
  if (!body.contains("name")) return Err(BadField("name", "must be a non-empty string"));
  CF_RETURN_IF_ERROR(CheckIdentifier("name", body["name"]));
  if (!body.contains("filter")) return Err(BadField("filter", "is required"));
  size_t clauses = 0;
  CF_RETURN_IF_ERROR(CheckFilterSize(body["filter"], "filter", 0, &clauses));
  SegmentRecord r{ws, RandomUuid(), body["name"].get<std::string>(), body["filter"].dump(), clock_.NowSeconds()};
  {
    // Evaluating once validates every name the filter refers to. It runs in a read
    // transaction: an expensive filter must not hold the write lock that every write waits for
    // (partners and cohorts are never deleted, so what it found still exists at the insert).
    CF_ASSIGN_OR_RETURN(auto read, storage_->Begin(false));
    CF_RETURN_IF_ERROR(SyncCohorts(*read));  // another server's cohort writes
    FilterEvaluator eval(*read, cohorts_, ws, clock_.NowSeconds());
    CF_ASSIGN_OR_RETURN(Roaring ignored, eval.Eval(body["filter"], "filter"));
    (void)ignored;
  }
  CF_RETURN_IF_ERROR(
      Write([&](Transaction& txn, std::vector<CohortDelta>&) -> Status { return txn.InsertSegment(r); }));
  return json{{"segment_id", r.segment_id}};
}

Result<uint64_t> Engage::FilterSize(int64_t ws, const json& filter) {
  size_t clauses = 0;
  CF_RETURN_IF_ERROR(CheckFilterSize(filter, "filter", 0, &clauses));
  CF_ASSIGN_OR_RETURN(auto read, storage_->Begin(false));
  CF_RETURN_IF_ERROR(SyncCohorts(*read));  // another server's cohort writes
  FilterEvaluator eval(*read, cohorts_, ws, clock_.NowSeconds());
  CF_ASSIGN_OR_RETURN(Roaring members, eval.Eval(filter, "filter"));
  return members.cardinality();
}

Result<Roaring> Engage::SegmentMembers(Transaction& txn, int64_t ws, const std::string& segment_id) {
  CF_ASSIGN_OR_RETURN(auto seg, txn.FindSegment(ws, segment_id));
  if (!seg) return Err(Status::InvalidArgument("no segment has segment_id " + Quote(segment_id)));
  CF_RETURN_IF_ERROR(SyncCohorts(txn));  // another server's cohort writes
  FilterEvaluator eval(txn, cohorts_, ws, clock_.NowSeconds());
  return eval.Eval(json::parse(seg->filter_json, nullptr, false), "filter");
}

Result<json> Engage::ListSegments(int64_t ws, int64_t page) {
  CF_ASSIGN_OR_RETURN(auto txn, storage_->Begin(false));
  CF_ASSIGN_OR_RETURN(auto all, txn->ListSegments(ws));
  json list = json::array();
  // Pages past the last are empty; checked first, as page * 100 overflows for huge pages.
  const size_t first = page < static_cast<int64_t>(all.size() / kSegmentsPerPage + 1)
                           ? static_cast<size_t>(page) * kSegmentsPerPage
                           : all.size();
  for (size_t i = first; i < all.size() && i < first + kSegmentsPerPage; ++i) {
    list.push_back({{"id", all[i].segment_id},
                    {"name", all[i].name},
                    {"analytics_tracking_enabled", false},
                    {"tags", json::array()}});
  }
  return json{{"segments", std::move(list)}};
}

Result<json> Engage::SegmentDetails(int64_t ws, const std::string& segment_id) {
  CF_ASSIGN_OR_RETURN(auto txn, storage_->Begin(false));
  CF_ASSIGN_OR_RETURN(auto seg, txn->FindSegment(ws, segment_id));
  if (!seg) return Err(Status::NotFound("no segment has segment_id " + Quote(segment_id)));
  json filter = json::parse(seg->filter_json, nullptr, false);
  CF_RETURN_IF_ERROR(SyncCohorts(*txn));  // another server's cohort writes
  FilterEvaluator eval(*txn, cohorts_, ws, clock_.NowSeconds());
  auto members = eval.Eval(filter, "filter");
  // A cohort renamed since the segment was made no longer matches its name: that part is empty.
  uint64_t size = members.has_value() ? members->cardinality() : 0;
  json out = {{"segment_id", seg->segment_id},
              {"name", seg->name},
              {"description", ""},
              {"text_description", ""},
              {"tags", json::array()},
              {"teams", json::array()},
              {"created_at", FormatIsoTime(seg->created_at)},
              {"updated_at", FormatIsoTime(seg->created_at)},
              {"filter", filter},
              {"size", size}};
  if (!members.has_value()) out["size_note"] = members.error().message();
  return out;
}

}  // namespace cf::engage
