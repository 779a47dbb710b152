// The Store interface: atomic domain operations over one backend (ARCHITECTURE.md, store/).
//
// Every method is one atomic unit in the backend (Redis: one Lua script per state change;
// embedded: one critical section + one WriteBatch). Errors: NotFound for unknown ids and for ids of
// another tenant (SPEC D6), Forbidden("not-owner"), Conflict("not-in-progress"), Unavailable for a
// backend that does not answer (SPEC D8). Times are epoch milliseconds unless a name says seconds.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "domain/status.h"
#include "domain/subscription.h"
#include "domain/task.h"

namespace codeq {

template <typename T>
using Async = boost::asio::awaitable<T>;

/// The moment of an operation: epoch milliseconds and the same instant formatted for records
/// (FormatTimestamp, configured zone).
struct Now {
  int64_t ms = 0;
  std::string text;
  int64_t seconds() const { return ms / 1000; }
};

/// Retention window added to "last touch" for `codeq:tasks:ttl` (SPEC §4.6): 24 h.
inline constexpr int64_t kRetentionSeconds = 86400;
/// Idempotency key TTL (SPEC §2.3.2): 24 h.
inline constexpr int64_t kIdempotencyTtlSeconds = 86400;

/// Delay in whole seconds for a retry given the task's attempts so far (SPEC §5, D2).
using BackoffFn = std::function<int64_t(int attempts)>;

struct CreateTaskInput {
  /// Fully built record: id (fresh UUID), command, payload, priority (0..9), webhook, max_attempts,
  /// tenant_id, status PENDING, created_at = updated_at = now.text.
  Task task;
  /// Visible time in epoch seconds; > now.seconds() puts the task in the delayed set (score =
  /// this value), otherwise it goes to the head of its pending tier.
  int64_t visible_at_sec = 0;
  /// Idempotency key (already trimmed); empty = none. Scoped by task.tenant_id (SPEC D6).
  std::string idempotency_key;
  Now now;
};

struct CreateOutcome {
  Task task;              // the new task, or the existing one on an idempotent replay
  bool replayed = false;  // true when the idempotency key matched an existing task (SPEC D18)
  /// Ready depth (all 10 tiers) of the task's own (tenant, command) queue right after the push;
  /// 0 for a delayed task and for a replay. 1 = the queue went from empty to ready (SPEC §6.2, D16),
  /// the only value the notifications act on. Above 1 it may be a lower bound: the Redis store
  /// counts only the task's own tier when that tier already held tasks, and otherwise the number
  /// of non-empty tiers (one EXISTS instead of 10 LLENs per create).
  int64_t ready_depth = 0;
  /// TaskToJsonText(task) when the store has it at hand (the embedded store: the record text it
  /// just wrote for a new task), so the answer needs no second encoding; empty otherwise.
  std::string task_json = {};
};

struct ClaimInput {
  std::string worker_id;              // token `sub`, non-empty
  std::string tenant;                 // worker's resolved tenant ("" = unscoped keys)
  std::vector<std::string> commands;  // in preference order, at least one
  int64_t lease_seconds = 300;        // already defaulted and clamped
  int inspect_limit = 200;            // requeueInspectLimit: max delayed ids promoted per command
  Now now;
};

struct RepairInput {
  std::string tenant;
  std::vector<std::string> commands;
  int inspect_limit = 200;  // sample size of in-progress ids checked per command
  int max_attempts_default = 5;
  BackoffFn backoff;        // delay for a lease-expiry requeue
  Now now;
};

struct RepairOutcome {
  /// One entry per expired/missing lease found, labelled with the claim's command string
  /// (metric codeq_lease_expired_total, SPEC §7).
  std::vector<std::string> expired_commands;
  /// Tasks dead-lettered by the repair (their FAILED result record is stored, SPEC D11).
  std::vector<Task> dead_lettered;
};

struct HeartbeatInput {
  std::string tenant, task_id, worker_id;
  int64_t extend_seconds = 300;  // already defaulted and clamped
  Now now;
};

struct TaskRef {
  std::string tenant, task_id, worker_id;
  Now now;
};

struct NackInput {
  std::string tenant, task_id, worker_id;
  /// > 0: explicit delay; otherwise backoff(task.attempts). Either is then capped at max_delay_seconds.
  int64_t delay_seconds = 0;
  int64_t max_delay_seconds = 900;
  BackoffFn backoff;
  std::string reason;            // DLQ error text; empty -> "MAX_ATTEMPTS"
  int max_attempts_default = 5;  // used when the task's maxAttempts <= 0
  Now now;
};

struct NackOutcome {
  bool dead_lettered = false;
  int64_t delay_seconds = 0;  // 0 when dead-lettered
  Task task;                  // the task after the transition
};

struct SubmitResultInput {
  std::string tenant, task_id, worker_id;
  TaskResult result;  // task_id, status, result, error, artifacts (already written), completed_at
  Now now;
};

struct CleanupInput {
  int64_t before_sec = 0;
  int limit = 1000;
  bool include_active = false;  // SPEC D12: also remove non-terminal tasks past retention
  /// nullopt: every tenant; otherwise only tasks of this tenant ("" = unscoped tasks).
  std::optional<std::string> tenant;
  Now now;
};

/// A pending result callback in the durable outbox (SPEC §6.1, D16). One per task: it is written
/// in the same atomic unit as the task's terminal transition (result submission, or a dead-letter
/// move by nack/repair/background timer, D11) whenever the task has a non-empty `webhook`, and
/// removed when delivered or given up. The callback body is built at delivery time from the task
/// and its result record.
///
/// Redis keys (our addition to SPEC §4.1): zset `codeq:webhooks:outbox` (member = task id,
/// score = due epoch ms) and hash `codeq:webhooks:outbox:data` (task id -> JSON
/// {"url","tenantId","command","attempts"}).
struct OutboxEntry {
  std::string task_id;
  std::string url;      // the task's webhook
  std::string tenant;   // the task's tenantId ("" = unscoped), for GetTask/GetResult
  std::string command;  // the task's command as created (metrics label)
  int attempts = 0;     // delivery attempts already made
  int64_t due_ms = 0;   // next attempt not before this epoch ms
};

/// A backend. Implementations are thread-safe; every method may be awaited from any executor and
/// resumes on an executor of the caller's choosing (the one it was awaited from).
class Store {
 public:
  virtual ~Store() = default;

  /// Creates a task, or replays an idempotency key (SPEC §2.3, §2.3.2, D6, D18). Also records the
  /// command in the known-commands set (D5) and sets retention (scheduled: max(now, visible) + 24h).
  virtual Async<Result<CreateOutcome>> CreateTask(CreateTaskInput in) = 0;

  /// CreateTask for every input, with one outcome per input in the same order: the outcomes of
  /// running the inputs one after another in that order (an input whose idempotency key an
  /// earlier one used replays it). Each input is still its own atomic change, so one failing
  /// input (a store error) does not undo the others. For the batch endpoint (issue 7). The
  /// default runs the inputs as concurrent CreateTask calls, inputs with the same idempotency key
  /// in order (RunInWaves), so independent inputs may reach their queue in another order; both
  /// stores override it and apply the inputs in order (embedded: one engine call and one write
  /// group; Redis: one script call per 100 inputs).
  virtual Async<std::vector<Result<CreateOutcome>>> CreateTasks(std::vector<CreateTaskInput> inputs);

  /// One claim attempt (SPEC §4.8 with D3, D4): promotes due delayed tasks of the commands, then
  /// for p = 9..0, for each command in order, pops the oldest id, marks it IN_PROGRESS with a lease
  /// for worker_id, attempts += 1. nullopt when nothing is ready. O(commands × 10) pops.
  /// ClaimTasks with max_tasks 1.
  Async<Result<std::optional<Task>>> ClaimTask(ClaimInput in) {
    auto call = ClaimTasks(std::move(in), 1);  // a named awaitable: GCC 12 and co_await temporaries
    Result<std::vector<Task>> claimed = co_await std::move(call);
    if (!claimed.ok()) co_return claimed.status();
    if (claimed->empty()) co_return std::optional<Task>();
    co_return std::optional<Task>(std::move(claimed->front()));
  }

  /// Up to `max_tasks` (≥ 1) ClaimTask attempts one after the other in one store call (embedded:
  /// one critical section and one write; Redis: one script call, one atomic unit): fewer only when
  /// nothing more is ready, in the order single claims would have taken them. An error after some
  /// claims returns those (they are leased to the worker); before any, the error. O(max_tasks +
  /// commands × 10) pops.
  virtual Async<Result<std::vector<Task>>> ClaimTasks(ClaimInput in, int max_tasks) = 0;

  /// Requeues (with backoff) or dead-letters in-progress tasks of the commands whose lease expired
  /// or is missing; removes stale in-progress entries of tasks that are not IN_PROGRESS (D3).
  virtual Async<Result<RepairOutcome>> RepairExpired(RepairInput in) = 0;

  /// Extends the caller's lease (SPEC §2.5, D10). Errors: NotFound("not-found"),
  /// Forbidden("not-owner"), Conflict("not-in-progress").
  virtual Async<Result<Task>> Heartbeat(HeartbeatInput in) = 0;

  /// Puts an owned IN_PROGRESS task back at the head of its pending tier, attempts unchanged
  /// (SPEC §2.6, D10). Errors as Heartbeat. Returns the task after the change.
  virtual Async<Result<Task>> Abandon(TaskRef in) = 0;

  /// NACK (SPEC §2.7, §4.9, D2, D11). Errors: NotFound("not-found"), Forbidden("not-owner"),
  /// Conflict("not-in-progress").
  virtual Async<Result<NackOutcome>> Nack(NackInput in) = 0;

  /// Stores a result and finishes the task (SPEC §2.8 step 7, D3, D11). Errors:
  /// NotFound("task not found"), Forbidden("not-owner"), Conflict("not-in-progress").
  virtual Async<Result<Task>> SubmitResult(SubmitResultInput in) = 0;

  /// SubmitResult for every input, with one outcome per input in the same order: the outcomes of
  /// running the inputs one after another in that order (a second input for the same task gets
  /// Conflict("not-in-progress")). Each input is its own atomic change. For the batch endpoint
  /// (issue 7). The default runs them as concurrent SubmitResult calls, inputs for the same task
  /// in order (RunInWaves); both stores override it and apply them in order (embedded: one engine
  /// call; Redis: one script call per 100 inputs).
  virtual Async<std::vector<Result<Task>>> SubmitResults(std::vector<SubmitResultInput> inputs);

  /// The task, NotFound("not found") when unknown or of another tenant.
  virtual Async<Result<Task>> GetTask(std::string tenant, std::string task_id) = 0;

  /// The result record of a task: NotFound("task not found") / NotFound("result not found").
  virtual Async<Result<TaskResult>> GetResult(std::string tenant, std::string task_id) = 0;

  /// Commands that ever had a task in this tenant, as submitted, sorted (SPEC D5).
  virtual Async<Result<std::vector<std::string>>> ListCommands(std::string tenant) = 0;

  /// Depths of one command's queues for the tenant (SPEC §1.6, D7). Unknown commands give zeros.
  virtual Async<Result<QueueStats>> Stats(std::string tenant, std::string command) = 0;

  /// Deletes tasks whose retention deadline is before `before_sec` (SPEC §4.10, D12) with their
  /// result, lease, idempotency and queue entries. Returns the number deleted.
  virtual Async<Result<int64_t>> Cleanup(CleanupInput in) = 0;

  /// Whether the backend answers (for /healthz). Unavailable when it does not.
  virtual Async<VoidResult> Ping() = 0;

  /// Ok when the store would take a state change now; Unavailable("store unavailable") when it
  /// refuses them before trying (the embedded store with its disk nearly full). For callers that
  /// write something of their own before the store call (result artifacts): they ask first, so
  /// nothing is left behind by a call the store refuses. O(1); never a round trip.
  virtual Status AdmitStateChange() { return Status::Ok(); }

  // --- Durable outbox of result callbacks (SPEC §6.1, D16) ---

  /// Up to `limit` outbox entries due at or before `now_ms`, oldest due first. Each returned entry
  /// is leased: its due time is moved to now_ms + lease_ms, so a crash mid-delivery retries it after
  /// the lease and a second server does not deliver it concurrently. O(limit log N).
  virtual Async<Result<std::vector<OutboxEntry>>> ClaimDueCallbacks(int64_t now_ms, int64_t lease_ms,
                                                                    int limit) = 0;
  /// Removes an entry (delivered, or given up after the last attempt). Unknown ids are not an error.
  virtual Async<VoidResult> FinishCallback(std::string task_id) = 0;
  /// Records a failed attempt: stores `attempts` and the next due time (epoch ms). Unknown ids are
  /// not an error (a concurrent finish won).
  virtual Async<VoidResult> RetryCallback(std::string task_id, int attempts, int64_t due_ms) = 0;

  // --- Worker-availability subscriptions (SPEC §2.11, §2.12, §6.2, D16) ---

  /// Stores a new subscription (fully built: id, times, defaults applied) and indexes it under
  /// each of its event types (lower-cased command) with score expires_at_sec. One atomic unit.
  virtual Async<VoidResult> CreateSubscription(Subscription sub) = 0;
  /// Renewal (SPEC §2.12): sets expires_at/expires_at_sec and re-scores every event type.
  /// NotFound("not-found") when unknown or of another tenant (D6). Returns the updated record.
  virtual Async<Result<Subscription>> RenewSubscription(std::string tenant, std::string id,
                                                        int64_t expires_at_sec,
                                                        std::string expires_at_text) = 0;
  /// Subscriptions indexed under `command` (any case; lower-cased for the index) with expiry
  /// >= now_sec, ascending expiry, at most `limit` (SPEC §6.2 step 1). Missing or expired entries
  /// met on the way are removed from the index. All tenants: callers filter by tenant_id.
  virtual Async<Result<std::vector<Subscription>>> ActiveSubscriptions(std::string command,
                                                                       int64_t now_sec,
                                                                       int limit) = 0;
  /// Every active (expiry >= now_sec) subscription, any command, at most `limit`: lets the notifier
  /// learn which (tenant, command) pairs are watched. O(subscriptions).
  virtual Async<Result<std::vector<Subscription>>> ListSubscriptions(int64_t now_sec, int limit) = 0;
  /// Per-subscription rate limit (SPEC §6.2 step 6): true when no notification was sent to `sub_id`
  /// within the last `interval_seconds` (and marks one now). Redis: SET codeq:subs:last:<id> 1 NX EX.
  /// Embedded: in memory (lost on restart, which only allows one early notification).
  virtual Async<Result<bool>> TryThrottle(std::string sub_id, int interval_seconds, int64_t now_ms) = 0;
  /// Round-robin counter of a group (SPEC §6.2 step 4): INCR codeq:subs:rr:<cmd lower>:<groupId>.
  /// Returns the value after the increment (first call 1). Embedded: in memory.
  virtual Async<Result<int64_t>> NextRoundRobin(std::string command, std::string group_id) = 0;
  /// Removes subscriptions expired before now_sec (record, every index entry, throttle key), at
  /// most `limit`; fixes stale index scores (SPEC §6.2 cleanup loop, over every command, D5).
  /// Returns the number removed.
  virtual Async<Result<int64_t>> CleanupSubscriptions(int64_t now_sec, int limit) = 0;
  /// Number of subscriptions indexed under `command` with expiry >= now_sec (gauge
  /// codeq_subscriptions_active, SPEC §7). O(log N).
  virtual Async<Result<int64_t>> CountActiveSubscriptions(std::string command, int64_t now_sec) = 0;

  /// Moves due delayed tasks (visible time <= now) of one (tenant, command) queue to their ready
  /// tiers, at most `limit` (SPEC §4.8 promotion). Returns {moved, ready depth after}. Lets the
  /// service notify subscribers of due work when no worker is polling. The embedded store also
  /// does this on its own timer (then usually 0 moved).
  struct PromoteOutcome {
    int64_t moved = 0;
    int64_t ready_depth = 0;
  };
  virtual Async<Result<PromoteOutcome>> PromoteDue(std::string tenant, std::string command,
                                                   int64_t now_sec, int limit) = 0;

  /// Observer of background lease repairs (commands whose leases expired, tasks dead-lettered), for
  /// metrics. Called from a backend thread.
  using RepairListener = std::function<void(const RepairOutcome&)>;
  /// Lets a backend with its own timer (embedded) repair expired leases in the background with
  /// this backoff (see EmbeddedStore). A no-op for backends without one (Redis repairs at claim
  /// time only). Set before serving.
  virtual void SetBackgroundRepair(BackoffFn backoff, int max_attempts_default,
                                   RepairListener on_repaired = nullptr) {}

  /// Called (from any thread) when a backend-internal event makes work ready without a request:
  /// a delayed task promoted or an expired lease requeued by a background timer. Lets the service
  /// wake long-polling claims (ReadySignal). Backends without background work ignore it. Set once,
  /// before serving; an empty function detaches (thread-safe).
  using ReadyListener = std::function<void(const std::string& tenant, const std::string& command)>;
  virtual void SetReadyListener(ReadyListener listener) {}
};

}  // namespace codeq
