// In-memory indexes of one queue = (tenant, lower-cased command): ten pending FIFO tiers, the
// delayed set by visible time, the in-progress set by lease deadline and the DLQ depth.
//
// Memory per task: 16 bytes in a pending tier (a binary UUID in a deque), 32 bytes in the delayed
// heap, one ~64-byte tree node while in progress, nothing while dead-lettered or finished (the
// DLQ order lives on disk). Task records themselves stay in RocksDB and are read when needed.
//
// Pending tiers and the delayed heap use lazy deletion: removing a task that is not at the front
// (only cleanup does that) decrements the live count and leaves its entry behind; whoever pops an
// entry checks it against the task record (which must exist and be in the matching state/seq).
// When a structure's live count drops to zero its leftovers are dropped at once.
//
// Not thread-safe: the store's mutex guards every QueueIndex.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "store/embedded/layout.h"

namespace codeq::embedded {

struct DelayedEntry {
  int64_t due_ms;
  uint64_t seq;
  Uuid id;
};

struct LeaseEntry {
  int64_t deadline_ms;
  Uuid id;
  bool operator<(const LeaseEntry& o) const {
    return deadline_ms != o.deadline_ms ? deadline_ms < o.deadline_ms : id < o.id;
  }
};

/// The map key of a queue: tenant + '\0' + ASCII-lower-cased command. O(length).
std::string QueueId(std::string_view tenant, std::string_view command);

class QueueIndex {
 public:
  QueueIndex(std::string tenant, std::string command_lower, std::string command)
      : tenant_(std::move(tenant)), command_lower_(std::move(command_lower)), command_(std::move(command)) {}

  const std::string& tenant() const { return tenant_; }
  const std::string& command_lower() const { return command_lower_; }
  /// A command spelling seen for this queue (for ReadyListener calls). O(1).
  const std::string& command() const { return command_; }

  // --- pending tiers (FIFO by seq) ---
  /// Appends to the back of a tier: served after everything already waiting. O(1) amortized.
  void AddReady(int tier, const Uuid& id);
  /// Pops the oldest entry of a tier (possibly stale; the live count is not touched). O(1).
  bool PopReady(int tier, Uuid* id);
  /// Puts a popped entry back at the front (used when the pop could not be completed). Only for
  /// an entry popped without a ReadyGone since: a tier whose live count is 0 must hold no entries
  /// (Engine::ClaimOne skips tiers and queues by their counts). O(1).
  void UnpopReady(int tier, const Uuid& id);
  /// A live entry left its tier (claimed, or deleted by cleanup). O(1).
  void ReadyGone(int tier);
  /// Bulk load during recovery: entries already in seq order. O(n).
  void LoadReady(int tier, std::deque<Uuid> ids);
  int64_t ready() const;
  int64_t ready(int tier) const { return ready_[tier]; }

  // --- delayed (min-heap by due time, then seq) ---
  /// O(log n).
  void AddDelayed(const DelayedEntry& e);
  /// The earliest entry (possibly stale), false when none. O(1).
  bool TopDelayed(DelayedEntry* e) const;
  /// Removes the earliest entry; live count untouched. O(log n).
  void PopDelayed();
  /// Re-inserts an entry popped by PopDelayed whose move could not be completed. O(log n).
  void UnpopDelayed(const DelayedEntry& e);
  /// A live delayed task left the set (promoted or deleted). O(1).
  void DelayedGone();
  /// Bulk load during recovery. O(n).
  void LoadDelayed(std::vector<DelayedEntry> entries);
  int64_t delayed() const { return delayed_live_; }

  // --- in progress (ordered by lease deadline; exact) ---
  void AddLease(int64_t deadline_ms, const Uuid& id) { leases_.insert({deadline_ms, id}); }  // O(log n)
  bool RemoveLease(int64_t deadline_ms, const Uuid& id) { return leases_.erase({deadline_ms, id}) > 0; }  // O(log n)
  /// The lease that expires first, or nullptr. O(1).
  const LeaseEntry* FirstLease() const { return leases_.empty() ? nullptr : &*leases_.begin(); }
  int64_t in_progress() const { return static_cast<int64_t>(leases_.size()); }

  // --- DLQ depth (the order is on disk, 'd' keys) ---
  void AddDead() { ++dead_; }
  void DeadGone() { --dead_; }
  int64_t dead() const { return dead_; }

 private:
  std::string tenant_, command_lower_, command_;
  std::array<std::deque<Uuid>, 10> pending_;
  std::array<int64_t, 10> ready_{};
  std::vector<DelayedEntry> delayed_;  // heap, earliest on top
  int64_t delayed_live_ = 0;
  std::set<LeaseEntry> leases_;
  int64_t dead_ = 0;
};

}  // namespace codeq::embedded
