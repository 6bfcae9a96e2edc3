#include "sync/plan_export.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/files.h"

namespace cf::sync {
namespace {

// A port nothing listens on: bound, never listened to, closed at the end of the test.
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t n = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n);
    port_ = ntohs(a.sin_port);
  }
  ~ClosedPort() { close(fd_); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class PlanExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CreateDirectories(dir_.path() + "/campaigns").ok());
    ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/summary.json", R"({"plan":"Week 49","campaigns":[
      {"name":"Coffee","export_file_name":"Coffee - w49","cohort_id":"cf-1"},
      {"name":"Tea","export_file_name":"Tea - w49","cohort_id":"cf-2"}]})")
                    .ok());
    const std::string header = "customer,external_id,alias,device_id,probability,expected_revenue,decile,holdout\n";
    ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/campaigns/cf-1.csv",
                                header + "c1,u1,,,0.9,1,1,0\nc2,,,d2,0.8,1,1,0\nc3,,,,0.7,1,1,0\nc4,u4,,,0.6,1,1,1\n")
                    .ok());
    ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/campaigns/cf-2.csv", header + "c1,u1,,,0.9,1,1,0\n").ok());
    options_.plan_dir = dir_.path();
  }
  TempDirectory dir_{"plan-export"};
  PlanExportOptions options_;
};

TEST_F(PlanExportTest, OptionsNeedSomethingToDo) {
  EXPECT_NE(options_.Validate().message().find("nothing to do"), std::string::npos);
  options_.dry_run = true;
  options_.csv_dir = dir_.path() + "/csv";
  EXPECT_NE(options_.Validate().message().find("a dry run needs an endpoint"), std::string::npos);
  options_.send = true;
  options_.export_options.endpoint = "ftp://x";
  EXPECT_NE(options_.Validate().message().find("endpoint"), std::string::npos) << options_.Validate().message();
}

TEST_F(PlanExportTest, CsvOnlyReportsEachCampaignAsItStartsAndEnds) {
  options_.csv_dir = dir_.path() + "/csv";
  std::vector<std::string> seen;
  Result<PlanExport> r = ExportPlan(options_, {}, [&](const PlanExport& all, size_t i) {
    seen.push_back(all.campaigns[i].campaign.name + ":" + StateName(all.campaigns[i].state) + ":" +
                   StateName(all.campaigns[1 - i].state));
  });
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(seen, (std::vector<std::string>{"Coffee:running:pending", "Coffee:done:pending", "Tea:running:done",
                                            "Tea:done:done"}));
  EXPECT_EQ(r->failed(), 0);
  EXPECT_DOUBLE_EQ(Fraction(*r), 1.0);
  PlanExport half = *r;
  half.campaigns[1].state = CampaignExport::State::kRunning;
  half.campaigns[1].sending_acknowledged = 1;
  half.campaigns[1].sending_total = 4;
  EXPECT_DOUBLE_EQ(Fraction(half), 0.625);
  EXPECT_EQ(ToJson(half.campaigns[1])["to_send"], 4);
  const nlohmann::json coffee = ToJson(r->campaigns[0]);
  EXPECT_EQ(coffee["planned"], 2);
  EXPECT_EQ(coffee["skipped"], 1);
  EXPECT_EQ(coffee["holdout"], 1);
  EXPECT_EQ(coffee["status"], "ok");
  EXPECT_FALSE(coffee.contains("sent"));
  EXPECT_TRUE(PathExists(dir_.path() + "/csv/Coffee - w49.csv"));
}

TEST_F(PlanExportTest, SelectsByNameOrExportFileNameOnceEach) {
  options_.csv_dir = dir_.path() + "/csv";
  options_.campaigns = {"Tea - w49", "Tea", "Coffee"};
  Result<PlanExport> r = ExportPlan(options_, {});
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->campaigns.size(), 2u);
  EXPECT_EQ(r->campaigns[0].campaign.name, "Tea");
  options_.campaigns = {"Nope"};
  r = ExportPlan(options_, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("has no campaign named 'Nope'; its campaigns: 'Coffee', 'Tea'"), std::string::npos)
      << r.error().message();
}

TEST_F(PlanExportTest, DryRunComputesChangesAgainstTheJournalAndWritesNothing) {
  ClosedPort port;
  options_.send = true;
  options_.dry_run = true;
  options_.csv_dir = dir_.path() + "/csv";
  options_.export_options.endpoint = port.url();
  Result<PlanExport> r = ExportPlan(options_, {});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  const nlohmann::json out = ToJson(*r);
  EXPECT_EQ(out["dry_run"], true);
  EXPECT_EQ(out["campaigns"][0]["to_add"], 2);
  EXPECT_EQ(out["campaigns"][0]["first_adds"], (nlohmann::json{"external_id u1", "device_id d2"}));
  EXPECT_FALSE(PathExists(dir_.path() + "/csv"));
  EXPECT_FALSE(PathExists(dir_.path() + "/export"));
}

TEST_F(PlanExportTest, AFailedCampaignDoesNotStopTheOthers) {
  ClosedPort port;
  options_.send = true;
  options_.export_options.endpoint = port.url();
  options_.export_options.max_retry_seconds = 0;
  options_.export_options.timeout_seconds = 2;
  ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/campaigns/cf-1.csv", "customer,holdout\nc1,x\n").ok());
  Result<PlanExport> r = ExportPlan(options_, {"p", "s"});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->failed(), 2);
  const nlohmann::json coffee = ToJson(r->campaigns[0]);
  EXPECT_EQ(coffee["state"], "failed");
  EXPECT_NE(coffee["error"].get<std::string>().find("cf-1.csv"), std::string::npos) << coffee.dump();
  const nlohmann::json tea = ToJson(r->campaigns[1]);
  EXPECT_EQ(tea["planned"], 1);
  EXPECT_EQ(tea["sent"], 0);
  EXPECT_FALSE(tea["error"].get<std::string>().empty());
}

}  // namespace
}  // namespace cf::sync
