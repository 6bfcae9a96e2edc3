// Row-by-row reading of CSV (RFC 4180) and JSON Lines files, optionally gzip-compressed.
//
// Both formats surface the same thing: a header (column names) and records whose fields are
// aligned with it. Errors name the file and line, so that callers can report
// "FILE:LINE: column C: why, value 'V'".
//
// Text must be UTF-8: the first invalid byte is an error naming its line, column and position,
// unless the source declares a single-byte encoding (Latin-1, Windows-1252), which is then
// converted to UTF-8 while reading. Plain UTF-8 files are memory-mapped and can be split for
// parallel parsing; gzip input (recognised by its magic bytes, whatever the file is called)
// and converted input are streamed through a window of a few megabytes, so memory does not
// grow with the file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace cf::io {

struct SourceOptions {
  std::string path;      // .csv, .tsv, .jsonl / .ndjson / .json, each optionally gzip-compressed; "" = none
  char delimiter = 0;    // CSV delimiter; 0 = ',' (tab for .tsv), or ';', tab or '|' when the header uses only that
  std::string format;    // "csv" or "jsonl"; "" = by file extension
  std::string encoding;  // "" or "utf-8" (validated), "latin1" (ISO-8859-1), "windows-1252" (converted)

  Status Validate() const;
};

struct Record {
  uint64_t line = 0;                         // 1-based line where the record starts
  std::span<const std::string_view> fields;  // one per header column; "" when empty or absent
  std::string_view raw;                      // the record's text as it is in the (decoded) input
};

// Where bytes come from when the input is streamed (gzip, converted encodings).
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Fills up to `n` bytes; 0 at the end of the stream.
  virtual Result<size_t> Read(char* out, size_t n) = 0;
  // Bytes of the underlying file consumed so far (compressed bytes for gzip).
  virtual uint64_t consumed() const = 0;
};

class RecordReader {
 public:
  // Opens the file and reads its header (CSV: the first record; JSON Lines: the union of the
  // keys of all objects, in order of first appearance, nested objects flattened to dotted
  // paths such as "line.price.amount"). A duplicated header name is an error.
  static Result<std::unique_ptr<RecordReader>> Open(const SourceOptions& source);
  virtual ~RecordReader() = default;

  const std::vector<std::string>& header() const { return header_; }
  const std::string& path() const { return path_; }
  // Index of `name` in the header, or -1.
  int ColumnIndex(std::string_view name) const;
  // The delimiter in use (CSV) and whether it was detected from the header rather than given.
  char delimiter() const { return delimiter_; }
  bool delimiter_detected() const { return delimiter_detected_; }

  // Reads the next record into `*record` (valid until the next call). Returns false at the
  // end. A malformed record is an InvalidArgument error; the reader can go on after it
  // (skip-bad-rows), and `last_raw()` holds the text it could not read. Any other error (a
  // corrupt or truncated gzip stream, a read error) is about the file, and ends it.
  Result<bool> Next(Record* record);
  std::string_view last_raw() const { return last_raw_; }

  // A 64-bit checksum (16 hex digits) of the decoded input, and its size in bytes, gathered
  // while the records are read, so that it costs no second pass over the file. The same text
  // has the same checksum plain or gzip-compressed. Call once this reader (and every reader
  // split from it) has read to its end.
  std::pair<uint64_t, std::string> Checksum();

  // Progress through the input file, in bytes (compressed bytes for gzip).
  uint64_t bytes_total() const { return bytes_total_; }
  uint64_t bytes_done() const;
  // A guess of the decoded size, for reserving memory (exact for plain files; for gzip the
  // size its trailer records, which is modulo 4 GiB).
  uint64_t decoded_size_hint() const { return decoded_size_hint_; }

  // False for streamed input (gzip, converted encodings), which only reads front to back.
  bool splittable() const { return stream_ == nullptr; }
  // Splits what is left to read into at most `parts` readers over consecutive ranges that
  // begin at record boundaries (a quoted CSV field may hold newlines), each reporting true
  // line numbers, so that the parts can be parsed in parallel. This reader is left at its end.
  // Only for splittable readers.
  std::vector<std::unique_ptr<RecordReader>> Split(int parts);

 protected:
  RecordReader() = default;
  Status SetHeader(std::vector<std::string> header);
  // Reads one record from input_[pos_, end_). Sets hit_end_ when it ran into end_ before the
  // record was complete, so that a streamed reader refills and reads it again.
  virtual Result<bool> ReadOne(Record* record) = 0;
  // Lets the kernel drop mapped input pages before `pos`, which no record points into any
  // more, so reading a file larger than memory costs no more than a window of it.
  void ReleaseBefore(size_t pos);
  // A reader of the same kind and settings, positioned by Split.
  virtual std::unique_ptr<RecordReader> CloneEmpty() const = 0;
  // True when '"' quotes fields that may hold newlines (CSV).
  virtual bool csv_quoting() const = 0;
  // The error for the first byte of `text` (a line starting at `line`) that is not UTF-8, or OK.
  Status CheckUtf8(std::string_view text, uint64_t line, std::span<const std::string_view> fields) const;
  // True when input_[from, to) is known to be valid UTF-8: validates ahead a megabyte at a
  // time (at vector speed), so that only records in a block that fails are checked one by one.
  bool Utf8KnownValid(size_t from, size_t to) {
    return (from >= utf8_valid_from_ && to <= utf8_valid_to_) || ValidateUtf8Ahead(from, to);
  }
  bool ValidateUtf8Ahead(size_t from, size_t to);
  // Moves the unread input to the front of the window and appends more from the stream.
  Status Refill();
  // Starts the stream over (JSON Lines reads the file twice: keys first).
  Status Rewind();

  std::string path_;
  std::vector<std::string> header_;
  std::unordered_map<std::string, int> index_;  // header name -> column
  std::string_view input_;                      // the decoded input (mapped file, or the stream's window)
  size_t end_ = 0;                              // this reader stops here (a split reader reads a range)
  size_t pos_ = 0;                              // next byte to read
  uint64_t line_ = 1;                           // line of the byte at pos_
  bool hit_end_ = false;
  bool check_utf8_ = true;  // false when the stream converts to UTF-8 itself
  char delimiter_ = ',';
  bool delimiter_detected_ = false;
  std::shared_ptr<void> keep_alive_;  // owns the mapping `input_` points into
  bool mapped_ = false;               // input_ is a file mapping
  size_t released_ = 0;               // input before this offset was handed back
  uint64_t bytes_total_ = 0;
  uint64_t decoded_size_hint_ = 0;
  std::string last_raw_;
  size_t utf8_valid_from_ = 0, utf8_valid_to_ = 0;  // input_ range known to be valid UTF-8
  size_t utf8_invalid_to_ = 0;                      // records before this are checked one by one

  // The checksum: hashes of fixed blocks of the decoded input, filled by whichever split
  // reader reads past each block (or, streamed, as the input is decoded).
  struct ChecksumState {
    std::vector<uint64_t> blocks;
    std::vector<uint8_t> done;
    uint64_t size = 0;
    std::string pending;  // streamed: the bytes of the block being filled
  };
  void HashBlocks(bool final);
  void HashStreamed(std::string_view data, bool final);
  std::shared_ptr<ChecksumState> checksum_ = std::make_shared<ChecksumState>();
  size_t next_block_ = 0;  // mapped: the first block this reader still has to hash
  size_t hash_at_ = 0;     // mapped: hash blocks once pos_ reaches this

  // Streamed input.
  std::unique_ptr<ByteStream> stream_;
  std::function<Result<std::unique_ptr<ByteStream>>()> reopen_;
  std::string window_;
  bool eof_ = true;
};

}  // namespace cf::io
