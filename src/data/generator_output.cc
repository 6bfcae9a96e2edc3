// The generator's buffered output files.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "data/generator_internal.h"

namespace cf::data::generator_internal {

OutFile::~OutFile() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Status OutFile::Open(const std::string& path) {
  path_ = path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    return Status::IOError("cannot create " + path + ": " + std::strerror(errno));
  }
  buf_.reserve(kBufferSize + kSlack);
  return Status::OK();
}

Status OutFile::Close() {
  CF_RETURN_IF_ERROR(Drain());
  if (::fsync(fd_) != 0 || ::close(fd_) != 0) {
    fd_ = -1;
    return Status::IOError("cannot write " + path_ + ": " + std::strerror(errno));
  }
  fd_ = -1;
  return Status::OK();
}

Status OutFile::Drain() {
  size_t done = 0;
  while (done < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Status::IOError("cannot write " + path_ + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  bytes_ += buf_.size();
  buf_.clear();
  return Status::OK();
}

}  // namespace cf::data::generator_internal
