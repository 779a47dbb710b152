// Engine: lease-expiry repair, cleanup and the background step (SPEC §4.8, §4.10, D3, D11, D12).
#include <algorithm>
#include <cstdio>

#include "domain/time_format.h"
#include "store/embedded/engine.h"
#include "store/embedded/engine_util.h"

namespace codeq::embedded {
namespace {

constexpr const char* kLeaseExpired = "LEASE_EXPIRED";
constexpr size_t kCleanupPage = 256;     // candidates handled per critical section
constexpr int kCleanupScanMax = 4096;    // retention keys looked at per page (outside the lock)

}  // namespace

// --- RepairExpired -----------------------------------------------------------------------------

// Leases are ordered by deadline, so the expired ones are exactly the first entries: no sampling.
Status Engine::RepairQueue(Batch& b, QueueIndex& q, const std::string& label,
                           int64_t now_ms, const std::string& now_text, const BackoffFn& backoff,
                           int max_attempts_default, int limit, RepairOutcome& out) {
  int handled = 0;
  while (handled < limit) {
    const LeaseEntry* first = q.FirstLease();
    if (!first || first->deadline_ms > now_ms) break;
    const LeaseEntry e = *first;
    auto r = Load(e.id, &b);
    if (!r.ok()) return r.status();
    q.RemoveLease(e.deadline_ms, e.id);
    if (!*r || (*r)->env.state != State::kInProgress || (*r)->env.due_ms != e.deadline_ms) {
      continue;  // D3: a stale entry is only dropped, never requeued
    }
    Record& rec = **r;
    const int64_t delay = backoff ? std::max<int64_t>(0, backoff(rec.task.attempts)) : 0;
    const bool dead = NackApply(b, q, rec, delay, kLeaseExpired, max_attempts_default, now_ms, now_text);
    out.expired_commands.push_back(label);
    if (dead) out.dead_lettered.push_back(std::move(rec.task));
    ++handled;
  }
  return Status::Ok();
}

Applied<RepairOutcome> Engine::Repair(const RepairInput& in) {
  return Mutate<RepairOutcome>([&](Batch& b) -> Result<RepairOutcome> {
    RepairOutcome out;
    const int limit = std::max(1, in.inspect_limit);
    for (auto& [q, label] : QueuesOf(in.tenant, in.commands)) {
      Status s = RepairQueue(b, *q, label, in.now.ms, in.now.text, in.backoff, in.max_attempts_default,
                             limit, out);
      if (!s.ok()) return s;
    }
    return out;
  });
}

// --- Cleanup -----------------------------------------------------------------------------------

// The retention index is scanned in key order without the lock, a page at a time; each page's
// candidates are then re-checked and deleted in one critical section. A key is only a lower bound
// of its task's deadline (the lazy index of layout.h), so every candidate is read: one whose true
// deadline is not due yet has its key moved there (it is not scanned again), and the filters go by
// the task itself. The 'x' value's tenant is exact, so another tenant's tasks cost no read.
Applied<int64_t> Engine::Cleanup(const CleanupInput& in) {
  const int64_t limit = in.limit > 0 ? in.limit : 1000;
  const std::string upper = RetentionUpperBound(in.before_sec);
  std::string start(1, kRetentionPrefix);
  int64_t deleted = 0;
  DisablePerfCounters();  // Cleanup runs on the side pool
  uint64_t seq = db_->GetLatestSequenceNumber();
  while (deleted < limit) {
    std::vector<std::pair<int64_t, Uuid>> page;
    bool exhausted = false;
    {
      rocksdb::ReadOptions ro;
      rocksdb::Slice bound(upper);
      ro.iterate_upper_bound = &bound;
      ro.prefix_same_as_start = true;  // the 'x' keys: one memtable bucket (engine_open.cpp)
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
      int scanned = 0;
      for (it->Seek(start); it->Valid() && page.size() < kCleanupPage && scanned < kCleanupScanMax;
           it->Next(), ++scanned) {
        int64_t retention = 0;
        Uuid id{};
        State state{};
        std::string_view tenant;
        if (!ParseRetentionKey(View(it->key()), &retention, &id)) continue;
        if (!DecodeRetentionValue(View(it->value()), &state, &tenant)) {
          page.emplace_back(retention, id);  // let the locked pass decide from the task itself
          continue;
        }
        if (in.tenant && tenant != *in.tenant) continue;
        page.emplace_back(retention, id);
      }
      if (!it->status().ok()) return {StorageError(it->status()), seq};
      if (it->Valid()) {
        start = it->key().ToString();
      } else {
        exhausted = true;
      }
    }
    if (!page.empty()) {
      auto applied = Mutate<int64_t>([&](Batch& b) -> Result<int64_t> {
        int64_t n = 0;
        for (const auto& [retention, id] : page) {
          if (deleted + n >= limit) break;
          auto r = Load(id, &b);
          if (!r.ok()) return r.status();
          if (!*r) {  // a retention key without its task (not produced by this store): drop it
            if (!in.tenant) {
              b.Delete(RetentionKey(retention, id));
              ++n;
            }
            continue;
          }
          Record& rec = **r;
          if (rec.env.indexed_sec != retention) continue;  // its key moved since the scan
          if (in.tenant && rec.task.tenant_id != *in.tenant) continue;
          if (rec.env.retention_sec > in.before_sec) {  // the key lagged behind: move it
            Put(b, rec, /*reindex=*/true);
            continue;
          }
          if (!in.include_active && !TerminalState(rec.env.state)) continue;
          if (Status s = Remove(b, rec); !s.ok()) return s;
          ++n;
        }
        return n;
      });
      seq = applied.seq;
      if (!applied.value.ok()) return {applied.value.status(), seq};
      deleted += *applied.value;
    }
    if (exhausted) break;
  }
  return {deleted, seq};
}

// --- background --------------------------------------------------------------------------------

Engine::TickOutcome Engine::BackgroundTick(int64_t now_ms, const BackoffFn& backoff,
                                           int max_attempts_default, int budget) {
  TickOutcome out;
  const std::string now_text = FormatTimestamp(now_ms);
  std::lock_guard lock(mu_);
  Batch b;
  try {
    int left = budget;
    for (auto& [key, qp] : queues_) {
      QueueIndex& q = *qp;
      if (backoff) {  // first: a requeue with delay 0 is promoted in the same step
        const size_t before = out.repaired.expired_commands.size();
        Status s = RepairQueue(b, q, q.command(), now_ms, now_text, backoff, max_attempts_default, left,
                               out.repaired);
        left -= static_cast<int>(out.repaired.expired_commands.size() - before);
        if (!s.ok()) std::fprintf(stderr, "codeq embedded store: background repair: %s\n", s.message().c_str());
      }
      if (left > 0) {
        auto moved = Promote(b, q, now_ms, now_text, left);
        if (!moved.ok()) {
          std::fprintf(stderr, "codeq embedded store: background promotion: %s\n",
                       moved.status().message().c_str());
        } else if (*moved > 0) {
          left -= *moved;
          out.ready.push_back({q.tenant(), q.command()});
        }
      }
      if (left <= 0) {
        out.more = true;
        break;
      }
    }
    for (auto& [key, qp] : queues_) {
      DelayedEntry e{};
      if (qp->TopDelayed(&e)) out.next_due_ms = std::min(out.next_due_ms, e.due_ms);
      if (backoff) {
        if (const LeaseEntry* l = qp->FirstLease()) out.next_due_ms = std::min(out.next_due_ms, l->deadline_ms);
      }
    }
  } catch (const std::exception& e) {
    if (b.Count() > 0) Fatal(std::string("exception during a background step: ") + e.what());
  }
  out.seq = Commit(b);
  return out;
}

}  // namespace codeq::embedded
