#include "sync/exporter.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>

#include "base/files.h"

namespace cf::sync {
namespace {

Member M(std::string customer, std::string key) { return {std::move(customer), *Identifier::FromKey(key), key}; }

std::vector<std::string> Keys(const std::vector<JournalEntry>& v) {
  std::vector<std::string> out;
  for (const JournalEntry& e : v) out.push_back(e.key);
  return out;
}

TEST(ComputeChanges, FirstExportAddsEverythingInPlanOrder) {
  const ChangeSet c = ComputeChanges({}, {M("c2", "u:b"), M("c1", "a:email:x@y"), M("c3", "d:d3")});
  EXPECT_EQ(Keys(c.adds), (std::vector<std::string>{"u:b", "a:email:x@y", "d:d3"}));
  EXPECT_TRUE(c.removes.empty());
  EXPECT_TRUE(c.replaced.empty());
}

TEST(ComputeChanges, OnlyTheDifferenceAndChangedIdentifiersRemovedFirst) {
  const Journal::Membership acked = {{"u:a", "c1"}, {"u:b", "c2"}, {"d:d3", "c3"}, {"u:z", "c9"}, {"u:y", "c8"}};
  // c3 was anonymous and is now identified; c9 and c8 left; c4 joined.
  const ChangeSet c = ComputeChanges(acked, {M("c1", "u:a"), M("c2", "u:b"), M("c3", "u:c3"), M("c4", "u:d")});
  EXPECT_EQ(Keys(c.adds), (std::vector<std::string>{"u:c3", "u:d"}));
  EXPECT_EQ(Keys(c.replaced), (std::vector<std::string>{"d:d3"}));
  EXPECT_EQ(Keys(c.removes), (std::vector<std::string>{"u:y", "u:z"}));
  EXPECT_TRUE(ComputeChanges(acked, {M("c1", "u:a"), M("c2", "u:b"), M("c3", "d:d3"), M("c9", "u:z"), M("c8", "u:y")})
                  .adds.empty());
}

TEST(CsvFileName, ReplacesWhatFileSystemsRefuse) {
  PlannedCampaign c;
  c.cohort_id = "cf-1";
  c.export_file_name = "Coffee - week 49";
  EXPECT_EQ(CsvFileName(c), "Coffee - week 49.csv");
  c.export_file_name = " ..a/b\\c:d*e?f\"g<h>i|j\tk. ";
  EXPECT_EQ(CsvFileName(c), "a_b_c_d_e_f_g_h_i_j_k.csv");
  c.export_file_name = "..";
  EXPECT_EQ(CsvFileName(c), "cf-1.csv");
  c.export_file_name = std::string(199, 'x') + "\xc3\xa9" + "tail";  // é straddles byte 200
  EXPECT_EQ(CsvFileName(c), std::string(199, 'x') + ".csv");
}

TEST(WriteCohortCsv, OneIdentifierPerRow) {
  TempDirectory dir("cohort-csv");
  PlannedCampaign c;
  c.cohort_id = "cf-1";
  c.export_file_name = "A/B";
  CampaignAudience a;
  a.members = {M("c1", "u:u,1"), M("c2", "a:email:x@y"), M("c3", "d:d3")};
  ASSERT_TRUE(WriteCohortCsv(dir.path(), c, a).ok());
  EXPECT_EQ(*ReadFile(dir.path() + "/A_B.csv"),
            "customer,external_id,alias_label,alias_name,device_id\nc1,\"u,1\",,,\nc2,,email,x@y,\nc3,,,,d3\n");
}

TEST(LoadCredentials, FileOrEnvironmentWithErrorsNamingTheKey) {
  TempDirectory dir("keys");
  const std::string path = dir.path() + "/keys.json";
  ASSERT_TRUE(WriteFileAtomic(path, R"({"partner_api_key":"p","data_import_key":"s"})").ok());
  Result<Credentials> c = LoadCredentials(path);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->partner_api_key, "p");
  EXPECT_EQ(c->data_import_key, "s");
  ASSERT_TRUE(WriteFileAtomic(path, R"({"partner_api_key":"p","client_secret":"s"})").ok());
  c = LoadCredentials(path);
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("unknown key 'client_secret'; valid: partner_api_key, data_import_key"),
            std::string::npos)
      << c.error().message();
  ASSERT_TRUE(WriteFileAtomic(path, R"({"partner_api_key":"p"})").ok());
  EXPECT_NE(LoadCredentials(path).error().message().find("data_import_key is missing"), std::string::npos);

  unsetenv("CF_PARTNER_API_KEY");
  unsetenv("CF_DATA_IMPORT_KEY");
  EXPECT_NE(LoadCredentials("").error().message().find("CF_PARTNER_API_KEY"), std::string::npos);
  setenv("CF_PARTNER_API_KEY", "pe", 1);
  setenv("CF_DATA_IMPORT_KEY", "se", 1);
  EXPECT_EQ(LoadCredentials("")->data_import_key, "se");
  unsetenv("CF_PARTNER_API_KEY");
  unsetenv("CF_DATA_IMPORT_KEY");
}

TEST(ExportOptions, ValidateNamesTheField) {
  ExportOptions o;
  o.endpoint = "http://127.0.0.1:4000";
  EXPECT_TRUE(o.Validate().ok());
  const auto fails = [](ExportOptions x, const char* field) {
    const Status s = x.Validate();
    EXPECT_FALSE(s.ok()) << field;
    EXPECT_NE(s.message().find(field), std::string::npos) << s.message();
  };
  ExportOptions x = o;
  x.endpoint = "127.0.0.1:4000";
  fails(x, "endpoint");
  x = o;
  x.partner = "tiny/clues";
  fails(x, "partner");
  x = o;
  x.max_ids_per_request = 1001;
  fails(x, "max_ids_per_request");
  x = o;
  x.connections = 0;
  fails(x, "connections");
  x = o;
  x.timeout_seconds = 0;
  fails(x, "timeout_seconds");
  x = o;
  x.max_retry_seconds = -1;
  fails(x, "max_retry_seconds");
  x = o;
  x.max_backoff_seconds = 0.1;
  fails(x, "max_backoff_seconds");
}

}  // namespace
}  // namespace cf::sync
