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

bool ReadStrings(const json& v, std::vector<std::string>* out) {
  if (!v.is_array()) return false;
  for (const json& s : v) {
    if (!s.is_string()) return false;
    out->push_back(s.get<std::string>());
  }
  return true;
}

// Identifiers are checked, never truncated: "victim\u0000zzz" must not name "victim".
Status CheckIds(const std::string& where, const std::vector<std::string>& ids, bool external_ids) {
  for (size_t i = 0; i < ids.size(); ++i) {
    std::string problem = IdentifierProblem(ids[i], external_ids);
    if (!problem.empty()) return BadField(where + "[" + std::to_string(i) + "]", problem);
  }
  return Status::OK();
}

Result<std::vector<CohortChange>> ReadChanges(const json& body) {
  auto it = body.find("cohort_changes");
  if (it == body.end() || !it->is_array()) return Err(Status::InvalidArgument(kMalformedChanges));
  std::vector<CohortChange> out;
  size_t total = 0;
  for (size_t n = 0; n < it->size(); ++n) {
    const json& obj = (*it)[n];
    if (!obj.is_object()) return Err(Status::InvalidArgument(kMalformedChanges));
    const std::string where = "cohort_changes[" + std::to_string(n) + "]";
    CohortChange c;
    for (const auto& [k, v] : obj.items()) {
      if (k == "user_ids") {
        if (!ReadStrings(v, &c.user_ids)) return Err(Status::InvalidArgument(kMalformedChanges));
        CF_RETURN_IF_ERROR(CheckIds(where + ".user_ids", c.user_ids, true));
      } else if (k == "device_ids") {
        if (!ReadStrings(v, &c.device_ids)) return Err(Status::InvalidArgument(kMalformedChanges));
        CF_RETURN_IF_ERROR(CheckIds(where + ".device_ids", c.device_ids, false));
      } else if (k == "aliases") {
        if (!v.is_array()) return Err(Status::InvalidArgument(kMalformedChanges));
        for (size_t i = 0; i < v.size(); ++i) {
          auto alias = ReadAlias(v[i]);
          if (!alias) return Err(Status::InvalidArgument(kMalformedChanges));
          CF_RETURN_IF_ERROR(CheckAliasFields(where + ".aliases[" + std::to_string(i) + "]", v[i]));
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

Result<Engage::Resolution> Engage::Resolve(Transaction& txn, int64_t ws, const std::vector<CohortChange>& changes) {
  std::vector<std::string> ext, devices;
  std::vector<Alias> aliases;
  for (const CohortChange& c : changes) {
    ext.insert(ext.end(), c.user_ids.begin(), c.user_ids.end());
    devices.insert(devices.end(), c.device_ids.begin(), c.device_ids.end());
    aliases.insert(aliases.end(), c.aliases.begin(), c.aliases.end());
  }
  using Matches = std::vector<std::optional<Transaction::Match>>;
  Matches ext_m, dev_m, alias_m;
  if (!ext.empty()) {
    CF_ASSIGN_OR_RETURN(ext_m, txn.MatchExternalIds(ws, ext));
  }
  if (!devices.empty()) {
    CF_ASSIGN_OR_RETURN(dev_m, txn.MatchDevices(ws, devices));
  }
  if (!aliases.empty()) {
    CF_ASSIGN_OR_RETURN(alias_m, txn.MatchAliases(ws, aliases));
  }
  // The final state of each matched profile: the last change that names it wins.
  Resolution r;
  size_t ei = 0, di = 0, ai = 0;
  // `anonymous_only`: the profile must have no external_id (the device_id rule).
  auto mark = [&](const std::optional<Transaction::Match>& m, bool anonymous_only, bool remove) {
    if (!m || (anonymous_only && m->identified)) {
      ++r.unmatched;
      return;
    }
    if (remove) {
      r.want_in.remove(m->index);
      r.want_out.add(m->index);
    } else {
      r.want_out.remove(m->index);
      r.want_in.add(m->index);
    }
  };
  for (const CohortChange& c : changes) {
    // external_id and alias match the profile that carries them (an alias may name an
    // alias-only profile: Segment sends one exactly for users with neither external_id nor
    // device); device_id matches only profiles that are still anonymous.
    for (size_t i = 0; i < c.user_ids.size(); ++i) mark(ext_m[ei++], false, c.remove);
    for (size_t i = 0; i < c.aliases.size(); ++i) mark(alias_m[ai++], false, c.remove);
    for (size_t i = 0; i < c.device_ids.size(); ++i) mark(dev_m[di++], true, c.remove);
  }
  return r;
}

Result<json> Engage::UpsertCohort(const PartnerAuth& auth, const json& body) {
  CF_RETURN_IF_ERROR(CheckKeys(body, {"partner_api_key", "client_secret", "cohort_id", "name", "created_at"}));
  auto id = body.find("cohort_id");
  if (id == body.end() || !IsNonEmptyString(*id)) {
    return Err(Status::InvalidArgument("cohort_id must be a valid string"));
  }
  CF_RETURN_IF_ERROR(CheckIdentifier("cohort_id", *id));
  auto name = body.find("name");
  if (name == body.end() || !IsNonEmptyString(*name)) {
    return Err(Status::InvalidArgument("name must be a non-empty string"));
  }
  CF_RETURN_IF_ERROR(CheckIdentifier("name", *name));
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
  CF_RETURN_IF_ERROR(CheckKeys(body, {"partner_api_key", "client_secret", "cohort_id", "cohort_changes"}));
  CF_ASSIGN_OR_RETURN(std::vector<CohortChange> changes, ReadChanges(body));
  size_t n_ids = 0;
  for (const CohortChange& c : changes) n_ids += c.user_ids.size() + c.device_ids.size() + c.aliases.size();
  // Clients test their credentials with an empty change list: answer without touching anything.
  if (n_ids == 0 && (!body.contains("cohort_id") || body["cohort_id"].is_string())) {
    return json{{"added", 0}, {"removed", 0}, {"unmatched", 0}};
  }
  auto id = body.find("cohort_id");
  if (id == body.end() || !IsNonEmptyString(*id)) {
    return Err(Status::InvalidArgument("cohort_id must be a valid string"));
  }
  CF_RETURN_IF_ERROR(CheckIdentifier("cohort_id", *id));
  const std::string cohort_id = id->get<std::string>();
  const int64_t ws = auth.workspace_id;
  uint64_t added = 0, removed = 0;
  // Identifiers are resolved before taking the write lock, so clients resolve in parallel;
  // if a profile was deleted or merged meanwhile, they are resolved again under the lock.
  const uint64_t removals_before = profile_removals_.load();
  Resolution resolved;
  {
    CF_ASSIGN_OR_RETURN(auto read, storage_->Begin(false));
    CF_ASSIGN_OR_RETURN(resolved, Resolve(*read, ws, changes));
  }
  CF_RETURN_IF_ERROR(Write([&](Transaction& txn, std::vector<CohortDelta>& deltas) -> Status {
    if (profile_removals_.load() != removals_before) {
      CF_ASSIGN_OR_RETURN(resolved, Resolve(txn, ws, changes));
    }
    CF_ASSIGN_OR_RETURN(auto cohort, txn.FindCohort(ws, auth.partner.id, cohort_id));
    if (!cohort) {
      // A cohort never named by the cohorts endpoint is created with its id as its name.
      CohortRecord r{0, ws, auth.partner.id, cohort_id, cohort_id, clock_.NowSeconds()};
      CF_ASSIGN_OR_RETURN(cohort, txn.UpsertCohort(r));
    }
    const Roaring current = cohorts_.Members(cohort->pk);
    CohortDelta d;
    d.cohort_pk = cohort->pk;
    d.added = resolved.want_in - current;
    d.removed = resolved.want_out & current;
    added = d.added.cardinality();
    removed = d.removed.cardinality();
    deltas.push_back(std::move(d));
    return Status::OK();
  }));
  const uint64_t unmatched = resolved.unmatched;
  return json{{"added", added}, {"removed", removed}, {"unmatched", unmatched}};
}

}  // namespace cf::engage
