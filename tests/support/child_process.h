// A child process for tests: spawn with arguments and environment, capture its output to a file,
// signal, kill and wait.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace codeq::test {

/// What to run and how.
struct ChildOptions {
  std::string program;            // a path, or a bare name looked up in PATH
  std::vector<std::string> args;  // argv[1..]
  /// Variables set (or overridden) on top of this process's environment.
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> unset_env;  // variables removed from the inherited environment
  std::string output_path;  // stdout and stderr are appended here; empty = /dev/null
  std::string working_dir;  // empty = inherit
};

/// A running (or finished) child. The child gets SIGKILL if the thread that spawned it exits
/// (PR_SET_PDEATHSIG), so a crashed test leaves no strays; spawn from a long-lived thread (the
/// test's main thread). The destructor kills a child that is still running. Not thread-safe.
class ChildProcess {
 public:
  /// Starts the program. nullptr when fork/exec failed; `error` (optional) then says why.
  /// O(size of the environment).
  static std::unique_ptr<ChildProcess> Spawn(const ChildOptions& options, std::string* error = nullptr);

  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  /// Whether the child has not exited yet (reaps it if it has). O(1).
  bool Running();
  /// Sends a signal (e.g. SIGSTOP, SIGCONT, SIGTERM). False when the child is gone. O(1).
  bool Signal(int sig);
  /// Waits up to `timeout` (polling every 10 ms) for the child to exit. Its exit code, 128 +
  /// signal number when killed by a signal, nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  /// SIGTERM (plus SIGCONT in case it is stopped), then SIGKILL after `grace`; waits for the exit.
  /// Returns the exit status as Wait does.
  std::optional<int> Kill(std::chrono::milliseconds grace = std::chrono::seconds(5));
  /// The captured output so far ("" without an output file). O(file size).
  std::string Output() const;
  const std::string& output_path() const { return output_path_; }

 private:
  ChildProcess(pid_t pid, std::string output_path) : pid_(pid), output_path_(std::move(output_path)) {}

  pid_t pid_;
  std::string output_path_;
  std::optional<int> exit_status_;
};

}  // namespace codeq::test
