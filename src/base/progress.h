// A progress bar on stderr for long terminal work; silent when stderr is not a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace cf {

// Thread-safe: workers may Add their share as they go.
class Progress {
 public:
  // `total` may be 0 when unknown: then the bar shows a count and a rate only.
  Progress(std::string label, uint64_t total, std::string unit = "");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Cheap to call often: redraws at most ten times a second.
  void Update(uint64_t done);
  void Add(uint64_t delta);
  void Finish();

  static bool Enabled();
  // Forces drawing off (tests, --quiet) or on.
  static void SetEnabled(bool enabled);

 private:
  void Draw(bool final);
  void UpdateLocked(uint64_t done);

  std::mutex mu_;
  std::string label_;
  std::string unit_;
  uint64_t total_;
  uint64_t done_ = 0;
  bool finished_ = false;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace cf
