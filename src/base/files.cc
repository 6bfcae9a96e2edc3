#include "base/files.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/log.h"

namespace cf {
namespace {

Status Errno(std::string_view what, const std::string& path) {
  return Status::IOError(std::string(what) + " " + path + ": " + std::strerror(errno));
}

// The process id in "<base><infix><pid>[-<n>]", or 0 when `name` is not of that form.
pid_t PidInName(std::string_view name, std::string_view base, std::string_view infix, bool numbered) {
  if (name.size() <= base.size() + infix.size() || name.substr(0, base.size()) != base ||
      name.substr(base.size(), infix.size()) != infix) {
    return 0;
  }
  std::string_view rest = name.substr(base.size() + infix.size());
  const size_t dash = rest.find('-');
  if (numbered != (dash != std::string_view::npos)) {
    return 0;
  }
  const std::string_view pid = rest.substr(0, dash);
  const std::string_view n = numbered ? rest.substr(dash + 1) : std::string_view("0");
  auto digits = [](std::string_view d) {
    return !d.empty() && d.size() < 10 && std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(pid) || !digits(n)) {
    return 0;
  }
  return static_cast<pid_t>(std::stol(std::string(pid)));
}

bool ProcessHasEnded(pid_t pid) { return pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH; }

// What an interrupted write of `path` left beside it, by the names AtomicFileWriter,
// MakeTempDirBeside and ReplaceDirectory give (each carries its process id): a temporary
// "<path>.tmp-<pid>-<n>" of a process that has ended is removed; "<path>.old-<pid>" is the
// previous version, moved aside by a ReplaceDirectory that did not finish: put back when
// `path` is missing, else removed. Entries of live processes (and of this one) are left alone.
void ClearLeftoversBeside(const std::string& path) {
  const std::filesystem::path p(path);
  const std::string base = p.filename().string();
  const std::filesystem::path parent = p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path();
  std::error_code ec;
  std::filesystem::directory_iterator it(parent, ec);
  if (ec || base.empty()) {
    return;  // the caller's own create reports a missing or unreadable directory
  }
  std::vector<std::string> temps, olds;
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (const pid_t pid = PidInName(name, base, ".tmp-", true); pid > 0 && ProcessHasEnded(pid)) {
      temps.push_back(it->path().string());
    } else if (const pid_t old = PidInName(name, base, ".old-", false); old > 0 && ProcessHasEnded(old)) {
      olds.push_back(it->path().string());
    }
  }
  for (const std::string& old : olds) {
    if (!PathExists(path) && ::rename(old.c_str(), path.c_str()) == 0) {
      CF_LOG_WARN("{} was missing: put back its previous version {}, left by an interrupted replacement", path, old);
    } else if (RemoveAll(old).ok()) {
      CF_LOG_INFO("removed {}, the previous version of {} left by an interrupted replacement", old, path);
    }
  }
  for (const std::string& tmp : temps) {
    if (RemoveAll(tmp).ok()) {
      CF_LOG_INFO("removed {}, left by an interrupted write of {} (its process has ended)", tmp, path);
    }
  }
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Err(Errno("cannot open", path));
  }
  std::string out;
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Errno("cannot read", path);
      ::close(fd);
      return Err(s);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status WriteFileAtomic(const std::string& path, std::string_view data, unsigned mode) {
  CF_ASSIGN_OR_RETURN(std::unique_ptr<AtomicFileWriter> out, AtomicFileWriter::Create(path, mode));
  CF_RETURN_IF_ERROR(out->Append(data));
  return out->Commit();
}

Result<std::unique_ptr<AtomicFileWriter>> AtomicFileWriter::Create(const std::string& path, unsigned mode) {
  static std::atomic<uint64_t> counter{0};
  ClearLeftoversBeside(path);
  std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) {
    return Err(Errno("cannot create", tmp));
  }
  std::unique_ptr<AtomicFileWriter> out(new AtomicFileWriter(path, std::move(tmp), fd));
  // The umask may have taken bits away, never added any: the mode asked for is the mode kept.
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    return Err(out->Fail(Errno("cannot set the mode of", out->tmp_)));
  }
  return out;
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    (void)Fail(Status::OK());
  }
}

Status AtomicFileWriter::Fail(Status s) {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  ::unlink(tmp_.c_str());
  return s;
}

Status AtomicFileWriter::Append(std::string_view data) {
  if (fd_ < 0) {
    return Status::FailedPrecondition("cannot write " + tmp_ + ": the file was already committed or abandoned");
  }
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(Errno("cannot write", tmp_));
    }
    done += static_cast<size_t>(n);
  }
  written_ += data.size();
  // Start the writeback of each whole 8 MB as it is written, without waiting for it: the
  // disk works while the caller makes the next pieces. Only a hint; Commit's fsync is what
  // makes the file durable, and reports any error.
  constexpr uint64_t kWriteback = uint64_t{8} << 20;
  if (written_ - flushed_ >= kWriteback) {
    const uint64_t upto = written_ / kWriteback * kWriteback;
#if defined(__linux__)
    (void)::sync_file_range(fd_, static_cast<off_t>(flushed_), static_cast<off_t>(upto - flushed_),
                            SYNC_FILE_RANGE_WRITE);
#endif
    flushed_ = upto;
  }
  return Status::OK();
}

Status AtomicFileWriter::Commit() {
  if (fd_ < 0) {
    return Status::FailedPrecondition("cannot commit " + tmp_ + ": the file was already committed or abandoned");
  }
  if (::fsync(fd_) != 0) {
    return Fail(Errno("cannot sync", tmp_));
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    return Fail(Errno("cannot sync", tmp_));
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    return Fail(Errno("cannot rename into", path_));
  }
  return Status::OK();
}

Status WriteRows(size_t rows, const std::function<void(size_t row, std::string* out)>& format,
                 AtomicFileWriter* out, size_t rows_per_piece) {
  const size_t per_piece = std::max<size_t>(1, rows_per_piece);
  const size_t chunks = (rows + per_piece - 1) / per_piece;
  auto format_chunk = [&](size_t k, std::string* text) {
    text->clear();
    for (size_t r = k * per_piece; r < std::min(rows, (k + 1) * per_piece); ++r) {
      format(r, text);
    }
  };
  const size_t threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, std::max<size_t>(chunks, 1));
  if (threads <= 1) {
    std::string text;
    for (size_t k = 0; k < chunks; ++k) {
      format_chunk(k, &text);
      CF_RETURN_IF_ERROR(out->Append(text));
    }
    return Status::OK();
  }
  // The formatters take chunks in turn, at most `ahead` beyond the one being written (so the
  // memory stays a few pieces whatever the rows), and this thread writes them in order as
  // they are done: writing overlaps formatting, and no 100 MB string is built and copied.
  const size_t ahead = 2 * threads;
  std::mutex mu;
  std::condition_variable changed;
  std::vector<std::string> text(chunks);
  std::vector<uint8_t> done(chunks, 0);
  size_t next = 0, writing = 0;
  bool failed = false;
  auto formatter = [&] {
    std::unique_lock lock(mu);
    for (;;) {
      changed.wait(lock, [&] { return failed || next >= chunks || next < writing + ahead; });
      if (failed || next >= chunks) {
        return;
      }
      const size_t k = next++;
      std::string piece = std::move(text[k]);  // a buffer handed back by the writer, or empty
      lock.unlock();
      format_chunk(k, &piece);
      lock.lock();
      text[k] = std::move(piece);
      done[k] = 1;
      changed.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back(formatter);
  }
  Status status;
  {
    std::unique_lock lock(mu);
    for (; writing < chunks; ++writing) {
      changed.wait(lock, [&] { return done[writing] != 0; });
      std::string piece = std::move(text[writing]);
      lock.unlock();
      status = out->Append(piece);
      lock.lock();
      if (!status.ok()) {
        failed = true;
        changed.notify_all();
        break;
      }
      // The written piece's buffer serves a later chunk: its pages are touched once.
      if (writing + ahead < chunks) {
        text[writing + ahead] = std::move(piece);
      }
      changed.notify_all();
    }
  }
  for (std::thread& th : pool) {
    th.join();
  }
  return status;
}

Result<FileLock> FileLock::Exclusive(const std::string& path) {
  for (;;) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return FileLock(-1);
    FileLock lock(fd);
    if (::flock(fd, LOCK_EX) != 0) return Err(Errno("cannot lock", path));
    struct stat held {
    }, now{};
    if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev) {
      return lock;
    }
  }
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<uint64_t> FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Err(Errno("cannot stat", path));
  }
  return static_cast<uint64_t>(st.st_size);
}

Status CreateDirectories(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return Status::IOError("cannot create directory " + path + ": " + ec.message());
  }
  return Status::OK();
}

Status RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) {
    return Status::IOError("cannot remove " + path + ": " + ec.message());
  }
  return Status::OK();
}

Status FsyncDirectory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Errno("cannot open directory", path);
  }
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::OK() : Errno("cannot sync directory", path);
}

Status ReplaceDirectory(const std::string& from, const std::string& to) {
  std::string parent = std::filesystem::path(to).parent_path().string();
  // One step where the file system can swap the two names: `to` is never missing, and `from`
  // then holds the previous version (a temporary name: left by a kill, it is cleared later).
  if (PathExists(to) && ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_EXCHANGE) == 0) {
    CF_RETURN_IF_ERROR(FsyncDirectory(parent.empty() ? "." : parent));
    return RemoveAll(from);
  }
  // Elsewhere, two renames, the previous version moved aside as "<to>.old-<pid>" between them
  // (put back by the next write of `to` if this process dies in between).
  std::string old;
  if (PathExists(to)) {
    old = to + ".old-" + std::to_string(::getpid());
    if (::rename(to.c_str(), old.c_str()) != 0) {
      return Errno("cannot move aside", to);
    }
  }
  if (::rename(from.c_str(), to.c_str()) != 0) {
    Status s = Errno("cannot rename into", to);
    if (!old.empty()) ::rename(old.c_str(), to.c_str());
    return s;
  }
  CF_RETURN_IF_ERROR(FsyncDirectory(parent.empty() ? "." : parent));
  if (!old.empty()) {
    return RemoveAll(old);
  }
  return Status::OK();
}

Result<std::string> MakeTempDirBeside(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  std::filesystem::path p(path);
  std::string parent = p.parent_path().string();
  if (!parent.empty()) {
    CF_RETURN_IF_ERROR(CreateDirectories(parent));
  }
  ClearLeftoversBeside(path);
  std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  CF_RETURN_IF_ERROR(RemoveAll(tmp));
  CF_RETURN_IF_ERROR(CreateDirectories(tmp));
  return tmp;
}

TempDirectory::TempDirectory(std::string_view label) {
  static std::atomic<uint64_t> counter{0};
  const char* tmp = std::getenv("TMPDIR");
  path_ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/cf-" + std::string(label) + "-" +
          std::to_string(::getpid()) + "-" + std::to_string(counter++);
  status_ = RemoveAll(path_);
  if (status_.ok()) status_ = CreateDirectories(path_);
}

TempDirectory::~TempDirectory() { (void)RemoveAll(path_); }

Result<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Err(Errno("cannot open", path));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = Errno("cannot stat", path);
    ::close(fd);
    return Err(s);
  }
  auto f = std::unique_ptr<MappedFile>(new MappedFile());
  f->path_ = path;
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ > 0) {
    void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      Status s = Errno("cannot map", path);
      ::close(fd);
      return Err(s);
    }
    f->data_ = static_cast<const char*>(p);
  }
  ::close(fd);
  return f;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) {
    ::munmap(const_cast<char*>(data_), size_);
  }
}

}  // namespace cf
