// The Transaction of both SQL backends (sqlite_storage.cc, postgres_storage.cc), written once
// against their statement classes: a change to the SQL of e.g. cohorts is made in one place.
// Internal to engage: only those two files include it.
//
// A Stmt of either backend is one execution of a cached prepared statement, keyed by the SQL
// literal's address: Stmt(connection, sql) with `?` placeholders, Bind(...) chained, BindBlob,
// Step() (true: a row is ready), Run(), ReturnedId() (of an INSERT ... RETURNING id), Changes(),
// and Int/Double/Text/OptText/IsNull(column).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "engage/keys.h"
#include "engage/storage.h"

namespace cf::engage {

// The columns ReadSend reads, in its order.
#define SEND_COLUMNS                                                                                     \
  "id, dispatch_pk, campaign_pk, profile_id, braze_id, external_id, device_id, aliases, channel, time, " \
  "outcome, reason, trigger_properties, delivery"
#define SEND_COLUMNS_X                                                                                    \
  "x.id, x.dispatch_pk, x.campaign_pk, x.profile_id, x.braze_id, x.external_id, x.device_id, x.aliases, " \
  "x.channel, x.time, x.outcome, x.reason, x.trigger_properties, x.delivery"
inline constexpr int kSendColumns = 14;

// The statements whose SQL the backends cannot share: how a JSON array parameter becomes rows
// (key = position from 0, value), and SQLite's planner hints. Each is a string literal, as the
// statement caches are keyed by its address; the parameters are those listed, in order.
struct SqlDialect {
  // (key, profile, identified) of the external ids, a JSON array of strings; then the workspace.
  const char* match_external_ids;
  // (key, profile, identified) of the device ids, a JSON array of strings; then the workspace.
  const char* match_devices;
  // (key, profile, identified) of the aliases, a JSON array of [label, name]; then the workspace.
  const char* match_aliases;
  // RecipientInfos, each of a JSON array of profile indexes. (profile, braze_id, external_id) in
  // the array's order; then the workspace.
  const char* recipient_profiles;
  // (profile, its least device id).
  const char* recipient_devices;
  // (profile, its aliases as [{"alias_label": ..., "alias_name": ...}] by label).
  const char* recipient_aliases;
  // (profile, the attribute's value); then the attribute's name.
  const char* recipient_subscriptions;
  // (profile, count) of the `sent` messages of the profiles (a JSON array); then channel, since.
  const char* sent_counts;
  // The profiles (a JSON array) with a record in the dispatch; then the dispatch.
  const char* decided_profiles;
  // SEND_COLUMNS of the dispatch's pending messages (delivery = 1) in send order; the dispatch,
  // then the limit.
  const char* claim_pending;
  // Every message being attempted (delivery = 2) recorded failed; the reason.
  const char* fail_in_flight;
};

template <class Stmt, class Connection>
class SqlTransaction : public Transaction {
 public:
  Result<std::optional<int64_t>> FindWorkspace(const std::string& name) override {
    Stmt s(*c_, "SELECT id FROM workspaces WHERE name = ?");
    s.Bind(name);
    CF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<int64_t>();
    return std::optional<int64_t>(s.Int(0));
  }
  Result<int64_t> CreateWorkspace(const std::string& name, int64_t now) override {
    Stmt s(*c_, "INSERT INTO workspaces(name, created_at) VALUES (?, ?) RETURNING id");
    s.Bind(name).Bind(now);
    return s.ReturnedId();
  }

  Status InsertApiKey(const ApiKeyRecord& r) override {
    Stmt s(*c_,
           "INSERT INTO api_keys(key_id, salt, hash, workspace_id, name, permissions, created_at) "
           "VALUES (?, ?, ?, ?, ?, ?, ?)");
    s.Bind(r.key.key_id)
        .Bind(r.key.salt)
        .Bind(r.key.hash)
        .Bind(r.workspace_id)
        .Bind(r.name)
        .Bind(r.permissions)
        .Bind(r.created_at);
    return s.Run();
  }
  Result<std::optional<ApiKeyRecord>> FindApiKey(const std::string& key_id) override {
    Stmt s(*c_,
           "SELECT key_id, salt, hash, workspace_id, name, permissions, created_at FROM api_keys "
           "WHERE key_id = ?");
    s.Bind(key_id);
    CF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<ApiKeyRecord>();
    ApiKeyRecord r{{s.Text(0), s.Text(1), s.Text(2)}, s.Int(3), s.Text(4), s.Text(5), s.Int(6)};
    return std::optional<ApiKeyRecord>(std::move(r));
  }

  Result<std::vector<ApiKeyRecord>> ListApiKeys(int64_t workspace_id) override {
    Stmt s(*c_,
           "SELECT key_id, salt, hash, workspace_id, name, permissions, created_at FROM api_keys "
           "WHERE workspace_id = ? ORDER BY created_at, key_id");
    s.Bind(workspace_id);
    std::vector<ApiKeyRecord> out;
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back({{s.Text(0), s.Text(1), s.Text(2)}, s.Int(3), s.Text(4), s.Text(5), s.Int(6)});
    }
    return out;
  }
  Result<bool> DeleteApiKey(const std::string& key_id) override {
    Stmt s(*c_, "DELETE FROM api_keys WHERE key_id = ?");
    s.Bind(key_id);
    CF_RETURN_IF_ERROR(s.Run());
    return s.Changes() > 0;
  }
  Status SetPartnerApiKey(int64_t partner_id, const StoredKey& key) override {
    Stmt s(*c_, "UPDATE partners SET key_id = ?, salt = ?, hash = ? WHERE id = ?");
    s.Bind(key.key_id).Bind(key.salt).Bind(key.hash).Bind(partner_id);
    return s.Run();
  }

  Result<int64_t> InsertPartner(const PartnerRecord& r) override {
    Stmt s(*c_,
           "INSERT INTO partners(name, display_name, key_id, salt, hash, created_at) VALUES (?, ?, ?, ?, ?, ?) "
           "RETURNING id");
    s.Bind(r.name)
        .Bind(r.display_name)
        .Bind(r.api_key.key_id)
        .Bind(r.api_key.salt)
        .Bind(r.api_key.hash)
        .Bind(r.created_at);
    return s.ReturnedId();
  }
  Result<std::optional<PartnerRecord>> FindPartner(const std::string& name) override {
    Stmt s(*c_, "SELECT id, name, display_name, key_id, salt, hash, created_at FROM partners WHERE name = ?");
    s.Bind(name);
    return OnePartner(s);
  }
  Result<std::optional<PartnerRecord>> FindPartnerByKeyId(const std::string& key_id) override {
    Stmt s(*c_, "SELECT id, name, display_name, key_id, salt, hash, created_at FROM partners WHERE key_id = ?");
    s.Bind(key_id);
    return OnePartner(s);
  }
  Result<std::vector<PartnerRecord>> ListPartners() override {
    Stmt s(*c_, "SELECT id, name, display_name, key_id, salt, hash, created_at FROM partners ORDER BY name");
    std::vector<PartnerRecord> out;
    while (true) {
      CF_ASSIGN_OR_RETURN(auto p, OnePartner(s));
      if (!p) break;
      out.push_back(std::move(*p));
    }
    return out;
  }

  Status SetDataImportKey(int64_t workspace_id, int64_t partner_id,
                          const std::optional<DataImportKeyRecord>& r) override {
    {
      Stmt del(*c_, "DELETE FROM data_import_keys WHERE workspace_id = ? AND partner_id = ?");
      del.Bind(workspace_id).Bind(partner_id);
      CF_RETURN_IF_ERROR(del.Run());
    }
    if (!r) return Status::OK();
    Stmt s(*c_,
           "INSERT INTO data_import_keys(workspace_id, partner_id, key_id, salt, hash, created_at) "
           "VALUES (?, ?, ?, ?, ?, ?)");
    s.Bind(workspace_id).Bind(partner_id).Bind(r->key.key_id).Bind(r->key.salt).Bind(r->key.hash).Bind(r->created_at);
    return s.Run();
  }
  Result<std::optional<DataImportKeyRecord>> FindDataImportKey(const std::string& key_id) override {
    Stmt s(*c_,
           "SELECT key_id, salt, hash, workspace_id, partner_id, created_at FROM data_import_keys "
           "WHERE key_id = ?");
    s.Bind(key_id);
    return OneImportKey(s);
  }
  Result<std::optional<DataImportKeyRecord>> FindDataImportKeyOf(int64_t workspace_id, int64_t partner_id) override {
    Stmt s(*c_,
           "SELECT key_id, salt, hash, workspace_id, partner_id, created_at FROM data_import_keys "
           "WHERE workspace_id = ? AND partner_id = ?");
    s.Bind(workspace_id).Bind(partner_id);
    return OneImportKey(s);
  }

  // The upserts name the primary key and set every other column: the one form of SQLite's
  // INSERT OR REPLACE that PostgreSQL accepts too.
  Status SetRateLimit(int64_t workspace_id, const std::string& endpoint, const RateLimitRecord& r) override {
    Stmt s(*c_,
           "INSERT INTO rate_limits(workspace_id, endpoint, max_requests, window_seconds) VALUES (?, ?, ?, ?) "
           "ON CONFLICT(workspace_id, endpoint) DO UPDATE SET max_requests = excluded.max_requests, "
           "window_seconds = excluded.window_seconds");
    s.Bind(workspace_id).Bind(endpoint).Bind(r.limit).Bind(r.window_seconds);
    return s.Run();
  }
  Result<std::optional<RateLimitRecord>> FindRateLimit(int64_t workspace_id, const std::string& endpoint) override {
    Stmt s(*c_,
           "SELECT max_requests, window_seconds FROM rate_limits WHERE workspace_id = ? AND endpoint IN (?, '*') "
           "ORDER BY endpoint = '*' LIMIT 1");
    s.Bind(workspace_id).Bind(endpoint);
    CF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<RateLimitRecord>();
    return std::optional<RateLimitRecord>(RateLimitRecord{s.Int(0), s.Int(1)});
  }

  Result<Profile> InsertProfile(int64_t workspace_id, const std::optional<std::string>& external_id,
                                int64_t now) override {
    Profile p;
    p.workspace_id = workspace_id;
    p.braze_id = NewBrazeId();
    p.external_id = external_id;
    p.created_anonymous = !external_id.has_value();
    p.created_at = now;
    Stmt s(*c_,
           "INSERT INTO profiles(workspace_id, braze_id, external_id, created_anonymous, created_at) "
           "VALUES (?, ?, ?, ?, ?) RETURNING id");
    s.Bind(workspace_id).Bind(p.braze_id).Bind(external_id).Bind(int64_t{p.created_anonymous}).Bind(now);
    CF_ASSIGN_OR_RETURN(int64_t id, s.ReturnedId());
    if (id > std::numeric_limits<ProfileIndex>::max()) {
      return Err(Status::ResourceExhausted("profile index space (32 bits) is exhausted"));
    }
    p.index = static_cast<ProfileIndex>(id);
    return p;
  }
  Result<std::optional<Profile>> FindProfile(ProfileIndex index) override {
    Stmt s(*c_,
           "SELECT id, workspace_id, braze_id, external_id, created_anonymous, created_at FROM profiles "
           "WHERE id = ?");
    s.Bind(int64_t{index});
    return OneProfile(s);
  }
  Result<std::optional<Profile>> FindByExternalId(int64_t workspace_id, const std::string& external_id) override {
    Stmt s(*c_,
           "SELECT id, workspace_id, braze_id, external_id, created_anonymous, created_at FROM profiles "
           "WHERE workspace_id = ? AND external_id = ?");
    s.Bind(workspace_id).Bind(external_id);
    return OneProfile(s);
  }
  Result<std::optional<Profile>> FindByBrazeId(int64_t workspace_id, const std::string& braze_id) override {
    Stmt s(*c_,
           "SELECT id, workspace_id, braze_id, external_id, created_anonymous, created_at FROM profiles "
           "WHERE braze_id = ? AND workspace_id = ?");
    s.Bind(braze_id).Bind(workspace_id);
    return OneProfile(s);
  }
  Result<std::optional<Profile>> FindByAlias(int64_t workspace_id, const Alias& alias) override {
    Stmt s(*c_,
           "SELECT p.id, p.workspace_id, p.braze_id, p.external_id, p.created_anonymous, p.created_at "
           "FROM aliases a JOIN profiles p ON p.id = a.profile_id "
           "WHERE a.workspace_id = ? AND a.label = ? AND a.name = ?");
    s.Bind(workspace_id).Bind(alias.label).Bind(alias.name);
    return OneProfile(s);
  }
  Result<std::optional<Profile>> FindByDevice(int64_t workspace_id, const std::string& device_id) override {
    Stmt s(*c_,
           "SELECT p.id, p.workspace_id, p.braze_id, p.external_id, p.created_anonymous, p.created_at "
           "FROM devices d JOIN profiles p ON p.id = d.profile_id "
           "WHERE d.workspace_id = ? AND d.device_id = ?");
    s.Bind(workspace_id).Bind(device_id);
    return OneProfile(s);
  }
  // One statement per batch: the identifiers travel as a JSON array joined against the index
  // instead of 1,000 statement round trips.
  Result<std::vector<std::optional<Match>>> MatchExternalIds(int64_t ws, const std::vector<std::string>& ids) override {
    Stmt s(*c_, sql_.match_external_ids);
    s.Bind(nlohmann::json(ids).dump()).Bind(ws);
    return Matches(s, ids.size());
  }
  Result<std::vector<std::optional<Match>>> MatchDevices(int64_t ws, const std::vector<std::string>& ids) override {
    Stmt s(*c_, sql_.match_devices);
    s.Bind(nlohmann::json(ids).dump()).Bind(ws);
    return Matches(s, ids.size());
  }
  Result<std::vector<std::optional<Match>>> MatchAliases(int64_t ws, const std::vector<Alias>& aliases) override {
    nlohmann::json pairs = nlohmann::json::array();
    for (const auto& a : aliases) pairs.push_back({a.label, a.name});
    Stmt s(*c_, sql_.match_aliases);
    s.Bind(pairs.dump()).Bind(ws);
    return Matches(s, aliases.size());
  }
  Status SetExternalId(ProfileIndex index, const std::string& external_id) override {
    Stmt s(*c_, "UPDATE profiles SET external_id = ? WHERE id = ?");
    s.Bind(external_id).Bind(int64_t{index});
    return s.Run();
  }
  Status AddAlias(int64_t workspace_id, ProfileIndex index, const Alias& alias) override {
    Stmt s(*c_, "INSERT INTO aliases(workspace_id, label, name, profile_id) VALUES (?, ?, ?, ?)");
    s.Bind(workspace_id).Bind(alias.label).Bind(alias.name).Bind(int64_t{index});
    return s.Run();
  }
  Result<std::vector<Alias>> Aliases(ProfileIndex index) override {
    Stmt s(*c_, "SELECT label, name FROM aliases WHERE profile_id = ? ORDER BY label");
    s.Bind(int64_t{index});
    std::vector<Alias> out;
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back({s.Text(0), s.Text(1)});
    }
    return out;
  }
  Status SetDevice(int64_t workspace_id, ProfileIndex index, const std::string& device_id) override {
    Stmt s(*c_,
           "INSERT INTO devices(workspace_id, device_id, profile_id) VALUES (?, ?, ?) "
           "ON CONFLICT(workspace_id, device_id) DO UPDATE SET profile_id = excluded.profile_id");
    s.Bind(workspace_id).Bind(device_id).Bind(int64_t{index});
    return s.Run();
  }
  Result<std::vector<std::string>> Devices(ProfileIndex index) override {
    Stmt s(*c_, "SELECT device_id FROM devices WHERE profile_id = ? ORDER BY device_id");
    s.Bind(int64_t{index});
    return Strings(s);
  }
  Status SetAttribute(ProfileIndex index, const std::string& name, const std::string& value_json) override {
    Stmt s(*c_,
           "INSERT INTO attributes(profile_id, name, value) VALUES (?, ?, ?) "
           "ON CONFLICT(profile_id, name) DO UPDATE SET value = excluded.value");
    s.Bind(int64_t{index}).Bind(name).Bind(value_json);
    return s.Run();
  }
  Status RemoveAttribute(ProfileIndex index, const std::string& name) override {
    Stmt s(*c_, "DELETE FROM attributes WHERE profile_id = ? AND name = ?");
    s.Bind(int64_t{index}).Bind(name);
    return s.Run();
  }
  Result<std::vector<std::pair<std::string, std::string>>> Attributes(ProfileIndex index) override {
    Stmt s(*c_, "SELECT name, value FROM attributes WHERE profile_id = ? ORDER BY name");
    s.Bind(int64_t{index});
    std::vector<std::pair<std::string, std::string>> out;
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.emplace_back(s.Text(0), s.Text(1));
    }
    return out;
  }
  Status InsertEvent(ProfileIndex index, const std::string& name, int64_t time,
                     const std::string& properties_json) override {
    Stmt s(*c_, "INSERT INTO events(profile_id, name, time, properties) VALUES (?, ?, ?, ?)");
    s.Bind(int64_t{index}).Bind(name).Bind(time).Bind(properties_json);
    return s.Run();
  }
  Status InsertPurchase(ProfileIndex index, const PurchaseRecord& p) override {
    Stmt s(*c_,
           "INSERT INTO purchases(profile_id, product_id, currency, price, quantity, time, properties) "
           "VALUES (?, ?, ?, ?, ?, ?, ?)");
    s.Bind(int64_t{index})
        .Bind(p.product_id)
        .Bind(p.currency)
        .Bind(p.price)
        .Bind(p.quantity)
        .Bind(p.time)
        .Bind(p.properties_json);
    return s.Run();
  }
  Status MergeProfileInto(ProfileIndex from, ProfileIndex to) override {
    const int64_t f = from;
    const int64_t t = to;
    // CAST: PostgreSQL would take a bare parameter in the select list for text.
    {
      Stmt s(*c_,
             "INSERT INTO attributes(profile_id, name, value) "
             "SELECT CAST(? AS BIGINT), name, value FROM attributes WHERE profile_id = ? ON CONFLICT DO NOTHING");
      s.Bind(t).Bind(f);
      CF_RETURN_IF_ERROR(s.Run());
    }
    // An alias whose label `to` already has stays behind and goes with `from`. Both backends read
    // `$1` twice as the first parameter (SQLite: a named one, numbered by first appearance).
    for (const char* sql : {"UPDATE aliases AS a SET profile_id = $1 WHERE a.profile_id = $2 AND NOT EXISTS "
                            "(SELECT 1 FROM aliases b WHERE b.profile_id = $1 AND b.label = a.label)",
                            "UPDATE devices SET profile_id = ? WHERE profile_id = ?",
                            "UPDATE events SET profile_id = ? WHERE profile_id = ?",
                            "UPDATE purchases SET profile_id = ? WHERE profile_id = ?"}) {
      Stmt s(*c_, sql);
      s.Bind(t).Bind(f);
      CF_RETURN_IF_ERROR(s.Run());
    }
    return DeleteProfileRows(from);
  }
  // A deleted user's send records keep their campaign's counts, not their identifiers or the
  // trigger properties sent to them.
  Status DeleteProfile(ProfileIndex index) override {
    Stmt s(*c_,
           "UPDATE sends SET external_id = NULL, device_id = NULL, aliases = '[]', trigger_properties = '{}' "
           "WHERE profile_id = ?");
    s.Bind(int64_t{index});
    CF_RETURN_IF_ERROR(s.Run());
    return DeleteProfileRows(index);
  }
  Status QueueCohortEviction(ProfileIndex index) override {
    Stmt s(*c_, "INSERT INTO cohort_evictions(profile_id) VALUES (?) ON CONFLICT DO NOTHING");
    s.Bind(int64_t{index});
    return s.Run();
  }
  Result<std::vector<ProfileIndex>> TakeCohortEvictions() override {
    std::vector<ProfileIndex> out;
    {
      Stmt s(*c_, "SELECT profile_id FROM cohort_evictions");
      CF_ASSIGN_OR_RETURN(out, Indexes(s));
    }
    if (out.empty()) return out;
    Stmt d(*c_, "DELETE FROM cohort_evictions");
    CF_RETURN_IF_ERROR(d.Run());
    return out;
  }

  Result<std::vector<ProfileIndex>> AllProfiles(int64_t workspace_id) override {
    Stmt s(*c_, "SELECT id FROM profiles WHERE workspace_id = ? ORDER BY id");
    s.Bind(workspace_id);
    return Indexes(s);
  }
  Status ScanAttribute(int64_t workspace_id, const std::string& name,
                       const std::function<void(ProfileIndex, const std::string&)>& visit) override {
    Stmt s(*c_,
           "SELECT a.profile_id, a.value FROM attributes a JOIN profiles p ON p.id = a.profile_id "
           "WHERE a.name = ? AND p.workspace_id = ?");
    s.Bind(name).Bind(workspace_id);
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      visit(static_cast<ProfileIndex>(s.Int(0)), s.Text(1));
    }
    return Status::OK();
  }
  Result<std::vector<ProfileIndex>> PurchasersOf(int64_t workspace_id, const std::string& product_id,
                                                 int64_t since) override {
    Stmt s(*c_,
           "SELECT DISTINCT u.profile_id FROM purchases u JOIN profiles p ON p.id = u.profile_id "
           "WHERE u.product_id = ? AND u.time >= ? AND p.workspace_id = ?");
    s.Bind(product_id).Bind(since).Bind(workspace_id);
    return Indexes(s);
  }

  Result<std::optional<CohortRecord>> FindCohort(int64_t workspace_id, int64_t partner_id,
                                                 const std::string& cohort_id) override {
    Stmt s(*c_,
           "SELECT id, workspace_id, partner_id, cohort_id, name, created_at FROM cohorts "
           "WHERE workspace_id = ? AND partner_id = ? AND cohort_id = ?");
    s.Bind(workspace_id).Bind(partner_id).Bind(cohort_id);
    CF_ASSIGN_OR_RETURN(auto all, Cohorts(s));
    if (all.empty()) return std::optional<CohortRecord>();
    return std::optional<CohortRecord>(std::move(all.front()));
  }
  Result<std::vector<CohortRecord>> FindCohortsByName(int64_t workspace_id, int64_t partner_id,
                                                      const std::string& name) override {
    Stmt s(*c_,
           "SELECT id, workspace_id, partner_id, cohort_id, name, created_at FROM cohorts "
           "WHERE workspace_id = ? AND partner_id = ? AND name = ?");
    s.Bind(workspace_id).Bind(partner_id).Bind(name);
    return Cohorts(s);
  }
  Result<std::vector<CohortRecord>> ListCohorts() override {
    Stmt s(*c_, "SELECT id, workspace_id, partner_id, cohort_id, name, created_at FROM cohorts ORDER BY id");
    return Cohorts(s);
  }
  Result<CohortRecord> UpsertCohort(const CohortRecord& r) override {
    {
      Stmt s(*c_,
             "INSERT INTO cohorts(workspace_id, partner_id, cohort_id, name, created_at) VALUES (?, ?, ?, ?, ?) "
             "ON CONFLICT(workspace_id, partner_id, cohort_id) DO UPDATE SET name = excluded.name");
      s.Bind(r.workspace_id).Bind(r.partner_id).Bind(r.cohort_id).Bind(r.name).Bind(r.created_at);
      CF_RETURN_IF_ERROR(s.Run());
    }
    CF_ASSIGN_OR_RETURN(auto found, FindCohort(r.workspace_id, r.partner_id, r.cohort_id));
    if (!found) return Err(Status::Internal("cohort vanished after upsert"));
    return std::move(*found);
  }
  Status AppendCohortDelta(int64_t cohort_pk, const std::string& added, const std::string& removed) override {
    {
      Stmt s(*c_, "INSERT INTO cohort_deltas(cohort_pk, added, removed) VALUES (?, ?, ?)");
      s.Bind(cohort_pk).BindBlob(added).BindBlob(removed);
      CF_RETURN_IF_ERROR(s.Run());
    }
    return CohortWritten(cohort_pk);
  }
  Status WriteCohortSnapshot(int64_t cohort_pk, const std::string& snapshot) override {
    {
      Stmt s(*c_,
             "INSERT INTO cohort_snapshots(cohort_pk, bitmap) VALUES (?, ?) "
             "ON CONFLICT(cohort_pk) DO UPDATE SET bitmap = excluded.bitmap");
      s.Bind(cohort_pk).BindBlob(snapshot);
      CF_RETURN_IF_ERROR(s.Run());
    }
    {
      Stmt d(*c_, "DELETE FROM cohort_deltas WHERE cohort_pk = ?");
      d.Bind(cohort_pk);
      CF_RETURN_IF_ERROR(d.Run());
    }
    return CohortWritten(cohort_pk);
  }
  Result<std::vector<CohortBitmapRecord>> LoadCohortBitmaps() override {
    return LoadBitmaps("SELECT cohort_pk, bitmap FROM cohort_snapshots",
                       "SELECT cohort_pk, added, removed FROM cohort_deltas ORDER BY seq", std::nullopt);
  }

  Status InsertSegment(const SegmentRecord& r) override {
    Stmt s(*c_, "INSERT INTO segments(workspace_id, segment_id, name, filter, created_at) VALUES (?, ?, ?, ?, ?)");
    s.Bind(r.workspace_id).Bind(r.segment_id).Bind(r.name).Bind(r.filter_json).Bind(r.created_at);
    return s.Run();
  }
  Result<std::optional<SegmentRecord>> FindSegment(int64_t workspace_id, const std::string& segment_id) override {
    Stmt s(*c_,
           "SELECT workspace_id, segment_id, name, filter, created_at FROM segments "
           "WHERE workspace_id = ? AND segment_id = ?");
    s.Bind(workspace_id).Bind(segment_id);
    CF_ASSIGN_OR_RETURN(auto all, Segments(s));
    if (all.empty()) return std::optional<SegmentRecord>();
    return std::optional<SegmentRecord>(std::move(all.front()));
  }
  Result<std::vector<SegmentRecord>> ListSegments(int64_t workspace_id) override {
    Stmt s(*c_,
           "SELECT workspace_id, segment_id, name, filter, created_at FROM segments WHERE workspace_id = ? "
           "ORDER BY id");
    s.Bind(workspace_id);
    return Segments(s);
  }

  Result<int64_t> InsertCampaign(const CampaignRecord& r) override {
    Stmt s(*c_,
           "INSERT INTO campaigns(workspace_id, campaign_id, name, segment_id, channel, control_share, created_at) "
           "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id");
    s.Bind(r.workspace_id).Bind(r.campaign_id).Bind(r.name).Bind(r.segment_id).Bind(r.channel).Bind(r.control_share);
    s.Bind(r.created_at);
    return s.ReturnedId();
  }
  Result<std::optional<CampaignRecord>> FindCampaign(int64_t ws, const std::string& campaign_id) override {
    Stmt s(*c_,
           "SELECT id, workspace_id, campaign_id, name, segment_id, channel, control_share, created_at FROM campaigns "
           "WHERE workspace_id = ? AND campaign_id = ?");
    s.Bind(ws).Bind(campaign_id);
    return OneCampaign(s);
  }
  Result<std::optional<CampaignRecord>> FindCampaignByName(int64_t ws, const std::string& name) override {
    Stmt s(*c_,
           "SELECT id, workspace_id, campaign_id, name, segment_id, channel, control_share, created_at FROM campaigns "
           "WHERE workspace_id = ? AND name = ?");
    s.Bind(ws).Bind(name);
    return OneCampaign(s);
  }
  Result<std::vector<CampaignRecord>> ListCampaigns(int64_t ws) override {
    Stmt s(*c_,
           "SELECT id, workspace_id, campaign_id, name, segment_id, channel, control_share, created_at FROM campaigns "
           "WHERE workspace_id = ? ORDER BY id");
    s.Bind(ws);
    std::vector<CampaignRecord> out;
    while (true) {
      CF_ASSIGN_OR_RETURN(auto c, OneCampaign(s));
      if (!c) break;
      out.push_back(std::move(*c));
    }
    return out;
  }
  Result<std::optional<std::pair<int64_t, int64_t>>> SentTimes(int64_t campaign_pk) override {
    Stmt s(*c_, "SELECT min(time), max(time) FROM sends WHERE campaign_pk = ? AND outcome = 'sent'");
    s.Bind(campaign_pk);
    CF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row || s.IsNull(0)) return std::optional<std::pair<int64_t, int64_t>>();
    return std::optional<std::pair<int64_t, int64_t>>(std::pair{s.Int(0), s.Int(1)});
  }

  Status InsertDashboardUser(const DashboardUserRecord& r) override {
    CF_ASSIGN_OR_RETURN(auto existing, FindDashboardUser(r.email));
    if (existing) return Status::AlreadyExists("a dashboard user with email " + r.email + " already exists");
    Stmt s(*c_,
           "INSERT INTO dashboard_users(email, workspace, salt, hash, iterations, created_at) "
           "VALUES (?, ?, ?, ?, ?, ?)");
    s.Bind(r.email).Bind(r.workspace).Bind(r.salt).Bind(r.hash).Bind(r.iterations).Bind(r.created_at);
    return s.Run();
  }
  Result<std::optional<DashboardUserRecord>> FindDashboardUser(const std::string& email) override {
    Stmt s(*c_, "SELECT email, workspace, salt, hash, iterations, created_at FROM dashboard_users WHERE email = ?");
    s.Bind(email);
    CF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<DashboardUserRecord>();
    return std::optional<DashboardUserRecord>(
        DashboardUserRecord{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5)});
  }
  Result<std::vector<DashboardUserRecord>> ListDashboardUsers() override {
    Stmt s(*c_, "SELECT email, workspace, salt, hash, iterations, created_at FROM dashboard_users ORDER BY email");
    std::vector<DashboardUserRecord> out;
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back({s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5)});
    }
    return out;
  }
  Result<bool> DeleteDashboardUser(const std::string& email) override {
    Stmt s(*c_, "DELETE FROM dashboard_users WHERE email = ?");
    s.Bind(email);
    CF_RETURN_IF_ERROR(s.Run());
    return s.Changes() > 0;
  }
  Status SetFrequencyCap(int64_t ws, const FrequencyCapRecord& r) override {
    Stmt s(*c_,
           "INSERT INTO frequency_caps(workspace_id, channel, max_messages, days) VALUES (?, ?, ?, ?) "
           "ON CONFLICT(workspace_id, channel) DO UPDATE SET max_messages = excluded.max_messages, "
           "days = excluded.days");
    s.Bind(ws).Bind(r.channel).Bind(r.max_messages).Bind(r.days);
    return s.Run();
  }
  Result<bool> RemoveFrequencyCap(int64_t ws, const std::string& channel) override {
    Stmt s(*c_, "DELETE FROM frequency_caps WHERE workspace_id = ? AND channel = ?");
    s.Bind(ws).Bind(channel);
    CF_RETURN_IF_ERROR(s.Run());
    return s.Changes() > 0;
  }
  Result<std::vector<FrequencyCapRecord>> ListFrequencyCaps(int64_t ws) override {
    Stmt s(*c_, "SELECT channel, max_messages, days FROM frequency_caps WHERE workspace_id = ? ORDER BY channel");
    s.Bind(ws);
    std::vector<FrequencyCapRecord> out;
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back({s.Text(0), s.Int(1), s.Int(2)});
    }
    return out;
  }
  Status SetDelivery(int64_t ws, const DeliveryRecord& r) override {
    Stmt s(*c_,
           "INSERT INTO delivery(workspace_id, adapter, url, max_attempts, initial_backoff_ms, timeout_ms) "
           "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(workspace_id) DO UPDATE SET adapter = excluded.adapter, "
           "url = excluded.url, max_attempts = excluded.max_attempts, "
           "initial_backoff_ms = excluded.initial_backoff_ms, timeout_ms = excluded.timeout_ms");
    s.Bind(ws).Bind(r.adapter).Bind(r.url).Bind(r.max_attempts).Bind(r.initial_backoff_ms).Bind(r.timeout_ms);
    return s.Run();
  }
  Result<std::optional<DeliveryRecord>> FindDelivery(int64_t ws) override {
    Stmt s(*c_,
           "SELECT adapter, url, max_attempts, initial_backoff_ms, timeout_ms FROM delivery WHERE workspace_id = ?");
    s.Bind(ws);
    CF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<DeliveryRecord>();
    return std::optional<DeliveryRecord>(DeliveryRecord{s.Text(0), s.Text(1), s.Int(2), s.Int(3), s.Int(4)});
  }

  Result<std::optional<DispatchRecord>> FindDispatch(int64_t campaign_pk, const std::string& send_id) override {
    Stmt s(*c_,
           "SELECT id, campaign_pk, dispatch_id, send_id, trigger_properties, created_at FROM dispatches "
           "WHERE campaign_pk = ? AND send_id = ?");
    s.Bind(campaign_pk).Bind(send_id);
    CF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<DispatchRecord>();
    return std::optional<DispatchRecord>(
        DispatchRecord{s.Int(0), s.Int(1), s.Text(2), s.OptText(3), s.Text(4), s.Int(5)});
  }
  Result<int64_t> InsertDispatch(const DispatchRecord& r) override {
    Stmt s(*c_,
           "INSERT INTO dispatches(campaign_pk, dispatch_id, send_id, trigger_properties, created_at) "
           "VALUES (?, ?, ?, ?, ?) RETURNING id");
    s.Bind(r.campaign_pk).Bind(r.dispatch_id).Bind(r.send_id).Bind(r.trigger_properties_json).Bind(r.created_at);
    return s.ReturnedId();
  }

  // Four statements per batch, each joining the ids (a JSON array) against an index.
  Result<std::vector<RecipientInfo>> RecipientInfos(int64_t ws, const std::vector<ProfileIndex>& ids,
                                                    const std::string& subscription_attribute) override {
    const std::string list = nlohmann::json(ids).dump();
    std::vector<RecipientInfo> out;
    std::unordered_map<ProfileIndex, size_t> at;
    {
      Stmt s(*c_, sql_.recipient_profiles);
      s.Bind(list).Bind(ws);
      while (true) {
        CF_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        RecipientInfo r;
        r.index = static_cast<ProfileIndex>(s.Int(0));
        r.braze_id = s.Text(1);
        r.external_id = s.OptText(2);
        r.aliases_json = "[]";
        at.emplace(r.index, out.size());
        out.push_back(std::move(r));
      }
    }
    {
      Stmt s(*c_, sql_.recipient_devices);
      s.Bind(list);
      while (true) {
        CF_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        auto it = at.find(static_cast<ProfileIndex>(s.Int(0)));
        if (it != at.end()) out[it->second].device_id = s.Text(1);
      }
    }
    {
      Stmt s(*c_, sql_.recipient_aliases);
      s.Bind(list);
      while (true) {
        CF_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        auto it = at.find(static_cast<ProfileIndex>(s.Int(0)));
        if (it != at.end()) out[it->second].aliases_json = s.Text(1);
      }
    }
    Stmt s(*c_, sql_.recipient_subscriptions);
    s.Bind(list).Bind(subscription_attribute);
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      auto it = at.find(static_cast<ProfileIndex>(s.Int(0)));
      if (it == at.end()) continue;
      const nlohmann::json value = nlohmann::json::parse(s.Text(1), nullptr, false);
      out[it->second].subscription = value.is_string() ? value.get<std::string>() : "";
    }
    return out;
  }
  Result<std::vector<std::pair<ProfileIndex, int64_t>>> SentCounts(const std::vector<ProfileIndex>& ids,
                                                                   const std::string& channel, int64_t since) override {
    Stmt s(*c_, sql_.sent_counts);
    s.Bind(nlohmann::json(ids).dump()).Bind(channel).Bind(since);
    std::vector<std::pair<ProfileIndex, int64_t>> out;
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.emplace_back(static_cast<ProfileIndex>(s.Int(0)), s.Int(1));
    }
    return out;
  }
  Result<std::vector<ProfileIndex>> DecidedProfiles(int64_t dispatch_pk,
                                                    const std::vector<ProfileIndex>& ids) override {
    Stmt s(*c_, sql_.decided_profiles);
    s.Bind(nlohmann::json(ids).dump()).Bind(dispatch_pk);
    return Indexes(s);
  }
  Status InsertSend(const SendRecord& r) override {
    Stmt s(
        *c_,
        "INSERT INTO sends(dispatch_pk, campaign_pk, profile_id, braze_id, external_id, device_id, aliases, channel, "
        "time, outcome, reason, trigger_properties, delivery) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.Bind(r.dispatch_pk).Bind(r.campaign_pk).Bind(int64_t{r.profile}).Bind(r.braze_id).Bind(r.external_id);
    s.Bind(r.device_id).Bind(r.aliases_json).Bind(r.channel).Bind(r.time).Bind(r.outcome).Bind(r.reason);
    s.Bind(r.trigger_properties_json).Bind(static_cast<int64_t>(r.delivery));
    return s.Run();
  }
  Result<std::vector<SendRecord>> ClaimPending(int64_t dispatch_pk, size_t limit) override {
    std::vector<SendRecord> out;
    {
      Stmt s(*c_, sql_.claim_pending);
      s.Bind(dispatch_pk).Bind(static_cast<int64_t>(limit));
      while (true) {
        CF_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        out.push_back(ReadSend(s, 0));
      }
    }
    for (auto& r : out) {
      Stmt u(*c_, "UPDATE sends SET delivery = 2 WHERE id = ?");
      u.Bind(r.pk);
      CF_RETURN_IF_ERROR(u.Run());
      r.delivery = DeliveryState::kAttempting;
    }
    return out;
  }
  Status FinishDelivery(int64_t send_pk, const std::string& outcome, const std::string& reason) override {
    Stmt s(*c_, "UPDATE sends SET outcome = ?, reason = ?, delivery = 0 WHERE id = ?");
    s.Bind(outcome).Bind(reason).Bind(send_pk);
    return s.Run();
  }
  Result<int64_t> FailInFlight(const std::string& reason) override {
    Stmt s(*c_, sql_.fail_in_flight);
    s.Bind(reason);
    CF_RETURN_IF_ERROR(s.Run());
    return s.Changes();
  }
  Result<std::vector<std::pair<std::string, int64_t>>> DispatchOutcomes(int64_t dispatch_pk) override {
    Stmt s(*c_,
           "SELECT CASE WHEN delivery = 0 THEN outcome ELSE 'pending' END o, count(*) FROM sends "
           "WHERE dispatch_pk = ? GROUP BY 1 ORDER BY 1");
    s.Bind(dispatch_pk);
    std::vector<std::pair<std::string, int64_t>> out;
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.emplace_back(s.Text(0), s.Int(1));
    }
    return out;
  }
  Status ScanSends(int64_t ws, std::optional<int64_t> campaign_pk, int64_t since,
                   const std::function<Status(const SendFeedRow&)>& visit) override {
    // Two statements rather than `campaign_pk = ? OR ? IS NULL`, which would keep the planner
    // from using the campaign's index.
    const char* all = "SELECT " SEND_COLUMNS_X
                      ", c.campaign_id, c.name, d.dispatch_id, d.send_id FROM sends x "
                      "JOIN campaigns c ON c.id = x.campaign_pk JOIN dispatches d ON d.id = x.dispatch_pk "
                      "WHERE c.workspace_id = ? AND x.time >= ? AND x.delivery = 0 ORDER BY x.id";
    const char* one = "SELECT " SEND_COLUMNS_X
                      ", c.campaign_id, c.name, d.dispatch_id, d.send_id FROM sends x "
                      "JOIN campaigns c ON c.id = x.campaign_pk JOIN dispatches d ON d.id = x.dispatch_pk "
                      "WHERE x.campaign_pk = ? AND c.workspace_id = ? AND x.time >= ? AND x.delivery = 0 ORDER BY x.id";
    Stmt s(*c_, campaign_pk ? one : all);
    if (campaign_pk) s.Bind(*campaign_pk);
    s.Bind(ws).Bind(since);
    SendFeedRow row;
    while (true) {
      CF_ASSIGN_OR_RETURN(bool more, s.Step());
      if (!more) break;
      row.send = ReadSend(s, 0);
      row.campaign_id = s.Text(kSendColumns);
      row.campaign_name = s.Text(kSendColumns + 1);
      row.dispatch_id = s.Text(kSendColumns + 2);
      row.send_id = s.OptText(kSendColumns + 3);
      CF_RETURN_IF_ERROR(visit(row));
    }
    return Status::OK();
  }

  Status AppendSecurityEvent(const SecurityEventRecord& r) override {
    Stmt s(*c_,
           "INSERT INTO security_events(time, workspace, event, actor, remote_addr, detail) "
           "VALUES (?, ?, ?, ?, ?, ?)");
    s.Bind(r.time).Bind(r.workspace).Bind(r.event).Bind(r.actor).Bind(r.remote_addr).Bind(r.detail_json);
    return s.Run();
  }
  Result<std::vector<SecurityEventRecord>> ListSecurityEvents(int64_t after_id, size_t limit) override {
    Stmt s(*c_,
           "SELECT id, time, workspace, event, actor, remote_addr, detail FROM security_events WHERE id > ? "
           "ORDER BY id LIMIT ?");
    s.Bind(after_id).Bind(static_cast<int64_t>(limit));
    std::vector<SecurityEventRecord> out;
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back({s.Int(0), s.Int(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6)});
    }
    return out;
  }

 protected:
  SqlTransaction(std::unique_ptr<Connection> c, const SqlDialect& sql) : c_(std::move(c)), sql_(sql) {}

  // After every write of a cohort's bitmap (a delta appended, the snapshot replaced), in the
  // same transaction.
  virtual Status CohortWritten(int64_t cohort_pk) = 0;

  // Snapshots and deltas by the two queries given (string literals: the statement cache is keyed
  // by their address), each bound to `pks` when set.
  Result<std::vector<CohortBitmapRecord>> LoadBitmaps(const char* snapshots_sql, const char* deltas_sql,
                                                      const std::optional<std::string>& pks) {
    CohortBitmapRecords out;
    {
      Stmt s(*c_, snapshots_sql);
      if (pks) s.Bind(*pks);
      while (true) {
        CF_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        out.Of(s.Int(0)).snapshot = s.Text(1);
      }
    }
    Stmt s(*c_, deltas_sql);
    if (pks) s.Bind(*pks);
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.Of(s.Int(0)).deltas.emplace_back(s.Text(1), s.Text(2));
    }
    return out.Take();
  }

  std::unique_ptr<Connection> c_;  // the subclass's destructor gives it back to its pool

 private:
  Status DeleteProfileRows(ProfileIndex index) {
    for (const char* sql : {"DELETE FROM aliases WHERE profile_id = ?", "DELETE FROM devices WHERE profile_id = ?",
                            "DELETE FROM attributes WHERE profile_id = ?", "DELETE FROM events WHERE profile_id = ?",
                            "DELETE FROM purchases WHERE profile_id = ?", "DELETE FROM profiles WHERE id = ?"}) {
      Stmt s(*c_, sql);
      s.Bind(int64_t{index});
      CF_RETURN_IF_ERROR(s.Run());
    }
    return Status::OK();
  }

  static Result<std::optional<Profile>> OneProfile(Stmt& s) {
    CF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<Profile>();
    Profile p;
    p.index = static_cast<ProfileIndex>(s.Int(0));
    p.workspace_id = s.Int(1);
    p.braze_id = s.Text(2);
    p.external_id = s.OptText(3);
    p.created_anonymous = s.Int(4) != 0;
    p.created_at = s.Int(5);
    return std::optional<Profile>(std::move(p));
  }
  static Result<std::optional<CampaignRecord>> OneCampaign(Stmt& s) {
    CF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<CampaignRecord>();
    return std::optional<CampaignRecord>(
        CampaignRecord{s.Int(0), s.Int(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Double(6), s.Int(7)});
  }
  static SendRecord ReadSend(const Stmt& s, int c) {
    SendRecord r;
    r.pk = s.Int(c);
    r.dispatch_pk = s.Int(c + 1);
    r.campaign_pk = s.Int(c + 2);
    r.profile = static_cast<ProfileIndex>(s.Int(c + 3));
    r.braze_id = s.Text(c + 4);
    r.external_id = s.OptText(c + 5);
    r.device_id = s.OptText(c + 6);
    r.aliases_json = s.Text(c + 7);
    r.channel = s.Text(c + 8);
    r.time = s.Int(c + 9);
    r.outcome = s.Text(c + 10);
    r.reason = s.Text(c + 11);
    r.trigger_properties_json = s.Text(c + 12);
    r.delivery = static_cast<DeliveryState>(s.Int(c + 13));
    return r;
  }
  static Result<std::optional<PartnerRecord>> OnePartner(Stmt& s) {
    CF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<PartnerRecord>();
    PartnerRecord p{s.Int(0), s.Text(1), s.Text(2), {s.Text(3), s.Text(4), s.Text(5)}, s.Int(6)};
    return std::optional<PartnerRecord>(std::move(p));
  }
  static Result<std::optional<DataImportKeyRecord>> OneImportKey(Stmt& s) {
    CF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<DataImportKeyRecord>();
    DataImportKeyRecord r{{s.Text(0), s.Text(1), s.Text(2)}, s.Int(3), s.Int(4), s.Int(5)};
    return std::optional<DataImportKeyRecord>(std::move(r));
  }
  static Result<std::vector<std::optional<Match>>> Matches(Stmt& s, size_t n) {
    std::vector<std::optional<Match>> out(n);
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      const auto i = static_cast<size_t>(s.Int(0));
      if (i < n) out[i] = Match{static_cast<ProfileIndex>(s.Int(1)), s.Int(2) != 0};
    }
    return out;
  }
  static Result<std::vector<std::string>> Strings(Stmt& s) {
    std::vector<std::string> out;
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(s.Text(0));
    }
    return out;
  }
  static Result<std::vector<ProfileIndex>> Indexes(Stmt& s) {
    std::vector<ProfileIndex> out;
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(static_cast<ProfileIndex>(s.Int(0)));
    }
    return out;
  }
  static Result<std::vector<CohortRecord>> Cohorts(Stmt& s) {
    std::vector<CohortRecord> out;
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back({s.Int(0), s.Int(1), s.Int(2), s.Text(3), s.Text(4), s.Int(5)});
    }
    return out;
  }
  static Result<std::vector<SegmentRecord>> Segments(Stmt& s) {
    std::vector<SegmentRecord> out;
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back({s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4)});
    }
    return out;
  }


  const SqlDialect& sql_;
};

}  // namespace cf::engage
