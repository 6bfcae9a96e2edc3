// Engage's send records (JSON Lines with Braze Currents' names; docs/analytics.md "Sends"),
// read from a file or fetched from engage's `GET /campaigns/sends`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cf::analytics {

enum class Outcome : uint8_t { kSent, kControl, kCapped, kNotOptedIn, kFailed };
inline constexpr int kOutcomes = 5;
std::string_view OutcomeName(Outcome o);

struct SendRecord {
  std::string campaign_name{};
  std::string campaign_id{};  // "" when absent
  std::string channel{};      // "" when absent
  int64_t time = 0;         // UTC epoch seconds
  Outcome outcome = Outcome::kSent;
  // The identifiers the record names ("" / empty when absent); at least one is present.
  std::string external_id{};  // external_user_id, else user_id
  std::string device_id{};
  std::vector<std::string> aliases{};  // "label:name"
};

// Parses JSON Lines text; `source` names it in errors ("sends.jsonl:12: field 'time': ...").
// Blank lines are skipped; unknown keys are ignored (forward compatible); a record without
// campaign_name, time, outcome or any identifier is an error naming the line and the field.
Result<std::vector<SendRecord>> ParseSends(std::string_view text, const std::string& source);

// Reads a sends file (every line a record).
Result<std::vector<SendRecord>> ReadSendsFile(const std::string& path);

struct FetchOptions {
  std::string url;           // engage's base URL (http://host:port), optionally ending in /campaigns/sends
  std::string api_key;       // a REST API key with campaigns.list and campaigns.sends; sent as a Bearer token
  long timeout_ms = 120000;  // per request: a campaign's sends come in one streamed answer

  Status Validate() const;
};

// Whether `text` is an http:// or https:// URL (else a file path).
bool IsUrl(std::string_view text);

// Lists engage's campaigns (`GET /campaigns/list`, every page) and fetches the sends of those
// named in `campaign_names` (`GET /campaigns/sends?campaign_id=`). Campaigns engage does not
// have are simply absent from the result.
Result<std::vector<SendRecord>> FetchSends(const FetchOptions& options, const std::vector<std::string>& campaign_names);

}  // namespace cf::analytics
