// Administration of an engage database, as the admin command line does it. Safe while
// `engage serve` runs on the same database: the server reads keys from the database on every
// request, so each change here takes effect at once.
#pragma once

#include <string>

#include "engage/storage.h"

namespace cf::engage {

struct PartnerInfo {
  std::string name;
  std::string display_name;
  std::string endpoint;                 // path of the cohort endpoint, e.g. /partners/tinyclues/cohorts
  bool data_import_key_active = false;  // for the workspace asked about
};

// Each returns the new key, to be shown once.
Result<std::string> CreateApiKey(Storage& storage, const std::string& workspace, const std::string& name,
                                 const std::string& permissions, int64_t now);
Result<std::string> AddPartner(Storage& storage, const std::string& partner, const std::string& display_name,
                               int64_t now);
Result<std::string> GenerateDataImportKey(Storage& storage, const std::string& workspace, const std::string& partner,
                                          int64_t now);
Status InvalidateDataImportKey(Storage& storage, const std::string& workspace, const std::string& partner);
Result<PartnerInfo> ShowPartner(Storage& storage, const std::string& workspace, const std::string& partner);
Result<Profile> AddDevice(Storage& storage, const std::string& workspace, const std::string& device_id,
                          const std::optional<std::string>& external_id, int64_t now);
Status SetRateLimit(Storage& storage, const std::string& workspace, const std::string& endpoint, int64_t limit,
                    int64_t window_seconds);
// Creates the workspace if it does not exist.
Result<int64_t> EnsureWorkspace(Transaction& txn, const std::string& workspace, int64_t now);

}  // namespace cf::engage
