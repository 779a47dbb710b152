// How client commands report failure: a Status whose code picks the exit code (SPEC §9.4 as amended
// by issue 6): kInvalidArgument = configuration or usage error (exit 2), anything else = error (exit 1).
#pragma once

#include <string>

#include "domain/status.h"

namespace codeq::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

/// A configuration or usage problem (bad flag value, missing token, unreadable profile): exit 2.
inline Status UsageError(std::string message) { return InvalidArgument(std::move(message)); }
/// Anything that went wrong at run time (the server answered an error, network, I/O): exit 1.
inline Status RunError(std::string message) { return Status(StatusCode::kInternal, std::move(message)); }

/// 0 for ok, 2 for UsageError, 1 otherwise.
inline int ExitCodeFor(const Status& s) {
  if (s.ok()) return kExitOk;
  return s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitError;
}

}  // namespace codeq::cli
