// Engine: the result-callback outbox, worker-availability subscriptions and on-demand promotion
// (SPEC §6, D16). Outbox and subscription changes are one critical section + one batch each, like
// the task transitions; throttle and round-robin counters live in memory only.
#include <algorithm>

#include "domain/keys.h"
#include "domain/time_format.h"
#include "store/embedded/engine.h"
#include "store/embedded/engine_util.h"

namespace codeq::embedded {
namespace {

OutboxEntry ToEntry(const Uuid& id, const OutboxValue& v) {
  OutboxEntry e;
  e.task_id = FormatUuid(id);
  e.url = v.url;
  e.tenant = v.tenant;
  e.command = v.command;
  e.attempts = v.attempts;
  e.due_ms = v.due_ms;
  return e;
}

/// The distinct lower-cased event types of a subscription (its index keys).
std::set<std::string> IndexKeys(const Subscription& s) {
  std::set<std::string> out;
  for (const auto& e : s.event_types) out.insert(keys::LowerAscii(e));
  return out;
}

}  // namespace

// --- outbox ------------------------------------------------------------------------------------

void Engine::OutboxAdd(Batch& b, const Record& r, int64_t now_ms) {
  if (r.task.webhook.empty()) return;
  OutboxValue v;
  v.due_ms = now_ms;
  v.url = r.task.webhook;
  v.tenant = r.task.tenant_id;
  v.command = r.task.command;
  OutboxPut(b, r.id, v);
}

void Engine::OutboxPut(Batch& b, const Uuid& id, const OutboxValue& v) {
  b.Put(OutboxKey(id), EncodeOutboxValue(v));
  auto [it, inserted] = outbox_.try_emplace(id, v);
  if (!inserted) {
    outbox_due_.erase({it->second.due_ms, id});
    it->second = v;
  }
  outbox_due_.insert({v.due_ms, id});
}

Applied<std::vector<OutboxEntry>> Engine::ClaimCallbacks(int64_t now_ms, int64_t lease_ms, int limit) {
  return Mutate<std::vector<OutboxEntry>>([&](Batch& b) -> Result<std::vector<OutboxEntry>> {
    std::vector<Uuid> due;
    for (auto it = outbox_due_.begin();
         it != outbox_due_.end() && it->first <= now_ms && static_cast<int>(due.size()) < std::max(1, limit); ++it) {
      due.push_back(it->second);
    }
    std::vector<OutboxEntry> out;
    for (const Uuid& id : due) {
      OutboxValue v = outbox_.at(id);
      v.due_ms = now_ms + std::max<int64_t>(0, lease_ms);  // leased: retried after the lease
      OutboxPut(b, id, v);
      out.push_back(ToEntry(id, v));
    }
    return out;
  });
}

Applied<Unit> Engine::FinishCallback(const std::string& task_id) {
  auto id = ParseUuid(task_id);
  if (!id) return {Unit{}, 0};
  return Mutate<Unit>([&](Batch& b) -> Result<Unit> {
    auto it = outbox_.find(*id);
    if (it == outbox_.end()) return Unit{};
    b.Delete(OutboxKey(*id));
    outbox_due_.erase({it->second.due_ms, *id});
    outbox_.erase(it);
    return Unit{};
  });
}

Applied<Unit> Engine::RetryCallback(const std::string& task_id, int attempts, int64_t due_ms) {
  auto id = ParseUuid(task_id);
  if (!id) return {Unit{}, 0};
  return Mutate<Unit>([&](Batch& b) -> Result<Unit> {
    auto it = outbox_.find(*id);
    if (it == outbox_.end()) return Unit{};  // a concurrent finish won
    OutboxValue v = it->second;
    v.attempts = attempts;
    v.due_ms = due_ms;
    OutboxPut(b, *id, v);
    return Unit{};
  });
}

// --- subscriptions -----------------------------------------------------------------------------

void Engine::IndexSubscription(const Subscription& s) {
  for (const auto& key : IndexKeys(s)) sub_index_[key].insert({s.expires_at_sec, s.id});
}

void Engine::UnindexSubscription(const Subscription& s) {
  for (const auto& key : IndexKeys(s)) {
    auto it = sub_index_.find(key);
    if (it == sub_index_.end()) continue;
    it->second.erase({s.expires_at_sec, s.id});
    if (it->second.empty()) sub_index_.erase(it);
  }
}

Applied<Unit> Engine::CreateSubscription(const Subscription& sub) {
  if (sub.id.empty()) return {InvalidArgument("invalid subscription id"), 0};
  return Mutate<Unit>([&](Batch& b) -> Result<Unit> {
    b.Put(SubscriptionKey(sub.id), SubscriptionToJsonText(sub));
    auto [it, inserted] = subs_.try_emplace(sub.id, sub);
    if (!inserted) {  // same id again: replace (ids are fresh UUIDs, so only a retry does this)
      UnindexSubscription(it->second);
      it->second = sub;
    }
    IndexSubscription(sub);
    return Unit{};
  });
}

Applied<Subscription> Engine::RenewSubscription(const std::string& tenant, const std::string& id,
                                                int64_t expires_at_sec, const std::string& expires_at_text) {
  return Mutate<Subscription>([&](Batch& b) -> Result<Subscription> {
    auto it = subs_.find(id);
    if (it == subs_.end() || it->second.tenant_id != tenant) return NotFound("not-found");  // D6
    Subscription& s = it->second;
    UnindexSubscription(s);
    s.expires_at = expires_at_text;
    s.expires_at_sec = expires_at_sec;
    IndexSubscription(s);
    b.Put(SubscriptionKey(id), SubscriptionToJsonText(s));
    return s;
  });
}

std::vector<Subscription> Engine::ActiveSubscriptions(const std::string& command, int64_t now_sec, int limit) {
  std::vector<Subscription> out;
  auto lock = LockUnlessHeld();
  auto idx = sub_index_.find(keys::LowerAscii(command));
  if (idx == sub_index_.end()) return out;
  for (auto it = idx->second.lower_bound({now_sec, std::string()});
       it != idx->second.end() && static_cast<int>(out.size()) < limit; ++it) {
    auto s = subs_.find(it->second);
    if (s != subs_.end()) out.push_back(s->second);  // the index never outlives its record
  }
  return out;
}

std::vector<Subscription> Engine::ListSubscriptions(int64_t now_sec, int limit) {
  std::vector<Subscription> out;
  auto lock = LockUnlessHeld();
  for (const auto& [id, s] : subs_) {
    if (static_cast<int>(out.size()) >= limit) break;
    if (s.expires_at_sec >= now_sec) out.push_back(s);
  }
  return out;
}

bool Engine::TryThrottle(const std::string& sub_id, int interval_seconds, int64_t now_ms) {
  auto lock = LockUnlessHeld();
  int64_t& until = throttle_until_ms_[sub_id];
  if (now_ms < until) return false;
  until = now_ms + std::max(1, interval_seconds) * int64_t{1000};
  return true;
}

int64_t Engine::NextRoundRobin(const std::string& command, const std::string& group_id) {
  std::string key = keys::LowerAscii(command);
  key.push_back('\0');
  key.append(group_id);
  auto lock = LockUnlessHeld();
  return ++round_robin_[key];
}

Applied<int64_t> Engine::CleanupSubscriptions(int64_t now_sec, int limit) {
  return Mutate<int64_t>([&](Batch& b) -> Result<int64_t> {
    std::vector<std::string> expired;
    for (const auto& [id, s] : subs_) {
      if (static_cast<int>(expired.size()) >= limit) break;
      if (s.expires_at_sec < now_sec) expired.push_back(id);
    }
    for (const auto& id : expired) {
      UnindexSubscription(subs_.at(id));
      b.Delete(SubscriptionKey(id));
      throttle_until_ms_.erase(id);
      subs_.erase(id);
    }
    return static_cast<int64_t>(expired.size());
  });
}

int64_t Engine::CountActiveSubscriptions(const std::string& command, int64_t now_sec) {
  auto lock = LockUnlessHeld();
  auto idx = sub_index_.find(keys::LowerAscii(command));
  if (idx == sub_index_.end()) return 0;
  return std::distance(idx->second.lower_bound({now_sec, std::string()}), idx->second.end());
}

// --- promotion ---------------------------------------------------------------------------------

Applied<Store::PromoteOutcome> Engine::PromoteDue(const std::string& tenant, const std::string& command,
                                                  int64_t now_sec, int limit) {
  return Mutate<Store::PromoteOutcome>([&](Batch& b) -> Result<Store::PromoteOutcome> {
    Store::PromoteOutcome out;
    QueueIndex* q = FindQueue(tenant, command);
    if (!q) return out;
    const int64_t now_ms = now_sec * 1000;
    auto moved = Promote(b, *q, now_ms, FormatTimestamp(now_ms), std::max(1, limit));
    if (!moved.ok()) return moved.status();
    out.moved = *moved;
    out.ready_depth = q->ready();
    return out;
  });
}

}  // namespace codeq::embedded
