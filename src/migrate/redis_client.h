// A small blocking Redis client for the migration tool (hiredis). The server's connection pool
// (store/redis) is tuned for short request/response calls; a migration needs long timeouts,
// pipelined batches and plain error reporting, so it has its own wrapper.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "domain/status.h"

struct redisContext;

namespace codeq::migrate {

/// The arguments of one command, binary-safe.
using Argv = std::vector<std::string>;

/// An owned copy of one RESP2 reply.
struct Reply {
  enum class Type { kNil, kString, kStatus, kError, kInteger, kArray };
  Type type = Type::kNil;
  std::string str;              // kString, kStatus, kError
  long long integer = 0;        // kInteger
  std::vector<Reply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
  bool is_string() const { return type == Type::kString || type == Type::kStatus; }
  bool is_array() const { return type == Type::kArray; }
  /// Integer reply, or a string holding a decimal integer; `fallback` otherwise.
  long long as_int(long long fallback = 0) const;
};

/// One blocking connection (AUTH [user] password, SELECT db). Not thread-safe. Any I/O failure
/// closes the connection and is returned as Unavailable("redis: <what>: <detail>"); the next
/// call reconnects. Server error replies are returned as Reply values by Call/Pipeline and as
/// Internal statuses by the *Checked variants.
class RedisClient {
 public:
  RedisClient(RedisUrl url, int timeout_ms);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  /// Connects now (instead of at the first call) so a bad address fails early.
  Status Connect();
  /// One command, one round trip.
  Result<Reply> Call(const Argv& argv);
  /// All commands written, then all replies read (one round trip). Replies in order.
  Result<std::vector<Reply>> Pipeline(const std::vector<Argv>& commands);
  /// Like Call, but an error reply becomes Internal("redis <CMD>: <error>").
  Result<Reply> Checked(const Argv& argv);
  /// Like Pipeline, but the first error reply becomes Internal("redis <CMD>: <error>").
  Result<std::vector<Reply>> PipelineChecked(const std::vector<Argv>& commands);

  /// "host:port/db" (never the password), for messages.
  std::string Describe() const;

 private:
  Status Fail(const std::string& what);
  Status EnsureConnected();

  RedisUrl url_;
  int timeout_ms_;
  redisContext* ctx_ = nullptr;
};

/// The endpoint from `--redis` (a redis:// URL or host:port), else `REDIS_ADDR`/`REDIS_PASSWORD`
/// from the environment (an explicit `password` wins over both), else 127.0.0.1:6379.
Result<RedisUrl> ResolveRedisEndpoint(const std::string& flag_value, const std::string& password_flag);

}  // namespace codeq::migrate
