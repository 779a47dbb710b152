// Worker-availability notifications (SPEC §6.2 with D5, D6, D16).
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "domain/clock.h"
#include "metrics/metrics.h"
#include "store/store.h"
#include "webhooks/sender.h"

namespace codeq::webhooks {

struct NotifierOptions {
  int cleanup_interval_seconds = 60;  // subscriptionCleanupIntervalSeconds
  int promote_limit = 200;            // requeueInspectLimit: due tasks promoted per queue and sweep
  std::chrono::milliseconds sweep_interval{1000};  // watch-list refresh + due-task sweep
  int max_queued_posts_per_slot = 4;  // notifications beyond concurrency × this are dropped
};

/// Picks the subscriptions to notify for one event among `active` (already filtered to the
/// event's tenant, ascending expiry), SPEC §6.2 steps 2–5: every fanout (and unknown-mode)
/// subscription; per group, member `rr(groupId) mod n`; among hash-mode ones, the member
/// `floor(unix_seconds / 60) mod n`. `rr` returns the group's round-robin counter after an
/// increment (Store::NextRoundRobin). Pure apart from `rr`; O(active).
std::vector<Subscription> SelectRecipients(const std::vector<Subscription>& active, int64_t unix_seconds,
                                           const std::function<int64_t(const std::string& group)>& rr);

/// The notification body of SPEC §6.2 with D16: real depth, fresh `ntf-<uuid>`.
std::string NotificationBody(const std::string& command, int64_t depth, int64_t unix_seconds);

/// Sends notifications when a tenant's ready queue goes from empty to non-empty.
///
/// Events come from the Scheduler (create, abandon), the store's background timer (promotions,
/// requeues) and the notifier's own sweep, which every sweep_interval promotes due delayed tasks of
/// the watched queues (so a notification goes out even when no worker polls; the Redis store has
/// no timer of its own). A queue is watched when an active subscription of its tenant names its
/// command; events of unwatched queues cost one set lookup. Each event is then handled off the
/// request path: the transition is confirmed (ready depth == tasks just added; for events of
/// unknown size, depth > 0), recipients are selected (SelectRecipients), throttled per
/// subscription (Store::TryThrottle with its minIntervalSeconds) and sent once, without retry;
/// each send is counted as codeq_webhook_deliveries_total{kind="queue_ready"}. Expired
/// subscriptions are removed every cleanup_interval_seconds.
class Notifier {
 public:
  Notifier(std::shared_ptr<Store> store, Sender& sender, Metrics& metrics, const Clock& clock,
           NotifierOptions options);

  /// Spawns the loop on `executor`. Call once.
  void Start(boost::asio::any_io_executor executor);
  void Stop();

  /// A (tenant, command) queue got `added` ready tasks (0 = unknown) and has `depth` ready tasks
  /// now (-1 = unknown). Non-blocking, any thread.
  void OnReady(const std::string& tenant, const std::string& command, int64_t added, int64_t depth);
  /// Subscriptions changed: refresh the watch list at the next turn (events are not filtered
  /// until then).
  void Refresh() { refresh_requested_.fetch_add(1); }
  /// Called (on the loop's executor) when the sweep promoted due tasks of a queue; lets the
  /// service wake long-polling claims. Set before Start.
  void SetPromotedListener(std::function<void(const std::string& tenant, const std::string& command)> f) {
    on_promoted_ = std::move(f);
  }

 private:
  struct Event {
    int64_t added = 0, depth = -1;
    std::string command;  // as given (case kept)
  };
  using Key = std::pair<std::string, std::string>;  // tenant, lower-cased command

  boost::asio::awaitable<void> Loop();
  boost::asio::awaitable<void> RefreshWatched();
  boost::asio::awaitable<void> Sweep();
  boost::asio::awaitable<void> Handle(std::string tenant, Event ev);
  boost::asio::awaitable<void> Send(Subscription sub, std::string command, int64_t depth);

  std::shared_ptr<Store> store_;
  Sender& sender_;
  Metrics& metrics_;
  const Clock& clock_;
  NotifierOptions options_;
  std::function<void(const std::string&, const std::string&)> on_promoted_;
  std::atomic<bool> stopped_{false};
  // Refresh requests and the last one the watch list includes; events pass unfiltered while they
  // differ. Starts "differ" so nothing is dropped before the first load.
  std::atomic<uint64_t> refresh_requested_{1}, refresh_done_{0};

  std::mutex mu_;
  std::map<Key, std::string> watched_;  // -> command as subscribed; guarded by mu_
  std::map<Key, Event> pending_;        // coalesced events; guarded by mu_
};

}  // namespace codeq::webhooks
