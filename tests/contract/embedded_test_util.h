// Helpers for the embedded backend's tests: temporary data directories, store inputs at chosen
// instants, and running a piece of code in a child process that dies without cleaning up.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "contract_fixture.h"
#include "domain/time_format.h"
#include "store/embedded/embedded_store.h"

namespace codeq::contract {

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/codeq-embedded-XXXXXX";
    if (char* made = ::mkdtemp(pattern.data())) path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// The instant `ms` as a store input.
inline Now At(int64_t ms) { return Now{ms, FormatTimestamp(ms)}; }

/// Skips the current test under ThreadSanitizer, which does not support threads in a forked child.
#if defined(__SANITIZE_THREAD__)
#define CODEQ_SKIP_IF_FORK_UNSUPPORTED() GTEST_SKIP() << "fork with threads is not supported by ThreadSanitizer"
#else
#define CODEQ_SKIP_IF_FORK_UNSUPPORTED() (void)0
#endif

/// Runs `body` in a forked child that then exits with its return value via _exit: objects that
/// `body` leaks are never destroyed (a store left open is a crash as far as its data directory
/// can tell). Returns the child's exit code (or -1). In the child RocksDB's background threads
/// do not exist (fork copies one thread), so `body` must not close a store (a close waits for a
/// flush that never runs): leak it.
inline int RunInChild(const std::function<int()>& body) {
#if defined(__SANITIZE_THREAD__)
  return -2;  // ThreadSanitizer cannot start threads in a child forked from a threaded process
#endif
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
    } catch (...) {
      code = 98;
    }
    ::_exit(code);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace codeq::contract
