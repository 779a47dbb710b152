// One synchronous hiredis connection with lazy (re)connect, AUTH, SELECT and timeouts.
#pragma once

#include <string>
#include <vector>

#include "domain/status.h"
#include "store/redis/redis_options.h"
#include "store/redis/redis_reply.h"

struct redisContext;

namespace codeq::redis {

/// The arguments of one command, binary-safe.
using Argv = std::vector<std::string>;

/// `argv` in the Redis protocol's request form (RESP, https://redis.io/docs/reference/protocol-spec/):
/// "*<count>\r\n", then "$<length>\r\n<bytes>\r\n" per argument. The same bytes as hiredis'
/// redisFormatCommandArgv, which formats each length with sdscatfmt and was about 8 % of the
/// server's instructions per task cycle on the Redis store (docs/performance.md).
std::string FormatCommand(const Argv& argv);

/// The message of every I/O-level failure (SPEC D8: 503 {"error":"store unavailable"}).
inline constexpr const char* kUnavailableText = "store unavailable";

/// One blocking connection to Redis/KVRocks. Not thread-safe: one thread uses it at a time
/// (ConnectionPool hands it out). Every call connects first when there is no live connection
/// (connect refused, EOF seen, timeout, peer closed while idle), so a restarted backend is picked
/// up by the next call. An I/O failure drops the connection and returns Unavailable; error
/// *replies* of the server are returned as Reply values, never as Status.
class Connection {
 public:
  explicit Connection(RedisOptions opts);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Sends one command and reads its reply: one round trip (plus a connect when needed).
  /// Bounded by connect_timeout_ms + command_timeout_ms.
  Result<Reply> Command(const Argv& argv);

  /// Pipelining: writes every command, then reads every reply (one round trip). Replies are in
  /// command order. O(total size). All-or-nothing on I/O failure.
  Result<std::vector<Reply>> Pipeline(const std::vector<Argv>& commands);

  /// Pipelining with one result per command: the replies read before an I/O failure are kept
  /// (those commands ran), and only the commands whose reply never arrived get Unavailable (they
  /// may or may not have run, as with a failed Command). O(total size).
  std::vector<Result<Reply>> PipelineEach(const std::vector<Argv>& commands);

  /// Whether a socket is currently open (it may still turn out to be dead). O(1).
  bool connected() const { return ctx_ != nullptr; }
  /// Closes the socket; the next call reconnects. O(1).
  void Disconnect();
  /// Text of the last connection-level failure (for logs and tests; never shown to clients).
  const std::string& last_error() const { return last_error_; }
  /// Connection-level failures so far (each one set last_error). O(1).
  uint64_t failure_count() const { return failures_; }

 private:
  Status EnsureConnected();
  bool IsStale() const;
  Status Fail(const std::string& what);

  RedisOptions opts_;
  redisContext* ctx_ = nullptr;
  std::string last_error_;
  uint64_t failures_ = 0;
};

}  // namespace codeq::redis
