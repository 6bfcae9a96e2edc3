#include "engage/sqlite_storage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace cf::engage {
namespace {

class SqliteStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sqlite-storage-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    storage_ = Open();
    auto txn = Write();
    auto ws = txn->CreateWorkspace("default", 0);
    ASSERT_TRUE(ws.has_value());
    ws_ = *ws;
    ASSERT_TRUE(txn->Commit().ok());
  }
  void TearDown() override {
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<Storage> Open() {
    auto s = OpenSqliteStorage({(dir_ / "engage.db").string(), false, 1000});
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
    return std::move(*s);
  }
  std::unique_ptr<Transaction> Write() {
    auto t = storage_->Begin(true);
    EXPECT_TRUE(t.has_value());
    return std::move(*t);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Storage> storage_;
  int64_t ws_ = 0;
};

TEST_F(SqliteStorageTest, RollbackToSavepointUndoesOnlyThatPart) {
  {
    auto txn = Write();
    ASSERT_TRUE(txn->Savepoint().ok());
    ASSERT_TRUE(txn->InsertProfile(ws_, "kept", 0).has_value());
    ASSERT_TRUE(txn->ReleaseSavepoint().ok());
    ASSERT_TRUE(txn->Savepoint().ok());
    ASSERT_TRUE(txn->InsertProfile(ws_, "undone", 0).has_value());
    ASSERT_TRUE(txn->RollbackToSavepoint().ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  auto txn = Write();
  EXPECT_TRUE(txn->FindByExternalId(ws_, "kept")->has_value());
  EXPECT_FALSE(txn->FindByExternalId(ws_, "undone")->has_value());
}

TEST_F(SqliteStorageTest, UncommittedTransactionRollsBack) {
  {
    auto txn = Write();
    ASSERT_TRUE(txn->InsertProfile(ws_, "lost", 0).has_value());
  }
  auto txn = Write();
  EXPECT_FALSE(txn->FindByExternalId(ws_, "lost")->has_value());
}

TEST_F(SqliteStorageTest, ExternalIdsAreUniquePerWorkspaceAndIndexesNeverReused) {
  auto txn = Write();
  auto other = txn->CreateWorkspace("other", 0);
  ASSERT_TRUE(other.has_value());
  auto a = txn->InsertProfile(ws_, "same", 0);
  auto b = txn->InsertProfile(*other, "same", 0);
  ASSERT_TRUE(a.has_value() && b.has_value());
  auto dup = txn->InsertProfile(ws_, "same", 0);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(txn->DeleteProfile(b->index).ok());
  auto c = txn->InsertProfile(*other, "again", 0);
  ASSERT_TRUE(c.has_value());
  EXPECT_GT(c->index, b->index);  // a deleted profile's index never comes back (bitmaps use it)
  EXPECT_NE(a->braze_id, c->braze_id);
}

TEST_F(SqliteStorageTest, BulkMatchingFollowsInputOrder) {
  auto txn = Write();
  auto known = txn->InsertProfile(ws_, "known", 0);
  auto anon = txn->InsertProfile(ws_, std::nullopt, 0);
  ASSERT_TRUE(known.has_value() && anon.has_value());
  ASSERT_TRUE(txn->SetDevice(ws_, anon->index, "phone").ok());
  ASSERT_TRUE(txn->AddAlias(ws_, known->index, {"email", "k@x"}).ok());
  auto ext = txn->MatchExternalIds(ws_, {"nobody", "known", "known"});
  ASSERT_TRUE(ext.has_value());
  ASSERT_EQ(ext->size(), 3u);
  EXPECT_FALSE((*ext)[0].has_value());
  EXPECT_EQ((*ext)[1]->index, known->index);
  EXPECT_TRUE((*ext)[2]->identified);
  auto dev = txn->MatchDevices(ws_, {"phone", "tablet"});
  ASSERT_TRUE(dev.has_value());
  EXPECT_EQ((*dev)[0]->index, anon->index);
  EXPECT_FALSE((*dev)[0]->identified);
  EXPECT_FALSE((*dev)[1].has_value());
  auto al = txn->MatchAliases(ws_, {{"email", "nope"}, {"email", "k@x"}});
  ASSERT_TRUE(al.has_value());
  EXPECT_FALSE((*al)[0].has_value());
  EXPECT_EQ((*al)[1]->index, known->index);
}

TEST_F(SqliteStorageTest, AnotherProcessStyleConnectionSeesCommitsAtOnce) {
  auto second = Open();  // as the admin command line does: its own connection to the file
  {
    auto t = second->Begin(true);
    ASSERT_TRUE(t.has_value());
    ASSERT_TRUE((*t)->InsertProfile(ws_, "from-cli", 0).has_value());
    ASSERT_TRUE((*t)->Commit().ok());
  }
  auto r = storage_->Begin(false);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE((*r)->FindByExternalId(ws_, "from-cli")->has_value());
}

}  // namespace
}  // namespace cf::engage
