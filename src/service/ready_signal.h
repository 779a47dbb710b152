// In-process wake-ups for long-polling claims (SPEC §2.4; issue: "a waiting claim wakes promptly").
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace codeq {

/// Registry of waiting claims keyed by (tenant, lower-cased command). A producer-side change that
/// makes work ready calls Notify; every waiter registered for that key wakes up at once. Waiters
/// also wake on their own timeout, so changes made by other server instances (shared Redis) are
/// seen at the next poll. Thread-safe.
class ReadySignal {
 public:
  class Waiter;

  /// Registers a waiter for (tenant, each command) whose timer runs on `executor`, which must be
  /// the (strand) executor of the awaiting coroutine. The waiter unregisters when destroyed.
  std::shared_ptr<Waiter> Register(boost::asio::any_io_executor executor, const std::string& tenant,
                                   const std::vector<std::string>& commands);

  /// Wakes every waiter of (tenant, command). O(waiters of that key).
  void Notify(const std::string& tenant, const std::string& command);

  /// Wakes every waiter (graceful shutdown).
  void NotifyAll();

  /// Number of registered waiters (for tests and metrics).
  size_t WaiterCount() const;

 private:
  friend class Waiter;
  void Unregister(Waiter* w);

  mutable std::mutex mu_;
  std::multimap<std::string, Waiter*> waiters_;
};

class ReadySignal::Waiter : public std::enable_shared_from_this<ReadySignal::Waiter> {
 public:
  Waiter(ReadySignal& owner, boost::asio::any_io_executor ex, std::vector<std::string> keys);
  ~Waiter();
  /// Suspends until notified or `timeout` passes. Returns immediately if a notification arrived
  /// since the previous call. Returns true when woken by a notification.
  boost::asio::awaitable<bool> Wait(std::chrono::milliseconds timeout);

 private:
  friend class ReadySignal;
  void Wake();

  ReadySignal& owner_;
  boost::asio::steady_timer timer_;
  std::vector<std::string> keys_;
  std::atomic<bool> notified_{false};
};

}  // namespace codeq
