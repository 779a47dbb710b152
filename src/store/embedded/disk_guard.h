// Free-space guard of the embedded store: writes are refused before the filesystem fills up.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "domain/status.h"

namespace codeq::embedded {

/// Keeps the store's writes from running its filesystem out of space. A write RocksDB cannot
/// complete (ENOSPC on the WAL) leaves the in-memory indexes ahead of the disk, and the store then
/// stops the process; refusing the write first keeps the server up and answering. Below
/// `reserve_bytes` free, new tasks are refused; below half of it, every state change but cleanup
/// (which frees space) and the store's own background work. Reads are always served. A refusal is
/// Unavailable("store unavailable"), which the API answers 503 with Retry-After (SPEC D8).
///
/// Free space is read (FreeBytes by default) at most once per `check_interval`, by whichever
/// caller finds the last reading stale; the others use it. Level changes are logged: a warning
/// when more writes start being refused (the same level again at most every 10 s), an info line
/// when they are all accepted again. Thread-safe.
class DiskGuard {
 public:
  enum class Need {
    kNewTasks,     ///< creates: refused below reserve_bytes
    kStateChange,  ///< claims, results, nacks, heartbeats, subscriptions: below reserve_bytes / 2
  };
  /// `dir`: a directory on the guarded filesystem (named in logs). `reserve_bytes` 0 turns the
  /// guard off. `free_bytes`: the free-space reading (bytes; FreeBytes(dir) when null).
  DiskGuard(std::string dir, uint64_t reserve_bytes, std::function<uint64_t()> free_bytes,
            std::chrono::milliseconds check_interval);

  /// Ok when a call that needs `need` may write now; else Unavailable("store unavailable"). O(1),
  /// plus one free-space reading when the last one is stale.
  Status Check(Need need);

  /// Bytes available to unprivileged users on the filesystem of `dir` (statvfs f_bavail ×
  /// f_frsize); UINT64_MAX when it cannot be read (the guard then refuses nothing).
  static uint64_t FreeBytes(const std::string& dir);

 private:
  /// 0: writes accepted; 1: new tasks refused; 2: every state change refused.
  int LevelFor(uint64_t free) const;
  void Refresh(std::chrono::steady_clock::time_point now);

  const std::string dir_;
  const uint64_t reserve_;
  const std::function<uint64_t()> free_bytes_;
  const std::chrono::milliseconds interval_;
  std::atomic<int64_t> next_check_ns_{0};  // steady_clock time of the next reading
  std::atomic<int> level_{0};
  std::mutex log_mu_;                      // guards the two below (log lines only)
  std::chrono::steady_clock::time_point last_warning_{};
  int warned_level_ = 0;  // the level of the last warning; 0 after the info line
};

}  // namespace codeq::embedded
