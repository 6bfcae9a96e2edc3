#include "engage/dashboard_users.h"

#include "base/strings.h"
#include "base/time.h"
#include "engage/admin.h"
#include "engage/keys.h"

namespace cf::engage {

Result<std::string> CreateDashboardUser(Storage& storage, const std::string& workspace, std::string_view email,
                                        int64_t now, const Actor& actor) {
  CF_ASSIGN_OR_RETURN(std::string normalized, NormalizeEmail(email));
  const std::string password = http::GeneratePassword();
  DashboardUserRecord r;
  r.email = normalized;
  r.workspace = workspace;
  r.salt = http::RandomHex(http::kSaltBytes);
  r.iterations = kPasswordIterations;
  r.hash = HashPassword(password, r.salt, r.iterations);
  r.created_at = now;
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ignored, EnsureWorkspace(*txn, workspace, now));
  (void)ignored;
  CF_RETURN_IF_ERROR(txn->InsertDashboardUser(r));
  CF_RETURN_IF_ERROR(RecordSecurityEvent(*txn, workspace, actor, "dashboard_user.created", {{"email", normalized}}, now));
  CF_RETURN_IF_ERROR(txn->Commit());
  return password;
}

Result<std::vector<DashboardUserRecord>> ListDashboardUsers(Storage& storage) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(false));
  return txn->ListDashboardUsers();
}

Status RemoveDashboardUser(Storage& storage, std::string_view email, const Actor& actor) {
  CF_ASSIGN_OR_RETURN(std::string normalized, NormalizeEmail(email));
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(bool removed, txn->DeleteDashboardUser(normalized));
  if (!removed) {
    return Status::NotFound("no dashboard user has email " + Quote(normalized) + " (see `engage user list`)");
  }
  CF_RETURN_IF_ERROR(RecordSecurityEvent(*txn, "", actor, "dashboard_user.removed", {{"email", normalized}},
                                         SystemClock().NowSeconds()));
  return txn->Commit();
}

Result<DashboardUserRecord> VerifyDashboardUser(Storage& storage, std::string_view email, std::string_view password) {
  auto normalized = NormalizeEmail(email);
  std::optional<DashboardUserRecord> user;
  if (normalized.has_value()) {
    CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(false));
    CF_ASSIGN_OR_RETURN(user, txn->FindDashboardUser(*normalized));
  }
  std::optional<http::StoredPassword> stored;
  if (user) stored = http::StoredPassword{user->salt, user->iterations, user->hash};
  CF_RETURN_IF_ERROR(http::VerifyPassword(stored, password));
  return *user;
}

}  // namespace cf::engage
