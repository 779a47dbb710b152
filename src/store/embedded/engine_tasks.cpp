// Engine: the task state changes (create, claim, heartbeat, abandon, nack, result), each one
// critical section + one WriteBatch (SPEC D3).
#include <algorithm>

#include "domain/keys.h"
#include "domain/time_format.h"
#include "store/embedded/engine.h"
#include "store/embedded/engine_util.h"

namespace codeq::embedded {
namespace {

// The checks of heartbeat, abandon and nack in SPEC order (D6, D10): unknown task or another
// tenant's, then ownership, then status.
Status CheckOwned(const std::optional<Record>& r, const std::string& tenant, const std::string& worker) {
  if (!r || r->task.tenant_id != tenant) return NotFound("not-found");
  if (r->task.worker_id != worker) return Forbidden("not-owner");
  if (r->task.status != kInProgress || r->env.state != State::kInProgress) {
    return Conflict("not-in-progress");
  }
  return Status::Ok();
}

void ClearLease(Task& t) {
  t.worker_id.clear();
  t.lease_until.clear();
}

}  // namespace

// --- Create ------------------------------------------------------------------------------------

Applied<CreateOutcome> Engine::Create(const CreateTaskInput& in) {
  auto id = ParseUuid(in.task.id);
  if (!id) return {InvalidArgument("invalid task id"), 0};
  return Mutate<CreateOutcome>([&](Batch& b) -> Result<CreateOutcome> {
    const Task& t = in.task;
    std::string ikey;
    if (!in.idempotency_key.empty()) {
      ikey = IdemKey(t.tenant_id, in.idempotency_key);
      std::string value;
      rocksdb::Status s = b.Get(db_.get(), rocksdb::ReadOptions(), ikey, &value);
      if (!s.ok() && !s.IsNotFound()) return StorageError(s);
      Uuid owner{};
      int64_t expiry = 0;
      if (s.ok() && DecodeIdemValue(value, &owner, &expiry) && expiry > in.now.ms) {
        auto existing = Load(owner, &b);
        if (!existing.ok()) return existing.status();
        if (*existing) {  // replay, in its current state (SPEC §2.3.2, D18)
          if ((*existing)->task.tenant_id != t.tenant_id) return Conflict("idempotency conflict");
          return CreateOutcome{std::move((*existing)->task), true};
        }
        // the key outlived its task: take it over
      }
    }
    auto duplicate = Load(*id, &b);
    if (!duplicate.ok()) return duplicate.status();
    if (*duplicate) return Internal("store error: duplicate task id " + t.id);

    Record r;
    r.id = *id;
    r.task = t;
    r.task.status = std::string(kPending);  // what the queue state means; recovery checks it
    r.env.tier = static_cast<uint8_t>(keys::ClampPriority(t.priority));
    r.env.seq = NextSeq();
    r.env.idem_key = in.idempotency_key;
    const bool delayed = in.visible_at_sec > in.now.seconds();
    if (delayed) {  // retention runs from the visible time (D12)
      r.env.state = State::kDelayed;
      r.env.due_ms = in.visible_at_sec * 1000;
      r.env.retention_sec = in.visible_at_sec + kRetentionSeconds;
    } else {
      r.env.state = State::kReady;
      r.env.retention_sec = in.now.seconds() + kRetentionSeconds;
    }
    if (!ikey.empty()) {
      b.Put(ikey, EncodeIdemValue(*id, in.now.ms + kIdempotencyTtlSeconds * 1000));
    }
    RememberCommand(b, t.tenant_id, t.command);
    std::string json = Put(b, r);
    QueueIndex& q = GetQueue(t.tenant_id, t.command);
    int64_t depth = 0;
    if (delayed) {
      AddDelayed(q, r);
    } else {
      q.AddReady(r.env.tier, r.id);
      depth = q.ready();  // SPEC §6.2, D16: 1 = the queue just became non-empty
    }
    return CreateOutcome{std::move(r.task), false, depth, std::move(json)};
  });
}

// --- Claim -------------------------------------------------------------------------------------

Result<int> Engine::Promote(Batch& b, QueueIndex& q, int64_t now_ms,
                            const std::string& now_text, int limit) {
  int moved = 0;
  DelayedEntry e{};
  while (moved < limit && q.TopDelayed(&e) && e.due_ms <= now_ms) {
    q.PopDelayed();
    auto r = Load(e.id, &b);
    if (!r.ok()) {
      q.UnpopDelayed(e);
      return r.status();
    }
    if (!*r || (*r)->env.state != State::kDelayed || (*r)->env.seq != e.seq) continue;  // stale
    Record& rec = **r;
    q.DelayedGone();
    rec.env.state = State::kReady;
    rec.env.seq = NextSeq();  // to the back of its tier
    rec.env.due_ms = 0;
    rec.env.retention_sec = now_ms / 1000 + kRetentionSeconds;
    ClearLease(rec.task);
    rec.task.updated_at = now_text;
    Put(b, rec);
    q.AddReady(rec.env.tier, rec.id);
    ++moved;
  }
  return moved;
}

Result<std::optional<Task>> Engine::ClaimOne(Batch& b, const ClaimInput& in) {
  const int64_t lease = std::max<int64_t>(1, in.lease_seconds);
  const int limit = std::max(1, in.inspect_limit);
  auto all = QueuesOf(in.tenant, in.commands);
  std::vector<QueueIndex*> queues;  // those with ready tasks after promotion, in command order
  queues.reserve(all.size());       // nothing may allocate once Promote has written to the batch
  for (auto& [q, label] : all) {
    auto moved = Promote(b, *q, in.now.ms, in.now.text, limit);
    if (!moved.ok()) return moved.status();
    // A tier whose live count is 0 holds no entries (ReadyGone frees stale ones), so empty
    // queues and tiers are skipped by their counts alone: a wildcard claim lists every known
    // command of the tenant, which may be thousands.
    if (q->ready() > 0) queues.push_back(q);
  }
  int top = -1;  // the highest tier that has a ready task in any of the queues
  for (QueueIndex* q : queues) {
    for (int p = 9; p > top; --p) {
      if (q->ready(p) > 0) {
        top = p;
        break;
      }
    }
  }
  // D4: priority beats command order. Stale entries (tasks deleted by cleanup) are skipped and
  // the search goes on in the same tier.
  for (int p = top; p >= 0; --p) {
    for (QueueIndex* q : queues) {
      if (q->ready(p) == 0) continue;
      Uuid id{};
      while (q->PopReady(p, &id)) {
        auto r = Load(id, &b);
        if (!r.ok()) {
          q->UnpopReady(p, id);
          return r.status();
        }
        if (!*r || (*r)->env.state != State::kReady) continue;
        Record& rec = **r;
        q->ReadyGone(p);
        rec.env.state = State::kInProgress;
        rec.env.seq = NextSeq();
        rec.env.due_ms = in.now.ms + lease * 1000;
        rec.env.retention_sec = in.now.seconds() + kRetentionSeconds;
        rec.task.status = std::string(kInProgress);
        rec.task.worker_id = in.worker_id;
        rec.task.lease_until = FormatUtcSeconds(in.now.seconds() + lease);
        rec.task.attempts += 1;  // D2: once per delivery
        rec.task.updated_at = in.now.text;
        Put(b, rec);
        AddLease(*q, rec);
        return std::optional<Task>(std::move(rec.task));
      }
    }
  }
  return std::optional<Task>();
}

Applied<std::vector<Task>> Engine::ClaimMany(const ClaimInput& in, int max_tasks) {
  return Mutate<std::vector<Task>>([&](Batch& b) -> Result<std::vector<Task>> {
    std::vector<Task> out;
    while (out.size() < static_cast<size_t>(std::max(1, max_tasks))) {
      auto one = ClaimOne(b, in);
      if (!one.ok()) {
        if (out.empty()) return one.status();
        break;  // those already claimed are leased to the worker: hand them over
      }
      if (!one->has_value()) break;
      out.push_back(std::move(**one));
    }
    return out;
  });
}

// --- Heartbeat ---------------------------------------------------------------------------------

Applied<Task> Engine::Heartbeat(const HeartbeatInput& in) {
  auto id = ParseUuid(in.task_id);
  if (!id) return {NotFound("not-found"), 0};
  return Mutate<Task>([&](Batch& b) -> Result<Task> {
    auto r = Load(*id, &b);
    if (!r.ok()) return r.status();
    if (Status s = CheckOwned(*r, in.tenant, in.worker_id); !s.ok()) return s;
    Record& rec = **r;
    QueueIndex& q = GetQueue(rec.task.tenant_id, rec.task.command);
    const int64_t extend = std::max<int64_t>(1, in.extend_seconds);
    // D10: an expired lease not yet repaired is simply renewed (the owner still holds the task).
    q.RemoveLease(rec.env.due_ms, rec.id);
    rec.env.due_ms = in.now.ms + extend * 1000;
    rec.env.retention_sec = in.now.seconds() + kRetentionSeconds;
    rec.task.lease_until = FormatUtcSeconds(in.now.seconds() + extend);
    rec.task.updated_at = in.now.text;
    Put(b, rec);
    AddLease(q, rec);
    return std::move(rec.task);
  });
}

// --- Abandon -----------------------------------------------------------------------------------

Applied<Task> Engine::Abandon(const TaskRef& in) {
  auto id = ParseUuid(in.task_id);
  if (!id) return {NotFound("not-found"), 0};
  return Mutate<Task>([&](Batch& b) -> Result<Task> {
    auto r = Load(*id, &b);
    if (!r.ok()) return r.status();
    if (Status s = CheckOwned(*r, in.tenant, in.worker_id); !s.ok()) return s;
    Record& rec = **r;
    QueueIndex& q = GetQueue(rec.task.tenant_id, rec.task.command);
    q.RemoveLease(rec.env.due_ms, rec.id);
    rec.env.state = State::kReady;
    rec.env.seq = NextSeq();  // behind the tasks already waiting (SPEC §2.6)
    rec.env.due_ms = 0;
    rec.env.retention_sec = in.now.seconds() + kRetentionSeconds;
    rec.task.status = std::string(kPending);
    ClearLease(rec.task);
    rec.task.updated_at = in.now.text;
    Put(b, rec);
    q.AddReady(rec.env.tier, rec.id);
    return std::move(rec.task);
  });
}

// --- Nack --------------------------------------------------------------------------------------

bool Engine::NackApply(Batch& b, QueueIndex& q, Record& rec, int64_t delay_seconds,
                       const std::string& reason, int max_attempts_default, int64_t now_ms,
                       const std::string& now_text) {
  int max_attempts = rec.task.max_attempts > 0 ? rec.task.max_attempts : max_attempts_default;
  if (max_attempts <= 0) max_attempts = 1;
  const int64_t now_sec = now_ms / 1000;
  ClearLease(rec.task);
  rec.task.updated_at = now_text;
  rec.env.seq = NextSeq();
  if (rec.task.attempts >= max_attempts) {  // D2: dead-letter; D11: with a FAILED result record
    rec.task.status = std::string(kFailed);
    rec.task.error = reason;
    rec.task.result_key = std::string(kResultsKey);
    rec.env.state = State::kDead;
    rec.env.due_ms = 0;
    rec.env.retention_sec = now_sec + kRetentionSeconds;
    TaskResult failed;
    failed.task_id = rec.task.id;
    failed.status = std::string(kFailed);
    failed.error = reason;
    failed.completed_at = now_text;
    b.Put(ResultKey(rec.id), TaskResultToJsonText(failed));
    b.Put(DlqKey(rec.task.tenant_id, q.command_lower(), rec.env.seq),
          std::string(reinterpret_cast<const char*>(rec.id.data()), rec.id.size()));
    Put(b, rec);
    OutboxAdd(b, rec, now_ms);
    q.AddDead();
    return true;
  }
  delay_seconds = std::max<int64_t>(0, delay_seconds);
  rec.task.status = std::string(kPending);
  rec.task.error.clear();
  rec.env.state = State::kDelayed;  // even with delay 0: claimable at the next promotion (§4.9)
  rec.env.due_ms = now_ms + delay_seconds * 1000;
  rec.env.retention_sec = now_sec + delay_seconds + kRetentionSeconds;
  Put(b, rec);
  AddDelayed(q, rec);
  return false;
}

Applied<NackOutcome> Engine::Nack(const NackInput& in) {
  auto id = ParseUuid(in.task_id);
  if (!id) return {NotFound("not-found"), 0};
  return Mutate<NackOutcome>([&](Batch& b) -> Result<NackOutcome> {
    auto r = Load(*id, &b);
    if (!r.ok()) return r.status();
    if (Status s = CheckOwned(*r, in.tenant, in.worker_id); !s.ok()) return s;
    Record& rec = **r;
    int64_t delay = in.delay_seconds > 0 ? in.delay_seconds : (in.backoff ? in.backoff(rec.task.attempts) : 0);
    if (in.max_delay_seconds > 0) delay = std::min(delay, in.max_delay_seconds);
    delay = std::max<int64_t>(0, delay);
    const std::string reason = in.reason.empty() ? "MAX_ATTEMPTS" : in.reason;
    QueueIndex& q = GetQueue(rec.task.tenant_id, rec.task.command);
    q.RemoveLease(rec.env.due_ms, rec.id);
    NackOutcome out;
    out.dead_lettered = NackApply(b, q, rec, delay, reason, in.max_attempts_default, in.now.ms, in.now.text);
    out.delay_seconds = out.dead_lettered ? 0 : delay;
    out.task = std::move(rec.task);
    return out;
  });
}

// --- SubmitResult ------------------------------------------------------------------------------

Applied<Task> Engine::SubmitResult(const SubmitResultInput& in) {
  auto id = ParseUuid(in.task_id);
  if (!id) return {NotFound("task not found"), 0};
  if (in.result.status != kCompleted && in.result.status != kFailed) {  // the service checks first
    return {InvalidArgument("invalid status"), 0};
  }
  return Mutate<Task>([&](Batch& b) -> Result<Task> {
    auto r = Load(*id, &b);
    if (!r.ok()) return r.status();
    if (!*r || (*r)->task.tenant_id != in.tenant) return NotFound("task not found");
    Record& rec = **r;
    const std::string& owner = rec.task.worker_id;
    if (!owner.empty() && !in.worker_id.empty() && owner != in.worker_id) return Forbidden("not-owner");
    if (rec.task.status != kInProgress || rec.env.state != State::kInProgress) {
      return Conflict("not-in-progress");
    }
    TaskResult record = in.result;
    if (record.task_id.empty()) record.task_id = in.task_id;
    if (record.completed_at.empty()) record.completed_at = in.now.text;
    b.Put(ResultKey(rec.id), TaskResultToJsonText(record));
    QueueIndex& q = GetQueue(rec.task.tenant_id, rec.task.command);
    q.RemoveLease(rec.env.due_ms, rec.id);
    rec.env.state = State::kDone;
    rec.env.seq = NextSeq();
    rec.env.due_ms = 0;
    rec.env.retention_sec = in.now.seconds() + kRetentionSeconds;
    rec.task.status = record.status;
    rec.task.result_key = std::string(kResultsKey);
    ClearLease(rec.task);
    rec.task.updated_at = in.now.text;
    if (record.status == kFailed && !record.error.empty()) rec.task.error = record.error;  // D11
    Put(b, rec);
    OutboxAdd(b, rec, in.now.ms);
    return std::move(rec.task);
  });
}

}  // namespace codeq::embedded
