// A blocking HTTP client over libcurl that keeps its connection alive between calls.
// One Client per thread: it is not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace cf::http {

struct ClientOptions {
  long timeout_ms = 30000;         // whole request, connection included
  long connect_timeout_ms = 5000;  // TCP connect
  // https: a PEM file of the certificate authorities to trust instead of the system's (e.g. a
  // self-signed server's certificate). The server's certificate is always verified.
  std::string ca_cert_file;
};

struct ClientResponse {
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased

  // The first header with this lower-case name, or "".
  std::string Header(std::string_view lower_name) const;
};

class Client {
 public:
  // `base_url` like "http://127.0.0.1:4000"; paths are appended to it.
  explicit Client(std::string base_url, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // A transport failure (refused, timeout) is an error; any HTTP status is a response.
  Result<ClientResponse> Send(std::string_view method, std::string_view path, std::string_view body,
                              const std::vector<std::pair<std::string, std::string>>& headers = {});
  Result<ClientResponse> Get(std::string_view path,
                             const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return Send("GET", path, "", headers);
  }
  Result<ClientResponse> Post(std::string_view path, std::string_view body,
                              const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return Send("POST", path, body, headers);
  }

 private:
  std::string base_url_;
  ClientOptions options_;
  void* curl_ = nullptr;  // CURL*, kept for connection reuse
};

}  // namespace cf::http
