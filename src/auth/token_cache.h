// A bounded cache of verified tokens: exact token text → validated Claims (issue 7: an RS256
// signature check costs tens of microseconds; a worker re-sends the same token on every call).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/claims.h"

namespace codeq {

/// Thread-safe LRU cache, split into shards (one mutex each) chosen by the token's hash, so
/// concurrent requests with different tokens rarely contend.
///
/// An entry lives until `valid_until` (epoch seconds, inclusive: the validator passes exp + leeway)
/// or until it is the least recently used of its shard when the shard is full. Lookup and insert
/// are O(1) (hash + list splice) plus the Claims copy on a hit. Only successful validations are
/// cached, so a rejected token is re-checked in full every time (its reason may change, e.g. a
/// kid that appears after a JWKS refresh). A cached token stays accepted until it expires even if
/// its signing key is later removed from the JWKS: the same trade-off every JWT cache makes.
class TokenCache {
 public:
  /// `max_entries` bounds the whole cache (0 disables it: Get always misses, Put does nothing).
  explicit TokenCache(size_t max_entries, size_t shards = 16);

  /// The claims cached for exactly `token`, if still valid at `now_seconds`; an expired entry is
  /// dropped.
  std::optional<Claims> Get(std::string_view token, int64_t now_seconds);

  /// Whether Get(token, now_seconds) would hit; touches neither the LRU order nor the entry. O(1).
  bool Contains(std::string_view token, int64_t now_seconds) const;

  /// Caches `claims` for `token` until `valid_until` (epoch seconds). Replaces an older entry.
  void Put(std::string_view token, const Claims& claims, int64_t valid_until);

  size_t Size() const;
  size_t capacity() const { return per_shard_ * shards_.size(); }

 private:
  struct Entry {
    std::string token;
    std::shared_ptr<const Claims> claims;
    int64_t valid_until = 0;
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Entry> lru;  // front = most recently used
    std::unordered_map<std::string_view, std::list<Entry>::iterator> index;  // views into lru
  };
  Shard& ShardFor(std::string_view token) const;

  size_t per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace codeq
