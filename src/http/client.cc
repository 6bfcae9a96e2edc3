#include "http/client.h"

#include <curl/curl.h>

#include <mutex>

#include "base/strings.h"

namespace cf::http {

namespace {

size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t AppendHeader(char* data, size_t size, size_t n, void* user) {
  std::string_view line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
    headers->emplace_back(ToLower(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1))));
  }
  return size * n;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::string ClientResponse::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return "";
}

Client::Client(std::string base_url, ClientOptions options) : base_url_(std::move(base_url)), options_(options) {
  GlobalInit();
  curl_ = curl_easy_init();
}

Client::~Client() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<ClientResponse> Client::Send(std::string_view method, std::string_view path, std::string_view body,
                                    const std::vector<std::pair<std::string, std::string>>& headers) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return Err(Status::Internal("libcurl could not create a handle"));
  curl_easy_reset(curl);  // keeps the connection cache, drops the previous request's options
  ClientResponse out;
  std::string url = base_url_ + std::string(path);
  std::string method_str(method);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method_str.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_cert_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_cert_file.c_str());
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, AppendHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out.headers);
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);  // else curl waits for the Content-Length bytes
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_slist* list = nullptr;
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    if (ToLower(k) == "content-type") has_type = true;
    list = curl_slist_append(list, (k + ": " + v).c_str());
  }
  if (!has_type) list = curl_slist_append(list, "Content-Type: application/json");
  // curl would otherwise wait a second for "100 Continue" on bodies over 1 KiB.
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(list);
  if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM) {
    // Not transient: retrying an untrusted certificate only delays the error.
    return Err(Status::FailedPrecondition(method_str + " " + url + ": " + curl_easy_strerror(rc) +
                                          " (the server's certificate is not trusted: trust its CA with ca_cert_file)"));
  }
  if (rc != CURLE_OK) {
    return Err(Status::Unavailable(method_str + " " + url + ": " + curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

}  // namespace cf::http
