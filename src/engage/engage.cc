#include "engage/engage.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "base/files.h"
#include "base/log.h"
#include "base/strings.h"
#include "engage/sqlite_storage.h"

namespace cf::engage {

const std::vector<std::string>& KnownPermissions() {
  static const std::vector<std::string> kAll = {
      "users.track",    "users.identify",    "users.alias.new",        "users.delete",   "users.export.ids",
      "segments.list",  "segments.details",  "segments.create",        "sdk.session",    "campaigns.create",
      "campaigns.list", "campaigns.details", "campaigns.trigger.send", "campaigns.sends"};
  return kAll;
}

Status CreateDataDirectory(const std::string& dir) {
  if (::access(dir.c_str(), F_OK) == 0) return Status::OK();
  const std::string parent = std::filesystem::path(dir).parent_path().string();
  if (!parent.empty()) CF_RETURN_IF_ERROR(CreateDirectories(parent));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::IOError("cannot create the data directory " + dir + ": " + std::strerror(errno));
  }
  return Status::OK();
}

namespace {

// What Transaction::CohortsVersion returns for these per-cohort versions.
int64_t SumOfVersions(const std::unordered_map<int64_t, int64_t>& versions) {
  int64_t sum = 0;
  for (const auto& [pk, v] : versions) sum += v;
  return sum;
}

}  // namespace

Result<std::unique_ptr<Engage>> Engage::Open(const EngageOptions& options, const Clock& clock) {
  CF_RETURN_IF_ERROR(CreateDataDirectory(options.data_dir));
  SqliteStorageOptions so;
  so.path = options.data_dir + "/engage.db";
  so.synchronous_full = options.synchronous_full;
  CF_ASSIGN_OR_RETURN(auto storage, OpenSqliteStorage(so));
  CohortIndexOptions co;
  co.deltas_per_snapshot = options.deltas_per_snapshot;
  return Open(std::move(storage), clock, co);
}

Result<std::unique_ptr<Engage>> Engage::Open(std::unique_ptr<Storage> storage, const Clock& clock,
                                             CohortIndexOptions cohort_options) {
  auto engage = std::unique_ptr<Engage>(new Engage(std::move(storage), clock, cohort_options));
  {
    CF_ASSIGN_OR_RETURN(auto txn, engage->storage_->Begin(true));
    CF_ASSIGN_OR_RETURN(auto ws, txn->FindWorkspace(kDefaultWorkspace));
    if (!ws) {
      CF_ASSIGN_OR_RETURN(int64_t created, txn->CreateWorkspace(kDefaultWorkspace, clock.NowSeconds()));
      (void)created;
    }
    CF_RETURN_IF_ERROR(engage->cohorts_.Load(*txn));
    CF_RETURN_IF_ERROR(engage->RepairCohorts(*txn));
    CF_ASSIGN_OR_RETURN(engage->cohort_versions_, txn->CohortVersions());
    engage->cohorts_version_ = SumOfVersions(engage->cohort_versions_);
    // Webhook messages being attempted when the last process stopped may or may not have reached
    // the receiver: recorded failed, never re-sent (at most once per dispatch, docs/engage.md).
    CF_ASSIGN_OR_RETURN(int64_t uncertain,
                        txn->FailInFlight("delivery uncertain: the message was being sent when engage stopped; it is "
                                          "not re-sent so that no user gets it twice"));
    if (uncertain > 0)
      CF_LOG_WARN("{} webhook messages were in flight when engage stopped: recorded failed", uncertain);
    CF_RETURN_IF_ERROR(txn->Commit());
  }
  return engage;
}

Status Engage::RepairCohorts(Transaction& txn) {
  // Stores written before imports re-resolved after every committed delete can hold deleted
  // profiles (or profiles of another workspace); queued evictions are applied as well.
  CF_ASSIGN_OR_RETURN(auto cohorts, txn.ListCohorts());
  CF_ASSIGN_OR_RETURN(auto evicted, txn.TakeCohortEvictions());
  const Roaring evict(evicted.size(), evicted.data());
  std::unordered_map<int64_t, Roaring> profiles_of;  // workspace -> its profiles
  for (const CohortRecord& c : cohorts) {
    const Roaring members = cohorts_.Members(c.pk);
    if (members.isEmpty()) continue;
    auto it = profiles_of.find(c.workspace_id);
    if (it == profiles_of.end()) {
      CF_ASSIGN_OR_RETURN(auto all, txn.AllProfiles(c.workspace_id));
      it = profiles_of.emplace(c.workspace_id, Roaring(all.size(), all.data())).first;
    }
    CohortDelta d;
    d.cohort_pk = c.pk;
    d.removed = (members - it->second) | (members & evict);
    if (d.removed.isEmpty()) continue;
    CF_LOG_WARN("cohort {}: removing {} members that are deleted or orphaned", c.cohort_id, d.removed.cardinality());
    CF_RETURN_IF_ERROR(cohorts_.Persist(txn, d));
    cohorts_.Apply(d);
  }
  return Status::OK();
}

Result<int64_t> Engage::AuthenticateApiKey(const std::string& authorization, const std::string& permission) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.empty()) {
    return Err(Status::Unauthenticated("Missing Authorization header: expected 'Bearer <REST API key>'"));
  }
  // The scheme is case-insensitive (RFC 9110): some HTTP libraries send "bearer".
  if (!StartsWith(ToLower(authorization.substr(0, kBearer.size())), "bearer ")) {
    return Err(Status::Unauthenticated("Invalid Authorization header: expected 'Bearer <REST API key>'"));
  }
  std::string key(Trim(std::string_view(authorization).substr(kBearer.size())));
  auto key_id = KeyIdOf(key);
  // The presented key is never echoed: answers and the logs that keep them are no place for it.
  const Status invalid = Status::Unauthenticated("Invalid API key: no REST API key of this server matches it");
  if (!key_id) return Err(invalid);
  CF_ASSIGN_OR_RETURN(auto txn, storage_->Begin(false));
  CF_ASSIGN_OR_RETURN(auto record, txn->FindApiKey(*key_id));
  if (!record || !VerifyKey(key, record->key)) return Err(invalid);
  bool allowed = false;
  for (auto p : Split(record->permissions, ',')) {
    if (Trim(p) == "all" || Trim(p) == permission) allowed = true;
  }
  if (!allowed) {
    return Err(Status::PermissionDenied("Access Denied: this API key lacks the permission " + Quote(permission)));
  }
  return record->workspace_id;
}

Result<PartnerAuth> Engage::AuthenticatePartner(const std::string& partner_name, const nlohmann::json& body) {
  const Status invalid_partner = Status::Unauthenticated("Invalid Partner API key");
  const Status invalid_secret = Status::Unauthenticated("Invalid client secret");
  if (!body.is_object()) return Err(invalid_partner);
  auto pk = body.find("partner_api_key");
  if (pk == body.end() || !pk->is_string()) return Err(invalid_partner);
  const std::string partner_key = pk->get<std::string>();
  CF_ASSIGN_OR_RETURN(auto txn, storage_->Begin(false));
  auto partner_key_id = KeyIdOf(partner_key);
  if (!partner_key_id) return Err(invalid_partner);
  CF_ASSIGN_OR_RETURN(auto partner, txn->FindPartnerByKeyId(*partner_key_id));
  // A valid key of another partner is as wrong as an unknown one on this partner's path.
  if (!partner || !VerifyKey(partner_key, partner->api_key) || partner->name != partner_name) {
    return Err(invalid_partner);
  }
  auto cs = body.find("client_secret");
  if (cs == body.end() || !cs->is_string()) return Err(invalid_secret);
  const std::string secret = cs->get<std::string>();
  auto secret_id = KeyIdOf(secret);
  if (!secret_id) return Err(invalid_secret);
  CF_ASSIGN_OR_RETURN(auto import_key, txn->FindDataImportKey(*secret_id));
  if (!import_key || !VerifyKey(secret, import_key->key)) return Err(invalid_secret);
  if (import_key->partner_id != partner->id) {
    // Braze appends the secret; it is not echoed here (see docs/engage.md).
    return Err(Status::Unauthenticated("Partner not enabled for client with client secret"));
  }
  return PartnerAuth{import_key->workspace_id, std::move(*partner)};
}

Result<std::optional<RateLimitRecord>> Engage::RateLimitFor(int64_t workspace_id, const std::string& endpoint) {
  CF_ASSIGN_OR_RETURN(auto txn, storage_->Begin(false));
  return txn->FindRateLimit(workspace_id, endpoint);
}

Status Engage::Write(const std::function<Status(Transaction&, std::vector<CohortDelta>&)>& body) {
  // Group commit: writers queue up; one of them (the leader) runs every queued body in one
  // transaction, each inside its own savepoint, and commits once for all. With synchronous=FULL
  // this turns N fsyncs into one when N clients write at the same time.
  PendingWrite me{&body, Status::OK(), false};
  std::unique_lock<std::mutex> lock(queue_mu_);
  queue_.push_back(&me);
  queue_cv_.wait(lock, [&] { return me.done || !leader_busy_; });
  if (me.done) return me.status;
  leader_busy_ = true;
  std::vector<PendingWrite*> batch;
  batch.swap(queue_);
  lock.unlock();
  // Whatever happens in the batch, the leader must hand over: a throw that skipped the code
  // below would leave leader_busy_ set and hang every later write.
  try {
    RunBatch(batch);
  } catch (const std::exception& e) {
    for (PendingWrite* w : batch) w->status = Status::Internal(std::string("write failed: ") + e.what());
  }
  // The second bump of RemoveFromCohorts' protocol: the batch's removals are now committed (or
  // undone), so a resolution whose snapshot predates them can no longer pass for current.
  if (batch_removed_profiles_) {
    batch_removed_profiles_ = false;
    ++profile_removals_;
  }
  lock.lock();
  for (PendingWrite* w : batch) w->done = true;
  leader_busy_ = false;
  lock.unlock();
  queue_cv_.notify_all();
  return me.status;
}

namespace {

// One delta per cohort, so a snapshot written by Persist includes all of a body's changes.
std::vector<CohortDelta> Coalesce(std::vector<CohortDelta> changes) {
  std::vector<CohortDelta> deltas;
  for (auto& c : changes) {
    auto same =
        std::find_if(deltas.begin(), deltas.end(), [&](const CohortDelta& d) { return d.cohort_pk == c.cohort_pk; });
    if (same == deltas.end()) {
      deltas.push_back(std::move(c));
      continue;
    }
    same->added -= c.removed;
    same->added |= c.added;
    same->removed -= c.added;
    same->removed |= c.removed;
  }
  return deltas;
}

}  // namespace

Status Engage::SyncCohorts(Transaction& txn) {
  std::unique_lock<std::recursive_mutex> lock(cohort_sync_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return Status::OK();
  CF_ASSIGN_OR_RETURN(int64_t version, txn.CohortsVersion());
  if (version <= cohorts_version_) return Status::OK();
  return CatchUpCohorts(txn, version);
}

Status Engage::CatchUpCohorts(Transaction& txn, int64_t version) {
  CF_ASSIGN_OR_RETURN(auto versions, txn.CohortVersions());
  if (cohorts_version_ < 0) {
    CF_RETURN_IF_ERROR(cohorts_.Load(txn));  // after a failed commit nothing cached is known good
  } else {
    std::vector<int64_t> changed;
    for (const auto& [pk, v] : versions) {
      auto it = cohort_versions_.find(pk);
      if (it == cohort_versions_.end() || it->second != v) changed.push_back(pk);
    }
    for (const auto& [pk, v] : cohort_versions_) {
      if (!versions.contains(pk)) changed.push_back(pk);
    }
    CF_RETURN_IF_ERROR(cohorts_.Reload(txn, changed));
    CF_LOG_DEBUG("cohorts written by another server: {} of {} read again", changed.size(), versions.size());
  }
  cohort_versions_ = std::move(versions);
  cohorts_version_ = version;
  return Status::OK();
}

void Engage::RunBatch(const std::vector<PendingWrite*>& batch) {
  std::lock_guard<std::recursive_mutex> sync_lock(cohort_sync_mu_);
  auto txn = storage_->Begin(true);
  if (!txn.has_value()) {
    for (PendingWrite* w : batch) w->status = txn.error();
    return;
  }
  // Another server may have written cohorts since this one's bitmaps were loaded: under the
  // store's write lock, its writes are all visible here.
  {
    auto version = (*txn)->CohortsVersion();
    Status s = version.has_value() ? Status::OK() : version.error();
    if (s.ok() && *version != cohorts_version_) s = CatchUpCohorts(**txn, *version);
    if (!s.ok()) {
      for (PendingWrite* w : batch) w->status = s;
      return;
    }
  }
  // Bitmaps change as each body succeeds, so the next body of the batch sees them; the state
  // before the batch is kept to undo them if the commit fails.
  std::vector<std::pair<int64_t, CohortIndex::Entry>> before;
  bool any_ok = false;
  for (PendingWrite* w : batch) {
    Status s = (*txn)->Savepoint();
    std::vector<CohortDelta> deltas;
    if (s.ok()) {
      std::vector<CohortDelta> changes;
      s = (*w->body)(**txn, changes);
      if (s.ok()) deltas = Coalesce(std::move(changes));
      for (size_t i = 0; s.ok() && i < deltas.size(); ++i) s = cohorts_.Persist(**txn, deltas[i]);
      Status end = s.ok() ? (*txn)->ReleaseSavepoint() : (*txn)->RollbackToSavepoint();
      if (s.ok()) s = end;
    }
    w->status = s;
    if (!s.ok()) continue;
    any_ok = true;
    for (const auto& d : deltas) {
      bool saved = std::any_of(before.begin(), before.end(), [&](const auto& b) { return b.first == d.cohort_pk; });
      if (!saved) before.emplace_back(d.cohort_pk, cohorts_.Save(d.cohort_pk));
      cohorts_.Apply(d);
    }
  }
  if (!any_ok) return;  // every body failed and was rolled back; the transaction is empty
  // Profiles orphaned by this batch (or by an admin command since the last batch) leave their
  // cohorts in the same commit. A failure here keeps them queued for the next batch.
  if ((*txn)->Savepoint().ok()) {
    std::vector<CohortDelta> deltas;
    Status s = Status::OK();
    auto evicted = (*txn)->TakeCohortEvictions();
    if (!evicted.has_value()) s = evicted.error();
    if (s.ok()) {
      std::vector<CohortDelta> changes;
      for (ProfileIndex index : *evicted) RemoveFromCohorts(index, changes);
      deltas = Coalesce(std::move(changes));
    }
    for (size_t i = 0; s.ok() && i < deltas.size(); ++i) s = cohorts_.Persist(**txn, deltas[i]);
    Status end = s.ok() ? (*txn)->ReleaseSavepoint() : (*txn)->RollbackToSavepoint();
    if (s.ok() && end.ok()) {
      for (const auto& d : deltas) {
        bool saved = std::any_of(before.begin(), before.end(), [&](const auto& b) { return b.first == d.cohort_pk; });
        if (!saved) before.emplace_back(d.cohort_pk, cohorts_.Save(d.cohort_pk));
        cohorts_.Apply(d);
      }
    } else {
      CF_LOG_WARN("applying queued cohort evictions failed (retried with the next write): {}",
                  (s.ok() ? end : s).ToString());
    }
  }
  auto versions_after = (*txn)->CohortVersions();
  Status committed = (*txn)->Commit();
  if (committed.ok()) {
    // -1 when unknown: the next batch reloads every cohort.
    cohorts_version_ = versions_after.has_value() ? SumOfVersions(*versions_after) : -1;
    if (versions_after.has_value()) cohort_versions_ = std::move(*versions_after);
    return;
  }
  cohorts_version_ = -1;
  for (auto& [pk, entry] : before) cohorts_.Restore(pk, std::move(entry));
  for (PendingWrite* w : batch) {
    if (w->status.ok()) w->status = committed;
  }
}

void Engage::RemoveFromCohorts(ProfileIndex index, std::vector<CohortDelta>& deltas) {
  // Bumped now, for later bodies of this batch, and again once the batch has committed (in
  // Write): a cohort import that read the counter while this removal was pending but took its
  // snapshot before the commit would otherwise see an unchanged counter and add the profile back.
  ++profile_removals_;
  batch_removed_profiles_ = true;
  for (int64_t pk : cohorts_.CohortsOf(index)) {
    CohortDelta d;
    d.cohort_pk = pk;
    d.removed.add(index);
    deltas.push_back(std::move(d));
  }
}

}  // namespace cf::engage
