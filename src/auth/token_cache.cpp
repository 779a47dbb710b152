// Verified-token cache (see token_cache.h).
#include "auth/token_cache.h"

#include <algorithm>
#include <functional>

namespace codeq {

TokenCache::TokenCache(size_t max_entries, size_t shards) {
  if (shards == 0) shards = 1;
  if (max_entries < shards) shards = max_entries == 0 ? 1 : max_entries;
  per_shard_ = max_entries / shards;
  shards_.reserve(shards);
  for (size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

size_t TokenHash::operator()(std::string_view token) const noexcept {
  const std::string_view tail = token.substr(token.size() - std::min(token.size(), kHashedBytes));
  return std::hash<std::string_view>{}(tail) ^ (token.size() * 0x9E3779B97F4A7C15ull);
}

TokenCache::Shard& TokenCache::ShardFor(std::string_view token) const {
  // The high bits: the index's buckets use the low ones.
  return *shards_[(TokenHash{}(token) >> 32) % shards_.size()];
}

std::shared_ptr<const Claims> TokenCache::Get(std::string_view token, int64_t now_seconds) {
  if (per_shard_ == 0) return nullptr;
  Shard& s = ShardFor(token);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(token);
  if (it == s.index.end()) return nullptr;
  if (now_seconds > it->second->valid_until) {
    s.lru.erase(it->second);
    s.index.erase(it);
    return nullptr;
  }
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->claims;
}

bool TokenCache::Contains(std::string_view token, int64_t now_seconds) const {
  if (per_shard_ == 0) return false;
  Shard& s = ShardFor(token);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(token);
  return it != s.index.end() && now_seconds <= it->second->valid_until;
}

void TokenCache::Put(std::string_view token, std::shared_ptr<const Claims> shared, int64_t valid_until) {
  if (per_shard_ == 0) return;
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
