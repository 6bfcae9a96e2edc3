#include "data/ingest_timezone.h"

#include <gtest/gtest.h>

#include "base/time.h"

namespace cf::data {
namespace {

int64_t Utc(const char* iso) { return ParseIsoTime(iso).value(); }

class TimeZoneTest : public ::testing::Test {
 protected:
  TimeZone Load(const char* name) {
    auto tz = TimeZone::Load(name);
    if (!tz.has_value()) {
      ADD_FAILURE() << tz.error().ToString();
      return TimeZone::Load("UTC").value();
    }
    return *tz;
  }
  void SetUp() override {
    if (!TimeZone::Load("Europe/Paris").has_value()) GTEST_SKIP() << "no tz database on this machine (package tzdata)";
  }
};

TEST_F(TimeZoneTest, TransitionsFromTheTable) {
  TimeZone paris = Load("Europe/Paris");
  EXPECT_EQ(paris.OffsetAt(Utc("2024-01-15T12:00:00Z")), 3600);
  EXPECT_EQ(paris.OffsetAt(Utc("2024-07-15T12:00:00Z")), 7200);
  // Spring forward at 02:00 local on 2024-03-31: 02:30 does not exist and is read at +1.
  EXPECT_EQ(paris.LocalToUtc(Utc("2024-03-31T01:59:00Z")), Utc("2024-03-31T00:59:00Z"));
  EXPECT_EQ(paris.LocalToUtc(Utc("2024-03-31T02:30:00Z")), Utc("2024-03-31T01:30:00Z"));
  EXPECT_EQ(paris.LocalToUtc(Utc("2024-03-31T03:00:00Z")), Utc("2024-03-31T01:00:00Z"));
  // Fall back at 03:00 local on 2024-10-27: 02:30 happens twice, the first is taken.
  EXPECT_EQ(paris.LocalToUtc(Utc("2024-10-27T02:30:00Z")), Utc("2024-10-27T00:30:00Z"));
  EXPECT_EQ(paris.LocalToUtc(Utc("2024-10-27T03:30:00Z")), Utc("2024-10-27T02:30:00Z"));
}

TEST_F(TimeZoneTest, RuleAfterTheLastTransition) {
  // Past the table (2037 in most builds of tzdata) the zone's rule string applies.
  TimeZone paris = Load("Europe/Paris");
  EXPECT_EQ(paris.LocalToUtc(Utc("2050-07-01T12:00:00Z")), Utc("2050-07-01T10:00:00Z"));
  EXPECT_EQ(paris.LocalToUtc(Utc("2050-01-15T12:00:00Z")), Utc("2050-01-15T11:00:00Z"));
  // Last Sunday of March 2050 is the 27th.
  EXPECT_EQ(paris.OffsetAt(Utc("2050-03-27T00:59:00Z")), 3600);
  EXPECT_EQ(paris.OffsetAt(Utc("2050-03-27T01:00:00Z")), 7200);
  // The southern hemisphere: summer time spans the new year.
  TimeZone sydney = Load("Australia/Sydney");
  EXPECT_EQ(sydney.LocalToUtc(Utc("2050-01-15T12:00:00Z")), Utc("2050-01-15T01:00:00Z"));
  EXPECT_EQ(sydney.LocalToUtc(Utc("2050-07-01T12:00:00Z")), Utc("2050-07-01T02:00:00Z"));
  TimeZone ny = Load("America/New_York");
  EXPECT_EQ(ny.LocalToUtc(Utc("2060-08-01T09:00:00Z")), Utc("2060-08-01T13:00:00Z"));
}

TEST_F(TimeZoneTest, BadNames) {
  EXPECT_NE(TimeZone::Load("../etc/passwd").error().message().find("expected an IANA zone name"), std::string::npos);
  EXPECT_NE(TimeZone::Load("Europe/Atlantis").error().message().find("not found in the tz database"),
            std::string::npos);
  EXPECT_EQ(Load("UTC").OffsetAt(Utc("2024-07-01T00:00:00Z")), 0);
}

}  // namespace
}  // namespace cf::data
