// RedisStore: the task state changes (create, claim, heartbeat, abandon, nack, result), each one
// Lua script (SPEC D3).
#include <algorithm>
#include <cstdlib>
#include <optional>

#include "domain/concurrently.h"
#include "domain/keys.h"
#include "store/redis/redis_store.h"
#include "store/redis/redis_store_internal.h"

namespace codeq {

using redis::Connection;
using redis::ScriptId;
using std::to_string;

namespace {

/// Inputs per batch script call at most: bounds the time one call holds the backend (~20-30 µs of
/// Redis time an input with small tasks, so a few ms a call); a larger batch is several calls,
/// one after another. kBatchScriptArgBytes bounds a call's ARGV, and the script itself stops
/// after ~2 MiB of reply text (kBatchFn in lua_scripts.cpp), for batches of large tasks.
constexpr size_t kBatchScriptInputs = 100;
constexpr size_t kBatchScriptArgBytes = size_t{2} << 20;

/// ARGV per input of the create and the result scripts (CREATE_ARGS, RESULT_ARGS in
/// lua_scripts.cpp).
constexpr size_t kCreateArgs = 10;
constexpr size_t kResultArgs = 10;

/// Appends the ARGV of one create (layout: kCreateFn in lua_scripts.cpp); never refuses (ok).
/// O(size of the task).
Status AppendCreateArgs(const CreateTaskInput& in, std::vector<std::string>* args) {
  const Task& t = in.task;
  std::string idem_key =
      in.idempotency_key.empty() ? std::string() : keys::Idempotency(t.tenant_id, in.idempotency_key);
  args->push_back(t.id);
  args->push_back(TaskToJsonText(t));
  args->push_back(t.tenant_id);
  args->push_back(t.command);
  args->push_back(to_string(keys::ClampPriority(t.priority)));
  args->push_back(to_string(in.visible_at_sec));
  args->push_back(to_string(in.now.seconds()));
  args->push_back(std::move(idem_key));
  args->push_back(to_string(kIdempotencyTtlSeconds));
  args->push_back(to_string(std::max(in.visible_at_sec, in.now.seconds()) + kRetentionSeconds));  // SPEC §4.6
  return Status();
}

/// The outcome of creating `t` from its script reply (kCreateFn's replies). O(size of a replayed task).
Result<CreateOutcome> CreateOutcomeFromReply(const Task& t, const redis::Reply& reply) {
  auto out = redis::ParseScriptReply(reply);
  if (!out.ok()) return out.status();
  if (out->word == "created") return CreateOutcome{t, false, std::strtoll(out->text.c_str(), nullptr, 10)};
  if (out->word == "replay") {
    auto existing = redis::ParseStoredTask(out->text);
    if (!existing.ok()) return Conflict("idempotency conflict");
    return CreateOutcome{std::move(existing).value(), true};
  }
  if (out->word == "conflict") return Conflict("idempotency conflict");
  return redis::StatusForWord(out->word, "not found");
}

/// Appends the ARGV of one result (layout: kSubmitResultFn in lua_scripts.cpp): the record with
/// its task id and completion time filled in. InvalidArgument (nothing appended) when the status
/// is neither COMPLETED nor FAILED. O(size of the result).
Status AppendResultArgs(const SubmitResultInput& in, std::vector<std::string>* args) {
  TaskResult record = in.result;
  if (record.status != kCompleted && record.status != kFailed) return InvalidArgument("invalid status");
  if (record.task_id.empty()) record.task_id = in.task_id;
  if (record.completed_at.empty()) record.completed_at = in.now.text;
  args->push_back(in.task_id);
  args->push_back(in.tenant);
  args->push_back(in.worker_id);
  args->push_back(record.status);
  args->push_back(TaskResultToJsonText(record));
  args->push_back(record.error);
  args->push_back(to_string(in.now.seconds()));
  args->push_back(in.now.text);
  args->push_back(to_string(in.now.ms));
  args->push_back(to_string(in.now.seconds() + kRetentionSeconds));  // SPEC §4.6
  return Status();
}

/// The task after a result from its script reply (kSubmitResultFn's replies). O(size of the task).
Result<Task> ResultTaskFromReply(const redis::Reply& reply) {
  auto out = redis::ParseScriptReply(reply);
  if (!out.ok()) return out.status();
  if (out->word != "ok") return redis::StatusForWord(out->word, "task not found");
  return redis::ParseStoredTask(out->text);
}

/// Input k's part of a batch script's reply `batch` (an array of 1 to n replies, one per input
/// the script got to): its own reply, moved out, or the Status of the error it raised
/// ({'error', message}, see kBatchFn), classified like an error reply of a whole call.
Result<redis::Reply> BatchItemReply(redis::Reply& batch, size_t k) {
  redis::Reply& item = batch.elements[k];
  if (item.is_array() && item.elements.size() == 2 && item.elements[0].str == "error") {
    redis::Reply error;
    error.type = redis::Reply::Type::kError;
    error.str = std::move(item.elements[1].str);
    return redis::ErrorReplyStatus(error);
  }
  return std::move(item);
}

/// Runs the inputs through batch script `id`, the calls one after another, so the inputs apply in
/// order. A call takes up to kBatchScriptInputs inputs and kBatchScriptArgBytes of ARGV (at least
/// one input); inputs the script did not get to (its reply byte bound) go into the next call.
/// `append(input, &args)` adds an input's `stride` ARGV or returns the error that answers it
/// without a call; `parse(input, reply)` turns its reply into its outcome. A call that fails (backend down,
/// a reply of the wrong shape) answers its inputs, and every input after them that would need a
/// call, with that error, without more calls. Returns one outcome per input, in order.
template <typename T, typename Input, typename Append, typename Parse>
Async<std::vector<Result<T>>> RunBatchScript(redis::ScriptPipeline& pipeline, ScriptId id, size_t stride,
                                             const std::vector<Input>& inputs, Append append, Parse parse) {
  std::vector<std::optional<Result<T>>> slots(inputs.size());
  Status failed;  // the error of a failed call: answers every later input that needs a call
  size_t next = 0;
  while (next < inputs.size()) {
    std::vector<std::string> args;
    std::vector<size_t> members;
    size_t arg_bytes = 0;
    for (; next < inputs.size() && members.size() < kBatchScriptInputs && arg_bytes < kBatchScriptArgBytes; ++next) {
      const size_t before = args.size();
      Status refused = append(inputs[next], &args);
      if (refused.ok() && args.size() - before != stride) refused = Internal("store error: bad script arguments");
      if (!refused.ok()) {
        slots[next] = refused;
        args.resize(before);
      } else if (!failed.ok()) {
        slots[next] = failed;
        args.resize(before);
      } else {
        members.push_back(next);
        for (size_t a = before; a < args.size(); ++a) arg_bytes += args[a].size();
      }
    }
    if (members.empty()) continue;
    auto call = pipeline.Run(id, std::move(args));
    Result<redis::Reply> r = co_await std::move(call);
    if (r.ok() && (!r->is_array() || r->elements.empty() || r->elements.size() > members.size())) {
      r = Internal("store error: unexpected script reply");
    }
    if (!r.ok()) {
      failed = r.status();
      for (size_t i : members) slots[i] = failed;
      continue;
    }
    const size_t done = r->elements.size();
    for (size_t k = 0; k < done; ++k) {
      Result<redis::Reply> item = BatchItemReply(*r, k);
      slots[members[k]] = item.ok() ? parse(inputs[members[k]], *item) : Result<T>(item.status());
    }
    if (done < members.size()) next = members[done];  // the rest go into the next call
  }
  co_return TakeSlots(slots);
}

}  // namespace

// --- CreateTask --------------------------------------------------------------------------------

// Create, claim and result go through the script pipeline (one script each, args built here, the
// reply parsed on the caller's thread). Named locals around co_await (GCC 12).
Async<Result<CreateOutcome>> RedisStore::CreateTask(CreateTaskInput in) {
  std::vector<std::string> args;
  args.reserve(kCreateArgs);
  AppendCreateArgs(in, &args);
  auto call = pipeline_->Run(ScriptId::kCreate, std::move(args));
  Result<redis::Reply> r = co_await std::move(call);
  if (!r.ok()) co_return r.status();
  co_return CreateOutcomeFromReply(in.task, *r);
}

Async<std::vector<Result<CreateOutcome>>> RedisStore::CreateTasks(std::vector<CreateTaskInput> inputs) {
  auto parse = [](const CreateTaskInput& in, const redis::Reply& reply) { return CreateOutcomeFromReply(in.task, reply); };
  auto outs = RunBatchScript<CreateOutcome>(*pipeline_, ScriptId::kCreateBatch, kCreateArgs, inputs, AppendCreateArgs, parse);
  co_return co_await std::move(outs);
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
                                   to_string(std::max(1, max_tasks)),
                                   to_string(in.now.seconds() + kRetentionSeconds)};  // SPEC §4.6
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
  std::vector<std::string> args;
  args.reserve(kResultArgs);
  Status refused = AppendResultArgs(in, &args);
  if (!refused.ok()) co_return refused;
  auto call = pipeline_->Run(ScriptId::kSubmitResult, std::move(args));
  Result<redis::Reply> r = co_await std::move(call);
  if (!r.ok()) co_return r.status();
  co_return ResultTaskFromReply(*r);
}

Async<std::vector<Result<Task>>> RedisStore::SubmitResults(std::vector<SubmitResultInput> inputs) {
  auto parse = [](const SubmitResultInput&, const redis::Reply& reply) { return ResultTaskFromReply(reply); };
  auto outs = RunBatchScript<Task>(*pipeline_, ScriptId::kSubmitResultBatch, kResultArgs, inputs, AppendResultArgs, parse);
  co_return co_await std::move(outs);
}

}  // namespace codeq
