// A raw loopback TCP connection for cross-process tests of the HTTP servers: what a hostile or
// slow client controls byte by byte (tests/http/socket_test.cc, tests/engage/tls_test.cc).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace cf::test {

class RawSocket {
 public:
  explicit RawSocket(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~RawSocket() {
    if (fd_ >= 0) close(fd_);
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  struct Read {
    std::string data;
    bool closed = false;  // the server closed (or reset) the connection
    double seconds = 0;
  };

  // Reads until the server closes the connection or `timeout_s` passes.
  Read ReadUntilClosed(double timeout_s) {
    return ReadWhile(timeout_s, [](const std::string&) { return true; });
  }

  // Reads until `data` holds `answers` complete answers (headers and Content-Length body).
  Read ReadAnswers(double timeout_s, int answers = 1) {
    return ReadWhile(timeout_s, [answers](const std::string& data) { return CompleteAnswers(data) < answers; });
  }

  static int CompleteAnswers(const std::string& data) {
    int n = 0;
    size_t pos = 0;
    while (true) {
      size_t end = data.find("\r\n\r\n", pos);
      if (end == std::string::npos) return n;
      size_t length = 0;
      size_t cl = data.find("Content-Length: ", pos);
      if (cl != std::string::npos && cl < end) length = std::stoul(data.substr(cl + 16, 20));
      if (data.compare(pos, 12, "HTTP/1.1 100") == 0) length = 0;
      if (data.size() < end + 4 + length) return n;
      if (data.compare(pos, 12, "HTTP/1.1 100") != 0) ++n;
      pos = end + 4 + length;
    }
  }

 private:
  template <typename More>
  Read ReadWhile(double timeout_s, More more) {
    Read r;
    auto start = std::chrono::steady_clock::now();
    char buf[65536];
    while (more(r.data)) {
      double left = timeout_s - Since(start);
      if (left <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) continue;
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        r.closed = true;
        break;
      }
      r.data.append(buf, static_cast<size_t>(n));
    }
    r.seconds = Since(start);
    return r;
  }

  static double Since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace cf::test
