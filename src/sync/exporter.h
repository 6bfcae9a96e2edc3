// The cohort export client: sends a plan's campaigns to Braze's partner cohort API (or engage)
// as cohorts, each time only the changes since the last acknowledged export (docs/export.md).
// Nothing here assumes engage: the answer counts engage adds are read when present.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "sync/journal.h"
#include "sync/plan_dir.h"

namespace cf::sync {

struct Credentials {
  std::string partner_api_key;  // the platform's key for the partner
  std::string data_import_key;  // the workspace's key for the partner, sent as client_secret
};

// From a JSON file {"partner_api_key": ..., "data_import_key": ...} when `keys_file` is not
// empty, else from the environment variables CF_PARTNER_API_KEY and CF_DATA_IMPORT_KEY.
Result<Credentials> LoadCredentials(const std::string& keys_file);

struct ExportOptions {
  std::string endpoint;                  // base URL, e.g. https://rest.iad-01.braze.com; required
  std::string partner = "tinyclues";     // the partner in /partners/{partner}/...; letters, digits, '-', '_'
  int max_ids_per_request = 1000;        // 1 .. 1000 identifiers per cohort request (Braze's limit)
  int connections = 4;                   // 1 .. 16 requests in flight per campaign, one connection each
  double timeout_seconds = 30;           // > 0: one request, connection included
  double max_retry_seconds = 300;        // >= 0: how long one request may be retried before its campaign fails
  double initial_backoff_seconds = 0.5;  // > 0: the first retry's delay; doubles each retry, with jitter
  double max_backoff_seconds = 30;       // >= initial_backoff_seconds: the longest delay between two retries
  std::string ca_cert_file;              // https: PEM certificate authorities to trust instead of the system's; "" = system

  Status Validate() const;
};

// What one export of a campaign has to send, against what the destination acknowledged.
struct ChangeSet {
  std::vector<JournalEntry> replaced;  // old identifiers of customers still planned under a new one
  std::vector<JournalEntry> adds;      // planned and not acknowledged
  std::vector<JournalEntry> removes;   // acknowledged and no longer planned
};

// Sent in this order: `replaced` removes first (so that a profile matched by both its old and
// its new identifier ends as a member), then adds, then removes (spec §6).
ChangeSet ComputeChanges(const Journal::Membership& acknowledged, const std::vector<Member>& planned);

struct CampaignReport {
  PlannedCampaign campaign;
  int64_t planned = 0;     // identifiers in the plan's audience
  int64_t holdout = 0;     // withheld rows
  int64_t skipped = 0;     // rows without a usable identifier
  int64_t duplicates = 0;  // rows sharing an identifier with an earlier row
  int64_t to_add = 0;      // changes this run had to send
  int64_t to_remove = 0;
  int64_t sent = 0;                               // identifiers in acknowledged requests
  int64_t added = 0, removed = 0, unmatched = 0;  // summed from the answers, when counts_known
  bool counts_known = true;  // every answer carried added, removed and unmatched (engage does; Braze does not)
  int64_t requests = 0;      // acknowledged requests, the cohort's creation included
  int64_t retries = 0;       // requests sent again after a retryable failure
  double seconds = 0;        // wall time of the sending, the cohort's creation included
  Status status;             // why the campaign stopped, or OK
};

class Exporter {
 public:
  // The options must be valid.
  Exporter(ExportOptions options, Credentials credentials);
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  // The destination of a campaign's journal.
  JournalHeader Destination(const PlannedCampaign& campaign) const;
  // After each acknowledged request: the identifiers acknowledged so far and the changes to send
  // (to_add + to_remove). Called from the sending threads, one call at a time.
  using SentCallback = std::function<void(int64_t sent, int64_t to_send)>;

  // Creates or renames the cohort, then sends the changes against the campaign's journal and
  // records each acknowledged request in it. Never throws; failures are in `status`.
  CampaignReport Export(const std::string& plan_dir, const PlannedCampaign& campaign, const CampaignAudience& audience,
                        const SentCallback& on_sent = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A cohort's export file name as a file name: '/', '\', control characters and
// `<>:"|?*` become '_', leading and trailing spaces and dots are dropped, and the result is
// cut to 200 bytes (at a character boundary); "" becomes the cohort id. ".csv" is appended.
std::string CsvFileName(const PlannedCampaign& campaign);

// Writes the audience as DIR/<CsvFileName> (customer,external_id,alias_label,alias_name,device_id,
// one identifier per row), atomically.
Status WriteCohortCsv(const std::string& dir, const PlannedCampaign& campaign, const CampaignAudience& audience);

}  // namespace cf::sync
