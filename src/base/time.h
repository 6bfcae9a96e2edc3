// Calendar time for Cohortflow: instants are int64 seconds since the Unix epoch, in UTC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cf {

inline constexpr int64_t kSecondsPerDay = 86400;

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31).
int64_t DaysFromCivil(int64_t year, int month, int day);
struct CivilDate {
  int64_t year;
  int month;
  int day;
};
CivilDate CivilFromDays(int64_t days);

// Parses ISO 8601: "2017-10-01", "2017-10-01T12:30:00", "2017-10-01 12:30:00.250",
// with an optional "Z" or "+01:00" / "+0100" zone (no zone means UTC).
Result<int64_t> ParseIsoTime(std::string_view text);

// "2017-01-28T19:06:53Z"
std::string FormatIsoTime(int64_t seconds);
// "2017-01-28"
std::string FormatIsoDate(int64_t seconds);

// A strftime-style pattern compiled once and applied to many values. Supported:
// %Y %m %d %H %M %S (two-digit fields may have one digit), %y (two-digit year, 1969-2068),
// %I with %p (12-hour clock, 1..12, and AM/PM in any case), %b (English month abbreviation),
// %z (+hh:mm, +hhmm or Z), %f (fraction, ignored), %%.
// Any other character must match itself.
class TimeFormat {
 public:
  static Result<TimeFormat> Compile(std::string_view pattern);
  // Returns false when `text` does not follow the pattern or names an impossible date.
  bool Parse(std::string_view text, int64_t* seconds) const;
  const std::string& pattern() const { return pattern_; }

 private:
  struct Item {
    char spec;     // 0 for a literal
    char literal;  // when spec == 0
  };
  std::string pattern_;
  std::vector<Item> items_;
};

// The clock seam: production code asks a Clock, tests give a fixed one.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowSeconds() const = 0;
  virtual int64_t NowMillis() const { return NowSeconds() * 1000; }
};
const Clock& SystemClock();

class FixedClock final : public Clock {
 public:
  explicit FixedClock(int64_t seconds) : seconds_(seconds) {}
  int64_t NowSeconds() const override { return seconds_; }
  void Set(int64_t seconds) { seconds_ = seconds; }

 private:
  int64_t seconds_;
};

}  // namespace cf
