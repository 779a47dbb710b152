// A pool of synchronous Redis connections shared by the store's worker threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "store/redis/redis_connection.h"

namespace codeq::redis {

/// Hands out connections, one per borrowing thread at a time. Connections are created on demand
/// (unconnected; they connect at first use), returned on release and kept for reuse, so the
/// number alive never exceeds the number of threads borrowing at once. A connection that failed
/// while borrowed (backend down, wrong password, timeout) is logged as a warning with its reason,
/// at most once per 10 s with the count of failed calls since the previous one: clients only see
/// 503 "store unavailable". Thread-safe.
class ConnectionPool {
 public:
  /// A borrowed connection; returns it to the pool when destroyed.
  class Handle {
   public:
    Handle(ConnectionPool* pool, std::unique_ptr<Connection> c)
        : pool_(pool), conn_(std::move(c)), failures_(conn_->failure_count()) {}
    Handle(Handle&&) = default;
    Handle& operator=(Handle&&) = delete;
    ~Handle() {
      if (conn_) pool_->Release(std::move(conn_), failures_);
    }
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
    uint64_t failures_;  // the connection's failure_count when borrowed
  };

  explicit ConnectionPool(RedisOptions opts) : opts_(std::move(opts)) {}

  /// Borrows an idle connection or creates one. O(1), never blocks on I/O.
  Handle Acquire();

 private:
  /// `failures_before`: its failure_count when borrowed.
  void Release(std::unique_ptr<Connection> c, uint64_t failures_before);

  RedisOptions opts_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::optional<std::chrono::steady_clock::time_point> last_warning_;  // guarded by mu_
  uint64_t unreported_ = 0;                                            // guarded by mu_
};

}  // namespace codeq::redis
