// The embedded backend of the Store interface: RocksDB on local disk plus in-memory queue indexes
// (ARCHITECTURE.md, store/embedded/). One binary, one data directory, nothing else to run.
//
// Design (details in engine.h, layout.h, group_commit.h):
//  * Every state change is one critical section over the in-memory indexes (one store-wide
//    mutex) that also applies one RocksDB WriteBatch, so the indexes and the disk change together
//    and in the same order.
//  * Durability (`sync`, default true): the batch is written without fsync inside the critical
//    section; the call then waits, outside the mutex and without holding a thread, until a shared
//    WAL fsync covers it (group commit). A store call therefore completes only once its change is
//    on disk. With `sync=false` the WAL is still written at once (a process crash loses nothing)
//    but is not fsynced per call: an OS crash or power loss can drop the last writes acknowledged
//    before it (RocksDB still fsyncs when it rotates the WAL or flushes a memtable).
//  * Every call also waits until what it *read* is durable, so an answer never shows state that a
//    crash could take back.
//  * State-changing engine calls run on one engine thread, which runs the calls queued meanwhile
//    as one write group (one critical section, one batch, one WAL append); a short single call
//    that finds the engine idle runs on the caller's thread instead (inline_calls). Reads and
//    Cleanup run on a small side pool. Every method resumes on the awaiting coroutine's executor.
//  * Recovery on Open rebuilds every index from the task records (FIFO order per tier, due times,
//    lease deadlines) and validates every record: a damaged directory fails Open, it is never
//    served partially. A second process on the same directory is refused.
//  * A background thread promotes due delayed tasks (and, once SetBackgroundRepair was called,
//    requeues expired leases) using the injected Clock, then calls the ReadyListener.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "domain/clock.h"
#include "store/embedded/disk_guard.h"
#include "store/store.h"

namespace codeq {

namespace embedded {
class Engine;
class GroupCommit;
class Background;
struct EngineThread;
}  // namespace embedded

struct EmbeddedOptions {
  /// The data directory; the database lives in <data_dir>/db (both created when missing).
  std::string data_dir = "./data";
  /// durability: true = a call completes after its WAL record is fsynced (group commit);
  /// false = WAL written but not fsynced per call (survives a process crash, not an OS crash).
  bool sync = true;
  /// Time source of the background timers (lease expiry, delayed promotion); SystemClock if null.
  /// Must outlive the store.
  const Clock* clock = nullptr;
  /// Background timer period in ms. The timer also wakes at the next due time when that is
  /// sooner. <= 0 disables the background thread (repair and promotion then happen only in
  /// ClaimTask/RepairExpired, as with the Redis backend).
  int64_t timer_interval_ms = 200;
  /// Whether a single short state change (create, claim of one task, heartbeat, abandon, nack,
  /// result) may run on the calling thread when the engine is idle, instead of being handed to
  /// the engine thread and back. Worth it when the callers' threads already keep every CPU busy
  /// (one I/O thread per CPU, at least 2); with a single I/O thread the engine thread is the
  /// only parallelism, and running calls inline cost a third of the throughput (measured:
  /// docs/performance.md, sixteenth session).
  bool inline_calls = true;
  /// SST files RocksDB keeps open at once (its table cache; at least 20). -1 = every file, opened
  /// at start-up: the fastest reads, but one descriptor per SST for as long as the database
  /// grows. `codeq serve` bounds it when the open-file limit is low (serve.cpp StoreFileBudget).
  int max_open_files = -1;
  /// Free-space guard (embedded::DiskGuard): below this many bytes free on the data directory's
  /// filesystem new tasks are refused with Unavailable, below half of it every state change but
  /// cleanup; reads are always served. 0 turns the guard off. Open also refuses a filesystem with
  /// less than 16 MiB (or half of this, when smaller) free.
  uint64_t min_free_disk_bytes = uint64_t{256} << 20;
  /// The free-space reading in bytes; statvfs of data_dir when empty (tests inject their own).
  std::function<uint64_t()> free_disk_bytes;
  /// Free space is read at most this often (ms); 0 = at every guarded call.
  int64_t disk_check_interval_ms = 100;
};

class EmbeddedStore final : public Store {
 public:
  /// Opens (creating when missing) the store in options.data_dir and rebuilds the indexes.
  /// Errors: Unavailable("data directory <dir> is in use by another codeq process");
  /// Internal("data directory <dir> is damaged: <what>") for a corrupt/truncated/undecodable
  /// database; Internal("cannot open data directory <dir>: <why>") otherwise;
  /// Unavailable("data directory <dir>: only N MiB free …") when its filesystem is (nearly) full
  /// (EmbeddedOptions::min_free_disk_bytes).
  /// O(records on disk) — the whole database is read and checked once.
  static Result<std::shared_ptr<EmbeddedStore>> Open(EmbeddedOptions options);

  /// Stops the background thread, waits for in-flight calls, makes every write durable, flushes
  /// the memtable (so the next Open replays no WAL) and closes the database.
  ~EmbeddedStore() override;

  /// SPEC §2.3, §2.3.2, D5, D6, D12, D18. O(log D) (D = delayed tasks of the queue) plus three
  /// point reads (idempotency key, its task, the id) and one batch write.
  Async<Result<CreateOutcome>> CreateTask(CreateTaskInput in) override;
  /// One engine call and one write group for the whole batch (Store::CreateTasks).
  Async<std::vector<Result<CreateOutcome>>> CreateTasks(std::vector<CreateTaskInput> inputs) override;
  /// SPEC §4.8 with D3, D4, max_tasks times in one engine call (Engine::ClaimMany: one critical
  /// section, one write, one durability wait). Each claim promotes up to inspect_limit due delayed
  /// tasks per command (O(k log D) + k reads/writes), then pops the oldest entry of tiers 9..0 ×
  /// commands: O(C × 10) index steps, one read per popped entry (none for cached records).
  Async<Result<std::vector<Task>>> ClaimTasks(ClaimInput in, int max_tasks) override;
  /// SPEC §4.8 requeue_expired with D2, D3, D11. Expired leases are found in deadline order
  /// without sampling: O(C + e × (log P + one read)) for e expired tasks (at most inspect_limit
  /// per command), one batch write.
  Async<Result<RepairOutcome>> RepairExpired(RepairInput in) override;
  /// SPEC §2.5, D10. One read, O(log P) (P = in-progress tasks of the queue), one write.
  Async<Result<Task>> Heartbeat(HeartbeatInput in) override;
  /// SPEC §2.6, D10: back of its tier, behind waiting tasks. One read, O(log P), one write.
  Async<Result<Task>> Abandon(TaskRef in) override;
  /// SPEC §2.7, §4.9, D2, D11. One read, O(log P + log D), one write.
  Async<Result<NackOutcome>> Nack(NackInput in) override;
  /// SPEC §2.8 step 7, D3, D11. One read, O(log P), one write.
  Async<Result<Task>> SubmitResult(SubmitResultInput in) override;
  /// One engine call and one write group for the whole batch (Store::SubmitResults).
  Async<std::vector<Result<Task>>> SubmitResults(std::vector<SubmitResultInput> inputs) override;
  /// SPEC §2.9, D6. One point read.
  Async<Result<Task>> GetTask(std::string tenant, std::string task_id) override;
  /// SPEC §2.10, D6. Two point reads from one snapshot.
  Async<Result<TaskResult>> GetResult(std::string tenant, std::string task_id) override;
  /// D5, from memory. O(K) for K commands of the tenant.
  Async<Result<std::vector<std::string>>> ListCommands(std::string tenant) override;
  /// SPEC §1.6, D7, from memory. O(1).
  Async<Result<QueueStats>> Stats(std::string tenant, std::string command) override;
  /// SPEC §4.10, D12: scans the retention index up to before_sec in pages (outside the mutex),
  /// then, in one critical section + batch per page, reads each candidate and deletes it when its
  /// true deadline is due and the filters allow, or moves its lagging index key to that deadline
  /// (lazy index, layout.h). O(scanned × (read + log n)).
  Async<Result<int64_t>> Cleanup(CleanupInput in) override;
  /// Unavailable when RocksDB reports a background error (e.g. disk full). O(1).
  /// The disk guard's answer for a state change (EmbeddedOptions::min_free_disk_bytes).
  Status AdmitStateChange() override;
  Async<VoidResult> Ping() override;

  // --- outbox, subscriptions, promotion (engine_webhooks.cpp) ---
  /// SPEC §6.1, D16: from the in-memory due index; each claimed entry is re-written with its
  /// lease end. O(limit log N), one batch.
  Async<Result<std::vector<OutboxEntry>>> ClaimDueCallbacks(int64_t now_ms, int64_t lease_ms,
                                                            int limit) override;
  /// O(log N), one batch (none when unknown).
  Async<VoidResult> FinishCallback(std::string task_id) override;
  /// O(log N), one batch (none when unknown).
  Async<VoidResult> RetryCallback(std::string task_id, int attempts, int64_t due_ms) override;
  /// SPEC §2.11: one 's' record + in-memory indexes. O(E log N).
  Async<VoidResult> CreateSubscription(Subscription sub) override;
  /// SPEC §2.12, D6. O(E log N), one batch.
  Async<Result<Subscription>> RenewSubscription(std::string tenant, std::string id,
                                                int64_t expires_at_sec,
                                                std::string expires_at_text) override;
  /// SPEC §6.2 step 1, from memory. O(log N + limit).
  Async<Result<std::vector<Subscription>>> ActiveSubscriptions(std::string command, int64_t now_sec,
                                                               int limit) override;
  /// From memory. O(subscriptions).
  Async<Result<std::vector<Subscription>>> ListSubscriptions(int64_t now_sec, int limit) override;
  /// In memory (lost on restart). O(1).
  Async<Result<bool>> TryThrottle(std::string sub_id, int interval_seconds, int64_t now_ms) override;
  /// In memory (restarts at 1 after a restart). O(1).
  Async<Result<int64_t>> NextRoundRobin(std::string command, std::string group_id) override;
  /// SPEC §6.2 cleanup: removes expired records with their index entries and throttle state.
  /// O(subscriptions + removed × E log N), one batch.
  Async<Result<int64_t>> CleanupSubscriptions(int64_t now_sec, int limit) override;
  /// From memory. O(log N + active entries of the command).
  Async<Result<int64_t>> CountActiveSubscriptions(std::string command, int64_t now_sec) override;
  /// SPEC §4.8 promotion of one queue via the engine (usually 0 moved: the timer promotes).
  /// O(moved × (log D + one read)), one batch.
  Async<Result<PromoteOutcome>> PromoteDue(std::string tenant, std::string command, int64_t now_sec,
                                           int limit) override;

  /// Called from the timer thread after background promotions (never when the timer is
  /// disabled). Once this returns, a previous listener is no longer running or called. A listener
  /// must not call SetReadyListener/SetBackgroundRepair itself.
  void SetReadyListener(ReadyListener listener) override;

  /// Enables lease-expiry repair in the background timer: expired leases are requeued with the
  /// delay `backoff(attempts)` or dead-lettered at max attempts (`max_attempts_default` for tasks
  /// without maxAttempts), exactly as RepairExpired does. Until called, the timer only promotes
  /// delayed tasks. Thread-safe; an empty `backoff` disables it again. `on_repaired` observes the
  /// commands whose leases expired and the tasks that were dead-lettered (metrics; their outbox
  /// entries are written with the dead-letter move); it is called from the timer thread, before
  /// the ReadyListener calls of the same step, with the same rules as the ReadyListener.
  void SetBackgroundRepair(BackoffFn backoff, int max_attempts_default,
                           RepairListener on_repaired = nullptr) override;

  /// Number of WAL fsyncs so far (0 with sync=false): shows group commit at work. O(1).
  uint64_t WalSyncCount() const;
  /// Number of write groups (one db Write each) run so far, on the engine thread or inline (a
  /// call run on its caller's thread is a group of its own): fewer than the calls made when
  /// concurrent calls shared them. O(1).
  uint64_t WriteGroupCount() const;
  /// Number of single calls that found the engine idle and ran on the caller's thread instead
  /// of being queued to the engine thread. O(1).
  uint64_t InlineOpCount() const;
  /// Number of memory-only calls (ListCommands, Stats, subscription reads, throttle and
  /// round-robin counters) that found the engine busy and were queued to the engine thread
  /// instead of running on the caller's thread. O(1).
  uint64_t QueuedMemoryOpCount() const;

  const EmbeddedOptions& options() const { return options_; }

 private:
  EmbeddedStore(EmbeddedOptions options, std::unique_ptr<embedded::Engine> engine);

  EmbeddedOptions options_;
  std::unique_ptr<embedded::Engine> engine_;
  std::unique_ptr<embedded::GroupCommit> commit_;
  std::unique_ptr<embedded::EngineThread> pool_;  // runs every engine call (write groups)
  std::unique_ptr<embedded::Background> background_;
  std::unique_ptr<embedded::DiskGuard> disk_;  // checked before creates and state changes (Room)
  /// Ok when a call needing `need` may write now: RocksDB not stopped by a background error (a
  /// resume is tried first) and the disk guard agrees. Else Unavailable("store unavailable").
  Status Room(embedded::DiskGuard::Need need);
};

}  // namespace codeq
