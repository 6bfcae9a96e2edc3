// IANA time zones for reading naive local times: the rules come from the system's compiled
// tz database (TZif files, Debian package `tzdata`), so no zone data lives in this repository.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace cf::data {

class TimeZone {
 public:
  // Loads `name` (e.g. "Europe/Paris") from $TZDIR or /usr/share/zoneinfo.
  static Result<TimeZone> Load(const std::string& name);

  const std::string& name() const { return name_; }
  // Seconds east of UTC in force at `utc`.
  int32_t OffsetAt(int64_t utc) const;
  // The UTC instant of a wall-clock time (seconds since 1970 as if the wall clock were UTC).
  // A time skipped by a spring-forward transition is read with the offset before it; a time
  // repeated by a fall-back transition is read as its first occurrence.
  int64_t LocalToUtc(int64_t local) const;

 private:
  std::string name_;
  std::vector<int64_t> transitions_;  // UTC instants, ascending
  std::vector<int32_t> offsets_;      // offset in force from transitions_[i]
  int32_t initial_offset_ = 0;        // before the first transition
  // After the last transition: the footer rule's standard and daylight offsets and its switch
  // dates, when the zone still observes daylight saving time.
  struct Rule {
    int month = 0, week = 0, weekday = 0;  // Mm.w.d
    int32_t seconds = 7200;                // local time of day of the switch
  };
  bool has_rule_ = false;
  int32_t std_offset_ = 0, dst_offset_ = 0;
  Rule to_dst_, to_std_;
  int64_t RuleSwitch(int64_t year, const Rule& r, int32_t offset_before) const;
};

}  // namespace cf::data
