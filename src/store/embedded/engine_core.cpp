// Engine: record access helpers and the read-only operations.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <unordered_set>

#include <rocksdb/perf_level.h>

#include "domain/keys.h"
#include "store/embedded/engine.h"
#include "store/embedded/engine_util.h"

namespace codeq::embedded {

void Fatal(const std::string& what) {
  std::fprintf(stderr, "codeq embedded store: fatal: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

Status StorageError(const rocksdb::Status& s) {
  std::fprintf(stderr, "codeq embedded store: %s\n", s.ToString().c_str());
  return Unavailable("store unavailable");
}

namespace {
// The engine whose write group the current thread holds (nullptr: none).
thread_local const Engine* tl_group_engine = nullptr;
// The engine whose mutex the current thread holds through TryLocked (nullptr: none).
thread_local const Engine* tl_locked_engine = nullptr;
}  // namespace

bool Engine::InGroup() const { return tl_group_engine == this; }

void Engine::DisablePerfCounters() {
  static thread_local bool disabled = false;  // this executable's own TLS: no __tls_get_addr
  if (disabled) return;
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  disabled = true;
}

bool Engine::TryEnter() {
  if (InGroup() || tl_locked_engine == this) Fatal("TryLocked while holding the engine mutex");
  if (!mu_.try_lock()) return false;
  tl_locked_engine = this;
  return true;
}

void Engine::Leave() {
  tl_locked_engine = nullptr;
  mu_.unlock();
}

std::unique_lock<std::mutex> Engine::LockUnlessHeld() {
  if (InGroup() || tl_locked_engine == this) return std::unique_lock<std::mutex>();
  return std::unique_lock<std::mutex>(mu_);
}

void Engine::BeginGroup() {
  if (InGroup()) Fatal("nested write group");
  DisablePerfCounters();
  mu_.lock();
  group_batch_.Clear();
  tl_group_engine = this;
}

bool Engine::TryBeginGroup() {
  if (InGroup() || tl_locked_engine == this) Fatal("nested write group");
  DisablePerfCounters();
  if (!mu_.try_lock()) return false;
  group_batch_.Clear();
  tl_group_engine = this;
  return true;
}

uint64_t Engine::EndGroup() {
  if (!InGroup()) Fatal("EndGroup without BeginGroup");
  tl_group_engine = nullptr;
  const uint64_t seq = Commit(group_batch_);
  group_batch_.Clear();
  mu_.unlock();  // the holder is the thread itself (tl_group_engine), not a shared lock object
  return seq;
}

uint64_t Engine::Commit(Batch& batch) {
  rocksdb::Status s;
  try {
    s = batch.Write(db_.get(), write_options_);
  } catch (const std::exception& e) {  // e.g. bad_alloc building the write
    Fatal(std::string("write failed: ") + e.what());
  }
  // The indexes already reflect the batch; memory and disk would disagree from here on.
  if (!s.ok()) Fatal("write failed: " + s.ToString());
  return db_->GetLatestSequenceNumber();
}

Result<std::optional<Record>> Engine::Load(const Uuid& id, Batch* batch, const rocksdb::Snapshot* snap) {
  if (batch != nullptr && snap == nullptr) {  // under the mutex: the cache is current
    auto hit = record_cache_.find(id);
    if (hit != record_cache_.end()) {
      std::optional<Record> r(std::move(hit->second.record));
      record_cache_bytes_ -= hit->second.bytes;
      record_cache_.erase(hit);  // its position in record_cache_order_ goes stale
      return r;
    }
  }
  DisablePerfCounters();  // reads run on the side pool too
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  rocksdb::PinnableSlice value;
  rocksdb::Status s = batch ? batch->Get(db_.get(), ro, TaskKey(id), &value)
                            : db_->Get(ro, db_->DefaultColumnFamily(), TaskKey(id), &value);
  if (s.IsNotFound()) return std::optional<Record>();
  if (!s.ok()) return StorageError(s);
  Record r;
  r.id = id;
  std::string_view json;
  std::string why;
  if (!DecodeTask(View(value), &r.env, &json, &why)) {
    return Internal("store error: undecodable task record " + FormatUuid(id) + ": " + why);
  }
  auto task = TaskFromJsonText(json);
  if (!task.ok()) return Internal("store error: undecodable task record " + FormatUuid(id));
  r.task = std::move(task).value();
  r.stored = true;
  return std::optional<Record>(std::move(r));
}

std::string Engine::Put(Batch& b, Record& r, bool reindex) {
  // The 'x' key must stay at or before the deadline (cleanup finds tasks through it); later than
  // that it may lag behind, which saves rewriting it at every transition.
  if (!r.stored || reindex || r.env.retention_sec < r.env.indexed_sec) {
    if (r.stored) b.Delete(RetentionKey(r.env.indexed_sec, r.id));
    r.env.indexed_sec = r.env.retention_sec;
    b.Put(RetentionKey(r.env.indexed_sec, r.id), EncodeRetentionValue(r.env.state, r.task.tenant_id));
  }
  std::string json = TaskToJsonText(r.task);
  b.Put(TaskKey(r.id), EncodeTask(r.env, json));
  r.stored = true;
  // A terminal record is rarely loaded again (cleanup reads it once, days later).
  if (TerminalState(r.env.state)) {
    UncacheRecord(r.id);
  } else {
    CacheRecord(r);
  }
  return json;
}

namespace {
/// About what a cached record occupies: its strings' bytes plus the fixed parts.
size_t RecordBytes(const Record& r) {
  const Task& t = r.task;
  return sizeof(Record) + r.env.idem_key.size() + t.id.size() + t.command.size() + t.payload.size() +
         t.webhook.size() + t.status.size() + t.worker_id.size() + t.lease_until.size() +
         t.error.size() + t.result_key.size() + t.tenant_id.size() + t.created_at.size() +
         t.updated_at.size();
}
}  // namespace

void Engine::CacheRecord(const Record& r) {
  const size_t bytes = RecordBytes(r);
  if (bytes > kRecordCacheMaxRecord) {
    UncacheRecord(r.id);
    return;
  }
  CachedRecord& entry = record_cache_[r.id];
  record_cache_bytes_ += bytes - entry.bytes;  // entry.bytes is 0 for a new entry
  entry.record = r;
  entry.bytes = bytes;
  entry.gen = ++record_cache_gen_;
  record_cache_order_.emplace_back(r.id, entry.gen);
  // Every entry has exactly one current position in the deque, so emptying the deque empties
  // the map: the loop ends.
  while (record_cache_order_.size() > kRecordCacheEntries || record_cache_bytes_ > kRecordCacheBytes) {
    const auto [old_id, old_gen] = record_cache_order_.front();
    record_cache_order_.pop_front();
    auto old = record_cache_.find(old_id);
    if (old != record_cache_.end() && old->second.gen == old_gen) {
      record_cache_bytes_ -= old->second.bytes;
      record_cache_.erase(old);
    }
  }
}

void Engine::UncacheRecord(const Uuid& id) {
  auto it = record_cache_.find(id);
  if (it == record_cache_.end()) return;
  record_cache_bytes_ -= it->second.bytes;
  record_cache_.erase(it);
}

Status Engine::Remove(Batch& b, const Record& r) {
  // The idempotency key is deleted only while it still names this task: after it expired, a new
  // task may have taken it over (SPEC §2.3.2).
  if (!r.env.idem_key.empty()) {
    const std::string ikey = IdemKey(r.task.tenant_id, r.env.idem_key);
    std::string value;
    rocksdb::Status s = b.Get(db_.get(), rocksdb::ReadOptions(), ikey, &value);
    if (!s.ok() && !s.IsNotFound()) return StorageError(s);
    Uuid owner{};
    int64_t expiry = 0;
    if (s.ok() && DecodeIdemValue(value, &owner, &expiry) && owner == r.id) b.Delete(ikey);
  }
  b.Delete(TaskKey(r.id));
  UncacheRecord(r.id);
  b.Delete(ResultKey(r.id));
  b.Delete(RetentionKey(r.env.indexed_sec, r.id));
  QueueIndex* q = FindQueue(r.task.tenant_id, r.task.command);
  switch (r.env.state) {
    case State::kReady:
      if (q) q->ReadyGone(r.env.tier);  // its deque entry goes stale (lazy deletion)
      break;
    case State::kDelayed:
      if (q) q->DelayedGone();
      break;
    case State::kInProgress:
      if (q) q->RemoveLease(r.env.due_ms, r.id);
      break;
    case State::kDead:
      b.Delete(DlqKey(r.task.tenant_id, keys::LowerAscii(r.task.command), r.env.seq));
      if (q) q->DeadGone();
      break;
    case State::kDone:
      break;
  }
  return Status::Ok();
}

QueueIndex* Engine::FindQueue(const std::string& tenant, const std::string& command) {
  auto it = queues_.find(QueueId(tenant, command));
  return it == queues_.end() ? nullptr : it->second.get();
}

QueueIndex& Engine::GetQueue(const std::string& tenant, const std::string& command) {
  auto& slot = queues_[QueueId(tenant, command)];
  if (!slot) slot = std::make_unique<QueueIndex>(tenant, keys::LowerAscii(command), command);
  return *slot;
}

std::vector<std::pair<QueueIndex*, std::string>> Engine::QueuesOf(
    const std::string& tenant, const std::vector<std::string>& commands) {
  std::vector<std::pair<QueueIndex*, std::string>> out;
  // Commands differing only in case share a queue; a wildcard claim lists every known command of
  // the tenant, so the dedupe must stay O(1) per command (a linear scan made a claim over 20 000
  // commands take ~200 ms, most of it under the engine mutex).
  std::unordered_set<const QueueIndex*> seen;
  for (const auto& cmd : commands) {
    QueueIndex* q = FindQueue(tenant, cmd);
    if (q && seen.insert(q).second) out.emplace_back(q, cmd);
  }
  return out;
}

void Engine::AddDelayed(QueueIndex& q, const Record& r) {
  q.AddDelayed({r.env.due_ms, r.env.seq, r.id});
  if (due_hook_) due_hook_(r.env.due_ms);
}

void Engine::AddLease(QueueIndex& q, const Record& r) {
  q.AddLease(r.env.due_ms, r.id);
  if (due_hook_) due_hook_(r.env.due_ms);
}

void Engine::RememberCommand(Batch& b, const std::string& tenant,
                             const std::string& command) {
  auto& known = commands_[tenant];
  if (known.insert(command).second) b.Put(CommandKey(tenant, command), "");
}

// --- reads -------------------------------------------------------------------------------------

Applied<Task> Engine::GetTask(const std::string& tenant, const std::string& id) {
  auto uuid = ParseUuid(id);
  if (!uuid) return {NotFound("not found"), 0};
  auto r = Load(*uuid);
  uint64_t seq = db_->GetLatestSequenceNumber();
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kUnavailable) return {r.status(), seq};
    return {NotFound("not found"), seq};  // unreadable: as the Redis backend
  }
  if (!*r || (*r)->task.tenant_id != tenant) return {NotFound("not found"), seq};  // D6
  return {std::move((*r)->task), seq};
}

Applied<TaskResult> Engine::GetResult(const std::string& tenant, const std::string& id) {
  auto uuid = ParseUuid(id);
  if (!uuid) return {NotFound("task not found"), 0};
  // One snapshot for both records, so a result submitted in between is seen with its task.
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  auto r = Load(*uuid, nullptr, snap);
  std::string value;
  rocksdb::Status s = rocksdb::Status::NotFound();
  if (r.ok() && *r && (*r)->task.tenant_id == tenant) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snap;
    s = db_->Get(ro, ResultKey(*uuid), &value);
  }
  db_->ReleaseSnapshot(snap);
  uint64_t seq = db_->GetLatestSequenceNumber();
  if (!r.ok() && r.status().code() == StatusCode::kUnavailable) return {r.status(), seq};
  if (!r.ok() || !*r || (*r)->task.tenant_id != tenant) return {NotFound("task not found"), seq};
  if (s.IsNotFound()) return {NotFound("result not found"), seq};
  if (!s.ok()) return {StorageError(s), seq};
  auto res = TaskResultFromJsonText(value);
  if (!res.ok()) return {NotFound("result not found"), seq};
  return {std::move(res).value(), seq};
}

std::vector<std::string> Engine::ListCommands(const std::string& tenant) {
  auto lock = LockUnlessHeld();
  auto it = commands_.find(tenant);
  if (it == commands_.end()) return {};
  return std::vector<std::string>(it->second.begin(), it->second.end());
}

QueueStats Engine::Stats(const std::string& tenant, const std::string& command) {
  QueueStats s;
  s.command = command;
  auto lock = LockUnlessHeld();
  if (QueueIndex* q = FindQueue(tenant, command)) {
    s.ready = q->ready();
    s.delayed = q->delayed();
    s.in_progress = q->in_progress();
    s.dlq = q->dead();
  }
  return s;
}

VoidResult Engine::Ping() {
  // Not the cumulative "rocksdb.background-errors" count: it stays above 0 after a recovery.
  if (WritesStopped()) return Unavailable("store unavailable");
  return Unit{};
}

uint64_t Engine::UnflushedBytes() const {
  uint64_t bytes = 0;
  if (!db_ || !db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &bytes)) return 0;
  return bytes;
}


}  // namespace codeq::embedded
