#include "data/ingest_timezone.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/files.h"
#include "base/time.h"

namespace cf::data {
namespace {

uint32_t Be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
int64_t Be64(const unsigned char* p) { return static_cast<int64_t>((uint64_t{Be32(p)} << 32) | Be32(p + 4)); }

// "[+-]hh[:mm[:ss]]" at s[i]; advances i.
bool ParseHms(const std::string& s, size_t& i, int32_t* out) {
  int sign = 1;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) sign = s[i++] == '-' ? -1 : 1;
  int32_t parts[3] = {0, 0, 0};
  for (int k = 0; k < 3; ++k) {
    if (k > 0) {
      if (i >= s.size() || s[i] != ':') break;
      ++i;
    }
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') parts[k] = parts[k] * 10 + (s[i++] - '0');
    if (i == start) return false;
  }
  *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

bool SkipName(const std::string& s, size_t& i) {
  if (i < s.size() && s[i] == '<') {
    size_t close = s.find('>', i);
    if (close == std::string::npos) return false;
    i = close + 1;
    return true;
  }
  size_t start = i;
  while (i < s.size() && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')) ++i;
  return i > start;
}

}  // namespace

Result<TimeZone> TimeZone::Load(const std::string& name) {
  const auto bad = [&](const std::string& why) {
    return Err(Status::InvalidArgument("time zone '" + name + "': " + why));
  };
  if (name.empty() || name[0] == '/' || name.find("..") != std::string::npos) {
    return bad("expected an IANA zone name such as Europe/Paris, America/New_York or UTC");
  }
  const char* dir = std::getenv("TZDIR");
  const std::string path = std::string(dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo") + "/" + name;
  if (!PathExists(path) || IsDirectory(path)) {
    return bad(
        "not found in the tz database (expected an IANA name such as Europe/Paris or America/New_York; "
        "is the tzdata package installed?)");
  }
  CF_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  if (n < 44 || std::memcmp(b, "TZif", 4) != 0) return bad("the tz database file is not in TZif format");
  const auto counts = [&](size_t at, uint32_t c[6]) {
    for (int k = 0; k < 6; ++k) c[k] = Be32(b + at + 20 + 4 * k);
  };
  uint32_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  TimeZone tz;
  tz.name_ = name;
  size_t at = 44;
  size_t time_size = 4;
  if (b[4] >= '2') {
    // Skip the 32-bit block: the 64-bit one follows with its own header.
    at += size_t{c[3]} * 5 + size_t{c[4]} * 6 + c[5] + size_t{c[2]} * 8 + c[1] + c[0];
    if (at + 44 > n || std::memcmp(b + at, "TZif", 4) != 0) return bad("truncated TZif file");
    counts(at, c);
    at += 44;
    time_size = 8;
  }
  const size_t need =
      size_t{c[3]} * (time_size + 1) + size_t{c[4]} * 6 + c[5] + size_t{c[2]} * (time_size + 4) + c[1] + c[0];
  if (at + need > n || c[4] == 0) return bad("truncated TZif file");
  const unsigned char* times = b + at;
  const unsigned char* idx = times + size_t{c[3]} * time_size;
  const unsigned char* types = idx + c[3];
  std::vector<int32_t> type_offset(c[4]);
  for (uint32_t k = 0; k < c[4]; ++k) type_offset[k] = static_cast<int32_t>(Be32(types + 6 * k));
  tz.initial_offset_ = type_offset[0];
  for (uint32_t k = 0; k < c[3]; ++k) {
    const int64_t t = time_size == 8 ? Be64(times + 8 * k) : static_cast<int32_t>(Be32(times + 4 * k));
    if (idx[k] >= c[4]) return bad("corrupt TZif file");
    tz.transitions_.push_back(t);
    tz.offsets_.push_back(type_offset[idx[k]]);
  }
  // The footer (version 2+) gives the rule for instants after the last transition.
  if (time_size == 8) {
    const size_t footer = at + need;
    const size_t end = bytes.find('\n', footer + 1);
    if (footer < n && bytes[footer] == '\n' && end != std::string::npos) {
      const std::string rule = bytes.substr(footer + 1, end - footer - 1);
      size_t i = 0;
      int32_t west = 0;
      if (SkipName(rule, i) && ParseHms(rule, i, &west)) {
        tz.std_offset_ = -west;
        tz.dst_offset_ = tz.std_offset_ + 3600;
        if (i < rule.size() && SkipName(rule, i)) {
          if (i < rule.size() && rule[i] != ',' && ParseHms(rule, i, &west)) tz.dst_offset_ = -west;
          const auto parse_rule = [&](Rule* r) {
            if (i + 1 >= rule.size() || rule[i] != ',' || rule[i + 1] != 'M') return false;
            i += 2;
            int v[3] = {0, 0, 0};
            for (int k = 0; k < 3; ++k) {
              if (k > 0 && (i >= rule.size() || rule[i++] != '.')) return false;
              size_t start = i;
              while (i < rule.size() && rule[i] >= '0' && rule[i] <= '9') v[k] = v[k] * 10 + (rule[i++] - '0');
              if (i == start) return false;
            }
            r->month = v[0];
            r->week = v[1];
            r->weekday = v[2];
            if (i < rule.size() && rule[i] == '/') {
              ++i;
              if (!ParseHms(rule, i, &r->seconds)) return false;
            }
            return r->month >= 1 && r->month <= 12 && r->week >= 1 && r->week <= 5 && r->weekday <= 6;
          };
          tz.has_rule_ = parse_rule(&tz.to_dst_) && parse_rule(&tz.to_std_);
        }
      }
    }
  }
  return tz;
}

int64_t TimeZone::RuleSwitch(int64_t year, const Rule& r, int32_t offset_before) const {
  // Day `weekday` of week `week` (5 = the last) of the month.
  const int64_t first = DaysFromCivil(year, r.month, 1);
  const int first_weekday = static_cast<int>(((first % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  int64_t day = first + (r.weekday - first_weekday + 7) % 7 + 7 * (r.week - 1);
  const int next_month = r.month == 12 ? 1 : r.month + 1;
  const int64_t month_end = DaysFromCivil(r.month == 12 ? year + 1 : year, next_month, 1);
  while (day >= month_end) day -= 7;
  return day * kSecondsPerDay + r.seconds - offset_before;
}

int32_t TimeZone::OffsetAt(int64_t utc) const {
  if (has_rule_ && (transitions_.empty() || utc >= transitions_.back())) {
    const int64_t year = CivilFromDays((utc + std_offset_) / kSecondsPerDay).year;
    const int64_t start = RuleSwitch(year, to_dst_, std_offset_);
    const int64_t end = RuleSwitch(year, to_std_, dst_offset_);
    const bool dst = start < end ? (utc >= start && utc < end) : (utc >= start || utc < end);
    return dst ? dst_offset_ : std_offset_;
  }
  if (transitions_.empty() || utc < transitions_.front()) return initial_offset_;
  const size_t k =
      static_cast<size_t>(std::upper_bound(transitions_.begin(), transitions_.end(), utc) - transitions_.begin()) - 1;
  return offsets_[k];
}

int64_t TimeZone::LocalToUtc(int64_t local) const {
  // The offset in force an offset's width before `local` settles both gaps and overlaps.
  const int32_t before = OffsetAt(local - OffsetAt(local) - 3 * 3600);
  const int64_t utc = local - before;
  const int32_t at = OffsetAt(utc);
  if (at == before) return utc;
  // A transition lies between: the wall time exists with the new offset unless it was skipped.
  const int64_t later = local - at;
  return OffsetAt(later) == at ? later : utc;
}

}  // namespace cf::data
