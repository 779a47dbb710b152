// Runs one worker handler (SPEC §9.5, issue 6): `/bin/sh -c <handler>` in its own process group
// with the task JSON on stdin, stdout collected, stderr passed through (and its tail kept for error
// messages), a periodic tick (heartbeats) while it runs, and a kill switch (shutdown, timeout).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace codeq::cli {

struct HandlerSpec {
  std::string command;  // a shell command line: "./handler.sh", "python3 h.py --fast", ...
  std::string stdin_data;
  std::vector<std::pair<std::string, std::string>> env;  // added to (or replacing in) this process's environment
  std::chrono::milliseconds timeout{0};                  // 0 = no limit
  size_t max_stdout_bytes = 16u << 20;
};

struct HandlerHooks {
  std::chrono::milliseconds tick{0};  // 0 = no ticks
  std::function<void()> on_tick;      // called every `tick` while the handler runs (may block)
  std::function<bool()> should_kill;  // polled about every 100 ms; true → the handler is killed
};

struct HandlerRun {
  enum class End { kExited, kSignaled, kTimedOut, kKilled, kSpawnFailed };
  End end = End::kSpawnFailed;
  int exit_code = -1;            // kExited
  int signal = 0;                // kSignaled
  std::string stdout_text;
  bool stdout_truncated = false;  // more than max_stdout_bytes were written (the rest was discarded)
  std::string stderr_tail;       // the last 4 KiB of stderr
  std::string error;             // kSpawnFailed: why
  std::chrono::milliseconds elapsed{0};
};

/// Runs the handler to completion (or until killed: SIGTERM to its process group, SIGKILL 2 s later).
/// The child's signal mask and dispositions are reset to the defaults, so a worker that blocks or
/// ignores signals does not pass that on; being in its own process group, it does not receive the
/// terminal's Ctrl-C. Writing stdin stops silently if the handler closes it. Blocks the calling thread.
HandlerRun RunHandler(const HandlerSpec& spec, const HandlerHooks& hooks);

/// "SEGV" style name of a signal ("signal 42" when unknown).
std::string SignalName(int sig);

}  // namespace codeq::cli
