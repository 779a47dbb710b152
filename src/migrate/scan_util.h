// Incremental iteration helpers (SCAN family, LRANGE pages, chunks) over a RedisClient. Internal.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "migrate/client.h"

namespace codeq::migrate {

/// SCAN 0.. MATCH pattern COUNT count; `fn` gets each page of key names (never KEYS).
Status ScanKeys(RedisClient& c, const std::string& pattern, int count,
                const std::function<Status(std::vector<std::string>&)>& fn);

/// HSCAN / ZSCAN from `cursor` ("0" = start); `fn` gets each page of (field, value) or
/// (member, score) pairs and the cursor that continues after it ("0" after the last page).
Status ScanPairs(RedisClient& c, const std::string& scan_cmd, const std::string& key, std::string cursor, int count,
                 const std::function<Status(std::vector<std::pair<std::string, std::string>>&, const std::string&)>& fn);

/// SSCAN; `fn` gets each page of members.
Status ScanSet(RedisClient& c, const std::string& key, int count,
               const std::function<Status(std::vector<std::string>&)>& fn);

/// Reads a list in pages of `count` from the head (index 0) towards the tail; `fn` gets each page
/// and the index of its first element. The length is read first and bounds the walk.
Status ListPages(RedisClient& c, const std::string& key, int count,
                 const std::function<Status(std::vector<std::string>&, long long)>& fn);

/// The whole list / set (batched reads). O(size).
Result<std::vector<std::string>> ReadList(RedisClient& c, const std::string& key, int count);
Result<std::vector<std::string>> ReadSet(RedisClient& c, const std::string& key, int count);

/// TYPE of each key ("none" when missing), pipelined.
Result<std::vector<std::string>> Types(RedisClient& c, const std::vector<std::string>& keys);

/// Size of a key of the given type (HLEN/ZCARD/LLEN/SCARD/STRLEN); 0 for "none".
Result<long long> SizeOf(RedisClient& c, const std::string& key, const std::string& type);

/// Current server time in milliseconds (TIME), so TTL arithmetic uses the server's clock.
Result<long long> ServerTimeMs(RedisClient& c);

/// Calls `fn(std::vector<T>&)` with consecutive copies of `items` of at most `count` elements,
/// in order, and stops at the first non-ok Status (returned).
template <class T, class Fn>
Status ForEachChunk(const std::vector<T>& items, int count, Fn&& fn) {
  const size_t step = static_cast<size_t>(count > 0 ? count : 1);
  for (size_t i = 0; i < items.size(); i += step) {
    std::vector<T> chunk(items.begin() + static_cast<long>(i),
                         items.begin() + static_cast<long>(std::min(items.size(), i + step)));
    if (Status s = fn(chunk); !s.ok()) return s;
  }
  return Status::Ok();
}

/// Strings of an array reply (nil elements become "" and are flagged in `nil` when given).
std::vector<std::string> Strings(const Reply& r, std::vector<bool>* nil = nullptr);

}  // namespace codeq::migrate
