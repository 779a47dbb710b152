// A queue of calls served by one draining thread at a time (the embedded store's engine thread,
// the Redis script pipeline): producers push from any thread, the first push after the queue ran
// dry starts a drain, and the drain takes what queued up meanwhile in batches.
#pragma once

#include <cstddef>
#include <iterator>
#include <mutex>
#include <vector>

namespace codeq {

/// Thread-safe. The drain runs until Take finds the queue empty, which ends it; the next Push then
/// reports that a new drain must be started.
template <typename T>
class DrainQueue {
 public:
  /// Appends `item`; true when no drain is running and the caller must start one. O(1) amortized.
  bool Push(T item) {
    std::lock_guard lock(mu_);
    pending_.push_back(std::move(item));
    const bool start = !draining_;
    draining_ = true;
    return start;
  }

  /// For the drain: replaces `out` with the oldest queued items, at most `max` (0 = all). False,
  /// with `out` empty, when nothing is queued: the drain is over. O(items taken).
  bool Take(std::vector<T>& out, size_t max = 0) {
    out.clear();
    std::lock_guard lock(mu_);
    if (pending_.empty()) {
      draining_ = false;
      return false;
    }
    if (max == 0 || pending_.size() <= max) {
      out.swap(pending_);
    } else {
      auto cut = pending_.begin() + static_cast<std::ptrdiff_t>(max);
      out.assign(std::make_move_iterator(pending_.begin()), std::make_move_iterator(cut));
      pending_.erase(pending_.begin(), cut);
    }
    return true;
  }

  /// True when no drain is running (so nothing is queued either). O(1).
  bool Idle() {
    std::lock_guard lock(mu_);
    return !draining_;
  }

  /// For the drain: replaces `out` with everything queued, without ending the drain. O(items).
  void TakeAll(std::vector<T>& out) {
    out.clear();
    std::lock_guard lock(mu_);
    out.swap(pending_);
  }

 private:
  std::mutex mu_;
  std::vector<T> pending_;
  bool draining_ = false;
};

}  // namespace codeq
