// Files: whole-file reads, atomic writes, read-only memory maps, directories.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cf {

Result<std::string> ReadFile(const std::string& path);
// Writes to a temporary file beside `path` (created with `mode`, e.g. 0600 for secrets), fsyncs,
// then renames over `path`.
Status WriteFileAtomic(const std::string& path, std::string_view data, unsigned mode = 0644);

// A file written piece by piece and replaced atomically, as WriteFileAtomic does in one call:
// the pieces go to a temporary file beside `path`, whose writeback to the disk starts as they
// arrive (so Commit's fsync waits only for the last few megabytes); Commit fsyncs it and
// renames it over `path`. Destroyed without a successful Commit, it removes the temporary and
// `path` keeps what it held. A process killed while writing leaves its temporary
// "<path>.tmp-<pid>-<n>"; the next Create of `path` removes those whose process has ended.
class AtomicFileWriter {
 public:
  static Result<std::unique_ptr<AtomicFileWriter>> Create(const std::string& path, unsigned mode = 0644);
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  Status Append(std::string_view data);
  Status Commit();

 private:
  AtomicFileWriter(std::string path, std::string tmp, int fd) : path_(std::move(path)), tmp_(std::move(tmp)), fd_(fd) {}
  Status Fail(Status s);  // closes and removes the temporary, returns s

  std::string path_, tmp_;
  int fd_ = -1;
  uint64_t written_ = 0, flushed_ = 0;  // bytes written; bytes whose writeback was started
};

// Appends rows [0, rows), formatted by `format` (which appends one row to the string it is
// given), to `out` in row order. Pieces of `rows_per_piece` rows are formatted on all cores
// while the ones before them are written: a million rows of scores are ~100 MB of text, most
// of a scoring command's time when formatted on one core or gathered whole before writing.
Status WriteRows(size_t rows, const std::function<void(size_t row, std::string* out)>& format,
                 AtomicFileWriter* out, size_t rows_per_piece = 16384);
bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);
Result<uint64_t> FileSize(const std::string& path);
Status CreateDirectories(const std::string& path);
Status RemoveAll(const std::string& path);
// Renames `from` (a MakeTempDirBeside(to)) over `to`; a directory `to` is replaced and the old
// one removed. Where the file system can exchange two names (ext4, xfs, btrfs, tmpfs), `to` is
// never missing; elsewhere a kill between two renames leaves the old one as "<to>.old-<pid>",
// which the next MakeTempDirBeside(to) puts back.
Status ReplaceDirectory(const std::string& from, const std::string& to);
// A fresh directory beside `path` named "<path>.tmp-<pid>-<n>". First clears what interrupted
// writes of `path` left beside it, as AtomicFileWriter::Create does.
Result<std::string> MakeTempDirBeside(const std::string& path);
Status FsyncDirectory(const std::string& path);

// An exclusive flock(2) on a file or directory for one read-modify-write, so that two writers at
// once (two terminals, a script, a console) both land instead of the second dropping the first.
// The lock is on the inode; an atomic write replaces the inode, so a waiter that wakes up holding
// the lock of a replaced file takes the lock of the new one instead. A missing `path` is not
// locked (held() is false): the caller reports it by name.
class FileLock {
 public:
  static Result<FileLock> Exclusive(const std::string& path);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock();
  bool held() const { return fd_ >= 0; }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

// A fresh, empty directory "$TMPDIR/cf-<label>-<pid>-<n>" (TMPDIR defaults to /tmp), removed
// with everything in it when the object goes away. For tests and scratch work.
class TempDirectory {
 public:
  explicit TempDirectory(std::string_view label);
  ~TempDirectory();
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;

  const std::string& path() const { return path_; }
  // False when the directory could not be created (see status()).
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

 private:
  std::string path_;
  Status status_;
};

// A read-only memory map of a whole file; empty files map to an empty view.
class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  std::string path_;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace cf
