// Status and Result<T>: how every fallible call in Cohortflow reports failure.
//
// Expected failures (bad input, missing file, unknown user) are values, never exceptions.
// Status is one pointer wide and free on the OK path; Result<T> is std::expected<T, Status>.
#pragma once

#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace cf {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // the caller's input is wrong; the message says what would be valid
  kNotFound,           // a named thing does not exist
  kAlreadyExists,      // a named thing exists and must not be replaced
  kIOError,            // the operating system failed us
  kCorruption,         // stored data does not read back as written
  kUnauthenticated,    // missing or unknown credentials
  kPermissionDenied,   // known credentials without the right
  kResourceExhausted,  // a limit was reached (rate, size)
  kFailedPrecondition, // the system is not in a state where this can run
  kUnavailable,        // transient; retrying may help
  kInternal,           // a bug
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status Unauthenticated(std::string msg) { return {StatusCode::kUnauthenticated, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) { return {StatusCode::kPermissionDenied, std::move(msg)}; }
  static Status ResourceExhausted(std::string msg) { return {StatusCode::kResourceExhausted, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) { return {StatusCode::kFailedPrecondition, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return ok() ? StatusCode::kOk : state_->code; }
  // The message alone, without the code's name; empty when OK.
  const std::string& message() const;
  // "InvalidArgument: message", or "OK".
  std::string ToString() const;

  // A copy whose message is "prefix: message" (same code); OK stays OK.
  Status WithPrefix(std::string_view prefix) const;

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

template <typename T>
using Result = std::expected<T, Status>;

// Lets `return Err(Status::NotFound(...))` work in a function returning Result<T>.
inline std::unexpected<Status> Err(Status s) { return std::unexpected<Status>(std::move(s)); }

// What the macros below return: converts to a Status or to any Result<T>.
class ErrorReturn {
 public:
  explicit ErrorReturn(Status s) : status_(std::move(s)) {}
  operator Status() && { return std::move(status_); }  // NOLINT: implicit on purpose
  template <typename T>
  operator std::expected<T, Status>() && {  // NOLINT: implicit on purpose
    return std::unexpected<Status>(std::move(status_));
  }

 private:
  Status status_;
};

}  // namespace cf

#define CF_CONCAT_INNER_(a, b) a##b
#define CF_CONCAT_(a, b) CF_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define CF_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    ::cf::Status cf_status_ = (expr);            \
    if (!cf_status_.ok()) {                      \
      return ::cf::ErrorReturn(std::move(cf_status_)); \
    }                                            \
  } while (false)

// `CF_ASSIGN_OR_RETURN(auto x, MakeX());` unwraps a Result or returns its error.
#define CF_ASSIGN_OR_RETURN(lhs, expr) CF_ASSIGN_OR_RETURN_IMPL_(CF_CONCAT_(cf_result_, __LINE__), lhs, expr)
#define CF_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.has_value()) {                         \
    return ::cf::ErrorReturn(std::move(tmp).error()); \
  }                                               \
  lhs = std::move(tmp).value()
