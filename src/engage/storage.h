// Where engage keeps its state. Handlers and the identity rules talk only to these two
// interfaces, so a PostgreSQL implementation is one more pair of classes (see
// sqlite_storage.h for the embedded one).
//
// Every read and write happens inside a Transaction; nothing is visible to others or durable
// before Commit() returns OK, and a Transaction destroyed without Commit() rolls back.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "engage/keys.h"
#include "http/session.h"

namespace cf::engage {

// A profile's dense index is its primary key: cohort bitmaps are sets of these.
using ProfileIndex = uint32_t;

struct Profile {
  ProfileIndex index = 0;
  int64_t workspace_id = 0;
  std::string braze_id;
  std::optional<std::string> external_id;
  bool created_anonymous = false;  // remembered after the profile becomes identified
  int64_t created_at = 0;
};

struct Alias {
  std::string label;
  std::string name;
};

struct ApiKeyRecord {
  StoredKey key;
  int64_t workspace_id = 0;
  std::string name;
  std::string permissions;  // comma-separated, or "all"
  int64_t created_at = 0;
};

struct PartnerRecord {
  int64_t id = 0;
  std::string name;          // path segment, e.g. "tinyclues"
  std::string display_name;  // shown in the segment builder, e.g. "Tinyclues"
  StoredKey api_key;         // the partner_api_key
  int64_t created_at = 0;
};

struct DataImportKeyRecord {
  StoredKey key;
  int64_t workspace_id = 0;
  int64_t partner_id = 0;
  int64_t created_at = 0;
};

struct CohortRecord {
  int64_t pk = 0;  // internal
  int64_t workspace_id = 0;
  int64_t partner_id = 0;
  std::string cohort_id;  // the partner's id
  std::string name;
  int64_t created_at = 0;
};

// A cohort's persisted bitmap: a snapshot plus the deltas written since, oldest first.
// Each blob is a portable serialized Roaring bitmap.
struct CohortBitmapRecord {
  int64_t cohort_pk = 0;
  std::string snapshot;                                     // empty: no snapshot yet
  std::vector<std::pair<std::string, std::string>> deltas;  // (added, removed)
};

// The records of a LoadCohortBitmaps as its rows come (snapshots, then deltas in order), one
// per cohort in the order first seen.
class CohortBitmapRecords {
 public:
  CohortBitmapRecord& Of(int64_t cohort_pk) {
    auto [it, fresh] = where_.emplace(cohort_pk, records_.size());
    if (fresh) records_.push_back(CohortBitmapRecord{cohort_pk, {}, {}});
    return records_[it->second];
  }
  std::vector<CohortBitmapRecord> Take() { return std::move(records_); }

 private:
  std::vector<CohortBitmapRecord> records_;
  std::unordered_map<int64_t, size_t> where_;
};

struct PurchaseRecord {
  std::string product_id;
  std::string currency;
  double price = 0;
  int64_t quantity = 1;
  int64_t time = 0;
  std::string properties_json;  // "" when absent
};

struct SegmentRecord {
  int64_t workspace_id = 0;
  std::string segment_id;
  std::string name;
  std::string filter_json;
  int64_t created_at = 0;
};

struct RateLimitRecord {
  int64_t limit = 0;
  int64_t window_seconds = 0;
};

struct CampaignRecord {
  int64_t pk = 0;  // internal
  int64_t workspace_id = 0;
  std::string campaign_id;  // public, random
  std::string name;         // unique in the workspace: audience matches sends to plan campaigns by name
  std::string segment_id;
  std::string channel;       // email, push or sms
  double control_share = 0;  // in [0, 1)
  int64_t created_at = 0;
};

// The workspace's global frequency cap of one channel: at most `max_messages` sent messages per
// user in the rolling last `days` days.
struct FrequencyCapRecord {
  std::string channel;
  int64_t max_messages = 0;
  int64_t days = 0;
};

// How the workspace's messages leave engage (see delivery.h).
struct DeliveryRecord {
  std::string adapter = "store";     // store or webhook
  std::string url;                   // webhook: where each message is POSTed
  int64_t max_attempts = 5;          // webhook: tries per message before it is recorded failed
  int64_t initial_backoff_ms = 200;  // webhook: the first retry waits up to this, doubling each time
  int64_t timeout_ms = 10000;        // webhook: one attempt, connection included
};

struct DispatchRecord {
  int64_t pk = 0;  // internal
  int64_t campaign_pk = 0;
  std::string dispatch_id;              // public, random
  std::optional<std::string> send_id;   // the client's, when it gave one
  std::string trigger_properties_json;  // the request's, "{}" when absent
  int64_t created_at = 0;
};

// What a send record needs of a profile, read in bulk at send time.
struct RecipientInfo {
  ProfileIndex index = 0;
  std::string braze_id;
  std::optional<std::string> external_id;
  std::optional<std::string> device_id;  // the profile's first device
  std::string aliases_json;              // [{"alias_label": ..., "alias_name": ...}]
  std::string subscription;              // the channel's subscription attribute ("" when absent)
};

// Where a `sent` message is in its delivery: decided and handed over (done), decided and not yet
// attempted (pending), or being attempted (a crash leaves these uncertain).
enum class DeliveryState : int { kDone = 0, kPending = 1, kAttempting = 2 };

// One user's outcome in one dispatch; at most one per (dispatch, profile).
struct SendRecord {
  int64_t pk = 0;  // internal; its order is send order
  int64_t dispatch_pk = 0;
  int64_t campaign_pk = 0;
  ProfileIndex profile = 0;
  // The user's identifiers when the message was decided: the profile may change or go later.
  std::string braze_id;
  std::optional<std::string> external_id;
  std::optional<std::string> device_id;
  std::string aliases_json = "[]";
  std::string channel;
  int64_t time = 0;
  std::string outcome;                  // sent, control, capped, not_opted_in or failed
  std::string reason;                   // why it failed, "" otherwise
  std::string trigger_properties_json;  // the recipient's own, "" when none
  DeliveryState delivery = DeliveryState::kDone;
};

// A person who signs in to the console: only a salted PBKDF2 hash of the password is kept
// (dashboard_users.h).
struct DashboardUserRecord {
  std::string email;      // lower-cased, unique across the database
  std::string workspace;  // the workspace the console shows them
  std::string salt;       // hex
  std::string hash;       // hex
  int64_t iterations = 0;
  int64_t created_at = 0;
};

// An admin action or sign-in, as the security log keeps it (engage/security_log.h): never a
// key or a password, only what names them (a key's public id, a partner, an email).
struct SecurityEventRecord {
  int64_t id = 0;           // ascending in the order they were recorded
  int64_t time = 0;         // epoch seconds
  std::string workspace;    // "" for what concerns the whole database (a partner)
  std::string event;        // e.g. "api_key.created"
  std::string actor;        // "cli:<login>", "console:<email>"; the email tried for a failed sign-in
  std::string remote_addr;  // the client's address for a console request; "" for a command
  std::string detail_json;  // a JSON object: key_id, name, permissions, partner, email, ...
};

// A send record with what the sends feed tells of its campaign and dispatch.
struct SendFeedRow {
  SendRecord send;
  std::string campaign_id;
  std::string campaign_name;
  std::string dispatch_id;
  std::optional<std::string> send_id;
};

class Transaction {
 public:
  virtual ~Transaction() = default;
  virtual Status Commit() = 0;
  // One level of savepoint, so that one of several requests sharing a transaction can be
  // undone alone: Savepoint(), then ReleaseSavepoint() to keep or RollbackToSavepoint() to undo.
  virtual Status Savepoint() = 0;
  virtual Status ReleaseSavepoint() = 0;
  virtual Status RollbackToSavepoint() = 0;

  // Workspaces.
  virtual Result<std::optional<int64_t>> FindWorkspace(const std::string& name) = 0;
  virtual Result<int64_t> CreateWorkspace(const std::string& name, int64_t now) = 0;

  // Keys.
  virtual Status InsertApiKey(const ApiKeyRecord& record) = 0;
  virtual Result<std::optional<ApiKeyRecord>> FindApiKey(const std::string& key_id) = 0;
  virtual Result<std::vector<ApiKeyRecord>> ListApiKeys(int64_t workspace_id) = 0;
  // False when no key has this id.
  virtual Result<bool> DeleteApiKey(const std::string& key_id) = 0;
  virtual Result<int64_t> InsertPartner(const PartnerRecord& record) = 0;
  virtual Result<std::optional<PartnerRecord>> FindPartner(const std::string& name) = 0;
  virtual Result<std::optional<PartnerRecord>> FindPartnerByKeyId(const std::string& key_id) = 0;
  virtual Result<std::vector<PartnerRecord>> ListPartners() = 0;
  // Replaces the partner's partner_api_key: the previous one stops working.
  virtual Status SetPartnerApiKey(int64_t partner_id, const StoredKey& key) = 0;
  // Replaces the workspace's key for the partner; nullopt deletes it.
  virtual Status SetDataImportKey(int64_t workspace_id, int64_t partner_id,
                                  const std::optional<DataImportKeyRecord>& record) = 0;
  virtual Result<std::optional<DataImportKeyRecord>> FindDataImportKey(const std::string& key_id) = 0;
  virtual Result<std::optional<DataImportKeyRecord>> FindDataImportKeyOf(int64_t workspace_id, int64_t partner_id) = 0;

  // Rate limits overriding the built-in defaults; endpoint "*" applies to all of a workspace.
  virtual Status SetRateLimit(int64_t workspace_id, const std::string& endpoint, const RateLimitRecord& r) = 0;
  virtual Result<std::optional<RateLimitRecord>> FindRateLimit(int64_t workspace_id, const std::string& endpoint) = 0;

  // Profiles and identifiers.
  virtual Result<Profile> InsertProfile(int64_t workspace_id, const std::optional<std::string>& external_id,
                                        int64_t now) = 0;
  virtual Result<std::optional<Profile>> FindProfile(ProfileIndex index) = 0;
  virtual Result<std::optional<Profile>> FindByExternalId(int64_t workspace_id, const std::string& external_id) = 0;
  virtual Result<std::optional<Profile>> FindByBrazeId(int64_t workspace_id, const std::string& braze_id) = 0;
  virtual Result<std::optional<Profile>> FindByAlias(int64_t workspace_id, const Alias& alias) = 0;
  virtual Result<std::optional<Profile>> FindByDevice(int64_t workspace_id, const std::string& device_id) = 0;
  // Bulk lookups for cohort import: for identifier i, the matching profile's index and whether
  // it is identified, or nullopt.
  struct Match {
    ProfileIndex index = 0;
    bool identified = false;
  };
  virtual Result<std::vector<std::optional<Match>>> MatchExternalIds(int64_t workspace_id,
                                                                     const std::vector<std::string>& ids) = 0;
  virtual Result<std::vector<std::optional<Match>>> MatchDevices(int64_t workspace_id,
                                                                 const std::vector<std::string>& ids) = 0;
  virtual Result<std::vector<std::optional<Match>>> MatchAliases(int64_t workspace_id,
                                                                 const std::vector<Alias>& aliases) = 0;
  virtual Status SetExternalId(ProfileIndex index, const std::string& external_id) = 0;
  virtual Status AddAlias(int64_t workspace_id, ProfileIndex index, const Alias& alias) = 0;
  virtual Result<std::vector<Alias>> Aliases(ProfileIndex index) = 0;
  // Adds the device to the profile, moving it from another profile if it had one.
  virtual Status SetDevice(int64_t workspace_id, ProfileIndex index, const std::string& device_id) = 0;
  virtual Result<std::vector<std::string>> Devices(ProfileIndex index) = 0;
  virtual Status SetAttribute(ProfileIndex index, const std::string& name, const std::string& value_json) = 0;
  virtual Status RemoveAttribute(ProfileIndex index, const std::string& name) = 0;
  virtual Result<std::vector<std::pair<std::string, std::string>>> Attributes(ProfileIndex index) = 0;
  virtual Status InsertEvent(ProfileIndex index, const std::string& name, int64_t time,
                             const std::string& properties_json) = 0;
  virtual Status InsertPurchase(ProfileIndex index, const PurchaseRecord& purchase) = 0;
  // Moves aliases, devices, events and purchases of `from` to `to`, copies the attributes
  // `to` lacks, then deletes `from`.
  virtual Status MergeProfileInto(ProfileIndex from, ProfileIndex to) = 0;
  virtual Status DeleteProfile(ProfileIndex index) = 0;
  // Profiles that must leave every cohort although they still exist (an anonymous profile
  // orphaned when its last device moved away): queued here by whoever orphans them, even
  // another process, and taken (read and deleted) by the server, which holds the bitmaps.
  virtual Status QueueCohortEviction(ProfileIndex index) = 0;
  virtual Result<std::vector<ProfileIndex>> TakeCohortEvictions() = 0;

  // Dashboard users. InsertDashboardUser fails with AlreadyExists when the email is taken;
  // DeleteDashboardUser returns false when no user has the email.
  virtual Status InsertDashboardUser(const DashboardUserRecord& record) = 0;
  virtual Result<std::optional<DashboardUserRecord>> FindDashboardUser(const std::string& email) = 0;
  virtual Result<std::vector<DashboardUserRecord>> ListDashboardUsers() = 0;
  virtual Result<bool> DeleteDashboardUser(const std::string& email) = 0;

  // Segment filter inputs.
  virtual Result<std::vector<ProfileIndex>> AllProfiles(int64_t workspace_id) = 0;
  // Calls `visit(index, value_json)` for every profile of the workspace with the attribute.
  virtual Status ScanAttribute(int64_t workspace_id, const std::string& name,
                               const std::function<void(ProfileIndex, const std::string&)>& visit) = 0;
  // Profiles with a purchase of `product_id` at or after `since` (epoch seconds).
  virtual Result<std::vector<ProfileIndex>> PurchasersOf(int64_t workspace_id, const std::string& product_id,
                                                         int64_t since) = 0;

  // Cohorts.
  virtual Result<std::optional<CohortRecord>> FindCohort(int64_t workspace_id, int64_t partner_id,
                                                         const std::string& cohort_id) = 0;
  virtual Result<std::vector<CohortRecord>> FindCohortsByName(int64_t workspace_id, int64_t partner_id,
                                                              const std::string& name) = 0;
  virtual Result<std::vector<CohortRecord>> ListCohorts() = 0;
  // Creates the cohort or renames it; returns the stored record.
  virtual Result<CohortRecord> UpsertCohort(const CohortRecord& record) = 0;
  virtual Status AppendCohortDelta(int64_t cohort_pk, const std::string& added, const std::string& removed) = 0;
  // Replaces the cohort's snapshot and drops its deltas.
  virtual Status WriteCohortSnapshot(int64_t cohort_pk, const std::string& snapshot) = 0;
  virtual Result<std::vector<CohortBitmapRecord>> LoadCohortBitmaps() = 0;
  // The records of `cohort_pks` only (a cohort without any has none).
  virtual Result<std::vector<CohortBitmapRecord>> LoadCohortBitmapsOf(const std::vector<int64_t>& cohort_pks) {
    CF_ASSIGN_OR_RETURN(std::vector<CohortBitmapRecord> all, LoadCohortBitmaps());
    std::erase_if(all, [&](const CohortBitmapRecord& r) {
      return std::find(cohort_pks.begin(), cohort_pks.end(), r.cohort_pk) == cohort_pks.end();
    });
    return all;
  }
  // A number that grows with every cohort bitmap write of any process on a shared store
  // (PostgreSQL), so that a server's cached bitmaps can tell they are stale; 0 for a store with
  // one serving process (SQLite). It is the sum of CohortVersions().
  virtual Result<int64_t> CohortsVersion() { return int64_t{0}; }
  // Per cohort, the number of writes of its bitmap (a shared store; empty for SQLite): which
  // cached bitmaps are stale once CohortsVersion() says some are.
  virtual Result<std::unordered_map<int64_t, int64_t>> CohortVersions() {
    return std::unordered_map<int64_t, int64_t>();
  }

  // Segments.
  virtual Status InsertSegment(const SegmentRecord& record) = 0;
  virtual Result<std::optional<SegmentRecord>> FindSegment(int64_t workspace_id, const std::string& segment_id) = 0;
  virtual Result<std::vector<SegmentRecord>> ListSegments(int64_t workspace_id) = 0;

  // Campaigns. InsertCampaign returns the internal key.
  virtual Result<int64_t> InsertCampaign(const CampaignRecord& record) = 0;
  virtual Result<std::optional<CampaignRecord>> FindCampaign(int64_t workspace_id, const std::string& campaign_id) = 0;
  virtual Result<std::optional<CampaignRecord>> FindCampaignByName(int64_t workspace_id, const std::string& name) = 0;
  // Oldest first.
  virtual Result<std::vector<CampaignRecord>> ListCampaigns(int64_t workspace_id) = 0;
  // The earliest and latest time of the campaign's sent messages, if any.
  virtual Result<std::optional<std::pair<int64_t, int64_t>>> SentTimes(int64_t campaign_pk) = 0;

  // Global frequency caps and the delivery adapter of a workspace.
  virtual Status SetFrequencyCap(int64_t workspace_id, const FrequencyCapRecord& record) = 0;
  // False when the channel had no cap.
  virtual Result<bool> RemoveFrequencyCap(int64_t workspace_id, const std::string& channel) = 0;
  virtual Result<std::vector<FrequencyCapRecord>> ListFrequencyCaps(int64_t workspace_id) = 0;
  virtual Status SetDelivery(int64_t workspace_id, const DeliveryRecord& record) = 0;
  virtual Result<std::optional<DeliveryRecord>> FindDelivery(int64_t workspace_id) = 0;

  // Dispatches: one per trigger request, or per (campaign, send_id) when a send_id is given.
  virtual Result<std::optional<DispatchRecord>> FindDispatch(int64_t campaign_pk, const std::string& send_id) = 0;
  virtual Result<int64_t> InsertDispatch(const DispatchRecord& record) = 0;

  // Sends. Bulk reads for a batch of recipients: the profiles' identifiers and the value of
  // `subscription_attribute`; how many `sent` messages of `channel` each had at or after `since`
  // (profiles with none are left out); which already have a record in the dispatch.
  virtual Result<std::vector<RecipientInfo>> RecipientInfos(int64_t workspace_id, const std::vector<ProfileIndex>& ids,
                                                            const std::string& subscription_attribute) = 0;
  virtual Result<std::vector<std::pair<ProfileIndex, int64_t>>> SentCounts(const std::vector<ProfileIndex>& ids,
                                                                           const std::string& channel,
                                                                           int64_t since) = 0;
  virtual Result<std::vector<ProfileIndex>> DecidedProfiles(int64_t dispatch_pk,
                                                            const std::vector<ProfileIndex>& ids) = 0;
  virtual Status InsertSend(const SendRecord& record) = 0;
  // Marks up to `limit` pending messages of the dispatch as being attempted and returns them.
  virtual Result<std::vector<SendRecord>> ClaimPending(int64_t dispatch_pk, size_t limit) = 0;
  // Records the end of a delivery: outcome `sent` or `failed` (with the reason).
  virtual Status FinishDelivery(int64_t send_pk, const std::string& outcome, const std::string& reason) = 0;
  // Messages being attempted when the process stopped: recorded failed with `reason`; how many.
  virtual Result<int64_t> FailInFlight(const std::string& reason) = 0;
  // Records per outcome in the dispatch; a pending message counts as `pending`.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> DispatchOutcomes(int64_t dispatch_pk) = 0;
  // Calls `visit` for every decided record of the workspace (of one campaign when campaign_pk is
  // set) with time >= since, in send order; pending and in-flight messages are not decided yet.
  virtual Status ScanSends(int64_t workspace_id, std::optional<int64_t> campaign_pk, int64_t since,
                           const std::function<Status(const SendFeedRow&)>& visit) = 0;

  // The security event log. Events are appended in the transaction of the change they record.
  virtual Status AppendSecurityEvent(const SecurityEventRecord& record) = 0;
  // Up to `limit` events with id > after_id, oldest first.
  virtual Result<std::vector<SecurityEventRecord>> ListSecurityEvents(int64_t after_id, size_t limit) = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;
  // A write transaction holds the store's single write lock from Begin to Commit/rollback.
  virtual Result<std::unique_ptr<Transaction>> Begin(bool write) = 0;
  // Request counting shared by every server on the store (PostgreSQL): counts one request
  // against `key` in the fixed window starting at `window_start` unless `limit` is reached,
  // and returns the count after it (limit + 1: refused, also when a later window of `key` has
  // begun: windows only move forward). nullopt: count in the process (SQLite).
  virtual Result<std::optional<int64_t>> CountRequest(const std::string& key, int64_t window_start, int64_t limit) {
    (void)key;
    (void)window_start;
    (void)limit;
    return std::optional<int64_t>();
  }
  // The console's sessions and failed sign-ins where every server on the store sees them
  // (PostgreSQL: tables console_sessions, sign_in_failures); empty: kept in the process
  // (SQLite, whose store one server holds).
  virtual http::SignInState SharedSignInState(const Clock& clock, const http::SignInOptions& options) {
    (void)clock;
    (void)options;
    return {};
  }
};

}  // namespace cf::engage
