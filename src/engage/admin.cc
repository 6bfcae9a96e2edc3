#include "engage/admin.h"

#include <algorithm>

#include "base/strings.h"
#include "engage/engage.h"

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

Result<int64_t> RequireWorkspace(Transaction& txn, const std::string& workspace) {
  CF_ASSIGN_OR_RETURN(auto ws, txn.FindWorkspace(workspace));
  if (!ws) return Err(Status::NotFound("no workspace named " + Quote(workspace)));
  return *ws;
}

Result<PartnerRecord> RequirePartner(Transaction& txn, const std::string& partner) {
  CF_ASSIGN_OR_RETURN(auto p, txn.FindPartner(partner));
  if (!p) {
    return Err(Status::NotFound("no partner named " + Quote(partner) + "; register it with `engage partner add`"));
  }
  return std::move(*p);
}

}  // namespace

Result<int64_t> EnsureWorkspace(Transaction& txn, const std::string& workspace, int64_t now) {
  CF_RETURN_IF_ERROR(CheckName("--workspace", workspace));
  CF_ASSIGN_OR_RETURN(auto ws, txn.FindWorkspace(workspace));
  if (ws) return *ws;
  return txn.CreateWorkspace(workspace, now);
}

Result<std::string> CreateApiKey(Storage& storage, const std::string& workspace, const std::string& name,
                                 const std::string& permissions, int64_t now) {
  if (name.empty()) return Err(Status::InvalidArgument("--name must not be empty"));
  std::vector<std::string> perms;
  for (auto p : Split(permissions, ',')) {
    std::string perm(Trim(p));
    const auto& known = KnownPermissions();
    if (perm != "all" && std::find(known.begin(), known.end(), perm) == known.end()) {
      return Err(Status::InvalidArgument("--permissions: unknown permission " + Quote(perm) + "; valid: all, " +
                                         Join(known, ", ")));
    }
    perms.push_back(perm);
  }
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ws, EnsureWorkspace(*txn, workspace, now));
  NewKey key = GenerateKey();
  CF_RETURN_IF_ERROR(txn->InsertApiKey({key.stored, ws, name, Join(perms, ","), now}));
  CF_RETURN_IF_ERROR(txn->Commit());
  return key.key;
}

Result<std::string> AddPartner(Storage& storage, const std::string& partner, const std::string& display_name,
                               int64_t now) {
  CF_RETURN_IF_ERROR(CheckName("--partner", partner));
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(auto existing, txn->FindPartner(partner));
  if (existing) return Err(Status::AlreadyExists("partner " + Quote(partner) + " is already registered"));
  NewKey key = GenerateKey();
  std::string display = display_name.empty() ? partner : display_name;
  CF_ASSIGN_OR_RETURN(int64_t id, txn->InsertPartner({0, partner, display, key.stored, now}));
  (void)id;
  CF_RETURN_IF_ERROR(txn->Commit());
  return key.key;
}

Result<std::string> GenerateDataImportKey(Storage& storage, const std::string& workspace, const std::string& partner,
                                          int64_t now) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ws, EnsureWorkspace(*txn, workspace, now));
  CF_ASSIGN_OR_RETURN(PartnerRecord p, RequirePartner(*txn, partner));
  NewKey key = GenerateKey();
  CF_RETURN_IF_ERROR(txn->SetDataImportKey(ws, p.id, DataImportKeyRecord{key.stored, ws, p.id, now}));
  CF_RETURN_IF_ERROR(txn->Commit());
  return key.key;
}

Status InvalidateDataImportKey(Storage& storage, const std::string& workspace, const std::string& partner) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ws, RequireWorkspace(*txn, workspace));
  CF_ASSIGN_OR_RETURN(PartnerRecord p, RequirePartner(*txn, partner));
  CF_RETURN_IF_ERROR(txn->SetDataImportKey(ws, p.id, std::nullopt));
  return txn->Commit();
}

Result<PartnerInfo> ShowPartner(Storage& storage, const std::string& workspace, const std::string& partner) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(false));
  CF_ASSIGN_OR_RETURN(int64_t ws, RequireWorkspace(*txn, workspace));
  CF_ASSIGN_OR_RETURN(PartnerRecord p, RequirePartner(*txn, partner));
  CF_ASSIGN_OR_RETURN(auto key, txn->FindDataImportKeyOf(ws, p.id));
  return PartnerInfo{p.name, p.display_name, "/partners/" + p.name + "/cohorts", key.has_value()};
}

Result<Profile> AddDevice(Storage& storage, const std::string& workspace, const std::string& device_id,
                          const std::optional<std::string>& external_id, int64_t now) {
  if (device_id.empty()) return Err(Status::InvalidArgument("--device-id must not be empty"));
  if (external_id && external_id->empty()) return Err(Status::InvalidArgument("--external-id must not be empty"));
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ws, RequireWorkspace(*txn, workspace));
  CF_ASSIGN_OR_RETURN(Profile p, StartSession(*txn, ws, device_id, external_id, now));
  CF_RETURN_IF_ERROR(txn->Commit());
  return p;
}

Status SetRateLimit(Storage& storage, const std::string& workspace, const std::string& endpoint, int64_t limit,
                    int64_t window_seconds) {
  if (limit < 1) return Status::InvalidArgument("--limit must be at least 1");
  if (window_seconds < 1) return Status::InvalidArgument("--window-seconds must be at least 1");
  if (endpoint != "*" && !StartsWith(endpoint, "/")) {
    return Status::InvalidArgument("--endpoint " + Quote(endpoint) + ": a path such as /users/track, or *");
  }
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ws, RequireWorkspace(*txn, workspace));
  CF_RETURN_IF_ERROR(txn->SetRateLimit(ws, endpoint, {limit, window_seconds}));
  return txn->Commit();
}

}  // namespace cf::engage
