#include "analytics/sends.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <nlohmann/json.hpp>
#include <set>

#include "base/files.h"
#include "base/strings.h"
#include "http/client.h"

namespace cf::analytics {
namespace {

constexpr std::string_view kOutcomeNames[kOutcomes] = {"sent", "control", "capped", "not_opted_in", "failed"};
constexpr size_t kCampaignsPerPage = 100;  // Braze's page size of GET /campaigns/list
constexpr size_t kBodyInError = 200;       // bytes of an unexpected answer quoted in an error

Status LineError(const std::string& source, uint64_t line, std::string_view what) {
  return Status::InvalidArgument(fmt::format("{}:{}: {}", source, line, what));
}

// A string field, or "" when absent or null; any other type is an error.
Result<std::string> OptionalString(simdjson::dom::object& o, std::string_view key, const std::string& source,
                                   uint64_t line) {
  simdjson::dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::string();
  std::string_view s;
  if (e.get(s) != simdjson::SUCCESS) {
    return Err(LineError(source, line,
                         fmt::format("field '{}': expected a string or null, found {}", key, simdjson::minify(e))));
  }
  return std::string(s);
}

Result<SendRecord> ParseRecord(simdjson::dom::element doc, const std::string& source, uint64_t line) {
  simdjson::dom::object o;
  if (doc.get(o) != simdjson::SUCCESS) return Err(LineError(source, line, "expected a JSON object"));
  SendRecord r;
  CF_ASSIGN_OR_RETURN(r.campaign_name, OptionalString(o, "campaign_name", source, line));
  if (r.campaign_name.empty()) return Err(LineError(source, line, "field 'campaign_name' is missing or empty"));
  CF_ASSIGN_OR_RETURN(r.campaign_id, OptionalString(o, "campaign_id", source, line));
  CF_ASSIGN_OR_RETURN(r.channel, OptionalString(o, "channel", source, line));
  simdjson::dom::element t;
  if (o["time"].get(t) != simdjson::SUCCESS) return Err(LineError(source, line, "field 'time' is missing"));
  int64_t seconds = 0;
  double fractional = 0;
  if (t.get(seconds) != simdjson::SUCCESS) {
    if (t.get(fractional) != simdjson::SUCCESS) {
      return Err(LineError(source, line,
                           fmt::format("field 'time': expected UTC epoch seconds, found {}", simdjson::minify(t))));
    }
    seconds = static_cast<int64_t>(fractional);
  }
  r.time = seconds;
  CF_ASSIGN_OR_RETURN(std::string outcome, OptionalString(o, "outcome", source, line));
  bool known = false;
  for (int i = 0; i < kOutcomes; ++i) {
    if (outcome == kOutcomeNames[i]) {
      r.outcome = static_cast<Outcome>(i);
      known = true;
    }
  }
  if (!known) {
    return Err(LineError(source, line,
                         fmt::format("field 'outcome': '{}' is not valid; expected sent, control, capped, "
                                     "not_opted_in or failed",
                                     outcome)));
  }
  CF_ASSIGN_OR_RETURN(r.external_id, OptionalString(o, "external_user_id", source, line));
  if (r.external_id.empty()) {
    CF_ASSIGN_OR_RETURN(r.external_id, OptionalString(o, "user_id", source, line));
  }
  CF_ASSIGN_OR_RETURN(r.device_id, OptionalString(o, "device_id", source, line));
  simdjson::dom::element aliases;
  if (o["user_aliases"].get(aliases) == simdjson::SUCCESS && !aliases.is_null()) {
    simdjson::dom::array list;
    if (aliases.get(list) != simdjson::SUCCESS) {
      return Err(LineError(source, line, "field 'user_aliases': expected an array of {alias_label, alias_name}"));
    }
    size_t i = 0;
    for (simdjson::dom::element a : list) {
      simdjson::dom::object ao;
      std::string_view label, name;
      if (a.get(ao) != simdjson::SUCCESS || ao["alias_label"].get(label) != simdjson::SUCCESS ||
          ao["alias_name"].get(name) != simdjson::SUCCESS) {
        return Err(LineError(source, line,
                             fmt::format("field 'user_aliases[{}]': expected {{\"alias_label\": ..., "
                                         "\"alias_name\": ...}}, found {}",
                                         i, simdjson::minify(a))));
      }
      r.aliases.push_back(fmt::format("{}:{}", label, name));
      ++i;
    }
  }
  if (r.external_id.empty() && r.device_id.empty() && r.aliases.empty()) {
    return Err(
        LineError(source, line, "no identifier: expected at least one of external_user_id, user_aliases, device_id"));
  }
  return r;
}

// The base URL (scheme://host[:port]) and the path prefix before /campaigns of an engage URL.
Result<std::pair<std::string, std::string>> SplitUrl(std::string_view url) {
  const size_t scheme = url.find("://");
  const size_t path = url.find('/', scheme + 3);
  std::string base(url.substr(0, path));
  std::string prefix(path == std::string_view::npos ? "" : url.substr(path));
  for (std::string_view suffix : {"/campaigns/sends", "/"}) {
    if (EndsWith(prefix, suffix)) prefix.resize(prefix.size() - suffix.size());
  }
  if (prefix.find('?') != std::string::npos) {
    return Err(Status::InvalidArgument(
        fmt::format("sends URL '{}': give engage's base URL without a query (e.g. http://host:port); the report "
                    "fetches every campaign of the plan itself",
                    url)));
  }
  return std::make_pair(base, prefix);
}

std::string Snippet(std::string_view body) { return std::string(body.substr(0, std::min(body.size(), kBodyInError))); }

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

std::string_view OutcomeName(Outcome o) { return kOutcomeNames[static_cast<int>(o)]; }

Result<std::vector<SendRecord>> ParseSends(std::string_view text, const std::string& source) {
  std::vector<SendRecord> records;
  simdjson::dom::parser parser;
  uint64_t line = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    ++line;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view row = Trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (row.empty()) continue;
    simdjson::dom::element doc;
    if (auto err = parser.parse(row.data(), row.size()).get(doc); err != simdjson::SUCCESS) {
      return Err(LineError(source, line, fmt::format("not a JSON object: {}", simdjson::error_message(err))));
    }
    CF_ASSIGN_OR_RETURN(SendRecord r, ParseRecord(doc, source, line));
    records.push_back(std::move(r));
  }
  return records;
}

Result<std::vector<SendRecord>> ReadSendsFile(const std::string& path) {
  CF_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::Open(path));
  return ParseSends(file->view(), path);
}

bool IsUrl(std::string_view text) { return StartsWith(text, "http://") || StartsWith(text, "https://"); }

Status FetchOptions::Validate() const {
  if (!IsUrl(url)) return Status::InvalidArgument("url: '" + url + "' is not an http:// or https:// URL");
  if (api_key.empty()) return Status::InvalidArgument("api_key: a REST API key is needed to read engage's sends");
  if (timeout_ms <= 0) return Status::InvalidArgument("timeout_ms: must be positive");
  return Status::OK();
}

Result<std::vector<SendRecord>> FetchSends(const FetchOptions& options,
                                           const std::vector<std::string>& campaign_names) {
  CF_RETURN_IF_ERROR(options.Validate());
  CF_ASSIGN_OR_RETURN(auto split, SplitUrl(options.url));
  const auto& [base, prefix] = split;
  http::Client client(base, {.timeout_ms = options.timeout_ms, .connect_timeout_ms = 5000});
  const std::vector<std::pair<std::string, std::string>> headers = {{"Authorization", "Bearer " + options.api_key}};
  const std::set<std::string> wanted(campaign_names.begin(), campaign_names.end());
  std::vector<std::pair<std::string, std::string>> campaigns;  // (id, name) of the plan's campaigns
  std::set<std::string> seen_ids;
  for (int64_t page = 0;; ++page) {
    const std::string path = fmt::format("{}/campaigns/list?page={}", prefix, page);
    CF_ASSIGN_OR_RETURN(http::ClientResponse r, client.Get(path, headers));
    if (r.status != 200) {
      return Err(Status::Unavailable(fmt::format("GET {}{}: HTTP {}: {}", base, path, r.status, Snippet(r.body))));
    }
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("campaigns") || !j["campaigns"].is_array()) {
      return Err(Status::Corruption(
          fmt::format("GET {}{}: expected {{\"campaigns\": [...]}}, got: {}", base, path, Snippet(r.body))));
    }
    size_t fresh = 0;
    for (const nlohmann::json& c : j["campaigns"]) {
      if (!c.is_object() || !c.contains("id") || !c["id"].is_string() || !c.contains("name") ||
          !c["name"].is_string()) {
        return Err(Status::Corruption(
            fmt::format("GET {}{}: a campaign without a string id and name: {}", base, path, c.dump())));
      }
      const std::string id = c["id"], name = c["name"];
      if (!seen_ids.insert(id).second) continue;
      ++fresh;
      if (wanted.contains(name)) campaigns.emplace_back(id, name);
    }
    // A short page is the last; a server that ignores `page` repeats itself and ends it too.
    if (j["campaigns"].size() < kCampaignsPerPage || fresh == 0) break;
  }
  std::vector<SendRecord> all;
  for (const auto& [id, name] : campaigns) {
    const std::string path = fmt::format("{}/campaigns/sends?campaign_id={}", prefix, UrlEncode(id));
    CF_ASSIGN_OR_RETURN(http::ClientResponse r, client.Get(path, headers));
    if (r.status != 200) {
      return Err(Status::Unavailable(
          fmt::format("GET {}{} (campaign '{}'): HTTP {}: {}", base, path, name, r.status, Snippet(r.body))));
    }
    CF_ASSIGN_OR_RETURN(std::vector<SendRecord> records, ParseSends(r.body, base + path));
    for (SendRecord& rec : records) all.push_back(std::move(rec));
  }
  return all;
}

}  // namespace cf::analytics
