#include "sync/plan_dir.h"

#include <gtest/gtest.h>

#include "base/files.h"

namespace cf::sync {
namespace {

class PlanDirTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(CreateDirectories(dir_.path() + "/campaigns").ok()); }
  void Summary(const std::string& json) { ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/summary.json", json).ok()); }
  std::string Error() {
    Result<PlanSummary> r = ReadPlanSummary(dir_.path());
    return r.has_value() ? "" : r.error().message();
  }
  TempDirectory dir_{"plan-dir"};
};

TEST_F(PlanDirTest, ReadsCampaignsAndDefaultsTheExportFileName) {
  Summary(R"({"plan":"Week 49","value":1,"campaigns":[
    {"name":"Coffee","export_file_name":"Coffee - week 49","cohort_id":"cf-1","channel":"email","selected":3},
    {"name":"Tea","cohort_id":"cf-2"}]})");
  Result<PlanSummary> s = ReadPlanSummary(dir_.path());
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(s->plan, "Week 49");
  ASSERT_EQ(s->campaigns.size(), 2u);
  EXPECT_EQ(s->campaigns[0].export_file_name, "Coffee - week 49");
  EXPECT_EQ(s->campaigns[1].export_file_name, "Tea");
}

TEST_F(PlanDirTest, ErrorsNameTheFileAndField) {
  EXPECT_NE(Error().find("summary.json does not exist"), std::string::npos);
  Summary(R"({"plan":"W","campaigns":[{"name":"A","cohort_id":"../x"}]})");
  EXPECT_NE(Error().find("campaigns[0].cohort_id '../x' must be"), std::string::npos) << Error();
  Summary(R"({"plan":"W","campaigns":[{"name":"A"}]})");
  EXPECT_NE(Error().find("campaigns[0].cohort_id is missing"), std::string::npos) << Error();
  Summary(R"({"plan":"W","campaigns":[{"name":"A","cohort_id":"c1"},{"name":"B","cohort_id":"c1"}]})");
  EXPECT_NE(Error().find("campaigns[1].cohort_id 'c1' is used by an earlier campaign"), std::string::npos) << Error();
  Summary(R"({"plan":"W","campaigns":[{"name":"A","cohort_id":"c1","export_file_name":"X"},
                                      {"name":"B","cohort_id":"c2","export_file_name":"X"}]})");
  EXPECT_NE(Error().find("campaigns[1].export_file_name 'X'"), std::string::npos) << Error();
  Summary(R"({"plan":"W","campaigns":[{"name":7,"cohort_id":"c1"}]})");
  EXPECT_NE(Error().find("campaigns[0].name must be a non-empty string"), std::string::npos) << Error();
  Summary("{");
  EXPECT_NE(Error().find("not valid JSON"), std::string::npos) << Error();
}

TEST_F(PlanDirTest, AudienceSkipsHoldoutsAndCustomersWithoutIdentifier) {
  PlannedCampaign c{"Coffee", "Coffee", "cf-1", "email", "", ""};
  ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/campaigns/cf-1.csv",
                              "customer,external_id,alias,device_id,probability,expected_revenue,decile,holdout\n"
                              "c1,u1,email:a@b.c,d1,0.9,1,1,0\n"
                              "c2,,email:a@b.c,,0.8,1,1,0\n"
                              "c3,,,d3,0.7,1,1,0\n"
                              "c4,,,,0.6,1,1,0\n"
                              "c5,u5,,,0.6,1,1,1\n"
                              "c6,u1,,,0.6,1,1,0\n")
                  .ok());
  Result<CampaignAudience> a = ReadCampaignAudience(dir_.path(), c);
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  ASSERT_EQ(a->members.size(), 3u);
  EXPECT_EQ(a->members[0].id.Key(), "u:u1");
  EXPECT_EQ(a->members[1].id.Key(), "a:email:a@b.c");
  EXPECT_EQ(a->members[2].id.Key(), "d:d3");
  EXPECT_EQ(a->members[2].customer, "c3");
  EXPECT_EQ(a->skipped, 1);
  EXPECT_EQ(a->holdout, 1);
  EXPECT_EQ(a->duplicates, 1);
}

TEST_F(PlanDirTest, AudienceErrorsNameFileLineAndColumn) {
  PlannedCampaign c{"Coffee", "Coffee", "cf-1", "email", "", ""};
  EXPECT_NE(ReadCampaignAudience(dir_.path(), c).error().message().find("cf-1.csv does not exist"), std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/campaigns/cf-1.csv",
                              "customer,external_id,alias,device_id,holdout\nc1,u1,,,0\nc2,u2,,,yes\n")
                  .ok());
  const std::string m = ReadCampaignAudience(dir_.path(), c).error().message();
  EXPECT_NE(m.find("cf-1.csv:3: column holdout: expected 0 or 1, found 'yes'"), std::string::npos) << m;
  ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/campaigns/cf-1.csv", "customer,external_id,alias,holdout\n").ok());
  EXPECT_NE(ReadCampaignAudience(dir_.path(), c).error().message().find("no column device_id"), std::string::npos);
}

TEST_F(PlanDirTest, RowsCarryEveryColumn) {
  PlannedCampaign c{"Coffee", "Coffee", "cf-1", "email", "2026-01-02", "category = \"COFFEE\""};
  ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/campaigns/cf-1.csv",
                              "customer,external_id,alias,device_id,probability,expected_revenue,decile,holdout\n"
                              "c1,u1,email:a@b.c,d1,0.9,12.5,1,0\n"
                              "c2,,,,0.25,0,10,1\n")
                  .ok());
  Result<std::vector<PlannedRow>> rows = ReadCampaignRows(dir_.path(), c);
  ASSERT_TRUE(rows.has_value()) << rows.error().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].customer, "c1");
  EXPECT_EQ((*rows)[0].alias, "email:a@b.c");
  EXPECT_DOUBLE_EQ((*rows)[0].expected_revenue, 12.5);
  EXPECT_EQ((*rows)[0].decile, 1);
  EXPECT_FALSE((*rows)[0].holdout);
  EXPECT_EQ((*rows)[1].external_id, "");
  EXPECT_DOUBLE_EQ((*rows)[1].probability, 0.25);
  EXPECT_EQ((*rows)[1].decile, 10);
  EXPECT_TRUE((*rows)[1].holdout);
  ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/campaigns/cf-1.csv",
                              "customer,external_id,alias,device_id,probability,expected_revenue,decile,holdout\n"
                              "c1,u1,,,0.9,1,11,0\n")
                  .ok());
  rows = ReadCampaignRows(dir_.path(), c);
  ASSERT_FALSE(rows.has_value());
  EXPECT_NE(rows.error().message().find("cf-1.csv:2: column decile: expected a decile 1 to 10, found '11'"),
            std::string::npos)
      << rows.error().message();
}

TEST_F(PlanDirTest, SummaryCarriesTheOfferAndSendDate) {
  Summary(
      R"({"plan":"W","campaigns":[{"name":"A","cohort_id":"c1","offer":"brand = \"X\"","send_date":"2026-01-02"}]})");
  Result<PlanSummary> s = ReadPlanSummary(dir_.path());
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(s->campaigns[0].offer, "brand = \"X\"");
  EXPECT_EQ(s->campaigns[0].send_date, "2026-01-02");
}

}  // namespace
}  // namespace cf::sync
