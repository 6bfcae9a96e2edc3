#include "base/time.h"

#include <chrono>
#include <cstdio>

namespace cf {
namespace {

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

bool ValidDate(int64_t y, int m, int d) { return m >= 1 && m <= 12 && d >= 1 && d <= DaysInMonth(y, m); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `p`.
bool Digits(std::string_view s, size_t& p, int n, int64_t& out) {
  if (p + n > s.size()) {
    return false;
  }
  int64_t v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[p + i];
    if (!IsDigit(c)) {
      return false;
    }
    v = v * 10 + (c - '0');
  }
  p += n;
  out = v;
  return true;
}

// Reads one or two digits at `p`.
bool OneOrTwoDigits(std::string_view s, size_t& p, int64_t& out) {
  if (p >= s.size() || !IsDigit(s[p])) {
    return false;
  }
  out = s[p++] - '0';
  if (p < s.size() && IsDigit(s[p])) {
    out = out * 10 + (s[p++] - '0');
  }
  return true;
}

// Parses "Z", "+hh:mm", "+hhmm", "+hh" at `p`; returns the offset in seconds east of UTC.
bool Zone(std::string_view s, size_t& p, int64_t& offset) {
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
    offset = 0;
    return true;
  }
  if (p >= s.size() || (s[p] != '+' && s[p] != '-')) {
    return false;
  }
  int64_t sign = s[p] == '-' ? -1 : 1;
  ++p;
  int64_t hh = 0;
  int64_t mm = 0;
  if (!Digits(s, p, 2, hh)) {
    return false;
  }
  if (p < s.size() && s[p] == ':') {
    ++p;
  }
  if (p < s.size()) {
    if (!Digits(s, p, 2, mm)) {
      return false;
    }
  }
  if (hh > 23 || mm > 59) {
    return false;
  }
  offset = sign * (hh * 3600 + mm * 60);
  return true;
}

int64_t Compose(int64_t y, int mo, int d, int64_t h, int64_t mi, int64_t se, int64_t offset) {
  return DaysFromCivil(y, mo, d) * kSecondsPerDay + h * 3600 + mi * 60 + se - offset;
}

}  // namespace

int64_t DaysFromCivil(int64_t y, int m, int d) {
  // Shift the year to start in March so the leap day is last.
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t mp = m > 2 ? m - 3 : m + 9;
  const int64_t doy = (153 * mp + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return CivilDate{yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

Result<int64_t> ParseIsoTime(std::string_view s) {
  auto bad = [&]() {
    return Err(Status::InvalidArgument("not an ISO 8601 date or time: '" + std::string(s) +
                                       "' (expected e.g. 2017-10-01 or 2017-10-01T12:30:00Z)"));
  };
  size_t p = 0;
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, offset = 0;
  if (!Digits(s, p, 4, y) || p >= s.size() || s[p++] != '-' || !Digits(s, p, 2, mo) ||
      p >= s.size() || s[p++] != '-' || !Digits(s, p, 2, d)) {
    return bad();
  }
  if (p < s.size() && (s[p] == 'T' || s[p] == 't' || s[p] == ' ')) {
    ++p;
    if (!Digits(s, p, 2, h) || p >= s.size() || s[p++] != ':' || !Digits(s, p, 2, mi)) {
      return bad();
    }
    if (p < s.size() && s[p] == ':') {
      ++p;
      if (!Digits(s, p, 2, se)) {
        return bad();
      }
      if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
        ++p;
        size_t start = p;
        while (p < s.size() && IsDigit(s[p])) {
          ++p;
        }
        if (p == start) {
          return bad();
        }
      }
    }
    if (p < s.size() && !Zone(s, p, offset)) {
      return bad();
    }
  }
  if (p != s.size() || !ValidDate(y, static_cast<int>(mo), static_cast<int>(d)) || h > 23 ||
      mi > 59 || se > 60) {
    return bad();
  }
  return Compose(y, static_cast<int>(mo), static_cast<int>(d), h, mi, se, offset);
}

std::string FormatIsoTime(int64_t t) {
  int64_t days = t >= 0 ? t / kSecondsPerDay : (t - kSecondsPerDay + 1) / kSecondsPerDay;
  int64_t rem = t - days * kSecondsPerDay;
  CivilDate c = CivilFromDays(days);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02lld:%02lld:%02lldZ", static_cast<long long>(c.year),
                c.month, c.day, static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                static_cast<long long>(rem % 60));
  return buf;
}

std::string FormatIsoDate(int64_t t) {
  int64_t days = t >= 0 ? t / kSecondsPerDay : (t - kSecondsPerDay + 1) / kSecondsPerDay;
  CivilDate c = CivilFromDays(days);
  char buf[24];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d", static_cast<long long>(c.year), c.month, c.day);
  return buf;
}

Result<TimeFormat> TimeFormat::Compile(std::string_view pattern) {
  TimeFormat f;
  f.pattern_ = std::string(pattern);
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      f.items_.push_back({0, pattern[i]});
      continue;
    }
    if (i + 1 >= pattern.size()) {
      return Err(Status::InvalidArgument("time format '" + f.pattern_ + "' ends with a lone '%'"));
    }
    char spec = pattern[++i];
    switch (spec) {
      case 'Y': case 'm': case 'd': case 'H': case 'M': case 'S': case 'y': case 'b': case 'z':
      case 'f': case 'I': case 'p':
        f.items_.push_back({spec, 0});
        break;
      case '%':
        f.items_.push_back({0, '%'});
        break;
      default:
        return Err(Status::InvalidArgument(std::string("time format '") + f.pattern_ + "': unsupported %" +
                                           spec + " (supported: %Y %m %d %H %I %p %M %S %y %b %z %f %%)"));
    }
  }
  return f;
}

bool TimeFormat::Parse(std::string_view s, int64_t* seconds) const {
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  size_t p = 0;
  int64_t y = 1970, mo = 1, d = 1, h = 0, mi = 0, se = 0, offset = 0;
  int twelve = -1;  // with %I: 0 before noon (AM), 12 after (PM), -1 until %p is read
  bool clock12 = false;
  for (const Item& it : items_) {
    switch (it.spec) {
      case 0:
        if (p >= s.size() || s[p] != it.literal) {
          return false;
        }
        ++p;
        break;
      case 'Y':
        if (!Digits(s, p, 4, y)) return false;
        break;
      case 'y':
        if (!Digits(s, p, 2, y)) return false;
        y += y < 69 ? 2000 : 1900;
        break;
      case 'm':
        if (!OneOrTwoDigits(s, p, mo)) return false;
        break;
      case 'd':
        if (!OneOrTwoDigits(s, p, d)) return false;
        break;
      case 'H':
        if (!OneOrTwoDigits(s, p, h)) return false;
        break;
      case 'I':
        if (!OneOrTwoDigits(s, p, h) || h < 1 || h > 12) return false;
        clock12 = true;
        break;
      case 'p': {
        if (p + 2 > s.size() || (s[p + 1] | 0x20) != 'm') return false;
        const char ap = static_cast<char>(s[p] | 0x20);
        if (ap != 'a' && ap != 'p') return false;
        twelve = ap == 'p' ? 12 : 0;
        p += 2;
        break;
      }
      case 'M':
        if (!OneOrTwoDigits(s, p, mi)) return false;
        break;
      case 'S':
        if (!OneOrTwoDigits(s, p, se)) return false;
        break;
      case 'f': {
        size_t start = p;
        while (p < s.size() && IsDigit(s[p])) ++p;
        if (p == start) return false;
        break;
      }
      case 'z':
        if (!Zone(s, p, offset)) return false;
        break;
      case 'b': {
        if (p + 3 > s.size()) return false;
        char m3[3] = {static_cast<char>(s[p] | 0x20), static_cast<char>(s[p + 1] | 0x20),
                      static_cast<char>(s[p + 2] | 0x20)};
        int found = 0;
        for (int k = 0; k < 12; ++k) {
          if (std::string_view(m3, 3) == kMonths[k]) found = k + 1;
        }
        if (found == 0) return false;
        mo = found;
        p += 3;
        break;
      }
      default:
        return false;
    }
  }
  if (p != s.size() || !ValidDate(y, static_cast<int>(mo), static_cast<int>(d)) || h > 23 || mi > 59 ||
      se > 60) {
    return false;
  }
  if (clock12) {
    if (twelve < 0) return false;
    h = h % 12 + twelve;  // 12 AM is midnight, 12 PM is noon
  }
  *seconds = Compose(y, static_cast<int>(mo), static_cast<int>(d), h, mi, se, offset);
  return true;
}

namespace {
class RealClock final : public Clock {
 public:
  int64_t NowSeconds() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t NowMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};
}  // namespace

const Clock& SystemClock() {
  static const RealClock clock;
  return clock;
}

}  // namespace cf
