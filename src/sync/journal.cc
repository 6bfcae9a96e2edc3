#include "sync/journal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/files.h"
#include "base/hash.h"
#include "base/strings.h"

namespace cf::sync {

namespace {

using nlohmann::json;

constexpr std::string_view kFormat = "cohortflow-export-journal";
constexpr int kVersion = 1;

uint64_t HashBytes(std::string_view s, uint64_t h = 0xcbf29ce484222325ULL) {
  for (unsigned char c : s) {
    h = (h ^ c) * 0x100000001b3ULL;  // FNV-1a
  }
  return h;
}

std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    out += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
  }
  return out;
}

std::string HeaderLine(const JournalHeader& h) {
  json j = {{"format", kFormat},    {"version", kVersion},      {"endpoint", h.endpoint},
            {"partner", h.partner}, {"cohort_id", h.cohort_id}, {"created_at", h.created_at}};
  return j.dump() + "\n";
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(fmt::format("{}: write failed: {}", path, std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

struct Replayed {
  bool has_header = false;
  JournalHeader header;
  Journal::Membership members;
  size_t good_bytes = 0;  // the header and every committed batch
};

// Replays `text`. What follows the last valid commit is a torn tail when no commit line comes
// after the first bad line; otherwise the file is corrupt.
Result<Replayed> Replay(std::string_view text, const std::string& path) {
  Replayed out;
  const size_t header_end = text.find('\n');
  if (header_end == std::string_view::npos) return out;  // empty, or the header itself was torn
  json h;
  try {
    h = json::parse(text.substr(0, header_end));
  } catch (const json::parse_error&) {
    return Err(Status::Corruption(fmt::format("{}:1: not an export journal header", path)));
  }
  if (!h.is_object() || h.value("format", "") != kFormat || h.value("version", 0) != kVersion) {
    return Err(Status::Corruption(
        fmt::format("{}:1: not a {} version {} header: {}", path, kFormat, kVersion, Quote(h.dump()))));
  }
  out.has_header = true;
  out.header = {h.value("endpoint", ""), h.value("partner", ""), h.value("cohort_id", ""), h.value("created_at", "")};
  out.good_bytes = header_end + 1;

  struct Pending {
    bool removed;
    std::string key, customer;
  };
  std::vector<Pending> pending;
  uint64_t hash = HashBytes("");
  size_t pos = header_end + 1;
  size_t line_no = 1;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    ++line_no;
    if (end == std::string_view::npos) break;  // torn last line
    const std::string_view line = text.substr(pos, end - pos);
    const std::vector<std::string_view> parts = Split(line, '\t');
    bool bad = false;
    if (parts.size() == 3 && (parts[0] == "+" || parts[0] == "-") && !parts[1].empty()) {
      pending.push_back({parts[0] == "-", std::string(parts[1]), Unescape(parts[2])});
      hash = HashBytes(text.substr(pos, end + 1 - pos), hash);
    } else if (parts.size() == 3 && parts[0] == ".") {
      const std::optional<int64_t> count = ParseInt64(parts[1]);
      if (count && *count == static_cast<int64_t>(pending.size()) && parts[2] == fmt::format("{:016x}", hash)) {
        for (Pending& p : pending) {
          if (p.removed) {
            out.members.erase(p.key);
          } else {
            out.members[std::move(p.key)] = std::move(p.customer);
          }
        }
        pending.clear();
        hash = HashBytes("");
        out.good_bytes = end + 1;
      } else {
        bad = true;
      }
    } else {
      bad = true;
    }
    if (bad) {
      if (text.find("\n.\t", end) != std::string_view::npos) {
        return Err(Status::Corruption(fmt::format(
            "{}:{}: malformed journal line {} before later committed batches; the journal cannot be trusted "
            "(remove it to export this campaign from scratch)",
            path, line_no, Quote(line))));
      }
      break;
    }
    pos = end + 1;
  }
  return out;
}

Status CheckDestination(const JournalHeader& found, const JournalHeader& want, const std::string& path) {
  if (found.endpoint != want.endpoint || found.partner != want.partner || found.cohort_id != want.cohort_id) {
    return Status::FailedPrecondition(
        fmt::format("{} belongs to endpoint {} partner {} cohort {}, not to endpoint {} partner {} cohort {}", path,
                    Quote(found.endpoint), Quote(found.partner), Quote(found.cohort_id), Quote(want.endpoint),
                    Quote(want.partner), Quote(want.cohort_id)));
  }
  return Status::OK();
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

Result<std::string> NormalizeEndpoint(std::string_view url, std::string_view field) {
  const std::string lower = ToLower(url);
  size_t scheme_len = 0;
  if (StartsWith(lower, "https://")) {
    scheme_len = 8;
  } else if (StartsWith(lower, "http://")) {
    scheme_len = 7;
  }
  const auto bad = [&](std::string_view why) {
    return Err(Status::InvalidArgument(
        fmt::format("{} {} {}; expected a base URL such as https://rest.iad-01.braze.com or http://127.0.0.1:4000",
                    field, Quote(url), why)));
  };
  if (scheme_len == 0) return bad("is not an http:// or https:// URL");
  if (url.find_first_of("?#") != std::string_view::npos) return bad("has a query or fragment");
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7f) return bad("contains a space, a control or a non-ASCII character");
  }
  const size_t host_end = url.find('/', scheme_len);
  std::string out = lower.substr(0, host_end == std::string_view::npos ? url.size() : host_end);
  if (out.size() == scheme_len) return bad("has no host");
  if (host_end != std::string_view::npos) out += url.substr(host_end);  // paths keep their case
  while (out.size() > scheme_len && out.back() == '/') out.pop_back();
  return out;
}

std::string JournalPath(const std::string& plan_dir, const JournalHeader& header) {
  const uint64_t h = Scramble(HashBytes(header.partner, HashBytes(header.endpoint + '\n')));
  return fmt::format("{}/export/{}-{:016x}.journal", plan_dir, header.cohort_id, h);
}

Result<Journal::Membership> Journal::ReadMembership(const std::string& path, const JournalHeader& header) {
  if (!PathExists(path)) return Membership{};
  CF_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  CF_ASSIGN_OR_RETURN(Replayed r, Replay(text, path));
  if (!r.has_header) return Membership{};
  CF_RETURN_IF_ERROR(CheckDestination(r.header, header, path));
  return std::move(r.members);
}

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& path, const JournalHeader& header) {
  const std::string dir = DirName(path);
  CF_RETURN_IF_ERROR(CreateDirectories(dir));
  std::unique_ptr<Journal> j(new Journal());
  j->path_ = path;
  j->fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (j->fd_ < 0) return Err(Status::IOError(fmt::format("{}: cannot open: {}", path, std::strerror(errno))));
  if (::flock(j->fd_, LOCK_EX | LOCK_NB) != 0) {
    return Err(Status::FailedPrecondition(
        fmt::format("{} is in use by another audience export of the same campaign and endpoint", path)));
  }
  CF_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  CF_ASSIGN_OR_RETURN(Replayed r, Replay(text, path));
  if (r.has_header) {
    CF_RETURN_IF_ERROR(CheckDestination(r.header, header, path));
    j->header_ = r.header;
    j->members_ = std::move(r.members);
  } else {
    j->header_ = header;
  }
  if (r.good_bytes < text.size() || !r.has_header) {
    // Cut off a torn tail so the next batch does not follow half a line.
    if (::ftruncate(j->fd_, static_cast<off_t>(r.good_bytes)) != 0) {
      return Err(Status::IOError(fmt::format("{}: cannot truncate: {}", path, std::strerror(errno))));
    }
  }
  if (!r.has_header) {
    CF_RETURN_IF_ERROR(WriteAll(j->fd_, HeaderLine(j->header_), path));
  }
  j->size_ = r.has_header ? r.good_bytes : HeaderLine(j->header_).size();
  if (::fsync(j->fd_) != 0)
    return Err(Status::IOError(fmt::format("{}: fsync failed: {}", path, std::strerror(errno))));
  if (!r.has_header) CF_RETURN_IF_ERROR(FsyncDirectory(dir));
  return j;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

Status Journal::Append(bool removed, std::span<const JournalEntry> entries) {
  std::string text;
  text.reserve(entries.size() * 32 + 32);
  const char* op = removed ? "-\t" : "+\t";
  for (const JournalEntry& e : entries) {
    text += op;
    text += e.key;
    text += '\t';
    text += Escape(e.customer);
    text += '\n';
  }
  text += fmt::format(".\t{}\t{:016x}\n", entries.size(), HashBytes(text));
  std::unique_lock<std::mutex> lock(mu_);
  if (!failed_.ok()) return failed_;
  if (Status written = WriteAll(fd_, text, path_); !written.ok()) {
    // Leave no half batch for a later append to follow.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
      failed_ = written.WithPrefix("and the journal could not be cut back to its last batch");
      return failed_;
    }
    return written;
  }
  size_ += text.size();
  // Group commit: one fdatasync covers every batch written before it started, so concurrent
  // requests do not queue behind one another's syncs.
  const uint64_t mine = ++written_;
  while (synced_ < mine && failed_.ok()) {
    if (syncing_) {
      synced_cv_.wait(lock);
      continue;
    }
    syncing_ = true;
    const uint64_t target = written_;
    lock.unlock();
    const int rc = ::fdatasync(fd_);
    const int error = errno;
    lock.lock();
    syncing_ = false;
    if (rc != 0) {
      // What was written is whole batches, so the file replays correctly; whether they are
      // durable is unknown, so nothing more is acknowledged.
      failed_ = Status::IOError(fmt::format("{}: fsync failed: {}", path_, std::strerror(error)));
    } else {
      synced_ = target;
    }
    synced_cv_.notify_all();
  }
  return failed_;
}

}  // namespace cf::sync
