// Background work of the console with progress a page can poll (GET /console/api/jobs/{id}):
// planning, exports. Each job runs on its own thread; at most one job of a kind runs at a time,
// so two clicks on "Run plan" never plan twice at once.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "base/status.h"

namespace cf::console {

// What a running job tells its page. Thread-safe.
class JobProgress {
 public:
  // `fraction` is clamped to [0, 1]; `detail` (e.g. per-campaign counts) replaces the last one.
  void Set(double fraction, std::string message, nlohmann::json detail = {});

 private:
  friend class Jobs;
  mutable std::mutex mu_;
  double fraction_ = 0;
  std::string message_ = "starting";
  nlohmann::json detail_ = nlohmann::json::object();
};

class Jobs {
 public:
  using Work = std::function<Result<nlohmann::json>(JobProgress&)>;
  Jobs() = default;
  Jobs(const Jobs&) = delete;
  Jobs& operator=(const Jobs&) = delete;
  // Waits for the running jobs: a job writing a plan directory is never cut off halfway.
  ~Jobs();

  // Runs `work` on its own thread and returns the job's id (32 hex). FailedPrecondition (HTTP
  // 409) naming the kind and the running job's id when a job of `kind` is running.
  Result<std::string> Start(std::string kind, Work work);
  // {"id","kind","state":"running"|"done"|"failed","fraction","message","detail","result"?,"error"?};
  // NotFound naming the id when there is no such job (or it was forgotten, see kKept).
  Result<nlohmann::json> Get(const std::string& id) const;
  // Blocks until the job is no longer running (tests, shutdown).
  void Wait(const std::string& id);

  // Finished jobs kept for their pages to read; older ones are forgotten.
  static constexpr size_t kKept = 100;

 private:
  struct Job {
    std::string id, kind;
    std::string state = "running";
    JobProgress progress;
    nlohmann::json result;
    std::string error;
    size_t order = 0;
    std::thread thread;  // joined when the job is forgotten or the Jobs end
  };
  nlohmann::json Describe(const Job& job) const;  // under mu_

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  size_t started_ = 0;
};

}  // namespace cf::console
