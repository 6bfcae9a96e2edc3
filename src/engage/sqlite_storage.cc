#include "engage/sqlite_storage.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/log.h"
#include "engage/sql_transaction.h"

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
  // The value of a RETURNING id.
  Result<int64_t> ReturnedId() {
    CF_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Err(Status::Internal(std::string("no id returned by ") + std::string(sql_).substr(0, 60)));
    return Int(0);
  }
  // Rows changed by the last INSERT, UPDATE or DELETE run on this connection.
  int64_t Changes() const { return sqlite3_changes64(db_); }
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

Result<int> UserVersion(Connection& c) {
  Stmt s(c, "PRAGMA user_version");
  CF_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? static_cast<int>(s.Int(0)) : 0;
}

// The statements SQLite writes its own way (sql_transaction.h). CROSS JOIN pins json_each as
// the outer loop: left to itself the planner may scan all profiles instead. `delivery <> 0 AND`
// repeats the partial index's condition word for word, so that SQLite can use it.
const SqlDialect kSqliteSql = {
    .match_external_ids =
        "SELECT j.key, p.id, p.external_id IS NOT NULL FROM json_each(?) j CROSS JOIN "
        "profiles p ON p.workspace_id = ? AND p.external_id = j.value",
    .match_devices =
        "SELECT j.key, p.id, p.external_id IS NOT NULL FROM json_each(?) j CROSS JOIN "
        "devices d ON d.workspace_id = ? AND d.device_id = j.value CROSS JOIN profiles p ON p.id = d.profile_id",
    .match_aliases =
        "SELECT j.key, p.id, p.external_id IS NOT NULL FROM json_each(?) j CROSS JOIN "
        "aliases a ON a.workspace_id = ? AND a.label = json_extract(j.value, '$[0]') "
        "AND a.name = json_extract(j.value, '$[1]') CROSS JOIN profiles p ON p.id = a.profile_id",
    .recipient_profiles =
        "SELECT p.id, p.braze_id, p.external_id FROM json_each(?) j CROSS JOIN profiles p "
        "ON p.id = j.value AND p.workspace_id = ? ORDER BY j.key",
    .recipient_devices =
        "SELECT d.profile_id, min(d.device_id) FROM json_each(?) j CROSS JOIN devices d ON d.profile_id = j.value "
        "GROUP BY d.profile_id",
    .recipient_aliases =
        "SELECT a.profile_id, json_group_array(json_object('alias_label', a.label, 'alias_name', a.name)) "
        "FROM json_each(?) j CROSS JOIN aliases a ON a.profile_id = j.value GROUP BY a.profile_id",
    .recipient_subscriptions =
        "SELECT a.profile_id, a.value FROM json_each(?) j CROSS JOIN attributes a "
        "ON a.profile_id = j.value AND a.name = ?",
    .sent_counts =
        "SELECT x.profile_id, count(*) FROM json_each(?) j CROSS JOIN sends x INDEXED BY sends_cap "
        "ON x.profile_id = j.value AND x.channel = ? AND x.time >= ? AND x.outcome = 'sent' GROUP BY x.profile_id",
    .decided_profiles =
        "SELECT x.profile_id FROM json_each(?) j CROSS JOIN sends x ON x.dispatch_pk = ? AND x.profile_id = j.value",
    .claim_pending = "SELECT " SEND_COLUMNS
                     " FROM sends INDEXED BY sends_pending WHERE dispatch_pk = ? AND delivery <> 0 AND delivery = 1 "
                     "ORDER BY id LIMIT ?",
    .fail_in_flight =
        "UPDATE sends INDEXED BY sends_pending SET outcome = 'failed', reason = ?, delivery = 0 "
        "WHERE delivery <> 0 AND delivery = 2",
};

class SqliteTransaction final : public SqlTransaction<Stmt, Connection> {
 public:
  SqliteTransaction(Pool& pool, std::unique_ptr<Connection> c, std::unique_lock<std::mutex> write_lock)
      : SqlTransaction(std::move(c), kSqliteSql), pool_(pool), write_lock_(std::move(write_lock)) {}
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

  // A deleted user's pages are zeroed in the database file (secure_delete), and Commit then
  // truncates the WAL, so nothing of the profile stays recoverable.
  Status DeleteProfile(ProfileIndex index) override {
    deleted_profiles_ = true;
    return SqlTransaction::DeleteProfile(index);
  }

 protected:
  Status CohortWritten(int64_t) override { return Status::OK(); }  // one process: no cache elsewhere

 private:
  Pool& pool_;
  std::unique_lock<std::mutex> write_lock_;
  bool done_ = false;
  bool deleted_profiles_ = false;  // Commit() then checkpoints the WAL
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
