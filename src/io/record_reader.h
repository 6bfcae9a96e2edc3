// Row-by-row reading of CSV (RFC 4180) and JSON Lines files, optionally gzip-compressed.
//
// Both formats surface the same thing: a header (column names) and records whose fields are
// aligned with it. Errors name the file and line, so that callers can report
// "FILE:LINE: column C: why, value 'V'".
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cf::io {

struct SourceOptions {
  std::string path;    // .csv, .tsv, .jsonl / .ndjson, each optionally .gz; "" = none
  char delimiter = 0;  // CSV delimiter; 0 = ',' (or '\t' for .tsv)
  std::string format;  // "csv" or "jsonl"; "" = by file extension
};

struct Record {
  uint64_t line = 0;                        // 1-based line where the record starts
  std::span<const std::string_view> fields; // one per header column; "" when empty or absent
};

class RecordReader {
 public:
  // Opens the file and reads its header (CSV: the first record; JSON Lines: the keys of the
  // first object, in order). A duplicated header name is an error.
  static Result<std::unique_ptr<RecordReader>> Open(const SourceOptions& source);
  virtual ~RecordReader() = default;

  const std::vector<std::string>& header() const { return header_; }
  const std::string& path() const { return path_; }
  // Index of `name` in the header, or -1.
  int ColumnIndex(std::string_view name) const;

  // Reads the next record into `*record` (valid until the next call). Returns false at the
  // end. A malformed record is an error; the reader can go on after it (skip-bad-rows).
  virtual Result<bool> Next(Record* record) = 0;

  // Progress through the (decompressed) input, in bytes.
  uint64_t bytes_total() const { return input_.size(); }
  uint64_t bytes_done() const { return pos_; }

  // Splits what is left to read into at most `parts` readers over consecutive ranges that
  // begin at record boundaries (a quoted CSV field may hold newlines), each reporting true
  // line numbers, so that the parts can be parsed in parallel. This reader is left at its end.
  std::vector<std::unique_ptr<RecordReader>> Split(int parts);

 protected:
  RecordReader() = default;
  Status SetHeader(std::vector<std::string> header);
  // Lets the kernel drop mapped input pages before `pos`, which no record points into any
  // more, so reading a file larger than memory costs no more than a window of it.
  void ReleaseBefore(size_t pos);
  // A reader of the same kind and settings, positioned by Split.
  virtual std::unique_ptr<RecordReader> CloneEmpty() const = 0;
  // True when '"' quotes fields that may hold newlines (CSV).
  virtual bool csv_quoting() const = 0;

  std::string path_;
  std::vector<std::string> header_;
  std::string_view input_;   // the whole decompressed input
  size_t end_ = 0;           // this reader stops here (a split reader reads a range)
  size_t pos_ = 0;           // next byte to read
  uint64_t line_ = 1;        // line of the byte at pos_
  std::shared_ptr<void> keep_alive_;  // owns the memory `input_` points into
  bool mapped_ = false;               // input_ is a file mapping (not a heap buffer)
  size_t released_ = 0;               // input before this offset was handed back
};

// Whole-file input: a memory map for plain files, a decompressed buffer for .gz. Exposed
// for tools that scan raw bytes (benchmarks).
Result<std::pair<std::string_view, std::shared_ptr<void>>> LoadInput(const std::string& path);

}  // namespace cf::io
