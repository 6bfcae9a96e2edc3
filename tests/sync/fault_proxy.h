// A test server that stands in front of a real engage and fails on purpose: it answers some
// requests itself (429 with Retry-After, 500, 400), forwards others and then drops the
// connection mid-answer or answers too late, and records every request it received.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cf::sync_test {

enum class Fault {
  kNone,                // forward and answer
  k429,                 // answer 429 with Retry-After: 1, do not forward
  k500,                 // answer 500, do not forward
  k400,                 // answer 400 {"message": "..."}, do not forward
  kCloseBeforeForward,  // read the request, close the connection
  kCloseMidAnswer,      // forward (engage applies it), send half the answer, close
  kSlowAnswer,          // forward, then wait slow_seconds before answering
  kBrazeAnswer,         // forward, then answer as Braze does: 201 {"message":"success"}, no counts
};

class FaultProxy {
 public:
  struct Seen {
    std::string path;
    std::string body;
    Fault fault;
  };
  // Request number n (from 0), its path and body -> what to do with it.
  using Plan = std::function<Fault(int n, const std::string& path, const std::string& body)>;

  FaultProxy(std::string upstream, Plan plan, double slow_seconds = 3);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Seen> seen();

 private:
  void Serve(int fd);

  std::string upstream_;
  Plan plan_;
  double slow_seconds_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> count_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<Seen> seen_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::thread accept_thread_;
};

}  // namespace cf::sync_test
