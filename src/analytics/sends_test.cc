#include "analytics/sends.h"

#include <gtest/gtest.h>

namespace cf::analytics {
namespace {

TEST(SendsTest, ReadsCurrentsNamesAndIgnoresUnknownKeys) {
  const std::string text =
      R"({"id":"1","user_id":"u1","external_user_id":"u1","braze_id":"b","device_id":null,"user_aliases":[{"alias_label":"email","alias_name":"a@b.c"}],"campaign_id":"c1","campaign_name":"Coffee","dispatch_id":"d","send_id":null,"channel":"email","time":1767225600,"outcome":"sent","new_key":{"x":1}})"
      "\r\n\n"
      R"({"campaign_name":"Coffee","time":1767225600.75,"outcome":"capped","user_id":"u2"})"
      "\n"
      R"({"campaign_name":"Tea","time":5,"outcome":"not_opted_in","device_id":"d-9","user_aliases":null})";
  auto r = ParseSends(text, "s.jsonl");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_EQ(r->size(), 3u);
  const SendRecord& a = (*r)[0];
  EXPECT_EQ(a.campaign_name, "Coffee");
  EXPECT_EQ(a.campaign_id, "c1");
  EXPECT_EQ(a.channel, "email");
  EXPECT_EQ(a.time, 1767225600);
  EXPECT_EQ(a.outcome, Outcome::kSent);
  EXPECT_EQ(a.external_id, "u1");
  EXPECT_EQ(a.device_id, "");
  EXPECT_EQ(a.aliases, std::vector<std::string>{"email:a@b.c"});
  EXPECT_EQ((*r)[1].external_id, "u2");  // user_id when external_user_id is absent
  EXPECT_EQ((*r)[1].time, 1767225600);
  EXPECT_EQ((*r)[1].outcome, Outcome::kCapped);
  EXPECT_EQ((*r)[2].device_id, "d-9");
  EXPECT_EQ((*r)[2].outcome, Outcome::kNotOptedIn);
  EXPECT_EQ(OutcomeName(Outcome::kFailed), "failed");
}

TEST(SendsTest, ErrorsNameTheLineAndTheField) {
  auto error = [](const std::string& text) {
    auto r = ParseSends(text, "s.jsonl");
    return r.has_value() ? std::string("parsed") : r.error().message();
  };
  const std::string ok = R"({"campaign_name":"C","time":1,"outcome":"sent","device_id":"d"})"
                         "\n";
  EXPECT_EQ(error(ok + "{not json\n").substr(0, 30), "s.jsonl:2: not a JSON object: ");
  EXPECT_EQ(error(ok + "[1]\n"), "s.jsonl:2: expected a JSON object");
  EXPECT_EQ(error(R"({"time":1,"outcome":"sent","device_id":"d"})"),
            "s.jsonl:1: field 'campaign_name' is missing or empty");
  EXPECT_EQ(error(R"({"campaign_name":"C","outcome":"sent","device_id":"d"})"), "s.jsonl:1: field 'time' is missing");
  EXPECT_EQ(error(R"({"campaign_name":"C","time":1,"outcome":"sent","device_id":7})"),
            "s.jsonl:1: field 'device_id': expected a string or null, found 7");
  EXPECT_EQ(error(R"({"campaign_name":"C","time":1,"outcome":"sent","user_aliases":[{"alias_label":"email"}]})"),
            "s.jsonl:1: field 'user_aliases[0]': expected {\"alias_label\": ..., \"alias_name\": ...}, found "
            "{\"alias_label\":\"email\"}");
  EXPECT_EQ(error(R"({"campaign_name":"C","time":1,"outcome":"sent","user_id":null,"user_aliases":[]})"),
            "s.jsonl:1: no identifier: expected at least one of external_user_id, user_aliases, device_id");
}

TEST(SendsTest, UrlsAndFetchOptions) {
  EXPECT_TRUE(IsUrl("http://127.0.0.1:4000"));
  EXPECT_TRUE(IsUrl("https://rest.example.com/campaigns/sends"));
  EXPECT_FALSE(IsUrl("sends.jsonl"));
  EXPECT_FALSE(IsUrl("/tmp/http://x"));
  FetchOptions o;
  o.url = "http://127.0.0.1:1";
  EXPECT_NE(o.Validate().message().find("api_key"), std::string::npos);
  o.api_key = "k";
  EXPECT_TRUE(o.Validate().ok());
  o.url = "ftp://x";
  EXPECT_NE(o.Validate().message().find("url: 'ftp://x' is not an http:// or https:// URL"), std::string::npos);
  // A URL with a query would fetch one campaign only: refused, saying what to give instead.
  o.url = "http://127.0.0.1:1/campaigns/sends?campaign_id=x";
  auto r = FetchSends(o, {"A"});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("without a query"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace cf::analytics
