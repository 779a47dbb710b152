// A pool of synchronous Redis connections shared by the store's worker threads.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "store/redis/redis_connection.h"

namespace codeq::redis {

/// Hands out connections, one per borrowing thread at a time. Connections are created on demand
/// (unconnected; they connect at first use), returned on release and kept for reuse, so the
/// number alive never exceeds the number of threads borrowing at once. Thread-safe.
class ConnectionPool {
 public:
  /// A borrowed connection; returns it to the pool when destroyed.
  class Handle {
   public:
    Handle(ConnectionPool* pool, std::unique_ptr<Connection> c) : pool_(pool), conn_(std::move(c)) {}
    Handle(Handle&&) = default;
    Handle& operator=(Handle&&) = delete;
    ~Handle() {
      if (conn_) pool_->Release(std::move(conn_));
    }
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  explicit ConnectionPool(RedisOptions opts) : opts_(std::move(opts)) {}

  /// Borrows an idle connection or creates one. O(1), never blocks on I/O.
  Handle Acquire();

 private:
  void Release(std::unique_ptr<Connection> c);

  RedisOptions opts_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace codeq::redis
