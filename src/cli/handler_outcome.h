// The worker handler protocol (SPEC §9.5 as amended by issue 6, documented in docs/cli.md): what a
// finished handler run means for its task.
//
// A handler that exits 0 prints exactly one JSON object on stdout:
//   {"status":"COMPLETED","result":{...},"artifacts":[...]}   → result COMPLETED (result defaults to {})
//   {"status":"FAILED","error":"why","result":{...}}           → result FAILED
//   {"status":"NACK","delaySeconds":30,"reason":"busy"}        → nack (retry later; server backoff
//                                                                 when delaySeconds is absent or 0)
//   {"status":"ABANDON"}                                       → abandon (requeue now, no attempt used)
// Anything else fails the task with a clear error: a non-zero exit ("handler exited with code 3:
// <last stderr line>"), death by a signal, a timeout, or output that is not such an object
// ("handler output invalid: ..."). It never NACKs on such errors (unlike SPEC §9.5), so a broken
// handler cannot spin a task through retries.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cli/handler_process.h"
#include "domain/status.h"

namespace codeq::cli {

/// What the worker posts for a task.
struct Ack {
  enum class Kind { kComplete, kFail, kNack, kAbandon, kNone };
  Kind kind = Kind::kNone;
  boost::json::object result;    // kComplete / kFail (optional for kFail)
  std::string error;             // kFail
  boost::json::array artifacts;  // kComplete / kFail
  int64_t delay_seconds = 0;     // kNack (0 = server backoff)
  std::string reason;            // kNack

  /// "COMPLETED", "FAILED", "NACK", "ABANDONED" or "NONE".
  std::string Name() const;
  /// The request body: result (kComplete/kFail) or nack (kNack); empty object otherwise.
  boost::json::object Body() const;
};

/// Parses handler stdout. Errors (InvalidArgument) carry the detail after "handler output invalid: ".
Result<Ack> ParseHandlerOutput(std::string_view stdout_text);

/// Why the handler command could not be run at all, when that is what `run` shows: the shell's
/// exit 127 (command not found) or 126 (not executable), reported by the `/bin/sh` that runs
/// `--handler` itself (its stderr line starts with "/bin/sh: " or "sh: "). That is a mistake in `--handler` or a
/// missing tool, not a problem of the task: the worker hands the task back and stops, instead of
/// failing every task of the queue the same way. nullopt for any other run.
std::optional<std::string> HandlerSetupError(const HandlerRun& run);

/// The acknowledgement for a finished (not killed-for-shutdown) run. `timeout_seconds` is only used
/// in the timeout message.
Ack AckForRun(const HandlerRun& run, int64_t timeout_seconds);

}  // namespace codeq::cli
