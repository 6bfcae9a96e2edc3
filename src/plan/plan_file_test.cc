#include "plan/plan_file.h"

#include <gtest/gtest.h>

#include <string>

#include "base/files.h"

namespace cf::plan {
namespace {

constexpr const char* kExample = R"({"name": "Week 49", "start": "2026-12-07", "days": 7, "objective": "revenue",
 "pressure": [{"channel": "email", "max_messages": 2, "window_days": 7},
              {"channel": "any", "min_gap_days": 1}],
 "campaigns": [
   {"name": "Coffee lovers", "offer": "category = \"COFFEE\"", "channel": "email",
    "send_date": "2026-12-08", "volume": {"fixed": 5000}, "priority": "high",
    "holdout_share": 0.1, "export_file_name": "Coffee - week 49",
    "audience": "region != \"North\"", "exclude_recent_buyers_days": 30},
   {"name": "Tea", "offer": "category = \"TEA\"", "channel": "push", "send_date": "2026-12-13",
    "volume": {"capture_share": 0.5}}]})";

// The example with `from` replaced by `to` (once), parsed.
Result<PlanFile> ParseEdited(std::string_view from, std::string_view to) {
  std::string text = kExample;
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return ParsePlan(text, "plan.json");
}

void ExpectError(std::string_view from, std::string_view to, std::string_view fragment) {
  Result<PlanFile> p = ParseEdited(from, to);
  ASSERT_FALSE(p.has_value()) << "accepted: " << to;
  EXPECT_NE(p.error().message().find(fragment), std::string::npos) << p.error().message();
  EXPECT_EQ(p.error().message().rfind("plan.json: ", 0), 0u) << p.error().message();
}

TEST(ParsePlanTest, ReadsTheExampleWithDefaults) {
  Result<PlanFile> p = ParsePlan(kExample, "plan.json");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(p->name, "Week 49");
  EXPECT_EQ(p->days, 7);
  EXPECT_EQ(p->objective, Objective::kRevenue);
  ASSERT_EQ(p->pressure.size(), 2u);
  EXPECT_EQ(p->pressure[0].channel, Channel::kEmail);
  EXPECT_EQ(p->pressure[0].max_messages, 2);
  EXPECT_EQ(p->pressure[0].window_days, 7);
  EXPECT_FALSE(p->pressure[1].channel.has_value());
  EXPECT_EQ(p->pressure[1].min_gap_days, 1);
  ASSERT_EQ(p->campaigns.size(), 2u);
  const CampaignSpec& coffee = p->campaigns[0];
  EXPECT_EQ(coffee.volume.kind, Volume::Kind::kFixed);
  EXPECT_EQ(coffee.volume.amount, 5000);
  EXPECT_EQ(coffee.priority, Priority::kHigh);
  EXPECT_EQ(coffee.export_file_name, "Coffee - week 49");
  EXPECT_EQ(coffee.audience, "region != \"North\"");
  EXPECT_EQ(coffee.exclude_recent_buyers_days, 30);
  const CampaignSpec& tea = p->campaigns[1];
  EXPECT_EQ(tea.channel, Channel::kPush);
  EXPECT_EQ(tea.volume.kind, Volume::Kind::kCaptureShare);
  EXPECT_DOUBLE_EQ(tea.volume.amount, 0.5);
  EXPECT_EQ(tea.priority, Priority::kMedium);
  EXPECT_DOUBLE_EQ(tea.holdout_share, 0.1);
  EXPECT_EQ(tea.export_file_name, "Tea");  // defaults to the name
  EXPECT_EQ(tea.audience, "");
  EXPECT_EQ(tea.exclude_recent_buyers_days, 0);
  EXPECT_EQ(p->SendDay(coffee), 1);
  EXPECT_EQ(p->SendDay(tea), 6);
  EXPECT_EQ(p->StartTime(), 1796601600);  // 2026-12-07T00:00:00Z
}

TEST(ParsePlanTest, SerializeRoundTripsEveryField) {
  Result<PlanFile> p = ParsePlan(kExample, "plan.json");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  p->objective = Objective::kBuyers;
  p->days = 9;
  p->campaigns[1].volume = {Volume::Kind::kMinProbability, 0.125};
  p->campaigns[1].holdout_share = 0;
  p->campaigns[1].priority = Priority::kLow;
  p->pressure.push_back({Channel::kSms, 1, 3, 2});
  const std::string text = SerializePlan(*p);
  Result<PlanFile> q = ParsePlan(text, "again.json");
  ASSERT_TRUE(q.has_value()) << q.error().ToString() << "\n" << text;
  EXPECT_EQ(SerializePlan(*q), text);
  EXPECT_EQ(q->objective, Objective::kBuyers);
  EXPECT_EQ(q->days, 9);
  ASSERT_EQ(q->pressure.size(), 3u);
  EXPECT_EQ(q->pressure[2].channel, Channel::kSms);
  EXPECT_EQ(q->pressure[2].max_messages, 1);
  EXPECT_EQ(q->pressure[2].window_days, 3);
  EXPECT_EQ(q->pressure[2].min_gap_days, 2);
  for (size_t i = 0; i < p->campaigns.size(); ++i) {
    const CampaignSpec &a = p->campaigns[i], &b = q->campaigns[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.offer, b.offer);
    EXPECT_EQ(a.channel, b.channel);
    EXPECT_EQ(a.send_date, b.send_date);
    EXPECT_EQ(a.volume.kind, b.volume.kind);
    EXPECT_EQ(a.volume.amount, b.volume.amount);
    EXPECT_EQ(a.priority, b.priority);
    EXPECT_EQ(a.holdout_share, b.holdout_share);
    EXPECT_EQ(a.export_file_name, b.export_file_name);
    EXPECT_EQ(a.audience, b.audience);
    EXPECT_EQ(a.exclude_recent_buyers_days, b.exclude_recent_buyers_days);
  }
  // Every default is written out, in the documented order.
  EXPECT_LT(text.find("\"name\""), text.find("\"start\""));
  EXPECT_NE(text.find("\"holdout_share\": 0.0"), std::string::npos) << text;
  EXPECT_NE(text.find("\"export_file_name\": \"Tea\""), std::string::npos) << text;
}

TEST(ParsePlanTest, UnknownKeysNameTheKeyAndTheValidOnes) {
  ExpectError("\"volume\": {\"fixed\": 5000}", "\"volumn\": {\"fixed\": 5000}",
              "plan.json: campaigns[0]: unknown key \"volumn\"; valid: name, offer, channel, send_date, volume");
  ExpectError("\"days\": 7", "\"dayz\": 7", "plan.json: unknown key \"dayz\"; valid: name, start, days");
  ExpectError("\"min_gap_days\": 1", "\"gap\": 1",
              "pressure[1]: unknown key \"gap\"; valid: channel, max_messages, window_days, min_gap_days");
  ExpectError("{\"fixed\": 5000}", "{\"fix\": 5000}",
              "campaigns[0].volume: unknown key \"fix\"; valid: fixed, min_probability, capture_share");
  ExpectError("\"days\": 7", "\"days\": 7, \"days\": 8", "key \"days\" appears twice");
}

TEST(ParsePlanTest, EveryRejectionNamesTheField) {
  ExpectError("\"days\": 7", "\"days\": 0", "days: 0 is not valid; expected a whole number in 1 .. 366");
  ExpectError("\"days\": 7", "\"days\": 2.5", "days: 2.5 is not valid");
  ExpectError("\"days\": 7", "\"days\": \"7\"", "days: expected a number, found a string");
  ExpectError("\"name\": \"Week 49\"", "\"name\": \"\"", "plan.json: name: \"\" is blank; give the plan a name");
  ExpectError("\"name\": \"Week 49\", ", "", "name: missing (required)");
  ExpectError("{\"name\": \"Tea\"", "{\"name\": \"  \"", "campaigns[1].name: \"  \" is blank");
  ExpectError("\"start\": \"2026-12-07\"", "\"start\": \"2026-02-30\"", "start: \"2026-02-30\" is not a date");
  ExpectError("\"start\": \"2026-12-07\"", "\"start\": \"7/12/2026\"", "start: \"7/12/2026\" is not a date");
  ExpectError("\"objective\": \"revenue\"", "\"objective\": \"profit\"",
              "objective: \"profit\" is not an objective; valid: revenue, buyers");
  ExpectError("{\"channel\": \"email\", \"max", "{\"channel\": \"mail\", \"max",
              "pressure[0].channel: \"mail\" is not a channel; valid: email, push, sms, any");
  ExpectError("\"window_days\": 7", "\"window_days\": 0", "pressure[0]: a rule with max_messages needs window_days");
  ExpectError("\"min_gap_days\": 1", "\"window_days\": 3", "pressure[1].window_days: 3 without max_messages");
  ExpectError("\"max_messages\": 2", "\"max_messages\": -1", "pressure[0].max_messages: -1 is not valid");
  ExpectError("\"channel\": \"email\",\n    \"send_date\"", "\"channel\": \"any\",\n    \"send_date\"",
              "campaigns[0].channel: \"any\" is not a campaign channel; valid: email, push, sms");
  ExpectError("\"send_date\": \"2026-12-08\"", "\"send_date\": \"2026-12-14\"",
              "campaigns[0].send_date: 2026-12-14 is outside the plan; valid: 2026-12-07 .. 2026-12-13");
  ExpectError("\"send_date\": \"2026-12-08\"", "\"send_date\": \"2026-12-06\"", "campaigns[0].send_date");
  ExpectError("\"send_date\": \"2026-12-08\"", "\"send_date\": \"2026-13-01\"",
              "campaigns[0].send_date: \"2026-13-01\" is not a date");
  ExpectError("{\"fixed\": 5000}", "{\"fixed\": 0}", "campaigns[0].volume.fixed: 0 is not valid");
  ExpectError("{\"fixed\": 5000}", "{\"fixed\": 10.5}", "campaigns[0].volume.fixed: 10.5 is not valid");
  ExpectError("{\"fixed\": 5000}", "{\"fixed\": 5, \"capture_share\": 0.5}",
              "campaigns[0].volume: 2 given; expected exactly one of fixed, min_probability, capture_share");
  ExpectError("{\"fixed\": 5000}", "{}", "campaigns[0].volume: 0 given");
  ExpectError("{\"fixed\": 5000}", "5000", "campaigns[0].volume: expected an object");
  ExpectError("{\"capture_share\": 0.5}", "{\"capture_share\": 1.5}", "campaigns[1].volume.capture_share: 1.5");
  ExpectError("{\"capture_share\": 0.5}", "{\"min_probability\": 0}", "campaigns[1].volume.min_probability: 0");
  ExpectError("\"priority\": \"high\"", "\"priority\": \"urgent\"",
              "campaigns[0].priority: \"urgent\" is not a priority; valid: high, medium, low");
  ExpectError("\"holdout_share\": 0.1", "\"holdout_share\": 1", "campaigns[0].holdout_share: 1 is not valid");
  ExpectError("\"holdout_share\": 0.1", "\"holdout_share\": -0.1", "campaigns[0].holdout_share");
  ExpectError("\"exclude_recent_buyers_days\": 30", "\"exclude_recent_buyers_days\": 4000",
              "campaigns[0].exclude_recent_buyers_days: 4000 is not valid");
  ExpectError("\"offer\": \"category = \\\"COFFEE\\\"\"", "\"offer\": \"category = \"",
              "campaigns[0].offer: \"category = \": offer: column 12: expected a value");
  ExpectError("\"audience\": \"region != \\\"North\\\"\"", "\"audience\": \"region !! 1\"", "campaigns[0].audience");
  ExpectError("\"export_file_name\": \"Coffee - week 49\"", "\"export_file_name\": \"\"",
              "campaigns[0].export_file_name: \"\" is blank");
  ExpectError("\"export_file_name\": \"Coffee - week 49\"", "\"export_file_name\": \"Tea\"",
              "campaigns[1].export_file_name: \"Tea\" is used by an earlier campaign");
  ExpectError("{\"name\": \"Tea\"", "{\"name\": \"Coffee lovers\"",
              "campaigns[1].name: \"Coffee lovers\" is the name of an earlier campaign");
  Result<PlanFile> not_array = ParsePlan(R"({"name": "a", "start": "2026-12-07", "campaigns": {}})", "p.json");
  ASSERT_FALSE(not_array.has_value());
  EXPECT_EQ(not_array.error().message(), "p.json: campaigns: expected an array of campaigns, found an object ({})");
  ExpectError("\"days\": 7,", "\"days\": 7,,", "plan.json: not valid JSON: parse error at line 1");
}

TEST(PlanFileTest, WriteIsAtomicAndRefusesAnInvalidPlan) {
  TempDirectory dir("plan-file-test");
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.path() + "/plan.json";
  Result<PlanFile> p = ParsePlan(kExample, "plan.json");
  ASSERT_TRUE(p.has_value());
  ASSERT_TRUE(WritePlanFile(path, *p).ok());
  const std::string before = ReadFile(path).value();
  Result<PlanFile> back = ReadPlanFile(path);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(SerializePlan(*back), before);

  p->campaigns[1].send_date = "2027-01-01";
  const Status s = WritePlanFile(path, *p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("campaigns[1].send_date"), std::string::npos) << s.message();
  EXPECT_EQ(ReadFile(path).value(), before);

  Result<PlanFile> missing = ReadPlanFile(dir.path() + "/nope.json");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("nope.json"), std::string::npos) << missing.error().message();
}

TEST(PlanFileTest, TheDocumentedExampleReads) {
  const std::string doc = ReadFile(std::string(CF_SOURCE_DIR) + "/docs/plan.md").value_or("");
  const size_t start = doc.find("```json\n{\n  \"name\"");
  ASSERT_NE(start, std::string::npos) << "docs/plan.md has no full example";
  const size_t body = start + 8;
  const std::string example = doc.substr(body, doc.find("```", body) - body);
  Result<PlanFile> p = ParsePlan(example, "docs/plan.md");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(p->campaigns.size(), 3u);
}

TEST(CohortIdTest, StableAndDistinct) {
  const std::string id = CohortId("Week 49", "Coffee lovers");
  EXPECT_EQ(id, CohortId("Week 49", "Coffee lovers"));
  ASSERT_EQ(id.size(), 19u);
  EXPECT_EQ(id.substr(0, 3), "cf-");
  for (char c : id.substr(3)) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
  EXPECT_NE(id, CohortId("Week 50", "Coffee lovers"));
  EXPECT_NE(id, CohortId("Week 49", "Coffee lover"));
  EXPECT_NE(CohortId("ab", "c"), CohortId("a", "bc"));
}

}  // namespace
}  // namespace cf::plan
