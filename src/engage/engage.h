// The engagement platform's core: identity rules, user endpoints, partner cohort import and
// segments, over a Storage and the in-memory cohort bitmaps. It speaks Braze's JSON bodies
// but knows nothing of HTTP: api.h maps requests to these calls and Status codes to statuses.
//
// Status codes of failures: InvalidArgument -> 400, Unauthenticated -> 401,
// PermissionDenied -> 403, NotFound -> 404, anything else -> 5xx.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "base/time.h"
#include "engage/cohort_index.h"
#include "engage/storage.h"

namespace cf::engage {

struct EngageOptions {
  std::string data_dir = "data";  // the database is DATA_DIR/engage.db
  bool synchronous_full = true;   // fsync every commit (a 2xx survives power loss, not only a crash)
  int deltas_per_snapshot = 64;   // cohort deltas kept before a cohort is rewritten as a snapshot
};

inline constexpr const char* kDefaultWorkspace = "default";
inline constexpr size_t kMaxTrackObjects = 75;  // per array of /users/track
inline constexpr size_t kMaxUserBatch = 50;     // identify, alias/new, delete, export/ids
inline constexpr size_t kMaxCohortIdentifiers = 1000;

// Creates DIR (and missing parents) private to the owner (0700) if it does not exist.
Status CreateDataDirectory(const std::string& dir);

// The permissions a REST API key can carry; "all" grants every one.
const std::vector<std::string>& KnownPermissions();

// What a mobile SDK does when a session starts: a new device starts an anonymous profile;
// with `external_id` the device's profile is identified (see docs/engage.md for every case).
// An anonymous profile it orphans is queued to leave its cohorts (the server applies the queue
// with its next write, or at start), so the admin command line may run it beside the server.
Result<Profile> StartSession(Transaction& txn, int64_t workspace_id, const std::string& device_id,
                             const std::optional<std::string>& external_id, int64_t now);

// One object of a cohort import's `cohort_changes`.
struct CohortChange {
  std::vector<std::string> user_ids;
  std::vector<std::string> device_ids;
  std::vector<Alias> aliases;
  bool remove = false;
};

class DeliveryAdapter;  // delivery.h

struct PartnerAuth {
  int64_t workspace_id = 0;
  PartnerRecord partner;
};

class Engage {
 public:
  // Opens (creating) DATA_DIR/engage.db, makes sure the `default` workspace exists and loads
  // cohort bitmaps.
  static Result<std::unique_ptr<Engage>> Open(const EngageOptions& options, const Clock& clock);
  // The same over any Storage (another database; a fault-injecting one in tests).
  static Result<std::unique_ptr<Engage>> Open(std::unique_ptr<Storage> storage, const Clock& clock,
                                              CohortIndexOptions cohort_options = {});

  Storage& storage() { return *storage_; }

  // REST API key from "Authorization: Bearer KEY" with `permission`; returns the workspace id.
  Result<int64_t> AuthenticateApiKey(const std::string& authorization, const std::string& permission);
  // Both partner keys from the body of a partner request to /partners/{partner_name}/...
  Result<PartnerAuth> AuthenticatePartner(const std::string& partner_name, const nlohmann::json& body);
  // The limit configured for the workspace and endpoint, if any.
  Result<std::optional<RateLimitRecord>> RateLimitFor(int64_t workspace_id, const std::string& endpoint);

  // User endpoints: the answer body on success (without "message"), or a fatal error.
  Result<nlohmann::json> Track(int64_t workspace_id, const nlohmann::json& body);
  Result<nlohmann::json> Identify(int64_t workspace_id, const nlohmann::json& body);
  Result<nlohmann::json> AliasNew(int64_t workspace_id, const nlohmann::json& body);
  Result<nlohmann::json> Delete(int64_t workspace_id, const nlohmann::json& body);
  Result<nlohmann::json> ExportIds(int64_t workspace_id, const nlohmann::json& body);
  // What a mobile SDK does when a session starts on a device (see docs/engage.md).
  Result<nlohmann::json> Session(int64_t workspace_id, const nlohmann::json& body);

  // Partner cohort import.
  Result<nlohmann::json> UpsertCohort(const PartnerAuth& auth, const nlohmann::json& body);
  Result<nlohmann::json> CohortUsers(const PartnerAuth& auth, const nlohmann::json& body);

  // Segments.
  Result<nlohmann::json> CreateSegment(int64_t workspace_id, const nlohmann::json& body);
  Result<nlohmann::json> ListSegments(int64_t workspace_id, int64_t page);
  Result<nlohmann::json> SegmentDetails(int64_t workspace_id, const std::string& segment_id);
  // How many profiles `filter` (a segment's filter, as CreateSegment takes it) selects now: the
  // console's live size, by the same evaluator as the segments themselves.
  Result<uint64_t> FilterSize(int64_t workspace_id, const nlohmann::json& filter);

  // Campaigns (campaigns.cc): Braze's shapes for list and details; create is ours.
  Result<nlohmann::json> CreateCampaign(int64_t workspace_id, const nlohmann::json& body);
  Result<nlohmann::json> ListCampaigns(int64_t workspace_id, int64_t page, bool newest_first);
  Result<nlohmann::json> CampaignDetails(int64_t workspace_id, const std::string& campaign_id);
  // POST /campaigns/trigger/send: decides one outcome per recipient, durably, then delivers the
  // `sent` ones through the workspace's adapter. Retried with the same send_id, it continues the
  // same dispatch and decides only the recipients that have no record yet (docs/engage.md).
  Result<nlohmann::json> TriggerSend(int64_t workspace_id, const nlohmann::json& body);

 private:
  Engage(std::unique_ptr<Storage> storage, const Clock& clock, CohortIndexOptions cohort_options)
      : storage_(std::move(storage)), clock_(clock), cohorts_(cohort_options) {}

  // Runs `body` atomically and durably: the changes it makes and the cohort `deltas` it fills
  // are committed together, or not at all (then its error is returned). Bodies run one at a
  // time, so bitmaps change in commit order; concurrent calls share one commit.
  Status Write(const std::function<Status(Transaction&, std::vector<CohortDelta>&)>& body);
  struct PendingWrite {
    const std::function<Status(Transaction&, std::vector<CohortDelta>&)>* body;
    Status status;
    bool done = false;
  };
  void RunBatch(const std::vector<PendingWrite*>& batch);
  // Adds to `deltas` the removal of `index` from every cohort that holds it; call it for every
  // profile deleted or merged away, inside Write().
  void RemoveFromCohorts(ProfileIndex index, std::vector<CohortDelta>& deltas);
  // At start: removes from every cohort the members that no longer exist and the queued
  // evictions, persisting the change in `txn`.
  Status RepairCohorts(Transaction& txn);
  // Cohort changes resolved to profiles: who should end up in, who out, and how many
  // identifiers matched no eligible profile.
  struct Resolution {
    Roaring want_in;
    Roaring want_out;
    uint64_t unmatched = 0;
  };
  static Result<Resolution> Resolve(Transaction& txn, int64_t workspace_id, const std::vector<CohortChange>& changes);
  // The members of the workspace's segment now, or an error naming what cannot be evaluated.
  Result<Roaring> SegmentMembers(Transaction& txn, int64_t workspace_id, const std::string& segment_id);
  // Delivers the pending messages of context.send.dispatch_pk through `adapter`, a few at a time;
  // `context` carries the campaign and dispatch fields of the messages.
  Status DeliverPending(const SendFeedRow& context, const std::string& trigger_properties_json,
                        DeliveryAdapter& adapter);
  Result<nlohmann::json> ExportUser(Transaction& txn, const Profile& p, const std::vector<std::string>& fields);

  // Reloads the cached bitmaps when another server on a shared store wrote cohorts since they
  // were loaded (Transaction::CohortsVersion). Readers sync only to newer versions and never
  // while a write batch runs (the batch syncs first, under cohort_sync_mu_).
  Status SyncCohorts(Transaction& txn);
  // Reads again the cohorts whose version in the store differs from the one cached (every
  // cohort when cohorts_version_ is -1) and records the store's versions, `version` their sum.
  Status CatchUpCohorts(Transaction& txn, int64_t version);

  std::unique_ptr<Storage> storage_;
  const Clock& clock_;
  CohortIndex cohorts_;
  std::recursive_mutex cohort_sync_mu_;  // held by RunBatch; guards cohorts_version_
  int64_t cohorts_version_ = 0;                            // -1: unknown, read every cohort again
  std::unordered_map<int64_t, int64_t> cohort_versions_;  // per cohort, as cached; guarded like it
  std::mutex queue_mu_;  // guards the three below
  std::condition_variable queue_cv_;
  std::vector<PendingWrite*> queue_;
  bool leader_busy_ = false;
  // Bumped by every profile removal inside Write(), and once more after the batch that holds
  // removals has committed: an import whose reading of it is unchanged resolved against a
  // snapshot that no removal has invalidated.
  std::atomic<uint64_t> profile_removals_{0};
  bool batch_removed_profiles_ = false;  // only the batch leader touches it
};

}  // namespace cf::engage
