#include "sync/exporter.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <span>
#include <thread>
#include <unordered_set>

#include "base/files.h"
#include "base/progress.h"
#include "base/strings.h"
#include "base/time.h"
#include "http/client.h"

namespace cf::sync {

namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr int kMaxIdsPerRequest = 1000;  // Braze's limit for /partners/{partner}/cohorts/users
constexpr int kMaxConnections = 16;
constexpr size_t kMaxCsvFileNameBytes = 200;

bool IsSafePartner(std::string_view p) {
  if (p.empty() || p.size() > 64) return false;
  return std::all_of(p.begin(), p.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

Status CheckKey(std::string_view field, const std::string& value, std::string_view source) {
  if (value.empty()) return Status::InvalidArgument(fmt::format("{}: {} is empty", source, field));
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument(fmt::format("{}: {} contains a control character", source, field));
    }
  }
  return Status::OK();
}

// The server's own words: `message` of a JSON answer (Braze and engage), else the body itself.
std::string ServerMessage(const std::string& body) {
  try {
    const json j = json::parse(body);
    if (j.is_object()) {
      if (auto m = j.find("message"); m != j.end() && m->is_string()) return m->get<std::string>();
      if (auto e = j.find("errors"); e != j.end()) return e->dump();
    }
  } catch (const json::exception&) {
  }
  std::string text(Trim(body));
  if (text.empty()) return "(empty answer)";
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return text;
}

Status StatusForHttp(long status, std::string message) {
  switch (status) {
    case 400:
      return Status::InvalidArgument(std::move(message));
    case 401:
      return Status::Unauthenticated(std::move(message));
    case 403:
      return Status::PermissionDenied(std::move(message));
    case 404:
      return Status::NotFound(std::move(message));
    default:
      return Status::FailedPrecondition(std::move(message));
  }
}

// 429 (rate limit), 423 (cohort locked by a concurrent write), 408 and 5xx are transient.
bool Retryable(long status) { return status == 429 || status == 423 || status == 408 || status >= 500; }

double Uniform(double lo, double hi) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

// One connection to the destination, with the retry policy of ExportOptions.
class Sender {
 public:
  Sender(const ExportOptions& options)
      : options_(options),
        client_(options.endpoint, http::ClientOptions{std::lround(options.timeout_seconds * 1000),
                                                      std::lround(std::min(options.timeout_seconds, 10.0) * 1000),
                                                      options.ca_cert_file}) {}

  // The 2xx answer's body, or why the request failed for good. `retries` counts resends.
  Result<std::string> Post(const std::string& path, const std::string& body, int64_t* retries) {
    const auto start = SteadyClock::now();
    for (int attempt = 0;; ++attempt) {
      Result<http::ClientResponse> r = client_.Post(path, body);
      std::string last;
      double delay = Backoff(attempt);
      if (r.has_value()) {
        if (r->status / 100 == 2) return std::move(r->body);
        last = fmt::format("POST {}{} answered {}: {}", options_.endpoint, path, r->status, ServerMessage(r->body));
        if (!Retryable(r->status)) return Err(StatusForHttp(r->status, last));
        if (r->status == 429) {
          // Retry-After in seconds (Braze and engage send seconds); a date is not honoured.
          const std::optional<int64_t> after = ParseInt64(r->Header("retry-after"));
          if (after && *after > 0) delay = static_cast<double>(*after) * Uniform(1.0, 1.1);
        }
      } else {
        // An untrusted certificate fails for good; refused, reset, closed mid-answer, timed out do not.
        if (r.error().code() != StatusCode::kUnavailable) return Err(r.error());
        last = r.error().message();
      }
      const double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
      if (elapsed + delay > options_.max_retry_seconds) {
        return Err(Status::Unavailable(
            fmt::format("{}; gave up after {} attempt{} in {:.1f} s (max_retry_seconds is {})", last, attempt + 1,
                        attempt == 0 ? "" : "s", elapsed, options_.max_retry_seconds)));
      }
      std::this_thread::sleep_for(std::chrono::duration<double>(delay));
      ++*retries;
    }
  }

 private:
  // Exponential, with "equal jitter": half the step fixed, half random, so that clients that
  // failed together do not retry together.
  double Backoff(int attempt) const {
    const double step =
        std::min(options_.max_backoff_seconds, options_.initial_backoff_seconds * std::pow(2.0, std::min(attempt, 30)));
    return step * Uniform(0.5, 1.0);
  }

  const ExportOptions& options_;
  http::Client client_;
};

// `{"partner_api_key":...,"client_secret":...,"cohort_id":...,` without the closing brace.
std::string BodyPrefix(const Credentials& c, std::string_view cohort_id) {
  return "{\"partner_api_key\":" + JsonString(c.partner_api_key) +
         ",\"client_secret\":" + JsonString(c.data_import_key) + ",\"cohort_id\":" + JsonString(cohort_id) + ",";
}

// One change object with every identifier of `entries`, grouped by kind; built by hand because
// it is the export's hot path (a million identifiers make a thousand of these).
std::string ChangesBody(const std::string& prefix, std::span<const JournalEntry> entries, bool remove) {
  std::string users, devices, aliases;
  for (const JournalEntry& e : entries) {
    const std::string_view key = e.key;
    const std::string_view value = key.substr(2);
    switch (static_cast<IdentifierKind>(key[0])) {
      case IdentifierKind::kExternalId:
        users += users.empty() ? "" : ",";
        users += JsonString(value);
        break;
      case IdentifierKind::kDeviceId:
        devices += devices.empty() ? "" : ",";
        devices += JsonString(value);
        break;
      case IdentifierKind::kAlias: {
        const size_t colon = value.find(':');
        aliases += aliases.empty() ? "{\"alias_label\":" : ",{\"alias_label\":";
        aliases += JsonString(value.substr(0, colon));
        aliases += ",\"alias_name\":";
        aliases += JsonString(value.substr(colon + 1));
        aliases += '}';
        break;
      }
    }
  }
  std::string body = prefix;
  body.reserve(prefix.size() + users.size() + devices.size() + aliases.size() + 96);
  body += "\"cohort_changes\":[{";
  bool first = true;
  for (auto [name, list] :
       {std::pair{"\"user_ids\":[", &users}, {"\"device_ids\":[", &devices}, {"\"aliases\":[", &aliases}}) {
    if (list->empty()) continue;
    if (!first) body += ',';
    first = false;
    body += name;
    body += *list;
    body += ']';
  }
  if (remove) body += first ? "\"should_remove\":true" : ",\"should_remove\":true";
  body += "}]}";
  return body;
}

struct AnswerCounts {
  bool known = false;
  int64_t added = 0, removed = 0, unmatched = 0;
};

AnswerCounts ReadCounts(const std::string& body) {
  AnswerCounts c;
  try {
    const json j = json::parse(body);
    if (!j.is_object()) return c;
    const auto get = [&j](const char* k, int64_t* out) {
      auto it = j.find(k);
      if (it == j.end() || !it->is_number_integer()) return false;
      *out = it->get<int64_t>();
      return true;
    };
    c.known = get("added", &c.added) && get("removed", &c.removed) && get("unmatched", &c.unmatched);
  } catch (const json::exception&) {
  }
  return c;
}

}  // namespace

Result<Credentials> LoadCredentials(const std::string& keys_file) {
  Credentials c;
  if (keys_file.empty()) {
    const char* partner = std::getenv("CF_PARTNER_API_KEY");
    const char* secret = std::getenv("CF_DATA_IMPORT_KEY");
    if (partner == nullptr || secret == nullptr) {
      return Err(Status::InvalidArgument(
          "no keys: give a keys file (JSON {\"partner_api_key\": ..., \"data_import_key\": ...}) or set both "
          "CF_PARTNER_API_KEY and CF_DATA_IMPORT_KEY in the environment"));
    }
    c.partner_api_key = partner;
    c.data_import_key = secret;
    CF_RETURN_IF_ERROR(CheckKey("CF_PARTNER_API_KEY", c.partner_api_key, "the environment"));
    CF_RETURN_IF_ERROR(CheckKey("CF_DATA_IMPORT_KEY", c.data_import_key, "the environment"));
    return c;
  }
  CF_ASSIGN_OR_RETURN(std::string text, ReadFile(keys_file));
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    return Err(Status::InvalidArgument(fmt::format("{}: not valid JSON: {}", keys_file, e.what())));
  }
  if (!j.is_object()) {
    return Err(Status::InvalidArgument(
        keys_file + ": expected a JSON object {\"partner_api_key\": ..., \"data_import_key\": ...}"));
  }
  for (const auto& [k, v] : j.items()) {
    if (k != "partner_api_key" && k != "data_import_key") {
      return Err(Status::InvalidArgument(
          fmt::format("{}: unknown key {}; valid: partner_api_key, data_import_key", keys_file, Quote(k))));
    }
    if (!v.is_string()) return Err(Status::InvalidArgument(fmt::format("{}: {} must be a string", keys_file, k)));
  }
  for (auto [key, out] : {std::pair{"partner_api_key", &c.partner_api_key}, {"data_import_key", &c.data_import_key}}) {
    if (!j.contains(key)) return Err(Status::InvalidArgument(fmt::format("{}: {} is missing", keys_file, key)));
    *out = j[key].get<std::string>();
    CF_RETURN_IF_ERROR(CheckKey(key, *out, keys_file));
  }
  return c;
}

Status ExportOptions::Validate() const {
  if (Result<std::string> e = NormalizeEndpoint(endpoint, "endpoint"); !e.has_value()) return e.error();
  if (!IsSafePartner(partner)) {
    return Status::InvalidArgument(
        fmt::format("partner {} must be 1 to 64 letters, digits, '-' or '_' (e.g. tinyclues)", Quote(partner)));
  }
  if (max_ids_per_request < 1 || max_ids_per_request > kMaxIdsPerRequest) {
    return Status::InvalidArgument(
        fmt::format("max_ids_per_request is {}; valid: 1 to {}", max_ids_per_request, kMaxIdsPerRequest));
  }
  if (connections < 1 || connections > kMaxConnections) {
    return Status::InvalidArgument(fmt::format("connections is {}; valid: 1 to {}", connections, kMaxConnections));
  }
  if (!(timeout_seconds > 0) || timeout_seconds > 3600) {
    return Status::InvalidArgument(
        fmt::format("timeout_seconds is {}; valid: more than 0, at most 3600", timeout_seconds));
  }
  if (!(max_retry_seconds >= 0) || max_retry_seconds > 86400) {
    return Status::InvalidArgument(fmt::format("max_retry_seconds is {}; valid: 0 to 86400", max_retry_seconds));
  }
  if (!(initial_backoff_seconds > 0) || !(max_backoff_seconds >= initial_backoff_seconds) ||
      max_backoff_seconds > 3600) {
    return Status::InvalidArgument(
        fmt::format("initial_backoff_seconds is {} and max_backoff_seconds {}; valid: 0 < initial <= max <= 3600",
                    initial_backoff_seconds, max_backoff_seconds));
  }
  return Status::OK();
}

ChangeSet ComputeChanges(const Journal::Membership& acknowledged, const std::vector<Member>& planned) {
  ChangeSet out;
  out.adds.reserve(planned.size());
  for (const Member& m : planned) {
    if (!acknowledged.contains(m.key)) out.adds.push_back({m.key, m.customer});
  }
  if (acknowledged.size() + out.adds.size() == planned.size()) return out;  // nothing acknowledged left the plan
  std::unordered_set<std::string_view> planned_keys, planned_customers;
  planned_keys.reserve(planned.size());
  planned_customers.reserve(planned.size());
  for (const Member& m : planned) {
    planned_keys.insert(m.key);
    planned_customers.insert(m.customer);
  }
  for (const auto& [key, customer] : acknowledged) {
    if (planned_keys.contains(key)) continue;
    (planned_customers.contains(customer) ? out.replaced : out.removes).push_back({key, customer});
  }
  // The membership map has no order; sorted removes make runs (and their requests) repeatable.
  const auto by_key = [](const JournalEntry& a, const JournalEntry& b) { return a.key < b.key; };
  std::sort(out.replaced.begin(), out.replaced.end(), by_key);
  std::sort(out.removes.begin(), out.removes.end(), by_key);
  return out;
}

struct Exporter::Impl {
  ExportOptions options;
  Credentials credentials;
  std::vector<std::unique_ptr<Sender>> senders;  // one per connection, reused across campaigns

  Status RunPhase(const std::string& prefix, std::span<const JournalEntry> entries, bool remove, Journal& journal,
                  CampaignReport& report, Progress& progress, const SentCallback& on_sent) {
    if (entries.empty()) return Status::OK();
    const std::string path = "/partners/" + options.partner + "/cohorts/users";
    const size_t per = static_cast<size_t>(options.max_ids_per_request);
    const size_t batches = (entries.size() + per - 1) / per;
    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex mu;
    Status first_error;
    const auto work = [&](Sender& sender) {
      for (size_t b = next++; b < batches && !stop; b = next++) {
        const std::span<const JournalEntry> batch = entries.subspan(b * per, std::min(per, entries.size() - b * per));
        int64_t retries = 0;
        Result<std::string> answer = sender.Post(path, ChangesBody(prefix, batch, remove), &retries);
        Status s = answer.has_value() ? journal.Append(remove, batch) : answer.error();
        std::lock_guard<std::mutex> lock(mu);
        report.retries += retries;
        if (!s.ok()) {
          if (first_error.ok()) first_error = std::move(s);
          stop = true;
          return;
        }
        const AnswerCounts counts = ReadCounts(*answer);
        report.counts_known = report.counts_known && counts.known;
        report.added += counts.added;
        report.removed += counts.removed;
        report.unmatched += counts.unmatched;
        report.sent += static_cast<int64_t>(batch.size());
        ++report.requests;
        progress.Add(batch.size());
        if (on_sent) on_sent(report.sent, report.to_add + report.to_remove);
      }
    };
    const size_t workers = std::min(senders.size(), batches);
    if (workers == 1) {
      work(*senders[0]);
    } else {
      std::vector<std::thread> threads;
      for (size_t i = 0; i < workers; ++i) threads.emplace_back([&, i] { work(*senders[i]); });
      for (std::thread& t : threads) t.join();
    }
    return first_error;
  }
};

Exporter::Exporter(ExportOptions options, Credentials credentials) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->options.endpoint = NormalizeEndpoint(impl_->options.endpoint, "endpoint").value_or(impl_->options.endpoint);
  impl_->credentials = std::move(credentials);
  for (int i = 0; i < impl_->options.connections; ++i) {
    impl_->senders.push_back(std::make_unique<Sender>(impl_->options));
  }
}

Exporter::~Exporter() = default;

JournalHeader Exporter::Destination(const PlannedCampaign& campaign) const {
  return JournalHeader{impl_->options.endpoint, impl_->options.partner, campaign.cohort_id,
                       FormatIsoTime(SystemClock().NowSeconds())};
}

CampaignReport Exporter::Export(const std::string& plan_dir, const PlannedCampaign& campaign,
                                const CampaignAudience& audience, const SentCallback& on_sent) {
  CampaignReport report;
  report.campaign = campaign;
  report.planned = static_cast<int64_t>(audience.members.size());
  report.holdout = audience.holdout;
  report.skipped = audience.skipped;
  report.duplicates = audience.duplicates;
  const JournalHeader destination = Destination(campaign);
  Result<std::unique_ptr<Journal>> journal = Journal::Open(JournalPath(plan_dir, destination), destination);
  if (!journal.has_value()) {
    report.status = journal.error();
    return report;
  }
  const auto start = SteadyClock::now();
  const auto finish = [&] { report.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count(); };
  const std::string prefix = BodyPrefix(impl_->credentials, campaign.cohort_id);
  // Creating a known cohort renames it, so this runs every time: the name follows the plan.
  const std::string create = prefix + "\"name\":" + JsonString(campaign.export_file_name) +
                             ",\"created_at\":" + JsonString((*journal)->header().created_at) + "}";
  Result<std::string> created =
      impl_->senders[0]->Post("/partners/" + impl_->options.partner + "/cohorts", create, &report.retries);
  if (!created.has_value()) {
    report.status = created.error();
    finish();
    return report;
  }
  ++report.requests;
  const ChangeSet changes = ComputeChanges((*journal)->members(), audience.members);
  report.to_add = static_cast<int64_t>(changes.adds.size());
  report.to_remove = static_cast<int64_t>(changes.replaced.size() + changes.removes.size());
  Progress progress("export " + campaign.export_file_name, report.to_add + report.to_remove, "ids");
  for (auto [entries, remove] :
       {std::pair{&changes.replaced, true}, {&changes.adds, false}, {&changes.removes, true}}) {
    report.status = impl_->RunPhase(prefix, *entries, remove, **journal, report, progress, on_sent);
    if (!report.status.ok()) break;
  }
  progress.Finish();
  finish();
  return report;
}

std::string CsvFileName(const PlannedCampaign& campaign) {
  std::string name;
  for (unsigned char c : campaign.export_file_name) {
    const bool bad =
        c < 0x20 || c == 0x7f || std::string_view("/\\<>:\"|?*").find(static_cast<char>(c)) != std::string_view::npos;
    name += bad ? '_' : static_cast<char>(c);
  }
  const size_t first = name.find_first_not_of(" .");
  name = first == std::string::npos ? "" : name.substr(first);
  while (!name.empty() && (name.back() == ' ' || name.back() == '.')) name.pop_back();
  if (name.size() > kMaxCsvFileNameBytes) {
    size_t cut = kMaxCsvFileNameBytes;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xc0) == 0x80) --cut;  // not inside a character
    name.resize(cut);
  }
  if (name.empty()) name = campaign.cohort_id;
  return name + ".csv";
}

Status WriteCohortCsv(const std::string& dir, const PlannedCampaign& campaign, const CampaignAudience& audience) {
  std::string csv = "customer,external_id,alias_label,alias_name,device_id\n";
  for (const Member& m : audience.members) {
    csv += CsvField(m.customer);
    switch (m.id.kind) {
      case IdentifierKind::kExternalId:
        csv += "," + CsvField(m.id.value) + ",,,\n";
        break;
      case IdentifierKind::kAlias:
        csv += ",," + CsvField(m.id.alias_label) + "," + CsvField(m.id.value) + ",\n";
        break;
      case IdentifierKind::kDeviceId:
        csv += ",,,," + CsvField(m.id.value) + "\n";
        break;
    }
  }
  return WriteFileAtomic(dir + "/" + CsvFileName(campaign), csv);
}

}  // namespace cf::sync
