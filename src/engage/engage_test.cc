// Engage over a storage that can be made to fail its commits: a failed commit must leave
// nothing behind, neither in the database nor in the in-memory cohort bitmaps.
#include "engage/engage.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <thread>

#include "engage/admin.h"
#include "engage/sqlite_storage.h"

namespace cf::engage {
namespace {

using nlohmann::json;

class FaultyTransaction final : public Transaction {
 public:
  FaultyTransaction(std::unique_ptr<Transaction> inner, const std::atomic<bool>& fail,
                    const std::function<void(bool write)>& on_scan, bool write)
      : inner_(std::move(inner)), fail_(fail), on_scan_(on_scan), write_(write) {}
  Status Commit() override {
    if (fail_) return Status::IOError("injected commit failure");  // inner_ rolls back when destroyed
    return inner_->Commit();
  }
  Status Savepoint() override { return inner_->Savepoint(); }
  Status ReleaseSavepoint() override { return inner_->ReleaseSavepoint(); }
  Status RollbackToSavepoint() override { return inner_->RollbackToSavepoint(); }
  Result<std::optional<int64_t>> FindWorkspace(const std::string& name) override { return inner_->FindWorkspace(name); }
  Result<int64_t> CreateWorkspace(const std::string& name, int64_t now) override {
    return inner_->CreateWorkspace(name, now);
  }
  Status InsertApiKey(const ApiKeyRecord& record) override { return inner_->InsertApiKey(record); }
  Result<std::optional<ApiKeyRecord>> FindApiKey(const std::string& key_id) override {
    return inner_->FindApiKey(key_id);
  }
  Result<std::vector<ApiKeyRecord>> ListApiKeys(int64_t workspace_id) override {
    return inner_->ListApiKeys(workspace_id);
  }
  Result<bool> DeleteApiKey(const std::string& key_id) override { return inner_->DeleteApiKey(key_id); }
  Status SetPartnerApiKey(int64_t partner_id, const StoredKey& key) override {
    return inner_->SetPartnerApiKey(partner_id, key);
  }
  Status QueueCohortEviction(ProfileIndex index) override { return inner_->QueueCohortEviction(index); }
  Result<std::vector<ProfileIndex>> TakeCohortEvictions() override { return inner_->TakeCohortEvictions(); }
  Result<int64_t> InsertPartner(const PartnerRecord& record) override { return inner_->InsertPartner(record); }
  Result<std::optional<PartnerRecord>> FindPartner(const std::string& name) override {
    return inner_->FindPartner(name);
  }
  Result<std::optional<PartnerRecord>> FindPartnerByKeyId(const std::string& key_id) override {
    return inner_->FindPartnerByKeyId(key_id);
  }
  Result<std::vector<PartnerRecord>> ListPartners() override { return inner_->ListPartners(); }
  Status SetDataImportKey(int64_t workspace_id, int64_t partner_id,
                          const std::optional<DataImportKeyRecord>& record) override {
    return inner_->SetDataImportKey(workspace_id, partner_id, record);
  }
  Result<std::optional<DataImportKeyRecord>> FindDataImportKey(const std::string& key_id) override {
    return inner_->FindDataImportKey(key_id);
  }
  Result<std::optional<DataImportKeyRecord>> FindDataImportKeyOf(int64_t workspace_id, int64_t partner_id) override {
    return inner_->FindDataImportKeyOf(workspace_id, partner_id);
  }
  Status SetRateLimit(int64_t workspace_id, const std::string& endpoint, const RateLimitRecord& r) override {
    return inner_->SetRateLimit(workspace_id, endpoint, r);
  }
  Result<std::optional<RateLimitRecord>> FindRateLimit(int64_t workspace_id, const std::string& endpoint) override {
    return inner_->FindRateLimit(workspace_id, endpoint);
  }
  Result<Profile> InsertProfile(int64_t workspace_id, const std::optional<std::string>& external_id,
                                int64_t now) override {
    return inner_->InsertProfile(workspace_id, external_id, now);
  }
  Result<std::optional<Profile>> FindProfile(ProfileIndex index) override { return inner_->FindProfile(index); }
  Result<std::optional<Profile>> FindByExternalId(int64_t workspace_id, const std::string& external_id) override {
    return inner_->FindByExternalId(workspace_id, external_id);
  }
  Result<std::optional<Profile>> FindByBrazeId(int64_t workspace_id, const std::string& braze_id) override {
    return inner_->FindByBrazeId(workspace_id, braze_id);
  }
  Result<std::optional<Profile>> FindByAlias(int64_t workspace_id, const Alias& alias) override {
    return inner_->FindByAlias(workspace_id, alias);
  }
  Result<std::optional<Profile>> FindByDevice(int64_t workspace_id, const std::string& device_id) override {
    return inner_->FindByDevice(workspace_id, device_id);
  }
  Result<std::vector<std::optional<Match>>> MatchExternalIds(int64_t workspace_id,
                                                             const std::vector<std::string>& ids) override {
    return inner_->MatchExternalIds(workspace_id, ids);
  }
  Result<std::vector<std::optional<Match>>> MatchDevices(int64_t workspace_id,
                                                         const std::vector<std::string>& ids) override {
    return inner_->MatchDevices(workspace_id, ids);
  }
  Result<std::vector<std::optional<Match>>> MatchAliases(int64_t workspace_id,
                                                         const std::vector<Alias>& aliases) override {
    return inner_->MatchAliases(workspace_id, aliases);
  }
  Status SetExternalId(ProfileIndex index, const std::string& external_id) override {
    return inner_->SetExternalId(index, external_id);
  }
  Status AddAlias(int64_t workspace_id, ProfileIndex index, const Alias& alias) override {
    return inner_->AddAlias(workspace_id, index, alias);
  }
  Result<std::vector<Alias>> Aliases(ProfileIndex index) override { return inner_->Aliases(index); }
  Status SetDevice(int64_t workspace_id, ProfileIndex index, const std::string& device_id) override {
    return inner_->SetDevice(workspace_id, index, device_id);
  }
  Result<std::vector<std::string>> Devices(ProfileIndex index) override { return inner_->Devices(index); }
  Status SetAttribute(ProfileIndex index, const std::string& name, const std::string& value_json) override {
    return inner_->SetAttribute(index, name, value_json);
  }
  Status RemoveAttribute(ProfileIndex index, const std::string& name) override {
    return inner_->RemoveAttribute(index, name);
  }
  Result<std::vector<std::pair<std::string, std::string>>> Attributes(ProfileIndex index) override {
    return inner_->Attributes(index);
  }
  Status InsertEvent(ProfileIndex index, const std::string& name, int64_t time,
                     const std::string& properties_json) override {
    return inner_->InsertEvent(index, name, time, properties_json);
  }
  Status InsertPurchase(ProfileIndex index, const PurchaseRecord& purchase) override {
    return inner_->InsertPurchase(index, purchase);
  }
  Status MergeProfileInto(ProfileIndex from, ProfileIndex to) override { return inner_->MergeProfileInto(from, to); }
  Status DeleteProfile(ProfileIndex index) override { return inner_->DeleteProfile(index); }
  Result<std::vector<ProfileIndex>> AllProfiles(int64_t workspace_id) override {
    return inner_->AllProfiles(workspace_id);
  }
  Status ScanAttribute(int64_t workspace_id, const std::string& name,
                       const std::function<void(ProfileIndex, const std::string&)>& visit) override {
    if (on_scan_) on_scan_(write_);
    return inner_->ScanAttribute(workspace_id, name, visit);
  }
  Result<std::vector<ProfileIndex>> PurchasersOf(int64_t workspace_id, const std::string& product_id,
                                                 int64_t since) override {
    return inner_->PurchasersOf(workspace_id, product_id, since);
  }
  Result<std::optional<CohortRecord>> FindCohort(int64_t workspace_id, int64_t partner_id,
                                                 const std::string& cohort_id) override {
    return inner_->FindCohort(workspace_id, partner_id, cohort_id);
  }
  Result<std::vector<CohortRecord>> FindCohortsByName(int64_t workspace_id, int64_t partner_id,
                                                      const std::string& name) override {
    return inner_->FindCohortsByName(workspace_id, partner_id, name);
  }
  Result<std::vector<CohortRecord>> ListCohorts() override { return inner_->ListCohorts(); }
  Status InsertDashboardUser(const DashboardUserRecord& record) override { return inner_->InsertDashboardUser(record); }
  Result<std::optional<DashboardUserRecord>> FindDashboardUser(const std::string& email) override {
    return inner_->FindDashboardUser(email);
  }
  Result<std::vector<DashboardUserRecord>> ListDashboardUsers() override { return inner_->ListDashboardUsers(); }
  Result<bool> DeleteDashboardUser(const std::string& email) override { return inner_->DeleteDashboardUser(email); }
  Result<CohortRecord> UpsertCohort(const CohortRecord& record) override { return inner_->UpsertCohort(record); }
  Status AppendCohortDelta(int64_t cohort_pk, const std::string& added, const std::string& removed) override {
    return inner_->AppendCohortDelta(cohort_pk, added, removed);
  }
  Status WriteCohortSnapshot(int64_t cohort_pk, const std::string& snapshot) override {
    return inner_->WriteCohortSnapshot(cohort_pk, snapshot);
  }
  Result<std::vector<CohortBitmapRecord>> LoadCohortBitmaps() override { return inner_->LoadCohortBitmaps(); }
  Status InsertSegment(const SegmentRecord& record) override { return inner_->InsertSegment(record); }
  Result<std::optional<SegmentRecord>> FindSegment(int64_t workspace_id, const std::string& segment_id) override {
    return inner_->FindSegment(workspace_id, segment_id);
  }
  Result<std::vector<SegmentRecord>> ListSegments(int64_t workspace_id) override {
    return inner_->ListSegments(workspace_id);
  }
  Result<int64_t> InsertCampaign(const CampaignRecord& r) override { return inner_->InsertCampaign(r); }
  Result<std::optional<CampaignRecord>> FindCampaign(int64_t ws, const std::string& id) override {
    return inner_->FindCampaign(ws, id);
  }
  Result<std::optional<CampaignRecord>> FindCampaignByName(int64_t ws, const std::string& name) override {
    return inner_->FindCampaignByName(ws, name);
  }
  Result<std::vector<CampaignRecord>> ListCampaigns(int64_t ws) override { return inner_->ListCampaigns(ws); }
  Result<std::optional<std::pair<int64_t, int64_t>>> SentTimes(int64_t pk) override { return inner_->SentTimes(pk); }
  Status SetFrequencyCap(int64_t ws, const FrequencyCapRecord& r) override { return inner_->SetFrequencyCap(ws, r); }
  Result<bool> RemoveFrequencyCap(int64_t ws, const std::string& ch) override {
    return inner_->RemoveFrequencyCap(ws, ch);
  }
  Result<std::vector<FrequencyCapRecord>> ListFrequencyCaps(int64_t ws) override {
    return inner_->ListFrequencyCaps(ws);
  }
  Status SetDelivery(int64_t ws, const DeliveryRecord& r) override { return inner_->SetDelivery(ws, r); }
  Result<std::optional<DeliveryRecord>> FindDelivery(int64_t ws) override { return inner_->FindDelivery(ws); }
  Result<std::optional<DispatchRecord>> FindDispatch(int64_t pk, const std::string& send_id) override {
    return inner_->FindDispatch(pk, send_id);
  }
  Result<int64_t> InsertDispatch(const DispatchRecord& r) override { return inner_->InsertDispatch(r); }
  Result<std::vector<RecipientInfo>> RecipientInfos(int64_t ws, const std::vector<ProfileIndex>& ids,
                                                    const std::string& attribute) override {
    return inner_->RecipientInfos(ws, ids, attribute);
  }
  Result<std::vector<std::pair<ProfileIndex, int64_t>>> SentCounts(const std::vector<ProfileIndex>& ids,
                                                                   const std::string& channel, int64_t since) override {
    return inner_->SentCounts(ids, channel, since);
  }
  Result<std::vector<ProfileIndex>> DecidedProfiles(int64_t pk, const std::vector<ProfileIndex>& ids) override {
    return inner_->DecidedProfiles(pk, ids);
  }
  Status InsertSend(const SendRecord& r) override { return inner_->InsertSend(r); }
  Result<std::vector<SendRecord>> ClaimPending(int64_t pk, size_t limit) override {
    return inner_->ClaimPending(pk, limit);
  }
  Status FinishDelivery(int64_t pk, const std::string& outcome, const std::string& reason) override {
    return inner_->FinishDelivery(pk, outcome, reason);
  }
  Result<int64_t> FailInFlight(const std::string& reason) override { return inner_->FailInFlight(reason); }
  Result<std::vector<std::pair<std::string, int64_t>>> DispatchOutcomes(int64_t pk) override {
    return inner_->DispatchOutcomes(pk);
  }
  Status ScanSends(int64_t ws, std::optional<int64_t> pk, int64_t since,
                   const std::function<Status(const SendFeedRow&)>& visit) override {
    return inner_->ScanSends(ws, pk, since, visit);
  }
  Result<int64_t> CohortsVersion() override { return inner_->CohortsVersion(); }
  Result<std::unordered_map<int64_t, int64_t>> CohortVersions() override { return inner_->CohortVersions(); }
  Result<std::vector<CohortBitmapRecord>> LoadCohortBitmapsOf(const std::vector<int64_t>& pks) override {
    return inner_->LoadCohortBitmapsOf(pks);
  }
  Status AppendSecurityEvent(const SecurityEventRecord& record) override {
    return inner_->AppendSecurityEvent(record);
  }
  Result<std::vector<SecurityEventRecord>> ListSecurityEvents(int64_t after_id, size_t limit) override {
    return inner_->ListSecurityEvents(after_id, limit);
  }

 private:
  std::unique_ptr<Transaction> inner_;
  const std::atomic<bool>& fail_;
  const std::function<void(bool write)>& on_scan_;
  bool write_;
};

class FaultyStorage final : public Storage {
 public:
  explicit FaultyStorage(std::unique_ptr<Storage> inner) : inner_(std::move(inner)) {}
  Result<std::unique_ptr<Transaction>> Begin(bool write) override {
    CF_ASSIGN_OR_RETURN(auto txn, inner_->Begin(write));
    return std::unique_ptr<Transaction>(
        std::make_unique<FaultyTransaction>(std::move(txn), fail_commit, on_scan, write));
  }
  std::atomic<bool> fail_commit{false};
  // Called by every attribute scan (a segment filter's condition) with the kind of transaction.
  std::function<void(bool write)> on_scan;

 private:
  std::unique_ptr<Storage> inner_;
};

class EngageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("engage-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    auto sqlite = OpenSqliteStorage({(dir_ / "engage.db").string(), false, 1000});
    ASSERT_TRUE(sqlite.has_value());
    auto faulty = std::make_unique<FaultyStorage>(std::move(*sqlite));
    faulty_ = faulty.get();
    auto engage = Engage::Open(std::move(faulty), clock_);
    ASSERT_TRUE(engage.has_value()) << engage.error().ToString();
    engage_ = std::move(*engage);
    auto partner_key = AddPartner(engage_->storage(), "tinyclues", "Tinyclues", 0);
    auto secret = GenerateDataImportKey(engage_->storage(), "default", "tinyclues", 0);
    ASSERT_TRUE(partner_key.has_value() && secret.has_value());
    auto auth =
        engage_->AuthenticatePartner("tinyclues", {{"partner_api_key", *partner_key}, {"client_secret", *secret}});
    ASSERT_TRUE(auth.has_value()) << auth.error().ToString();
    auth_ = *auth;
  }
  void TearDown() override {
    engage_.reset();
    std::filesystem::remove_all(dir_);
  }

  Result<json> Import(const std::string& user) {
    return engage_->CohortUsers(auth_, {{"cohort_id", "c"}, {"cohort_changes", {{{"user_ids", {user}}}}}});
  }
  json CohortsOf(const std::string& user) {
    auto r = engage_->ExportIds(1, {{"external_ids", {user}}, {"fields_to_export", {"cohorts"}}});
    EXPECT_TRUE(r.has_value());
    return (*r)["users"].empty() ? json() : (*r)["users"][0]["cohorts"];
  }

  FixedClock clock_{1800000000};
  std::filesystem::path dir_;
  FaultyStorage* faulty_ = nullptr;
  std::unique_ptr<Engage> engage_;
  PartnerAuth auth_;
};

TEST_F(EngageTest, FailedCommitLeavesNoTrace) {
  ASSERT_TRUE(engage_->Track(1, {{"attributes", {{{"external_id", "u1"}}, {{"external_id", "u2"}}}}}).has_value());
  auto first = Import("u1");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ((*first)["added"], 1);

  faulty_->fail_commit = true;
  auto failed = Import("u2");
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), StatusCode::kIOError);
  auto failed_track = engage_->Track(1, {{"attributes", {{{"external_id", "u3"}}}}});
  EXPECT_FALSE(failed_track.has_value());
  faulty_->fail_commit = false;

  EXPECT_EQ(CohortsOf("u2"), json::array());  // the bitmap change was undone
  EXPECT_EQ(CohortsOf("u1").size(), 1u);
  EXPECT_TRUE(CohortsOf("u3").is_null());  // the profile was never created
  auto again = Import("u2");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ((*again)["added"], 1);  // counted against the restored bitmap
}

TEST_F(EngageTest, ConcurrentWritersShareCommitsAndAllLand) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string user = fmt::format("t{}-{}", t, i);  // not literal + to_string: GCC 12 -Wrestrict
        if (!engage_->Track(1, {{"attributes", {{{"external_id", user}}}}}).has_value()) continue;
        auto r = Import(user);
        if (r.has_value() && (*r)["added"] == 1) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  auto seg = engage_->CreateSegment(
      1, {{"name", "all"}, {"filter", {{"partner_cohort", {{"partner", "tinyclues"}, {"includes", {"c"}}}}}}});
  ASSERT_TRUE(seg.has_value()) << seg.error().ToString();
  auto details = engage_->SegmentDetails(1, (*seg)["segment_id"]);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ((*details)["size"], kThreads * kPerThread);
}

// A /users/delete racing cohort imports of the same users must never leave a deleted profile
// in the cohort (an import resolved against a snapshot taken before the delete committed used
// to add it back). Bounded: at most 200 rounds or 20 seconds.
TEST_F(EngageTest, DeletesRacingImportsNeverLeaveDeletedMembers) {
  constexpr int kUsers = 50;
  ASSERT_TRUE(engage_->Track(1, {{"attributes", {{{"external_id", "keeper"}}}}}).has_value());
  ASSERT_TRUE(Import("keeper").has_value());
  auto seg = engage_->CreateSegment(
      1, {{"name", "c"}, {"filter", {{"partner_cohort", {{"partner", "tinyclues"}, {"includes", {"c"}}}}}}});
  ASSERT_TRUE(seg.has_value()) << seg.error().ToString();
  const auto start = std::chrono::steady_clock::now();
  int rounds = 0;
  for (; rounds < 200 && std::chrono::steady_clock::now() - start < std::chrono::seconds(20); ++rounds) {
    json attrs = json::array(), ids = json::array();
    for (int i = 0; i < kUsers; ++i) {
      const std::string user = fmt::format("r{}-{}", rounds, i);
      attrs.push_back({{"external_id", user}});
      ids.push_back(user);
    }
    ASSERT_TRUE(engage_->Track(1, {{"attributes", attrs}}).has_value());
    std::thread deleter([&] {
      for (int i = 0; i < kUsers; i += 5) {
        json some(ids.begin() + i, ids.begin() + i + 5);
        EXPECT_TRUE(engage_->Delete(1, {{"external_ids", some}}).has_value());
      }
    });
    std::vector<std::thread> importers;
    for (int t = 0; t < 3; ++t) {
      importers.emplace_back([&] {
        EXPECT_TRUE(
            engage_->CohortUsers(auth_, {{"cohort_id", "c"}, {"cohort_changes", {{{"user_ids", ids}}}}}).has_value());
      });
    }
    deleter.join();
    for (auto& th : importers) th.join();
    auto details = engage_->SegmentDetails(1, (*seg)["segment_id"]);
    ASSERT_TRUE(details.has_value());
    ASSERT_EQ((*details)["size"], 1) << "round " << rounds << ": deleted profiles stayed in the cohort";
  }
  EXPECT_GT(rounds, 10);
  EXPECT_EQ(CohortsOf("keeper").size(), 1u);
}

// Stores written by earlier versions can hold deleted profiles as members: the server removes
// them at start, persistently.
TEST_F(EngageTest, StartRemovesMembersThatNoLongerExist) {
  ASSERT_TRUE(engage_->Track(1, {{"attributes", {{{"external_id", "gone"}}, {{"external_id", "kept"}}}}}).has_value());
  ASSERT_TRUE(engage_->CohortUsers(auth_, {{"cohort_id", "c"}, {"cohort_changes", {{{"user_ids", {"gone", "kept"}}}}}})
                  .has_value());
  auto seg = engage_->CreateSegment(
      1, {{"name", "c"}, {"filter", {{"partner_cohort", {{"partner", "tinyclues"}, {"includes", {"c"}}}}}}});
  ASSERT_TRUE(seg.has_value());
  {
    // What the old race left behind: the profile deleted, its membership kept.
    auto txn = engage_->storage().Begin(true);
    ASSERT_TRUE(txn.has_value());
    auto p = (*txn)->FindByExternalId(1, "gone");
    ASSERT_TRUE(p.has_value() && p->has_value());
    ASSERT_TRUE((*txn)->DeleteProfile((*p)->index).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  for (int open = 0; open < 2; ++open) {  // the repair is persisted: the second start finds nothing to do
    engage_.reset();
    auto sqlite = OpenSqliteStorage({(dir_ / "engage.db").string(), false, 1000});
    ASSERT_TRUE(sqlite.has_value());
    auto reopened = Engage::Open(std::move(*sqlite), clock_);
    ASSERT_TRUE(reopened.has_value()) << reopened.error().ToString();
    engage_ = std::move(*reopened);
    auto details = engage_->SegmentDetails(1, (*seg)["segment_id"]);
    ASSERT_TRUE(details.has_value());
    EXPECT_EQ((*details)["size"], 1) << "open " << open;
  }
  auto txn = engage_->storage().Begin(false);
  ASSERT_TRUE(txn.has_value());
  auto bitmaps = (*txn)->LoadCohortBitmaps();
  ASSERT_TRUE(bitmaps.has_value());
  ASSERT_EQ(bitmaps->size(), 1u);
  Roaring stored = *DeserializeBitmap(bitmaps->front().snapshot);
  for (const auto& [added, removed] : bitmaps->front().deltas) {
    stored |= *DeserializeBitmap(added);
    stored -= *DeserializeBitmap(removed);
  }
  EXPECT_EQ(stored.cardinality(), 1u);
}

// A device that moves from its anonymous profile to an identified one leaves the anonymous
// profile orphaned, named by no identifier: it leaves its cohorts (the identified profile does
// not inherit them), whether the SDK session came through the server or the admin command line.
TEST_F(EngageTest, OrphanedAnonymousProfilesLeaveTheirCohorts) {
  ASSERT_TRUE(engage_->Track(1, {{"attributes", {{{"external_id", "known"}}}}}).has_value());
  for (const char* device : {"d-server", "d-admin", "d-aliased"}) {
    ASSERT_TRUE(engage_->Session(1, {{"device_id", device}}).has_value());
  }
  {
    auto txn = engage_->storage().Begin(true);
    auto p = (*txn)->FindByDevice(1, "d-aliased");
    ASSERT_TRUE(p.has_value() && p->has_value());
    ASSERT_TRUE((*txn)->AddAlias(1, (*p)->index, Alias{"email", "kept@x"}).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto imported = engage_->CohortUsers(
      auth_, {{"cohort_id", "c"}, {"cohort_changes", {{{"device_ids", {"d-server", "d-admin", "d-aliased"}}}}}});
  ASSERT_TRUE(imported.has_value());
  ASSERT_EQ((*imported)["added"], 3);
  auto seg = engage_->CreateSegment(
      1, {{"name", "c"}, {"filter", {{"partner_cohort", {{"partner", "tinyclues"}, {"includes", {"c"}}}}}}});
  ASSERT_TRUE(seg.has_value());
  auto size = [&] { return (*engage_->SegmentDetails(1, (*seg)["segment_id"]))["size"].get<int>(); };

  ASSERT_TRUE(engage_->Session(1, {{"device_id", "d-server"}, {"external_id", "known"}}).has_value());
  EXPECT_EQ(size(), 2);
  EXPECT_EQ(CohortsOf("known"), json::array());

  // The admin command line has no bitmaps: the server applies its eviction with the next write.
  ASSERT_TRUE(AddDevice(engage_->storage(), "default", "d-admin", std::string("known"), 0).has_value());
  ASSERT_TRUE(engage_->Track(1, {{"attributes", {{{"external_id", "someone"}}}}}).has_value());
  EXPECT_EQ(size(), 1);

  // Still named by its alias, the third one stays.
  ASSERT_TRUE(engage_->Session(1, {{"device_id", "d-aliased"}, {"external_id", "known"}}).has_value());
  EXPECT_EQ(size(), 1);
  EXPECT_EQ(CohortsOf("known"), json::array());
}

// Creating a segment evaluates its filter (every condition a scan) in a read transaction: while
// it runs, writes go through instead of queueing behind the single write lock.
TEST_F(EngageTest, SegmentCreationDoesNotHoldTheWriteLock) {
  ASSERT_TRUE(engage_->Track(1, {{"attributes", {{{"external_id", "u1"}, {"tier", "gold"}}}}}).has_value());
  std::promise<void> scanning, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> scanned_in_write{false};
  std::atomic<bool> first{true};
  faulty_->on_scan = [&](bool write) {
    if (write) scanned_in_write = true;
    if (first.exchange(false)) {
      scanning.set_value();
      released.wait();
    }
  };
  auto created = std::async(std::launch::async, [&] {
    return engage_->CreateSegment(
        1, {{"name", "gold"},
            {"filter", {{"custom_attribute", {{"name", "tier"}, {"comparison", "equals"}, {"value", "gold"}}}}}});
  });
  scanning.get_future().wait();
  auto track = std::async(std::launch::async, [&] {
    return engage_->Track(1, {{"attributes", {{{"external_id", "u2"}}}}}).has_value();
  });
  const bool track_done = track.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  release.set_value();
  EXPECT_TRUE(track_done) << "a /users/track waited for the segment's evaluation";
  EXPECT_TRUE(track.get());
  auto segment = created.get();
  ASSERT_TRUE(segment.has_value()) << segment.error().ToString();
  EXPECT_FALSE(scanned_in_write.load());
  faulty_->on_scan = nullptr;
  EXPECT_EQ((*engage_->SegmentDetails(1, (*segment)["segment_id"]))["size"], 1);
}

// A database of schema 1 (before this version): its partner rate limits move to the keys
// `engage rate-limit set` takes now, and its orphans (anonymous, no device or alias left) are
// queued and leave their cohorts at the first start.
TEST_F(EngageTest, OpeningASchema1DatabaseMigratesLimitsAndEvictsOldOrphans) {
  ASSERT_TRUE(engage_->Track(1, {{"attributes", {{{"external_id", "known"}}}}}).has_value());
  ASSERT_TRUE(engage_->Session(1, {{"device_id", "d1"}}).has_value());
  ASSERT_TRUE(
      engage_->CohortUsers(auth_, {{"cohort_id", "c"}, {"cohort_changes", {{{"device_ids", {"d1"}}}}}}).has_value());
  auto seg = engage_->CreateSegment(
      1, {{"name", "c"}, {"filter", {{"partner_cohort", {{"partner", "tinyclues"}, {"includes", {"c"}}}}}}});
  ASSERT_TRUE(seg.has_value());
  {
    // What version 1 left: the device moved without an eviction, a limit under the old key.
    auto txn = engage_->storage().Begin(true);
    auto known = (*txn)->FindByExternalId(1, "known");
    ASSERT_TRUE(known.has_value() && known->has_value());
    ASSERT_TRUE((*txn)->SetDevice(1, (*known)->index, "d1").ok());
    ASSERT_TRUE((*txn)->SetRateLimit(1, "/partners/cohorts/users", {5, 60}).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  engage_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "engage.db").string().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 1", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  auto sqlite = OpenSqliteStorage({(dir_ / "engage.db").string(), false, 1000});
  ASSERT_TRUE(sqlite.has_value()) << sqlite.error().ToString();
  auto reopened = Engage::Open(std::move(*sqlite), clock_);
  ASSERT_TRUE(reopened.has_value()) << reopened.error().ToString();
  engage_ = std::move(*reopened);
  EXPECT_EQ((*engage_->SegmentDetails(1, (*seg)["segment_id"]))["size"], 0);
  auto limit = engage_->RateLimitFor(1, "/partners/{partner}/cohorts/users");
  ASSERT_TRUE(limit.has_value() && limit->has_value());
  EXPECT_EQ((*limit)->limit, 5);
  auto old = engage_->RateLimitFor(1, "/partners/cohorts/users");
  ASSERT_TRUE(old.has_value());
  EXPECT_FALSE(old->has_value());
}

}  // namespace
}  // namespace cf::engage
