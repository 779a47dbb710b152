// Verified-token cache (see token_cache.h).
#include "auth/token_cache.h"

#include <functional>

namespace codeq {

TokenCache::TokenCache(size_t max_entries, size_t shards) {
  if (shards == 0) shards = 1;
  if (max_entries < shards) shards = max_entries == 0 ? 1 : max_entries;
  per_shard_ = max_entries / shards;
  shards_.reserve(shards);
  for (size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

TokenCache::Shard& TokenCache::ShardFor(std::string_view token) const {
  return *shards_[std::hash<std::string_view>{}(token) % shards_.size()];
}

std::optional<Claims> TokenCache::Get(std::string_view token, int64_t now_seconds) {
  if (per_shard_ == 0) return std::nullopt;
  Shard& s = ShardFor(token);
  std::shared_ptr<const Claims> claims;
  {
    std::lock_guard lock(s.mu);
    auto it = s.index.find(token);
    if (it == s.index.end()) return std::nullopt;
    if (now_seconds > it->second->valid_until) {
      s.lru.erase(it->second);
      s.index.erase(it);
      return std::nullopt;
    }
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    claims = it->second->claims;
  }
  return *claims;  // copied outside the lock
}

bool TokenCache::Contains(std::string_view token, int64_t now_seconds) const {
  if (per_shard_ == 0) return false;
  Shard& s = ShardFor(token);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(token);
  return it != s.index.end() && now_seconds <= it->second->valid_until;
}

void TokenCache::Put(std::string_view token, const Claims& claims, int64_t valid_until) {
  if (per_shard_ == 0) return;
  auto shared = std::make_shared<const Claims>(claims);
  Shard& s = ShardFor(token);
  std::lock_guard lock(s.mu);
  if (auto it = s.index.find(token); it != s.index.end()) {
    it->second->claims = std::move(shared);
    it->second->valid_until = valid_until;
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    return;
  }
  while (s.lru.size() >= per_shard_) {
    s.index.erase(std::string_view(s.lru.back().token));
    s.lru.pop_back();
  }
  s.lru.push_front(Entry{std::string(token), std::move(shared), valid_until});
  s.index.emplace(std::string_view(s.lru.front().token), s.lru.begin());
}

size_t TokenCache::Size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mu);
    n += s->lru.size();
  }
  return n;
}

}  // namespace codeq
