// Administration of an engage database, as the admin command line does it. Safe while
// `engage serve` runs on the same database: the server reads keys from the database on every
// request, so each change here takes effect at once.
#pragma once

#include <string>
#include <vector>

#include "engage/security_log.h"
#include "engage/storage.h"

namespace cf::engage {

struct PartnerInfo {
  std::string name;
  std::string display_name;
  std::string endpoint;                    // path of the cohort endpoint, e.g. /partners/tinyclues/cohorts
  bool data_import_key_active = false;     // for the workspace asked about
  int64_t data_import_key_created_at = 0;  // when the active key was generated
};

// Each returns the new key, to be shown once. Every change to keys and partners is recorded in
// the security log (security_log.h) as done by `actor`.
Result<std::string> CreateApiKey(Storage& storage, const std::string& workspace, const std::string& name,
                                 const std::string& permissions, int64_t now, const Actor& actor = CommandLineActor());
Result<std::string> AddPartner(Storage& storage, const std::string& partner, const std::string& display_name,
                               int64_t now, const Actor& actor = CommandLineActor());
Result<std::string> GenerateDataImportKey(Storage& storage, const std::string& workspace, const std::string& partner,
                                          int64_t now, const Actor& actor = CommandLineActor());
Status InvalidateDataImportKey(Storage& storage, const std::string& workspace, const std::string& partner,
                               const Actor& actor = CommandLineActor());
Result<PartnerInfo> ShowPartner(Storage& storage, const std::string& workspace, const std::string& partner);
Result<Profile> AddDevice(Storage& storage, const std::string& workspace, const std::string& device_id,
                          const std::optional<std::string>& external_id, int64_t now);
// `endpoint` as `engage rate-limit set --endpoint` takes it: one of RateLimitEndpoints(), or "*".
Status SetRateLimit(Storage& storage, const std::string& workspace, const std::string& endpoint, int64_t limit,
                    int64_t window_seconds);
// The endpoints a rate limit can be set for, as operators write them (the partner endpoints
// with the literal `{partner}`: one limit covers every partner's path).
const std::vector<std::string>& RateLimitEndpoints();

// A REST API key as `engage api-key list` shows it: never the key, only its public id.
struct ApiKeyInfo {
  std::string key_id;  // the key's first 16 characters
  std::string name;
  std::string permissions;
  int64_t created_at = 0;
};
Result<std::vector<ApiKeyInfo>> ListApiKeys(Storage& storage, const std::string& workspace);
// Revokes the key given whole or by its 16-character id; it stops working at once.
Status RevokeApiKey(Storage& storage, const std::string& workspace, const std::string& key_or_id,
                    const Actor& actor = CommandLineActor());
// A new partner_api_key for the partner, returned to be shown once; the previous one stops working.
Result<std::string> RotatePartnerKey(Storage& storage, const std::string& partner, const Actor& actor = CommandLineActor());
// Creates the workspace if it does not exist.
Result<int64_t> EnsureWorkspace(Transaction& txn, const std::string& workspace, int64_t now);

}  // namespace cf::engage
