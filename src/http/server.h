// A small HTTP/1.1 server, event-driven (Boost.Beast over Asio): an I/O thread reads requests
// asynchronously, a pool of threads runs the handlers (which may block), the most recently idle
// thread first. The handler's thread writes what the socket takes of the answer without
// blocking, the I/O thread the rest. A slow or silent client holds a socket and a timer, never
// a thread. Boost stays inside server.cc, so code that includes this header may also include
// Eigen.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"

namespace cf::http {

struct Request {
  std::string method;
  std::string path;  // percent-decoded
  std::string body;
  std::string remote_addr;
  bool tls = false;  // the request came over TLS (this server's, not a proxy's)
  // The regular expression's capture groups of the route that matched, [0] is the whole path.
  std::vector<std::string> matches;
  std::vector<std::pair<std::string, std::string>> query;    // in order of appearance
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent
  // For the fallback of a request that could not be read (400, 413, 431): what was wrong,
  // naming the header or limit, e.g. "two different Content-Length headers (5 and 7)".
  std::string error;

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
// limit (413), unreadable request (400), headers over the limit (431), a handler that threw
// (500). Gets that status. Every such answer but the 404 and the 500 closes the connection.
using FallbackHandler = std::function<Response(const Request&, int status)>;

struct ServerOptions {
  int threads = 16;                         // handler threads: at most this many handlers run at once
  int io_threads = 1;                       // threads reading requests and writing answers
  size_t keep_alive_max_count = 100000;     // requests per connection before it is closed
  int keep_alive_timeout_seconds = 5;       // an idle keep-alive connection is closed after this
  size_t max_body_bytes = 8 * 1024 * 1024;  // larger bodies get 413 before a byte of them is read
  size_t max_header_bytes = 16 * 1024;      // request line and headers; larger ones get 431
  int header_timeout_seconds = 10;          // request line and headers must arrive within this
  int read_timeout_seconds = 30;            // the whole body must arrive within this after its headers
  int write_timeout_seconds = 30;           // an answer must be taken by the client within this
  int max_connections = 2048;               // open connections; more are answered 503 and closed
  int max_connections_per_client = 256;     // open connections from one IP address; likewise
  int listen_backlog = 1024;                // connections the kernel queues before accept()
  // TLS: the certificate chain and its private key, PEM files; both or neither (default: plain
  // HTTP). With TLS the port speaks only HTTPS: a plain HTTP client is closed after its handshake fails.
  std::string tls_cert_file;
  std::string tls_key_file;

  Status Validate() const;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // `pattern` is a regular expression over the whole path, e.g. "/partners/([^/]+)/cohorts".
  // A GET route answers HEAD too (without the body).
  void Route(std::string_view method, const std::string& pattern, Handler handler);
  void SetFallback(FallbackHandler handler);
  // Every route as (method, pattern), in the order they were added: what a test walks so that
  // no route escapes it.
  std::vector<std::pair<std::string, std::string>> Routes() const;
  // A test seam below the socket, for fuzzing: reads one request from `bytes` with the parser,
  // limits and checks a connection uses, and answers it with the routes or the fallback (in the
  // calling thread, without Bind()). Status 0: the bytes end before the request does (a
  // connection would wait for more, then close without an answer).
  Response AnswerBytes(std::string_view bytes);

  // Binds to host:port (port 0: any free port) and returns the bound port. Fails when another
  // socket listens on that port: the port is never shared (no SO_REUSEPORT).
  Result<int> Bind(const std::string& host, int port);
  // Serves until Stop(); call after Bind(). Returns once the answers in progress are written.
  // With the environment variable CF_HTTP_ROUTES_FILE set, first writes Routes() to that file,
  // one "METHOD PATTERN" a line: how the route walk reads the table of a real server process.
  Status Run();
  // Safe from any thread, and from a signal-watching thread; before, during or after Run().
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Stops `server` at SIGINT or SIGTERM, from a thread of its own (no work inside a signal
// handler). Blocks both signals in the constructing thread; threads started afterwards inherit
// that, so construct it before the program starts other threads (the server's start in Run()).
// Destroying it ends that thread first, so keep it until the server is destroyed: declared
// after the server, it goes first.
class SignalWatcher {
 public:
  explicit SignalWatcher(Server& server);
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;
  ~SignalWatcher();

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Splits "host:port" ("127.0.0.1:4000", "[::1]:80"); the port must be 0..65535.
Result<std::pair<std::string, int>> ParseListenAddress(std::string_view text);

}  // namespace cf::http
