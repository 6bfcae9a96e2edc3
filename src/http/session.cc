#include "http/session.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "base/strings.h"
#include "http/password.h"

namespace cf::http {

namespace {

constexpr size_t kSweepAbove = 10000;  // failure windows kept before the ended ones are dropped

}  // namespace

Status SignInOptions::Validate() const {
  auto positive = [](const char* name, int64_t v) {
    return v > 0 ? Status::OK()
                 : Status::InvalidArgument(std::string(name) + " must be at least 1, not " + std::to_string(v));
  };
  CF_RETURN_IF_ERROR(positive("session_idle_seconds", session_idle_seconds));
  CF_RETURN_IF_ERROR(positive("session_max_seconds", session_max_seconds));
  CF_RETURN_IF_ERROR(positive("failures_per_email", failures_per_email));
  CF_RETURN_IF_ERROR(positive("failures_per_client", failures_per_client));
  return positive("failure_window_seconds", failure_window_seconds);
}

Result<std::string> MemorySessionStore::Create(const std::string& email, const std::string& workspace) {
  const int64_t now = clock_.NowSeconds();
  std::string token = RandomHex(32);
  std::lock_guard<std::mutex> lock(mu_);
  // Expired sessions go when a new one comes: the map holds at most the sessions of one
  // expiry period, and only sign-ins with a correct password add to it.
  std::erase_if(sessions_, [&](const auto& kv) {
    return now - kv.second.last_seen >= idle_seconds_ || now - kv.second.created_at >= max_seconds_;
  });
  sessions_[token] = Session{email, workspace, RandomHex(32), now, now};
  return token;
}

Result<std::optional<SessionStore::Session>> MemorySessionStore::Touch(const std::string& token) {
  const int64_t now = clock_.NowSeconds();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return std::optional<Session>();
  if (now - it->second.last_seen >= idle_seconds_ || now - it->second.created_at >= max_seconds_) {
    sessions_.erase(it);
    return std::optional<Session>();
  }
  it->second.last_seen = now;
  return std::optional<Session>(it->second);
}

Status MemorySessionStore::Remove(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(token);
  return Status::OK();
}

bool CsrfTokenMatches(const SessionStore::Session& session, std::string_view presented) {
  const std::string& want = session.csrf_token;
  return !want.empty() && presented.size() == want.size() &&
         CRYPTO_memcmp(presented.data(), want.data(), want.size()) == 0;
}

int64_t MemorySignInLimiter::Wait(std::map<std::string, Window>& windows, const std::string& key, int64_t limit,
                            int64_t now) {
  auto it = windows.find(key);
  if (it == windows.end()) return 0;
  const int64_t end = it->second.start + options_.failure_window_seconds;
  if (now >= end) {
    windows.erase(it);
    return 0;
  }
  return it->second.failures >= limit ? end - now : 0;
}

void MemorySignInLimiter::Count(std::map<std::string, Window>& windows, const std::string& key, int64_t now) {
  // Failures under ever new emails or addresses must not grow the map without bound: past a
  // size, the windows that have ended go.
  if (windows.size() >= kSweepAbove) {
    std::erase_if(windows, [&](const auto& kv) { return now >= kv.second.start + options_.failure_window_seconds; });
  }
  Window& w = windows[key];
  if (w.failures == 0 || now >= w.start + options_.failure_window_seconds) w = Window{now, 0};
  ++w.failures;
}

void MemorySignInLimiter::GiveBack(std::map<std::string, Window>& windows, const std::string& key) {
  auto it = windows.find(key);
  if (it != windows.end() && it->second.failures > 0) --it->second.failures;
}

Result<int64_t> MemorySignInLimiter::Attempt(const std::string& email, const std::string& client) {
  const int64_t now = clock_.NowSeconds();
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t wait = std::max(Wait(by_email_, email, options_.failures_per_email, now),
                                Wait(by_client_, client, options_.failures_per_client, now));
  if (wait > 0) return wait;
  Count(by_email_, email, now);
  Count(by_client_, client, now);
  return 0;
}

Status MemorySignInLimiter::Succeeded(const std::string& email, const std::string& client) {
  std::lock_guard<std::mutex> lock(mu_);
  by_email_.erase(email);
  GiveBack(by_client_, client);
  return Status::OK();
}

Status MemorySignInLimiter::Undo(const std::string& email, const std::string& client) {
  std::lock_guard<std::mutex> lock(mu_);
  GiveBack(by_email_, email);
  GiveBack(by_client_, client);
  return Status::OK();
}

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view part = Trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    const size_t eq = part.find('=');
    if (eq != std::string_view::npos && Trim(part.substr(0, eq)) == name) return std::string(Trim(part.substr(eq + 1)));
  }
  return "";
}

}  // namespace cf::http
