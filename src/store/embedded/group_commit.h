// Group commit for the embedded store's write-ahead log.
//
// Writes are applied to RocksDB in the order the store's critical sections run (each Write has
// sync=false, so it appends to the WAL and the memtable without waiting for the disk, and it
// happens while the index mutex is held: WAL order = index order). A store call that must be
// durable then waits here, outside the mutex, until the WAL is fsynced up to its sequence number.
// One syncer thread runs DB::SyncWAL() for everybody waiting: all writes that arrived while the
// previous fsync ran share the next one. Because the WAL is one ordered log, "synced up to N"
// covers every earlier write as well, so a later write's durability implies the earlier ones'.
//
// A failed fsync is fatal (the process aborts; recovery rebuilds the state from disk).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace rocksdb {
class DB;
}

namespace codeq::embedded {

class GroupCommit {
 public:
  /// Starts the syncer thread. `db` must outlive this object. O(1).
  explicit GroupCommit(rocksdb::DB* db);
  /// Syncs whatever is still waiting, completes every waiter, stops the thread.
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  /// Completes once the WAL is fsynced up to `seq` (a RocksDB sequence number); immediately when
  /// it already is. Resumes on the awaiting coroutine's executor. O(1) plus a share of one fsync.
  boost::asio::awaitable<void> WaitDurable(uint64_t seq);

  /// Blocking variant for threads that are not coroutines. O(1) plus a share of one fsync.
  void WaitDurableBlocking(uint64_t seq);

  /// Number of WAL fsyncs performed so far (diagnostics, tests). O(1).
  uint64_t sync_count() const;

  using Completion = std::function<void()>;
  /// Runs `done` once the WAL is fsynced up to `seq`: on the syncer thread, or at once on the
  /// calling thread when it already is. `done` must not block (it typically posts the caller's
  /// resumption to the caller's executor). For threads that hand a finished write straight on
  /// (the engine thread), saving the hop through the caller before the wait. O(1).
  void WhenDurable(uint64_t seq, Completion done);

 private:
  struct Waiter {
    uint64_t seq;
    Completion done;
  };

  void Run();

  rocksdb::DB* db_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Waiter> waiters_;
  uint64_t synced_ = 0;
  uint64_t sync_count_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace codeq::embedded
