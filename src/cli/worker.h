// `codeq worker start`: N claim loops with long polling, a handler process per task (or a fixed
// acknowledgement without a handler), heartbeats while it runs, graceful shutdown on SIGINT/SIGTERM.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/settings.h"

namespace codeq::cli {

struct WorkerOptions {
  std::vector<std::string> events;
  int concurrency = 1;
  std::string handler;            // shell command; empty = acknowledge with `ack`
  int64_t lease_seconds = 60;
  int64_t poll_seconds = 10;      // claim waitSeconds (the server caps it at 30)
  bool once = false;              // stop after the first task was acknowledged
  std::string ack = "abandon";    // without a handler: complete, abandon, nack or none (SPEC §9.3)
  int64_t nack_delay_seconds = 5;
  int64_t grace_seconds = 30;     // after SIGINT/SIGTERM: how long running handlers may finish
  int64_t handler_timeout_seconds = 0;  // 0 = no limit
};

/// Runs until SIGINT/SIGTERM (or, with `once`, until one task was acknowledged). First signal: stop
/// claiming (waiting claims are cancelled) and let running handlers finish for up to
/// `grace_seconds`; then, or on a second signal, kill them and abandon their tasks. Returns 0 after a
/// clean stop; 1 when the server refuses the worker (401/403/400/404 on claim) or, with `once`, when
/// the task could not be acknowledged.
int RunWorker(const ClientSettings& settings, const WorkerOptions& options);

}  // namespace codeq::cli
