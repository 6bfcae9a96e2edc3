#include "http/server.h"

#include <httplib.h>
#include <strings.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "base/log.h"
#include "base/strings.h"

namespace cf::http {

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

struct Server::Impl {
  ServerOptions options;
  httplib::Server server;
  FallbackHandler fallback;
  // Stop() may come before Run() has started listening (a signal right after start): these
  // two flags, each written by one side and read by the other, make sure it is not lost.
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> run_active{false};
};

namespace {

Request Convert(const httplib::Request& in) {
  Request out;
  out.method = in.method;
  out.path = in.path;
  out.body = in.body;
  out.remote_addr = in.remote_addr;
  for (const auto& m : in.matches) out.matches.emplace_back(m.str());
  for (const auto& [k, v] : in.params) out.query.emplace_back(k, v);
  for (const auto& [k, v] : in.headers) out.headers.emplace_back(k, v);
  return out;
}

void Write(const Response& in, httplib::Response* out) {
  out->status = in.status;
  for (const auto& [k, v] : in.headers) out->set_header(k, v);
  out->set_content(in.body, in.content_type);
}

}  // namespace

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  auto& s = impl_->server;
  // The defaults (no TCP_NODELAY, 5 requests per connection, 8 threads) give ~300 req/s.
  s.set_tcp_nodelay(true);
  s.set_keep_alive_max_count(options.keep_alive_max_count);
  s.set_keep_alive_timeout(options.keep_alive_timeout_seconds);
  s.set_payload_max_length(options.max_body_bytes);
  s.set_read_timeout(options.read_timeout_seconds, 0);
  s.set_write_timeout(options.write_timeout_seconds, 0);
  const int threads = options.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  // cpp-httplib calls this for every status >= 400, including the ones our handlers set:
  // only answers that have no body yet (no route, 413, parse errors) are ours to fill.
  httplib::Server::HandlerWithResponse on_error = [impl = impl_.get()](const httplib::Request& req,
                                                                       httplib::Response& res) {
    if (!res.body.empty() || !impl->fallback) return httplib::Server::HandlerResponse::Unhandled;
    Write(impl->fallback(Convert(req), res.status), &res);
    return httplib::Server::HandlerResponse::Handled;
  };
  s.set_error_handler(std::move(on_error));
  // A handler that throws is a bug: the fallback answers (with the headers it adds to every
  // answer) and the exception goes to the log, not to the client.
  s.set_exception_handler([impl = impl_.get()](const httplib::Request& req, httplib::Response& res,
                                               std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    CF_LOG_ERROR("{} {}: {}", req.method, req.path, what);
    res.status = 500;
    if (impl->fallback) {
      Write(impl->fallback(Convert(req), 500), &res);
    } else {
      res.set_content("{\"message\":\"internal error\"}", "application/json");
    }
  });
}

Server::~Server() { Stop(); }

void Server::Route(std::string_view method, const std::string& pattern, Handler handler) {
  if (method == "GET") {
    impl_->server.Get(pattern, [h = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
      Write(h(Convert(req)), &res);
    });
    return;
  }
  // Bodies are read here, not by cpp-httplib: its own reading answers 413 to every
  // application/x-www-form-urlencoded body over 8 KiB (curl -d sends that type) and does not
  // hold chunked bodies to the payload limit.
  httplib::Server::HandlerWithContentReader with_body =
      [h = std::move(handler), max = impl_->options.max_body_bytes](
          const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& read) {
        std::string body;
        bool too_large = false;
        // A multipart body is not JSON: it is read within the limit and dropped, so the
        // handler sees an empty body.
        const bool keep = !req.is_multipart_form_data();
        size_t seen = 0;
        httplib::ContentReceiver receive = [&](const char* data, size_t n) {
          seen += n;
          too_large = seen > max;
          if (too_large) return false;
          if (keep) body.append(data, n);
          return true;
        };
        const bool ok = keep ? read(receive) : read([](const httplib::MultipartFormData&) { return true; }, receive);
        if (!ok) {
          // cpp-httplib set 413 (Content-Length over the limit) or 400 (broken body), except
          // for chunked bodies over the limit, which stop here with the rest still unread.
          if (too_large) res.status = 413;
          if (res.status < 400) res.status = 400;
          res.set_header("Connection", "close");
          return;
        }
        Request converted = Convert(req);
        converted.body = std::move(body);
        Write(h(converted), &res);
      };
  if (method == "POST") {
    impl_->server.Post(pattern, std::move(with_body));
  } else if (method == "PUT") {
    impl_->server.Put(pattern, std::move(with_body));
  } else if (method == "DELETE") {
    impl_->server.Delete(pattern, std::move(with_body));
  } else if (method == "PATCH") {
    impl_->server.Patch(pattern, std::move(with_body));
  }
}

void Server::SetFallback(FallbackHandler handler) { impl_->fallback = std::move(handler); }

Result<int> Server::Bind(const std::string& host, int port) {
  int bound = port == 0 ? impl_->server.bind_to_any_port(host) : (impl_->server.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return Err(
        Status::IOError("cannot listen on " + host + ":" + std::to_string(port) + " (address in use or not local?)"));
  }
  return bound;
}

Status Server::Run() {
  impl_->run_active = true;
  if (impl_->stop_requested) {
    impl_->run_active = false;
    return Status::OK();
  }
  bool ok = impl_->server.listen_after_bind();
  impl_->run_active = false;
  if (!ok && !impl_->stop_requested) return Status::IOError("the HTTP server stopped with an error");
  return Status::OK();
}

void Server::Stop() {
  impl_->stop_requested = true;
  if (!impl_->run_active) return;  // Run() has not started, or has ended; it will see the flag
  while (impl_->run_active && !impl_->server.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server.stop();
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
