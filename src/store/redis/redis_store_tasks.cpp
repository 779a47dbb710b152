// RedisStore: the task state changes (create, claim, heartbeat, abandon, nack, result), each one
// Lua script (SPEC D3).
#include <algorithm>
#include <cstdlib>

#include "domain/keys.h"
#include "store/redis/redis_store.h"
#include "store/redis/redis_store_internal.h"

namespace codeq {

using redis::Connection;
using redis::ScriptId;
using std::to_string;

// --- CreateTask --------------------------------------------------------------------------------

// Create, claim and result go through the script pipeline (one script each, args built here, the
// reply parsed on the caller's thread). Named locals around co_await (GCC 12).
Async<Result<CreateOutcome>> RedisStore::CreateTask(CreateTaskInput in) {
  const Task& t = in.task;
  std::string idem_key =
      in.idempotency_key.empty() ? std::string() : keys::Idempotency(t.tenant_id, in.idempotency_key);
  std::vector<std::string> args = {t.id, TaskToJsonText(t), t.tenant_id, t.command,
                                   to_string(keys::ClampPriority(t.priority)), to_string(in.visible_at_sec),
                                   to_string(in.now.seconds()), idem_key, to_string(kIdempotencyTtlSeconds)};
  auto call = pipeline_->Run(ScriptId::kCreate, std::move(args));
  Result<redis::Reply> r = co_await std::move(call);
  if (!r.ok()) co_return r.status();
  auto out = redis::ParseScriptReply(*r);
  if (!out.ok()) co_return out.status();
  if (out->word == "created") co_return CreateOutcome{t, false, std::strtoll(out->text.c_str(), nullptr, 10)};
  if (out->word == "replay") {
    auto existing = redis::ParseStoredTask(out->text);
    if (!existing.ok()) co_return Conflict("idempotency conflict");
    co_return CreateOutcome{std::move(existing).value(), true};
  }
  if (out->word == "conflict") co_return Conflict("idempotency conflict");
  co_return redis::StatusForWord(out->word, "not found");
}

// --- ClaimTasks --------------------------------------------------------------------------------

Async<Result<std::vector<Task>>> RedisStore::ClaimTasks(ClaimInput in, int max_tasks) {
  if (in.commands.empty()) co_return std::vector<Task>();
  const int64_t lease = std::max<int64_t>(1, in.lease_seconds);  // SET EX needs > 0
  std::vector<std::string> args = {in.worker_id,
                                   in.tenant,
                                   to_string(lease),
                                   to_string(in.now.seconds()),
                                   in.now.text,
                                   redis::LeaseUntilText(in.now.seconds(), lease),
                                   to_string(std::max(1, in.inspect_limit)),
                                   to_string(std::max(1, max_tasks))};
  args.insert(args.end(), in.commands.begin(), in.commands.end());
  auto call = pipeline_->Run(ScriptId::kClaim, std::move(args));
  Result<redis::Reply> r = co_await std::move(call);
  if (!r.ok()) co_return r.status();
  auto out = redis::ParseScriptReply(*r);
  if (!out.ok()) co_return out.status();
  if (out->word == "empty") co_return std::vector<Task>();
  if (out->word != "claimed") co_return redis::StatusForWord(out->word, "not found");
  // The tasks are leased to the worker now: one unreadable record does not lose the others.
  std::vector<Task> tasks;
  Status unreadable;
  for (size_t i = 1; i < r->elements.size(); ++i) {
    const redis::Reply& e = r->elements[i];
    auto t = e.is_string() ? redis::ParseStoredTask(e.str) : Result<Task>(Internal("store error: unexpected script reply"));
    if (t.ok()) {
      tasks.push_back(std::move(t).value());
    } else {
      unreadable = t.status();
    }
  }
  if (tasks.empty()) co_return unreadable.ok() ? Internal("store error: unexpected script reply") : unreadable;
  co_return tasks;
}

// --- Heartbeat ---------------------------------------------------------------------------------

Async<Result<Task>> RedisStore::Heartbeat(HeartbeatInput in) {
  return Run<Result<Task>>([this, in = std::move(in)](Connection& c) { return DoHeartbeat(c, in); });
}

Result<Task> RedisStore::DoHeartbeat(Connection& c, const HeartbeatInput& in) {
  const int64_t extend = std::max<int64_t>(1, in.extend_seconds);
  auto r = scripts_.Run(c, ScriptId::kHeartbeat,
                        {in.task_id, in.tenant, in.worker_id, to_string(extend),
                         to_string(in.now.seconds()), in.now.text,
                         redis::LeaseUntilText(in.now.seconds(), extend)});
  if (!r.ok()) return r.status();
  auto out = redis::ParseScriptReply(*r);
  if (!out.ok()) return out.status();
  if (out->word != "ok") return redis::StatusForWord(out->word, "not-found");
  return redis::ParseStoredTask(out->text);
}

// --- Abandon -----------------------------------------------------------------------------------

Async<Result<Task>> RedisStore::Abandon(TaskRef in) {
  return Run<Result<Task>>([this, in = std::move(in)](Connection& c) { return DoAbandon(c, in); });
}

Result<Task> RedisStore::DoAbandon(Connection& c, const TaskRef& in) {
  auto r = scripts_.Run(c, ScriptId::kAbandon,
                        {in.task_id, in.tenant, in.worker_id, to_string(in.now.seconds()), in.now.text});
  if (!r.ok()) return r.status();
  auto out = redis::ParseScriptReply(*r);
  if (!out.ok()) return out.status();
  if (out->word != "ok") return redis::StatusForWord(out->word, "not-found");
  return redis::ParseStoredTask(out->text);
}

// --- Nack --------------------------------------------------------------------------------------

Async<Result<NackOutcome>> RedisStore::Nack(NackInput in) {
  return Run<Result<NackOutcome>>([this, in = std::move(in)](Connection& c) { return DoNack(c, in); });
}

// The delay depends on the task's attempts (backoff, SPEC §5), so it is computed here from a read
// and the script re-checks that attempts are unchanged; if they moved (the task was abandoned and
// re-claimed in between by the same worker) the whole step is retried.
Result<NackOutcome> RedisStore::DoNack(Connection& c, const NackInput& in) {
  const std::string reason = in.reason.empty() ? "MAX_ATTEMPTS" : in.reason;
  for (int round = 0; round < 5; ++round) {
    auto current = DoGetTask(c, in.tenant, in.task_id);
    if (!current.ok()) {
      if (current.status().code() == StatusCode::kNotFound) return NotFound("not-found");
      return current.status();
    }
    const Task& t = *current;
    if (t.worker_id != in.worker_id) return Forbidden("not-owner");
    if (t.status != kInProgress) return Conflict("not-in-progress");

    int64_t delay = in.delay_seconds > 0 ? in.delay_seconds : (in.backoff ? in.backoff(t.attempts) : 0);
    if (in.max_delay_seconds > 0) delay = std::min(delay, in.max_delay_seconds);
    delay = std::max<int64_t>(0, delay);

    TaskResult failed;
    failed.task_id = in.task_id;
    failed.status = std::string(kFailed);
    failed.error = reason;
    failed.completed_at = in.now.text;

    auto r = scripts_.Run(c, ScriptId::kNack,
                          {in.task_id, in.tenant, in.worker_id, to_string(t.attempts),
                           to_string(delay), to_string(in.now.seconds()), in.now.text, reason,
                           to_string(in.max_attempts_default), TaskResultToJsonText(failed),
                           to_string(in.now.ms)});
    if (!r.ok()) return r.status();
    auto out = redis::ParseScriptReply(*r);
    if (!out.ok()) return out.status();
    if (out->word == "changed") continue;
    if (out->word != "requeued" && out->word != "dlq") return redis::StatusForWord(out->word, "not-found");
    auto task = redis::ParseStoredTask(out->text);
    if (!task.ok()) return task.status();
    NackOutcome o;
    o.dead_lettered = out->word == "dlq";
    o.delay_seconds = o.dead_lettered ? 0 : delay;
    o.task = std::move(task).value();
    return o;
  }
  return Conflict("not-in-progress");
}

// --- SubmitResult ------------------------------------------------------------------------------

Async<Result<Task>> RedisStore::SubmitResult(SubmitResultInput in) {
  TaskResult record = in.result;
  if (record.status != kCompleted && record.status != kFailed) co_return InvalidArgument("invalid status");
  if (record.task_id.empty()) record.task_id = in.task_id;
  if (record.completed_at.empty()) record.completed_at = in.now.text;
  std::vector<std::string> args = {in.task_id, in.tenant, in.worker_id, record.status,
                                   TaskResultToJsonText(record), record.error, to_string(in.now.seconds()),
                                   in.now.text, to_string(in.now.ms)};
  auto call = pipeline_->Run(ScriptId::kSubmitResult, std::move(args));
  Result<redis::Reply> r = co_await std::move(call);
  if (!r.ok()) co_return r.status();
  auto out = redis::ParseScriptReply(*r);
  if (!out.ok()) co_return out.status();
  if (out->word != "ok") co_return redis::StatusForWord(out->word, "task not found");
  co_return redis::ParseStoredTask(out->text);
}

}  // namespace codeq
