#include "console/jobs.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "http/password.h"

namespace cf::console {

using nlohmann::json;

void JobProgress::Set(double fraction, std::string message, json detail) {
  std::lock_guard<std::mutex> lock(mu_);
  fraction_ = std::clamp(fraction, 0.0, 1.0);
  message_ = std::move(message);
  if (!detail.is_null()) detail_ = std::move(detail);
}

Jobs::~Jobs() {
  std::map<std::string, std::shared_ptr<Job>> jobs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs = jobs_;
  }
  for (auto& [id, job] : jobs) {
    if (job->thread.joinable()) job->thread.join();
  }
}

Result<std::string> Jobs::Start(std::string kind, Work work) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, job] : jobs_) {
    if (job->kind == kind && job->state == "running") {
      return Err(Status::FailedPrecondition("a " + kind + " job is running (job " + id +
                                            "); wait for it to finish before starting another"));
    }
  }
  // Forget the oldest finished jobs past kKept: a long-running console must not grow without bound.
  while (jobs_.size() >= kKept) {
    auto oldest = jobs_.end();
    for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
      if (it->second->state != "running" && (oldest == jobs_.end() || it->second->order < oldest->second->order)) {
        oldest = it;
      }
    }
    if (oldest == jobs_.end()) break;
    // Finished: its thread has set the state and needs mu_ no more, so this join is short.
    if (oldest->second->thread.joinable()) oldest->second->thread.join();
    jobs_.erase(oldest);
  }
  auto job = std::make_shared<Job>();
  job->id = http::RandomHex(16);
  job->kind = std::move(kind);
  job->order = started_++;
  jobs_[job->id] = job;
  job->thread = std::thread([this, job, work = std::move(work)] {
    Result<json> result = Err(Status::Internal("the job did not run"));
    try {
      result = work(job->progress);
    } catch (const std::exception& e) {
      result = Err(Status::Internal(std::string("the job failed: ") + e.what()));
    }
    std::lock_guard<std::mutex> done(mu_);
    if (result.has_value()) {
      job->result = std::move(*result);
      job->state = "done";
      job->progress.Set(1.0, "done");
    } else {
      job->error = result.error().message();
      job->state = "failed";
    }
  });
  return job->id;
}

json Jobs::Describe(const Job& job) const {
  json out;
  {
    std::lock_guard<std::mutex> lock(job.progress.mu_);
    out = {{"id", job.id},
           {"kind", job.kind},
           {"state", job.state},
           {"fraction", job.progress.fraction_},
           {"message", job.progress.message_},
           {"detail", job.progress.detail_}};
  }
  if (job.state == "done") out["result"] = job.result;
  if (job.state == "failed") out["error"] = job.error;
  return out;
}

Result<json> Jobs::Get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return Err(Status::NotFound("no job has id " + id + " (finished jobs are kept a while)"));
  return Describe(*it->second);
}

void Jobs::Wait(const std::string& id) {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = jobs_.find(id);
      if (it == jobs_.end() || it->second->state != "running") return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace cf::console
