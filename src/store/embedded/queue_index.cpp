#include "store/embedded/queue_index.h"

#include <algorithm>
#include <cassert>

#include "domain/keys.h"

namespace codeq::embedded {
namespace {

// std::push_heap builds a max-heap; "greater" puts the earliest due time (then lowest seq) on top.
bool Later(const DelayedEntry& a, const DelayedEntry& b) {
  return a.due_ms != b.due_ms ? a.due_ms > b.due_ms : a.seq > b.seq;
}

}  // namespace

std::string QueueId(std::string_view tenant, std::string_view command) {
  std::string k(tenant);
  k.push_back('\0');
  k += keys::LowerAscii(command);
  return k;
}

void QueueIndex::AddReady(int tier, const Uuid& id) {
  pending_[tier].push_back(id);
  ++ready_[tier];
}

bool QueueIndex::PopReady(int tier, Uuid* id) {
  auto& q = pending_[tier];
  if (q.empty()) return false;
  *id = q.front();
  q.pop_front();
  return true;
}

void QueueIndex::UnpopReady(int tier, const Uuid& id) {
  assert(ready_[tier] > 0 && "UnpopReady into a tier without live entries");
  pending_[tier].push_front(id);
}

void QueueIndex::ReadyGone(int tier) {
  if (--ready_[tier] <= 0) {
    ready_[tier] = 0;
    std::deque<Uuid>().swap(pending_[tier]);  // only stale entries can be left: free them
  }
}

void QueueIndex::LoadReady(int tier, std::deque<Uuid> ids) {
  ready_[tier] = static_cast<int64_t>(ids.size());
  pending_[tier] = std::move(ids);
}

int64_t QueueIndex::ready() const {
  int64_t n = 0;
  for (int64_t r : ready_) n += r;
  return n;
}

void QueueIndex::AddDelayed(const DelayedEntry& e) {
  delayed_.push_back(e);
  std::push_heap(delayed_.begin(), delayed_.end(), Later);
  ++delayed_live_;
}

bool QueueIndex::TopDelayed(DelayedEntry* e) const {
  if (delayed_.empty()) return false;
  *e = delayed_.front();
  return true;
}

void QueueIndex::PopDelayed() {
  std::pop_heap(delayed_.begin(), delayed_.end(), Later);
  delayed_.pop_back();
}

void QueueIndex::UnpopDelayed(const DelayedEntry& e) {
  delayed_.push_back(e);
  std::push_heap(delayed_.begin(), delayed_.end(), Later);
}

void QueueIndex::DelayedGone() {
  if (--delayed_live_ <= 0) {
    delayed_live_ = 0;
    std::vector<DelayedEntry>().swap(delayed_);
  }
}

void QueueIndex::LoadDelayed(std::vector<DelayedEntry> entries) {
  delayed_live_ = static_cast<int64_t>(entries.size());
  delayed_ = std::move(entries);
  std::make_heap(delayed_.begin(), delayed_.end(), Later);
}

}  // namespace codeq::embedded
