#include "http/server.h"

#include <pthread.h>
#include <strings.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <regex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "base/files.h"
#include "base/log.h"
#include "base/strings.h"
#include "http/json_answer.h"

namespace cf::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string Request::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return "";
}

bool Request::HasQuery(std::string_view name) const {
  for (const auto& kv : query) {
    if (kv.first == name) return true;
  }
  return false;
}

std::string Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), name.size()) == 0) return v;
  }
  return "";
}

Status ServerOptions::Validate() const {
  auto at_least = [](const char* field, long long value, long long min) -> Status {
    if (value >= min) return Status::OK();
    return Status::InvalidArgument(std::string("server option ") + field + " is " + std::to_string(value) +
                                   ": it must be at least " + std::to_string(min));
  };
  for (const Status& s :
       {at_least("threads", threads, 1), at_least("io_threads", io_threads, 1),
        at_least("keep_alive_max_count", static_cast<long long>(keep_alive_max_count), 1),
        at_least("keep_alive_timeout_seconds", keep_alive_timeout_seconds, 1),
        at_least("max_header_bytes", static_cast<long long>(max_header_bytes), 1024),
        at_least("header_timeout_seconds", header_timeout_seconds, 1),
        at_least("read_timeout_seconds", read_timeout_seconds, 1),
        at_least("write_timeout_seconds", write_timeout_seconds, 1), at_least("max_connections", max_connections, 1),
        at_least("max_connections_per_client", max_connections_per_client, 1),
        at_least("listen_backlog", listen_backlog, 1)}) {
    if (!s.ok()) return s;
  }
  if (tls_cert_file.empty() != tls_key_file.empty()) {
    return Status::InvalidArgument(tls_cert_file.empty()
                                       ? "a TLS key (" + tls_key_file + ") needs its certificate: give both --tls-cert and --tls-key"
                                       : "a TLS certificate (" + tls_cert_file +
                                             ") needs its private key: give both --tls-cert and --tls-key");
  }
  if (max_connections_per_client > max_connections) {
    return Status::InvalidArgument("server option max_connections_per_client (" +
                                   std::to_string(max_connections_per_client) + ") must not be over max_connections (" +
                                   std::to_string(max_connections) + ")");
  }
  return Status::OK();
}

namespace {

// What a session waits for; a stop closes the sessions that wait for their client.
enum class SessionState { kReading, kHandling, kWriting, kClosing };

// After an answer that closes the connection, what the client still sends is read and dropped
// for a while, so that closing with unread bytes (which sends a reset) does not destroy the
// answer before the client has read it. Never parsed: that is what makes smuggling impossible.
constexpr size_t kMaxDrainBytes = 1 << 20;
constexpr int kDrainSeconds = 2;

struct RouteEntry {
  std::string method;
  std::string pattern_text;
  std::regex pattern;
  Handler handler;
};

class Session;

// The handler threads. A job goes to the thread that became idle last (each idle thread waits
// on its own condition variable): with asio::thread_pool, whose shared condition variable
// wakes the longest-idle thread, 4 clients' requests rotated over all 16 threads, each with
// its own malloc arena grown and trimmed again per request (3x the page faults) and cold
// caches. Here the few threads that the load needs stay warm; all `n` still run at once when
// handlers block.
class HandlerPool {
 public:
  explicit HandlerPool(size_t n) {
    for (size_t i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>());
    for (auto& w : workers_) w->thread = std::thread([this, w = w.get()] { Serve(w); });
  }
  ~HandlerPool() { Join(); }

  void Post(std::function<void()> job) {
    Worker* w = nullptr;
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(job));
      if (idle_.empty()) return;
      w = idle_.back();
      idle_.pop_back();
      w->woken = true;
    }
    // Outside the lock, so that the woken thread does not block at once on the mutex still
    // held here. The worker outlives this call: the pool joins its threads before freeing them.
    w->cv.notify_one();
  }

  // Runs what is queued, then ends the threads.
  void Join() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      for (Worker* w : idle_) {
        w->woken = true;
        w->cv.notify_one();
      }
      idle_.clear();
    }
    for (auto& w : workers_) w->thread.join();
  }

 private:
  struct Worker {
    std::thread thread;
    std::condition_variable cv;
    bool woken = false;
  };

  void Serve(Worker* w) {
    std::unique_lock lock(mu_);
    while (true) {
      if (!queue_.empty()) {
        std::function<void()> job = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        try {
          job();
        } catch (const std::exception& e) {
          CF_LOG_ERROR("HTTP handler thread: {}", e.what());
        }
        job = nullptr;  // its captures are released outside the lock
        lock.lock();
        continue;
      }
      if (stopping_) return;
      w->woken = false;
      idle_.push_back(w);
      w->cv.wait(lock, [w] { return w->woken; });
    }
  }

  std::mutex mu_;
  std::deque<std::function<void()>> queue_;
  std::vector<Worker*> idle_;  // the last one became idle last
  std::vector<std::unique_ptr<Worker>> workers_;
  bool stopping_ = false;
};

// Everything the sessions share. `options.io_threads` threads run the I/O context, each
// session on its own strand and the acceptor on another; `options.threads` threads run the
// handlers. `mu` guards what they share.
struct Core {
  ServerOptions options;
  std::vector<RouteEntry> routes;
  FallbackHandler fallback;
  // Declared before `io`, so a session that `io`'s destructor frees can still find them.
  std::mutex mu;
  std::unordered_set<Session*> sessions;
  std::unordered_map<std::string, int> per_client;

  asio::io_context io;
  std::optional<asio::ssl::context> tls;  // set by Bind() when the options name a certificate
  std::optional<HandlerPool> handlers;  // created by Run()
  asio::strand<asio::io_context::executor_type> accept_strand = asio::make_strand(io);
  tcp::acceptor acceptor{accept_strand};
  asio::steady_timer accept_retry{accept_strand};
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> stopping{false};

  void Accept();
  void ShutDown();
  // The route's answer, or the fallback's.
  Response Answer(Request& req) const;
  Response Fallback(const Request& req, int status) const;
};

std::string DecodePercent(std::string_view in, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
      i += 2;
    } else if (plus_is_space && in[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// Method, path, query and headers of a request whose headers were read (perhaps not all).
Request MakeRequest(const bhttp::request<bhttp::string_body>& msg, const std::string& client) {
  Request r;
  r.method = std::string(msg.method_string());
  std::string_view target(msg.target().data(), msg.target().size());
  const size_t q = target.find('?');
  r.path = DecodePercent(target.substr(0, q), false);
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      const size_t amp = rest.find('&');
      std::string_view part = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      if (part.empty()) continue;
      const size_t eq = part.find('=');
      r.query.emplace_back(DecodePercent(part.substr(0, eq), true),
                           eq == std::string_view::npos ? "" : DecodePercent(part.substr(eq + 1), true));
    }
  }
  r.remote_addr = client;
  for (const auto& f : msg) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  return r;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

using RequestParser = bhttp::request_parser<bhttp::string_body>;

// How a read of a request's headers or body ended: go on (status 0), answer `status` with
// `error` and close, or close without an answer (status -1: end of stream, timeout, reset).
// Shared by connections and Server::AnswerBytes, so that the fuzzed path is the served one.
struct ReadOutcome {
  int status = 0;
  std::string error;
};

ReadOutcome AfterHeader(const beast::error_code& ec, const RequestParser& parser, const ServerOptions& options) {
  if (ec == bhttp::error::body_limit) {
    // Beast stops at the Content-Length header: not a byte of the body has been read.
    return {413, "the body of " + std::to_string(parser.content_length().value_or(0)) +
                     " bytes (Content-Length) is over the limit of " + std::to_string(options.max_body_bytes) +
                     " bytes"};
  }
  if (ec == bhttp::error::header_limit) {
    return {431, "the request line and headers are over the limit of " + std::to_string(options.max_header_bytes) +
                     " bytes"};
  }
  if (ec == bhttp::error::multiple_content_length) return {400, "two different Content-Length headers: send one"};
  if (ec == bhttp::error::bad_content_length) {
    return {400, parser.chunked() ? "both Transfer-Encoding: chunked and Content-Length: send one of them"
                                  : "Content-Length is not a non-negative decimal integer"};
  }
  if (ec == bhttp::error::bad_transfer_encoding) {
    return {400, "Transfer-Encoding is sent twice or together with Content-Length: send one of them"};
  }
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return {-1, ""};
  if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
    return {400, "the request is not valid HTTP/1.1 (" + ec.message() + ")"};
  }
  if (ec) return {-1, ""};  // timeout, reset: nobody to answer
  const auto& h = parser.get();
  if (h.count(bhttp::field::transfer_encoding) > 0 && !parser.chunked()) {
    return {400, "Transfer-Encoding " + Quote(std::string(h[bhttp::field::transfer_encoding])) +
                     " is not supported: only chunked"};
  }
  return {};
}

ReadOutcome AfterBody(const beast::error_code& ec, const ServerOptions& options) {
  if (ec == bhttp::error::body_limit) {
    return {413, "the body is over the limit of " + std::to_string(options.max_body_bytes) + " bytes"};
  }
  if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream) return {-1, ""};
  if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
    return {400, "the request body could not be read (" + ec.message() + ")"};
  }
  if (ec) return {-1, ""};
  return {};
}

void SetLimits(RequestParser& parser, const ServerOptions& options) {
  parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  parser.body_limit(options.max_body_bytes);
}

// The request a handler gets from a parser that read a whole message.
Request TakeRequest(RequestParser& parser, const std::string& client, bool tls) {
  auto msg = parser.release();
  Request req = MakeRequest(msg, client);
  req.tls = tls;
  // A multipart body is not JSON: the handler sees an empty one.
  if (!IEquals(req.Header("Content-Type").substr(0, 19), "multipart/form-data")) req.body = std::move(msg.body());
  return req;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Core* core, tcp::socket socket, std::string client)
      : core_(core), stream_(std::move(socket)), client_(std::move(client)) {
    std::lock_guard lock(core_->mu);
    core_->sessions.insert(this);
    ++core_->per_client[client_];
  }
  ~Session() {
    std::lock_guard lock(core_->mu);
    core_->sessions.erase(this);
    if (--core_->per_client[client_] == 0) core_->per_client.erase(client_);
  }

  // The session's strand: every call below runs on it.
  asio::any_io_executor executor() { return stream_.get_executor(); }

  // With TLS the handshake comes first; a client that speaks plain HTTP (or nothing) to a TLS
  // port fails it and is closed, within the header timeout.
  void Start() {
    if (!core_->tls) return ReadHeader();
    tls_.emplace(stream_, *core_->tls);
    stream_.expires_after(std::chrono::seconds(core_->options.header_timeout_seconds));
    tls_->async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        CF_LOG_DEBUG("TLS handshake with {} failed: {}", self->client_, ec.message());
        return self->Close();
      }
      self->ReadHeader();
    });
  }

  // Answers without reading a request (too many connections) and closes.
  void Reject(Response answer) { Write(std::move(answer), true); }

  // A stop: connections that wait for their client close now; the others after their answer.
  void Cancel() {
    if (state_ == SessionState::kReading || state_ == SessionState::kClosing) Close();
  }

 private:
  void ReadHeader() {
    state_ = SessionState::kReading;
    if (core_->stopping) return Close();
    parser_.emplace();
    SetLimits(*parser_, core_->options);
    // A connection waits for its first request's headers header_timeout_seconds, and for a
    // later one's keep_alive_timeout_seconds: slow or silent clients cost a socket, briefly.
    stream_.expires_after(std::chrono::seconds(served_ == 0 ? core_->options.header_timeout_seconds
                                                            : core_->options.keep_alive_timeout_seconds));
    OnStream([&](auto& stream) {
      bhttp::async_read_header(stream, buffer_, *parser_,
                               [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
    });
  }

  void OnHeader(beast::error_code ec) {
    ReadOutcome outcome = AfterHeader(ec, *parser_, core_->options);
    if (outcome.status < 0) return Close();
    if (outcome.status > 0) return Fail(outcome.status, std::move(outcome.error));
    const auto& h = parser_->get();
    head_ = h.method() == bhttp::verb::head;
    version_ = h.version();
    keep_alive_ = h.keep_alive();
    if (IEquals(std::string_view(h[bhttp::field::expect].data(), h[bhttp::field::expect].size()), "100-continue") &&
        !parser_->is_done()) {
      // The client waits for this before it sends the body (curl does, for bodies over 1 KiB).
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(std::chrono::seconds(core_->options.write_timeout_seconds));
      OnStream([&](auto& stream) {
        asio::async_write(stream, asio::buffer(kContinue.data(), kContinue.size()),
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (ec) return self->Close();
                            self->ReadBody();
                          });
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return Dispatch();
    if (auto length = parser_->content_length_remaining()) buffer_.reserve(std::min<size_t>(*length, 64 * 1024));
    stream_.expires_after(std::chrono::seconds(core_->options.read_timeout_seconds));
    OnStream([&](auto& stream) {
      bhttp::async_read(stream, buffer_, *parser_,
                        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
    });
  }

  void OnBody(beast::error_code ec) {
    ReadOutcome outcome = AfterBody(ec, core_->options);
    if (outcome.status < 0) return Close();
    if (outcome.status > 0) return Fail(outcome.status, std::move(outcome.error));
    Dispatch();
  }

  void Dispatch() {
    state_ = SessionState::kHandling;
    stream_.expires_never();
    Request req = TakeRequest(*parser_, client_, tls_.has_value());
    parser_.reset();
    Answer(std::move(req), 0);
  }

  // Answers from the fallback and closes: the rest of the request, if any, is never read.
  void Fail(int status, std::string error) {
    state_ = SessionState::kHandling;
    stream_.expires_never();
    Request req = parser_ ? MakeRequest(parser_->get(), client_) : Request{};
    if (parser_) head_ = parser_->get().method() == bhttp::verb::head;
    req.remote_addr = client_;
    req.tls = tls_.has_value();
    req.error = std::move(error);
    CF_LOG_DEBUG("{} {} from {}: {} {}", req.method, req.path, client_, status, req.error);
    Answer(std::move(req), status);
  }

  // Handlers may block (SQLite), so they run on the handler pool, never on an I/O thread; the
  // session's strand takes over again after the first write of the answer. The work guard
  // keeps Run() serving until it has. (Running them inline on 16 I/O threads instead cost 80 us of CPU per request in
  // thread wake-ups, against 30-45 us this way: docs/benchmarks.md.) `fallback_status` 0:
  // route the request, else answer it with the fallback and close.
  void Answer(Request req, int fallback_status) {
    core_->handlers->Post([self = shared_from_this(), req = std::move(req), fallback_status,
                           guard = asio::make_work_guard(core_->io)]() mutable {
      Response answer = fallback_status == 0 ? self->core_->Answer(req) : self->core_->Fallback(req, fallback_status);
      // While the session is handling, nothing on its strand touches the socket or the answer,
      // so this thread writes what the socket takes at once: the client has its answer without
      // waiting for the I/O thread to wake up. The rest, if any, is written from the strand.
      const bool keep = self->Prepare(std::move(answer), fallback_status != 0);
      beast::error_code ec;
      // TLS records are written from the strand only: the TLS engine holds state that a
      // would-block in the middle of a record must not leave to two threads.
      if (!self->tls_) bhttp::write(self->stream_.socket(), *self->serializer_, ec);
      auto executor = self->executor();
      asio::post(executor, [self = std::move(self), keep, ec, guard = std::move(guard)] {
        self->state_ = SessionState::kWriting;
        if (ec && ec != asio::error::would_block) return self->Close();
        self->WriteRest(keep);
      });
    });
  }

  // Answers from the strand (no handler ran).
  void Write(Response answer, bool close) {
    state_ = SessionState::kWriting;
    WriteRest(Prepare(std::move(answer), close));
  }

  // The message and serializer of `answer`; whether the connection stays open after it. Reads
  // what the strand set before the request was handed over, writes nothing the strand reads.
  bool Prepare(Response answer, bool close) {
    bool keep = !close && keep_alive_ && !core_->stopping && served_ + 1 < core_->options.keep_alive_max_count;
    serializer_.reset();
    res_ = {};
    res_.version(version_ == 10 ? 10 : 11);
    // Beast throws on a status outside 100..999; a handler bug is answered as one.
    res_.result(answer.status >= 100 && answer.status <= 999 ? static_cast<unsigned>(answer.status) : 500u);
    res_.set(bhttp::field::content_type, answer.content_type);
    for (const auto& [k, v] : answer.headers) {
      if (IEquals(k, "Connection")) {
        if (IEquals(v, "close")) keep = false;
        continue;
      }
      if (IEquals(k, "Content-Length") || IEquals(k, "Transfer-Encoding")) continue;  // ours to set
      res_.insert(k, v);
    }
    res_.body() = std::move(answer.body);
    res_.keep_alive(keep);
    res_.prepare_payload();
    if (head_) res_.body().clear();  // Content-Length stays that of the GET answer
    serializer_.emplace(res_);
    return keep;
  }

  // Writes what the serializer has left, then reads the next request or closes.
  void WriteRest(bool keep) {
    auto next = [self = shared_from_this(), keep](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      if (!keep) return self->Linger();
      ++self->served_;
      self->ReadHeader();
    };
    if (serializer_->is_done()) return next({}, 0);
    stream_.expires_after(std::chrono::seconds(core_->options.write_timeout_seconds));
    OnStream([&](auto& stream) { bhttp::async_write(stream, *serializer_, std::move(next)); });
  }

  void Linger() {
    state_ = SessionState::kClosing;
    if (core_->stopping) return Close();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(kDrainSeconds));
    Drain();
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(drain_), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kMaxDrainBytes) return self->Close();
      self->Drain();
    });
  }

  void Close() {
    state_ = SessionState::kClosing;
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  // Calls `f` with the stream that carries HTTP: the TLS stream over the TCP one, or the TCP one.
  // Timeouts are set on the TCP stream either way.
  template <typename F>
  void OnStream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(stream_);
    }
  }

  Core* core_;
  beast::tcp_stream stream_;
  std::optional<asio::ssl::stream<beast::tcp_stream&>> tls_;  // over stream_, when the server has TLS
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  bhttp::response<bhttp::string_body> res_;
  std::optional<bhttp::response_serializer<bhttp::string_body>> serializer_;  // of res_
  std::string client_;
  SessionState state_ = SessionState::kReading;
  size_t served_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_ = false;
  std::array<char, 4096> drain_{};
  size_t drained_ = 0;
};

void Core::Accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping || !acceptor.is_open()) return;
    if (ec) {
      // Out of file descriptors, most likely: retry soon instead of spinning.
      CF_LOG_WARN("accept: {}", ec.message());
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && !stopping) Accept();
      });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    // The handler thread's write of an answer must never block it (asynchronous operations
    // are unaffected by this mode).
    socket.non_blocking(true, ignored);
    auto remote = socket.remote_endpoint(ignored);
    std::string client = ignored ? std::string("unknown") : remote.address().to_string();
    size_t total = 0;
    int mine = 0;
    {
      std::lock_guard lock(mu);
      total = sessions.size();
      auto it = per_client.find(client);
      mine = it == per_client.end() ? 0 : it->second;
    }
    auto session = std::make_shared<Session>(this, std::move(socket), client);
    std::optional<Response> reject;
    if (total >= static_cast<size_t>(options.max_connections)) {
      reject = MessageAnswer(503, "the server has " + std::to_string(options.max_connections) +
                                      " connections open, its limit (max_connections); retry later");
    } else if (mine >= options.max_connections_per_client) {
      reject = MessageAnswer(503, "too many connections from " + client + ": at most " +
                                      std::to_string(options.max_connections_per_client) +
                                      " at once (max_connections_per_client); reuse them (keep-alive)");
    }
    asio::post(session->executor(), [session, reject = std::move(reject)]() mutable {
      if (reject) return session->Reject(std::move(*reject));
      session->Start();
    });
    Accept();
  });
}

void Core::ShutDown() {
  stopping = true;
  beast::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  std::lock_guard lock(mu);
  for (Session* s : sessions) {
    // A session whose last reference is gone (its destructor waits for `mu`) is skipped.
    asio::post(s->executor(), [weak = s->weak_from_this()] {
      if (auto session = weak.lock()) session->Cancel();
    });
  }
}

Response Core::Answer(Request& req) const {
  const std::string_view method = req.method == "HEAD" ? std::string_view("GET") : std::string_view(req.method);
  for (const RouteEntry& route : routes) {
    if (route.method != method) continue;
    std::smatch m;
    if (!std::regex_match(req.path, m, route.pattern)) continue;
    for (const auto& g : m) req.matches.emplace_back(g.str());
    // A handler that throws is a bug: the fallback answers (with the headers it adds to every
    // answer) and the exception goes to the log, not to the client.
    try {
      return route.handler(req);
    } catch (const std::exception& e) {
      CF_LOG_ERROR("{} {}: {}", req.method, req.path, e.what());
    } catch (...) {
      CF_LOG_ERROR("{} {}: unknown exception", req.method, req.path);
    }
    return Fallback(req, 500);
  }
  return Fallback(req, 404);
}

Response Core::Fallback(const Request& req, int status) const {
  if (fallback) {
    try {
      return fallback(req, status);
    } catch (const std::exception& e) {
      CF_LOG_ERROR("fallback for {} {}: {}", req.method, req.path, e.what());
    }
  }
  std::string message = req.error;
  if (message.empty()) message = status == 404 ? "no such endpoint: " + req.method + " " + req.path : "internal error";
  return MessageAnswer(status, message);
}

// Why OpenSSL refused a file, from its error queue ("" when it said nothing).
std::string OpenSslReason(const beast::error_code& ec) {
  std::string reason = ec.message();
  return reason.empty() ? "not a PEM file OpenSSL can read" : reason;
}

// TLS 1.2 and later only; the certificate chain and key from PEM files, checked to match.
Result<asio::ssl::context> TlsContext(const std::string& cert_file, const std::string& key_file) {
  asio::ssl::context context(asio::ssl::context::tls_server);
  context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                      asio::ssl::context::single_dh_use);
  beast::error_code ec;
  if (context.use_certificate_chain_file(cert_file, ec)) {
    return Err(Status::InvalidArgument("--tls-cert " + Quote(cert_file) +
                                       ": cannot read a PEM certificate from it (" + OpenSslReason(ec) + ")"));
  }
  if (context.use_private_key_file(key_file, asio::ssl::context::pem, ec)) {
    return Err(Status::InvalidArgument("--tls-key " + Quote(key_file) + ": cannot read a PEM private key from it (" +
                                       OpenSslReason(ec) + ")"));
  }
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    return Err(Status::InvalidArgument("--tls-key " + Quote(key_file) + " is not the private key of --tls-cert " +
                                       Quote(cert_file) + ": give the key the certificate was made with"));
  }
  return context;
}

// The route table, one "METHOD PATTERN" a line (written atomically: a reader never sees part of it).
Status WriteRoutes(const std::vector<RouteEntry>& routes, const std::string& path) {
  std::string text;
  for (const RouteEntry& r : routes) text += r.method + " " + r.pattern_text + "\n";
  return WriteFileAtomic(path, text);
}

}  // namespace

struct Server::Impl : Core {};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>()) { impl_->options = options; }

Server::~Server() { Stop(); }

void Server::Route(std::string_view method, const std::string& pattern, Handler handler) {
  impl_->routes.push_back({std::string(method), pattern, std::regex(pattern), std::move(handler)});
}

std::vector<std::pair<std::string, std::string>> Server::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const RouteEntry& r : impl_->routes) out.emplace_back(r.method, r.pattern_text);
  return out;
}

void Server::SetFallback(FallbackHandler handler) { impl_->fallback = std::move(handler); }

Response Server::AnswerBytes(std::string_view bytes) {
  const Core& core = *impl_;
  RequestParser parser;
  SetLimits(parser, core.options);
  size_t used = 0;
  // Feeds the parser until `done`, as the socket reads would; bytes that end first are an end of
  // stream in the middle of the message.
  auto feed = [&](auto done) {
    beast::error_code ec;
    while (!done()) {
      if (used == bytes.size()) return beast::error_code(bhttp::error::partial_message);
      const size_t n = parser.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
      used += n;
      if (ec == bhttp::error::need_more) {
        if (n == 0) return beast::error_code(bhttp::error::partial_message);
        ec = {};
      }
      if (ec) return ec;
    }
    return ec;
  };
  const std::string client = "fuzz";
  auto fail = [&](ReadOutcome outcome) {
    if (outcome.status < 0) return Response{0, "", "", {}};
    Request req = MakeRequest(parser.get(), client);
    req.error = std::move(outcome.error);
    return core.Fallback(req, outcome.status);
  };
  ReadOutcome outcome = AfterHeader(feed([&] { return parser.is_header_done(); }), parser, core.options);
  if (outcome.status != 0) return fail(std::move(outcome));
  parser.eager(true);
  outcome = AfterBody(feed([&] { return parser.is_done(); }), core.options);
  if (outcome.status != 0) return fail(std::move(outcome));
  Request req = TakeRequest(parser, client, false);
  return core.Answer(req);
}

Result<int> Server::Bind(const std::string& host, int port) {
  if (Status s = impl_->options.Validate(); !s.ok()) return Err(s);
  if (!impl_->options.tls_cert_file.empty()) {
    CF_ASSIGN_OR_RETURN(auto context, TlsContext(impl_->options.tls_cert_file, impl_->options.tls_key_file));
    impl_->tls.emplace(std::move(context));
  }
  const std::string where = host + ":" + std::to_string(port);
  beast::error_code ec;
  tcp::resolver resolver(impl_->io);
  auto results =
      resolver.resolve(host, std::to_string(port), tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec) {
    return Err(Status::InvalidArgument("cannot listen on " + where + ": host " + Quote(host) +
                                       " is not an address of this machine (" + ec.message() + ")"));
  }
  beast::error_code last;
  for (const auto& entry : results) {
    tcp::acceptor acceptor(impl_->accept_strand);
    if (acceptor.open(entry.endpoint().protocol(), last)) continue;
    // SO_REUSEADDR only lets a restarted server bind while old connections linger in
    // TIME_WAIT; unlike SO_REUSEPORT it never lets two sockets listen on one port.
    acceptor.set_option(asio::socket_base::reuse_address(true), last);
    if (acceptor.bind(entry.endpoint(), last)) continue;
    if (acceptor.listen(impl_->options.listen_backlog, last)) continue;
    impl_->acceptor = std::move(acceptor);
    return static_cast<int>(impl_->acceptor.local_endpoint().port());
  }
  if (last == asio::error::address_in_use) {
    return Err(Status::IOError("cannot listen on " + where +
                               ": the port is in use by another process (stop it, or choose another port)"));
  }
  return Err(Status::IOError("cannot listen on " + where + ": " + (last ? last.message() : "no address found")));
}

Status Server::Run() {
  Core& core = *impl_;
  if (!core.acceptor.is_open())
    return Status::FailedPrecondition("the HTTP server runs only after a successful Bind()");
  if (core.stop_requested) return Status::OK();
  asio::post(core.accept_strand, [&core] { core.Accept(); });
  // Each thread returns once the acceptor is closed and every connection has ended. An
  // exception out of a completion handler is a bug: logged, and the thread serves on.
  auto serve = [&core] {
    while (true) {
      try {
        core.io.run();
        return;
      } catch (const std::exception& e) {
        CF_LOG_ERROR("HTTP server: {}", e.what());
      }
    }
  };
  if (const char* routes_file = std::getenv("CF_HTTP_ROUTES_FILE"); routes_file != nullptr && *routes_file != 0) {
    CF_RETURN_IF_ERROR(WriteRoutes(core.routes, routes_file));
  }
  core.handlers.emplace(static_cast<size_t>(core.options.threads));
  std::vector<std::thread> threads;
  for (int i = 1; i < core.options.io_threads; ++i) threads.emplace_back(serve);
  serve();
  for (auto& t : threads) t.join();
  core.handlers->Join();
  return Status::OK();
}

void Server::Stop() {
  // A Stop() before Run() (a signal right after start) is seen by Run(); one during Run() is
  // queued to the acceptor's strand, which Run() may not have started to run yet.
  impl_->stop_requested = true;
  asio::post(impl_->accept_strand, [core = static_cast<Core*>(impl_.get())] { core->ShutDown(); });
}

namespace {

sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

}  // namespace

SignalWatcher::SignalWatcher(Server& server) {
  const sigset_t signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  thread_ = std::thread([this, &server, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (done_) return;  // woken by the destructor
    CF_LOG_INFO("signal {}: stopping", sig);
    server.Stop();
  });
}

// A detached watcher used to run Stop() while the main thread, its Run() over, destroyed the
// server: Stop's post to the acceptor's strand then touched freed memory (found by ASan).
SignalWatcher::~SignalWatcher() {
  done_ = true;
  pthread_kill(thread_.native_handle(), SIGTERM);  // blocked there: sigwait takes it
  thread_.join();
}

Result<std::pair<std::string, int>> ParseListenAddress(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Err(Status::InvalidArgument("--listen " + Quote(text) + ": expected host:port, e.g. 127.0.0.1:4000"));
  }
  std::string host(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto port = ParseInt64(text.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) {
    return Err(Status::InvalidArgument("--listen " + Quote(text) + ": the port must be a number 0..65535"));
  }
  return std::make_pair(host, static_cast<int>(*port));
}

}  // namespace cf::http
