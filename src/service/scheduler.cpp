#include "service/scheduler.h"

#include <algorithm>
#include <utility>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "domain/concurrently.h"
#include "domain/ids.h"
#include "domain/keys.h"
#include "domain/time_format.h"
#include "service/artifacts.h"

namespace codeq {
namespace asio = boost::asio;

namespace {

// Seconds since the task's createdAt, for the processing-latency histogram (SPEC §7).
double SecondsSince(const std::string& created_at, int64_t now_ms) {
  auto created = ParseRfc3339Ms(created_at);
  if (!created) return 0;
  return std::max<int64_t>(0, now_ms - *created) / 1000.0;
}

// Subscription TTL (SPEC §2.11, §2.12): ≤ 0 → 300 s; capped at a year so expiry stays representable.
int64_t SubscriptionTtl(int64_t requested) {
  constexpr int64_t kDefaultTtlSeconds = 300, kMaxTtlSeconds = 365 * 86400;
  return requested <= 0 ? kDefaultTtlSeconds : std::min(requested, kMaxTtlSeconds);
}

// The request's own faults of a result submission (SPEC §2.8), checked after the task's state.
Status ResultRequestError(const ResultRequest& req) {
  if (req.status != kCompleted && req.status != kFailed) return InvalidArgument("invalid status");
  if (req.status == kCompleted && !req.result) return InvalidArgument("result required when status=COMPLETED");
  if (req.status == kFailed &&
      std::all_of(req.error.begin(), req.error.end(), [](unsigned char c) { return std::isspace(c); })) {
    return InvalidArgument("error required when status=FAILED");
  }
  return Status::Ok();
}

// Whether a submission uploads artifact content (written as files before the store call).
bool WritesFiles(const ResultRequest& req) {
  return std::any_of(req.artifacts.begin(), req.artifacts.end(),
                     [](const ArtifactInput& a) { return a.url.empty() && !a.content_base64.empty(); });
}

}  // namespace

Scheduler::Scheduler(std::shared_ptr<Store> store, const Clock& clock, Metrics& metrics,
                     SchedulerOptions opts, RandomInt random)
    : store_(std::move(store)), clock_(clock), metrics_(metrics), opts_(std::move(opts)),
      random_(std::move(random)) {
  store_->SetReadyListener([this](const std::string& tenant, const std::string& command) {
    ready_.Notify(tenant, command);
    if (hooks_.on_ready) hooks_.on_ready(tenant, command, 0, -1);
  });
}

Scheduler::~Scheduler() { store_->SetReadyListener(nullptr); }

void Scheduler::BeginShutdown() {
  shutting_down_.store(true);
  ready_.NotifyAll();
}

Now Scheduler::CurrentTime() const {
  int64_t ms = clock_.NowMs();
  return Now{ms, FormatTimestamp(ms)};
}

void Scheduler::ObserveStore(std::string_view op, std::chrono::steady_clock::time_point start) {
  metrics_.StoreOperation(op, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

int64_t Scheduler::Backoff(int attempts) const {
  return ComputeBackoffSeconds(opts_.backoff, attempts, random_);
}

void Scheduler::RecordDeadLetter(const Task& t, const Now& now) {
  metrics_.TaskCompleted(t.command, kFailed, SecondsSince(t.created_at, now.ms));
  CallbackEnqueued(t);
}

bool Scheduler::RepairDue(const std::string& tenant, const std::vector<std::string>& commands) {
  if (opts_.repair_interval.count() <= 0) return true;
  std::string key = tenant;
  for (const auto& c : commands) (key += '\x1f') += c;
  int64_t now_ms = clock_.NowMs();  // the injected clock, so tests that move time repair at once
  std::lock_guard lock(repair_mu_);
  if (last_repair_.size() > 10000) last_repair_.clear();  // bounded: command sets come from clients
  auto [it, inserted] = last_repair_.try_emplace(std::move(key), now_ms);
  if (!inserted && now_ms - it->second >= 0 && now_ms - it->second < opts_.repair_interval.count()) return false;
  it->second = now_ms;
  return true;
}

void Scheduler::CallbackEnqueued(const Task& t) {
  if (!t.webhook.empty() && hooks_.on_callback_enqueued) hooks_.on_callback_enqueued();
}

CreateTaskInput Scheduler::BuildCreateInput(const std::string& tenant, CreateRequest req, const Now& now,
                                            bool* immediate) const {
  CreateTaskInput in;
  in.now = now;
  in.idempotency_key = std::move(req.idempotency_key);
  Task& t = in.task;
  t.id = NewUuidV4();
  t.command = std::move(req.command);
  t.payload = std::move(req.payload);
  t.priority = std::clamp(req.priority, 0, 9);
  t.webhook = std::move(req.webhook);
  int max_attempts = req.max_attempts <= 0 ? opts_.max_attempts_default : req.max_attempts;
  t.max_attempts = std::min(max_attempts, opts_.max_attempts_limit);
  t.status = std::string(kPending);
  t.tenant_id = tenant;
  t.created_at = t.updated_at = now.text;
  // Visibility (SPEC §2.3): runAt wins; else a positive delay; whole epoch seconds, truncated.
  if (req.run_at_ms) {
    in.visible_at_sec = *req.run_at_ms >= 0 ? *req.run_at_ms / 1000 : (*req.run_at_ms - 999) / 1000;
  } else if (req.delay_seconds > 0) {
    in.visible_at_sec = now.seconds() + req.delay_seconds;
  } else {
    in.visible_at_sec = now.seconds();
  }
  *immediate = in.visible_at_sec <= now.seconds();
  return in;
}

void Scheduler::CreatedTask(const std::string& tenant, const CreateOutcome& out, bool immediate, bool ready_hook) {
  if (out.replayed) return;
  metrics_.TaskCreated(out.task.command);
  if (immediate) {
    ready_.Notify(tenant, out.task.command);
    if (ready_hook && hooks_.on_ready) hooks_.on_ready(tenant, out.task.command, 1, out.ready_depth);
  }
}

Async<Result<CreateOutcome>> Scheduler::CreateTask(const std::string& tenant, CreateRequest req) {
  bool immediate = false;
  CreateTaskInput in = BuildCreateInput(tenant, std::move(req), CurrentTime(), &immediate);
  auto start = std::chrono::steady_clock::now();
  auto out = co_await store_->CreateTask(std::move(in));
  ObserveStore("create", start);
  if (out.ok()) CreatedTask(tenant, *out, immediate);
  co_return out;
}

Async<std::vector<Result<CreateOutcome>>> Scheduler::CreateTasks(const std::string& tenant,
                                                                 std::vector<CreateRequest> reqs) {
  if (reqs.empty()) co_return std::vector<Result<CreateOutcome>>();
  const Now now = CurrentTime();
  std::vector<CreateTaskInput> inputs;
  inputs.reserve(reqs.size());
  std::vector<bool> immediate(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    bool now_visible = false;
    inputs.push_back(BuildCreateInput(tenant, std::move(reqs[i]), now, &now_visible));
    immediate[i] = now_visible;
  }
  auto start = std::chrono::steady_clock::now();
  auto outs = co_await store_->CreateTasks(std::move(inputs));
  ObserveStore("create_batch", start);
  if (outs.size() != reqs.size()) outs.assign(reqs.size(), Internal("store error: batch answered the wrong number of tasks"));
  // One on_ready per queue of the batch (D16: a 0 → n change notifies once, with the real depth).
  // The queue was empty before the batch when its first ready task made its depth 1 (a store's
  // depth may be a lower bound, but one that is 1 exactly when the depth is); its depth after the
  // batch is then the number of ready tasks it got. Queues go by lower-case command (D5).
  struct QueueAdded {
    std::string key, command;
    int64_t added = 0;
    int64_t first_depth = 0;
  };
  std::vector<QueueAdded> queues;  // a batch names few commands: a linear search is fine
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!outs[i].ok()) continue;
    const CreateOutcome& out = *outs[i];
    CreatedTask(tenant, out, immediate[i], /*ready_hook=*/false);
    if (out.replayed || !immediate[i]) continue;
    std::string key = keys::LowerAscii(out.task.command);
    auto q = std::find_if(queues.begin(), queues.end(), [&](const QueueAdded& a) { return a.key == key; });
    if (q == queues.end()) {
      queues.push_back(QueueAdded{std::move(key), out.task.command, 0, out.ready_depth});
      q = queues.end() - 1;
    }
    ++q->added;
  }
  if (hooks_.on_ready) {
    for (const auto& q : queues) {
      hooks_.on_ready(tenant, q.command, q.added, q.first_depth < 0 ? -1 : q.first_depth + q.added - 1);
    }
  }
  co_return outs;
}

Async<Result<std::optional<Task>>> Scheduler::Claim(const std::string& worker_id,
                                                    const std::string& tenant,
                                                    std::vector<std::string> commands,
                                                    int64_t lease_seconds, int64_t wait_seconds) {
  auto many = co_await ClaimBatch(worker_id, tenant, std::move(commands), lease_seconds, wait_seconds, 1);
  if (!many.ok()) co_return many.status();
  if (many->empty()) co_return std::optional<Task>{};
  co_return std::optional<Task>(std::move(many->front()));
}

Async<Result<std::vector<Task>>> Scheduler::ClaimBatch(const std::string& worker_id,
                                                       const std::string& tenant,
                                                       std::vector<std::string> commands,
                                                       int64_t lease_seconds, int64_t wait_seconds,
                                                       int max_tasks, ClientCheck client) {
  if (lease_seconds <= 0) lease_seconds = opts_.default_lease_seconds;
  lease_seconds = std::min(lease_seconds, opts_.max_lease_seconds);
  wait_seconds = std::clamp<int64_t>(wait_seconds, 0, opts_.max_wait_seconds);
  max_tasks = std::clamp(max_tasks, 1, kMaxBatchSize);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds);

  // A terminal cancellation of this coroutine: the HTTP server's disconnect watch saw the client
  // go away (http::RequestContext). A client already gone gets nothing claimed for it at all.
  const asio::cancellation_state cancel = co_await asio::this_coro::cancellation_state;
  auto client_gone = [&cancel] { return cancel.cancelled() != asio::cancellation_type::none; };
  if (client_gone()) co_return std::vector<Task>{};

  std::shared_ptr<ReadySignal::Waiter> waiter;
  if (wait_seconds > 0) {
    waiter = ready_.Register(co_await asio::this_coro::executor, tenant, commands);
  }
  std::vector<Task> out;
  bool poll = true;     // whether this round re-checks the store (the first always does)
  bool waited = false;  // woken at least once
  for (;;) {
    if (poll) {
      Now now = CurrentTime();
      if (!client_gone() && RepairDue(tenant, commands)) {
        RepairInput repair{tenant, commands, opts_.inspect_limit, opts_.max_attempts_default,
                           [this](int a) { return Backoff(a); }, now};
        auto start = std::chrono::steady_clock::now();
        auto repaired = co_await store_->RepairExpired(std::move(repair));
        ObserveStore("repair", start);
        if (!repaired.ok()) co_return repaired.status();
        for (const auto& cmd : repaired->expired_commands) metrics_.LeaseExpired(cmd);
        for (const auto& t : repaired->dead_lettered) RecordDeadLetter(t, now);
      }

      // Then up to max_tasks atomic claims (D3) in one store call.
      if (!client_gone()) {
        ClaimInput in{worker_id, tenant, commands, lease_seconds, opts_.inspect_limit, now};
        auto start = std::chrono::steady_clock::now();
        auto claimed = co_await store_->ClaimTasks(std::move(in), max_tasks);
        ObserveStore("claim", start);
        if (!claimed.ok()) co_return claimed.status();
        out = std::move(claimed).value();
        if (!out.empty() && client.now) client.now();
      }
      if (client_gone()) {
        // The client went away (at the latest while these were being claimed): nobody will work
        // on them. Leave the waiter list first, so the wake-up each abandon sends, and one this
        // waiter took, reach a client still there.
        if (waiter && waiter->Leave()) NotifyEach(tenant, commands);
        waiter.reset();
        for (const Task& t : out) {
          auto back = co_await Abandon(tenant, t.id, worker_id);
          if (!back.ok()) spdlog::warn("claim {}: client gone, abandon failed: {}", t.id, back.status().message());
        }
        co_return std::vector<Task>{};
      }
      if (!out.empty()) {
        for (const Task& t : out) metrics_.TaskClaimed(t.command);  // handed to a client still there
        // A notification wakes one waiter per ready task, but more may be ready than were announced
        // (a background promotion, another instance's creates): pass the turn to the next waiter.
        // So does a notification that reached this waiter while it was busy polling.
        if (waiter && (waiter->Leave() || waited)) ready_.Notify(tenant, out.back().command);
        co_return out;
      }
    }
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!waiter || remaining.count() <= 0 || shutting_down_.load()) co_return out;
    if (client.over_wait) std::exchange(client.over_wait, nullptr)();  // may see the client gone at once
    bool notified = false;
    if (!client_gone()) notified = co_await waiter->Wait(std::min(remaining, opts_.poll_interval));
    if (client_gone()) {
      // Pass on a wake-up this waiter took: its task is for someone still listening. Which of
      // the commands it was for is not known, so each gets one.
      if (waiter->Leave() || notified) NotifyEach(tenant, commands);
      co_return out;
    }
    waited = true;
    // Timer wake-ups of many waiters on the same commands re-check the store once per interval.
    poll = notified || shutting_down_.load() || ready_.TakePollTurn(*waiter, opts_.poll_interval);
  }
}

void Scheduler::NotifyEach(const std::string& tenant, const std::vector<std::string>& commands) {
  for (const auto& cmd : commands) ready_.Notify(tenant, cmd);
}

Async<Result<Task>> Scheduler::Heartbeat(const std::string& tenant, const std::string& id,
                                         const std::string& worker_id, int64_t extend_seconds) {
  if (extend_seconds <= 0) extend_seconds = opts_.default_lease_seconds;
  extend_seconds = std::min(extend_seconds, opts_.max_lease_seconds);
  // Named locals, not braced temporaries, around co_await: GCC 12 miscompiles the latter.
  HeartbeatInput in{tenant, id, worker_id, extend_seconds, CurrentTime()};
  auto start = std::chrono::steady_clock::now();
  auto out = co_await store_->Heartbeat(std::move(in));
  ObserveStore("heartbeat", start);
  co_return out;
}

Async<Result<Task>> Scheduler::Abandon(const std::string& tenant, const std::string& id,
                                       const std::string& worker_id) {
  TaskRef in{tenant, id, worker_id, CurrentTime()};
  auto start = std::chrono::steady_clock::now();
  auto out = co_await store_->Abandon(std::move(in));
  ObserveStore("abandon", start);
  if (out.ok()) {
    ready_.Notify(out->tenant_id, out->command);
    if (hooks_.on_ready) hooks_.on_ready(out->tenant_id, out->command, 1, -1);
  }
  co_return out;
}

Async<Result<NackOutcome>> Scheduler::Nack(const std::string& tenant, const std::string& id,
                                           const std::string& worker_id, int64_t delay_seconds,
                                           std::string reason) {
  Now now = CurrentTime();
  NackInput in;
  in.tenant = tenant;
  in.task_id = id;
  in.worker_id = worker_id;
  in.delay_seconds = delay_seconds;
  in.max_delay_seconds = opts_.backoff.max_seconds <= 0 ? opts_.backoff.base_seconds : opts_.backoff.max_seconds;
  in.backoff = [this](int a) { return Backoff(a); };
  in.reason = std::move(reason);
  in.max_attempts_default = opts_.max_attempts_default;
  in.now = now;
  auto start = std::chrono::steady_clock::now();
  auto out = co_await store_->Nack(std::move(in));
  ObserveStore("nack", start);
  if (out.ok() && out->dead_lettered) RecordDeadLetter(out->task, now);
  co_return out;
}

class Scheduler::ArtifactTurn {
 public:
  ArtifactTurn(std::shared_ptr<ArtifactWriters> writers, std::string id)
      : writers_(std::move(writers)), id_(std::move(id)) {}
  ArtifactTurn(ArtifactTurn&& o) noexcept : writers_(std::move(o.writers_)), id_(std::move(o.id_)) {}
  ArtifactTurn(const ArtifactTurn&) = delete;
  ArtifactTurn& operator=(const ArtifactTurn&) = delete;
  ArtifactTurn& operator=(ArtifactTurn&&) = delete;
  ~ArtifactTurn() {
    if (!writers_) return;
    std::lock_guard lock(writers_->mu);
    writers_->ids.erase(id_);
  }

 private:
  std::shared_ptr<ArtifactWriters> writers_;
  std::string id_;
};

Async<std::optional<Scheduler::ArtifactTurn>> Scheduler::TakeArtifactTurn(const std::string& tenant,
                                                                          const std::string& id) {
  std::shared_ptr<ArtifactWriters> writers = artifact_writers_;
  std::string key = tenant + '\0' + id;
  std::optional<asio::steady_timer> timer;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    {
      std::lock_guard lock(writers->mu);
      if (writers->ids.insert(key).second) break;
    }
    if (!timer) timer.emplace(co_await asio::this_coro::executor);
    timer->expires_after(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::nullopt;  // the request was cancelled
  }
  co_return std::optional<ArtifactTurn>(std::in_place, std::move(writers), std::move(key));
}

Async<Result<TaskResult>> Scheduler::SubmitResult(const std::string& tenant, const std::string& id,
                                                  const std::string& worker_id, ResultRequest req) {
  // Errors are reported in this order: unknown task (404), other owner (403), not in progress
  // (409), then the request's own faults (400). The store checks the first three atomically, so
  // a well-formed submission that writes no artifact files goes straight to it (one store call).
  // Otherwise the task is looked up first: to keep that order for a bad request, and to fail
  // fast before touching the file system.
  const Status request_error = ResultRequestError(req);
  const bool writes_files = WritesFiles(req);
  // Two submissions for one task at once (a retried acknowledgement beside a slow first one) are
  // serialised from the status check to the store's transition when they write files: the later
  // one then sees the task finished (409) before it touches the winner's files.
  std::optional<ArtifactTurn> turn;
  if (writes_files) {
    auto taken = co_await TakeArtifactTurn(tenant, id);
    if (!taken) co_return Unavailable("request cancelled");
    turn.emplace(std::move(*taken));
  }
  auto start = std::chrono::steady_clock::now();
  if (!request_error.ok() || writes_files) {
    auto current = co_await store_->GetTask(tenant, id);
    ObserveStore("get_task", start);
    if (!current.ok()) {
      if (current.status().code() == StatusCode::kNotFound) co_return NotFound("task not found");
      co_return current.status();
    }
    if (!current->worker_id.empty() && !worker_id.empty() && current->worker_id != worker_id) {
      co_return Forbidden("not-owner");
    }
    if (current->status != kInProgress) co_return Conflict("not-in-progress");
    if (!request_error.ok()) co_return request_error;
  }
  // Files are written before the store call: a store that refuses changes now (its disk nearly
  // full) must not get them written anyway.
  if (writes_files) {
    if (Status admit = store_->AdmitStateChange(); !admit.ok()) co_return admit;
  }
  auto artifacts = WriteArtifacts(id, req.artifacts);
  if (!artifacts.ok()) co_return artifacts.status();

  Now now = CurrentTime();
  TaskResult record = BuildResultRecord(id, std::move(req), std::move(*artifacts), now);
  SubmitResultInput in{tenant, id, worker_id, record, now};
  start = std::chrono::steady_clock::now();
  auto done = co_await store_->SubmitResult(std::move(in));
  ObserveStore("submit_result", start);
  if (!done.ok()) co_return done.status();
  FinishedTask(*done, record, now);
  co_return record;
}

TaskResult Scheduler::BuildResultRecord(const std::string& id, ResultRequest req, std::vector<Artifact> artifacts,
                                        const Now& now) {
  TaskResult record;
  record.task_id = id;
  record.status = std::move(req.status);
  record.result = std::move(req.result);
  record.error = std::move(req.error);
  record.artifacts = std::move(artifacts);
  record.completed_at = now.text;
  return record;
}

void Scheduler::FinishedTask(const Task& done, const TaskResult& record, const Now& now) {
  metrics_.TaskCompleted(done.command, record.status, SecondsSince(done.created_at, now.ms));
  CallbackEnqueued(done);
}

Async<std::vector<Result<TaskResult>>> Scheduler::SubmitResults(const std::string& tenant,
                                                                const std::string& worker_id,
                                                                std::vector<ResultItem> items) {
  std::vector<std::optional<Result<TaskResult>>> slots(items.size());
  // The direct items: well-formed, no files to write, a task no other item names. Their outcome
  // does not depend on any other item's, so one store call may run them in any order.
  std::unordered_map<std::string_view, int> uses;
  for (const auto& item : items) ++uses[item.id];
  std::vector<size_t> direct, other;
  for (size_t i = 0; i < items.size(); ++i) {
    const bool simple = uses[items[i].id] == 1 && ResultRequestError(items[i].req).ok() && !WritesFiles(items[i].req);
    (simple ? direct : other).push_back(i);
  }
  if (!direct.empty()) {
    const Now now = CurrentTime();
    std::vector<SubmitResultInput> inputs;
    std::vector<size_t> stored;  // items of `inputs`, in order
    inputs.reserve(direct.size());
    for (size_t i : direct) {
      // Links only here: nothing is written, and nothing fails today; checked all the same.
      auto artifacts = WriteArtifacts(items[i].id, items[i].req.artifacts);
      if (!artifacts.ok()) {
        slots[i] = artifacts.status();
        continue;
      }
      TaskResult record = BuildResultRecord(items[i].id, std::move(items[i].req), std::move(*artifacts), now);
      inputs.push_back(SubmitResultInput{tenant, items[i].id, worker_id, std::move(record), now});
      stored.push_back(i);
    }
    std::vector<TaskResult> records;
    records.reserve(inputs.size());
    for (const auto& in : inputs) records.push_back(in.result);
    std::vector<Result<Task>> done;
    if (!inputs.empty()) {
      auto start = std::chrono::steady_clock::now();
      const size_t n = inputs.size();
      done = co_await store_->SubmitResults(std::move(inputs));
      ObserveStore("submit_result_batch", start);
      if (done.size() != n) done.assign(n, Internal("store error: batch answered the wrong number of results"));
    }
    for (size_t k = 0; k < stored.size(); ++k) {
      if (!done[k].ok()) {
        slots[stored[k]] = done[k].status();
        continue;
      }
      FinishedTask(*done[k], records[k], now);
      slots[stored[k]] = std::move(records[k]);
    }
  }
  // The rest as single submissions; the same task id in request order.
  std::vector<std::string> keys(items.size());
  for (size_t i : other) keys[i] = items[i].id;
  co_await RunInWaves(other, keys, [&](size_t i) {
    return AwaitInto(SubmitResult(tenant, items[i].id, worker_id, std::move(items[i].req)), &slots[i]);
  });
  co_return TakeSlots(slots);
}

Result<std::vector<Artifact>> Scheduler::WriteArtifacts(const std::string& task_id,
                                                        const std::vector<ArtifactInput>& in) {
  // Validate every name before writing anything, so a bad item leaves no partial files (D15).
  // Two uploads under one name would leave one file listed twice, the first upload lost.
  std::unordered_set<std::string_view> names;
  for (const auto& a : in) {
    if (!a.url.empty() || a.content_base64.empty()) continue;
    if (!IsValidArtifactName(a.name)) return InvalidArgument("invalid artifact name");
    if (!names.insert(a.name).second) return InvalidArgument("artifact " + a.name + " upload: duplicate name");
  }
  std::vector<std::pair<const ArtifactInput*, std::string>> decoded;
  for (const auto& a : in) {
    if (!a.url.empty() || a.content_base64.empty()) continue;
    auto bytes = DecodeBase64(a.content_base64);
    if (!bytes.ok()) {
      return InvalidArgument("artifact " + a.name + " base64 decode: " + bytes.status().message());
    }
    decoded.emplace_back(&a, std::move(*bytes));
  }
  std::vector<Artifact> out;
  size_t next = 0;
  for (const auto& a : in) {
    if (!a.url.empty()) {
      out.push_back(Artifact{a.name, a.url});
      continue;
    }
    if (a.content_base64.empty()) continue;  // SPEC §2.8: silently dropped
    auto path = WriteArtifactFile(opts_.artifacts_dir, task_id, a.name, decoded[next++].second);
    if (!path.ok()) return InvalidArgument("artifact " + a.name + " upload: " + path.status().message());
    out.push_back(Artifact{a.name, "file://" + *path});
  }
  return out;
}

Async<Result<Task>> Scheduler::GetTask(const std::string& tenant, const std::string& id) {
  auto start = std::chrono::steady_clock::now();
  auto t = co_await store_->GetTask(tenant, id);
  ObserveStore("get_task", start);
  if (!t.ok() && t.status().code() == StatusCode::kNotFound) co_return NotFound("not found");
  co_return t;
}

Async<Result<std::pair<Task, TaskResult>>> Scheduler::GetResult(const std::string& tenant,
                                                                const std::string& id) {
  // The result first: a result exists only once the task is terminal, so a task read after it is
  // never older than the result (reading the task first could pair IN_PROGRESS with a result).
  auto start = std::chrono::steady_clock::now();
  auto r = co_await store_->GetResult(tenant, id);
  ObserveStore("get_result", start);
  if (!r.ok() && r.status().code() != StatusCode::kNotFound) co_return r.status();
  start = std::chrono::steady_clock::now();
  auto t = co_await store_->GetTask(tenant, id);
  ObserveStore("get_task", start);
  if (!t.ok()) {
    if (t.status().code() == StatusCode::kNotFound) co_return NotFound("task not found");
    co_return t.status();
  }
  if (!r.ok()) co_return NotFound("result not found");
  co_return std::make_pair(std::move(*t), std::move(*r));
}

Async<Result<std::vector<QueueStats>>> Scheduler::ListQueues(const std::string& tenant) {
  auto start = std::chrono::steady_clock::now();
  auto commands = co_await store_->ListCommands(tenant);
  ObserveStore("list_commands", start);
  if (!commands.ok()) co_return commands.status();
  std::vector<QueueStats> out;
  for (const auto& c : *commands) {
    start = std::chrono::steady_clock::now();
    auto s = co_await store_->Stats(tenant, c);
    ObserveStore("stats", start);
    if (!s.ok()) co_return s.status();
    out.push_back(std::move(*s));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.command < b.command; });
  co_return out;
}

Async<Result<std::vector<std::string>>> Scheduler::ListCommands(const std::string& tenant) {
  auto start = std::chrono::steady_clock::now();
  auto commands = co_await store_->ListCommands(tenant);
  ObserveStore("list_commands", start);
  if (commands.ok()) std::sort(commands->begin(), commands->end());
  co_return commands;
}

Async<Result<QueueStats>> Scheduler::Stats(const std::string& tenant, const std::string& command) {
  auto start = std::chrono::steady_clock::now();
  auto out = co_await store_->Stats(tenant, command);
  ObserveStore("stats", start);
  co_return out;
}

Async<Result<int64_t>> Scheduler::Cleanup(std::optional<std::string> tenant, int64_t before_ms,
                                          int limit, bool include_active) {
  CleanupInput in;
  in.before_sec = before_ms >= 0 ? before_ms / 1000 : (before_ms - 999) / 1000;
  in.limit = limit <= 0 ? 1000 : std::min(limit, 100000);
  in.include_active = include_active;
  in.tenant = std::move(tenant);
  in.now = CurrentTime();
  auto start = std::chrono::steady_clock::now();
  auto out = co_await store_->Cleanup(std::move(in));
  ObserveStore("cleanup", start);
  co_return out;
}

Async<Result<Subscription>> Scheduler::CreateSubscription(SubscriptionRequest req) {
  Now now = CurrentTime();
  int64_t ttl = SubscriptionTtl(req.ttl_seconds);
  Subscription sub;
  sub.id = NewUuidV4();
  sub.callback_url = std::move(req.callback_url);
  sub.event_types = std::move(req.event_types);
  sub.delivery_mode = req.delivery_mode.empty() ? std::string(kDeliveryFanout) : std::move(req.delivery_mode);
  sub.group_id = std::move(req.group_id);
  int64_t interval = req.min_interval_seconds <= 0 ? opts_.subscription_min_interval_seconds
                                                   : std::min<int64_t>(req.min_interval_seconds, 86400);
  sub.min_interval_seconds = static_cast<int>(std::max<int64_t>(1, interval));
  sub.created_at = now.text;
  sub.expires_at_sec = now.seconds() + ttl;
  sub.expires_at = FormatTimestamp(sub.expires_at_sec * 1000);
  sub.tenant_id = std::move(req.tenant);
  sub.worker_id = std::move(req.worker_id);
  auto start = std::chrono::steady_clock::now();
  auto stored = co_await store_->CreateSubscription(sub);
  ObserveStore("create_subscription", start);
  if (!stored.ok()) co_return stored.status();
  if (hooks_.on_subscriptions_changed) hooks_.on_subscriptions_changed();
  co_return sub;
}

Async<Result<Subscription>> Scheduler::RenewSubscription(const std::string& tenant, const std::string& id,
                                                         int64_t ttl_seconds) {
  int64_t expires = CurrentTime().seconds() + SubscriptionTtl(ttl_seconds);
  std::string text = FormatTimestamp(expires * 1000);
  auto start = std::chrono::steady_clock::now();
  auto out = co_await store_->RenewSubscription(tenant, id, expires, text);
  ObserveStore("renew_subscription", start);
  if (out.ok() && hooks_.on_subscriptions_changed) hooks_.on_subscriptions_changed();
  co_return out;
}

Async<Result<int64_t>> Scheduler::CountActiveSubscriptions(const std::string& command) {
  auto start = std::chrono::steady_clock::now();
  auto out = co_await store_->CountActiveSubscriptions(command, CurrentTime().seconds());
  ObserveStore("count_subscriptions", start);
  co_return out;
}

Async<VoidResult> Scheduler::Health() {
  auto start = std::chrono::steady_clock::now();
  auto out = co_await store_->Ping();
  ObserveStore("ping", start);
  co_return out;
}

}  // namespace codeq
