// Errors as values: Status and Result<T> (ARCHITECTURE.md, "Errors are values").
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace codeq {

/// Error categories shared by every layer. api/ maps each to one HTTP status (see api/http_status.h).
enum class StatusCode {
  kOk,
  kInvalidArgument,   // 400: malformed or invalid client input
  kUnauthenticated,   // 401: missing/invalid credentials
  kForbidden,         // 403: authenticated but not allowed (not-owner, missing scope, ...)
  kNotFound,          // 404: unknown id, or an id of another tenant (SPEC D6)
  kConflict,          // 409: wrong state (not-in-progress) or idempotency conflict
  kPayloadTooLarge,   // 413
  kUnavailable,       // 503: the store does not answer (SPEC D8)
  kInternal,          // 500: a bug; never used for client mistakes
};

/// An outcome: kOk, or an error code with a message that is safe to show to clients
/// (SPEC's literal error strings, e.g. "not-owner").
class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status Forbidden(std::string m) { return {StatusCode::kForbidden, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

/// A value of type T or a non-ok Status.
template <typename T>
class Result {
 public:
  // By reference, not by value: a by-value parameter costs one more move of T (a Task is some
  // twenty strings) on every return of a value.
  Result(T&& value) : v_(std::move(value)) {}       // NOLINT: implicit by design
  Result(const T& value) : v_(value) {}             // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: must not be ok

  bool ok() const { return std::holds_alternative<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  /// The error; Status::Ok() when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

/// Result of an operation that returns nothing but can fail.
struct Unit {};
using VoidResult = Result<Unit>;

}  // namespace codeq
