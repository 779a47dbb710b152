// A real redis-server for tests: own temp dir, free loopback port, no persistence.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/resp_client.h"

namespace codeq::test {

struct RedisServerOptions {
  std::string binary = "/usr/bin/redis-server";
  std::string password;                 // --requirepass when non-empty
  std::vector<std::string> extra_args;  // e.g. {"--maxmemory", "10mb"}
  int start_timeout_ms = 10000;         // how long Start() waits for PING to answer
};

/// Runs `redis-server --port <p> --bind 127.0.0.1 --dir <tmp> --save "" --appendonly no` and
/// stops it (and removes the temp dir) when destroyed. The port is chosen at the first Start()
/// and kept by Restart(), so clients can reconnect to the same address. Not thread-safe.
class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  /// Starts the server and waits until it answers PING (typically ~20 ms, at most
  /// start_timeout_ms). The first start picks a free port (and retries with another when that
  /// one was taken meanwhile). False on failure (see Log()).
  bool Start();
  /// Graceful stop (SIGTERM, then SIGKILL after 5 s); waits for the exit. Data is lost. No-op
  /// when not running.
  void Stop();
  /// Crash stop (SIGKILL); waits for the exit.
  void Kill();
  /// Freezes the server (SIGSTOP): connections are accepted by the kernel but never answered,
  /// which is how a hung backend looks to clients. O(1).
  bool Pause();
  /// Thaws a paused server (SIGCONT). O(1).
  bool Resume();
  /// Stop() then Start() on the same port (empty data set).
  bool Restart();
  /// Whether the process is alive (paused counts as alive). O(1).
  bool Running();

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  const std::string& password() const { return options_.password; }
  /// "redis://127.0.0.1:<port>" or "redis://:<password>@127.0.0.1:<port>".
  std::string url() const;
  /// The temp directory (working dir of the server, holds the log).
  const std::string& dir() const { return dir_; }
  /// The server's stdout/stderr so far. O(log size).
  std::string Log() const;

  /// Runs one command on a fresh connection (AUTH included); one connect + one round trip.
  /// nullopt when no answer within timeout_ms.
  std::optional<RespValue> Call(const std::vector<std::string>& args, int timeout_ms = 2000) const;
  /// FLUSHALL (every database); true on +OK. O(keys).
  bool FlushAll() const;

 private:
  bool StartOnce();
  bool WaitReady();

  RedisServerOptions options_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::string dir_;
  std::unique_ptr<ChildProcess> child_;
};

}  // namespace codeq::test
