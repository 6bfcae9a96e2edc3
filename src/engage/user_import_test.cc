#include "engage/user_import.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "engage/sqlite_storage.h"

namespace cf::engage {
namespace {

class UserImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("user-import-" + std::to_string(getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto s = OpenSqliteStorage({(dir_ / "engage.db").string(), false, 1000});
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    storage_ = std::move(*s);
  }
  void TearDown() override {
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string WriteCsv(const std::string& text) {
    const std::string path = (dir_ / ("in" + std::to_string(files_++) + ".csv")).string();
    std::ofstream(path) << text;
    return path;
  }
  Result<UserImportReport> Import(const std::string& text, size_t batch_rows = 1000) {
    UserImportOptions o;
    o.csv_path = WriteCsv(text);
    o.batch_rows = batch_rows;
    return ImportUsers(*storage_, o, 1000);
  }
  UserImportReport ImportOk(const std::string& text, size_t batch_rows = 1000) {
    auto r = Import(text, batch_rows);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.has_value() ? *r : UserImportReport{};
  }
  int64_t Workspace() {
    auto txn = storage_->Begin(false);
    auto ws = (*txn)->FindWorkspace(kDefaultWorkspace);
    return ws.has_value() && ws->has_value() ? **ws : -1;
  }
  std::optional<Profile> ByExternalId(const std::string& id) {
    auto txn = storage_->Begin(false);
    auto p = (*txn)->FindByExternalId(Workspace(), id);
    EXPECT_TRUE(p.has_value());
    return *p;
  }
  std::optional<Profile> ByAlias(const std::string& label, const std::string& name) {
    auto txn = storage_->Begin(false);
    auto p = (*txn)->FindByAlias(Workspace(), {label, name});
    EXPECT_TRUE(p.has_value());
    return *p;
  }
  std::map<std::string, std::string> AttributesOf(const Profile& p) {
    auto txn = storage_->Begin(false);
    auto a = (*txn)->Attributes(p.index);
    EXPECT_TRUE(a.has_value());
    return {a->begin(), a->end()};
  }
  size_t ProfileCount() {
    auto txn = storage_->Begin(false);
    auto all = (*txn)->AllProfiles(Workspace());
    return all.has_value() ? all->size() : 0;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Storage> storage_;
  int files_ = 0;
};

TEST_F(UserImportTest, CreatesIdentifiedAndAliasOnlyProfilesWithTypedAttributes) {
  auto r = ImportOk(
      "external_id,alias:email,first_name,phone,tier,score,ratio,vip,zip,seen\n"
      "u1,ann@x.com,Ann,0612345678,gold,12,0.5,TRUE,01234,2026-11-30T10:00:00Z\n"
      ",sub@x.com,,,,,,false,,\n");
  EXPECT_EQ(r.rows, 2u);
  EXPECT_EQ(r.created, 2u);
  EXPECT_EQ(r.updated, 0u);
  EXPECT_EQ(r.failed, 0u);
  auto u1 = ByExternalId("u1");
  ASSERT_TRUE(u1);
  EXPECT_EQ(ByAlias("email", "ann@x.com")->index, u1->index);
  auto attrs = AttributesOf(*u1);
  EXPECT_EQ(attrs["first_name"], "\"Ann\"");
  EXPECT_EQ(attrs["phone"], "\"0612345678\"");  // a standard field stays a string
  EXPECT_EQ(attrs["tier"], "\"gold\"");
  EXPECT_EQ(attrs["score"], "12");
  EXPECT_EQ(attrs["ratio"], "0.5");
  EXPECT_EQ(attrs["vip"], "true");
  EXPECT_EQ(attrs["zip"], "\"01234\"");  // a leading zero is not a number
  EXPECT_EQ(attrs["seen"], "\"2026-11-30T10:00:00Z\"");
  EXPECT_EQ(attrs.count("external_id"), 0u);
  auto sub = ByAlias("email", "sub@x.com");
  ASSERT_TRUE(sub);
  EXPECT_FALSE(sub->external_id);
  EXPECT_TRUE(sub->created_anonymous);
  EXPECT_EQ(AttributesOf(*sub), (std::map<std::string, std::string>{{"vip", "false"}}));
}

TEST_F(UserImportTest, BlankCellsLeaveAttributesUnchangedAndReimportUpdates) {
  ImportOk("external_id,tier,city\nu1,gold,Paris\n");
  auto r = ImportOk("external_id,tier,city\nu1,,Lyon\n");
  EXPECT_EQ(r.created, 0u);
  EXPECT_EQ(r.updated, 1u);
  auto attrs = AttributesOf(*ByExternalId("u1"));
  EXPECT_EQ(attrs["tier"], "\"gold\"");
  EXPECT_EQ(attrs["city"], "\"Lyon\"");
  EXPECT_EQ(ProfileCount(), 1u);
}

TEST_F(UserImportTest, BadRowsAreReportedByLineAndColumnInFileOrderAndTheOthersImported) {
  // The rows are applied in identifier order (c3 before y8 before z9), the report is in file order.
  auto r = ImportOk(
      "external_id,alias:email,tier\n"
      "z9,z@x.com,gold\n"
      ",,silver\n"
      "y8,z@x.com,bronze\n"
      "b2,,gold,extra\n"
      "c3,,ok\n");
  EXPECT_EQ(r.rows, 5u);
  EXPECT_EQ(r.created, 2u);
  EXPECT_EQ(r.failed, 3u);
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].line, 3u);
  EXPECT_EQ(r.errors[0].column, "");
  EXPECT_NE(r.errors[0].message.find("no identifier"), std::string::npos) << r.errors[0].message;
  EXPECT_EQ(r.errors[1].line, 4u);
  EXPECT_EQ(r.errors[1].column, "alias:email");
  EXPECT_EQ(r.errors[1].value, "z@x.com");
  EXPECT_NE(r.errors[1].message.find("external_id 'z9'"), std::string::npos) << r.errors[1].message;
  EXPECT_EQ(r.errors[1].ToString("f.csv"),
            "f.csv:4: column 'alias:email': this alias belongs to the user with external_id 'z9' (value 'z@x.com')");
  // The reader's own errors name the file and line themselves.
  EXPECT_NE(r.errors[2].message.find(":5:"), std::string::npos) << r.errors[2].message;
  EXPECT_TRUE(ByExternalId("z9"));
  EXPECT_TRUE(ByExternalId("c3"));
  EXPECT_FALSE(ByExternalId("y8"));  // a failed row leaves nothing behind
  EXPECT_FALSE(ByExternalId("b2"));
}

TEST_F(UserImportTest, AFailedRowWritesNothingOfItself) {
  ImportOk("external_id,alias:email\nu1,one@x.com\n");
  // u2 is new, its first alias is free but its second label clashes with u1's alias.
  auto r = ImportOk("external_id,alias:loyalty,alias:email,tier\nu2,L-2,one@x.com,gold\n");
  EXPECT_EQ(r.failed, 1u);
  EXPECT_FALSE(ByExternalId("u2"));
  EXPECT_FALSE(ByAlias("loyalty", "L-2"));
  EXPECT_EQ(ProfileCount(), 1u);
}

TEST_F(UserImportTest, AnAliasOnlyUserIdentifiedLaterKeepsItsProfile) {
  ImportOk("alias:email,newsletter\nsub@x.com,weekly\n");
  const ProfileIndex before = ByAlias("email", "sub@x.com")->index;
  auto r = ImportOk("external_id,alias:email,tier\nu7,sub@x.com,gold\n");
  EXPECT_EQ(r.created, 0u);
  EXPECT_EQ(r.updated, 1u);
  auto p = ByExternalId("u7");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->index, before);
  EXPECT_TRUE(p->created_anonymous);
  auto attrs = AttributesOf(*p);
  EXPECT_EQ(attrs["newsletter"], "\"weekly\"");
  EXPECT_EQ(attrs["tier"], "\"gold\"");
}

TEST_F(UserImportTest, AliasConflictsAreRowErrors) {
  ImportOk("external_id,alias:email\nu1,one@x.com\nu2,\n");
  ImportOk("alias:email\nfree@x.com\n");
  auto r = ImportOk(
      "external_id,alias:email\n"
      "u1,other@x.com\n"  // u1 already has an email alias
      "u2,free@x.com\n"   // the alias is another (alias-only) user's
      "u2,two@x.com\n");
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_NE(r.errors[0].message.find("already has the alias 'one@x.com'"), std::string::npos) << r.errors[0].message;
  EXPECT_NE(r.errors[1].message.find("POST /users/identify"), std::string::npos) << r.errors[1].message;
  EXPECT_EQ(r.updated, 1u);
  EXPECT_EQ(ByAlias("email", "two@x.com")->index, ByExternalId("u2")->index);
}

TEST_F(UserImportTest, BrazesAliasColumnPairAndBrazeIdUpdates) {
  ImportOk("user_alias_name,user_alias_label,tier\nL-1,loyalty,gold\n");
  auto p = ByAlias("loyalty", "L-1");
  ASSERT_TRUE(p);
  auto r = ImportOk("braze_id,tier\n" + p->braze_id + ",silver\nffffffffffffffffffffffff,gold\n");
  EXPECT_EQ(r.updated, 1u);
  ASSERT_EQ(r.failed, 1u);
  EXPECT_EQ(r.errors[0].column, "braze_id");
  EXPECT_EQ(AttributesOf(*p)["tier"], "\"silver\"");
  EXPECT_EQ(ProfileCount(), 1u);  // a braze_id never creates a user
  auto long_value = ImportOk("braze_id,note\n" + p->braze_id + "," + std::string(256, 'x') + "\n");
  ASSERT_EQ(long_value.failed, 1u);
  EXPECT_EQ(long_value.errors[0].message, "is 256 characters long; a string attribute holds at most 255");
  // An alias of another user on a braze_id row is the row's error, not the import's.
  ImportOk("external_id,alias:email\nu1,one@x.com\n");
  auto taken = ImportOk("braze_id,alias:email\n" + p->braze_id + ",one@x.com\n");
  ASSERT_EQ(taken.failed, 1u);
  EXPECT_EQ(taken.errors[0].column, "alias:email");
  EXPECT_NE(taken.errors[0].message.find("belongs to another user"), std::string::npos) << taken.errors[0].message;
  auto half = ImportOk("user_alias_name,user_alias_label\nL-2,\n");
  ASSERT_EQ(half.failed, 1u);
  EXPECT_EQ(half.errors[0].column, "user_alias_label");
}

TEST_F(UserImportTest, RowsOfOneUserKeepTheirOrderAcrossSortedBatches) {
  auto r = ImportOk("external_id,tier\nu2,a\nu1,a\nu2,b\nu1,b\nu2,c\n", 2);
  EXPECT_EQ(r.created, 2u);
  EXPECT_EQ(r.updated, 3u);
  EXPECT_EQ(AttributesOf(*ByExternalId("u1"))["tier"], "\"b\"");
  EXPECT_EQ(AttributesOf(*ByExternalId("u2"))["tier"], "\"c\"");
}

TEST_F(UserImportTest, RowsNamingOneExistingUserByDifferentIdentifiersKeepTheirOrder) {
  ImportOk("external_id,alias:email\nu1,e@x.com\n");
  // Sorted by identifier the external_id row would run first and the alias row's value win.
  auto r = ImportOk("external_id,alias:email,tier\n,e@x.com,first\nu1,,second\nu0,,other\n");
  EXPECT_EQ(r.updated, 2u);
  EXPECT_EQ(AttributesOf(*ByExternalId("u1"))["tier"], "\"second\"");
}

TEST_F(UserImportTest, HeadersTheImportCannotUseImportNothing) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"tier,city\ngold,Paris\n", "no identifier column"},
      {"external_id,device_id\nu1,d1\n", "SDK sessions"},
      {"external_id,braze_id\nu1,b\n", "not both"},
      {"user_alias_name,tier\nx,gold\n", "come together"},
      {"alias:,tier\nx,gold\n", "alias label"},
      {"external_id,user_aliases\nu1,x\n", "reserved"},
  };
  for (const auto& [csv, want] : cases) {
    auto r = Import(csv);
    ASSERT_FALSE(r.has_value()) << csv;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find(want), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find(".csv:1:"), std::string::npos) << r.error().message();
  }
  EXPECT_EQ(ProfileCount(), 0u);
}

TEST_F(UserImportTest, OptionsAndWorkspaceAreChecked) {
  UserImportOptions o;
  EXPECT_FALSE(o.Validate().ok());
  o.csv_path = WriteCsv("external_id\nu1\n");
  EXPECT_TRUE(o.Validate().ok());
  o.batch_rows = 0;
  EXPECT_NE(o.Validate().message().find("batch_rows"), std::string::npos);
  o.batch_rows = 10;
  o.pause_between_batches_ms = -1;
  EXPECT_NE(o.Validate().message().find("pause_between_batches_ms"), std::string::npos);
  o.pause_between_batches_ms = 0;
  o.workspace = "nope";
  auto r = ImportUsers(*storage_, o, 0);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("no workspace named 'nope'"), std::string::npos);
  auto missing = Import("");
  EXPECT_FALSE(missing.has_value());
}

TEST_F(UserImportTest, ProgressIsReportedPerBatch) {
  std::string csv = "external_id\n";
  for (int i = 0; i < 25; ++i) csv += "u" + std::to_string(i) + "\n";
  UserImportOptions o;
  o.csv_path = WriteCsv(csv);
  o.batch_rows = 10;
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  auto r = ImportUsers(*storage_, o, 0, [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->created, 25u);
  ASSERT_GE(calls.size(), 3u);
  EXPECT_EQ(calls.back().first, csv.size());
  EXPECT_EQ(calls.back().second, csv.size());
}

}  // namespace
}  // namespace cf::engage
