// The Scheduler facade: queue semantics that do not depend on storage (ARCHITECTURE.md, service/).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <optional>
#include <string>
#include <vector>

#include "domain/clock.h"
#include "metrics/metrics.h"
#include "service/backoff.h"
#include "service/ready_signal.h"
#include "store/store.h"

namespace codeq {

/// Largest batch of the batch endpoints and of a multi-task claim (D15).
inline constexpr int kMaxBatchSize = 1000;

/// Knobs of the queue semantics, taken from the Config (SPEC §8.2 names in comments).
struct SchedulerOptions {
  int64_t default_lease_seconds = 300;  // defaultLeaseSeconds
  int64_t max_lease_seconds = 86400;    // maxLeaseSeconds (D15)
  int inspect_limit = 200;              // requeueInspectLimit
  int max_attempts_default = 5;         // maxAttemptsDefault
  int max_attempts_limit = 1000;        // D15 clamp
  BackoffPolicy backoff;                // backoffPolicy, backoffBaseSeconds, backoffMaxSeconds
  std::string artifacts_dir = "/tmp/codeq-artifacts";  // localArtifactsDir
  std::chrono::milliseconds poll_interval{250};        // SPEC §2.4 re-check interval
  int64_t max_wait_seconds = 30;                       // SPEC §2.4 / D15
  int subscription_min_interval_seconds = 5;  // subscriptionMinIntervalSeconds (D16 default)
  /// Claim-time lease repair (SPEC §4.8) runs at most once per this interval per (tenant,
  /// commands) instead of before every claim attempt (issue 7: it dominated the claim cost).
  /// 0 = before every attempt, as in SPEC.
  std::chrono::milliseconds repair_interval{250};
};

/// Observers of queue events that drive webhooks (webhooks/), set once before serving. Each is
/// called on the request's thread right after the store change and must not block.
struct SchedulerHooks {
  /// A (tenant, command) queue got `added` ready tasks (0 = unknown) and has `depth` ready tasks
  /// now (-1 = unknown): create, abandon, background promotion (SPEC §6.2, D16).
  std::function<void(const std::string& tenant, const std::string& command, int64_t added, int64_t depth)>
      on_ready;
  /// A result callback entered the durable outbox (SPEC §6.1, D11).
  std::function<void()> on_callback_enqueued;
  /// Subscriptions were created or renewed.
  std::function<void()> on_subscriptions_changed;
};

/// A subscription request after decoding and token checks by api/ (SPEC §2.11).
struct SubscriptionRequest {
  std::string tenant, worker_id;
  std::string callback_url;
  std::vector<std::string> event_types;  // non-empty, valid commands
  int64_t ttl_seconds = 0;               // ≤ 0 → 300
  std::string delivery_mode;             // fanout|group|hash
  std::string group_id;
  int64_t min_interval_seconds = 0;      // ≤ 0 → subscription_min_interval_seconds
};

/// A create request after decoding and validation by api/ (SPEC §2.3).
struct CreateRequest {
  std::string command;
  std::string payload;  // canonical compact JSON text
  int priority = 0;     // clamped here into 0..9
  std::string webhook;
  int max_attempts = 0;  // ≤ 0 → default
  std::string idempotency_key;
  std::optional<int64_t> run_at_ms;  // wins over delay_seconds
  int64_t delay_seconds = 0;
};

/// An input artifact of a result submission (SPEC §1.4 input form).
struct ArtifactInput {
  std::string name, url, content_base64;
};

/// A result submission after decoding (SPEC §2.8).
struct ResultRequest {
  std::string status;
  std::optional<boost::json::object> result;
  std::string error;
  std::vector<ArtifactInput> artifacts;
};

/// The service layer over a Store. Thread-safe; methods are awaited from request coroutines.
/// How a claim finds out that its client went away (SPEC §2.4), for a caller that checks only
/// when it matters: each hook, when set, may emit the terminal cancellation ClaimBatch watches
/// for. The HTTP layer peeks at the socket (`now`) and arms its disconnect watch (`over_wait`),
/// so a claim answered at once costs two peeks instead of a watch's read and its cancel.
struct ClientCheck {
  /// Called right after a store call claimed tasks, before they are handed over; a client gone
  /// by then has them abandoned at once, as during a wait.
  std::function<void()> now;
  /// Called once, right before the claim first waits (nothing was claimable at once).
  std::function<void()> over_wait;
};

class Scheduler {
 public:
  Scheduler(std::shared_ptr<Store> store, const Clock& clock, Metrics& metrics, SchedulerOptions opts,
            RandomInt random = DefaultRandom());
  /// Detaches from the store's ready listener.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// SPEC §2.3 (+ D18): 202/200 decided by the caller from `replayed`.
  Async<Result<CreateOutcome>> CreateTask(const std::string& tenant, CreateRequest req);

  /// CreateTask for every request of a batch (issue 7, POST /v1/codeq/tasks/batch): one outcome
  /// per request, in order, as if they ran one after another (a later request with an idempotency
  /// key an earlier one used replays it). One Store::CreateTasks call, so the embedded store
  /// writes the whole batch in one engine call. All tasks share one createdAt.
  Async<std::vector<Result<CreateOutcome>>> CreateTasks(const std::string& tenant, std::vector<CreateRequest> reqs);

  /// SPEC §2.4: repairs, then claims; with wait_seconds > 0 waits (woken in-process by creates and
  /// requeues, else re-polling every poll_interval) until a task arrives or the window ends.
  /// lease_seconds ≤ 0 → default; clamped to max_lease_seconds; wait clamped to 30 s.
  Async<Result<std::optional<Task>>> Claim(const std::string& worker_id, const std::string& tenant,
                                           std::vector<std::string> commands, int64_t lease_seconds,
                                           int64_t wait_seconds);

  /// Claim of up to `max_tasks` (clamped to 1..kMaxBatchSize) tasks in one request: the same
  /// repair and wait as Claim (Claim is ClaimBatch with 1), then repeated atomic claims until
  /// max_tasks or the queues run dry. Empty when nothing could be claimed within the wait.
  /// One Store::ClaimTasks call per poll (O(max_tasks) claims);
  /// claim-time repair at most once per repair_interval.
  /// A terminal cancellation of the awaiting coroutine (the HTTP server's disconnect watch, SPEC
  /// §2.4) ends the wait at once and returns empty; tasks claimed by then are abandoned first
  /// (back to PENDING at once, instead of sitting out a lease nobody will use). A caller that
  /// cancels must run with `this_coro::throw_if_cancelled(false)` (the HTTP server does), or the
  /// cancellation throws at the next co_await instead. `client` lets the caller raise that
  /// cancellation only when it matters (ClientCheck).
  Async<Result<std::vector<Task>>> ClaimBatch(const std::string& worker_id, const std::string& tenant,
                                              std::vector<std::string> commands, int64_t lease_seconds,
                                              int64_t wait_seconds, int max_tasks, ClientCheck client = {});

  Async<Result<Task>> Heartbeat(const std::string& tenant, const std::string& id,
                                const std::string& worker_id, int64_t extend_seconds);
  Async<Result<Task>> Abandon(const std::string& tenant, const std::string& id,
                              const std::string& worker_id);
  Async<Result<NackOutcome>> Nack(const std::string& tenant, const std::string& id,
                                  const std::string& worker_id, int64_t delay_seconds,
                                  std::string reason);
  /// One result submission of a batch: the task id and the decoded request.
  struct ResultItem {
    std::string id;
    ResultRequest req;
  };
  /// SubmitResult for every item of a batch (issue 7, POST /v1/codeq/tasks/results/batch): one
  /// outcome per item, in order, the same outcomes as if they ran one after another (a second item
  /// for the same task gets 409). Well-formed items that write no artifact files and name a task
  /// no other item names go to the store in one Store::SubmitResults call; the others (bad
  /// requests, uploads, repeated ids) then run as SubmitResult does, repeated ids in order.
  Async<std::vector<Result<TaskResult>>> SubmitResults(const std::string& tenant, const std::string& worker_id,
                                                       std::vector<ResultItem> items);
  /// SPEC §2.8 steps 2–9 (status validated before any artifact is written, D15).
  Async<Result<TaskResult>> SubmitResult(const std::string& tenant, const std::string& id,
                                         const std::string& worker_id, ResultRequest req);

  Async<Result<Task>> GetTask(const std::string& tenant, const std::string& id);
  Async<Result<std::pair<Task, TaskResult>>> GetResult(const std::string& tenant, const std::string& id);
  /// D7: stats of every known command of the tenant, sorted by command. O(commands) store calls.
  Async<Result<std::vector<QueueStats>>> ListQueues(const std::string& tenant);
  /// D5: every command known to the tenant, sorted (the order ListQueues uses). One store call;
  /// for wildcard claims and subscriptions, which need the names, not the depths.
  Async<Result<std::vector<std::string>>> ListCommands(const std::string& tenant);
  Async<Result<QueueStats>> Stats(const std::string& tenant, const std::string& command);
  /// SPEC §2.15 / §4.10 / D12.
  Async<Result<int64_t>> Cleanup(std::optional<std::string> tenant, int64_t before_ms, int limit,
                                 bool include_active);
  Async<VoidResult> Health();

  /// SPEC §2.11 with D16: stores a new subscription (fresh UUID, createdAt = now, expiresAt =
  /// now + ttl). Returns the record.
  Async<Result<Subscription>> CreateSubscription(SubscriptionRequest req);
  /// SPEC §2.12: expiresAt = now + ttl (≤ 0 → 300). NotFound("not-found") for an unknown id or one
  /// of another tenant (D6).
  Async<Result<Subscription>> RenewSubscription(const std::string& tenant, const std::string& id,
                                                int64_t ttl_seconds);
  /// Subscriptions of `command` that have not expired (gauge codeq_subscriptions_active, §7).
  Async<Result<int64_t>> CountActiveSubscriptions(const std::string& command);

  /// Installs the webhook observers. Call once, before serving.
  void SetHooks(SchedulerHooks hooks) { hooks_ = std::move(hooks); }

  /// Graceful shutdown: waiting claims return "nothing" (204) at once and new claims do not wait.
  void BeginShutdown();

  /// Now as the store wants it (epoch ms + formatted text in the configured zone).
  Now CurrentTime() const;
  const SchedulerOptions& options() const { return opts_; }
  ReadySignal& ready_signal() { return ready_; }

 private:
  /// One wake-up for each command's waiters (a wake-up taken by a leaving waiter, whose command is
  /// not known). O(commands · waiters per key).
  void NotifyEach(const std::string& tenant, const std::vector<std::string>& commands);
  int64_t Backoff(int attempts) const;
  /// codeq_store_operation_duration_seconds{op} for a store call that began at `start`.
  void ObserveStore(std::string_view op, std::chrono::steady_clock::time_point start);
  void RecordDeadLetter(const Task& t, const Now& now);
  /// Wakes the result-callback loop when `t` (just finished or dead-lettered) has a webhook.
  void CallbackEnqueued(const Task& t);
  /// True when claim-time repair for (tenant, commands) is due (and marks it done now).
  bool RepairDue(const std::string& tenant, const std::vector<std::string>& commands);
  /// The store input of a create request at `now`; `*immediate` = visible at once (SPEC §2.3).
  CreateTaskInput BuildCreateInput(const std::string& tenant, CreateRequest req, const Now& now,
                                   bool* immediate) const;
  /// Metrics, long-poll wake-up and (when `ready_hook`) the on_ready hook after a create (new
  /// tasks only).
  void CreatedTask(const std::string& tenant, const CreateOutcome& out, bool immediate, bool ready_hook = true);
  /// The result record of a submission at `now` (artifacts already written), and what follows a
  /// stored result: metrics and the result callback's wake-up.
  static TaskResult BuildResultRecord(const std::string& id, ResultRequest req, std::vector<Artifact> artifacts,
                                      const Now& now);
  void FinishedTask(const Task& done, const TaskResult& record, const Now& now);
  Result<std::vector<Artifact>> WriteArtifacts(const std::string& task_id,
                                               const std::vector<ArtifactInput>& in);

  /// Tasks (tenant + '\0' + id) whose result submission is between its status check and its store
  /// transition while writing artifact files. Shared with the guards, which may outlive the
  /// Scheduler at shutdown.
  struct ArtifactWriters {
    std::mutex mu;
    std::unordered_set<std::string> ids;
  };
  /// Releases a task of ArtifactWriters when destroyed.
  class ArtifactTurn;
  /// Waits until no other submission of this process is writing artifacts for the task `id` of
  /// `tenant`, then holds the turn until the returned guard is destroyed (D15: a submission refused
  /// with 409 must not overwrite the files of the one that won). The wait polls with a timer, 1 ms
  /// doubling to 20 ms; it lasts as long as the holder's file writes and store call, which are
  /// bounded. nullopt when the request was cancelled meanwhile (nothing cancels a result
  /// submission today; kept so a future cancellation cannot spin).
  Async<std::optional<ArtifactTurn>> TakeArtifactTurn(const std::string& tenant, const std::string& id);

  std::shared_ptr<Store> store_;
  const Clock& clock_;
  Metrics& metrics_;
  SchedulerOptions opts_;
  RandomInt random_;
  ReadySignal ready_;
  std::atomic<bool> shutting_down_{false};
  SchedulerHooks hooks_;
  std::mutex repair_mu_;
  std::unordered_map<std::string, int64_t> last_repair_;  // epoch ms of the last repair; repair_mu_
  std::shared_ptr<ArtifactWriters> artifact_writers_ = std::make_shared<ArtifactWriters>();
};

}  // namespace codeq
