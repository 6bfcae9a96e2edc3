#include "engage/cohort_index.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "engage/sqlite_storage.h"

namespace cf::engage {
namespace {

class CohortIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("cohort-index-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    auto s = OpenSqliteStorage({(dir_ / "engage.db").string(), false, 1000});
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    storage_ = std::move(*s);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Persists and applies one delta in its own transaction, as Engage::Write does.
  void Change(CohortIndex& index, int64_t pk, std::vector<uint32_t> add, std::vector<uint32_t> remove) {
    CohortDelta d;
    d.cohort_pk = pk;
    d.added = Roaring(add.size(), add.data());
    d.removed = Roaring(remove.size(), remove.data());
    auto txn = storage_->Begin(true);
    ASSERT_TRUE(txn.has_value());
    ASSERT_TRUE(index.Persist(**txn, d).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
    index.Apply(d);
  }

  std::unique_ptr<CohortIndex> Reload(int deltas_per_snapshot) {
    auto fresh = std::make_unique<CohortIndex>(CohortIndexOptions{deltas_per_snapshot});
    auto txn = storage_->Begin(false);
    EXPECT_TRUE(txn.has_value());
    EXPECT_TRUE(fresh->Load(**txn).ok());
    return fresh;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(CohortIndexTest, DeltasAndSnapshotsReloadToTheSameMembers) {
  CohortIndex index({3});  // a snapshot every third change
  for (uint32_t round = 0; round < 10; ++round) {
    Change(index, 1, {round * 10, round * 10 + 1, 5000}, {round > 0 ? (round - 1) * 10 : 999999});
    Change(index, 2, {round}, {});
  }
  auto reloaded = Reload(3);
  EXPECT_EQ(reloaded->Members(1), index.Members(1));
  EXPECT_EQ(reloaded->Members(2), index.Members(2));
  EXPECT_EQ(index.Members(1).cardinality(), 10u + 1u + 1u);  // every xx1, the last x0, and 5000
  EXPECT_TRUE(index.Contains(1, 91));
  EXPECT_FALSE(index.Contains(1, 80));
  EXPECT_EQ(index.Members(2).cardinality(), 10u);
  EXPECT_EQ(index.CohortsOf(5), (std::vector<int64_t>{2}));
  EXPECT_EQ(index.Union({1, 2}).cardinality(), 12u + 10u - 1u);  // only 1 is in both
}

// What another server did to the store reaches a cached index cohort by cohort: Reload reads
// the named cohorts again and leaves the others as they were.
TEST_F(CohortIndexTest, ReloadReadsOnlyTheNamedCohortsAgain) {
  CohortIndex cached({4});
  Change(cached, 1, {1, 2}, {});
  Change(cached, 2, {10}, {});
  CohortIndex other({4});  // another server's, in step with the store
  {
    auto txn = storage_->Begin(false);
    ASSERT_TRUE(other.Load(**txn).ok());
  }
  for (int round = 0; round < 6; ++round) {  // past a snapshot of cohort 1
    Change(other, 1, {static_cast<uint32_t>(100 + round)}, {round == 0 ? 1u : 999u});
  }
  Change(other, 2, {11}, {});
  Change(other, 3, {20}, {});
  {
    auto txn = storage_->Begin(false);
    ASSERT_TRUE(txn.has_value());
    ASSERT_TRUE(cached.Reload(**txn, {1, 3}).ok());
    ASSERT_TRUE(cached.Reload(**txn, {}).ok());
  }
  EXPECT_EQ(cached.Members(1), other.Members(1));
  EXPECT_EQ(cached.Members(3), other.Members(3));
  EXPECT_EQ(cached.Members(2), Roaring::bitmapOf(1, 10)) << "not named: left as cached";
  EXPECT_EQ(cached.Save(1).deltas, other.Save(1).deltas) << "the delta count decides the next snapshot";
  // A cohort named that the store has nothing of is dropped from the cache.
  CohortIndex stale({4});
  Change(stale, 1, {1}, {});
  {
    auto txn = storage_->Begin(false);
    ASSERT_TRUE(stale.Reload(**txn, {7}).ok());
  }
  EXPECT_TRUE(stale.Members(7).isEmpty());
}

TEST_F(CohortIndexTest, RoundTripsSerialization) {
  Roaring r;
  r.addRange(0, 1000000);  // a dense run stores in a few bytes
  std::string bytes = SerializeBitmap(r);
  EXPECT_LT(bytes.size(), 1000u);
  auto back = DeserializeBitmap(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, r);
  EXPECT_FALSE(DeserializeBitmap("garbage").has_value());
}

}  // namespace
}  // namespace cf::engage
