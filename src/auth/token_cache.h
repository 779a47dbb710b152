// A bounded cache of verified tokens: exact token text → validated Claims (issue 7: an RS256
// signature check costs tens of microseconds; a worker re-sends the same token on every call).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/claims.h"

namespace codeq {

/// Hash of a token text for TokenCache's shards and index: std::hash over the token's length and
/// its last kHashedBytes bytes, so a lookup costs O(1) whatever the token's size (a JWT is often
/// 1 KB, and every request looks its token up). A JWS ends in its signature, which tells verified
/// tokens apart; equal hashes are still told apart by comparing the whole text. Only verified
/// tokens are ever added, so a client cannot crowd one bucket with crafted tokens.
struct TokenHash {
  static constexpr size_t kHashedBytes = 48;
  size_t operator()(std::string_view token) const noexcept;
};

/// Thread-safe LRU cache, split into shards (one mutex each) chosen by the token's hash, so
/// concurrent requests with different tokens rarely contend.
///
/// An entry lives until `valid_until` (epoch seconds, inclusive: the validator passes exp + leeway)
/// or until it is the least recently used of its shard when the shard is full. Lookup and insert
/// are O(1) (TokenHash + list splice); a hit shares the cached Claims, it does not copy them.
/// Only successful validations are cached, so a rejected token is re-checked in full every time
/// (its reason may change, e.g. a kid that appears after a JWKS refresh). A cached token stays
/// accepted until it expires even if its signing key is later removed from the JWKS: the same
/// trade-off every JWT cache makes.
class TokenCache {
 public:
  /// `max_entries` bounds the whole cache (0 disables it: Get always misses, Put does nothing).
  explicit TokenCache(size_t max_entries, size_t shards = 16);

  /// The claims cached for exactly `token`, if still valid at `now_seconds`, else nullptr; an
  /// expired entry is dropped. The claims are shared with the cache and never change.
  std::shared_ptr<const Claims> Get(std::string_view token, int64_t now_seconds);

  /// Whether Get(token, now_seconds) would hit; touches neither the LRU order nor the entry. O(1).
  bool Contains(std::string_view token, int64_t now_seconds) const;

  /// Caches `claims` for `token` until `valid_until` (epoch seconds). Replaces an older entry.
  void Put(std::string_view token, std::shared_ptr<const Claims> claims, int64_t valid_until);
  /// As above, with a copy of `claims`.
  void Put(std::string_view token, const Claims& claims, int64_t valid_until) {
    Put(token, std::make_shared<const Claims>(claims), valid_until);
  }

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
    std::unordered_map<std::string_view, std::list<Entry>::iterator, TokenHash> index;  // views into lru
  };
  Shard& ShardFor(std::string_view token) const;

  size_t per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace codeq
