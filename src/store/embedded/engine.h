// The synchronous core of the embedded store: RocksDB + the in-memory queue indexes, guarded by
// one mutex. Every state-changing method is one critical section that changes the indexes and
// applies one WriteBatch (RocksDB Write with sync=false: WAL append + memtable); durability is
// the caller's business (group_commit.h), using the returned sequence number.
//
// Internal to store/embedded/.
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/embedded/batch.h"
#include "store/embedded/embedded_store.h"
#include "store/embedded/layout.h"
#include "store/embedded/queue_index.h"

namespace codeq::embedded {

/// What a store call produced, and the RocksDB sequence number that must be durable before the
/// answer is given (everything the call wrote or read is at or below it).
template <typename T>
struct Applied {
  Result<T> value;
  uint64_t seq = 0;
};

/// A task record as read from disk.
struct Record {
  Uuid id{};
  Envelope env;
  Task task;
  bool stored = false;           // false for a task not yet written
};

/// One (tenant, command) pair that got ready work from a background promotion.
struct ReadyEvent {
  std::string tenant, command;
};

/// Logs to stderr and aborts: the indexes and the disk no longer agree (recovery fixes that).
[[noreturn]] void Fatal(const std::string& what);

class Engine {
 public:
  /// Opens the database and rebuilds the indexes (engine_open.cpp). Errors as EmbeddedStore::Open.
  static Result<std::unique_ptr<Engine>> Open(const EmbeddedOptions& options);
  /// Flushes the memtable and closes the database.
  ~Engine();

  rocksdb::DB* db() { return db_.get(); }
  /// Turns RocksDB's perf counters off on the calling thread, once per thread. They are on by
  /// default (PerfLevel::kEnableCount) and cost a thread-local access through __tls_get_addr per
  /// memtable key comparison: 6 % of a batch cycle's instructions (callgrind). Nothing reads them.
  static void DisablePerfCounters();

  /// Write groups (used by the store's engine thread, and by a caller's thread for one inline
  /// call: embedded_store.cpp). Between BeginGroup and
  /// EndGroup, both called on the same thread, every Mutate-based operation of that thread runs
  /// inside one critical section and adds to one shared batch, which EndGroup writes with a single
  /// db Write (one WAL record, one memtable insertion pass). Each operation still sees the writes
  /// of the ones before it (reads go through the batch: Batch::Get), exactly as if they had run one after another.
  /// Their Applied::seq is 0: EndGroup returns the sequence number that covers all of them. Other
  /// threads' operations wait on the mutex meanwhile, so keep groups short (the caller bounds
  /// them). Reads that bypass the mutex (GetTask, GetResult) see only committed data.
  void BeginGroup();
  uint64_t EndGroup();
  /// BeginGroup if the engine mutex is free right now (true); false at once, with nothing
  /// begun, while a group, a cleanup chunk or the background timer holds it. For running one
  /// call on the calling thread when the engine is idle (embedded_store.cpp, RunOp).
  bool TryBeginGroup();

  /// Runs `fn()` under the engine mutex if the mutex is free right now and returns true; returns
  /// false at once, without running it, while a write group, a cleanup chunk or the background
  /// timer holds it. For the memory-only operations below (ListCommands, Stats, the subscription
  /// reads, TryThrottle, NextRoundRobin): an I/O thread serves them inline when the engine is
  /// idle and never blocks behind a group (embedded_store.cpp queues them otherwise). Those
  /// operations lock the mutex themselves unless this thread already holds it (a group, or here).
  template <typename F>
  bool TryLocked(F&& fn);

  // One critical section + one batch each (engine_tasks.cpp, engine_maintenance.cpp).
  Applied<CreateOutcome> Create(const CreateTaskInput& in);
  /// Up to `max_tasks` (at least 1) claims (ClaimOne), one after the other in one critical section
  /// and one batch: fewer only when the queues ran dry. An error after some claims returns
  /// those (they are leased to the worker); before any, the error.
  Applied<std::vector<Task>> ClaimMany(const ClaimInput& in, int max_tasks);
  Applied<RepairOutcome> Repair(const RepairInput& in);
  Applied<Task> Heartbeat(const HeartbeatInput& in);
  Applied<Task> Abandon(const TaskRef& in);
  Applied<NackOutcome> Nack(const NackInput& in);
  Applied<Task> SubmitResult(const SubmitResultInput& in);
  Applied<int64_t> Cleanup(const CleanupInput& in);

  // Reads (no critical section for disk reads).
  Applied<Task> GetTask(const std::string& tenant, const std::string& id);
  Applied<TaskResult> GetResult(const std::string& tenant, const std::string& id);
  std::vector<std::string> ListCommands(const std::string& tenant);
  QueueStats Stats(const std::string& tenant, const std::string& command);
  VoidResult Ping();
  /// Whether RocksDB is in a background-error state (a flush or compaction failed, e.g. on a full
  /// disk): it refuses writes then, so every state change answers Unavailable instead of
  /// reaching a failed write (which stops the process). Cleared when RocksDB recovers (Resume,
  /// tried at most once per second by the next state change). O(1).
  bool WritesStopped() const;
  /// Bytes of memtables not yet flushed: what flushes will still write to disk (an upper bound:
  /// SST files are compressed). O(1).
  uint64_t UnflushedBytes() const;
  /// While WritesStopped: asks RocksDB to recover (DB::Resume, which flushes; it blocks for that
  /// long), at most once per second across threads; true when writes work again. Thread-safe.
  bool TryResume();

  /// Follows RocksDB's background errors (EventListener): `active` from an error until RocksDB
  /// reports its recovery.
  struct BackgroundErrors;

  // Outbox, subscriptions, on-demand promotion (engine_webhooks.cpp). Complexities are stated on
  // EmbeddedStore.
  Applied<std::vector<OutboxEntry>> ClaimCallbacks(int64_t now_ms, int64_t lease_ms, int limit);
  Applied<Unit> FinishCallback(const std::string& task_id);
  Applied<Unit> RetryCallback(const std::string& task_id, int attempts, int64_t due_ms);
  Applied<Unit> CreateSubscription(const Subscription& sub);
  Applied<Subscription> RenewSubscription(const std::string& tenant, const std::string& id,
                                          int64_t expires_at_sec, const std::string& expires_at_text);
  std::vector<Subscription> ActiveSubscriptions(const std::string& command, int64_t now_sec, int limit);
  std::vector<Subscription> ListSubscriptions(int64_t now_sec, int limit);
  bool TryThrottle(const std::string& sub_id, int interval_seconds, int64_t now_ms);
  int64_t NextRoundRobin(const std::string& command, const std::string& group_id);
  Applied<int64_t> CleanupSubscriptions(int64_t now_sec, int limit);
  int64_t CountActiveSubscriptions(const std::string& command, int64_t now_sec);
  Applied<Store::PromoteOutcome> PromoteDue(const std::string& tenant, const std::string& command,
                                            int64_t now_sec, int limit);

  /// One background step at `now_ms`: requeues expired leases (when `backoff` is set) and
  /// promotes due delayed tasks of every queue, at most `budget` moves. `more` is true when the
  /// budget ran out. `next_due_ms` is the earliest pending due time (INT64_MAX when none).
  struct TickOutcome {
    std::vector<ReadyEvent> ready;
    RepairOutcome repaired;
    int64_t next_due_ms = INT64_MAX;
    bool more = false;
    uint64_t seq = 0;
  };
  TickOutcome BackgroundTick(int64_t now_ms, const BackoffFn& backoff, int max_attempts_default,
                             int budget);

  /// Called under the lock whenever a delayed entry or lease with due time `ms` is added, so the
  /// background timer can wake earlier than planned. Set once before concurrent use.
  void SetDueHook(std::function<void(int64_t ms)> hook) { due_hook_ = std::move(hook); }

 private:
  Engine() = default;

  // --- helpers, all called with mu_ held unless stated ---
  /// Runs `body(batch)` in one critical section, then writes the batch. Exceptions before any
  /// change become Internal; after a change they are fatal.
  template <typename T, typename F>
  Applied<T> Mutate(F&& body);
  /// Writes the batch (Batch::Write: in key order) and returns the latest sequence number.
  /// Fatal when the write fails.
  uint64_t Commit(Batch& batch);

  /// Reads a task record through `batch` (with the lock) or directly (also without the lock).
  /// With `batch` a record in the record cache is taken out of it instead of read and parsed.
  /// nullopt when absent; Unavailable on I/O errors; Internal when the record is undecodable.
  Result<std::optional<Record>> Load(const Uuid& id, Batch* batch = nullptr,
                                     const rocksdb::Snapshot* snap = nullptr);
  /// Writes the task record, and keeps a copy of a live (non-terminal) record in the record cache.
  /// The retention key is written for a new record, and moved to the retention deadline when that
  /// moved earlier than the key or when `reindex` (cleanup found the key early); otherwise it stays
  /// where it is, a lower bound of the deadline (layout.h, lazy retention index). Returns the
  /// task's JSON text as written (TaskToJsonText), for a caller that answers with it. O(size).
  std::string Put(Batch& b, Record& r, bool reindex = false);
  /// Deletes a task with its result, retention, DLQ and (own) idempotency records and its index
  /// entry. O(log n) + one read.
  Status Remove(Batch& b, const Record& r);

  QueueIndex* FindQueue(const std::string& tenant, const std::string& command);
  QueueIndex& GetQueue(const std::string& tenant, const std::string& command);
  /// Unique queues of the commands (first spelling kept as label), existing ones only.
  std::vector<std::pair<QueueIndex*, std::string>> QueuesOf(const std::string& tenant,
                                                            const std::vector<std::string>& commands);
  uint64_t NextSeq() { return next_seq_++; }

  /// One claim (SPEC §4.8, D3, D4) inside a critical section: nullopt when nothing is ready.
  Result<std::optional<Task>> ClaimOne(Batch& b, const ClaimInput& in);
  /// Moves up to `limit` due delayed tasks of `q` to their pending tiers. Returns moves made.
  Result<int> Promote(Batch& b, QueueIndex& q, int64_t now_ms, const std::string& now_text,
                      int limit);
  /// Requeues or dead-letters up to `limit` expired leases of `q` (SPEC §4.8, §4.9, D2, D3, D11).
  Status RepairQueue(Batch& b, QueueIndex& q, const std::string& label, int64_t now_ms,
                     const std::string& now_text, const BackoffFn& backoff, int max_attempts_default,
                     int limit, RepairOutcome& out);
  /// The nack transition of SPEC §4.9 with D2/D11 on a task whose lease entry was removed.
  /// Returns true when dead-lettered.
  bool NackApply(Batch& b, QueueIndex& q, Record& r, int64_t delay_seconds,
                 const std::string& reason, int max_attempts_default, int64_t now_ms,
                 const std::string& now_text);
  void AddDelayed(QueueIndex& q, const Record& r);
  void AddLease(QueueIndex& q, const Record& r);
  void RememberCommand(Batch& b, const std::string& tenant, const std::string& command);
  /// Queues the result callback of a task that just became terminal, when it has a webhook
  /// (SPEC §6.1, D11, D16): due at now_ms. O(log n).
  void OutboxAdd(Batch& b, const Record& r, int64_t now_ms);
  /// Writes an outbox entry and (re)indexes it by due time. O(log n).
  void OutboxPut(Batch& b, const Uuid& id, const OutboxValue& v);
  /// Adds/removes a subscription to/from the per-command expiry indexes. O(E log n).
  void IndexSubscription(const Subscription& s);
  void UnindexSubscription(const Subscription& s);

  // --- recovery (engine_open.cpp) ---
  Status Recover(const std::string& dir);

  EmbeddedOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::shared_ptr<BackgroundErrors> background_errors_;  // registered with db_ (DbOptions)
  std::atomic<int64_t> next_resume_ms_{0};               // steady ms of the next Resume try
  rocksdb::WriteOptions write_options_;
  std::function<void(int64_t)> due_hook_;
  bool recovered_ = false;  // a refused database is closed without flushing anything into it

  /// True on the thread that holds an open write group of this engine.
  bool InGroup() const;
  /// TryLocked's halves: try_lock + mark this thread as the holder; unmark + unlock.
  bool TryEnter();
  void Leave();
  /// The engine mutex for a memory-only operation: locked here, or empty when this thread holds
  /// it already (inside a write group or TryLocked).
  std::unique_lock<std::mutex> LockUnlessHeld();

  /// Hash of a task id (its bytes are random already: SPEC §1.1 version-4 UUIDs).
  struct UuidHash {
    size_t operator()(const Uuid& id) const {
      size_t h;
      std::memcpy(&h, id.data(), sizeof h);
      return h;
    }
  };
  /// The record cache, for Load under the mutex: a claim or a result usually follows its task's
  /// previous transition within milliseconds, and then costs no RocksDB read and no JSON parse.
  /// Derived data, like the queue indexes: it holds each live record exactly as the current batch
  /// last wrote it (Put adds it, Remove and terminal states drop it), and Load takes the entry
  /// out (the caller writes the record back with Put when it changes it, which re-adds it). At
  /// most kRecordCacheEntries entries of about kRecordCacheBytes in all (records larger than
  /// kRecordCacheMaxRecord bytes are not kept); the oldest insertions are evicted first. O(1)
  /// amortised per access.
  static constexpr size_t kRecordCacheEntries = 4096;
  static constexpr size_t kRecordCacheBytes = 16 << 20;
  static constexpr size_t kRecordCacheMaxRecord = 64 << 10;
  struct CachedRecord {
    Record record;
    size_t bytes = 0;  // RecordBytes(record)
    uint64_t gen = 0;  // matches the entry's newest position in record_cache_order_
  };
  /// Adds or replaces `r` in the record cache, then evicts down to the bounds.
  void CacheRecord(const Record& r);
  /// Drops `id` from the record cache, if there.
  void UncacheRecord(const Uuid& id);

  std::mutex mu_;  // guards everything below and every write
  std::unordered_map<Uuid, CachedRecord, UuidHash> record_cache_;
  std::deque<std::pair<Uuid, uint64_t>> record_cache_order_;  // insertion order, may hold stale gens
  uint64_t record_cache_gen_ = 0;
  size_t record_cache_bytes_ = 0;  // sum of the entries' bytes
  Batch group_batch_;                        // the open group's batch (cleared, not freed, after)
  std::unordered_map<std::string, std::unique_ptr<QueueIndex>> queues_;
  std::map<std::string, std::set<std::string>> commands_;  // tenant -> commands as submitted

  // Outbox ('w' records): entries by task id, and their due index.
  std::map<Uuid, OutboxValue> outbox_;
  std::set<std::pair<int64_t, Uuid>> outbox_due_;
  // Subscriptions ('s' records) by id; per lower-cased command: (expiry s, id).
  std::unordered_map<std::string, Subscription> subs_;
  std::unordered_map<std::string, std::set<std::pair<int64_t, std::string>>> sub_index_;
  // Memory only (SPEC §6.2 steps 4 and 6): throttle deadline (epoch ms) per subscription id,
  // round-robin counter per "<cmd lower>\0<group>".
  std::unordered_map<std::string, int64_t> throttle_until_ms_;
  std::unordered_map<std::string, int64_t> round_robin_;
  uint64_t next_seq_ = 1;
};

}  // namespace codeq::embedded

// --- template definitions -----------------------------------------------------------------------
namespace codeq::embedded {

template <typename F>
bool Engine::TryLocked(F&& fn) {
  if (!TryEnter()) return false;
  struct Exit {
    Engine* e;
    ~Exit() { e->Leave(); }
  } exit{this};
  fn();
  return true;
}

template <typename T, typename F>
Applied<T> Engine::Mutate(F&& body) {
  // Inside a write group the mutex is already held and the batch is shared (see BeginGroup).
  const bool grouped = InGroup();
  std::unique_lock<std::mutex> lock(mu_, std::defer_lock);
  std::optional<Batch> own;
  if (!grouped) {
    lock.lock();
    own.emplace();
  }
  if (WritesStopped() && !TryResume()) return Applied<T>{Unavailable("store unavailable"), 0};
  Batch& batch = grouped ? group_batch_ : *own;
  const uint32_t before = batch.Count();
  Result<T> value = Internal("store error");
  try {
    value = body(batch);
  } catch (const std::exception& e) {
    // The body changes the indexes only after its last possible failure point in practice, but
    // an allocation failure midway would leave them ahead of the disk: then only a restart helps.
    if (batch.Count() > before) {
      Fatal(std::string("exception during a state change: ") + e.what());
    }
    value = Internal(std::string("store error: ") + e.what());
  }
  if (grouped) return Applied<T>{std::move(value), 0};
  return Applied<T>{std::move(value), Commit(batch)};
}

}  // namespace codeq::embedded
