#include "io/record_reader.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "base/files.h"
#include "base/strings.h"

namespace cf::io {
namespace {

constexpr size_t kWindow = 4 << 20;  // streamed input is read in windows of this size
constexpr size_t kReleaseEvery = 64 << 20;
constexpr size_t kChecksumBlock = 1 << 20;
constexpr size_t kUtf8Ahead = 1 << 20;

// xxHash64-style rounds over 32-byte stripes: a 64-bit hash of one block.
uint64_t HashBlock(const char* p, size_t n) {
  constexpr uint64_t kP1 = 0x9E3779B185EBCA87ULL, kP2 = 0xC2B2AE3D27D4EB4FULL, kP3 = 0x165667B19E3779F9ULL;
  const auto rotl = [](uint64_t x, int r) { return (x << r) | (x >> (64 - r)); };
  uint64_t v[4] = {kP1 + kP2, kP2, 0, 0 - kP1};
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 4; ++k) {
      uint64_t w;
      std::memcpy(&w, p + i + 8 * k, 8);
      v[k] = rotl(v[k] + w * kP2, 31) * kP1;
    }
  }
  uint64_t h = rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18) + n;
  for (; i < n; ++i) h = rotl(h ^ (static_cast<unsigned char>(p[i]) * kP3), 11) * kP1;
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  return h;
}

uint64_t CountByte(const char* p, const char* end, char byte) {
  uint64_t n = 0;
  while (p < end) {
    const void* hit = std::memchr(p, byte, static_cast<size_t>(end - p));
    if (hit == nullptr) break;
    ++n;
    p = static_cast<const char*>(hit) + 1;
  }
  return n;
}

std::string StripGz(const std::string& path) {
  std::string lower = ToLower(path);
  return EndsWith(lower, ".gz") ? lower.substr(0, lower.size() - 3) : lower;
}

std::string Hex(unsigned char c) {
  static const char* kDigits = "0123456789ABCDEF";
  return std::string("0x") + kDigits[c >> 4] + kDigits[c & 15];
}

bool IsAscii(std::string_view s) {
  size_t i = 0;
  uint64_t acc = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    acc |= w;
  }
  for (; i < s.size(); ++i) acc |= static_cast<unsigned char>(s[i]);
  return (acc & 0x8080808080808080ULL) == 0;
}

// Length of the valid UTF-8 prefix of `s` (RFC 3629: no overlongs, surrogates or > U+10FFFF).
size_t ValidUtf8Prefix(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
    }
    i += len;
  }
  return n;
}

// A plain file read front to back.
class FileStream final : public ByteStream {
 public:
  static Result<std::unique_ptr<ByteStream>> Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Err(Status::IOError("cannot open " + path + ": " + std::strerror(errno)));
    auto s = std::make_unique<FileStream>();
    s->fd_ = fd;
    s->path_ = path;
    return std::unique_ptr<ByteStream>(std::move(s));
  }
  ~FileStream() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Result<size_t> Read(char* out, size_t n) override {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::read(fd_, out + got, n - got);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Err(Status::IOError("cannot read " + path_ + ": " + std::strerror(errno)));
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    consumed_ += got;
    return got;
  }
  uint64_t consumed() const override { return consumed_; }

 private:
  int fd_ = -1;
  std::string path_;
  uint64_t consumed_ = 0;
};

// gzip (one or more members), decompressed as it is read.
class GzipStream final : public ByteStream {
 public:
  static Result<std::unique_ptr<ByteStream>> Open(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (f == nullptr) return Err(Status::IOError("cannot open " + path + ": " + std::strerror(errno)));
    gzbuffer(f, 1 << 20);
    auto s = std::make_unique<GzipStream>();
    s->f_ = f;
    s->path_ = path;
    return std::unique_ptr<ByteStream>(std::move(s));
  }
  ~GzipStream() override {
    if (f_ != nullptr) gzclose(f_);
  }
  Result<size_t> Read(char* out, size_t n) override {
    size_t got = 0;
    while (got < n) {
      const unsigned ask = static_cast<unsigned>(std::min<size_t>(n - got, 1u << 30));
      int r = gzread(f_, out + got, ask);
      int errnum = Z_OK;
      const char* msg = gzerror(f_, &errnum);
      if (r < 0 || (errnum != Z_OK && errnum != Z_BUF_ERROR)) {
        return Err(Status::Corruption(path_ + ": not a valid gzip stream (" + std::string(msg) + " after " +
                                      std::to_string(decoded_ + got) + " decompressed bytes)"));
      }
      got += static_cast<size_t>(r);
      if (r == 0) {
        // zlib reports a stream that stops before its end marker as Z_BUF_ERROR at the end.
        if (errnum == Z_BUF_ERROR) {
          return Err(Status::Corruption(path_ + ": the gzip stream is truncated (it ends after " +
                                        std::to_string(decoded_ + got) +
                                        " decompressed bytes, before its end marker); the file was cut short, "
                                        "copy or download it again"));
        }
        break;
      }
    }
    decoded_ += got;
    return got;
  }
  uint64_t consumed() const override { return static_cast<uint64_t>(gzoffset(f_)); }

 private:
  gzFile f_ = nullptr;
  std::string path_;
  uint64_t decoded_ = 0;
};

// Latin-1 or Windows-1252 to UTF-8: every byte is one character.
class SingleByteToUtf8 final : public ByteStream {
 public:
  SingleByteToUtf8(std::unique_ptr<ByteStream> in, bool windows1252) : in_(std::move(in)) {
    // Windows-1252 differs from Latin-1 in 0x80..0x9F only; its five unassigned bytes stay C1 controls.
    static const uint16_t kCp1252[32] = {0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                         0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
                                         0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                         0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};
    for (int b = 0; b < 256; ++b) {
      uint32_t cp = windows1252 && b >= 0x80 && b < 0xA0 ? kCp1252[b - 0x80] : static_cast<uint32_t>(b);
      std::string& out = table_[b];
      if (cp < 0x80) {
        out = std::string(1, static_cast<char>(cp));
      } else if (cp < 0x800) {
        out = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
      } else {
        out = {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
               static_cast<char>(0x80 | (cp & 0x3F))};
      }
    }
  }
  Result<size_t> Read(char* out, size_t n) override {
    size_t got = 0;
    while (got < n) {
      if (pending_.empty()) {
        raw_.resize(n / 3 + 1);
        CF_ASSIGN_OR_RETURN(size_t r, in_->Read(raw_.data(), raw_.size()));
        if (r == 0) break;
        for (size_t i = 0; i < r; ++i) pending_ += table_[static_cast<unsigned char>(raw_[i])];
        at_ = 0;
      }
      size_t take = std::min(n - got, pending_.size() - at_);
      std::memcpy(out + got, pending_.data() + at_, take);
      got += take;
      at_ += take;
      if (at_ == pending_.size()) pending_.clear();
    }
    return got;
  }
  uint64_t consumed() const override { return in_->consumed(); }

 private:
  std::unique_ptr<ByteStream> in_;
  std::string table_[256];
  std::string raw_, pending_;
  size_t at_ = 0;
};

// RFC 4180 CSV. Quoted fields may hold delimiters, doubled quotes and newlines.
class CsvReader final : public RecordReader {
 public:
  Status Init(const SourceOptions& source) {
    if (StartsWith(input_.substr(pos_), "\xEF\xBB\xBF")) pos_ += 3;  // UTF-8 byte order mark
    char d = source.delimiter;
    if (d == 0) {
      d = EndsWith(StripGz(source.path), ".tsv") ? '\t' : ',';
      // A header without a comma but with semicolons (tabs, pipes) is a file exported with
      // that delimiter, as spreadsheet programs do in locales whose decimal mark is a comma.
      if (d == ',') {
        const char detected = DetectDelimiter(HeaderLine());
        if (detected != 0) {
          d = detected;
          delimiter_detected_ = true;
        }
      }
    }
    delimiter_ = d;
    Record rec;
    CF_ASSIGN_OR_RETURN(bool has, Next(&rec));
    if (!has) {
      return Status::InvalidArgument(path_ + ": empty file; expected a header line with column names");
    }
    std::vector<std::string> header;
    for (std::string_view f : rec.fields) header.emplace_back(Trim(f));
    if (header.size() == 1 && !delimiter_detected_) {
      for (char other : {';', '\t', '|', ','}) {
        if (other != delimiter_ && header[0].find(other) != std::string::npos) {
          const std::string shown = other == '\t' ? "tab" : std::string(1, other);
          return Status::InvalidArgument(path_ + ":1: the header is one column '" + header[0] + "', and it looks '" +
                                         shown + "'-delimited; set the delimiter to '" + shown + "'");
        }
      }
    }
    return SetHeader(std::move(header));
  }

 protected:
  Result<bool> ReadOne(Record* rec) override {
    ReleaseBefore(pos_);
    return ReadRecord(rec, header_.size());
  }
  std::unique_ptr<RecordReader> CloneEmpty() const override {
    auto r = std::make_unique<CsvReader>();
    r->delimiter_ = delimiter_;
    return r;
  }
  bool csv_quoting() const override { return true; }

 private:
  std::string_view HeaderLine() const {
    std::string_view rest = input_.substr(pos_, end_ - pos_);
    size_t nl = rest.find('\n');
    return nl == std::string_view::npos ? rest : rest.substr(0, nl);
  }

  static char DetectDelimiter(std::string_view line) {
    size_t counts[3] = {0, 0, 0};
    const char kCandidates[3] = {';', '\t', '|'};
    bool quoted = false;
    for (char c : line) {
      if (c == '"') quoted = !quoted;
      if (quoted) continue;
      if (c == ',') return 0;
      for (int k = 0; k < 3; ++k) counts[k] += c == kCandidates[k];
    }
    int best = -1;
    for (int k = 0; k < 3; ++k) {
      if (counts[k] > 0 && (best < 0 || counts[k] > counts[best])) best = k;
    }
    return best < 0 ? 0 : kCandidates[best];
  }

  // Reads one record; with expected > 0 the field count must match.
  Result<bool> ReadRecord(Record* rec, size_t expected) {
    const char* s = input_.data();
    const size_t n = end_;
    // Skip blank lines.
    while (pos_ < n && (s[pos_] == '\n' || s[pos_] == '\r')) {
      if (s[pos_] == '\n') ++line_;
      ++pos_;
    }
    if (pos_ >= n) return false;
    const size_t record_start = pos_;
    rec->line = line_;
    fields_.clear();
    scratch_.clear();
    unescaped_.clear();
    while (true) {
      if (pos_ < n && s[pos_] == '"') {
        // Quoted field: copy into scratch only when it holds doubled quotes.
        const size_t quote_at = pos_;
        size_t start = ++pos_;
        size_t end = start;
        bool doubled = false;
        while (true) {
          const void* q = pos_ < n ? std::memchr(s + pos_, '"', n - pos_) : nullptr;
          if (q == nullptr) return Unterminated(rec, record_start, quote_at);
          size_t qp = static_cast<size_t>(static_cast<const char*>(q) - s);
          if (qp + 1 < n && s[qp + 1] == '"') {
            doubled = true;
            pos_ = qp + 2;
            continue;
          }
          if (qp + 1 >= n) hit_end_ = true;  // a doubled quote may follow in the next window
          line_ += CountByte(s + start, s + qp, '\n');
          end = qp;
          pos_ = qp + 1;
          break;
        }
        std::string_view raw(s + start, end - start);
        if (doubled) {
          size_t at = scratch_.size();
          for (size_t k = 0; k < raw.size(); ++k) {
            scratch_ += raw[k];
            if (raw[k] == '"') ++k;
          }
          unescaped_.push_back({fields_.size(), at, scratch_.size() - at});
          fields_.emplace_back();
        } else {
          fields_.push_back(raw);
        }
        if (pos_ < n && s[pos_] != delimiter_ && s[pos_] != '\n' && s[pos_] != '\r') {
          return BadAfterQuote(rec, record_start);
        }
      } else {
        size_t start = pos_;
        while (pos_ < n && s[pos_] != delimiter_ && s[pos_] != '\n') ++pos_;
        size_t end = pos_;
        if (end > start && s[end - 1] == '\r' && (pos_ >= n || s[pos_] == '\n')) --end;
        fields_.emplace_back(s + start, end - start);
      }
      if (pos_ < n && s[pos_] == delimiter_) {
        ++pos_;
        continue;
      }
      if (pos_ < n && s[pos_] == '\r') ++pos_;
      if (pos_ < n && s[pos_] == '\n') {
        ++pos_;
        ++line_;
      }
      break;
    }
    // Scratch is stable now; point unescaped fields into it.
    for (const Unescaped& u : unescaped_) fields_[u.field] = std::string_view(scratch_).substr(u.at, u.len);
    rec->fields = fields_;
    rec->raw = input_.substr(record_start, pos_ - record_start);
    if (check_utf8_ && !Utf8KnownValid(record_start, pos_)) CF_RETURN_IF_ERROR(CheckUtf8(rec->raw, rec->line, fields_));
    if (expected > 0 && fields_.size() != expected) {
      std::string msg = path_ + ":" + std::to_string(rec->line) + ": expected " + std::to_string(expected) +
                        " fields as in the header, found " + std::to_string(fields_.size());
      const uint64_t spans = line_ - rec->line;
      if (spans > 1) {
        msg += " (the record runs over " + std::to_string(spans) +
               " lines: a quote that does not close where it should swallowed the " +
               (spans == 2 ? std::string("line") : std::to_string(spans - 1) + " lines") + " after it)";
      }
      return Err(Status::InvalidArgument(msg));
    }
    return true;
  }

  // A quote that never closes would swallow every following line: report how many, and go
  // on at the next line so that skipping the bad row loses only that row.
  Result<bool> Unterminated(Record* rec, size_t record_start, size_t quote_at) {
    const char* s = input_.data();
    hit_end_ = true;
    const uint64_t swallowed = CountByte(s + quote_at, s + end_, '\n');
    const void* nl = std::memchr(s + record_start, '\n', end_ - record_start);
    pos_ = nl == nullptr ? end_ : static_cast<size_t>(static_cast<const char*>(nl) - s) + 1;
    line_ = rec->line + (nl == nullptr ? 0 : 1);
    rec->raw = input_.substr(record_start, pos_ - record_start);
    std::string msg =
        path_ + ":" + std::to_string(rec->line) + ": unterminated quoted field (a '\"' opens a field that never closes";
    if (swallowed > 0) {
      msg += "; it would swallow the " + std::to_string(swallowed) + " following lines to the end of the file";
    }
    return Err(Status::InvalidArgument(msg + ")"));
  }

  Result<bool> BadAfterQuote(Record* rec, size_t record_start) {
    // Resynchronise at the end of the line so skip-bad-rows can continue.
    const char* s = input_.data();
    while (pos_ < end_ && s[pos_] != '\n') ++pos_;
    if (pos_ < end_) {
      ++pos_;
      ++line_;
    }
    rec->raw = input_.substr(record_start, pos_ - record_start);
    return Err(Status::InvalidArgument(path_ + ":" + std::to_string(rec->line) +
                                       ": characters after a closing quote (quote the whole field and "
                                       "double any quote inside it)"));
  }

  struct Unescaped {
    size_t field, at, len;
  };
  std::vector<std::string_view> fields_;
  std::vector<Unescaped> unescaped_;
  std::string scratch_;
};

// JSON Lines: one object per line; values that are strings are unescaped, numbers and
// booleans keep their text, null and absent keys are empty. Nested objects are flattened to
// dotted paths; arrays are not columns and are ignored.
class JsonLinesReader final : public RecordReader {
 public:
  Status Init() {
    if (StartsWith(input_.substr(pos_), "\xEF\xBB\xBF")) pos_ += 3;
    const size_t first = input_.find_first_not_of(" \t\r\n", pos_);
    if (first != std::string_view::npos && input_[first] == '[') {
      return Status::InvalidArgument(path_ +
                                     ": the file is a JSON array; JSON Lines is expected: one object per line, no "
                                     "enclosing [ ] (convert it with: jq -c '.[]' FILE > FILE.jsonl)");
    }
    // The columns are the keys of every object: a key may first appear on any line. Lines that
    // do not parse are left to the record pass, which reports them with their line.
    scanning_ = true;
    Record rec;
    bool any = false;
    while (true) {
      auto more = Next(&rec);
      if (more.has_value() && !*more) break;
      any = true;
    }
    scanning_ = false;
    if (!any) return Status::InvalidArgument(path_ + ": empty file; expected one JSON object per line");
    CF_RETURN_IF_ERROR(Rewind());
    if (StartsWith(input_.substr(pos_), "\xEF\xBB\xBF")) pos_ += 3;
    return SetHeader(std::move(keys_));
  }

 protected:
  Result<bool> ReadOne(Record* rec) override {
    ReleaseBefore(pos_);
    std::string_view line;
    if (!NextLine(&line)) return false;
    rec->line = current_line_;
    rec->raw = line;
    const size_t at = static_cast<size_t>(line.data() - input_.data());
    if (check_utf8_ && !Utf8KnownValid(at, at + line.size())) CF_RETURN_IF_ERROR(CheckUtf8(line, current_line_, {}));
    CF_RETURN_IF_ERROR(ParseObject(line, rec));
    return true;
  }
  std::unique_ptr<RecordReader> CloneEmpty() const override { return std::make_unique<JsonLinesReader>(); }
  bool csv_quoting() const override { return false; }

 private:
  bool NextLine(std::string_view* out) {
    while (pos_ < end_) {
      const void* nl = std::memchr(input_.data() + pos_, '\n', end_ - pos_);
      size_t end = nl == nullptr ? end_ : static_cast<size_t>(static_cast<const char*>(nl) - input_.data());
      if (nl == nullptr) hit_end_ = true;
      std::string_view line = Trim(input_.substr(pos_, end - pos_));
      current_line_ = line_;
      pos_ = nl == nullptr ? end_ : end + 1;
      ++line_;
      if (!line.empty()) {
        *out = line;
        return true;
      }
    }
    return false;
  }

  Status Bad(const std::string& why) {
    return Status::InvalidArgument(path_ + ":" + std::to_string(current_line_) + ": " + why);
  }

  // Visits the fields of `obj`, their paths prefixed by `path_buf_` (restored on return).
  Status Walk(simdjson::ondemand::object obj, int depth) {
    constexpr int kMaxDepth = 32;
    if (depth > kMaxDepth) return Bad("objects nested deeper than " + std::to_string(kMaxDepth) + " levels");
    const size_t prefix = path_buf_.size();
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS) return Bad("invalid key");
      path_buf_.resize(prefix);
      if (prefix > 0) path_buf_ += '.';
      path_buf_ += key;
      simdjson::ondemand::value v = field.value();
      simdjson::ondemand::json_type type;
      if (v.type().get(type) != simdjson::SUCCESS) return Bad("invalid value of '" + path_buf_ + "'");
      if (type == simdjson::ondemand::json_type::object) {
        simdjson::ondemand::object inner;
        if (v.get_object().get(inner) != simdjson::SUCCESS) return Bad("invalid object in '" + path_buf_ + "'");
        CF_RETURN_IF_ERROR(Walk(inner, depth + 1));
        continue;
      }
      if (type == simdjson::ondemand::json_type::array) continue;  // not a column; skipped unread
      if (scanning_) {
        if (seen_.insert(path_buf_).second) keys_.push_back(path_buf_);
        continue;
      }
      auto it = index_.find(path_buf_);
      if (it == index_.end()) continue;
      std::string_view text;
      switch (type) {
        case simdjson::ondemand::json_type::string: {
          std::string_view s;
          if (v.get_string().get(s) != simdjson::SUCCESS) return Bad("invalid string in '" + path_buf_ + "'");
          size_t at = storage_.size();
          storage_ += s;
          text = std::string_view(storage_).substr(at, s.size());
          break;
        }
        case simdjson::ondemand::json_type::null:
          break;
        default:
          text = Trim(v.raw_json_token());
          break;
      }
      values_[static_cast<size_t>(it->second)] = text;
    }
    path_buf_.resize(prefix);
    return Status::OK();
  }

  Status ParseObject(std::string_view line, Record* rec) {
    padded_.assign(line.begin(), line.end());
    padded_.resize(line.size() + simdjson::SIMDJSON_PADDING, '\0');
    values_.assign(header_.size(), std::string_view());
    storage_.clear();
    // Strings are unescaped into storage_, which must not move while values point into it.
    storage_.reserve(line.size() + 16);
    path_buf_.clear();
    try {
      simdjson::ondemand::document doc = parser_.iterate(padded_.data(), line.size(), padded_.size());
      simdjson::ondemand::object obj;
      if (doc.get_object().get(obj) != simdjson::SUCCESS) {
        return Bad("expected a JSON object ({\"column\": value, ...})");
      }
      CF_RETURN_IF_ERROR(Walk(obj, 0));
    } catch (const simdjson::simdjson_error& e) {
      return Bad(std::string("invalid JSON: ") + e.what());
    }
    rec->fields = values_;
    return Status::OK();
  }

  uint64_t current_line_ = 0;
  bool scanning_ = false;
  std::vector<std::string> keys_;
  std::unordered_set<std::string> seen_;
  std::string path_buf_;
  simdjson::ondemand::parser parser_;
  std::string padded_;
  std::string storage_;
  std::vector<std::string_view> values_;
};

Result<std::string> ReadFileTail(const std::string& path, size_t n) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Err(Status::IOError("cannot open " + path + ": " + std::strerror(errno)));
  std::string out(n, '\0');
  const off_t size = ::lseek(fd, 0, SEEK_END);
  ssize_t got = size >= static_cast<off_t>(n) ? ::pread(fd, out.data(), n, size - static_cast<off_t>(n)) : 0;
  ::close(fd);
  out.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return out;
}

Status UnknownEncoding(const SourceOptions& s) {
  return Status::InvalidArgument("unknown encoding '" + s.encoding + "' for " + s.path +
                                 " (valid: utf-8, latin1, windows-1252)");
}

// 0 = UTF-8 (validated), 1 = Latin-1, 2 = Windows-1252, -1 = unknown.
int EncodingCode(const std::string& name) {
  std::string e = ToLower(name);
  if (e.empty() || e == "utf-8" || e == "utf8") return 0;
  if (e == "latin1" || e == "latin-1" || e == "iso-8859-1" || e == "iso8859-1") return 1;
  if (e == "windows-1252" || e == "cp1252" || e == "win1252") return 2;
  return -1;
}

}  // namespace

Status SourceOptions::Validate() const {
  if (EncodingCode(encoding) < 0) return UnknownEncoding(*this);
  if (!format.empty() && format != "csv" && format != "jsonl") {
    return Status::InvalidArgument("unknown input format '" + format + "' for " + path + " (valid: csv, jsonl)");
  }
  if (delimiter == '"' || delimiter == '\n' || delimiter == '\r') {
    return Status::InvalidArgument("delimiter of " + path + " cannot be a quote or a line break");
  }
  return Status::OK();
}

bool RecordReader::ValidateUtf8Ahead(size_t from, size_t to) {
  if (to <= utf8_invalid_to_) return false;
  // Validate from `from` to the last newline within the next megabyte (a newline is always a
  // character boundary), or to the end.
  size_t cut = std::min(end_, std::max(to, from + kUtf8Ahead));
  if (cut < end_) {
    const void* nl = memrchr(input_.data() + to, '\n', cut - to);
    cut = nl == nullptr ? to : static_cast<size_t>(static_cast<const char*>(nl) - input_.data()) + 1;
  }
  if (simdjson::validate_utf8(input_.data() + from, cut - from)) {
    utf8_valid_from_ = from;
    utf8_valid_to_ = cut;
    return true;
  }
  utf8_invalid_to_ = cut;
  return false;
}

Status RecordReader::CheckUtf8(std::string_view text, uint64_t line, std::span<const std::string_view> fields) const {
  if (IsAscii(text) || simdjson::validate_utf8(text.data(), text.size())) return Status::OK();
  const size_t bad = ValidUtf8Prefix(text);
  const char* at = text.data() + bad;
  // Line and character of the bad byte (the record may span lines).
  size_t line_start = 0;
  for (size_t i = 0; i < bad; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  size_t character = 1;
  for (size_t i = line_start; i < bad; ++i) character += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
  std::string column;
  for (size_t f = 0; f < fields.size() && f < header_.size(); ++f) {
    if (at >= fields[f].data() && at < fields[f].data() + fields[f].size()) column = "column " + header_[f] + ": ";
  }
  const auto byte = static_cast<unsigned char>(*at);
  const bool c1 = byte >= 0x80 && byte < 0xA0;
  return Status::InvalidArgument(
      path_ + ":" + std::to_string(line) + ": " + column + "byte " + Hex(byte) + " at character " +
      std::to_string(character) + " of the line is not valid UTF-8; the file looks " +
      (c1 ? "Windows-1252" : "Latin-1 (ISO-8859-1) or Windows-1252") + "-encoded: set its encoding (" +
      (c1 ? "windows-1252" : "latin1 or windows-1252") + ") to convert it, or save it as UTF-8");
}

int RecordReader::ColumnIndex(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? -1 : it->second;
}

uint64_t RecordReader::bytes_done() const { return stream_ != nullptr ? stream_->consumed() : pos_; }

Result<bool> RecordReader::Next(Record* rec) {
  while (true) {
    const size_t start = pos_;
    const uint64_t line = line_;
    hit_end_ = false;
    rec->raw = {};
    Result<bool> r = ReadOne(rec);
    if (stream_ != nullptr && !eof_ && (hit_end_ || pos_ >= end_)) {
      // The record may continue past the window: read it again with more input.
      pos_ = start;
      line_ = line;
      if (Status s = Refill(); !s.ok()) {
        eof_ = true;  // the stream cannot go on; what is left in the window is all there is
        return Err(std::move(s));
      }
      continue;
    }
    if (!r.has_value()) last_raw_.assign(rec->raw);
    if (stream_ == nullptr && (pos_ >= hash_at_ || (r.has_value() && !*r))) HashBlocks(r.has_value() && !*r);
    return r;
  }
}

void RecordReader::HashBlocks(bool final) {
  ChecksumState& c = *checksum_;
  const size_t blocks = c.blocks.size();
  // Blocks that start in this reader's range, once it has read past them (a block may reach
  // into the next range: the mapping holds it all).
  while (next_block_ < blocks && next_block_ * kChecksumBlock < end_ &&
         (final || (next_block_ + 1) * kChecksumBlock <= pos_)) {
    const size_t at = next_block_ * kChecksumBlock;
    if (!c.done[next_block_]) {
      c.blocks[next_block_] = HashBlock(input_.data() + at, std::min(kChecksumBlock, input_.size() - at));
      c.done[next_block_] = 1;
    }
    ++next_block_;
  }
  hash_at_ = (next_block_ + 1) * kChecksumBlock;
}

void RecordReader::HashStreamed(std::string_view data, bool final) {
  ChecksumState& c = *checksum_;
  c.size += data.size();
  while (!data.empty()) {
    const size_t take = std::min(kChecksumBlock - c.pending.size(), data.size());
    c.pending.append(data.substr(0, take));
    data.remove_prefix(take);
    if (c.pending.size() == kChecksumBlock) {
      c.blocks.push_back(HashBlock(c.pending.data(), c.pending.size()));
      c.pending.clear();
    }
  }
  if (final && !c.pending.empty()) {
    c.blocks.push_back(HashBlock(c.pending.data(), c.pending.size()));
    c.pending.clear();
  }
}

std::pair<uint64_t, std::string> RecordReader::Checksum() {
  ChecksumState& c = *checksum_;
  if (stream_ == nullptr) {
    for (size_t k = 0; k < c.blocks.size(); ++k) {
      if (c.done[k]) continue;
      const size_t at = k * kChecksumBlock;
      c.blocks[k] = HashBlock(input_.data() + at, std::min(kChecksumBlock, input_.size() - at));
      c.done[k] = 1;
    }
  }
  uint64_t h = HashBlock(reinterpret_cast<const char*>(c.blocks.data()), c.blocks.size() * sizeof(uint64_t)) ^
               (c.size * 0x9E3779B97F4A7C15ULL);
  h = HashBlock(reinterpret_cast<const char*>(&h), sizeof h);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return {c.size, hex};
}

Status RecordReader::Refill() {
  if (pos_ > 0) {
    window_.erase(0, pos_);
    pos_ = 0;
  }
  // A record longer than the window doubles it.
  const size_t want = std::max(kWindow, window_.size());
  const size_t old = window_.size();
  window_.resize(old + want);
  Result<size_t> got = stream_->Read(window_.data() + old, want);
  if (!got.has_value()) {
    window_.resize(old);
    return got.error();
  }
  window_.resize(old + *got);
  if (*got == 0) eof_ = true;
  HashStreamed(std::string_view(window_).substr(old), eof_);
  input_ = window_;
  end_ = window_.size();
  utf8_valid_from_ = utf8_valid_to_ = utf8_invalid_to_ = 0;  // positions moved with the window
  return Status::OK();
}

Status RecordReader::Rewind() {
  if (stream_ == nullptr) {
    pos_ = 0;
    line_ = 1;
    return Status::OK();
  }
  CF_ASSIGN_OR_RETURN(stream_, reopen_());
  *checksum_ = ChecksumState();
  window_.clear();
  pos_ = 0;
  line_ = 1;
  eof_ = false;
  return Refill();
}

void RecordReader::ReleaseBefore(size_t pos) {
  if (!mapped_ || pos < released_ + kReleaseEvery) return;
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t base = reinterpret_cast<uintptr_t>(input_.data());
  const uintptr_t from = (base + released_ + page - 1) / page * page;
  const uintptr_t to = (base + pos) / page * page;
  if (to > from) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
  released_ = pos;
}

std::vector<std::unique_ptr<RecordReader>> RecordReader::Split(int parts) {
  const char* s = input_.data();
  const size_t start = pos_;
  const auto clone = [&](size_t begin, size_t end, uint64_t line) {
    std::unique_ptr<RecordReader> r = CloneEmpty();
    r->path_ = path_;
    r->header_ = header_;
    r->index_ = index_;
    r->input_ = input_;
    r->keep_alive_ = keep_alive_;
    r->mapped_ = mapped_;
    r->check_utf8_ = check_utf8_;
    r->delimiter_ = delimiter_;
    r->bytes_total_ = bytes_total_;
    r->decoded_size_hint_ = decoded_size_hint_;
    r->checksum_ = checksum_;
    r->next_block_ = (begin + kChecksumBlock - 1) / kChecksumBlock;
    r->hash_at_ = (r->next_block_ + 1) * kChecksumBlock;
    r->released_ = begin;
    r->pos_ = begin;
    r->end_ = end;
    r->line_ = line;
    return r;
  };
  std::vector<std::unique_ptr<RecordReader>> out;
  const size_t span = end_ - start;
  size_t begin = start;
  uint64_t begin_line = line_;
  bool in_quotes = false;  // at `begin`
  size_t scanned = start;  // quote parity and newlines are known up to here
  for (int i = 1; i <= parts && begin < end_; ++i) {
    size_t target = i == parts ? end_ : start + span / static_cast<size_t>(parts) * static_cast<size_t>(i);
    if (target <= begin) continue;
    size_t cut = end_;
    if (target < end_) {
      // Quote parity and newlines up to `target` (memchr runs at memory speed), then a short
      // walk to the first newline outside quotes.
      uint64_t lines = CountByte(s + scanned, s + target, '\n');
      if (csv_quoting() && CountByte(s + scanned, s + target, '"') % 2 == 1) in_quotes = !in_quotes;
      size_t p = target;
      for (; p < end_; ++p) {
        char c = s[p];
        if (c == '"' && csv_quoting()) {
          in_quotes = !in_quotes;
        } else if (c == '\n') {
          ++lines;
          if (!in_quotes) {
            ++p;
            break;
          }
        }
      }
      cut = p;
      scanned = p;
      out.push_back(clone(begin, cut, begin_line));
      begin_line += lines;
    } else {
      out.push_back(clone(begin, end_, begin_line));
    }
    begin = cut;
  }
  end_ = pos_;
  return out;
}

Status RecordReader::SetHeader(std::vector<std::string> header) {
  index_.clear();
  for (size_t i = 0; i < header.size(); ++i) {
    if (!index_.emplace(header[i], static_cast<int>(i)).second) {
      return Status::InvalidArgument(path_ + ":1: duplicated column name '" + header[i] +
                                     "' in the header; every column needs a distinct name");
    }
  }
  header_ = std::move(header);
  return Status::OK();
}

Result<std::unique_ptr<RecordReader>> RecordReader::Open(const SourceOptions& source) {
  CF_RETURN_IF_ERROR(source.Validate());
  if (!PathExists(source.path)) {
    return Err(Status::NotFound("input file " + source.path + " does not exist"));
  }
  if (IsDirectory(source.path)) {
    return Err(
        Status::InvalidArgument("input file " + source.path + " is a directory; expected a CSV or JSON Lines file"));
  }
  // The first bytes tell gzip (whatever the name) and UTF-16 apart.
  unsigned char magic[2] = {0, 0};
  CF_ASSIGN_OR_RETURN(uint64_t file_size, FileSize(source.path));
  {
    CF_ASSIGN_OR_RETURN(std::unique_ptr<ByteStream> head, FileStream::Open(source.path));
    CF_ASSIGN_OR_RETURN(size_t n, head->Read(reinterpret_cast<char*>(magic), 2));
    if (n < 2) magic[0] = magic[1] = 0;
  }
  const bool gzip = magic[0] == 0x1F && magic[1] == 0x8B;
  const int encoding = EncodingCode(source.encoding);
  std::string format = source.format;
  const std::string bare = StripGz(source.path);
  if (format.empty()) {
    if (EndsWith(bare, ".jsonl") || EndsWith(bare, ".ndjson") || EndsWith(bare, ".json")) {
      format = "jsonl";
    } else if (EndsWith(bare, ".csv") || EndsWith(bare, ".tsv") || EndsWith(bare, ".txt")) {
      format = "csv";
    } else {
      // A name that says nothing (events.gz, export.dat): a first character '{' is JSON Lines.
      CF_ASSIGN_OR_RETURN(std::unique_ptr<ByteStream> head,
                          gzip ? GzipStream::Open(source.path) : FileStream::Open(source.path));
      char start[64];
      Result<size_t> n = head->Read(start, sizeof(start));
      const std::string_view text(start, n.has_value() ? *n : 0);
      const size_t first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
      format = first != std::string_view::npos && text[first] == '{' ? "jsonl" : "csv";
    }
  }

  std::unique_ptr<RecordReader> reader;
  if (format == "csv") {
    reader = std::make_unique<CsvReader>();
  } else {
    reader = std::make_unique<JsonLinesReader>();
  }
  RecordReader& r = *reader;
  r.path_ = source.path;
  r.bytes_total_ = file_size;
  r.check_utf8_ = encoding == 0;
  if (!gzip && encoding == 0) {
    CF_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> map, MappedFile::Open(source.path));
    r.input_ = map->view();
    r.keep_alive_ = std::shared_ptr<void>(std::move(map));
    r.mapped_ = true;
    r.end_ = r.input_.size();
    const size_t blocks = (r.input_.size() + kChecksumBlock - 1) / kChecksumBlock;
    r.checksum_->blocks.assign(blocks, 0);
    r.checksum_->done.assign(blocks, 0);
    r.checksum_->size = r.input_.size();
    r.hash_at_ = kChecksumBlock;
    r.decoded_size_hint_ = file_size;
  } else {
    const std::string path = source.path;
    r.reopen_ = [path, gzip, encoding]() -> Result<std::unique_ptr<ByteStream>> {
      CF_ASSIGN_OR_RETURN(std::unique_ptr<ByteStream> s, gzip ? GzipStream::Open(path) : FileStream::Open(path));
      if (encoding != 0) s = std::make_unique<SingleByteToUtf8>(std::move(s), encoding == 2);
      return s;
    };
    r.decoded_size_hint_ = file_size;
    if (gzip) {
      // The gzip trailer holds the decoded size modulo 4 GiB; a decoded file is not smaller than its gzip.
      uint32_t isize = 0;
      CF_ASSIGN_OR_RETURN(std::string tail, ReadFileTail(source.path, 4));
      if (tail.size() == 4) std::memcpy(&isize, tail.data(), 4);
      uint64_t hint = isize;
      while (hint < file_size) hint += uint64_t{1} << 32;
      r.decoded_size_hint_ = hint;
    }
    CF_ASSIGN_OR_RETURN(r.stream_, r.reopen_());
    r.eof_ = false;
    CF_RETURN_IF_ERROR(r.Refill());
  }
  if (encoding == 0 && r.input_.size() >= 2) {
    const auto b0 = static_cast<unsigned char>(r.input_[0]), b1 = static_cast<unsigned char>(r.input_[1]);
    if ((b0 == 0xFF && b1 == 0xFE) || (b0 == 0xFE && b1 == 0xFF)) {
      return Err(Status::InvalidArgument(source.path +
                                         ": the file is UTF-16 (it starts with a UTF-16 byte order mark); save it as "
                                         "UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)"));
    }
  }
  if (format == "csv") {
    CF_RETURN_IF_ERROR(static_cast<CsvReader&>(r).Init(source));
  } else {
    CF_RETURN_IF_ERROR(static_cast<JsonLinesReader&>(r).Init());
  }
  return reader;
}

}  // namespace cf::io
