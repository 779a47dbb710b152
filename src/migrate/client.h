// The migration tool's handle on Redis: the Redis store's connection (store/redis:
// redis::Connection, redis::Reply) plus what a long-running operator tool needs on top of it —
// one long timeout for every command, the endpoint in every error message, and "checked" calls
// that turn server error replies into statuses. No RESP or socket handling of its own.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "domain/status.h"
#include "store/redis/redis_connection.h"
#include "store/redis/redis_reply.h"

namespace codeq::migrate {

/// The arguments of one command, binary-safe.
using Argv = redis::Argv;
/// An owned copy of one RESP2 reply.
using Reply = redis::Reply;

/// One blocking connection (AUTH [user] password, SELECT db; lazy reconnect). Not thread-safe.
/// Any I/O failure closes the connection and is returned as
/// Unavailable("redis <host:port/db>: <step>: <detail>"); the next call reconnects. Server error
/// replies are returned as Reply values by Call/Pipeline and as Internal statuses by the
/// *Checked variants.
class RedisClient {
 public:
  /// `timeout_ms` bounds each command round trip (socket read/write); connecting (and
  /// AUTH/SELECT) is bounded by min(timeout_ms, 5000).
  RedisClient(const RedisUrl& url, int timeout_ms);

  /// Connects and sends PING now (instead of at the first call) so a bad address, password or
  /// db fails early. Errors: Unavailable (I/O, handshake or PING error reply).
  Status Connect();
  /// One command, one round trip. Errors: Unavailable (I/O).
  Result<Reply> Call(const Argv& argv);
  /// All commands written, then all replies read (one round trip); replies in command order.
  /// Errors: Unavailable (I/O; all-or-nothing).
  Result<std::vector<Reply>> Pipeline(const std::vector<Argv>& commands);
  /// Like Call, but an error reply becomes Internal("redis <CMD>: <error>").
  Result<Reply> Checked(const Argv& argv);
  /// Like Pipeline, but the first error reply becomes Internal("redis <CMD>: <error>").
  Result<std::vector<Reply>> PipelineChecked(const std::vector<Argv>& commands);

  /// "host:port/db" (never the password), for messages.
  const std::string& Describe() const { return where_; }

 private:
  // Rewrites the connection's generic Unavailable("store unavailable") into one naming the
  // endpoint and the failed step (Connection::last_error()).
  Status Explain(const Status& s) const;

  std::string where_;
  redis::Connection conn_;
};

/// The endpoint from `--redis` (a redis:// URL or host:port), else `REDIS_ADDR`/`REDIS_PASSWORD`
/// (or `KVROCKS_PASSWORD`) from the environment (an explicit `password_flag` wins over both),
/// else 127.0.0.1:6379. Errors: InvalidArgument (unparsable address or URL).
Result<RedisUrl> ResolveRedisEndpoint(const std::string& flag_value, const std::string& password_flag);

}  // namespace codeq::migrate
