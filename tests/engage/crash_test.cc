// Crash safety under load: `engage serve` is killed with SIGKILL at a random moment while
// several clients import cohorts (many adds and removes per request) and track users (many
// attributes per request). After each restart on the same store every acknowledged change is
// there, and the one request each client had in flight is either wholly applied or not at all.
// Runs on SQLite and, with CF_ENGAGE_BACKEND=postgresql, on PostgreSQL (label engage_pg).
// CF_CRASH_SEED=N replays a run: the seed is printed in every failure.
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

// fmt::format, not "literal" + std::to_string(): GCC 12 warns falsely on the latter (-Wrestrict).
#include <fmt/format.h>

#include "pg_cluster.h"
#include "test_util.h"

namespace cf::engage_test {
namespace {

using nlohmann::json;

constexpr int kCohortClients = 2;
constexpr int kTrackClients = 2;
constexpr int kPoolSize = 1000;        // profiles each cohort client moves in and out of its cohort
constexpr int kChangeSize = 200;       // ids added and ids removed per cohort request (400 in all)
constexpr int kUsersPerTrack = 74;     // new profiles per /users/track, plus the client's counter: 75
constexpr int kAttributesPerUser = 8;  // custom attributes of each new profile
constexpr int kRounds = 8;
constexpr auto kTimeBudget = std::chrono::seconds(40);  // rounds stop early past this
constexpr int kMinKillMs = 50;
constexpr int kMaxKillMs = 1500;
constexpr size_t kExportBatch = 50;  // kMaxUserBatch of /users/export/ids

std::string PoolUser(int client, int i) { return fmt::format("p{}-{}", client, i); }
std::string TrackUser(int client, int64_t seq, int i) { return fmt::format("t{}-{}-{}", client, seq, i); }
std::string CounterUser(int client) { return fmt::format("counter{}", client); }
std::string AttributeValue(int64_t seq, int i, int k) { return fmt::format("v{}-{}-{}", seq, i, k); }

// The profiles found among `ids`, by external_id, read back through /users/export/ids.
std::map<std::string, json> Export(http::Client& client, const std::string& key, const std::vector<std::string>& ids) {
  std::map<std::string, json> out;
  for (size_t start = 0; start < ids.size(); start += kExportBatch) {
    json batch = json::array();
    for (size_t i = start; i < std::min(ids.size(), start + kExportBatch); ++i) batch.push_back(ids[i]);
    json r = PostJson(client, "/users/export/ids", {{"external_ids", batch}}, key);
    if (!r.is_object() || !r.contains("users")) {
      ADD_FAILURE() << "export failed: " << r.dump();
      return out;
    }
    for (const auto& u : r["users"]) out[u["external_id"].get<std::string>()] = u;
  }
  return out;
}

struct CohortChangeSet {
  std::vector<std::string> add, remove;
};

// One client importing into its own cohort; its requests are sequential, so the store must
// hold the acknowledged state, or that state plus the one request in flight at the kill.
struct CohortClient {
  int index = 0;
  std::string cohort;
  std::set<std::string> members;  // after every acknowledged request
  std::optional<CohortChangeSet> pending;
  int64_t acknowledged = 0;

  static std::set<std::string> Apply(std::set<std::string> s, const CohortChangeSet& c) {
    for (const auto& u : c.add) s.insert(u);
    for (const auto& u : c.remove) s.erase(u);
    return s;
  }
};

// One client tracking batches of new profiles plus a counter profile whose "seq" attribute
// is the request's number: one request, one transaction, so both or neither survive.
struct TrackClient {
  int index = 0;
  int64_t next_seq = 0;
  int64_t last_applied = -1;     // the counter's expected value
  std::vector<int64_t> applied;  // every request whose profiles must exist
  std::vector<int64_t> lost;     // in flight at a kill and not applied: must never appear
  std::optional<int64_t> pending;
};

json TrackBody(int client, int64_t seq) {
  json attrs = json::array();
  for (int i = 0; i < kUsersPerTrack; ++i) {
    json u = {{"external_id", TrackUser(client, seq, i)}};
    for (int k = 0; k < kAttributesPerUser; ++k) u[fmt::format("a{}", k)] = AttributeValue(seq, i, k);
    attrs.push_back(std::move(u));
  }
  attrs.push_back({{"external_id", CounterUser(client)}, {"seq", seq}});
  return {{"attributes", attrs}};
}

// Failures name what a request left behind: "3 of 74 profiles" says half-applied.
void CheckTracked(http::Client& client, const std::string& key, int c, const std::vector<int64_t>& seqs, bool present) {
  std::vector<std::string> ids;
  for (int64_t seq : seqs) {
    for (int i = 0; i < kUsersPerTrack; ++i) ids.push_back(TrackUser(c, seq, i));
  }
  auto found = Export(client, key, ids);
  if (!present) {
    EXPECT_TRUE(found.empty()) << found.size() << " profiles of unapplied requests of track client " << c << ", e.g. "
                               << found.begin()->first;
    return;
  }
  EXPECT_EQ(found.size(), ids.size()) << "profiles of acknowledged requests missing, track client " << c;
  for (int64_t seq : seqs) {
    for (int i = 0; i < kUsersPerTrack; ++i) {
      auto it = found.find(TrackUser(c, seq, i));
      if (it == found.end()) continue;  // counted above
      const json& attrs = it->second["custom_attributes"];
      for (int k = 0; k < kAttributesPerUser; ++k) {
        EXPECT_EQ(attrs.value(fmt::format("a{}", k), ""), AttributeValue(seq, i, k)) << it->first;
      }
    }
  }
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* seed = std::getenv("CF_CRASH_SEED");
    seed_ = seed ? std::strtoull(seed, nullptr, 10) : std::random_device{}();
    rng_.seed(seed_);
    data_ = MakeTempDir("engage-crash");
    creds_ = SetUpCredentials(data_);
    // Verification reads every profile after every round: no limit may refuse it.
    ASSERT_EQ(
        RunAdmin(data_, {"rate-limit", "set", "--endpoint", "*", "--limit", "100000000", "--window-seconds", "60"})
            .exit_code,
        0);
  }
  void TearDown() override { std::filesystem::remove_all(data_); }

  json PartnerBody(const std::string& cohort) const {
    return {{"partner_api_key", creds_.partner_key}, {"client_secret", creds_.client_secret}, {"cohort_id", cohort}};
  }

  // SQLite's own check of the file the killed process left, before anything reopens it.
  void CheckSqliteIntegrity() const {
    if (UsingPostgres()) return;
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2((data_ + "/engage.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    std::string result;
    char* error = nullptr;
    sqlite3_exec(
        db, "PRAGMA integrity_check",
        [](void* out, int, char** values, char**) {
          *static_cast<std::string*>(out) += values[0] ? values[0] : "NULL";
          return 0;
        },
        &result, &error);
    EXPECT_EQ(error, nullptr) << error;
    sqlite3_free(error);
    sqlite3_close(db);
    EXPECT_EQ(result, "ok");
  }

  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  std::string data_;
  Credentials creds_;
};

TEST_F(CrashTest, SigkillDuringImportsAndTrackLosesNothingAcknowledged) {
  SCOPED_TRACE(fmt::format("CF_CRASH_SEED={}", seed_));
  const auto started = std::chrono::steady_clock::now();
  std::vector<CohortClient> cohorts(kCohortClients);
  std::vector<TrackClient> trackers(kTrackClients);
  std::vector<std::string> segment_ids(kCohortClients);
  auto server = std::make_unique<EngageServer>(data_);
  ASSERT_TRUE(server->running());
  {
    http::Client setup(server->base_url());
    for (int c = 0; c < kCohortClients; ++c) {
      cohorts[c].index = c;
      cohorts[c].cohort = fmt::format("crash{}", c);
      CreateUsers(setup, creds_.api_key, fmt::format("p{}-", c), kPoolSize);
      json cohort = PartnerBody(cohorts[c].cohort);
      cohort["name"] = cohorts[c].cohort;
      cohort["created_at"] = "2026-12-02T10:00:00Z";
      PostJson(setup, "/partners/tinyclues/cohorts", cohort);
      json seg =
          PostJson(setup, "/segments/create",
                   {{"name", cohorts[c].cohort},
                    {"filter", {{"partner_cohort", {{"partner", "tinyclues"}, {"includes", {cohorts[c].cohort}}}}}}},
                   creds_.api_key);
      segment_ids[c] = seg.value("segment_id", "");
    }
    for (int t = 0; t < kTrackClients; ++t) trackers[t].index = t;
  }

  int rounds = 0;
  int64_t acknowledged_total = 0, in_flight_applied = 0, in_flight_lost = 0;
  for (; rounds < kRounds && std::chrono::steady_clock::now() - started < kTimeBudget; ++rounds) {
    SCOPED_TRACE(fmt::format("round {}", rounds));
    const std::string url = server->base_url();
    std::atomic<int> answered_errors{0};
    std::vector<std::thread> threads;
    std::vector<size_t> applied_before;
    for (const TrackClient& me : trackers) applied_before.push_back(me.applied.size());
    std::vector<uint64_t> thread_seeds;
    for (int i = 0; i < kCohortClients + kTrackClients; ++i) thread_seeds.push_back(rng_());
    for (int c = 0; c < kCohortClients; ++c) {
      threads.emplace_back([&, c] {
        CohortClient& me = cohorts[c];
        std::mt19937_64 rng(thread_seeds[c]);
        http::Client client(url);
        std::vector<int> order(kPoolSize);
        for (int i = 0; i < kPoolSize; ++i) order[i] = i;
        while (true) {
          std::shuffle(order.begin(), order.end(), rng);
          CohortChangeSet change;
          for (int i = 0; i < kChangeSize; ++i) change.add.push_back(PoolUser(c, order[i]));
          for (int i = kChangeSize; i < 2 * kChangeSize; ++i) change.remove.push_back(PoolUser(c, order[i]));
          json body = PartnerBody(me.cohort);
          body["cohort_changes"] = {{{"user_ids", change.add}}, {{"user_ids", change.remove}, {"should_remove", true}}};
          auto r = client.Post("/partners/tinyclues/cohorts/users", body.dump());
          if (!r.has_value() || r->status != 201) {
            // The kill: unknown whether it was applied. Any other answer is a failure of its own.
            if (r.has_value()) ++answered_errors;
            me.pending = std::move(change);
            return;
          }
          const std::set<std::string> next = CohortClient::Apply(me.members, change);
          json a = json::parse(r->body, nullptr, false);
          int64_t want_added = 0, want_removed = 0;
          for (const auto& u : change.add) want_added += me.members.count(u) ? 0 : 1;
          for (const auto& u : change.remove) want_removed += me.members.count(u);
          EXPECT_EQ(a.value("added", int64_t{-1}), want_added) << "cohort client " << c;
          EXPECT_EQ(a.value("removed", int64_t{-1}), want_removed) << "cohort client " << c;
          me.members = next;
          ++me.acknowledged;
        }
      });
    }
    for (int t = 0; t < kTrackClients; ++t) {
      threads.emplace_back([&, t] {
        TrackClient& me = trackers[t];
        http::Client client(url);
        while (true) {
          const int64_t seq = me.next_seq++;
          auto r =
              client.Post("/users/track", TrackBody(t, seq).dump(), {{"Authorization", "Bearer " + creds_.api_key}});
          if (!r.has_value() || r->status != 201) {
            if (r.has_value()) ++answered_errors;
            me.pending = seq;
            return;
          }
          me.applied.push_back(seq);
          me.last_applied = seq;
        }
      });
    }
    std::uniform_int_distribution<int> delay(kMinKillMs, kMaxKillMs);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng_)));
    server->Kill();
    for (auto& th : threads) th.join();
    EXPECT_EQ(answered_errors.load(), 0) << "non-201 answers under load, before the kill";

    CheckSqliteIntegrity();
    // Every other round snapshots cohort bitmaps often, so a kill can land on the snapshot path.
    std::vector<std::string> args;
    if (rounds % 2 == 1) args = {"--deltas-per-snapshot", "3"};
    server = std::make_unique<EngageServer>(data_, args);
    ASSERT_TRUE(server->running()) << "the store did not open after the kill";
    http::Client client(server->base_url());

    for (CohortClient& me : cohorts) {
      std::vector<std::string> pool;
      for (int i = 0; i < kPoolSize; ++i) pool.push_back(PoolUser(me.index, i));
      std::set<std::string> stored;
      for (const auto& [id, u] : Export(client, creds_.api_key, pool)) {
        for (const auto& c : u["cohorts"]) {
          if (c["cohort_id"] == me.cohort) stored.insert(id);
        }
      }
      acknowledged_total += me.acknowledged;
      me.acknowledged = 0;
      if (me.pending && stored == CohortClient::Apply(me.members, *me.pending)) {
        me.members = stored;  // the request in flight committed before the kill: all of it
        ++in_flight_applied;
      } else {
        if (me.pending) ++in_flight_lost;
        EXPECT_EQ(stored.size(), me.members.size()) << me.cohort;
        EXPECT_TRUE(stored == me.members) << me.cohort << ": neither the acknowledged state nor it plus the whole "
                                          << "request in flight";
        me.members = stored;  // go on from what is there, so one failure does not cascade
      }
      me.pending.reset();
      auto details = client.Get("/segments/details?segment_id=" + segment_ids[me.index],
                                {{"Authorization", "Bearer " + creds_.api_key}});
      ASSERT_TRUE(details.has_value());
      EXPECT_EQ(json::parse(details->body, nullptr, false).value("size", int64_t{-1}),
                static_cast<int64_t>(me.members.size()))
          << "segment of " << me.cohort;
    }

    for (TrackClient& me : trackers) {
      auto counter = Export(client, creds_.api_key, {CounterUser(me.index)});
      const int64_t seq = counter.count(CounterUser(me.index))
                              ? counter[CounterUser(me.index)]["custom_attributes"].value("seq", int64_t{-1})
                              : -1;
      acknowledged_total += static_cast<int64_t>(me.applied.size() - applied_before[me.index]);
      if (me.pending && seq == *me.pending) {
        me.applied.push_back(*me.pending);
        me.last_applied = *me.pending;
        ++in_flight_applied;
      } else {
        EXPECT_EQ(seq, me.last_applied) << "counter of track client " << me.index;
        if (me.pending) {
          me.lost.push_back(*me.pending);
          ++in_flight_lost;
        }
      }
      me.pending.reset();
      // This round's requests in full (earlier rounds were checked after their own kill).
      const std::vector<int64_t> recent(me.applied.begin() + static_cast<std::ptrdiff_t>(applied_before[me.index]),
                                        me.applied.end());
      CheckTracked(client, creds_.api_key, me.index, recent, true);
      if (!me.lost.empty()) CheckTracked(client, creds_.api_key, me.index, {me.lost.back()}, false);
    }
    if (HasFailure()) break;
  }
  EXPECT_GE(rounds, 6) << "too few rounds in the time budget";

  // Last, everything of every round once more, after a clean stop and start.
  ASSERT_EQ(server->Stop(), 0);
  server = std::make_unique<EngageServer>(data_);
  ASSERT_TRUE(server->running());
  http::Client client(server->base_url());
  for (TrackClient& me : trackers) {
    CheckTracked(client, creds_.api_key, me.index, me.applied, true);
    CheckTracked(client, creds_.api_key, me.index, me.lost, false);
  }
  std::printf(
      "crash test: %d rounds, %lld requests acknowledged, in flight at the kill: %lld applied whole, "
      "%lld not at all\n",
      rounds, static_cast<long long>(acknowledged_total), static_cast<long long>(in_flight_applied),
      static_cast<long long>(in_flight_lost));
}

}  // namespace
}  // namespace cf::engage_test
