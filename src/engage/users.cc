// The user-data endpoints and the SDK session stand-in.
#include <algorithm>

#include "base/strings.h"
#include "engage/engage.h"
#include "engage/wire.h"

namespace cf::engage {

using nlohmann::json;

namespace {

// True when an alias object names a user: a present, non-null "external_id".
bool HasExternalId(const nlohmann::json& alias) {
  auto it = alias.find("external_id");
  return it != alias.end() && !it->is_null();
}

std::string ToUpperAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

json ErrorEntry(const std::string& type, const char* array, size_t index) {
  return {{"type", type}, {"input_array", array}, {"index", index}};
}

// Finds (or, when the rules allow, creates) the profile a /users/track object names.
// Returns nullopt with `error` set when the object is skipped.
Result<std::optional<Profile>> ResolveTrackUser(Transaction& txn, int64_t ws, const json& obj, int64_t now,
                                                std::string* error) {
  auto ext = obj.find("external_id");
  auto alias = obj.find("user_alias");
  auto bid = obj.find("braze_id");
  int given = (ext != obj.end()) + (alias != obj.end()) + (bid != obj.end());
  if (given == 0) {
    *error = "an object must name its user by 'external_id', 'user_alias' or 'braze_id'";
    return std::optional<Profile>();
  }
  if (given > 1) {
    *error = "'external_id', 'user_alias' and 'braze_id' cannot be used together in one object";
    return std::optional<Profile>();
  }
  auto flag = obj.find("_update_existing_only");
  if (flag != obj.end() && !flag->is_boolean()) {
    *error = "'_update_existing_only' must be true or false";
    return std::optional<Profile>();
  }
  if (ext != obj.end()) {
    if (!IsNonEmptyString(*ext)) {
      *error = "'external_id' must be a non-empty string";
      return std::optional<Profile>();
    }
    CF_ASSIGN_OR_RETURN(auto p, txn.FindByExternalId(ws, ext->get<std::string>()));
    if (p) return p;
    if (flag != obj.end() && flag->get<bool>()) {
      *error = "no user has this 'external_id' and '_update_existing_only' is true";
      return std::optional<Profile>();
    }
    CF_ASSIGN_OR_RETURN(Profile created, txn.InsertProfile(ws, ext->get<std::string>(), now));
    return std::optional<Profile>(std::move(created));
  }
  if (alias != obj.end()) {
    auto a = ReadAlias(*alias);
    if (!a) {
      *error = "'user_alias' must be an object with non-empty strings 'alias_name' and 'alias_label'";
      return std::optional<Profile>();
    }
    CF_ASSIGN_OR_RETURN(auto p, txn.FindByAlias(ws, *a));
    if (p) return p;
    // Alias objects only update, unless the client explicitly asks for creation.
    if (flag == obj.end() || flag->get<bool>()) {
      *error = "no user has this 'user_alias'; set '_update_existing_only' to false to create one";
      return std::optional<Profile>();
    }
    CF_ASSIGN_OR_RETURN(Profile created, txn.InsertProfile(ws, std::nullopt, now));
    CF_RETURN_IF_ERROR(txn.AddAlias(ws, created.index, *a));
    return std::optional<Profile>(std::move(created));
  }
  if (!IsNonEmptyString(*bid)) {
    *error = "'braze_id' must be a non-empty string";
    return std::optional<Profile>();
  }
  CF_ASSIGN_OR_RETURN(auto p, txn.FindByBrazeId(ws, bid->get<std::string>()));
  if (!p) *error = "no user has this 'braze_id'";
  return p;
}

bool IsIdentifierKey(const std::string& k) {
  return k == "external_id" || k == "user_alias" || k == "braze_id" || k == "_update_existing_only";
}

std::optional<int64_t> ReadTime(const json& obj, const char* key) {
  auto t = obj.find(key);
  if (t == obj.end() || !t->is_string()) return std::nullopt;
  auto parsed = ParseIsoTime(t->get<std::string>());
  if (!parsed) return std::nullopt;
  return *parsed;
}

// Checks a batch array field: absent is fine (empty), otherwise an array of at most `max`.
Result<const json*> BatchArray(const json& body, const char* key, size_t max) {
  auto it = body.find(key);
  if (it == body.end()) return static_cast<const json*>(nullptr);
  if (!it->is_array()) return Err(BadField(key, "must be an array"));
  if (it->size() > max) {
    return Err(BadField(key, "has " + std::to_string(it->size()) + " items; at most " + std::to_string(max) +
                                 " are allowed per request"));
  }
  return &*it;
}

// The identifiers and names of /users/track objects: a bad character or length is a 400 for
// the whole request (never stored truncated); a missing or mistyped field stays a non-fatal
// error of its object, as Braze answers.
Status CheckTrackIdentifiers(const json* items, const char* array) {
  for (size_t i = 0; items && i < items->size(); ++i) {
    const json& obj = (*items)[i];
    if (!obj.is_object()) continue;
    const std::string where = std::string(array) + "[" + std::to_string(i) + "]";
    for (const auto& [k, v] : obj.items()) {
      const std::string field = where + "." + k;
      const bool named = IsNonEmptyString(v);
      if (k == "external_id") {
        if (named) CF_RETURN_IF_ERROR(CheckIdentifier(field, v, true));
      } else if (k == "braze_id") {
        if (named) CF_RETURN_IF_ERROR(CheckIdentifier(field, v));
      } else if (k == "user_alias") {
        CF_RETURN_IF_ERROR(CheckAliasFields(field, v));
      } else if (std::string_view(array) == "attributes" && !IsIdentifierKey(k)) {
        std::string problem = IdentifierProblem(k);
        if (!problem.empty()) return Status::InvalidArgument("'" + where + "' has an attribute name that " + problem);
        CF_RETURN_IF_ERROR(CheckStringValue(field, v));
      } else if ((k == "name" && std::string_view(array) == "events") ||
                 (k == "product_id" && std::string_view(array) == "purchases")) {
        if (named) CF_RETURN_IF_ERROR(CheckIdentifier(field, v));
      }
    }
  }
  return Status::OK();
}

}  // namespace

Result<json> Engage::Track(int64_t ws, const json& body) {
  CF_RETURN_IF_ERROR(CheckKeys(body, {"attributes", "events", "purchases"}));
  CF_ASSIGN_OR_RETURN(const json* attributes, BatchArray(body, "attributes", kMaxTrackObjects));
  CF_ASSIGN_OR_RETURN(const json* events, BatchArray(body, "events", kMaxTrackObjects));
  CF_ASSIGN_OR_RETURN(const json* purchases, BatchArray(body, "purchases", kMaxTrackObjects));
  CF_RETURN_IF_ERROR(CheckTrackIdentifiers(attributes, "attributes"));
  CF_RETURN_IF_ERROR(CheckTrackIdentifiers(events, "events"));
  CF_RETURN_IF_ERROR(CheckTrackIdentifiers(purchases, "purchases"));
  const int64_t now = clock_.NowSeconds();
  size_t n_attr = 0, n_event = 0, n_purchase = 0;
  json errors = json::array();
  CF_RETURN_IF_ERROR(Write([&](Transaction& txn, std::vector<CohortDelta>&) -> Status {
    for (size_t i = 0; attributes && i < attributes->size(); ++i) {
      const json& obj = (*attributes)[i];
      std::string error;
      if (!obj.is_object()) {
        errors.push_back(ErrorEntry("each attributes item must be an object", "attributes", i));
        continue;
      }
      CF_ASSIGN_OR_RETURN(auto p, ResolveTrackUser(txn, ws, obj, now, &error));
      if (!p) {
        errors.push_back(ErrorEntry(error, "attributes", i));
        continue;
      }
      for (const auto& [k, v] : obj.items()) {
        if (IsIdentifierKey(k)) continue;
        if (v.is_null()) {
          CF_RETURN_IF_ERROR(txn.RemoveAttribute(p->index, k));
        } else {
          CF_RETURN_IF_ERROR(txn.SetAttribute(p->index, k, v.dump()));
        }
      }
      ++n_attr;
    }
    for (size_t i = 0; events && i < events->size(); ++i) {
      const json& obj = (*events)[i];
      std::string error;
      if (!obj.is_object()) {
        errors.push_back(ErrorEntry("each events item must be an object", "events", i));
        continue;
      }
      auto name = obj.find("name");
      auto time = ReadTime(obj, "time");
      auto props = obj.find("properties");
      if (name == obj.end() || !IsNonEmptyString(*name)) {
        error = "'name' must be a non-empty string";
      } else if (!time) {
        error = "'time' must be a valid time as an ISO-8601 string";
      } else if (props != obj.end() && !props->is_object()) {
        error = "'properties' must be an object";
      }
      if (!error.empty()) {
        errors.push_back(ErrorEntry(error, "events", i));
        continue;
      }
      CF_ASSIGN_OR_RETURN(auto p, ResolveTrackUser(txn, ws, obj, now, &error));
      if (!p) {
        errors.push_back(ErrorEntry(error, "events", i));
        continue;
      }
      CF_RETURN_IF_ERROR(
          txn.InsertEvent(p->index, name->get<std::string>(), *time, props == obj.end() ? "{}" : props->dump()));
      ++n_event;
    }
    for (size_t i = 0; purchases && i < purchases->size(); ++i) {
      const json& obj = (*purchases)[i];
      std::string error;
      if (!obj.is_object()) {
        errors.push_back(ErrorEntry("each purchases item must be an object", "purchases", i));
        continue;
      }
      PurchaseRecord rec;
      auto product = obj.find("product_id");
      auto currency = obj.find("currency");
      auto price = obj.find("price");
      auto quantity = obj.find("quantity");
      auto time = ReadTime(obj, "time");
      auto props = obj.find("properties");
      if (product == obj.end() || !IsNonEmptyString(*product)) {
        error = "'product_id' must be a non-empty string";
      } else if (currency == obj.end() || !currency->is_string() ||
                 currency->get_ref<const std::string&>().size() != 3) {
        error = "'currency' must be a three-letter ISO 4217 code";
      } else if (price == obj.end() || !price->is_number()) {
        error = "'price' must be a number";
      } else if (quantity != obj.end() &&
                 (!quantity->is_number_integer() || quantity->get<int64_t>() < 1 || quantity->get<int64_t>() > 100)) {
        error = "'quantity' must be an integer from 1 to 100";
      } else if (!time) {
        error = "'time' must be a valid time as an ISO-8601 string";
      } else if (props != obj.end() && !props->is_object()) {
        error = "'properties' must be an object";
      }
      if (!error.empty()) {
        errors.push_back(ErrorEntry(error, "purchases", i));
        continue;
      }
      CF_ASSIGN_OR_RETURN(auto p, ResolveTrackUser(txn, ws, obj, now, &error));
      if (!p) {
        errors.push_back(ErrorEntry(error, "purchases", i));
        continue;
      }
      rec.product_id = product->get<std::string>();
      rec.currency = ToUpperAscii(currency->get<std::string>());
      rec.price = price->get<double>();
      rec.quantity = quantity == obj.end() ? 1 : quantity->get<int64_t>();
      rec.time = *time;
      rec.properties_json = props == obj.end() ? "{}" : props->dump();
      CF_RETURN_IF_ERROR(txn.InsertPurchase(p->index, rec));
      ++n_purchase;
    }
    return Status::OK();
  }));
  json out = {{"attributes_processed", n_attr}, {"events_processed", n_event}, {"purchases_processed", n_purchase}};
  if (!errors.empty()) out["errors"] = std::move(errors);
  return out;
}

Result<json> Engage::Identify(int64_t ws, const json& body) {
  CF_RETURN_IF_ERROR(CheckKeys(body, {"aliases_to_identify"}));
  CF_ASSIGN_OR_RETURN(const json* items, BatchArray(body, "aliases_to_identify", kMaxUserBatch));
  if (items == nullptr) return Err(BadField("aliases_to_identify", "is required"));
  for (size_t i = 0; i < items->size(); ++i) {
    const json& it = (*items)[i];
    const std::string where = "aliases_to_identify[" + std::to_string(i) + "]";
    if (!it.is_object() || !it.contains("external_id") || !IsNonEmptyString(it["external_id"])) {
      return Err(BadField(where + ".external_id", "must be a non-empty string"));
    }
    CF_RETURN_IF_ERROR(CheckIdentifier(where + ".external_id", it["external_id"], true));
    if (!it.contains("user_alias") || !ReadAlias(it["user_alias"])) {
      return Err(
          BadField(where + ".user_alias", "must be an object with non-empty strings 'alias_name' and 'alias_label'"));
    }
    CF_RETURN_IF_ERROR(CheckAliasFields(where + ".user_alias", it["user_alias"]));
  }
  size_t processed = 0;
  json errors = json::array();
  CF_RETURN_IF_ERROR(Write([&](Transaction& txn, std::vector<CohortDelta>& deltas) -> Status {
    for (size_t i = 0; i < items->size(); ++i) {
      const std::string ext = (*items)[i]["external_id"].get<std::string>();
      const Alias alias = *ReadAlias((*items)[i]["user_alias"]);
      auto error = [&](const std::string& type) { errors.push_back({{"type", type}, {"index", i}}); };
      CF_ASSIGN_OR_RETURN(auto source, txn.FindByAlias(ws, alias));
      if (!source) {
        error("no user has this 'user_alias'");
        continue;
      }
      if (source->external_id) {
        if (*source->external_id != ext)
          error("this 'user_alias' belongs to a user with another external_id");
        else
          ++processed;
        continue;
      }
      CF_ASSIGN_OR_RETURN(auto target, txn.FindByExternalId(ws, ext));
      if (!target) {
        CF_RETURN_IF_ERROR(txn.SetExternalId(source->index, ext));
        ++processed;
        continue;
      }
      CF_ASSIGN_OR_RETURN(auto target_aliases, txn.Aliases(target->index));
      bool same_label = std::any_of(target_aliases.begin(), target_aliases.end(),
                                    [&](const Alias& a) { return a.label == alias.label; });
      if (!same_label) {
        CF_RETURN_IF_ERROR(txn.MergeProfileInto(source->index, target->index));
        RemoveFromCohorts(source->index, deltas);
      }
      ++processed;
    }
    return Status::OK();
  }));
  json out = {{"aliases_processed", processed}};
  if (!errors.empty()) out["errors"] = std::move(errors);
  return out;
}

Result<json> Engage::AliasNew(int64_t ws, const json& body) {
  CF_RETURN_IF_ERROR(CheckKeys(body, {"user_aliases"}));
  CF_ASSIGN_OR_RETURN(const json* items, BatchArray(body, "user_aliases", kMaxUserBatch));
  if (items == nullptr) return Err(BadField("user_aliases", "is required"));
  for (size_t i = 0; i < items->size(); ++i) {
    const json& it = (*items)[i];
    const std::string where = "user_aliases[" + std::to_string(i) + "]";
    if (!ReadAlias(it))
      return Err(BadField(where, "must be an object with non-empty strings 'alias_name' and 'alias_label'"));
    // Clients that serialize every field send "external_id": null for "none"; so is it read.
    if (HasExternalId(it) && !IsNonEmptyString(it["external_id"])) {
      return Err(BadField(where + ".external_id", "must be a non-empty string or null when given"));
    }
    CF_RETURN_IF_ERROR(CheckAliasFields(where, it));
    if (HasExternalId(it)) CF_RETURN_IF_ERROR(CheckIdentifier(where + ".external_id", it["external_id"], true));
  }
  size_t processed = 0;
  json errors = json::array();
  const int64_t now = clock_.NowSeconds();
  CF_RETURN_IF_ERROR(Write([&](Transaction& txn, std::vector<CohortDelta>&) -> Status {
    for (size_t i = 0; i < items->size(); ++i) {
      const json& it = (*items)[i];
      const Alias alias = *ReadAlias(it);
      CF_ASSIGN_OR_RETURN(auto existing, txn.FindByAlias(ws, alias));
      if (existing) {  // an existing pair: success, nothing changes
        ++processed;
        continue;
      }
      if (!HasExternalId(it)) {
        CF_ASSIGN_OR_RETURN(Profile p, txn.InsertProfile(ws, std::nullopt, now));
        CF_RETURN_IF_ERROR(txn.AddAlias(ws, p.index, alias));
        ++processed;
        continue;
      }
      CF_ASSIGN_OR_RETURN(auto target, txn.FindByExternalId(ws, it["external_id"].get<std::string>()));
      if (!target) {
        errors.push_back({{"type", "no user has this 'external_id'; nothing was added"}, {"index", i}});
        continue;
      }
      CF_ASSIGN_OR_RETURN(auto aliases, txn.Aliases(target->index));
      if (std::any_of(aliases.begin(), aliases.end(), [&](const Alias& a) { return a.label == alias.label; })) {
        errors.push_back({{"type", "the user already has an alias with label '" + alias.label + "'"}, {"index", i}});
        continue;
      }
      CF_RETURN_IF_ERROR(txn.AddAlias(ws, target->index, alias));
      ++processed;
    }
    return Status::OK();
  }));
  json out = {{"aliases_processed", processed}};
  if (!errors.empty()) out["errors"] = std::move(errors);
  return out;
}

Result<json> Engage::Delete(int64_t ws, const json& body) {
  CF_RETURN_IF_ERROR(CheckKeys(body, {"external_ids", "user_aliases", "braze_ids"}));
  if (body.size() != 1) {
    return Err(Status::InvalidArgument("exactly one of 'external_ids', 'user_aliases' or 'braze_ids' is required"));
  }
  const std::string field = body.begin().key();
  CF_ASSIGN_OR_RETURN(const json* items, BatchArray(body, field.c_str(), kMaxUserBatch));
  for (size_t i = 0; i < items->size(); ++i) {
    const json& v = (*items)[i];
    bool ok = field == "user_aliases" ? ReadAlias(v).has_value() : IsNonEmptyString(v);
    const std::string where = field + "[" + std::to_string(i) + "]";
    if (!ok) {
      return Err(BadField(where, field == "user_aliases" ? "must be an object with 'alias_name' and 'alias_label'"
                                                         : "must be a non-empty string"));
    }
    CF_RETURN_IF_ERROR(field == "user_aliases" ? CheckAliasFields(where, v)
                                               : CheckIdentifier(where, v, field == "external_ids"));
  }
  size_t deleted = 0;
  CF_RETURN_IF_ERROR(Write([&](Transaction& txn, std::vector<CohortDelta>& deltas) -> Status {
    for (const json& v : *items) {
      std::optional<Profile> p;
      if (field == "external_ids") {
        CF_ASSIGN_OR_RETURN(p, txn.FindByExternalId(ws, v.get<std::string>()));
      } else if (field == "braze_ids") {
        CF_ASSIGN_OR_RETURN(p, txn.FindByBrazeId(ws, v.get<std::string>()));
      } else {
        CF_ASSIGN_OR_RETURN(p, txn.FindByAlias(ws, *ReadAlias(v)));
      }
      if (!p) continue;
      CF_RETURN_IF_ERROR(txn.DeleteProfile(p->index));
      RemoveFromCohorts(p->index, deltas);
      ++deleted;
    }
    return Status::OK();
  }));
  return json{{"deleted", deleted}};
}

namespace {

const std::vector<std::string>& ExportFields() {
  static const std::vector<std::string> kFields = {"braze_id",          "external_id", "user_aliases", "devices",
                                                   "custom_attributes", "created_at",  "cohorts"};
  return kFields;
}

}  // namespace

Result<json> Engage::ExportUser(Transaction& txn, const Profile& p, const std::vector<std::string>& fields) {
  json u = json::object();
  auto want = [&](const char* f) { return std::find(fields.begin(), fields.end(), f) != fields.end(); };
  if (want("braze_id")) u["braze_id"] = p.braze_id;
  if (want("external_id") && p.external_id) u["external_id"] = *p.external_id;
  if (want("user_aliases")) {
    CF_ASSIGN_OR_RETURN(auto aliases, txn.Aliases(p.index));
    json a = json::array();
    for (const auto& x : aliases) a.push_back({{"alias_label", x.label}, {"alias_name", x.name}});
    u["user_aliases"] = std::move(a);
  }
  if (want("devices")) {
    CF_ASSIGN_OR_RETURN(auto devices, txn.Devices(p.index));
    json d = json::array();
    for (const auto& x : devices) d.push_back({{"device_id", x}});
    u["devices"] = std::move(d);
  }
  if (want("custom_attributes")) {
    CF_ASSIGN_OR_RETURN(auto attrs, txn.Attributes(p.index));
    json a = json::object();
    for (const auto& [k, v] : attrs) a[k] = json::parse(v, nullptr, false);
    u["custom_attributes"] = std::move(a);
  }
  if (want("created_at")) u["created_at"] = FormatIsoTime(p.created_at);
  if (want("cohorts")) {
    CF_RETURN_IF_ERROR(SyncCohorts(txn));
    json c = json::array();
    CF_ASSIGN_OR_RETURN(auto all, txn.ListCohorts());
    CF_ASSIGN_OR_RETURN(auto partners, txn.ListPartners());
    for (const auto& cohort : all) {
      if (cohort.workspace_id != p.workspace_id || !cohorts_.Contains(cohort.pk, p.index)) continue;
      std::string partner_name;
      for (const auto& pr : partners) {
        if (pr.id == cohort.partner_id) partner_name = pr.name;
      }
      c.push_back({{"partner", partner_name}, {"cohort_id", cohort.cohort_id}, {"name", cohort.name}});
    }
    u["cohorts"] = std::move(c);
  }
  return u;
}

Result<json> Engage::ExportIds(int64_t ws, const json& body) {
  CF_RETURN_IF_ERROR(CheckKeys(body, {"external_ids", "user_aliases", "device_id", "braze_id", "fields_to_export"}));
  CF_ASSIGN_OR_RETURN(const json* ext_ids, BatchArray(body, "external_ids", kMaxUserBatch));
  CF_ASSIGN_OR_RETURN(const json* aliases, BatchArray(body, "user_aliases", kMaxUserBatch));
  size_t total = (ext_ids ? ext_ids->size() : 0) + (aliases ? aliases->size() : 0) + body.contains("device_id") +
                 body.contains("braze_id");
  if (total == 0) {
    return Err(
        Status::InvalidArgument("name at least one user: 'external_ids', 'user_aliases', 'device_id' or 'braze_id'"));
  }
  if (total > kMaxUserBatch) {
    return Err(Status::InvalidArgument("at most " + std::to_string(kMaxUserBatch) +
                                       " user identifiers are allowed per request, got " + std::to_string(total)));
  }
  for (size_t i = 0; ext_ids && i < ext_ids->size(); ++i) {
    CF_RETURN_IF_ERROR(CheckIdentifier("external_ids[" + std::to_string(i) + "]", (*ext_ids)[i], true));
  }
  for (size_t i = 0; aliases && i < aliases->size(); ++i) {
    const std::string where = "user_aliases[" + std::to_string(i) + "]";
    if (!ReadAlias((*aliases)[i])) return Err(BadField(where, "must be an object with 'alias_name' and 'alias_label'"));
    CF_RETURN_IF_ERROR(CheckAliasFields(where, (*aliases)[i]));
  }
  for (const char* k : {"device_id", "braze_id"}) {
    if (body.contains(k)) CF_RETURN_IF_ERROR(CheckIdentifier(k, body[k]));
  }
  std::vector<std::string> fields = ExportFields();
  if (body.contains("fields_to_export")) {
    const json& f = body["fields_to_export"];
    if (!f.is_array()) return Err(BadField("fields_to_export", "must be an array of field names"));
    fields.clear();
    for (const json& name : f) {
      if (!name.is_string() ||
          std::find(ExportFields().begin(), ExportFields().end(), name.get<std::string>()) == ExportFields().end()) {
        return Err(BadField("fields_to_export", "has " +
                                                    (name.is_string() ? Quote(name.get<std::string>()) : name.dump()) +
                                                    "; valid fields are " + Join(ExportFields(), ", ")));
      }
      fields.push_back(name.get<std::string>());
    }
  }
  json users = json::array();
  json invalid = json::array();
  CF_ASSIGN_OR_RETURN(auto txn, storage_->Begin(false));
  std::vector<ProfileIndex> seen;
  auto add = [&](const std::optional<Profile>& p, const json& id) -> Status {
    if (!p) {
      invalid.push_back(id);
      return Status::OK();
    }
    if (std::find(seen.begin(), seen.end(), p->index) != seen.end()) return Status::OK();
    seen.push_back(p->index);
    CF_ASSIGN_OR_RETURN(json u, ExportUser(*txn, *p, fields));
    users.push_back(std::move(u));
    return Status::OK();
  };
  for (size_t i = 0; ext_ids && i < ext_ids->size(); ++i) {
    CF_ASSIGN_OR_RETURN(auto p, txn->FindByExternalId(ws, (*ext_ids)[i].get<std::string>()));
    CF_RETURN_IF_ERROR(add(p, (*ext_ids)[i]));
  }
  for (size_t i = 0; aliases && i < aliases->size(); ++i) {
    CF_ASSIGN_OR_RETURN(auto p, txn->FindByAlias(ws, *ReadAlias((*aliases)[i])));
    CF_RETURN_IF_ERROR(add(p, (*aliases)[i]));
  }
  if (body.contains("device_id")) {
    CF_ASSIGN_OR_RETURN(auto p, txn->FindByDevice(ws, body["device_id"].get<std::string>()));
    CF_RETURN_IF_ERROR(add(p, body["device_id"]));
  }
  if (body.contains("braze_id")) {
    CF_ASSIGN_OR_RETURN(auto p, txn->FindByBrazeId(ws, body["braze_id"].get<std::string>()));
    CF_RETURN_IF_ERROR(add(p, body["braze_id"]));
  }
  return json{{"users", std::move(users)}, {"invalid_user_ids", std::move(invalid)}};
}

Result<Profile> StartSession(Transaction& txn, int64_t ws, const std::string& device,
                             const std::optional<std::string>& external_id, int64_t now) {
  CF_ASSIGN_OR_RETURN(auto on_device, txn.FindByDevice(ws, device));
  if (!external_id) {
    if (on_device) return *on_device;
    CF_ASSIGN_OR_RETURN(Profile created, txn.InsertProfile(ws, std::nullopt, now));
    CF_RETURN_IF_ERROR(txn.SetDevice(ws, created.index, device));
    return created;
  }
  if (on_device && on_device->external_id == external_id) return *on_device;
  CF_ASSIGN_OR_RETURN(auto identified, txn.FindByExternalId(ws, *external_id));
  if (on_device && !on_device->external_id && !identified) {
    // The anonymous profile of this device becomes identified and keeps its data.
    CF_RETURN_IF_ERROR(txn.SetExternalId(on_device->index, *external_id));
    CF_ASSIGN_OR_RETURN(auto updated, txn.FindProfile(on_device->index));
    return *updated;
  }
  if (!identified) {
    CF_ASSIGN_OR_RETURN(Profile created, txn.InsertProfile(ws, *external_id, now));
    identified = created;
  }
  // As in Braze, the device moves to the identified user and a previous anonymous profile is
  // orphaned (kept, without the device). Its memberships do not move to the identified user:
  // they were the partner's view of the device's anonymous history, and the identified user's
  // memberships are the partner's to change by external_id. An orphan that no identifier names
  // any more could never be removed by a partner, so it leaves its cohorts (queued: see
  // Transaction::QueueCohortEviction).
  CF_RETURN_IF_ERROR(txn.SetDevice(ws, identified->index, device));
  if (on_device && !on_device->external_id) {
    CF_ASSIGN_OR_RETURN(auto devices, txn.Devices(on_device->index));
    CF_ASSIGN_OR_RETURN(auto aliases, txn.Aliases(on_device->index));
    if (devices.empty() && aliases.empty()) CF_RETURN_IF_ERROR(txn.QueueCohortEviction(on_device->index));
  }
  return *identified;
}

Result<json> Engage::Session(int64_t ws, const json& body) {
  CF_RETURN_IF_ERROR(CheckKeys(body, {"device_id", "external_id"}));
  if (!body.contains("device_id")) return Err(BadField("device_id", "must be a non-empty string"));
  CF_RETURN_IF_ERROR(CheckIdentifier("device_id", body["device_id"]));
  if (body.contains("external_id")) CF_RETURN_IF_ERROR(CheckIdentifier("external_id", body["external_id"], true));
  const std::optional<std::string> ext =
      body.contains("external_id") ? std::optional<std::string>(body["external_id"].get<std::string>()) : std::nullopt;
  Profile result;
  CF_RETURN_IF_ERROR(Write([&](Transaction& txn, std::vector<CohortDelta>&) -> Status {
    CF_ASSIGN_OR_RETURN(result, StartSession(txn, ws, body["device_id"].get<std::string>(), ext, clock_.NowSeconds()));
    return Status::OK();
  }));
  json out = {{"braze_id", result.braze_id}};
  if (result.external_id) out["external_id"] = *result.external_id;
  return out;
}

}  // namespace cf::engage
