#include "console/plan_api.h"

#include <gtest/gtest.h>

#include <string>

#include "base/files.h"
#include "plan/planner.h"

namespace cf::console {
namespace {

using nlohmann::json;

plan::PlanFile TwoCampaigns() {
  auto p = plan::ParsePlan(R"({"name": "Week", "start": "2026-12-07", "days": 7,
    "pressure": [{"channel": "email", "max_messages": 1, "window_days": 7}],
    "campaigns": [
      {"name": "A", "offer": "any", "channel": "email", "send_date": "2026-12-07", "volume": {"fixed": 10}},
      {"name": "B", "offer": "any", "channel": "sms", "send_date": "2026-12-09", "volume": {"capture_share": 0.5}}]})",
                           "test");
  EXPECT_TRUE(p.has_value()) << p.error().message();
  return *p;
}

TEST(CampaignFromJson, ParsesWithThePlanFilesChecksAtItsPosition) {
  const plan::PlanFile p = TwoCampaigns();
  json c = {
      {"name", "C"}, {"offer", "any"}, {"channel", "push"}, {"send_date", "2026-12-08"}, {"volume", {{"fixed", 5}}}};
  auto added = CampaignFromJson(p, c, p.campaigns.size(), "plan.json");
  ASSERT_TRUE(added.has_value()) << added.error().message();
  EXPECT_EQ(added->name, "C");
  EXPECT_EQ(added->export_file_name, "C");  // the parser's default
  EXPECT_DOUBLE_EQ(added->holdout_share, 0.1);

  c["send_date"] = "2026-12-20";
  auto late = CampaignFromJson(p, c, p.campaigns.size(), "plan.json");
  ASSERT_FALSE(late.has_value());
  EXPECT_NE(late.error().message().find("campaigns[2].send_date: 2026-12-20 is outside the plan"), std::string::npos)
      << late.error().message();

  // Replacing B: its own name is fine there, A's is taken.
  c["send_date"] = "2026-12-08";
  c["name"] = "B";
  EXPECT_TRUE(CampaignFromJson(p, c, 1, "plan.json").has_value());
  c["name"] = "A";
  auto taken = CampaignFromJson(p, c, 1, "plan.json");
  ASSERT_FALSE(taken.has_value());
  EXPECT_NE(taken.error().message().find("campaigns[1].name"), std::string::npos) << taken.error().message();
  c["volumn"] = 3;
  auto unknown = CampaignFromJson(p, c, 0, "plan.json");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message().find("unknown key \"volumn\""), std::string::npos) << unknown.error().message();
}

TEST(PlanView, CampaignsWithTheLastRunsNumbersWhenTheyStillMatch) {
  const plan::PlanFile p = TwoCampaigns();
  TempDirectory dir("plan-view");
  const std::string plan_dir = dir.path() + "/plandir";
  json before = PlanView(p, plan_dir);
  EXPECT_TRUE(before["summary"].is_null());
  EXPECT_EQ(before["unplanned"], 2);
  EXPECT_EQ(before["end"], "2026-12-13");
  ASSERT_EQ(before["campaigns"].size(), 2u);
  EXPECT_EQ(before["campaigns"][1]["volume"]["capture_share"], 0.5);
  EXPECT_EQ(before["campaigns"][0]["cohort_id"], plan::CohortId("Week", "A"));
  EXPECT_FALSE(before.contains("stale"));

  // A summary as `audience plan` writes it: A as planned, B planned with another send date.
  ASSERT_TRUE(CreateDirectories(plan_dir).ok());
  json summary = {{"format", "cohortflow-plan"},
                  {"plan", "Week"},
                  {"as_of", "2026-12-06T00:00:00Z"},
                  {"solver", "exact"},
                  {"violations", 0},
                  {"messages_per_customer", {{"1", 10}}},
                  {"campaigns",
                   {{{"name", "A"},
                     {"cohort_id", plan::CohortId("Week", "A")},
                     {"offer", "any"},
                     {"channel", "email"},
                     {"send_date", "2026-12-07"},
                     {"selected", 9},
                     {"holdout", 1},
                     {"eligible", 100},
                     {"expected_buyers", 2.5},
                     {"expected_revenue", 40.0}},
                    {{"name", "B"},
                     {"cohort_id", plan::CohortId("Week", "B")},
                     {"offer", "any"},
                     {"channel", "sms"},
                     {"send_date", "2026-12-10"},
                     {"selected", 5},
                     {"holdout", 0},
                     {"eligible", 50},
                     {"expected_buyers", 1.0},
                     {"expected_revenue", 10.0}}}}};
  ASSERT_TRUE(WriteFileAtomic(plan_dir + "/summary.json", summary.dump()).ok());
  ASSERT_TRUE(plan::IsPlanDirectory(plan_dir)) << "the test's summary must be recognized";
  json view = PlanView(p, plan_dir);
  ASSERT_FALSE(view["summary"].is_null());
  EXPECT_EQ(view["summary"]["selected"], 14);
  EXPECT_DOUBLE_EQ(view["summary"]["expected_revenue"].get<double>(), 50.0);
  EXPECT_EQ(view["summary"]["violations"], 0);
  EXPECT_EQ(view["campaigns"][0]["planned"]["selected"], 9);
  EXPECT_TRUE(view["campaigns"][1]["planned"].is_null()) << "B moved since the run";
  EXPECT_EQ(view["unplanned"], 1);
  EXPECT_EQ(view["stale"], true);
}

}  // namespace
}  // namespace cf::console
