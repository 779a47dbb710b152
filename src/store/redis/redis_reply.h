// An owned copy of one RESP reply (hiredis' redisReply tree converted to value types).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct redisReply;

namespace codeq::redis {

/// One reply of the Redis protocol (RESP2). Value type; cheap to move.
struct Reply {
  enum class Type { kNil, kString, kStatus, kError, kInteger, kArray };

  Type type = Type::kNil;
  std::string str;            // kString, kStatus, kError
  long long integer = 0;      // kInteger
  std::vector<Reply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
  bool is_string() const { return type == Type::kString || type == Type::kStatus; }
  bool is_array() const { return type == Type::kArray; }
  /// The text of a string/status reply; nullopt for nil or other types. O(1) + copy.
  std::optional<std::string> text() const {
    if (is_string()) return str;
    return std::nullopt;
  }
  /// An integer reply, or a string reply holding a decimal integer (e.g. Lua numbers returned as
  /// strings); `fallback` otherwise. O(length).
  long long as_int(long long fallback = 0) const;
  /// True when this is an error reply whose message starts with `prefix` (e.g. "NOSCRIPT"). O(|prefix|).
  bool error_starts_with(std::string_view prefix) const {
    return is_error() && std::string_view(str).substr(0, prefix.size()) == prefix;
  }
};

/// Deep-copies a hiredis reply tree. O(size of the reply).
Reply ConvertReply(const redisReply* r);

}  // namespace codeq::redis
