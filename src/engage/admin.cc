#include "engage/admin.h"

#include <algorithm>

#include "base/time.h"

#include "base/strings.h"
#include "engage/engage.h"
#include "engage/keys.h"
#include "engage/wire.h"

namespace cf::engage {

namespace {

Status CheckName(const std::string& what, const std::string& value) {
  if (value.empty()) return Status::InvalidArgument(what + " must not be empty");
  for (char c : value) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
      return Status::InvalidArgument(what + " " + Quote(value) +
                                     ": use lower-case letters, digits, '-' and '_' (it appears in URLs)");
    }
  }
  return Status::OK();
}

// The `default` workspace exists from the server's first start; before it, a read treats it as
// empty (id 0 matches no row) and a write creates it, so admin commands may come first.
Result<int64_t> RequireWorkspace(Transaction& txn, const std::string& workspace, bool write = false) {
  CF_ASSIGN_OR_RETURN(auto ws, txn.FindWorkspace(workspace));
  if (ws) return *ws;
  if (workspace == kDefaultWorkspace) {
    if (!write) return int64_t{0};
    return txn.CreateWorkspace(workspace, 0);
  }
  return Err(Status::NotFound("no workspace named " + Quote(workspace)));
}

Result<PartnerRecord> RequirePartner(Transaction& txn, const std::string& partner) {
  CF_ASSIGN_OR_RETURN(auto p, txn.FindPartner(partner));
  if (!p) {
    return Err(Status::NotFound("no partner named " + Quote(partner) + "; register it with `engage partner add`"));
  }
  return std::move(*p);
}

}  // namespace

Result<std::vector<ApiKeyInfo>> ListApiKeys(Storage& storage, const std::string& workspace) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(false));
  CF_ASSIGN_OR_RETURN(int64_t ws, RequireWorkspace(*txn, workspace));
  CF_ASSIGN_OR_RETURN(auto keys, txn->ListApiKeys(ws));
  std::vector<ApiKeyInfo> out;
  for (auto& k : keys) out.push_back({k.key.key_id, k.name, k.permissions, k.created_at});
  return out;
}

Status RevokeApiKey(Storage& storage, const std::string& workspace, const std::string& key_or_id,
                    const Actor& actor) {
  // The id alone is enough: it is what `api-key list` shows, and revoking needs no secret.
  std::optional<std::string> id = KeyIdOf(key_or_id);
  if (!id && key_or_id.size() == 16 && KeyIdOf(key_or_id + std::string(32, '0'))) id = key_or_id;
  if (!id) {
    return Status::InvalidArgument("key " + Quote(key_or_id) +
                                   ": expected a key id (16 hex characters, as `engage api-key list` shows) or a "
                                   "whole key (48)");
  }
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ws, RequireWorkspace(*txn, workspace, true));
  CF_ASSIGN_OR_RETURN(auto record, txn->FindApiKey(*id));
  if (!record || record->workspace_id != ws) {
    return Status::NotFound("no REST API key with id " + *id + " in workspace " + Quote(workspace) +
                            "; `engage api-key list` shows them");
  }
  CF_ASSIGN_OR_RETURN(bool deleted, txn->DeleteApiKey(*id));
  (void)deleted;
  CF_RETURN_IF_ERROR(RecordSecurityEvent(*txn, workspace, actor, "api_key.revoked",
                                         {{"key_id", *id}, {"name", record->name}}, SystemClock().NowSeconds()));
  return txn->Commit();
}

Result<std::string> RotatePartnerKey(Storage& storage, const std::string& partner, const Actor& actor) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(PartnerRecord p, RequirePartner(*txn, partner));
  NewKey key = GenerateKey();
  CF_RETURN_IF_ERROR(txn->SetPartnerApiKey(p.id, key.stored));
  CF_RETURN_IF_ERROR(
      RecordSecurityEvent(*txn, "", actor, "partner_key.rotated", {{"partner", partner}}, SystemClock().NowSeconds()));
  CF_RETURN_IF_ERROR(txn->Commit());
  return key.key;
}

Result<int64_t> EnsureWorkspace(Transaction& txn, const std::string& workspace, int64_t now) {
  CF_RETURN_IF_ERROR(CheckName("workspace", workspace));
  CF_ASSIGN_OR_RETURN(auto ws, txn.FindWorkspace(workspace));
  if (ws) return *ws;
  return txn.CreateWorkspace(workspace, now);
}

Result<std::string> CreateApiKey(Storage& storage, const std::string& workspace, const std::string& name,
                                 const std::string& permissions, int64_t now, const Actor& actor) {
  if (name.empty()) return Err(Status::InvalidArgument("the key's name must not be empty"));
  std::vector<std::string> perms;
  for (auto p : Split(permissions, ',')) {
    std::string perm(Trim(p));
    const auto& known = KnownPermissions();
    if (perm != "all" && std::find(known.begin(), known.end(), perm) == known.end()) {
      return Err(Status::InvalidArgument("unknown permission " + Quote(perm) + "; valid: all, " + Join(known, ", ")));
    }
    perms.push_back(perm);
  }
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ws, EnsureWorkspace(*txn, workspace, now));
  NewKey key = GenerateKey();
  CF_RETURN_IF_ERROR(txn->InsertApiKey({key.stored, ws, name, Join(perms, ","), now}));
  CF_RETURN_IF_ERROR(RecordSecurityEvent(*txn, workspace, actor, "api_key.created",
                                         {{"key_id", key.key.substr(0, 16)}, {"name", name}, {"permissions", Join(perms, ",")}},
                                         now));
  CF_RETURN_IF_ERROR(txn->Commit());
  return key.key;
}

Result<std::string> AddPartner(Storage& storage, const std::string& partner, const std::string& display_name,
                               int64_t now, const Actor& actor) {
  CF_RETURN_IF_ERROR(CheckName("partner", partner));
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(auto existing, txn->FindPartner(partner));
  if (existing) return Err(Status::AlreadyExists("partner " + Quote(partner) + " is already registered"));
  NewKey key = GenerateKey();
  std::string display = display_name.empty() ? partner : display_name;
  CF_ASSIGN_OR_RETURN(int64_t id, txn->InsertPartner({0, partner, display, key.stored, now}));
  (void)id;
  CF_RETURN_IF_ERROR(
      RecordSecurityEvent(*txn, "", actor, "partner.created", {{"partner", partner}, {"display_name", display}}, now));
  CF_RETURN_IF_ERROR(txn->Commit());
  return key.key;
}

Result<std::string> GenerateDataImportKey(Storage& storage, const std::string& workspace, const std::string& partner,
                                          int64_t now, const Actor& actor) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ws, EnsureWorkspace(*txn, workspace, now));
  CF_ASSIGN_OR_RETURN(PartnerRecord p, RequirePartner(*txn, partner));
  NewKey key = GenerateKey();
  CF_RETURN_IF_ERROR(txn->SetDataImportKey(ws, p.id, DataImportKeyRecord{key.stored, ws, p.id, now}));
  CF_RETURN_IF_ERROR(
      RecordSecurityEvent(*txn, workspace, actor, "data_import_key.generated", {{"partner", partner}}, now));
  CF_RETURN_IF_ERROR(txn->Commit());
  return key.key;
}

Status InvalidateDataImportKey(Storage& storage, const std::string& workspace, const std::string& partner,
                               const Actor& actor) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ws, RequireWorkspace(*txn, workspace, true));
  CF_ASSIGN_OR_RETURN(PartnerRecord p, RequirePartner(*txn, partner));
  CF_RETURN_IF_ERROR(txn->SetDataImportKey(ws, p.id, std::nullopt));
  CF_RETURN_IF_ERROR(RecordSecurityEvent(*txn, workspace, actor, "data_import_key.invalidated", {{"partner", partner}},
                                         SystemClock().NowSeconds()));
  return txn->Commit();
}

Result<PartnerInfo> ShowPartner(Storage& storage, const std::string& workspace, const std::string& partner) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(false));
  CF_ASSIGN_OR_RETURN(int64_t ws, RequireWorkspace(*txn, workspace));
  CF_ASSIGN_OR_RETURN(PartnerRecord p, RequirePartner(*txn, partner));
  CF_ASSIGN_OR_RETURN(auto key, txn->FindDataImportKeyOf(ws, p.id));
  return PartnerInfo{p.name, p.display_name, "/partners/" + p.name + "/cohorts", key.has_value(),
                     key ? key->created_at : 0};
}

Result<Profile> AddDevice(Storage& storage, const std::string& workspace, const std::string& device_id,
                          const std::optional<std::string>& external_id, int64_t now) {
  if (std::string p = IdentifierProblem(device_id); !p.empty()) {
    return Err(Status::InvalidArgument("device_id " + Quote(device_id) + " " + p));
  }
  if (external_id) {
    if (std::string p = IdentifierProblem(*external_id, true); !p.empty()) {
      return Err(Status::InvalidArgument("external_id " + Quote(*external_id) + " " + p));
    }
  }
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ws, RequireWorkspace(*txn, workspace, true));
  CF_ASSIGN_OR_RETURN(Profile p, StartSession(*txn, ws, device_id, external_id, now));
  CF_RETURN_IF_ERROR(txn->Commit());
  return p;
}

const std::vector<std::string>& RateLimitEndpoints() {
  static const std::vector<std::string> kEndpoints = {"/users/track",
                                                      "/users/identify",
                                                      "/users/alias/new",
                                                      "/users/delete",
                                                      "/users/export/ids",
                                                      "/sdk/v1/session",
                                                      "/segments/create",
                                                      "/segments/list",
                                                      "/segments/details",
                                                      "/partners/{partner}/cohorts",
                                                      "/partners/{partner}/cohorts/users",
                                                      "/campaigns/create",
                                                      "/campaigns/list",
                                                      "/campaigns/details",
                                                      "/campaigns/trigger/send",
                                                      "/campaigns/sends"};
  return kEndpoints;
}

Status SetRateLimit(Storage& storage, const std::string& workspace, const std::string& endpoint, int64_t limit,
                    int64_t window_seconds) {
  if (limit < 1) return Status::InvalidArgument("limit must be at least 1, got " + std::to_string(limit));
  if (window_seconds < 1) {
    return Status::InvalidArgument("window_seconds must be at least 1, got " + std::to_string(window_seconds));
  }
  const auto& known = RateLimitEndpoints();
  if (endpoint != "*" && std::find(known.begin(), known.end(), endpoint) == known.end()) {
    std::string hint;
    if (StartsWith(endpoint, "/partners/")) {
      hint = " (a partner's path is written with the literal {partner}: one limit covers every partner)";
    }
    return Status::InvalidArgument("endpoint " + Quote(endpoint) + " is not an endpoint of engage" + hint +
                                   "; valid: " + Join(known, ", ") + ", or * for all");
  }
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ws, RequireWorkspace(*txn, workspace, true));
  CF_RETURN_IF_ERROR(txn->SetRateLimit(ws, endpoint, {limit, window_seconds}));
  return txn->Commit();
}

}  // namespace cf::engage
