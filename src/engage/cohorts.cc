// Partner cohort import: POST /partners/{partner}/cohorts and /cohorts/users.
#include "base/strings.h"
#include "engage/engage.h"
#include "engage/wire.h"

namespace cf::engage {

using nlohmann::json;

namespace {

constexpr const char* kMalformedChanges =
    "cohort_changes must be an array of objects each with key user_ids and/or device_ids mapping to an array of "
    "strings, or an aliases object";
constexpr const char* kTooManyIds = "Only 1,000 user_ids, device_ids, and aliases are allowed per request";

struct Change {
  std::vector<std::string> user_ids;
  std::vector<std::string> device_ids;
  std::vector<Alias> aliases;
  bool remove = false;
};

bool ReadStrings(const json& v, std::vector<std::string>* out) {
  if (!v.is_array()) return false;
  for (const json& s : v) {
    if (!s.is_string()) return false;
    out->push_back(s.get<std::string>());
  }
  return true;
}

Result<std::vector<Change>> ReadChanges(const json& body) {
  auto it = body.find("cohort_changes");
  if (it == body.end() || !it->is_array()) return Err(Status::InvalidArgument(kMalformedChanges));
  std::vector<Change> out;
  size_t total = 0;
  for (const json& obj : *it) {
    if (!obj.is_object()) return Err(Status::InvalidArgument(kMalformedChanges));
    Change c;
    for (const auto& [k, v] : obj.items()) {
      if (k == "user_ids") {
        if (!ReadStrings(v, &c.user_ids)) return Err(Status::InvalidArgument(kMalformedChanges));
      } else if (k == "device_ids") {
        if (!ReadStrings(v, &c.device_ids)) return Err(Status::InvalidArgument(kMalformedChanges));
      } else if (k == "aliases") {
        if (!v.is_array()) return Err(Status::InvalidArgument(kMalformedChanges));
        for (const json& a : v) {
          auto alias = ReadAlias(a);
          if (!alias) return Err(Status::InvalidArgument(kMalformedChanges));
          c.aliases.push_back(std::move(*alias));
        }
      } else if (k == "should_remove") {
        if (!v.is_boolean()) return Err(Status::InvalidArgument(kMalformedChanges));
        c.remove = v.get<bool>();
      } else {
        // An unknown key (a typo such as "user_id") would otherwise silently change nothing.
        return Err(Status::InvalidArgument(kMalformedChanges));
      }
    }
    total += c.user_ids.size() + c.device_ids.size() + c.aliases.size();
    out.push_back(std::move(c));
  }
  if (total > kMaxCohortIdentifiers) return Err(Status::InvalidArgument(kTooManyIds));
  return out;
}

}  // namespace

Result<json> Engage::UpsertCohort(const PartnerAuth& auth, const json& body) {
  auto id = body.find("cohort_id");
  if (id == body.end() || !IsNonEmptyString(*id)) {
    return Err(Status::InvalidArgument("cohort_id must be a valid string"));
  }
  auto name = body.find("name");
  if (name == body.end() || !IsNonEmptyString(*name)) {
    return Err(Status::InvalidArgument("name must be a non-empty string"));
  }
  auto created = body.find("created_at");
  std::optional<int64_t> created_at;
  if (created != body.end() && created->is_string()) {
    auto t = ParseIsoTime(created->get<std::string>());
    if (t) created_at = *t;
  }
  if (!created_at) return Err(Status::InvalidArgument("created_at must be a valid time as an ISO-8601 string"));
  CohortRecord r;
  r.workspace_id = auth.workspace_id;
  r.partner_id = auth.partner.id;
  r.cohort_id = id->get<std::string>();
  r.name = name->get<std::string>();
  r.created_at = *created_at;
  CF_RETURN_IF_ERROR(Write([&](Transaction& txn, std::vector<CohortDelta>&) -> Status {
    auto stored = txn.UpsertCohort(r);
    return stored.has_value() ? Status::OK() : stored.error();
  }));
  return json::object();
}

Result<json> Engage::CohortUsers(const PartnerAuth& auth, const json& body) {
  CF_ASSIGN_OR_RETURN(std::vector<Change> changes, ReadChanges(body));
  size_t n_ids = 0;
  for (const auto& c : changes) n_ids += c.user_ids.size() + c.device_ids.size() + c.aliases.size();
  // Clients test their credentials with an empty change list: answer without touching anything.
  if (n_ids == 0 && (!body.contains("cohort_id") || body["cohort_id"].is_string())) {
    return json{{"added", 0}, {"removed", 0}, {"unmatched", 0}};
  }
  auto id = body.find("cohort_id");
  if (id == body.end() || !IsNonEmptyString(*id)) {
    return Err(Status::InvalidArgument("cohort_id must be a valid string"));
  }
  const std::string cohort_id = id->get<std::string>();
  const int64_t ws = auth.workspace_id;
  uint64_t added = 0, removed = 0, unmatched = 0;
  CF_RETURN_IF_ERROR(Write([&](Transaction& txn, std::vector<CohortDelta>& deltas) -> Status {
    CF_ASSIGN_OR_RETURN(auto cohort, txn.FindCohort(ws, auth.partner.id, cohort_id));
    if (!cohort) {
      // A cohort never named by the cohorts endpoint is created with its id as its name.
      CohortRecord r{0, ws, auth.partner.id, cohort_id, cohort_id, clock_.NowSeconds()};
      CF_ASSIGN_OR_RETURN(cohort, txn.UpsertCohort(r));
    }
    // The final state of each matched profile: the last change that names it wins.
    Roaring want_in, want_out;
    auto mark = [&](const std::optional<Profile>& p, bool identified_only, bool anonymous_only, bool remove) {
      if (!p || (identified_only && !p->external_id) || (anonymous_only && p->external_id)) {
        ++unmatched;
        return;
      }
      if (remove) {
        want_in.remove(p->index);
        want_out.add(p->index);
      } else {
        want_out.remove(p->index);
        want_in.add(p->index);
      }
    };
    for (const Change& c : changes) {
      for (const auto& ext : c.user_ids) {
        CF_ASSIGN_OR_RETURN(auto p, txn.FindByExternalId(ws, ext));
        mark(p, true, false, c.remove);
      }
      for (const auto& alias : c.aliases) {
        CF_ASSIGN_OR_RETURN(auto p, txn.FindByAlias(ws, alias));
        mark(p, true, false, c.remove);
      }
      for (const auto& device : c.device_ids) {
        CF_ASSIGN_OR_RETURN(auto p, txn.FindByDevice(ws, device));
        mark(p, false, true, c.remove);
      }
    }
    const Roaring current = cohorts_.Members(cohort->pk);
    CohortDelta d;
    d.cohort_pk = cohort->pk;
    d.added = want_in - current;
    d.removed = want_out & current;
    added = d.added.cardinality();
    removed = d.removed.cardinality();
    deltas.push_back(std::move(d));
    return Status::OK();
  }));
  return json{{"added", added}, {"removed", removed}, {"unmatched", unmatched}};
}

}  // namespace cf::engage
