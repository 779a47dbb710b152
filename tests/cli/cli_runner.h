// Runs the `codeq` binary as a CLI user would: arguments, environment, stdin, working directory;
// stdout and stderr captured separately. Synchronous (RunCli) or in the background (CliProcess).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace codeq::clitest {

struct CliOptions {
  std::vector<std::string> args;                            // argv[1..]
  std::vector<std::pair<std::string, std::string>> env;     // set on top of the base environment
  std::vector<std::string> unset_env;                       // removed from the base environment
  std::string stdin_text;                                   // fed on stdin (then EOF)
  std::string working_dir;                                  // empty = the test's
  std::chrono::milliseconds timeout{60000};                 // RunCli: SIGKILL after this
};

struct CliResult {
  int exit_code = -1;  // 128 + signal when killed; -1 when it did not finish in time
  std::string out, err;
  /// "exit <n>\n--- stdout ---\n...\n--- stderr ---\n..." for assertion messages.
  std::string Describe() const;
};

/// A background `codeq` process (e.g. a worker). Killed when destroyed.
class CliProcess {
 public:
  static std::unique_ptr<CliProcess> Start(const std::string& binary, const CliOptions& options);
  ~CliProcess();
  pid_t pid() const { return pid_; }
  bool Signal(int sig);
  bool Running();
  /// Waits up to `timeout`; the exit code (128 + signal), nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  std::string Out() const;
  std::string Err() const;

 private:
  CliProcess() = default;
  pid_t pid_ = -1;
  std::string dir_;
  std::optional<int> exit_;
};

/// Runs `binary` to completion (or `options.timeout`).
CliResult RunCli(const std::string& binary, const CliOptions& options);

}  // namespace codeq::clitest
