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
/// makes work ready calls Notify, which wakes one waiter for that key (one task needs one claim;
/// a waiter that gets a task passes the turn on, see Scheduler::ClaimBatch). Waiters also wake on
/// their own timeout, so changes made by other server instances (shared Redis), due delayed tasks
/// and expired leases are seen; TakePollTurn lets only one of them per key and interval re-check
/// the store, so 10,000 idle claims cost a timer each, not 40,000 store round trips a second.
/// Thread-safe.
class ReadySignal {
 public:
  class Waiter;

  /// Registers a waiter for (tenant, each command) whose timer runs on `executor`, which must be
  /// the (strand) executor of the awaiting coroutine. The waiter unregisters when destroyed.
  std::shared_ptr<Waiter> Register(boost::asio::any_io_executor executor, const std::string& tenant,
                                   const std::vector<std::string>& commands);

  /// Wakes up to `max_waiters` waiters of (tenant, command) that have no wake-up pending, oldest
  /// first. O(waiters of that key).
  void Notify(const std::string& tenant, const std::string& command, size_t max_waiters = 1);

  /// Whether `w`, woken by its timer rather than a notification, should re-check the store now:
  /// true when one of its keys has not been re-checked by any waiter during the last `interval`
  /// (its keys then count as re-checked now). O(keys of w · log keys).
  bool TakePollTurn(const Waiter& w, std::chrono::milliseconds interval);

  /// Wakes every waiter (graceful shutdown).
  void NotifyAll();

  /// Number of registered waiters (for tests and metrics).
  size_t WaiterCount() const;

 private:
  friend class Waiter;
  void Unregister(Waiter* w);

  mutable std::mutex mu_;
  std::multimap<std::string, Waiter*> waiters_;  // equal keys in registration order
  std::map<std::string, std::chrono::steady_clock::time_point> last_poll_;  // keys with waiters only
};

class ReadySignal::Waiter : public std::enable_shared_from_this<ReadySignal::Waiter> {
 public:
  Waiter(ReadySignal& owner, boost::asio::any_io_executor ex, std::vector<std::string> keys);
  ~Waiter();
  /// Suspends until notified or `timeout` passes. Returns immediately if a notification arrived
  /// since the previous call. Returns true when woken by a notification.
  boost::asio::awaitable<bool> Wait(std::chrono::milliseconds timeout);
  /// Whether a notification arrived that no Wait has consumed yet. O(1).
  bool Pending() const { return notified_.load(); }
  /// Unregisters now (the destructor then has nothing left to do) and returns whether a
  /// notification arrived that no Wait consumed: final, since Notify picks waiters under the
  /// registry lock, so a wake-up taken by a leaving waiter can be passed on, never lost.
  /// O(keys · log waiters).
  bool Leave();

 private:
  friend class ReadySignal;
  void Wake();

  ReadySignal& owner_;
  boost::asio::steady_timer timer_;
  std::vector<std::string> keys_;
  std::atomic<bool> notified_{false};
  bool left_ = false;  // Leave() ran
};

}  // namespace codeq
