// The HTTP request path below JSON: any bytes as the first request of a connection (request
// line, headers, Content-Length, chunked bodies with extensions and trailers, percent-encoded
// paths and queries) through http::Server::AnswerBytes, the parser, limits and checks that a
// connection uses. Every answer is one the server documents (ServerOptions, FallbackHandler):
// 200 from a route, 400, 404, 413 or 431, or none for bytes that end early; and a body
// handed to a handler is never over the limit.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "http/server.h"

namespace {

constexpr size_t kMaxBody = 4096;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz_http_request: %s\n", what.c_str());
  std::abort();
}

cf::http::Server& TheServer() {
  static cf::http::Server* server = [] {
    cf::http::ServerOptions o;
    o.max_body_bytes = kMaxBody;
    o.max_header_bytes = 2048;
    auto* s = new cf::http::Server(o);
    // Handlers that read every part of the request the way real handlers do.
    auto inspect = [](const cf::http::Request& req) {
      if (req.body.size() > kMaxBody) Die("a body of " + std::to_string(req.body.size()) + " bytes got through");
      std::string seen = req.method + " " + req.path + " " + req.Header("Content-Type") + " " + req.Query("q");
      for (const auto& m : req.matches) seen += m;
      for (const auto& [k, v] : req.query) seen += k + v;
      for (const auto& [k, v] : req.headers) seen += k + v;
      cf::http::Response r;
      r.body = std::to_string(seen.size() + req.body.size());
      return r;
    };
    s->Route("GET", "/items/([^/]+)", inspect);
    s->Route("POST", "/items/([^/]+)", inspect);
    s->Route("POST", "/echo", inspect);
    s->Route("PUT", "/echo", inspect);
    return s;
  }();
  return *server;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const cf::http::Response r = TheServer().AnswerBytes(std::string_view(reinterpret_cast<const char*>(data), size));
  switch (r.status) {
    case 0:
    case 200:
    case 400:
    case 404:
    case 413:
    case 431:
      break;
    default:
      Die("an answer no request should get: " + std::to_string(r.status) + " " + r.body);
  }
  return 0;
}
