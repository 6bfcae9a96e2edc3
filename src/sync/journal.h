// The export journal: per campaign and destination, what the engagement platform acknowledged.
//
// One file PLANDIR/export/<cohort_id>-<destination hash>.journal. Its first line names the
// destination (endpoint, partner, cohort_id) and the cohort's created_at; then, for each
// acknowledged request, one line per identifier ("+" added, "-" removed) and a commit line with
// the batch's size and checksum, appended and fsynced after the 2xx and before the next request.
// The acknowledged membership is the replay of the committed batches. A batch cut short by a
// crash has no valid commit line: it is ignored (and cut off before the next append), so its
// request is sent again, which is safe because cohort adds and removes are idempotent.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>

#include "base/status.h"

namespace cf::sync {

struct JournalHeader {
  std::string endpoint;  // normalized base URL (NormalizeEndpoint)
  std::string partner;
  std::string cohort_id;
  std::string created_at;  // ISO-8601, sent as the cohort's created_at on every export
};

// The lower-cased scheme and host of `url` and its path without trailing '/'s; errors name
// `field` when `url` is not an http:// or https:// URL without query or fragment.
Result<std::string> NormalizeEndpoint(std::string_view url, std::string_view field);

// PLANDIR/export/<cohort_id>-<16 hex digits of a hash of endpoint and partner>.journal
std::string JournalPath(const std::string& plan_dir, const JournalHeader& header);

struct JournalEntry {
  std::string key;       // Identifier::Key()
  std::string customer;  // the CRM id it was sent for
};

class Journal {
 public:
  // Members by identifier key -> customer.
  using Membership = std::unordered_map<std::string, std::string>;

  // Opens the journal of `header`'s destination for appending, creating it (and PLANDIR/export)
  // with `header` when absent. An existing journal keeps its created_at. A journal whose first
  // line names another destination is an error, as is a malformed committed line.
  static Result<std::unique_ptr<Journal>> Open(const std::string& path, const JournalHeader& header);
  // Reads without writing anything (for --dry-run): an absent file is an empty membership.
  static Result<Membership> ReadMembership(const std::string& path, const JournalHeader& header);

  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  const JournalHeader& header() const { return header_; }
  // The acknowledged membership as replayed by Open (later appends are not applied to it:
  // an export reads it once, and a million map updates would cost more than the requests).
  const Membership& members() const { return members_; }
  const std::string& path() const { return path_; }

  // Records one acknowledged request: appends its entries and commit line, and returns once
  // they are on disk (fdatasync). Safe to call from several threads at once (their syncs are
  // shared). After a failed sync every later call fails.
  Status Append(bool removed, std::span<const JournalEntry> entries);

 private:
  Journal() = default;
  std::string path_;
  JournalHeader header_;
  Membership members_;
  int fd_ = -1;
  std::mutex mu_;  // guards everything below and the writes to fd_
  std::condition_variable synced_cv_;
  size_t size_ = 0;       // bytes of the header and the batches written
  uint64_t written_ = 0;  // batches written
  uint64_t synced_ = 0;   // batches known to be on disk
  bool syncing_ = false;  // a thread is in fdatasync
  Status failed_;         // sticky: a sync failed or a half batch could not be cut off
};

}  // namespace cf::sync
