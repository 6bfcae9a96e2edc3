#include "base/time.h"

#include <gtest/gtest.h>

namespace cf {
namespace {

TEST(TimeTest, CivilRoundTrip) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  for (int64_t d = -800000; d < 800000; d += 997) {
    CivilDate c = CivilFromDays(d);
    EXPECT_EQ(DaysFromCivil(c.year, c.month, c.day), d);
  }
}

TEST(TimeTest, ParsesIsoForms) {
  EXPECT_EQ(ParseIsoTime("2017-01-28T19:06:53Z").value(), 1485630413);
  EXPECT_EQ(ParseIsoTime("2017-01-28 19:06:53").value(), 1485630413);
  EXPECT_EQ(ParseIsoTime("2017-01-28T20:06:53+01:00").value(), 1485630413);
  EXPECT_EQ(ParseIsoTime("2017-01-28T20:06:53.250+0100").value(), 1485630413);
  EXPECT_EQ(ParseIsoTime("2017-01-28").value(), 1485561600);
  EXPECT_EQ(ParseIsoTime("2017-01-28T19:06").value(), 1485630360);
}

TEST(TimeTest, RejectsBadIso) {
  for (const char* bad : {"", "2017-02-30", "2017-13-01", "17-01-01", "2017-01-01T25:00:00", "2017-01-01x",
                          "2017/01/01", "2017-01-01T10:00:00+5"}) {
    auto r = ParseIsoTime(bad);
    EXPECT_FALSE(r.has_value()) << bad;
  }
  EXPECT_NE(ParseIsoTime("nope").error().message().find("'nope'"), std::string::npos);
}

TEST(TimeTest, FormatsIso) {
  EXPECT_EQ(FormatIsoTime(1485630413), "2017-01-28T19:06:53Z");
  EXPECT_EQ(FormatIsoDate(1485630413), "2017-01-28");
  EXPECT_EQ(FormatIsoTime(-1), "1969-12-31T23:59:59Z");
}

TEST(TimeTest, StrftimePatterns) {
  auto f = TimeFormat::Compile("%d-%m-%Y");
  ASSERT_TRUE(f.has_value());
  int64_t t = 0;
  ASSERT_TRUE(f->Parse("28-01-2017", &t));
  EXPECT_EQ(t, 1485561600);
  ASSERT_TRUE(f->Parse("8-1-2017", &t));
  EXPECT_EQ(FormatIsoDate(t), "2017-01-08");
  EXPECT_FALSE(f->Parse("31-02-2017", &t));
  EXPECT_FALSE(f->Parse("2017-01-28", &t));

  auto g = TimeFormat::Compile("%d %b %Y %H:%M:%S %z");
  ASSERT_TRUE(g.has_value());
  ASSERT_TRUE(g->Parse("28 Jan 2017 20:06:53 +01:00", &t));
  EXPECT_EQ(t, 1485630413);

  EXPECT_FALSE(TimeFormat::Compile("%Q").has_value());
  EXPECT_FALSE(TimeFormat::Compile("%Y%").has_value());
}

}  // namespace
TEST(TimeTest, TwelveHourClock) {
  auto f = TimeFormat::Compile("%m/%d/%Y %I:%M %p");
  ASSERT_TRUE(f.has_value());
  int64_t t = 0;
  ASSERT_TRUE(f->Parse("03/14/2024 12:05 AM", &t));
  EXPECT_EQ(t, ParseIsoTime("2024-03-14T00:05:00Z").value());
  ASSERT_TRUE(f->Parse("03/14/2024 12:05 pm", &t));
  EXPECT_EQ(t, ParseIsoTime("2024-03-14T12:05:00Z").value());
  ASSERT_TRUE(f->Parse("3/14/2024 7:30 PM", &t));
  EXPECT_EQ(t, ParseIsoTime("2024-03-14T19:30:00Z").value());
  EXPECT_FALSE(f->Parse("03/14/2024 13:05 PM", &t));
  EXPECT_FALSE(f->Parse("03/14/2024 11:05 XM", &t));
}

}  // namespace cf
