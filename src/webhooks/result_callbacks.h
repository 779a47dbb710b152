// Result callbacks (SPEC §6.1, D11, D16): the delivery loop over the store's durable outbox.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "domain/clock.h"
#include "metrics/metrics.h"
#include "store/store.h"
#include "webhooks/sender.h"

namespace codeq::webhooks {

/// Retry knobs (SPEC §8.2 names).
struct CallbackOptions {
  int max_attempts = 5;              // resultWebhookMaxAttempts
  int64_t base_backoff_seconds = 2;  // resultWebhookBaseBackoffSeconds
  int64_t max_backoff_seconds = 60;  // resultWebhookMaxBackoffSeconds
  std::chrono::milliseconds poll_interval{100};  // how often the outbox is checked for due entries
};

/// Delay after failed attempt k (1-based): min(base × 2^(k−1), max) seconds (SPEC §6.1).
int64_t CallbackBackoffSeconds(const CallbackOptions& o, int attempt);

/// The callback body of SPEC §6.1, members in the RI's alphabetical order: artifacts (array or
/// null), completedAt, error ("" when none), eventType (the task's command), result (object or
/// null), status, taskId.
std::string ResultCallbackBody(const Task& task, const TaskResult& result);

/// Delivers the outbox: every poll interval (or at once after Wake) it claims due entries, at most
/// as many as the Sender has free slots, and delivers each in its own coroutine: loads the task and
/// its result, POSTs the body, then removes the entry (2xx, or the last attempt failed, or the
/// address is denied by the policy, which no retry can change: a give-up,
/// logged and counted as codeq_webhook_deliveries_total{kind="task_result",outcome="failure"}) or
/// reschedules it with CallbackBackoffSeconds. Entries are leased while in flight, so a crash or a
/// restart delivers them again after the lease (at-least-once). A task deleted by cleanup before its
/// callback was sent drops the entry. Never runs on the request path.
class ResultCallbacks {
 public:
  ResultCallbacks(std::shared_ptr<Store> store, Sender& sender, Metrics& metrics, const Clock& clock,
                  CallbackOptions options);

  /// Spawns the delivery loop on `executor`. Call once.
  void Start(boost::asio::any_io_executor executor);
  /// A new entry may be due now (a result with a webhook was stored): polls without waiting for the
  /// interval. Any thread; cheap.
  void Wake();
  /// The loop ends at its next turn; deliveries in flight end with the Sender's Stop.
  void Stop();
  /// Deliveries started and not yet recorded in the store. Graceful shutdown waits for 0.
  int in_flight() const { return in_flight_.load(); }

 private:
  boost::asio::awaitable<void> Loop();
  boost::asio::awaitable<void> Deliver(OutboxEntry entry);

  std::shared_ptr<Store> store_;
  Sender& sender_;
  Metrics& metrics_;
  const Clock& clock_;
  CallbackOptions options_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> woken_{false};
  std::atomic<int> in_flight_{0};
};

}  // namespace codeq::webhooks
