// Campaigns and sends in-process: the outcome rules (opt-out, control group, frequency cap), the
// exactly-once retry of a send_id, the request checks, the upgrade of a schema 2 database.
// The webhook adapter's deliveries are tested across processes (tests/engage/campaigns_test.cc).
#include "engage/campaigns.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "base/time.h"
#include "engage/engage.h"
#include "engage/sqlite_storage.h"

namespace cf::engage {
namespace {

using nlohmann::json;

constexpr int64_t kWorkspace = 1;  // `default`, made by Engage::Open

class CampaignsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("campaigns-test-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Reopen();
  }
  void TearDown() override {
    engage_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    engage_.reset();
    SqliteStorageOptions o;
    o.path = (dir_ / "engage.db").string();
    o.synchronous_full = false;
    auto sqlite = OpenSqliteStorage(o);
    ASSERT_TRUE(sqlite.has_value()) << sqlite.error().ToString();
    auto engage = Engage::Open(std::move(*sqlite), clock_);
    ASSERT_TRUE(engage.has_value()) << engage.error().ToString();
    engage_ = std::move(*engage);
  }

  // Users u{first}..u{first+n-1}, with `extra` attributes each.
  void AddUsers(int first, int n, const json& extra = json::object()) {
    for (int start = first; start < first + n; start += 75) {
      json attrs = json::array();
      for (int i = start; i < std::min(first + n, start + 75); ++i) {
        json a = extra;
        a["external_id"] = fmt::format("u{}", i);
        attrs.push_back(a);
      }
      auto r = engage_->Track(kWorkspace, {{"attributes", attrs}});
      ASSERT_TRUE(r.has_value()) << r.error().ToString();
    }
  }
  // A segment of every profile (none has the attribute `never`).
  std::string EveryoneSegment() {
    auto r = engage_->CreateSegment(
        kWorkspace, {{"name", "everyone"},
                     {"filter", {{"custom_attribute", {{"name", "never"}, {"comparison", "does_not_exist"}}}}}});
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.has_value() ? (*r)["segment_id"].get<std::string>() : "";
  }
  std::string Campaign(const std::string& name, const std::string& segment, const std::string& channel,
                       double share = 0) {
    auto r = engage_->CreateCampaign(
        kWorkspace, {{"name", name}, {"segment_id", segment}, {"channel", channel}, {"control_share", share}});
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.has_value() ? (*r)["campaign_id"].get<std::string>() : "";
  }
  json Send(const json& body) {
    auto r = engage_->TriggerSend(kWorkspace, body);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.has_value() ? *r : json();
  }
  std::string SendError(const json& body) {
    auto r = engage_->TriggerSend(kWorkspace, body);
    EXPECT_FALSE(r.has_value()) << body.dump();
    if (r.has_value()) return "";
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << r.error().ToString();
    return r.error().message();
  }
  // The feed's records (of one campaign, or all), parsed.
  std::vector<json> Feed(const std::optional<std::string>& campaign_id = std::nullopt, int64_t since = 0) {
    std::vector<json> out;
    Status s = WriteSendsFeed(engage_->storage(), "default", campaign_id, since, [&](std::string_view line) {
      out.push_back(json::parse(line));
      return Status::OK();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }
  // external_user_id -> outcome, for one dispatch.
  std::map<std::string, std::string> Outcomes(const std::string& dispatch_id) {
    std::map<std::string, std::string> out;
    for (const json& r : Feed()) {
      if (r["dispatch_id"] != dispatch_id) continue;
      EXPECT_TRUE(out.emplace(r["external_user_id"].get<std::string>(), r["outcome"].get<std::string>()).second)
          << "two records of one user in one dispatch: " << r.dump();
    }
    return out;
  }

  FixedClock clock_{1800000000};
  std::filesystem::path dir_;
  std::unique_ptr<Engage> engage_;
};

TEST_F(CampaignsTest, OneRecordPerUserWithTheContractFields) {
  AddUsers(0, 5);
  ASSERT_TRUE(
      engage_->Track(kWorkspace, {{"attributes", {{{"external_id", "u0"}, {"email_subscribe", "unsubscribed"}}}}})
          .has_value());
  ASSERT_TRUE(engage_
                  ->AliasNew(kWorkspace,
                             {{"user_aliases",
                               {{{"external_id", "u1"}, {"alias_label", "email"}, {"alias_name", "u1@example.com"}}}}})
                  .has_value());
  const std::string id = Campaign("Welcome", EveryoneSegment(), "email");
  json answer = Send({{"campaign_id", id}, {"broadcast", true}});
  EXPECT_EQ(answer["outcomes"], json({{"not_opted_in", 1}, {"sent", 4}}));
  const auto feed = Feed(id);
  ASSERT_EQ(feed.size(), 5u);
  for (const json& r : feed) {
    for (const char* k : {"id", "user_id", "external_user_id", "braze_id", "device_id", "user_aliases", "campaign_id",
                          "campaign_name", "dispatch_id", "send_id", "channel", "time", "outcome"}) {
      EXPECT_TRUE(r.contains(k)) << k << " missing in " << r.dump();
    }
    EXPECT_EQ(r["campaign_name"], "Welcome");
    EXPECT_EQ(r["dispatch_id"], answer["dispatch_id"]);
    EXPECT_EQ(r["time"], 1800000000);
    EXPECT_EQ(r["outcome"], r["external_user_id"] == "u0" ? "not_opted_in" : "sent");
    if (r["external_user_id"] == "u1") {
      EXPECT_EQ(r["user_aliases"], json::parse(R"([{"alias_label":"email","alias_name":"u1@example.com"}])"));
    }
  }
  // since: records at or after T only.
  EXPECT_EQ(Feed(id, 1800000000).size(), 5u);
  EXPECT_EQ(Feed(id, 1800000001).size(), 0u);
}

// The control group is a hash of (campaign, user): the same users in every dispatch of the
// campaign, about `share` of them, and other users in another campaign.
TEST_F(CampaignsTest, ControlGroupIsStablePerCampaignAndNearItsShare) {
  constexpr int kUsers = 4000;
  constexpr double kShare = 0.25;
  AddUsers(0, kUsers);
  const std::string segment = EveryoneSegment();
  const std::string a = Campaign("A", segment, "email", kShare);
  const std::string b = Campaign("B", segment, "push", kShare);
  auto control_of = [&](const std::string& dispatch) {
    std::set<std::string> out;
    for (const auto& [user, outcome] : Outcomes(dispatch)) {
      if (outcome == "control") out.insert(user);
    }
    return out;
  };
  const auto a1 = control_of(Send({{"campaign_id", a}, {"broadcast", true}})["dispatch_id"]);
  const auto a2 = control_of(Send({{"campaign_id", a}, {"broadcast", true}})["dispatch_id"]);
  const auto b1 = control_of(Send({{"campaign_id", b}, {"broadcast", true}})["dispatch_id"]);
  EXPECT_EQ(a1, a2);
  const double sd = std::sqrt(kUsers * kShare * (1 - kShare));
  for (const auto* group : {&a1, &b1}) {
    EXPECT_NEAR(static_cast<double>(group->size()), kUsers * kShare, 4 * sd);
  }
  std::vector<std::string> both;
  std::set_intersection(a1.begin(), a1.end(), b1.begin(), b1.end(), std::back_inserter(both));
  EXPECT_LT(both.size(), a1.size() / 2) << "two campaigns drew nearly the same control group";
}

// Braze's global cap: at most N sent messages of a channel per user in the rolling last D days,
// whatever the campaign; control and capped records do not count, other channels neither.
TEST_F(CampaignsTest, FrequencyCapCountsSentMessagesOfEveryCampaignInTheWindow) {
  AddUsers(0, 400);
  ASSERT_TRUE(SetFrequencyCap(engage_->storage(), "default", {"email", 1, 7}).ok());
  const std::string segment = EveryoneSegment();
  const std::string first = Campaign("First", segment, "email", 0.5);
  const std::string second = Campaign("Second", segment, "email");
  const std::string push = Campaign("Push", segment, "push");
  const auto one = Outcomes(Send({{"campaign_id", first}, {"broadcast", true}})["dispatch_id"]);
  clock_.Set(1800000000 + 6 * kSecondsPerDay);
  const auto two = Outcomes(Send({{"campaign_id", second}, {"broadcast", true}})["dispatch_id"]);
  const auto pushed = Outcomes(Send({{"campaign_id", push}, {"broadcast", true}})["dispatch_id"]);
  ASSERT_EQ(one.size(), 400u);
  ASSERT_EQ(two.size(), 400u);
  for (const auto& [user, outcome] : one) {
    EXPECT_EQ(two.at(user), outcome == "sent" ? "capped" : "sent") << user;
    EXPECT_EQ(pushed.at(user), "sent") << user;
  }
  // Past the window the first campaign's messages no longer count; the second's do.
  clock_.Set(1800000000 + 7 * kSecondsPerDay + 1);
  const auto three = Outcomes(Send({{"campaign_id", first}, {"broadcast", true}})["dispatch_id"]);
  for (const auto& [user, outcome] : three) {
    if (one.at(user) == "control") {
      EXPECT_EQ(outcome, "control") << user;
    } else {
      EXPECT_EQ(outcome, "sent") << user << ": its one message of the window was the first campaign's, expired";
    }
  }
  ASSERT_TRUE(RemoveFrequencyCap(engage_->storage(), "default", "email").ok());
  EXPECT_FALSE(RemoveFrequencyCap(engage_->storage(), "default", "email").ok());
}

// A send_id names one dispatch of the campaign: a retry answers the same dispatch_id and decides
// only the users that have no record yet (here, one who joined the segment since).
TEST_F(CampaignsTest, RetriedSendIdContinuesTheSameDispatch) {
  AddUsers(0, 3);
  const std::string id = Campaign("Retry", EveryoneSegment(), "sms");
  json first = Send({{"campaign_id", id}, {"send_id", "week-48"}, {"broadcast", true}});
  EXPECT_EQ(first["outcomes"], json({{"sent", 3}}));
  AddUsers(3, 1);
  json again = Send({{"campaign_id", id}, {"send_id", "week-48"}, {"broadcast", true}});
  EXPECT_EQ(again["dispatch_id"], first["dispatch_id"]);
  EXPECT_EQ(again["outcomes"], json({{"sent", 4}}));
  const auto outcomes = Outcomes(first["dispatch_id"]);
  EXPECT_EQ(outcomes.size(), 4u);
  for (const json& r : Feed(id)) EXPECT_EQ(r["send_id"], "week-48");
  // Another send_id, or none, is another dispatch.
  EXPECT_NE(Send({{"campaign_id", id}, {"send_id", "week-49"}, {"broadcast", true}})["dispatch_id"],
            first["dispatch_id"]);
  EXPECT_NE(Send({{"campaign_id", id}, {"broadcast", true}})["dispatch_id"], first["dispatch_id"]);
  EXPECT_EQ(Feed(id).size(), 12u);
}

// Braze sends `recipients` only to those in the campaign's segment.
TEST_F(CampaignsTest, RecipientsOutsideTheSegmentOrUnknownGetNothing) {
  AddUsers(0, 3);
  ASSERT_TRUE(engage_->Track(kWorkspace, {{"attributes", {{{"external_id", "u2"}, {"never", true}}}}}).has_value());
  ASSERT_TRUE(engage_->AliasNew(kWorkspace, {{"user_aliases", {{{"alias_label", "email"}, {"alias_name", "a@b.c"}}}}})
                  .has_value());
  const std::string id = Campaign("Some", EveryoneSegment(), "email");
  json answer = Send({{"campaign_id", id},
                      {"recipients",
                       {{{"external_user_id", "u0"}, {"trigger_properties", {{"coupon", "X1"}}}},
                        {{"external_user_id", "u2"}},
                        {{"external_user_id", "nobody"}, {"send_to_existing_only", true}},
                        {{"user_alias", {{"alias_label", "email"}, {"alias_name", "a@b.c"}}}},
                        {{"external_user_id", "u0"}}}}});
  EXPECT_EQ(answer["outcomes"], json({{"sent", 2}}));
  ASSERT_EQ(answer["errors"].size(), 2u);
  EXPECT_NE(answer["errors"][0]["type"].get<std::string>().find("not in the campaign's segment"), std::string::npos);
  EXPECT_EQ(answer["errors"][1]["index"], 2);
}

TEST_F(CampaignsTest, RequestsBrazeRefusesAreRefusedNamingTheField) {
  AddUsers(0, 1);
  const std::string segment = EveryoneSegment();
  const std::string id = Campaign("Checks", segment, "email");
  json many = json::array();
  for (int i = 0; i < 51; ++i) many.push_back({{"external_user_id", fmt::format("u{}", i)}});
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"campaign_id", id}, {"broadcast", true}, {"recipients", {{{"external_user_id", "u0"}}}}}, "not both"},
      {{{"campaign_id", id}}, "'recipients' is required unless 'broadcast' is true"},
      {{{"campaign_id", id}, {"broadcast", false}}, "'recipients' is required"},
      {{{"campaign_id", id}, {"recipients", many}}, "at most 50"},
      {{{"campaign_id", id}, {"recipients", json::array()}}, "'recipients' must be a non-empty array"},
      {{{"campaign_id", id}, {"broadcast", true}, {"audience", json::object()}}, "unknown field 'audience'"},
      {{{"campaign_id", id},
        {"recipients", {{{"external_user_id", "u0"}, {"user_alias", {{"alias_label", "a"}, {"alias_name", "b"}}}}}}},
       "exactly one of external_user_id and user_alias"},
      {{{"campaign_id", id}, {"recipients", {{{"external_user_id", "u0"}, {"attributes", json::object()}}}}},
       "recipients[0]: unknown field 'attributes'"},
      {{{"campaign_id", id}, {"recipients", {{{"external_user_id", "u0"}, {"send_to_existing_only", false}}}}},
       "'recipients[0].send_to_existing_only' must be true"},
      {{{"campaign_id", "nope"}, {"broadcast", true}}, "'campaign_id' names no campaign"},
      {{{"broadcast", true}}, "'campaign_id' is required"},
      {{{"campaign_id", id}, {"broadcast", "yes"}}, "'broadcast' must be true or false"},
      {{{"campaign_id", id}, {"broadcast", true}, {"trigger_properties", "x"}},
       "'trigger_properties' must be an object"},
      {{{"campaign_id", id}, {"broadcast", true}, {"send_id", ""}}, "'send_id' must be a non-empty string"},
  };
  for (const auto& [body, want] : cases) {
    EXPECT_NE(SendError(body).find(want), std::string::npos) << body.dump() << " -> " << SendError(body);
  }
  EXPECT_TRUE(Feed().empty()) << "a refused request decided something";

  auto create_error = [&](const json& body) {
    auto r = engage_->CreateCampaign(kWorkspace, body);
    EXPECT_FALSE(r.has_value()) << body.dump();
    return r.has_value() ? std::string() : r.error().message();
  };
  const json good = {{"name", "N"}, {"segment_id", segment}, {"channel", "email"}};
  json b = good;
  b["segment_id"] = "missing";
  EXPECT_NE(create_error(b).find("segment_id 'missing' names no segment"), std::string::npos);
  b = good;
  b["channel"] = "fax";
  EXPECT_NE(create_error(b).find("channel 'fax' is not a channel; valid: email, push, sms"), std::string::npos);
  b = good;
  b["control_share"] = 1;
  EXPECT_NE(create_error(b).find("control_share 1: expected a share at least 0 and below 1"), std::string::npos);
  b = good;
  b["name"] = "Checks";
  EXPECT_NE(create_error(b).find("name 'Checks' is taken by campaign " + id), std::string::npos);
  b = good;
  b["segment"] = segment;
  EXPECT_NE(create_error(b).find("unknown field 'segment'"), std::string::npos);
}

TEST_F(CampaignsTest, ListAndDetailsInBrazeShapes) {
  // Enough users that A's 10 % control group cannot hold all of them (with 2, about one run
  // in a hundred drew both as controls, sent nothing, and found no first_sent).
  AddUsers(0, 40);
  const std::string segment = EveryoneSegment();
  const std::string a = Campaign("A", segment, "email", 0.1);
  const std::string b = Campaign("B", segment, "push");
  auto list = engage_->ListCampaigns(kWorkspace, 0, false);
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ((*list)["campaigns"].size(), 2u);
  EXPECT_EQ((*list)["campaigns"][0]["id"], a);
  EXPECT_EQ((*list)["campaigns"][0]["is_api_campaign"], true);
  EXPECT_EQ((*engage_->ListCampaigns(kWorkspace, 0, true))["campaigns"][0]["id"], b);
  EXPECT_TRUE((*engage_->ListCampaigns(kWorkspace, 1, false))["campaigns"].empty());
  auto details = engage_->CampaignDetails(kWorkspace, a);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ((*details)["name"], "A");
  EXPECT_EQ((*details)["channels"], json::array({"email"}));
  EXPECT_EQ((*details)["first_sent"], nullptr);
  Send({{"campaign_id", a}, {"broadcast", true}});
  EXPECT_EQ((*engage_->CampaignDetails(kWorkspace, a))["first_sent"], FormatIsoTime(1800000000));
  EXPECT_EQ(engage_->CampaignDetails(kWorkspace, "nope").error().code(), StatusCode::kNotFound);
}

// Messages being attempted when the process stopped are uncertain: at the next start they are
// recorded failed, never re-sent.
TEST_F(CampaignsTest, InFlightMessagesAtStartAreRecordedFailed) {
  AddUsers(0, 2);
  const std::string id = Campaign("Crash", EveryoneSegment(), "email");
  Send({{"campaign_id", id}, {"broadcast", true}});
  engage_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "engage.db").string().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE sends SET delivery = 2 WHERE id = 1", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  Reopen();
  const auto feed = Feed(id);
  ASSERT_EQ(feed.size(), 2u);
  EXPECT_EQ(feed[0]["outcome"], "failed");
  EXPECT_NE(feed[0]["reason"].get<std::string>().find("delivery uncertain"), std::string::npos);
  EXPECT_EQ(feed[1]["outcome"], "sent");
}

// A database of schema 2 (before campaigns) upgrades when first opened by this version.
TEST_F(CampaignsTest, Schema2DatabaseUpgrades) {
  AddUsers(0, 1);
  const std::string segment = EveryoneSegment();
  engage_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "engage.db").string().c_str(), &db), SQLITE_OK);
  for (const char* t : {"campaigns", "frequency_caps", "delivery", "dispatches", "sends"}) {
    ASSERT_EQ(sqlite3_exec(db, fmt::format("DROP TABLE {}", t).c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << t;
  }
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 2", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  Reopen();
  const std::string id = Campaign("After upgrade", segment, "email");
  EXPECT_EQ(Send({{"campaign_id", id}, {"broadcast", true}})["outcomes"], json({{"sent", 1}}));
}

}  // namespace
}  // namespace cf::engage
