#include "io/record_reader.h"

#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <simdjson.h>

#include <cstring>
#include <unordered_set>

#include "base/files.h"
#include "base/strings.h"

namespace cf::io {
namespace {

constexpr size_t kGzipChunk = 1 << 20;
constexpr size_t kReleaseEvery = 64 << 20;

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

bool IsGzip(const std::string& path) { return EndsWith(ToLower(path), ".gz"); }

std::string StripGz(const std::string& path) {
  return IsGzip(path) ? ToLower(path.substr(0, path.size() - 3)) : ToLower(path);
}

Result<std::string> Gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Err(Status::IOError("cannot open " + path));
  }
  gzbuffer(f, kGzipChunk);
  std::string out;
  while (true) {
    size_t old = out.size();
    out.resize(old + kGzipChunk);
    int n = gzread(f, out.data() + old, kGzipChunk);
    if (n < 0) {
      int errnum = 0;
      std::string msg = gzerror(f, &errnum);
      gzclose(f);
      return Err(Status::InvalidArgument(path + ": not a valid gzip file (" + msg + ")"));
    }
    out.resize(old + static_cast<size_t>(n));
    if (n == 0) break;
  }
  gzclose(f);
  return out;
}

// RFC 4180 CSV. Quoted fields may hold delimiters, doubled quotes and newlines.
class CsvReader final : public RecordReader {
 public:
  Status Init(const SourceOptions& source) {
    char d = source.delimiter;
    if (d == 0) {
      d = EndsWith(StripGz(source.path), ".tsv") ? '\t' : ',';
    }
    delim_ = d;
    if (StartsWith(input_, "\xEF\xBB\xBF")) pos_ = 3;  // UTF-8 byte order mark
    Record rec;
    CF_ASSIGN_OR_RETURN(bool has, ReadRecord(&rec, /*expected=*/0));
    if (!has) {
      return Status::InvalidArgument(path_ + ": empty file; expected a header line with column names");
    }
    std::vector<std::string> header;
    for (std::string_view f : rec.fields) header.emplace_back(Trim(f));
    return SetHeader(std::move(header));
  }

  Result<bool> Next(Record* rec) override {
    ReleaseBefore(pos_);
    return ReadRecord(rec, header_.size());
  }

 protected:
  std::unique_ptr<RecordReader> CloneEmpty() const override {
    auto r = std::make_unique<CsvReader>();
    r->delim_ = delim_;
    return r;
  }
  bool csv_quoting() const override { return true; }

 private:
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
    rec->line = line_;
    fields_.clear();
    scratch_.clear();
    while (true) {
      if (pos_ < n && s[pos_] == '"') {
        // Quoted field: copy into scratch only when it holds doubled quotes.
        size_t start = ++pos_;
        size_t end = start;
        bool doubled = false;
        while (true) {
          const void* q = pos_ < n ? std::memchr(s + pos_, '"', n - pos_) : nullptr;
          if (q == nullptr) {
            pos_ = n;
            return Err(Status::InvalidArgument(path_ + ":" + std::to_string(rec->line) +
                                               ": unterminated quoted field (a '\"' opens a field that never closes)"));
          }
          size_t qp = static_cast<size_t>(static_cast<const char*>(q) - s);
          for (size_t k = pos_; k < qp; ++k) {
            if (s[k] == '\n') ++line_;
          }
          if (qp + 1 < n && s[qp + 1] == '"') {
            doubled = true;
            pos_ = qp + 2;
            continue;
          }
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
        if (pos_ < n && s[pos_] != delim_ && s[pos_] != '\n' && s[pos_] != '\r') {
          return BadAfterQuote(rec->line);
        }
      } else {
        size_t start = pos_;
        while (pos_ < n && s[pos_] != delim_ && s[pos_] != '\n') {
          ++pos_;
        }
        size_t end = pos_;
        if (end > start && s[end - 1] == '\r' && (pos_ >= n || s[pos_] == '\n')) --end;
        fields_.emplace_back(s + start, end - start);
      }
      if (pos_ < n && s[pos_] == delim_) {
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
    unescaped_.clear();
    rec->fields = fields_;
    if (expected > 0 && fields_.size() != expected) {
      // Keep going past this record if the caller skips it.
      return Err(Status::InvalidArgument(path_ + ":" + std::to_string(rec->line) + ": expected " +
                                         std::to_string(expected) + " fields as in the header, found " +
                                         std::to_string(fields_.size())));
    }
    return true;
  }

  Result<bool> BadAfterQuote(uint64_t line) {
    // Resynchronise at the end of the line so skip-bad-rows can continue.
    const char* s = input_.data();
    while (pos_ < end_ && s[pos_] != '\n') ++pos_;
    if (pos_ < end_) {
      ++pos_;
      ++line_;
    }
    return Err(Status::InvalidArgument(path_ + ":" + std::to_string(line) +
                                       ": characters after a closing quote (quote the whole field and "
                                       "double any quote inside it)"));
  }

  struct Unescaped {
    size_t field, at, len;
  };
  char delim_ = ',';
  std::vector<std::string_view> fields_;
  std::vector<Unescaped> unescaped_;
  std::string scratch_;
};

// JSON Lines: one object per line; values that are strings are unescaped, numbers and
// booleans keep their text, null and absent keys are empty.
class JsonLinesReader final : public RecordReader {
 public:
  Status Init() {
    // The header is the keys of the first object.
    size_t save_pos = pos_;
    uint64_t save_line = line_;
    std::string_view line;
    if (!NextLine(&line)) {
      return Status::InvalidArgument(path_ + ": empty file; expected one JSON object per line");
    }
    std::vector<std::string> header;
    CF_RETURN_IF_ERROR(ParseObject(line, &header, nullptr));
    pos_ = save_pos;
    line_ = save_line;
    CF_RETURN_IF_ERROR(SetHeader(std::move(header)));
    index_.reserve(header_.size());
    return Status::OK();
  }

  Result<bool> Next(Record* rec) override {
    ReleaseBefore(pos_);
    std::string_view line;
    if (!NextLine(&line)) return false;
    rec->line = current_line_;
    CF_RETURN_IF_ERROR(ParseObject(line, nullptr, rec));
    return true;
  }


 protected:
  std::unique_ptr<RecordReader> CloneEmpty() const override { return std::make_unique<JsonLinesReader>(); }
  bool csv_quoting() const override { return false; }

 private:
  bool NextLine(std::string_view* out) {
    while (pos_ < end_) {
      size_t nl = input_.substr(0, end_).find('\n', pos_);
      size_t end = nl == std::string_view::npos ? end_ : nl;
      std::string_view line = Trim(input_.substr(pos_, end - pos_));
      current_line_ = line_;
      pos_ = nl == std::string_view::npos ? end_ : nl + 1;
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

  // Fills `keys` (header discovery) or `rec` (values aligned with the header).
  Status ParseObject(std::string_view line, std::vector<std::string>* keys, Record* rec) {
    padded_.assign(line.begin(), line.end());
    padded_.resize(line.size() + simdjson::SIMDJSON_PADDING, '\0');
    if (rec != nullptr) {
      values_.assign(header_.size(), std::string_view());
      storage_.clear();
      storage_.reserve(line.size() + 16);
    }
    try {
      simdjson::ondemand::document doc = parser_.iterate(padded_.data(), line.size(), padded_.size());
      simdjson::ondemand::object obj;
      if (doc.get_object().get(obj) != simdjson::SUCCESS) {
        return Bad("expected a JSON object ({\"column\": value, ...})");
      }
      for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) return Bad("invalid key");
        simdjson::ondemand::value v = field.value();
        if (keys != nullptr) {
          keys->emplace_back(key);
          continue;
        }
        int col = ColumnIndex(key);
        if (col < 0) continue;  // keys absent from the first line are not columns
        std::string_view text;
        switch (v.type()) {
          case simdjson::ondemand::json_type::string: {
            std::string_view s;
            if (v.get_string().get(s) != simdjson::SUCCESS) return Bad("invalid string in '" + std::string(key) + "'");
            size_t at = storage_.size();
            storage_ += s;
            text = std::string_view(storage_).substr(at, s.size());
            break;
          }
          case simdjson::ondemand::json_type::null:
            break;
          case simdjson::ondemand::json_type::number:
          case simdjson::ondemand::json_type::boolean:
            text = Trim(v.raw_json_token());
            break;
          default:
            return Bad("column '" + std::string(key) + "': nested arrays and objects are not supported");
        }
        values_[static_cast<size_t>(col)] = text;
      }
    } catch (const simdjson::simdjson_error& e) {
      return Bad(std::string("invalid JSON: ") + e.what());
    }
    if (rec != nullptr) rec->fields = values_;
    return Status::OK();
  }

  uint64_t current_line_ = 0;
  simdjson::ondemand::parser parser_;
  std::string padded_;
  std::string storage_;
  std::vector<std::string_view> values_;
  std::vector<int> index_;
};

}  // namespace

Result<std::pair<std::string_view, std::shared_ptr<void>>> LoadInput(const std::string& path) {
  if (!PathExists(path)) {
    return Err(Status::NotFound("input file " + path + " does not exist"));
  }
  if (IsGzip(path)) {
    CF_ASSIGN_OR_RETURN(std::string data, Gunzip(path));
    auto owned = std::make_shared<std::string>(std::move(data));
    std::string_view view(*owned);
    return std::make_pair(view, std::shared_ptr<void>(owned));
  }
  CF_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> map, MappedFile::Open(path));
  std::string_view view = map->view();
  return std::make_pair(view, std::shared_ptr<void>(std::move(map)));
}

int RecordReader::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < header_.size(); ++i) {
    if (header_[i] == name) return static_cast<int>(i);
  }
  return -1;
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
    r->input_ = input_;
    r->keep_alive_ = keep_alive_;
    r->mapped_ = mapped_;
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
  std::unordered_set<std::string> seen;
  for (const std::string& h : header) {
    if (!seen.insert(h).second) {
      return Status::InvalidArgument(path_ + ":1: duplicated column name '" + h +
                                     "' in the header; every column needs a distinct name");
    }
  }
  header_ = std::move(header);
  return Status::OK();
}

Result<std::unique_ptr<RecordReader>> RecordReader::Open(const SourceOptions& source) {
  std::string format = source.format;
  std::string bare = StripGz(source.path);
  if (format.empty()) {
    format = EndsWith(bare, ".jsonl") || EndsWith(bare, ".ndjson") || EndsWith(bare, ".json") ? "jsonl" : "csv";
  }
  if (format != "csv" && format != "jsonl") {
    return Err(Status::InvalidArgument("unknown input format '" + format + "' for " + source.path +
                                       " (valid: csv, jsonl)"));
  }
  CF_ASSIGN_OR_RETURN(auto input, LoadInput(source.path));
  const auto attach = [&](RecordReader* r) {
    r->path_ = source.path;
    r->input_ = input.first;
    r->keep_alive_ = input.second;
    r->mapped_ = !IsGzip(source.path);
    r->end_ = r->input_.size();
  };
  if (format == "csv") {
    auto csv = std::make_unique<CsvReader>();
    attach(csv.get());
    CF_RETURN_IF_ERROR(csv->Init(source));
    return csv;
  }
  auto jl = std::make_unique<JsonLinesReader>();
  attach(jl.get());
  CF_RETURN_IF_ERROR(jl->Init());
  return jl;
}

}  // namespace cf::io
