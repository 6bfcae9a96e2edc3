#include "base/progress.h"

#include <unistd.h>

#include <cstdio>

namespace cf {
namespace {
int g_forced = -1;  // -1: decide by isatty
}

bool Progress::Enabled() {
  if (g_forced >= 0) return g_forced == 1;
  static const bool tty = ::isatty(STDERR_FILENO) == 1;
  return tty;
}

void Progress::SetEnabled(bool enabled) { g_forced = enabled ? 1 : 0; }

Progress::Progress(std::string label, uint64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), enabled_(Enabled()) {
  start_ = std::chrono::steady_clock::now();
  last_draw_ = start_ - std::chrono::seconds(1);
}

Progress::~Progress() { Finish(); }

void Progress::Update(uint64_t done) {
  std::lock_guard<std::mutex> lock(mu_);
  UpdateLocked(done);
}

void Progress::Add(uint64_t delta) {
  std::lock_guard<std::mutex> lock(mu_);
  UpdateLocked(done_ + delta);
}

void Progress::UpdateLocked(uint64_t done) {
  done_ = done;
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  Draw(false);
}

void Progress::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (enabled_) {
    Draw(true);
    std::fputc('\n', stderr);
  }
}

void Progress::Draw(bool final) {
  constexpr int kWidth = 30;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = secs > 0 ? static_cast<double>(done_) / secs : 0;
  if (total_ > 0) {
    double frac = final ? 1.0 : static_cast<double>(done_) / static_cast<double>(total_);
    if (frac > 1) frac = 1;
    int filled = static_cast<int>(frac * kWidth);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kWidth - filled), '.');
    std::fprintf(stderr, "\r%s [%s] %3.0f%% %llu/%llu %s %.0f/s %.1fs ", label_.c_str(), bar.c_str(), frac * 100,
                 static_cast<unsigned long long>(done_), static_cast<unsigned long long>(total_), unit_.c_str(),
                 rate, secs);
  } else {
    std::fprintf(stderr, "\r%s %llu %s %.0f/s %.1fs ", label_.c_str(), static_cast<unsigned long long>(done_),
                 unit_.c_str(), rate, secs);
  }
  std::fflush(stderr);
}

}  // namespace cf
