// A small HTTP server interface over cpp-httplib. httplib.h stays inside server.cc, so code
// that includes this header may also include Eigen (the two clash on a glibc macro).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace cf::http {

struct Request {
  std::string method;
  std::string path;
  std::string body;
  std::string remote_addr;
  // The regular expression's capture groups of the route that matched, [0] is the whole path.
  std::vector<std::string> matches;
  std::vector<std::pair<std::string, std::string>> query;    // in order of appearance
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent

  // The first query parameter called `name`, or "" when absent.
  std::string Query(std::string_view name) const;
  bool HasQuery(std::string_view name) const;
  // The first header called `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

using Handler = std::function<Response(const Request&)>;
// Builds the answer for requests that no handler answered: no route (404), body over the
// limit (413), unparsable request (400), a handler that threw (500). Gets that status.
using FallbackHandler = std::function<Response(const Request&, int status)>;

struct ServerOptions {
  int threads = 16;                         // worker threads (blocking handlers, keep-alive)
  size_t keep_alive_max_count = 100000;     // requests per connection before it is closed
  int keep_alive_timeout_seconds = 5;       // idle keep-alive lifetime; Stop() waits for it
  size_t max_body_bytes = 8 * 1024 * 1024;  // larger bodies get 413 without being read
  int read_timeout_seconds = 30;            // per socket read
  int write_timeout_seconds = 30;           // per socket write
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // `pattern` is a regular expression over the whole path, e.g. "/partners/([^/]+)/cohorts".
  void Route(std::string_view method, const std::string& pattern, Handler handler);
  void SetFallback(FallbackHandler handler);

  // Binds to host:port (port 0: any free port) and returns the bound port.
  Result<int> Bind(const std::string& host, int port);
  // Serves until Stop(); call after Bind().
  Status Run();
  // Safe from any thread, and from a signal-watching thread.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits "host:port" ("127.0.0.1:4000", "[::1]:80"); the port must be 0..65535.
Result<std::pair<std::string, int>> ParseListenAddress(std::string_view text);

}  // namespace cf::http
