#include "engage/postgres_storage.h"

#include <libpq-fe.h>
#include <openssl/sha.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/password.h"
#include "engage/sql_transaction.h"

namespace cf::engage {

namespace {

// The migrations, in order: migration i (from 0) brings a database from version i to i + 1.
// 1: the tables of SQLite schema version 4, with PostgreSQL types.
// 2: cohort_versions, bumped by every write of a cohort's bitmap, so that a server's cached
//    bitmaps learn of another server's writes (docs/scaling.md).
// 3: rate_windows, the request counts of every server (Storage::CountRequest).
// 4: security_events.
// 5: console_sessions and sign_in_failures, the console's sign-in state of every server
//    (Storage::SharedSignInState).
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE workspaces(id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL);
CREATE TABLE api_keys(key_id TEXT PRIMARY KEY, salt TEXT NOT NULL, hash TEXT NOT NULL,
  workspace_id BIGINT NOT NULL, name TEXT NOT NULL, permissions TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE partners(id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL, key_id TEXT NOT NULL UNIQUE, salt TEXT NOT NULL, hash TEXT NOT NULL,
  created_at BIGINT NOT NULL);
CREATE TABLE data_import_keys(workspace_id BIGINT NOT NULL, partner_id BIGINT NOT NULL,
  key_id TEXT NOT NULL UNIQUE, salt TEXT NOT NULL, hash TEXT NOT NULL, created_at BIGINT NOT NULL,
  PRIMARY KEY(workspace_id, partner_id));
CREATE TABLE rate_limits(workspace_id BIGINT NOT NULL, endpoint TEXT NOT NULL,
  max_requests BIGINT NOT NULL, window_seconds BIGINT NOT NULL, PRIMARY KEY(workspace_id, endpoint));
CREATE TABLE profiles(id BIGSERIAL PRIMARY KEY, workspace_id BIGINT NOT NULL,
  braze_id TEXT NOT NULL UNIQUE, external_id TEXT, created_anonymous BIGINT NOT NULL, created_at BIGINT NOT NULL);
CREATE UNIQUE INDEX profiles_external ON profiles(workspace_id, external_id);
CREATE INDEX profiles_workspace ON profiles(workspace_id);
CREATE TABLE aliases(workspace_id BIGINT NOT NULL, label TEXT NOT NULL, name TEXT NOT NULL,
  profile_id BIGINT NOT NULL, PRIMARY KEY(workspace_id, label, name));
CREATE UNIQUE INDEX aliases_profile ON aliases(profile_id, label);
CREATE TABLE devices(workspace_id BIGINT NOT NULL, device_id TEXT NOT NULL,
  profile_id BIGINT NOT NULL, PRIMARY KEY(workspace_id, device_id));
CREATE INDEX devices_profile ON devices(profile_id);
CREATE TABLE attributes(profile_id BIGINT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(profile_id, name));
CREATE INDEX attributes_name ON attributes(name, profile_id);
CREATE TABLE events(id BIGSERIAL PRIMARY KEY, profile_id BIGINT NOT NULL, name TEXT NOT NULL,
  time BIGINT NOT NULL, properties TEXT NOT NULL);
CREATE INDEX events_profile ON events(profile_id);
CREATE TABLE purchases(id BIGSERIAL PRIMARY KEY, profile_id BIGINT NOT NULL,
  product_id TEXT NOT NULL, currency TEXT NOT NULL, price DOUBLE PRECISION NOT NULL, quantity BIGINT NOT NULL,
  time BIGINT NOT NULL, properties TEXT NOT NULL);
CREATE INDEX purchases_product ON purchases(product_id, time);
CREATE INDEX purchases_profile ON purchases(profile_id);
CREATE TABLE cohorts(id BIGSERIAL PRIMARY KEY, workspace_id BIGINT NOT NULL,
  partner_id BIGINT NOT NULL, cohort_id TEXT NOT NULL, name TEXT NOT NULL, created_at BIGINT NOT NULL,
  UNIQUE(workspace_id, partner_id, cohort_id));
CREATE INDEX cohorts_name ON cohorts(workspace_id, partner_id, name);
CREATE TABLE cohort_snapshots(cohort_pk BIGINT PRIMARY KEY, bitmap BYTEA NOT NULL);
CREATE TABLE cohort_deltas(seq BIGSERIAL PRIMARY KEY, cohort_pk BIGINT NOT NULL,
  added BYTEA NOT NULL, removed BYTEA NOT NULL);
CREATE INDEX cohort_deltas_cohort ON cohort_deltas(cohort_pk, seq);
CREATE TABLE segments(id BIGSERIAL PRIMARY KEY, workspace_id BIGINT NOT NULL,
  segment_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, filter TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE cohort_evictions(profile_id BIGINT PRIMARY KEY);
CREATE TABLE campaigns(id BIGSERIAL PRIMARY KEY, workspace_id BIGINT NOT NULL,
  campaign_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, segment_id TEXT NOT NULL, channel TEXT NOT NULL,
  control_share DOUBLE PRECISION NOT NULL, created_at BIGINT NOT NULL, UNIQUE(workspace_id, name));
CREATE TABLE frequency_caps(workspace_id BIGINT NOT NULL, channel TEXT NOT NULL,
  max_messages BIGINT NOT NULL, days BIGINT NOT NULL, PRIMARY KEY(workspace_id, channel));
CREATE TABLE delivery(workspace_id BIGINT PRIMARY KEY, adapter TEXT NOT NULL, url TEXT NOT NULL,
  max_attempts BIGINT NOT NULL, initial_backoff_ms BIGINT NOT NULL, timeout_ms BIGINT NOT NULL);
CREATE TABLE dispatches(id BIGSERIAL PRIMARY KEY, campaign_pk BIGINT NOT NULL,
  dispatch_id TEXT NOT NULL UNIQUE, send_id TEXT, trigger_properties TEXT NOT NULL, created_at BIGINT NOT NULL,
  UNIQUE(campaign_pk, send_id));
CREATE TABLE sends(id BIGSERIAL PRIMARY KEY, dispatch_pk BIGINT NOT NULL, campaign_pk BIGINT NOT NULL,
  profile_id BIGINT NOT NULL, braze_id TEXT NOT NULL, external_id TEXT, device_id TEXT, aliases TEXT NOT NULL,
  channel TEXT NOT NULL, time BIGINT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL,
  trigger_properties TEXT NOT NULL, delivery BIGINT NOT NULL, UNIQUE(dispatch_pk, profile_id));
CREATE TABLE dashboard_users(email TEXT PRIMARY KEY, workspace TEXT NOT NULL,
  salt TEXT NOT NULL, hash TEXT NOT NULL, iterations BIGINT NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX sends_cap ON sends(profile_id, channel, time) WHERE outcome = 'sent';
CREATE INDEX sends_campaign ON sends(campaign_pk, id);
CREATE INDEX sends_pending ON sends(dispatch_pk, delivery) WHERE delivery <> 0;
)sql",
    R"sql(
CREATE TABLE cohort_versions(cohort_pk BIGINT PRIMARY KEY, version BIGINT NOT NULL);
)sql",
    R"sql(
CREATE TABLE rate_windows(key TEXT PRIMARY KEY, window_start BIGINT NOT NULL, count BIGINT NOT NULL);
)sql",
    R"sql(
CREATE TABLE security_events(id BIGSERIAL PRIMARY KEY, time BIGINT NOT NULL, workspace TEXT NOT NULL,
  event TEXT NOT NULL, actor TEXT NOT NULL, remote_addr TEXT NOT NULL, detail TEXT NOT NULL);
)sql",
    R"sql(
CREATE TABLE console_sessions(token_hash TEXT PRIMARY KEY, email TEXT NOT NULL, workspace TEXT NOT NULL,
  csrf_token TEXT NOT NULL, created_at BIGINT NOT NULL, last_seen BIGINT NOT NULL);
CREATE TABLE sign_in_failures(key TEXT PRIMARY KEY, window_start BIGINT NOT NULL, failures BIGINT NOT NULL);
CREATE INDEX sign_in_failures_start ON sign_in_failures(window_start);
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

// The tables a copy moves and a summary covers, in creation order (schema_version excluded).
const char* const kTables[] = {"workspaces", "api_keys", "partners", "data_import_keys", "rate_limits",
                               "profiles", "aliases", "devices", "attributes", "events", "purchases",
                               "cohorts", "cohort_snapshots", "cohort_deltas", "segments", "cohort_evictions",
                               "campaigns", "frequency_caps", "delivery", "dispatches", "sends",
                               "dashboard_users", "security_events"};
// Tables whose `id` (cohort_deltas: `seq`) comes from a sequence, reset after a copy.
const std::pair<const char*, const char*> kSerials[] = {
    {"workspaces", "id"}, {"partners", "id"},  {"profiles", "id"},  {"events", "id"},
    {"purchases", "id"},  {"cohorts", "id"},   {"cohort_deltas", "seq"}, {"segments", "id"},
    {"campaigns", "id"},  {"dispatches", "id"}, {"sends", "id"},  {"security_events", "id"}};

// Every writer takes this transaction-scoped advisory lock first: writes are serialized across
// all servers and commands sharing the database, as SQLite's single write lock does for one file.
constexpr int64_t kWriteLockKey = 0x656e67616765;  // "engage"

// A JSON array of strings (or of profile indexes, or of [label, name] pairs) as rows (key, value)
// with key counting from 0, like SQLite's json_each.
#define JSONEACH "(SELECT e.v AS value, e.o - 1 AS key FROM jsonb_array_elements_text(?::jsonb) WITH ORDINALITY e(v, o))"
#define IDS "(SELECT e.v::bigint AS value, e.o - 1 AS key FROM jsonb_array_elements_text(?::jsonb) WITH ORDINALITY e(v, o))"
#define JSONPAIRS "(SELECT e.v AS value, e.o - 1 AS key FROM jsonb_array_elements(?::jsonb) WITH ORDINALITY e(v, o))"


constexpr Oid kByteaOid = 17;
constexpr Oid kBoolOid = 16;
constexpr Oid kFloat8Oid = 701;

Status PgError(PGconn* conn, const PGresult* res, std::string_view what) {
  std::string msg = std::string(what) + ": ";
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* text = res ? PQresultErrorMessage(res) : nullptr;
  msg += (text && *text) ? text : PQerrorMessage(conn);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  const std::string code = state ? state : "";
  if (code == "23505") return Status::AlreadyExists(msg);
  if (code == "40001" || code == "40P01" || code == "55P03" || code.rfind("08", 0) == 0) {
    return Status::Unavailable(msg);
  }
  if (PQstatus(conn) != CONNECTION_OK) return Status::Unavailable(msg + " (the connection to PostgreSQL is lost)");
  return Status::IOError(msg);
}

// `?` placeholders numbered $1, $2, ... in order; SQL already using $n is left alone.
std::string Numbered(const char* sql) {
  std::string out;
  int n = 0;
  bool quoted = false;
  for (const char* p = sql; *p; ++p) {
    if (*p == '\'') quoted = !quoted;
    if (*p == '?' && !quoted) {
      out += "$" + std::to_string(++n);
    } else {
      out += *p;
    }
  }
  return out;
}

class Connection {
 public:
  ~Connection() {
    if (conn_ != nullptr) PQfinish(conn_);
  }
  static Result<std::unique_ptr<Connection>> Open(const std::string& url) {
    auto c = std::unique_ptr<Connection>(new Connection());
    c->conn_ = PQconnectdb(url.c_str());
    if (c->conn_ == nullptr || PQstatus(c->conn_) != CONNECTION_OK) {
      std::string why = c->conn_ ? PQerrorMessage(c->conn_) : "out of memory";
      while (!why.empty() && why.back() == '\n') why.pop_back();
      return Err(Status::Unavailable("cannot connect to PostgreSQL at " + Redacted(url) + ": " + why));
    }
    PQsetNoticeProcessor(c->conn_, [](void*, const char*) {}, nullptr);
    CF_RETURN_IF_ERROR(c->Exec("SET client_min_messages = warning"));
    return c;
  }
  // The URL without its password, for messages.
  static std::string Redacted(const std::string& url) {
    auto scheme = url.find("://");
    auto at = url.find('@');
    if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
    auto colon = url.find(':', scheme + 3);
    if (colon == std::string::npos || colon > at) return url;
    return url.substr(0, colon) + ":***" + url.substr(at);
  }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  Status Exec(const std::string& sql) {
    PGresult* res = PQexec(conn_, sql.c_str());
    const auto st = PQresultStatus(res);
    Status s = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? Status::OK() : PgError(conn_, res, sql.substr(0, 60));
    PQclear(res);
    return s;
  }
  // The prepared statement's name for the literal, preparing it on first use.
  Result<std::string> Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second;
    std::string name = "s" + std::to_string(cache_.size());
    const std::string text = Numbered(sql);
    PGresult* res = PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr);
    const bool good = PQresultStatus(res) == PGRES_COMMAND_OK;
    Status s = good ? Status::OK() : PgError(conn_, res, std::string("prepare ") + std::string(sql).substr(0, 60));
    PQclear(res);
    if (!good) return Err(s);
    cache_.emplace(sql, name);
    return name;
  }
  PGconn* conn() const { return conn_; }

 private:
  Connection() = default;
  PGconn* conn_ = nullptr;
  std::unordered_map<const char*, std::string> cache_;  // keyed by the literal's address
};

// One execution of a prepared statement; the result is fetched whole, then stepped through.
class Stmt {
 public:
  Stmt(Connection& c, const char* sql) : c_(c), sql_(sql) {}
  ~Stmt() {
    if (res_ != nullptr) PQclear(res_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int64_t v) { return Add(std::to_string(v), 0, false); }
  Stmt& Bind(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return Add(buf, 0, false);
  }
  Stmt& Bind(std::string_view v) { return Add(std::string(v), 0, false); }
  Stmt& Bind(const std::string& v) { return Bind(std::string_view(v)); }
  Stmt& BindBlob(std::string_view v) { return Add(std::string(v), 1, false); }
  Stmt& Bind(const std::optional<std::string>& v) {
    if (!v) return Add({}, 0, true);
    return Bind(std::string_view(*v));
  }
  // True when a row is ready.
  Result<bool> Step() {
    if (res_ == nullptr) CF_RETURN_IF_ERROR(Execute());
    ++row_;
    return row_ < PQntuples(res_);
  }
  Status Run() {
    if (res_ == nullptr) return Execute();
    return Status::OK();
  }
  // The value of a RETURNING id.
  Result<int64_t> ReturnedId() {
    CF_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Err(Status::Internal(std::string("no id returned by ") + std::string(sql_).substr(0, 60)));
    return Int(0);
  }
  int64_t Changes() const { return res_ ? std::atoll(PQcmdTuples(res_)) : 0; }
  int64_t Int(int col) const {
    const char* v = PQgetvalue(res_, row_, col);
    if (PQftype(res_, col) == kBoolOid) return v[0] == 't' ? 1 : 0;
    return std::strtoll(v, nullptr, 10);
  }
  double Double(int col) const { return std::strtod(PQgetvalue(res_, row_, col), nullptr); }
  bool IsNull(int col) const { return PQgetisnull(res_, row_, col) != 0; }
  std::string Text(int col) const {
    const char* v = PQgetvalue(res_, row_, col);
    const int n = PQgetlength(res_, row_, col);
    if (PQftype(res_, col) == kByteaOid) return DecodeBytea(v, n);
    return std::string(v, static_cast<size_t>(n));
  }
  std::optional<std::string> OptText(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Text(col);
  }

  // bytea in the text format: \x then two hex digits a byte.
  static std::string DecodeBytea(const char* v, int n) {
    if (n < 2 || v[0] != '\\' || v[1] != 'x') return std::string(v, static_cast<size_t>(n));
    auto hex = [](char ch) -> int { return ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10; };
    std::string out;
    out.reserve(static_cast<size_t>(n - 2) / 2);
    for (int i = 2; i + 1 < n; i += 2) out.push_back(static_cast<char>(hex(v[i]) << 4 | hex(v[i + 1])));
    return out;
  }

 private:
  Stmt& Add(std::string v, int format, bool null) {
    values_.push_back(std::move(v));
    formats_.push_back(format);
    nulls_.push_back(null);
    return *this;
  }
  Status Execute() {
    CF_ASSIGN_OR_RETURN(std::string name, c_.Prepare(sql_));
    std::vector<const char*> values(values_.size());
    std::vector<int> lengths(values_.size());
    for (size_t i = 0; i < values_.size(); ++i) {
      values[i] = nulls_[i] ? nullptr : values_[i].data();
      lengths[i] = static_cast<int>(values_[i].size());
    }
    res_ = PQexecPrepared(c_.conn(), name.c_str(), static_cast<int>(values.size()), values.data(), lengths.data(),
                          formats_.data(), 0);
    const auto st = PQresultStatus(res_);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      Status s = PgError(c_.conn(), res_, std::string(sql_).substr(0, 60));
      PQclear(res_);
      res_ = nullptr;
      return s;
    }
    return Status::OK();
  }

  Connection& c_;
  const char* sql_;
  std::vector<std::string> values_;
  std::vector<int> formats_;
  std::vector<bool> nulls_;
  PGresult* res_ = nullptr;
  int row_ = -1;
};

class Pool {
 public:
  Pool(std::string url, int max_idle) : url_(std::move(url)), max_idle_(max_idle) {}
  Result<std::unique_ptr<Connection>> Take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      while (!free_.empty()) {
        auto c = std::move(free_.back());
        free_.pop_back();
        if (c->ok()) return c;  // a connection the server closed is dropped
      }
    }
    return Connection::Open(url_);
  }
  void Give(std::unique_ptr<Connection> c) {
    std::lock_guard<std::mutex> lock(mu_);
    if (c->ok() && static_cast<int>(free_.size()) < max_idle_) free_.push_back(std::move(c));
  }

 private:
  std::string url_;
  int max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> free_;
};

// The statements PostgreSQL writes its own way (sql_transaction.h).
const SqlDialect kPgSql = {
    .match_external_ids = "SELECT j.key, p.id, (p.external_id IS NOT NULL)::int FROM " JSONEACH
                          " j JOIN "
                          "profiles p ON p.workspace_id = ? AND p.external_id = j.value",
    .match_devices = "SELECT j.key, p.id, (p.external_id IS NOT NULL)::int FROM " JSONEACH
                     " j JOIN "
                     "devices d ON d.workspace_id = ? AND d.device_id = j.value JOIN profiles p ON p.id = d.profile_id",
    .match_aliases = "SELECT j.key, p.id, (p.external_id IS NOT NULL)::int FROM " JSONPAIRS
                     " j JOIN "
                     "aliases a ON a.workspace_id = ? AND a.label = j.value->>0 "
                     "AND a.name = j.value->>1 JOIN profiles p ON p.id = a.profile_id",
    .recipient_profiles = "SELECT p.id, p.braze_id, p.external_id FROM " IDS
                          " j JOIN profiles p "
                          "ON p.id = j.value AND p.workspace_id = ? ORDER BY j.key",
    .recipient_devices = "SELECT d.profile_id, min(d.device_id) FROM " IDS
                         " j JOIN devices d ON d.profile_id = j.value "
                         "GROUP BY d.profile_id",
    .recipient_aliases =
        "SELECT a.profile_id, json_agg(json_build_object('alias_label', a.label, 'alias_name', a.name) ORDER BY "
        "a.label) "
        "FROM " IDS " j JOIN aliases a ON a.profile_id = j.value GROUP BY a.profile_id",
    .recipient_subscriptions = "SELECT a.profile_id, a.value FROM " IDS
                               " j JOIN attributes a "
                               "ON a.profile_id = j.value AND a.name = ?",
    .sent_counts =
        "SELECT x.profile_id, count(*) FROM " IDS
        " j JOIN sends x "
        "ON x.profile_id = j.value AND x.channel = ? AND x.time >= ? AND x.outcome = 'sent' GROUP BY x.profile_id",
    .decided_profiles =
        "SELECT x.profile_id FROM " IDS " j JOIN sends x ON x.dispatch_pk = ? AND x.profile_id = j.value",
    .claim_pending = "SELECT " SEND_COLUMNS
                     " FROM sends WHERE dispatch_pk = ? AND delivery <> 0 AND delivery = 1 "
                     "ORDER BY id LIMIT ?",
    .fail_in_flight =
        "UPDATE sends SET outcome = 'failed', reason = ?, delivery = 0 "
        "WHERE delivery <> 0 AND delivery = 2",
};

class PgTransaction final : public SqlTransaction<Stmt, Connection> {
 public:
  PgTransaction(Pool& pool, std::unique_ptr<Connection> c)
      : SqlTransaction(std::move(c), kPgSql), pool_(pool) {}
  ~PgTransaction() override {
    if (!done_) (void)c_->Exec("ROLLBACK");
    pool_.Give(std::move(c_));
  }

  Status Commit() override {
    CF_RETURN_IF_ERROR(c_->Exec("COMMIT"));
    done_ = true;
    return Status::OK();
  }

  Status Savepoint() override { return c_->Exec("SAVEPOINT request"); }
  Status ReleaseSavepoint() override { return c_->Exec("RELEASE request"); }
  Status RollbackToSavepoint() override {
    CF_RETURN_IF_ERROR(c_->Exec("ROLLBACK TO request"));
    return c_->Exec("RELEASE request");
  }

  Result<std::vector<CohortBitmapRecord>> LoadCohortBitmapsOf(const std::vector<int64_t>& cohort_pks) override {
    std::string array = "{";
    for (size_t i = 0; i < cohort_pks.size(); ++i) array += (i ? "," : "") + std::to_string(cohort_pks[i]);
    array += "}";
    return LoadBitmaps("SELECT cohort_pk, bitmap FROM cohort_snapshots WHERE cohort_pk = ANY(?::bigint[])",
                       "SELECT cohort_pk, added, removed FROM cohort_deltas WHERE cohort_pk = ANY(?::bigint[]) "
                       "ORDER BY seq",
                       array);
  }

  Result<int64_t> CohortsVersion() override {
    Stmt s(*c_, "SELECT coalesce(sum(version), 0)::bigint FROM cohort_versions");
    CF_ASSIGN_OR_RETURN(bool row, s.Step());
    return row ? s.Int(0) : int64_t{0};
  }
  Result<std::unordered_map<int64_t, int64_t>> CohortVersions() override {
    std::unordered_map<int64_t, int64_t> out;
    Stmt s(*c_, "SELECT cohort_pk, version FROM cohort_versions");
    while (true) {
      CF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out[s.Int(0)] = s.Int(1);
    }
    return out;
  }

 protected:
  // Tells other servers' caches that the cohort's bitmap changed: the version goes up and a
  // notification is sent when the transaction commits.
  Status CohortWritten(int64_t cohort_pk) override {
    {
      Stmt s(*c_,
             "INSERT INTO cohort_versions(cohort_pk, version) VALUES (?, 1) "
             "ON CONFLICT(cohort_pk) DO UPDATE SET version = cohort_versions.version + 1");
      s.Bind(cohort_pk);
      CF_RETURN_IF_ERROR(s.Run());
    }
    Stmt n(*c_, "SELECT pg_notify('engage_cohorts', ?)");
    n.Bind(std::to_string(cohort_pk));
    return n.Run();
  }

 private:
  Pool& pool_;
  bool done_ = false;
};

// The database's schema version; 0 when engage never created its tables there.
Result<int> DatabaseVersion(Connection& c) {
  Stmt t(c, "SELECT to_regclass('schema_version') IS NOT NULL");
  CF_ASSIGN_OR_RETURN(bool row, t.Step());
  if (!row || t.Int(0) == 0) return 0;
  Stmt s(c, "SELECT version FROM schema_version");
  CF_ASSIGN_OR_RETURN(bool any, s.Step());
  return any ? static_cast<int>(s.Int(0)) : 0;
}

// Applies the missing migrations in one transaction, under the write lock so that servers
// starting together migrate once.
Status Migrate(Connection& c, const std::string& url, bool allowed) {
  CF_ASSIGN_OR_RETURN(int version, DatabaseVersion(c));
  if (version == kSchemaVersion) return Status::OK();
  if (version > kSchemaVersion) {
    return Status::FailedPrecondition(Connection::Redacted(url) + " has engage schema version " +
                                      std::to_string(version) + "; this engage knows " +
                                      std::to_string(kSchemaVersion) + " (use a newer engage)");
  }
  if (!allowed) {
    return Status::FailedPrecondition(Connection::Redacted(url) + " has engage schema version " +
                                      std::to_string(version) + ", older than " + std::to_string(kSchemaVersion) +
                                      "; run `engage migrate --store URL`");
  }
  CF_RETURN_IF_ERROR(c.Exec("BEGIN"));
  Status s = c.Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kWriteLockKey) + ")");
  auto v = s.ok() ? DatabaseVersion(c) : Result<int>(Err(s));
  if (!v) s = v.error();
  if (s.ok() && *v == 0) s = c.Exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)");
  for (int i = s.ok() ? *v : kSchemaVersion; s.ok() && i < kSchemaVersion; ++i) s = c.Exec(kMigrations[i]);
  if (s.ok() && *v < kSchemaVersion) {
    s = c.Exec("DELETE FROM schema_version");
    if (s.ok()) s = c.Exec("INSERT INTO schema_version(version) VALUES (" + std::to_string(kSchemaVersion) + ")");
  }
  if (s.ok()) s = c.Exec("COMMIT");
  if (!s.ok()) {
    (void)c.Exec("ROLLBACK");
    return s.WithPrefix("migrating the engage schema");
  }
  return Status::OK();
}

// The console's sessions in the database, so that every server behind a load balancer knows
// them. Only the token's SHA-256 is stored: a copy of the table signs nobody in.
class PgSessions final : public http::SessionStore {
 public:
  PgSessions(Pool& pool, const Clock& clock, int64_t idle_seconds, int64_t max_seconds)
      : pool_(pool), clock_(clock), idle_seconds_(idle_seconds), max_seconds_(max_seconds) {}

  Result<std::string> Create(const std::string& email, const std::string& workspace) override {
    const int64_t now = clock_.NowSeconds();
    std::string token = http::RandomHex(32);
    CF_ASSIGN_OR_RETURN(auto c, pool_.Take());
    // Expired sessions go when a new one comes, as in memory.
    CF_RETURN_IF_ERROR(Stmt(*c, "DELETE FROM console_sessions WHERE last_seen <= ? OR created_at <= ?")
                           .Bind(now - idle_seconds_)
                           .Bind(now - max_seconds_)
                           .Run());
    CF_RETURN_IF_ERROR(Stmt(*c, "INSERT INTO console_sessions(token_hash, email, workspace, csrf_token, created_at, "
                                "last_seen) VALUES (?, ?, ?, ?, ?, ?)")
                           .Bind(TokenHash(token))
                           .Bind(email)
                           .Bind(workspace)
                           .Bind(http::RandomHex(32))
                           .Bind(now)
                           .Bind(now)
                           .Run());
    pool_.Give(std::move(c));
    return token;
  }

  Result<std::optional<Session>> Touch(const std::string& token) override {
    const int64_t now = clock_.NowSeconds();
    CF_ASSIGN_OR_RETURN(auto c, pool_.Take());
    std::optional<Session> out;
    {
      Stmt s(*c,
             "UPDATE console_sessions SET last_seen = GREATEST(last_seen, ?) WHERE token_hash = ? AND last_seen > ? "
             "AND created_at > ? RETURNING email, workspace, csrf_token, created_at, last_seen");
      s.Bind(now).Bind(TokenHash(token)).Bind(now - idle_seconds_).Bind(now - max_seconds_);
      CF_ASSIGN_OR_RETURN(const bool row, s.Step());
      if (row) out = Session{s.Text(0), s.Text(1), s.Text(2), s.Int(3), s.Int(4)};
    }
    if (!out) {
      CF_RETURN_IF_ERROR(
          Stmt(*c, "DELETE FROM console_sessions WHERE token_hash = ?").Bind(TokenHash(token)).Run());
    }
    pool_.Give(std::move(c));
    return out;
  }

  Status Remove(const std::string& token) override {
    CF_ASSIGN_OR_RETURN(auto c, pool_.Take());
    CF_RETURN_IF_ERROR(Stmt(*c, "DELETE FROM console_sessions WHERE token_hash = ?").Bind(TokenHash(token)).Run());
    pool_.Give(std::move(c));
    return Status::OK();
  }

 private:
  static std::string TokenHash(const std::string& token) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
    return http::Hex(digest, sizeof digest);
  }

  Pool& pool_;
  const Clock& clock_;
  int64_t idle_seconds_, max_seconds_;
};

// Failed console sign-ins counted in the database for every server: N servers admit an email's
// or an address's limit once, not N times. One row per "email:<email>" and "client:<address>".
class PgSignInLimiter final : public http::SignInLimiter {
 public:
  PgSignInLimiter(Pool& pool, const Clock& clock, const http::SignInOptions& options)
      : pool_(pool), clock_(clock), options_(options) {}

  Result<int64_t> Attempt(const std::string& email, const std::string& client) override {
    const int64_t now = clock_.NowSeconds();
    CF_ASSIGN_OR_RETURN(auto c, pool_.Take());
    // Failures under ever new emails or addresses must not grow the table: ended windows go.
    CF_RETURN_IF_ERROR(Stmt(*c, "DELETE FROM sign_in_failures WHERE window_start <= ?")
                           .Bind(now - options_.failure_window_seconds)
                           .Run());
    // Both counts go up in one transaction whose row locks order the servers' attempts on a
    // key (always the email's row first, so two attempts never wait on each other in a
    // cycle); an attempt that takes either past its limit is rolled back, counting nothing.
    CF_RETURN_IF_ERROR(c->Exec("BEGIN"));
    int64_t wait = 0;
    Status status;
    for (const auto& [key, limit] : {std::pair{"email:" + email, options_.failures_per_email},
                                     std::pair{"client:" + client, options_.failures_per_client}}) {
      // A window that has ended starts again at this attempt.
      Stmt s(*c,
             "INSERT INTO sign_in_failures(key, window_start, failures) VALUES (?, ?, 1) ON CONFLICT(key) DO "
             "UPDATE SET failures = CASE WHEN sign_in_failures.window_start + ? <= excluded.window_start THEN 1 "
             "ELSE sign_in_failures.failures + 1 END, window_start = CASE WHEN sign_in_failures.window_start "
             "+ ? <= excluded.window_start THEN excluded.window_start ELSE sign_in_failures.window_start END "
             "RETURNING window_start, failures");
      s.Bind(key).Bind(now).Bind(options_.failure_window_seconds).Bind(options_.failure_window_seconds);
      auto row = s.Step();
      if (!row.has_value() || !*row) {
        status = row.has_value() ? Status::Internal("the sign-in count returned no row") : row.error();
        break;
      }
      if (s.Int(1) > limit) wait = std::max(wait, s.Int(0) + options_.failure_window_seconds - now);
    }
    if (status.ok()) status = c->Exec(wait > 0 ? "ROLLBACK" : "COMMIT");
    if (!status.ok()) return Err(status.WithPrefix("counting a console sign-in"));
    pool_.Give(std::move(c));
    return wait;
  }

  Status Succeeded(const std::string& email, const std::string& client) override {
    CF_ASSIGN_OR_RETURN(auto c, pool_.Take());
    CF_RETURN_IF_ERROR(Stmt(*c, "DELETE FROM sign_in_failures WHERE key = ?").Bind("email:" + email).Run());
    CF_RETURN_IF_ERROR(GiveBack(*c, "client:" + client));
    pool_.Give(std::move(c));
    return Status::OK();
  }

  Status Undo(const std::string& email, const std::string& client) override {
    CF_ASSIGN_OR_RETURN(auto c, pool_.Take());
    CF_RETURN_IF_ERROR(GiveBack(*c, "email:" + email));
    CF_RETURN_IF_ERROR(GiveBack(*c, "client:" + client));
    pool_.Give(std::move(c));
    return Status::OK();
  }

 private:
  static Status GiveBack(Connection& c, const std::string& key) {
    return Stmt(c, "UPDATE sign_in_failures SET failures = failures - 1 WHERE key = ? AND failures > 0").Bind(key).Run();
  }

  Pool& pool_;
  const Clock& clock_;
  http::SignInOptions options_;
};

class PgStorage final : public Storage {
 public:
  http::SignInState SharedSignInState(const Clock& clock, const http::SignInOptions& options) override {
    http::SignInState state;
    state.sessions =
        std::make_unique<PgSessions>(pool_, clock, options.session_idle_seconds, options.session_max_seconds);
    state.limiter = std::make_unique<PgSignInLimiter>(pool_, clock, options);
    return state;
  }

  // One autocommit statement: the row lock of the key orders concurrent requests of all servers.
  // A window only moves forward: a request that read the clock before the window ended but
  // reaches the row after a later one started it updates nothing and is refused (the caller
  // counts it again in the current window). Moving the window back used to restart both
  // windows' counts at every such request, and under load 3 times the limit got through.
  Result<std::optional<int64_t>> CountRequest(const std::string& key, int64_t window_start, int64_t limit) override {
    CF_ASSIGN_OR_RETURN(auto c, pool_.Take());
    int64_t count = 0;
    {
      Stmt s(*c,
             "INSERT INTO rate_windows(key, window_start, count) VALUES (?, ?, 1) ON CONFLICT(key) DO UPDATE SET "
             "count = CASE WHEN rate_windows.window_start < excluded.window_start THEN 1 "
             "WHEN rate_windows.count > $3 THEN rate_windows.count ELSE rate_windows.count + 1 END, "
             "window_start = excluded.window_start WHERE rate_windows.window_start <= excluded.window_start "
             "RETURNING count");
      s.Bind(key).Bind(window_start).Bind(limit);
      auto row = s.Step();
      if (!row.has_value()) return Err(row.error());
      count = *row ? s.Int(0) : limit + 1;
    }
    pool_.Give(std::move(c));
    return std::optional<int64_t>(count);
  }

  explicit PgStorage(const PostgresStorageOptions& o) : pool_(o.url, o.max_idle_connections) {}

  Status Init(const PostgresStorageOptions& o) {
    CF_ASSIGN_OR_RETURN(auto c, pool_.Take());
    CF_RETURN_IF_ERROR(Migrate(*c, o.url, o.migrate));
    pool_.Give(std::move(c));
    return Status::OK();
  }

  // Writers are serialized across every process on the database by an advisory lock; readers
  // see one snapshot for the whole transaction, as in SQLite.
  Result<std::unique_ptr<Transaction>> Begin(bool write) override {
    CF_ASSIGN_OR_RETURN(auto c, pool_.Take());
    Status s = c->Exec(write ? "BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(kWriteLockKey) + ")"
                             : std::string("BEGIN ISOLATION LEVEL REPEATABLE READ"));
    if (!s.ok()) {
      (void)c->Exec("ROLLBACK");
      pool_.Give(std::move(c));
      return Err(s);
    }
    return std::unique_ptr<Transaction>(std::make_unique<PgTransaction>(pool_, std::move(c)));
  }

 private:
  Pool pool_;
};

// A value as the summaries hash it, whatever the backend: integers in decimal, reals with 17
// significant digits, text as is, blobs in hex, NULL distinct from every text.
struct RowHasher {
  std::string row;
  void Null() { row += "N;"; }
  void Value(std::string_view v) {
    row += 'V' + std::to_string(v.size()) + ':';
    row.append(v.data(), v.size());
  }
  void Real(double d) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    Value(buf);
  }
  void Blob(std::string_view bytes) {
    static const char* kHex = "0123456789abcdef";
    std::string hex;
    hex.reserve(bytes.size() * 2);
    for (unsigned char ch : bytes) {
      hex.push_back(kHex[ch >> 4]);
      hex.push_back(kHex[ch & 15]);
    }
    Value(hex);
  }
  // Adds the row's digest to the table's sum (order-independent) and starts the next row.
  void EndRow(unsigned char sum[32]) {
    unsigned char d[32];
    SHA256(reinterpret_cast<const unsigned char*>(row.data()), row.size(), d);
    unsigned carry = 0;
    for (int i = 31; i >= 0; --i) {
      carry += static_cast<unsigned>(sum[i]) + d[i];
      sum[i] = static_cast<unsigned char>(carry & 0xff);
      carry >>= 8;
    }
    row.clear();
  }
  static std::string Hex(const unsigned char sum[32]) {
    std::string out;
    char buf[3];
    for (int i = 0; i < 32; ++i) {
      std::snprintf(buf, sizeof buf, "%02x", sum[i]);
      out += buf;
    }
    return out;
  }
};

// The columns of a table in a fixed order (by name), so that both backends hash the same.
std::string ColumnList(const std::vector<std::string>& columns) {
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ") + c;
  return out;
}

Result<std::vector<std::string>> SqliteColumns(sqlite3* db, const std::string& table) {
  std::vector<std::string> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, ("PRAGMA table_info(" + table + ")").c_str(), -1, &st, nullptr) != SQLITE_OK) {
    return Err(Status::IOError(std::string("reading the columns of ") + table + ": " + sqlite3_errmsg(db)));
  }
  while (sqlite3_step(st) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
  sqlite3_finalize(st);
  std::sort(out.begin(), out.end());
  return out;
}

struct SqliteDb {
  sqlite3* db = nullptr;
  ~SqliteDb() {
    if (db) sqlite3_close(db);
  }
};

Result<std::unique_ptr<SqliteDb>> OpenSqliteReadOnly(const std::string& path) {
  auto d = std::make_unique<SqliteDb>();
  if (sqlite3_open_v2(path.c_str(), &d->db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    return Err(Status::NotFound("cannot open the SQLite store " + path + ": " +
                                (d->db ? sqlite3_errmsg(d->db) : "out of memory")));
  }
  sqlite3_busy_timeout(d->db, 10000);
  return d;
}

// Calls visit(columns, stmt) for every row of the table; the row's values in ColumnList order.
Status ScanSqliteTable(sqlite3* db, const std::string& table, const std::vector<std::string>& columns,
                       const std::function<Status(sqlite3_stmt*)>& visit) {
  sqlite3_stmt* st = nullptr;
  const std::string sql = "SELECT " + ColumnList(columns) + " FROM " + table;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    return Status::IOError("reading " + table + ": " + sqlite3_errmsg(db));
  }
  Status s;
  int rc;
  while (s.ok() && (rc = sqlite3_step(st)) == SQLITE_ROW) s = visit(st);
  if (s.ok() && rc != SQLITE_DONE) s = Status::IOError("reading " + table + ": " + sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return s;
}

Result<std::vector<TableSummary>> SummarizeSqliteDb(sqlite3* db) {
  std::vector<TableSummary> out;
  for (const char* table : kTables) {
    CF_ASSIGN_OR_RETURN(auto columns, SqliteColumns(db, table));
    unsigned char sum[32] = {};
    RowHasher h;
    int64_t rows = 0;
    CF_RETURN_IF_ERROR(ScanSqliteTable(db, table, columns, [&](sqlite3_stmt* st) {
      for (int i = 0; i < static_cast<int>(columns.size()); ++i) {
        switch (sqlite3_column_type(st, i)) {
          case SQLITE_NULL: h.Null(); break;
          case SQLITE_INTEGER: h.Value(std::to_string(sqlite3_column_int64(st, i))); break;
          case SQLITE_FLOAT: h.Real(sqlite3_column_double(st, i)); break;
          case SQLITE_BLOB:
            h.Blob(std::string_view(static_cast<const char*>(sqlite3_column_blob(st, i)),
                                    static_cast<size_t>(sqlite3_column_bytes(st, i))));
            break;
          default:
            h.Value(std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(st, i)),
                                     static_cast<size_t>(sqlite3_column_bytes(st, i))));
        }
      }
      h.EndRow(sum);
      ++rows;
      return Status::OK();
    }));
    out.push_back({table, rows, RowHasher::Hex(sum)});
  }
  return out;
}

Result<std::vector<std::string>> PgColumns(Connection& c, const std::string& table) {
  Stmt s(c,
         "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
         "AND table_name = ?");
  s.Bind(table);
  std::vector<std::string> out;
  while (true) {
    CF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(s.Text(0));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<TableSummary>> SummarizePg(Connection& c) {
  std::vector<TableSummary> out;
  for (const char* table : kTables) {
    CF_ASSIGN_OR_RETURN(auto columns, PgColumns(c, table));
    const std::string sql = "SELECT " + ColumnList(columns) + " FROM " + table;
    PGresult* res = PQexec(c.conn(), sql.c_str());
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
      Status s = PgError(c.conn(), res, "reading " + std::string(table));
      PQclear(res);
      return Err(s);
    }
    unsigned char sum[32] = {};
    RowHasher h;
    const int rows = PQntuples(res);
    for (int r = 0; r < rows; ++r) {
      for (int i = 0; i < PQnfields(res); ++i) {
        if (PQgetisnull(res, r, i)) {
          h.Null();
        } else if (PQftype(res, i) == kFloat8Oid) {
          h.Real(std::strtod(PQgetvalue(res, r, i), nullptr));
        } else if (PQftype(res, i) == kByteaOid) {
          h.Blob(Stmt::DecodeBytea(PQgetvalue(res, r, i), PQgetlength(res, r, i)));
        } else {
          h.Value(std::string_view(PQgetvalue(res, r, i), static_cast<size_t>(PQgetlength(res, r, i))));
        }
      }
      h.EndRow(sum);
    }
    PQclear(res);
    out.push_back({table, rows, RowHasher::Hex(sum)});
  }
  return out;
}

Status CompareSummaries(const std::vector<TableSummary>& from, const std::vector<TableSummary>& to) {
  for (size_t i = 0; i < from.size() && i < to.size(); ++i) {
    if (from[i].rows != to[i].rows || from[i].checksum != to[i].checksum) {
      return Status::Corruption("table " + from[i].table + " differs after the copy: " + std::to_string(from[i].rows) +
                              " rows (checksum " + from[i].checksum.substr(0, 16) + ") in SQLite, " +
                              std::to_string(to[i].rows) + " (checksum " + to[i].checksum.substr(0, 16) +
                              ") in PostgreSQL");
    }
  }
  return Status::OK();
}

}  // namespace

Status PostgresStorageOptions::Validate() const {
  if (!IsPostgresUrl(url)) {
    return Status::InvalidArgument("--store '" + url + "' is not a PostgreSQL URL (postgresql://[user@]host[:port]/database)");
  }
  if (max_idle_connections < 1) return Status::InvalidArgument("max_idle_connections must be at least 1");
  return Status::OK();
}

bool IsPostgresUrl(const std::string& store) {
  return store.rfind("postgresql://", 0) == 0 || store.rfind("postgres://", 0) == 0;
}

Result<std::unique_ptr<Storage>> OpenPostgresStorage(const PostgresStorageOptions& options) {
  CF_RETURN_IF_ERROR(options.Validate());
  auto storage = std::make_unique<PgStorage>(options);
  CF_RETURN_IF_ERROR(storage->Init(options));
  return std::unique_ptr<Storage>(std::move(storage));
}

Result<SchemaVersions> PostgresSchemaVersions(const std::string& url) {
  CF_ASSIGN_OR_RETURN(auto c, Connection::Open(url));
  CF_ASSIGN_OR_RETURN(int v, DatabaseVersion(*c));
  return SchemaVersions{v, kSchemaVersion};
}

Result<std::vector<TableSummary>> SummarizeSqlite(const std::string& sqlite_path) {
  CF_ASSIGN_OR_RETURN(auto d, OpenSqliteReadOnly(sqlite_path));
  return SummarizeSqliteDb(d->db);
}

Result<std::vector<TableSummary>> SummarizePostgres(const std::string& url) {
  CF_ASSIGN_OR_RETURN(auto c, Connection::Open(url));
  CF_RETURN_IF_ERROR(c->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ"));
  auto out = SummarizePg(*c);
  (void)c->Exec("ROLLBACK");
  return out;
}

Result<std::vector<TableSummary>> CopySqliteToPostgres(const std::string& sqlite_path, const std::string& url) {
  CF_ASSIGN_OR_RETURN(auto d, OpenSqliteReadOnly(sqlite_path));
  CF_ASSIGN_OR_RETURN(auto c, Connection::Open(url));
  CF_RETURN_IF_ERROR(Migrate(*c, url, true));
  // One read transaction on the SQLite side: the copy is of one consistent state.
  if (sqlite3_exec(d->db, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Err(Status::IOError("reading " + sqlite_path + ": " + sqlite3_errmsg(d->db)));
  }
  CF_RETURN_IF_ERROR(c->Exec("BEGIN"));
  auto fail = [&](Status s) {
    (void)c->Exec("ROLLBACK");
    sqlite3_exec(d->db, "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  };
  Status s = c->Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kWriteLockKey) + ")");
  if (!s.ok()) return Err(fail(s));
  for (const char* table : kTables) {
    PGresult* res = PQexec(c->conn(), (std::string("SELECT 1 FROM ") + table + " LIMIT 1").c_str());
    const bool busy = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0;
    PQclear(res);
    if (busy) {
      return Err(fail(Status::FailedPrecondition(Connection::Redacted(url) + " already holds engage data (table " +
                                                 table + " is not empty); migrate into an empty database")));
    }
  }
  for (const char* table : kTables) {
    auto columns = SqliteColumns(d->db, table);
    if (!columns) return Err(fail(columns.error()));
    std::string sql = std::string("INSERT INTO ") + table + "(" + ColumnList(*columns) + ") VALUES (";
    for (size_t i = 0; i < columns->size(); ++i) sql += (i ? ", $" : "$") + std::to_string(i + 1);
    sql += ")";
    PGresult* prep = PQprepare(c->conn(), (std::string("copy_") + table).c_str(), sql.c_str(), 0, nullptr);
    const bool prepared = PQresultStatus(prep) == PGRES_COMMAND_OK;
    if (!prepared) {
      Status e = PgError(c->conn(), prep, "preparing the copy of " + std::string(table));
      PQclear(prep);
      return Err(fail(e));
    }
    PQclear(prep);
    const int n = static_cast<int>(columns->size());
    std::vector<std::string> values(static_cast<size_t>(n));
    std::vector<const char*> ptrs(static_cast<size_t>(n));
    std::vector<int> lengths(static_cast<size_t>(n)), formats(static_cast<size_t>(n));
    s = ScanSqliteTable(d->db, table, *columns, [&](sqlite3_stmt* st) -> Status {
      for (int i = 0; i < n; ++i) {
        const int type = sqlite3_column_type(st, i);
        formats[i] = 0;
        if (type == SQLITE_NULL) {
          ptrs[i] = nullptr;
          continue;
        }
        if (type == SQLITE_BLOB) {
          values[i].assign(static_cast<const char*>(sqlite3_column_blob(st, i)),
                           static_cast<size_t>(sqlite3_column_bytes(st, i)));
          formats[i] = 1;
        } else if (type == SQLITE_FLOAT) {
          char buf[40];
          std::snprintf(buf, sizeof buf, "%.17g", sqlite3_column_double(st, i));
          values[i] = buf;
        } else {
          values[i].assign(reinterpret_cast<const char*>(sqlite3_column_text(st, i)),
                           static_cast<size_t>(sqlite3_column_bytes(st, i)));
        }
        ptrs[i] = values[i].data();
        lengths[i] = static_cast<int>(values[i].size());
      }
      PGresult* r = PQexecPrepared(c->conn(), (std::string("copy_") + table).c_str(), n, ptrs.data(), lengths.data(),
                                   formats.data(), 0);
      Status e = PQresultStatus(r) == PGRES_COMMAND_OK ? Status::OK()
                                                        : PgError(c->conn(), r, "copying a row of " + std::string(table));
      PQclear(r);
      return e;
    });
    if (!s.ok()) return Err(fail(s));
  }
  for (const auto& [table, column] : kSerials) {
    s = c->Exec(std::string("SELECT setval(pg_get_serial_sequence('") + table + "', '" + column +
                "'), (SELECT coalesce(max(" + column + "), 0) + 1 FROM " + table + "), false)");
    if (!s.ok()) return Err(fail(s));
  }
  // Every cohort starts at version 1 in its new home.
  s = c->Exec("INSERT INTO cohort_versions(cohort_pk, version) SELECT id, 1 FROM cohorts ON CONFLICT DO NOTHING");
  if (!s.ok()) return Err(fail(s));
  auto from = SummarizeSqliteDb(d->db);
  if (!from) return Err(fail(from.error()));
  auto to = SummarizePg(*c);
  if (!to) return Err(fail(to.error()));
  s = CompareSummaries(*from, *to);
  if (!s.ok()) return Err(fail(s));
  sqlite3_exec(d->db, "ROLLBACK", nullptr, nullptr, nullptr);
  CF_RETURN_IF_ERROR(c->Exec("COMMIT").WithPrefix("committing the copy"));
  return *to;
}

}  // namespace cf::engage
