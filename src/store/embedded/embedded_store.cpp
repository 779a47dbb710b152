// EmbeddedStore: the asynchronous face of the engine (engine thread and write groups, durability
// wait, lifecycle).
#include "store/embedded/embedded_store.h"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <filesystem>
#include <atomic>
#include <optional>
#include <vector>
#include <thread>

#include "store/embedded/background.h"
#include "store/embedded/disk_guard.h"
#include "store/embedded/engine.h"
#include "store/embedded/group_commit.h"
#include "domain/drain_queue.h"
#include "domain/run_on_pool.h"

namespace codeq {

using embedded::Applied;

namespace {

/// Calls `fn()` (returns Applied<T>); an exception becomes Internal("store error: …"), so every
/// path (queued, inline, side pool) answers a throwing engine call the same way.
template <typename T, typename F>
Applied<T> CallCaught(F& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Applied<T>{Internal(std::string("store error: ") + e.what()), 0};
  } catch (...) {
    return Applied<T>{Internal("store error"), 0};
  }
}

/// One queued engine call: Run() on the engine thread, then Complete() hands the result back.
struct EngineOp {
  virtual ~EngineOp() = default;
  /// Calls the engine. Exceptions become Internal.
  virtual void Run() = 0;
  /// Resumes the caller; `group_seq` is the sequence number of the write group the call ran in
  /// (used when the call's own Applied::seq is 0, i.e. it wrote into the group's batch).
  virtual void Complete(uint64_t group_seq) = 0;
  /// Store operations the call makes (a batch call makes one per input): what counts towards a
  /// write group's bound.
  size_t weight = 1;
};

template <typename T, typename F, typename Handler, typename Executor>
struct TypedOp final : EngineOp {
  TypedOp(F f, Handler h, Executor ex, embedded::GroupCommit* c)
      : fn(std::move(f)), handler(std::move(h)), caller(std::move(ex)), commit(c) {}
  void Run() override { result.emplace(CallCaught<T>(fn)); }
  // With a GroupCommit, the caller is resumed only once what the call wrote or read is durable:
  // the syncer thread posts the resumption itself, so the caller's thread is woken once, not
  // once for the result and again after the fsync.
  void Complete(uint64_t group_seq) override {
    if (result->seq == 0) result->seq = group_seq;
    const uint64_t seq = result->seq;
    auto resume = std::make_shared<std::pair<Handler, Applied<T>>>(std::move(handler), std::move(*result));
    auto run = [resume]() mutable { std::move(resume->first)(std::move(resume->second)); };
    if (commit && seq > 0) {
      commit->WhenDurable(seq, [ex = caller, run]() mutable { boost::asio::post(ex, std::move(run)); });
    } else {
      boost::asio::dispatch(caller, std::move(run));
    }
  }
  F fn;
  Handler handler;
  Executor caller;
  embedded::GroupCommit* commit;  // null: no durability wait (async mode, or nothing to wait for)
  std::optional<Applied<T>> result;
};

}  // namespace

/// The engine thread. Every state-changing engine call is queued here and run by one thread,
/// which takes all calls queued meanwhile and runs them as write groups (Engine::BeginGroup): one
/// critical section, one batch and one db Write (one WAL append) for up to kMaxGroup store
/// operations (a batch call is one queued call of up to 1000 operations, never split).
/// Concurrent requests thus share the per-write costs, and request threads never contend for the
/// engine mutex among themselves. The engine holds one mutex for every change anyway, so one
/// thread loses no parallelism there; it saves the hand-offs that several pool threads fought
/// over (measured in docs/performance.md). Reads and Cleanup run on the side pool instead (see
/// RunSide), so a long cleanup or a disk read never holds up the writes.
namespace embedded {

struct EngineThread {
  /// A group closes once its calls made this many store operations (a batch call counts one per
  /// input, and is never split: a group then ends after it).
  static constexpr size_t kMaxGroup = 128;

  EngineThread(Engine& e, bool inline_ok) : engine(e), inline_calls(inline_ok), thread(1), side(2) {}

  /// Queues `op`; starts a drain on the engine thread unless one is running. O(1).
  void Submit(std::unique_ptr<EngineOp> op) {
    if (queue.Push(std::move(op))) boost::asio::post(thread, [this] { Drain(); });
  }

  /// Runs everything queued, in order, until the queue is empty.
  void Drain() {
    std::vector<std::unique_ptr<EngineOp>> taken;
    std::vector<EngineOp*> grouped;
    size_t weight = 0;  // store operations in the open group
    auto close_group = [&] {
      if (grouped.empty()) return;
      const uint64_t seq = engine.EndGroup();
      groups.fetch_add(1, std::memory_order_relaxed);
      for (EngineOp* op : grouped) op->Complete(seq);
      grouped.clear();
      weight = 0;
    };
    while (queue.Take(taken)) {
      grouped.reserve(std::min(taken.size(), kMaxGroup));
      for (auto& op : taken) {
        if (grouped.empty()) engine.BeginGroup();
        op->Run();  // never throws
        grouped.push_back(op.get());
        weight += op->weight;
        if (weight >= kMaxGroup) close_group();
      }
      close_group();
    }
  }

  Engine& engine;
  const bool inline_calls;          // EmbeddedOptions::inline_calls
  boost::asio::thread_pool thread;  // one thread
  boost::asio::thread_pool side;    // reads and Cleanup
  DrainQueue<std::unique_ptr<EngineOp>> queue;
  std::atomic<uint64_t> groups{0};  // write groups closed so far (inline ones included)
  std::atomic<uint64_t> inline_ops{0};  // calls run on the caller's thread (RunOp)
  std::atomic<uint64_t> queued_memory_ops{0};  // memory-only calls that found the engine busy
};

}  // namespace embedded

namespace {

const SystemClock kSystemClock;

/// Whether a call may run on its caller's thread (RunOp): only short, bounded state changes.
constexpr bool kMayInline = true;

using Need = embedded::DiskGuard::Need;

/// The answer of a call the DiskGuard refused, without queuing it.
template <typename T>
Async<Result<T>> Refused(Status s) {
  co_return Result<T>(std::move(s));
}
template <typename T>
Async<std::vector<Result<T>>> RefusedAll(Status s, size_t n) {
  co_return std::vector<Result<T>>(n, Result<T>(std::move(s)));
}

/// Runs `fn` (returns Applied<T>) in a write group, then waits until what it wrote or read is
/// durable. Exceptions become Internal. A call marked `may_inline` (a single, short state change:
/// create, claim of one task from a few commands, heartbeat, abandon, nack, result) runs on the
/// calling thread, as a group of its own, when the store allows it (EmbeddedOptions::inline_calls)
/// and the engine is idle (no drain running and the engine mutex free): that saves the two thread
/// hand-offs (engine thread woken, caller woken back), which cost more than the call itself on a
/// lightly loaded server. Otherwise, and always for batch calls and long ones (wildcard claims,
/// cleanups, repairs), it is queued to the engine thread and joins its next group, so an I/O
/// thread is never held up for long. Written with named awaitables only: GCC 12 may destroy
/// non-trivial temporaries of a co_await expression twice.
template <typename T, typename F>
Async<Result<T>> RunOp(embedded::EngineThread& pool, embedded::GroupCommit* commit, F fn, size_t weight = 1,
                       bool may_inline = false) {
  if (may_inline && pool.inline_calls && pool.queue.Idle() && pool.engine.TryBeginGroup()) {
    // The group is closed whatever happens in between (an engine call that changed something
    // and then threw has aborted the process already: Engine::Mutate).
    struct Closer {
      embedded::Engine& engine;
      bool open = true;
      uint64_t Close() {
        open = false;
        return engine.EndGroup();
      }
      ~Closer() {
        if (open) engine.EndGroup();
      }
    } closer{pool.engine};
    Applied<T> a = CallCaught<T>(fn);
    const uint64_t group_seq = closer.Close();
    pool.groups.fetch_add(1, std::memory_order_relaxed);
    pool.inline_ops.fetch_add(1, std::memory_order_relaxed);
    if (a.seq == 0) a.seq = group_seq;
    if (commit && a.seq > 0) {
      auto wait = commit->WaitDurable(a.seq);
      co_await std::move(wait);
    }
    co_return std::move(a.value);
  }
  auto initiation = [&pool, commit, weight](auto handler, F f) {
    auto caller = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                      boost::asio::execution::outstanding_work.tracked);
    auto op = std::make_unique<TypedOp<T, F, decltype(handler), decltype(caller)>>(
        std::move(f), std::move(handler), std::move(caller), commit);
    op->weight = weight;
    pool.Submit(std::move(op));
  };
  auto run = boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(Applied<T>)>(
      std::move(initiation), boost::asio::use_awaitable, std::move(fn));
  Applied<T> a = co_await std::move(run);  // resumed once durable (TypedOp::Complete)
  co_return std::move(a.value);
}

/// Runs `fn` (returns Applied<T>) on the side pool, outside write groups, then waits for
/// durability as RunOp. For the reads (they take no lock) and Cleanup (it writes chunk by chunk
/// between scans; each chunk takes the engine mutex between two groups).
template <typename T, typename F>
Async<Result<T>> RunSide(embedded::EngineThread& pool, embedded::GroupCommit* commit, F fn) {
  auto safe = [fn = std::move(fn)]() mutable -> Applied<T> { return CallCaught<T>(fn); };
  auto op = RunOnPool<Applied<T>>(pool.side, std::move(safe));
  Applied<T> a = co_await std::move(op);
  if (commit && a.seq > 0) {
    auto wait = commit->WaitDurable(a.seq);
    co_await std::move(wait);
  }
  co_return std::move(a.value);
}

/// A memory-only engine call (`fn()` returns T; ListCommands, Stats, …). Runs at once on the
/// calling thread when the engine mutex is free; otherwise it is queued to the engine thread and
/// runs inside the next group, so the calling (I/O) thread never blocks behind a running write
/// group. With `durable`, then waits until every write it may have seen is durable, as RunOp.
template <typename T, typename F>
Async<Result<T>> RunMemoryOp(embedded::Engine& engine, embedded::EngineThread& pool,
                             embedded::GroupCommit* commit, bool durable, F fn) {
  std::optional<T> value;
  std::optional<Status> failed;
  uint64_t seq = 0;
  if (engine.TryLocked([&] {
        try {
          value.emplace(fn());
        } catch (const std::exception& e) {  // as TypedOp::Run on the queued path
          failed = Internal(std::string("store error: ") + e.what());
        }
        seq = engine.db()->GetLatestSequenceNumber();  // no group is open: all it saw is written
      })) {
    if (failed) co_return *failed;
    if (durable && commit) {
      auto wait = commit->WaitDurable(seq);
      co_await std::move(wait);
    }
    co_return std::move(*value);
  }
  pool.queued_memory_ops.fetch_add(1, std::memory_order_relaxed);
  auto queued = RunOp<T>(pool, durable ? commit : nullptr,
                         [fn = std::move(fn)]() mutable { return Applied<T>{fn(), 0}; });
  co_return co_await std::move(queued);
}

}  // namespace

Result<std::shared_ptr<EmbeddedStore>> EmbeddedStore::Open(EmbeddedOptions options) {
  if (options.min_free_disk_bytes > 0) {
    // RocksDB writes at open: a new WAL and MANIFEST, and, when the write-ahead log to replay
    // fills a memtable, an SST of it (DbOptions sets avoid_flush_during_recovery, which avoids
    // the flush only below that). On a full filesystem that fails inside librocksdb (Debian's
    // build even asserts), so it is refused here with the figures, counting the whole log. The
    // directory may not exist yet: its nearest existing parent is on the same filesystem.
    namespace fs = std::filesystem;
    fs::path at = fs::absolute(options.data_dir);
    std::error_code ec;
    while (!fs::exists(at, ec) && at.has_parent_path() && at != at.parent_path()) at = at.parent_path();
    uint64_t wal_bytes = 0;
    for (const auto& e : fs::directory_iterator(fs::path(options.data_dir) / "db", ec)) {
      std::error_code size_ec;
      const uint64_t size = e.file_size(size_ec);
      if (e.path().extension() == ".log" && !size_ec) wal_bytes += size;
    }
    const uint64_t free = options.free_disk_bytes ? options.free_disk_bytes() : embedded::DiskGuard::FreeBytes(at.string());
    const uint64_t need = std::min<uint64_t>(uint64_t{16} << 20, options.min_free_disk_bytes / 2) + wal_bytes;
    if (free < need) {
      constexpr uint64_t kMiB = 1 << 20;
      return Unavailable("data directory " + options.data_dir + ": only " + std::to_string(free / kMiB) +
                         " MiB free on its filesystem; the embedded store needs " +
                         std::to_string((need + kMiB - 1) / kMiB) + " MiB to open (" +
                         std::to_string((wal_bytes + kMiB - 1) / kMiB) +
                         " MiB of write-ahead log to replay, and a margin): free some space");
    }
  }
  auto engine = embedded::Engine::Open(options);
  if (!engine.ok()) return engine.status();
  return std::shared_ptr<EmbeddedStore>(new EmbeddedStore(std::move(options), std::move(engine).value()));
}

EmbeddedStore::EmbeddedStore(EmbeddedOptions options, std::unique_ptr<embedded::Engine> engine)
    : options_(std::move(options)), engine_(std::move(engine)) {
  if (options_.sync) commit_ = std::make_unique<embedded::GroupCommit>(engine_->db());
  pool_ = std::make_unique<embedded::EngineThread>(*engine_, options_.inline_calls);
  // What flushes of the memtables will still write is counted as used: a flush (up to three 64 MB
  // memtables) that ran the disk out stopped the server in a break test while the guard saw room.
  std::function<uint64_t()> reading = options_.free_disk_bytes;
  if (!reading) reading = [dir = options_.data_dir] { return embedded::DiskGuard::FreeBytes(dir); };
  auto free_after_flushes = [reading = std::move(reading), engine = engine_.get()] {
    const uint64_t free = reading();
    const uint64_t pending = engine->UnflushedBytes();
    return free > pending ? free - pending : 0;
  };
  disk_ = std::make_unique<embedded::DiskGuard>(options_.data_dir, options_.min_free_disk_bytes, std::move(free_after_flushes),
                                                std::chrono::milliseconds(std::max<int64_t>(0, options_.disk_check_interval_ms)));
  (void)disk_->Check(embedded::DiskGuard::Need::kNewTasks);  // a first reading: low space is logged at start-up
  if (options_.timer_interval_ms > 0) {
    const Clock& clock = options_.clock ? *options_.clock : kSystemClock;
    background_ = std::make_unique<embedded::Background>(*engine_, clock, options_.timer_interval_ms);
    engine_->SetDueHook([bg = background_.get()](int64_t ms) { bg->Kick(ms); });
    background_->Start();
  }
}

EmbeddedStore::~EmbeddedStore() {
  pool_->side.join();
  pool_->thread.join();   // in-flight operations finish (nothing new may be started now)
  background_.reset();  // the timer thread stops
  commit_.reset();      // whatever still waits is fsynced and answered
  engine_.reset();      // memtable flushed, database closed
}

Async<Result<CreateOutcome>> EmbeddedStore::CreateTask(CreateTaskInput in) {
  if (Status room = Room(Need::kNewTasks); !room.ok()) return Refused<CreateOutcome>(std::move(room));
  return RunOp<CreateOutcome>(*pool_, commit_.get(), [this, in = std::move(in)] { return engine_->Create(in); },
                     1, kMayInline);
}

namespace {

/// Runs `one(input)` (an engine call returning Applied<T>) for every input, in order, as one
/// queued engine call (so inside one write group), then waits once until all of it is durable.
/// One outcome per input. An exception out of one input's call answers that input with Internal:
/// an engine call either changes nothing before it throws or aborts (Engine::Mutate), so the
/// inputs before and after it stand.
template <typename T, typename Input, typename F>
Async<std::vector<Result<T>>> RunBatch(embedded::EngineThread& pool, embedded::GroupCommit* commit,
                                       std::vector<Input> inputs, F one) {
  const size_t n = inputs.size();
  auto apply = [inputs = std::move(inputs), one]() {
    std::vector<Result<T>> out;
    out.reserve(inputs.size());
    uint64_t seq = 0;
    for (const Input& in : inputs) {
      try {
        Applied<T> a = one(in);
        seq = std::max(seq, a.seq);
        out.push_back(std::move(a.value));
      } catch (const std::exception& e) {
        out.push_back(Internal(std::string("store error: ") + e.what()));
      }
    }
    return Applied<std::vector<Result<T>>>{std::move(out), seq};
  };
  auto run = RunOp<std::vector<Result<T>>>(pool, commit, std::move(apply), std::max<size_t>(n, 1));
  Result<std::vector<Result<T>>> all = co_await std::move(run);
  if (!all.ok()) co_return std::vector<Result<T>>(n, all.status());
  co_return std::move(*all);
}

}  // namespace

Async<std::vector<Result<CreateOutcome>>> EmbeddedStore::CreateTasks(std::vector<CreateTaskInput> inputs) {
  if (Status room = Room(Need::kNewTasks); !room.ok()) return RefusedAll<CreateOutcome>(std::move(room), inputs.size());
  return RunBatch<CreateOutcome>(*pool_, commit_.get(), std::move(inputs),
                                 [this](const CreateTaskInput& in) { return engine_->Create(in); });
}

Async<std::vector<Result<Task>>> EmbeddedStore::SubmitResults(std::vector<SubmitResultInput> inputs) {
  if (Status room = Room(Need::kStateChange); !room.ok()) return RefusedAll<Task>(std::move(room), inputs.size());
  return RunBatch<Task>(*pool_, commit_.get(), std::move(inputs),
                        [this](const SubmitResultInput& in) { return engine_->SubmitResult(in); });
}

Async<Result<std::vector<Task>>> EmbeddedStore::ClaimTasks(ClaimInput in, int max_tasks) {
  if (Status room = Room(Need::kStateChange); !room.ok()) return Refused<std::vector<Task>>(std::move(room));
  // One task from a few commands is short; many tasks or a wildcard over every command of the
  // tenant go to the engine thread.
  const bool short_call = max_tasks <= 1 && in.commands.size() <= 8;
  return RunOp<std::vector<Task>>(
      *pool_, commit_.get(), [this, in = std::move(in), max_tasks] { return engine_->ClaimMany(in, max_tasks); },
      1, short_call);
}

Async<Result<RepairOutcome>> EmbeddedStore::RepairExpired(RepairInput in) {
  return RunOp<RepairOutcome>(*pool_, commit_.get(), [this, in = std::move(in)] { return engine_->Repair(in); });
}

Async<Result<Task>> EmbeddedStore::Heartbeat(HeartbeatInput in) {
  if (Status room = Room(Need::kStateChange); !room.ok()) return Refused<Task>(std::move(room));
  return RunOp<Task>(*pool_, commit_.get(), [this, in = std::move(in)] { return engine_->Heartbeat(in); },
                     1, kMayInline);
}

Async<Result<Task>> EmbeddedStore::Abandon(TaskRef in) {
  if (Status room = Room(Need::kStateChange); !room.ok()) return Refused<Task>(std::move(room));
  return RunOp<Task>(*pool_, commit_.get(), [this, in = std::move(in)] { return engine_->Abandon(in); },
                     1, kMayInline);
}

Async<Result<NackOutcome>> EmbeddedStore::Nack(NackInput in) {
  if (Status room = Room(Need::kStateChange); !room.ok()) return Refused<NackOutcome>(std::move(room));
  return RunOp<NackOutcome>(*pool_, commit_.get(), [this, in = std::move(in)] { return engine_->Nack(in); },
                     1, kMayInline);
}

Async<Result<Task>> EmbeddedStore::SubmitResult(SubmitResultInput in) {
  if (Status room = Room(Need::kStateChange); !room.ok()) return Refused<Task>(std::move(room));
  return RunOp<Task>(*pool_, commit_.get(), [this, in = std::move(in)] { return engine_->SubmitResult(in); },
                     1, kMayInline);
}

Async<Result<Task>> EmbeddedStore::GetTask(std::string tenant, std::string task_id) {
  return RunSide<Task>(*pool_, commit_.get(), [this, tenant = std::move(tenant), id = std::move(task_id)] {
    return engine_->GetTask(tenant, id);
  });
}

Async<Result<TaskResult>> EmbeddedStore::GetResult(std::string tenant, std::string task_id) {
  return RunSide<TaskResult>(*pool_, commit_.get(), [this, tenant = std::move(tenant), id = std::move(task_id)] {
    return engine_->GetResult(tenant, id);
  });
}

Async<Result<std::vector<std::string>>> EmbeddedStore::ListCommands(std::string tenant) {
  return RunMemoryOp<std::vector<std::string>>(*engine_, *pool_, commit_.get(), true,
                                               [this, tenant = std::move(tenant)] {
                                                 return engine_->ListCommands(tenant);
                                               });
}

Async<Result<QueueStats>> EmbeddedStore::Stats(std::string tenant, std::string command) {
  return RunMemoryOp<QueueStats>(*engine_, *pool_, commit_.get(), true,
                                 [this, tenant = std::move(tenant), command = std::move(command)] {
                                   return engine_->Stats(tenant, command);
                                 });
}

Async<Result<int64_t>> EmbeddedStore::Cleanup(CleanupInput in) {
  return RunSide<int64_t>(*pool_, commit_.get(), [this, in = std::move(in)] { return engine_->Cleanup(in); });
}

Async<VoidResult> EmbeddedStore::Ping() { co_return engine_->Ping(); }

Status EmbeddedStore::AdmitStateChange() { return Room(Need::kStateChange); }

Status EmbeddedStore::Room(embedded::DiskGuard::Need need) {
  // After a background error (a flush that ran the disk out) RocksDB refuses writes until it is
  // resumed; the guard alone would keep refusing too, as the memtable it cannot flush counts as
  // used. So recovery is tried here (at most once per second), ahead of the guard.
  if (engine_->WritesStopped() && !engine_->TryResume()) return Unavailable("store unavailable");
  return disk_->Check(need);
}

// --- outbox ------------------------------------------------------------------------------------

Async<Result<std::vector<OutboxEntry>>> EmbeddedStore::ClaimDueCallbacks(int64_t now_ms, int64_t lease_ms,
                                                                         int limit) {
  return RunOp<std::vector<OutboxEntry>>(*pool_, commit_.get(), [this, now_ms, lease_ms, limit] {
    return engine_->ClaimCallbacks(now_ms, lease_ms, limit);
  });
}

Async<VoidResult> EmbeddedStore::FinishCallback(std::string task_id) {
  return RunOp<Unit>(*pool_, commit_.get(),
                     [this, id = std::move(task_id)] { return engine_->FinishCallback(id); });
}

Async<VoidResult> EmbeddedStore::RetryCallback(std::string task_id, int attempts, int64_t due_ms) {
  return RunOp<Unit>(*pool_, commit_.get(), [this, id = std::move(task_id), attempts, due_ms] {
    return engine_->RetryCallback(id, attempts, due_ms);
  });
}

// --- subscriptions -----------------------------------------------------------------------------

Async<VoidResult> EmbeddedStore::CreateSubscription(Subscription sub) {
  if (Status room = Room(Need::kStateChange); !room.ok()) return Refused<Unit>(std::move(room));
  return RunOp<Unit>(*pool_, commit_.get(),
                     [this, sub = std::move(sub)] { return engine_->CreateSubscription(sub); });
}

Async<Result<Subscription>> EmbeddedStore::RenewSubscription(std::string tenant, std::string id,
                                                             int64_t expires_at_sec,
                                                             std::string expires_at_text) {
  if (Status room = Room(Need::kStateChange); !room.ok()) return Refused<Subscription>(std::move(room));
  return RunOp<Subscription>(*pool_, commit_.get(),
                             [this, tenant = std::move(tenant), id = std::move(id), expires_at_sec,
                              text = std::move(expires_at_text)] {
                               return engine_->RenewSubscription(tenant, id, expires_at_sec, text);
                             });
}

Async<Result<std::vector<Subscription>>> EmbeddedStore::ActiveSubscriptions(std::string command,
                                                                            int64_t now_sec, int limit) {
  return RunMemoryOp<std::vector<Subscription>>(*engine_, *pool_, commit_.get(), true,
                                                [this, command = std::move(command), now_sec, limit] {
                                                  return engine_->ActiveSubscriptions(command, now_sec, limit);
                                                });
}

Async<Result<std::vector<Subscription>>> EmbeddedStore::ListSubscriptions(int64_t now_sec, int limit) {
  return RunMemoryOp<std::vector<Subscription>>(*engine_, *pool_, commit_.get(), true, [this, now_sec, limit] {
    return engine_->ListSubscriptions(now_sec, limit);
  });
}

// Throttle and round-robin counters live in memory only (nothing to make durable).
Async<Result<bool>> EmbeddedStore::TryThrottle(std::string sub_id, int interval_seconds, int64_t now_ms) {
  return RunMemoryOp<bool>(*engine_, *pool_, commit_.get(), false,
                           [this, sub_id = std::move(sub_id), interval_seconds, now_ms] {
                             return engine_->TryThrottle(sub_id, interval_seconds, now_ms);
                           });
}

Async<Result<int64_t>> EmbeddedStore::NextRoundRobin(std::string command, std::string group_id) {
  return RunMemoryOp<int64_t>(*engine_, *pool_, commit_.get(), false,
                              [this, command = std::move(command), group_id = std::move(group_id)] {
                                return engine_->NextRoundRobin(command, group_id);
                              });
}

Async<Result<int64_t>> EmbeddedStore::CleanupSubscriptions(int64_t now_sec, int limit) {
  return RunOp<int64_t>(*pool_, commit_.get(), [this, now_sec, limit] {
    return engine_->CleanupSubscriptions(now_sec, limit > 0 ? limit : 1000);
  });
}

Async<Result<int64_t>> EmbeddedStore::CountActiveSubscriptions(std::string command, int64_t now_sec) {
  return RunMemoryOp<int64_t>(*engine_, *pool_, commit_.get(), true, [this, command = std::move(command), now_sec] {
    return engine_->CountActiveSubscriptions(command, now_sec);
  });
}

// --- promotion ---------------------------------------------------------------------------------

Async<Result<Store::PromoteOutcome>> EmbeddedStore::PromoteDue(std::string tenant, std::string command,
                                                               int64_t now_sec, int limit) {
  return RunOp<PromoteOutcome>(*pool_, commit_.get(),
                               [this, tenant = std::move(tenant), command = std::move(command), now_sec, limit] {
                                 return engine_->PromoteDue(tenant, command, now_sec, limit);
                               });
}

void EmbeddedStore::SetReadyListener(ReadyListener listener) {
  if (background_) background_->SetReadyListener(std::move(listener));
}

void EmbeddedStore::SetBackgroundRepair(BackoffFn backoff, int max_attempts_default,
                                        RepairListener on_repaired) {
  if (background_) background_->SetRepair(std::move(backoff), max_attempts_default, std::move(on_repaired));
}

uint64_t EmbeddedStore::WriteGroupCount() const { return pool_->groups.load(); }

uint64_t EmbeddedStore::QueuedMemoryOpCount() const { return pool_->queued_memory_ops.load(); }

uint64_t EmbeddedStore::InlineOpCount() const { return pool_->inline_ops.load(); }

uint64_t EmbeddedStore::WalSyncCount() const { return commit_ ? commit_->sync_count() : 0; }

}  // namespace codeq
