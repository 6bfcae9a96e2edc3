#include "engage/sqlite_storage.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/log.h"

namespace cf::engage {

namespace {

// 2: cohort_evictions; rate limits of partner endpoints are keyed by the path operators write.
// 3: campaigns, frequency caps, delivery settings, dispatches and send records (new tables only:
// a version 2 database upgrades by creating them).
// 4: dashboard users of the console (a new table only, like 3).
constexpr int kSchemaVersion = 5;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS workspaces(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys(key_id TEXT PRIMARY KEY, salt TEXT NOT NULL, hash TEXT NOT NULL,
  workspace_id INTEGER NOT NULL, name TEXT NOT NULL, permissions TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS partners(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL, key_id TEXT NOT NULL UNIQUE, salt TEXT NOT NULL, hash TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS data_import_keys(workspace_id INTEGER NOT NULL, partner_id INTEGER NOT NULL,
  key_id TEXT NOT NULL UNIQUE, salt TEXT NOT NULL, hash TEXT NOT NULL, created_at INTEGER NOT NULL,
  PRIMARY KEY(workspace_id, partner_id));
CREATE TABLE IF NOT EXISTS rate_limits(workspace_id INTEGER NOT NULL, endpoint TEXT NOT NULL,
  max_requests INTEGER NOT NULL, window_seconds INTEGER NOT NULL, PRIMARY KEY(workspace_id, endpoint));
CREATE TABLE IF NOT EXISTS profiles(id INTEGER PRIMARY KEY AUTOINCREMENT, workspace_id INTEGER NOT NULL,
  braze_id TEXT NOT NULL UNIQUE, external_id TEXT, created_anonymous INTEGER NOT NULL,
  created_at INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS profiles_external ON profiles(workspace_id, external_id);
CREATE INDEX IF NOT EXISTS profiles_workspace ON profiles(workspace_id);
CREATE TABLE IF NOT EXISTS aliases(workspace_id INTEGER NOT NULL, label TEXT NOT NULL, name TEXT NOT NULL,
  profile_id INTEGER NOT NULL, PRIMARY KEY(workspace_id, label, name)) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS aliases_profile ON aliases(profile_id, label);
CREATE TABLE IF NOT EXISTS devices(workspace_id INTEGER NOT NULL, device_id TEXT NOT NULL,
  profile_id INTEGER NOT NULL, PRIMARY KEY(workspace_id, device_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS devices_profile ON devices(profile_id);
CREATE TABLE IF NOT EXISTS attributes(profile_id INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(profile_id, name)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS attributes_name ON attributes(name, profile_id);
CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, profile_id INTEGER NOT NULL, name TEXT NOT NULL,
  time INTEGER NOT NULL, properties TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_profile ON events(profile_id);
CREATE TABLE IF NOT EXISTS purchases(id INTEGER PRIMARY KEY, profile_id INTEGER NOT NULL,
  product_id TEXT NOT NULL, currency TEXT NOT NULL, price REAL NOT NULL, quantity INTEGER NOT NULL,
  time INTEGER NOT NULL, properties TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS purchases_product ON purchases(product_id, time);
CREATE INDEX IF NOT EXISTS purchases_profile ON purchases(profile_id);
CREATE TABLE IF NOT EXISTS cohorts(id INTEGER PRIMARY KEY, workspace_id INTEGER NOT NULL,
  partner_id INTEGER NOT NULL, cohort_id TEXT NOT NULL, name TEXT NOT NULL, created_at INTEGER NOT NULL,
  UNIQUE(workspace_id, partner_id, cohort_id));
CREATE INDEX IF NOT EXISTS cohorts_name ON cohorts(workspace_id, partner_id, name);
CREATE TABLE IF NOT EXISTS cohort_snapshots(cohort_pk INTEGER PRIMARY KEY, bitmap BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS cohort_deltas(seq INTEGER PRIMARY KEY, cohort_pk INTEGER NOT NULL,
  added BLOB NOT NULL, removed BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS cohort_deltas_cohort ON cohort_deltas(cohort_pk, seq);
CREATE TABLE IF NOT EXISTS segments(id INTEGER PRIMARY KEY, workspace_id INTEGER NOT NULL,
  segment_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, filter TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cohort_evictions(profile_id INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS campaigns(id INTEGER PRIMARY KEY, workspace_id INTEGER NOT NULL,
  campaign_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, segment_id TEXT NOT NULL, channel TEXT NOT NULL,
  control_share REAL NOT NULL, created_at INTEGER NOT NULL, UNIQUE(workspace_id, name));
CREATE TABLE IF NOT EXISTS frequency_caps(workspace_id INTEGER NOT NULL, channel TEXT NOT NULL,
  max_messages INTEGER NOT NULL, days INTEGER NOT NULL, PRIMARY KEY(workspace_id, channel));
CREATE TABLE IF NOT EXISTS delivery(workspace_id INTEGER PRIMARY KEY, adapter TEXT NOT NULL, url TEXT NOT NULL,
  max_attempts INTEGER NOT NULL, initial_backoff_ms INTEGER NOT NULL, timeout_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dispatches(id INTEGER PRIMARY KEY, campaign_pk INTEGER NOT NULL,
  dispatch_id TEXT NOT NULL UNIQUE, send_id TEXT, trigger_properties TEXT NOT NULL, created_at INTEGER NOT NULL,
  UNIQUE(campaign_pk, send_id));
CREATE TABLE IF NOT EXISTS sends(id INTEGER PRIMARY KEY, dispatch_pk INTEGER NOT NULL, campaign_pk INTEGER NOT NULL,
  profile_id INTEGER NOT NULL, braze_id TEXT NOT NULL, external_id TEXT, device_id TEXT, aliases TEXT NOT NULL,
  channel TEXT NOT NULL, time INTEGER NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL,
  trigger_properties TEXT NOT NULL, delivery INTEGER NOT NULL, UNIQUE(dispatch_pk, profile_id));
CREATE TABLE IF NOT EXISTS dashboard_users(email TEXT PRIMARY KEY, workspace TEXT NOT NULL,
  salt TEXT NOT NULL, hash TEXT NOT NULL, iterations INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS security_events(id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL,
  workspace TEXT NOT NULL, event TEXT NOT NULL, actor TEXT NOT NULL, remote_addr TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sends_cap ON sends(profile_id, channel, time) WHERE outcome = 'sent';
CREATE INDEX IF NOT EXISTS sends_campaign ON sends(campaign_pk, id);
CREATE INDEX IF NOT EXISTS sends_pending ON sends(dispatch_pk, delivery) WHERE delivery <> 0;
)sql";

// From version 1: the partner endpoints' limits move to the keys `engage rate-limit set` now
// takes, and the anonymous profiles orphaned before evictions existed (no external_id, alias
// or device left: no partner identifier can name them) are queued to leave their cohorts.
constexpr const char* kMigrateFrom1 = R"sql(
UPDATE OR REPLACE rate_limits SET endpoint = '/partners/{partner}/cohorts' WHERE endpoint = '/partners/cohorts';
UPDATE OR REPLACE rate_limits SET endpoint = '/partners/{partner}/cohorts/users'
  WHERE endpoint = '/partners/cohorts/users';
INSERT OR IGNORE INTO cohort_evictions(profile_id) SELECT p.id FROM profiles p WHERE p.external_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM aliases a WHERE a.profile_id = p.id)
  AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.profile_id = p.id);
)sql";

// The columns ReadSend reads, in its order.
#define SEND_COLUMNS                                                                                     \
  "id, dispatch_pk, campaign_pk, profile_id, braze_id, external_id, device_id, aliases, channel, time, " \
  "outcome, reason, trigger_properties, delivery"
#define SEND_COLUMNS_X                                                                                    \
  "x.id, x.dispatch_pk, x.campaign_pk, x.profile_id, x.braze_id, x.external_id, x.device_id, x.aliases, " \
  "x.channel, x.time, x.outcome, x.reason, x.trigger_properties, x.delivery"
constexpr int kSendColumns = 14;

Status SqlError(sqlite3* db, std::string_view what) {
  int code = sqlite3_extended_errcode(db);
  std::string msg = std::string(what) + ": " + sqlite3_errmsg(db);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED || (code & 0xff) == SQLITE_BUSY) {
    return Status::Unavailable(msg + " (the database is locked by another writer)");
  }
  if ((code & 0xff) == SQLITE_CONSTRAINT) return Status::AlreadyExists(msg);
  return Status::IOError(msg);
}

// Waits for another process's write lock: short sleeps up to busy_timeout_ms, telling
// `on_wait` once when the wait passes notice_after_ms.
struct BusyWait {
  int timeout_ms = 0;
  int notice_after_ms = 0;
  std::function<void()> on_wait;
  std::chrono::steady_clock::time_point started;
  bool noticed = false;

  static int Handler(void* arg, int attempts) {
    auto* w = static_cast<BusyWait*>(arg);
    const auto now = std::chrono::steady_clock::now();
    if (attempts == 0) {
      w->started = now;
      w->noticed = false;
    }
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - w->started).count();
    if (waited >= w->timeout_ms) return 0;
    if (!w->noticed && w->on_wait && waited >= w->notice_after_ms) {
      w->noticed = true;
      w->on_wait();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(attempts < 10 ? 1 : 20));
    return 1;
  }
};

class Connection {
 public:
  ~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    if (db_ != nullptr) sqlite3_close(db_);
  }
  static Result<std::unique_ptr<Connection>> Open(const SqliteStorageOptions& o) {
    auto c = std::unique_ptr<Connection>(new Connection());
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (o.create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(o.path.c_str(), &c->db_, flags, nullptr) != SQLITE_OK) {
      return Err(Status::IOError("cannot open database " + o.path + ": " +
                                 (c->db_ ? sqlite3_errmsg(c->db_) : "out of memory")));
    }
    c->busy_ = BusyWait{o.busy_timeout_ms, o.busy_notice_after_ms, o.on_busy_wait, {}, false};
    sqlite3_busy_handler(c->db_, &BusyWait::Handler, &c->busy_);
    // secure_delete: a deleted row's bytes are overwritten with zeros in its page, so that a
    // deleted profile cannot be read back from the database file (docs/security.md).
    std::string pragmas =
        "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=OFF; PRAGMA secure_delete=ON; PRAGMA synchronous=";
    pragmas += o.synchronous_full ? "FULL;" : "NORMAL;";
    pragmas += " PRAGMA cache_size=-" + std::to_string(o.cache_mib * 1024) + ";";
    CF_RETURN_IF_ERROR(c->Exec(pragmas));
    return c;
  }
  Status Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      Status s = SqlError(db_, sql.substr(0, 40));
      sqlite3_free(err);
      return s;
    }
    return Status::OK();
  }
  sqlite3_stmt* Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) return nullptr;
    cache_.emplace(sql, stmt);
    return stmt;
  }
  sqlite3* db() const { return db_; }

 private:
  Connection() = default;
  sqlite3* db_ = nullptr;
  BusyWait busy_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;  // keyed by the literal's address
};

// One execution of a cached prepared statement; resets it when done.
class Stmt {
 public:
  Stmt(Connection& c, const char* sql) : db_(c.db()), stmt_(c.Prepare(sql)), sql_(sql) {}
  ~Stmt() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int64_t v) {
    if (stmt_) sqlite3_bind_int64(stmt_, ++n_, v);
    return *this;
  }
  Stmt& Bind(double v) {
    if (stmt_) sqlite3_bind_double(stmt_, ++n_, v);
    return *this;
  }
  Stmt& Bind(std::string_view v) {
    if (stmt_) sqlite3_bind_text(stmt_, ++n_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(const std::string& v) { return Bind(std::string_view(v)); }
  Stmt& BindBlob(std::string_view v) {
    if (stmt_) sqlite3_bind_blob(stmt_, ++n_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(const std::optional<std::string>& v) {
    if (!v) {
      if (stmt_) sqlite3_bind_null(stmt_, ++n_);
      return *this;
    }
    return Bind(std::string_view(*v));
  }
  // True when a row is ready.
  Result<bool> Step() {
    if (stmt_ == nullptr) return Err(SqlError(db_, std::string("prepare ") + std::string(sql_).substr(0, 60)));
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Err(SqlError(db_, std::string(sql_).substr(0, 60)));
  }
  Status Run() {
    auto r = Step();
    return r.has_value() ? Status::OK() : r.error();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }
  std::optional<std::string> OptText(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Text(col);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  const char* sql_;
  int n_ = 0;
};

class Pool {
 public:
  explicit Pool(SqliteStorageOptions o) : options_(std::move(o)) {}
  Result<std::unique_ptr<Connection>> Take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        auto c = std::move(free_.back());
        free_.pop_back();
        return c;
      }
    }
    return Connection::Open(options_);
  }
  void Give(std::unique_ptr<Connection> c) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(c));
  }

 private:
  SqliteStorageOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> free_;
};

Profile ReadProfile(const Stmt& s) {
  Profile p;
  p.index = static_cast<ProfileIndex>(s.Int(0));
  p.workspace_id = s.Int(1);
  p.braze_id = s.Text(2);
  p.external_id = s.OptText(3);
  p.created_anonymous = s.Int(4) != 0;
  p.created_at = s.Int(5);
  return p;
}

Result<std::optional<Profile>> OneProfile(Stmt& s) {
  CF_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<Profile>();
  return std::optional<Profile>(ReadProfile(s));
}

Result<int> UserVersion(Connection& c) {
  Stmt s(c, "PRAGMA user_version");
  CF_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? static_cast<int>(s.Int(0)) : 0;
}

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(Pool& pool, std::unique_ptr<Connection> c, std::unique_lock<std::mutex> write_lock)
      : pool_(pool), c_(std::move(c)), write_lock_(std::move(write_lock)) {}
  ~SqliteTransaction() override {
    if (!done_) (void)c_->Exec("ROLLBACK");
    pool_.Give(std::move(c_));
  }

  Status Commit() override {
    CF_RETURN_IF_ERROR(c_->Exec("COMMIT"));
    done_ = true;
    // The WAL still holds the deleted profile's pages as they were: copy the zeroed pages into
    // the database and truncate the WAL. Best effort: a reader that holds an old snapshot makes
    // it wait (busy timeout) or fail, and the next deletion's checkpoint (or SQLite's own, at
    // the last connection's close) completes it.
    if (deleted_profiles_) {
      if (Status s = c_->Exec("PRAGMA wal_checkpoint(TRUNCATE)"); !s.ok()) {
        CF_LOG_WARN("after deleting profiles, the WAL checkpoint failed: {}", s.message());
      }
    }
    return Status::OK();
  }

  Status Savepoint() override { return c_->Exec("SAVEPOINT request"); }
  Status ReleaseSavepoint() override { return c_->Exec("RELEASE request"); }
  Status RollbackToSavepoint() override {
    CF_RETURN_IF_ERROR(c_->Exec("ROLLBACK TO request"));
    return c_->Exec("RELEASE request");
  }

  Result<std::optional<int64_t>> FindWorkspace(const std::string& name) override {
    Stmt s(*c_, "SELECT id FROM workspaces WHERE name = ?");
    s.Bind(name);
    CF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<int64_t>();
    return std::optional<int64_t>(s.Int(0));
  }
  Result<int64_t> CreateWorkspace(const std::string& name, int64_t now) override {
    Stmt s(*c_, "INSERT INTO workspaces(name, created_at) VALUES (?, ?)");
    s.Bind(name).Bind(now);
    CF_RETURN_IF_ERROR(s.Run());
    return sqlite3_last_insert_rowid(c_->db());
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
    return sqlite3_changes(c_->db()) > 0;
  }
  Status SetPartnerApiKey(int64_t partner_id, const StoredKey& key) override {
    Stmt s(*c_, "UPDATE partners SET key_id = ?, salt = ?, hash = ? WHERE id = ?");
    s.Bind(key.key_id).Bind(key.salt).Bind(key.hash).Bind(partner_id);
    return s.Run();
  }

  Result<int64_t> InsertPartner(const PartnerRecord& r) override {
    Stmt s(*c_, "INSERT INTO partners(name, display_name, key_id, salt, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)");
    s.Bind(r.name)
        .Bind(r.display_name)
        .Bind(r.api_key.key_id)
        .Bind(r.api_key.salt)
        .Bind(r.api_key.hash)
        .Bind(r.created_at);
    CF_RETURN_IF_ERROR(s.Run());
    return sqlite3_last_insert_rowid(c_->db());
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

  Status SetRateLimit(int64_t workspace_id, const std::string& endpoint, const RateLimitRecord& r) override {
    Stmt s(*c_,
           "INSERT OR REPLACE INTO rate_limits(workspace_id, endpoint, max_requests, window_seconds) "
           "VALUES (?, ?, ?, ?)");
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
           "VALUES (?, ?, ?, ?, ?)");
    s.Bind(workspace_id).Bind(p.braze_id).Bind(external_id).Bind(int64_t{p.created_anonymous}).Bind(now);
    CF_RETURN_IF_ERROR(s.Run());
    int64_t id = sqlite3_last_insert_rowid(c_->db());
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
  // instead of 1,000 statement round trips. CROSS JOIN pins json_each as the outer loop:
  // left to itself the planner may scan all profiles instead.
  Result<std::vector<std::optional<Match>>> MatchExternalIds(int64_t ws, const std::vector<std::string>& ids) override {
    Stmt s(*c_,
           "SELECT j.key, p.id, p.external_id IS NOT NULL FROM json_each(?) j CROSS JOIN "
           "profiles p ON p.workspace_id = ? AND p.external_id = j.value");
    s.Bind(nlohmann::json(ids).dump()).Bind(ws);
    return Matches(s, ids.size());
  }
  Result<std::vector<std::optional<Match>>> MatchDevices(int64_t ws, const std::vector<std::string>& ids) override {
    Stmt s(*c_,
           "SELECT j.key, p.id, p.external_id IS NOT NULL FROM json_each(?) j CROSS JOIN "
           "devices d ON d.workspace_id = ? AND d.device_id = j.value CROSS JOIN profiles p ON p.id = d.profile_id");
    s.Bind(nlohmann::json(ids).dump()).Bind(ws);
    return Matches(s, ids.size());
  }
  Result<std::vector<std::optional<Match>>> MatchAliases(int64_t ws, const std::vector<Alias>& aliases) override {
    nlohmann::json pairs = nlohmann::json::array();
    for (const auto& a : aliases) pairs.push_back({a.label, a.name});
    Stmt s(*c_,
           "SELECT j.key, p.id, p.external_id IS NOT NULL FROM json_each(?) j CROSS JOIN "
           "aliases a ON a.workspace_id = ? AND a.label = json_extract(j.value, '$[0]') "
           "AND a.name = json_extract(j.value, '$[1]') CROSS JOIN profiles p ON p.id = a.profile_id");
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
    Stmt s(*c_, "INSERT OR REPLACE INTO devices(workspace_id, device_id, profile_id) VALUES (?, ?, ?)");
    s.Bind(workspace_id).Bind(device_id).Bind(int64_t{index});
    return s.Run();
  }
  Result<std::vector<std::string>> Devices(ProfileIndex index) override {
    Stmt s(*c_, "SELECT device_id FROM devices WHERE profile_id = ? ORDER BY device_id");
    s.Bind(int64_t{index});
    return Strings(s);
  }
  Status SetAttribute(ProfileIndex index, const std::string& name, const std::string& value_json) override {
    Stmt s(*c_, "INSERT OR REPLACE INTO attributes(profile_id, name, value) VALUES (?, ?, ?)");
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
    {
      Stmt s(*c_,
             "INSERT OR IGNORE INTO attributes(profile_id, name, value) "
             "SELECT ?, name, value FROM attributes WHERE profile_id = ?");
      s.Bind(t).Bind(f);
      CF_RETURN_IF_ERROR(s.Run());
    }
    for (const char* sql : {"UPDATE OR IGNORE aliases SET profile_id = ? WHERE profile_id = ?",
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
    deleted_profiles_ = true;
    Stmt s(*c_,
           "UPDATE sends SET external_id = NULL, device_id = NULL, aliases = '[]', trigger_properties = '{}' "
           "WHERE profile_id = ?");
    s.Bind(int64_t{index});
    CF_RETURN_IF_ERROR(s.Run());
    return DeleteProfileRows(index);
  }
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

  Status QueueCohortEviction(ProfileIndex index) override {
    Stmt s(*c_, "INSERT OR IGNORE INTO cohort_evictions(profile_id) VALUES (?)");
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
    Stmt s(*c_, "INSERT INTO cohort_deltas(cohort_pk, added, removed) VALUES (?, ?, ?)");
    s.Bind(cohort_pk).BindBlob(added).BindBlob(removed);
    return s.Run();
  }
  Status WriteCohortSnapshot(int64_t cohort_pk, const std::string& snapshot) override {
    {
      Stmt s(*c_, "INSERT OR REPLACE INTO cohort_snapshots(cohort_pk, bitmap) VALUES (?, ?)");
      s.Bind(cohort_pk).BindBlob(snapshot);
      CF_RETURN_IF_ERROR(s.Run());
    }
    Stmt d(*c_, "DELETE FROM cohort_deltas WHERE cohort_pk = ?");
    d.Bind(cohort_pk);
    return d.Run();
  }
  Result<std::vector<CohortBitmapRecord>> LoadCohortBitmaps() override {
    CohortBitmapRecords out;
    {
      Stmt s(*c_, "SELECT cohort_pk, bitmap FROM cohort_snapshots");
      while (true) {
        CF_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        out.Of(s.Int(0)).snapshot = s.Text(1);
      }
    }
    Stmt s(*c_, "SELECT cohort_pk, added, removed FROM cohort_deltas ORDER BY seq");
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.Of(s.Int(0)).deltas.emplace_back(s.Text(1), s.Text(2));
    }
    return out.Take();
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
           "VALUES (?, ?, ?, ?, ?, ?, ?)");
    s.Bind(r.workspace_id).Bind(r.campaign_id).Bind(r.name).Bind(r.segment_id).Bind(r.channel).Bind(r.control_share);
    s.Bind(r.created_at);
    CF_RETURN_IF_ERROR(s.Run());
    return sqlite3_last_insert_rowid(c_->db());
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
    return sqlite3_changes(c_->db()) > 0;
  }
  Status SetFrequencyCap(int64_t ws, const FrequencyCapRecord& r) override {
    Stmt s(*c_, "INSERT OR REPLACE INTO frequency_caps(workspace_id, channel, max_messages, days) VALUES (?, ?, ?, ?)");
    s.Bind(ws).Bind(r.channel).Bind(r.max_messages).Bind(r.days);
    return s.Run();
  }
  Result<bool> RemoveFrequencyCap(int64_t ws, const std::string& channel) override {
    Stmt s(*c_, "DELETE FROM frequency_caps WHERE workspace_id = ? AND channel = ?");
    s.Bind(ws).Bind(channel);
    CF_RETURN_IF_ERROR(s.Run());
    return sqlite3_changes(c_->db()) > 0;
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
           "INSERT OR REPLACE INTO delivery(workspace_id, adapter, url, max_attempts, initial_backoff_ms, timeout_ms) "
           "VALUES (?, ?, ?, ?, ?, ?)");
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
           "VALUES (?, ?, ?, ?, ?)");
    s.Bind(r.campaign_pk).Bind(r.dispatch_id).Bind(r.send_id).Bind(r.trigger_properties_json).Bind(r.created_at);
    CF_RETURN_IF_ERROR(s.Run());
    return sqlite3_last_insert_rowid(c_->db());
  }

  // Four statements per batch, each joining the ids (a JSON array) against an index.
  Result<std::vector<RecipientInfo>> RecipientInfos(int64_t ws, const std::vector<ProfileIndex>& ids,
                                                    const std::string& subscription_attribute) override {
    const std::string list = nlohmann::json(ids).dump();
    std::vector<RecipientInfo> out;
    std::unordered_map<ProfileIndex, size_t> at;
    {
      Stmt s(*c_,
             "SELECT p.id, p.braze_id, p.external_id FROM json_each(?) j CROSS JOIN profiles p "
             "ON p.id = j.value AND p.workspace_id = ? ORDER BY j.key");
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
      Stmt s(*c_,
             "SELECT d.profile_id, min(d.device_id) FROM json_each(?) j CROSS JOIN devices d ON d.profile_id = j.value "
             "GROUP BY d.profile_id");
      s.Bind(list);
      while (true) {
        CF_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        auto it = at.find(static_cast<ProfileIndex>(s.Int(0)));
        if (it != at.end()) out[it->second].device_id = s.Text(1);
      }
    }
    {
      Stmt s(*c_,
             "SELECT a.profile_id, json_group_array(json_object('alias_label', a.label, 'alias_name', a.name)) "
             "FROM json_each(?) j CROSS JOIN aliases a ON a.profile_id = j.value GROUP BY a.profile_id");
      s.Bind(list);
      while (true) {
        CF_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        auto it = at.find(static_cast<ProfileIndex>(s.Int(0)));
        if (it != at.end()) out[it->second].aliases_json = s.Text(1);
      }
    }
    Stmt s(*c_,
           "SELECT a.profile_id, a.value FROM json_each(?) j CROSS JOIN attributes a "
           "ON a.profile_id = j.value AND a.name = ?");
    s.Bind(list).Bind(subscription_attribute);
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      auto it = at.find(static_cast<ProfileIndex>(s.Int(0)));
      if (it == at.end()) continue;
      const auto value = nlohmann::json::parse(s.Text(1), nullptr, false);
      out[it->second].subscription = value.is_string() ? value.get<std::string>() : "";
    }
    return out;
  }
  Result<std::vector<std::pair<ProfileIndex, int64_t>>> SentCounts(const std::vector<ProfileIndex>& ids,
                                                                   const std::string& channel, int64_t since) override {
    Stmt s(*c_,
           "SELECT x.profile_id, count(*) FROM json_each(?) j CROSS JOIN sends x INDEXED BY sends_cap "
           "ON x.profile_id = j.value AND x.channel = ? AND x.time >= ? AND x.outcome = 'sent' GROUP BY x.profile_id");
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
    Stmt s(
        *c_,
        "SELECT x.profile_id FROM json_each(?) j CROSS JOIN sends x ON x.dispatch_pk = ? AND x.profile_id = j.value");
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
  // `delivery <> 0 AND` repeats the partial index's condition word for word: SQLite uses a partial
  // index only for a WHERE clause that contains its condition, and `delivery = 1` alone does not.
  Result<std::vector<SendRecord>> ClaimPending(int64_t dispatch_pk, size_t limit) override {
    std::vector<SendRecord> out;
    {
      Stmt s(*c_, "SELECT " SEND_COLUMNS
                  " FROM sends INDEXED BY sends_pending WHERE dispatch_pk = ? AND delivery <> 0 AND delivery = 1 "
                  "ORDER BY id LIMIT ?");
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
    Stmt s(*c_,
           "UPDATE sends INDEXED BY sends_pending SET outcome = 'failed', reason = ?, delivery = 0 "
           "WHERE delivery <> 0 AND delivery = 2");
    s.Bind(reason);
    CF_RETURN_IF_ERROR(s.Run());
    return static_cast<int64_t>(sqlite3_changes(c_->db()));
  }
  Result<std::vector<std::pair<std::string, int64_t>>> DispatchOutcomes(int64_t dispatch_pk) override {
    Stmt s(*c_,
           "SELECT CASE WHEN delivery = 0 THEN outcome ELSE 'pending' END o, count(*) FROM sends "
           "WHERE dispatch_pk = ? GROUP BY o ORDER BY o");
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

 private:
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

  Pool& pool_;
  std::unique_ptr<Connection> c_;
  std::unique_lock<std::mutex> write_lock_;
  bool done_ = false;
  bool deleted_profiles_ = false;  // Commit() then checkpoints the WAL

 public:
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
};

class SqliteStorage final : public Storage {
 public:
  explicit SqliteStorage(const SqliteStorageOptions& o) : pool_(o) {}

  Status Init(const std::string& path) {
    CF_ASSIGN_OR_RETURN(auto c, pool_.Take());
    // A current schema needs no write lock: admin commands then start at once beside a busy server.
    CF_ASSIGN_OR_RETURN(int version, UserVersion(*c));
    if (version == kSchemaVersion) {
      pool_.Give(std::move(c));
      return Status::OK();
    }
    CF_RETURN_IF_ERROR(c->Exec("BEGIN IMMEDIATE").WithPrefix("creating the schema"));
    auto v = UserVersion(*c);
    Status s = v.has_value() ? Status::OK() : v.error();
    if (s.ok() && *v > kSchemaVersion) {
      s = Status::FailedPrecondition(path + " has schema version " + std::to_string(*v) + "; this engage knows " +
                                     std::to_string(kSchemaVersion) + " (use a newer engage)");
    }
    if (s.ok()) s = c->Exec(kSchema);
    if (s.ok() && *v >= 1 && *v < 2) s = c->Exec(kMigrateFrom1);
    if (s.ok()) s = c->Exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    if (s.ok()) s = c->Exec("COMMIT");
    if (!s.ok()) {
      (void)c->Exec("ROLLBACK");
      return s.WithPrefix("creating the schema");
    }
    pool_.Give(std::move(c));
    return Status::OK();
  }

  Result<std::unique_ptr<Transaction>> Begin(bool write) override {
    // One writer at a time inside this process; other processes queue on SQLite's lock.
    std::unique_lock<std::mutex> lock;
    if (write) lock = std::unique_lock<std::mutex>(write_mu_);
    CF_ASSIGN_OR_RETURN(auto c, pool_.Take());
    Status s = c->Exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
    if (!s.ok()) {
      pool_.Give(std::move(c));
      return Err(s);
    }
    return std::unique_ptr<Transaction>(std::make_unique<SqliteTransaction>(pool_, std::move(c), std::move(lock)));
  }

 private:
  Pool pool_;
  std::mutex write_mu_;
};

}  // namespace

Result<std::unique_ptr<Storage>> OpenSqliteStorage(const SqliteStorageOptions& options) {
  if (!options.create && ::access(options.path.c_str(), F_OK) != 0) {
    return Err(Status::NotFound("no engage database at " + options.path));
  }
  if (options.create) {
    // Created private to the owner; SQLite gives the -wal and -shm files the database's mode.
    int fd = ::open(options.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Err(Status::IOError("cannot create database " + options.path + ": " + std::strerror(errno)));
    ::close(fd);
  }
  auto storage = std::make_unique<SqliteStorage>(options);
  CF_RETURN_IF_ERROR(storage->Init(options.path));
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace cf::engage
