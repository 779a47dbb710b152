// The Prometheus metrics of SPEC.md §7 (plus HTTP request metrics) and their text exposition.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace codeq {

/// A small thread-safe metrics registry with exactly SPEC §7's series plus two HTTP series.
///
/// Cost: each family is a map from label tuple to value behind its own mutex; an observation is one
/// lock plus an O(log S) lookup (S = series in that family) without allocation once the series
/// exists, and one allocation of the label strings on its first observation. Render is O(total
/// series). Label values are stored as given (the command keeps the caller's case, §7).
class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  /// codeq_task_created_total{command}: a task was created (not on idempotent replay).
  void TaskCreated(std::string_view command);
  /// codeq_task_claimed_total{command}: a task handed to a worker (not one claimed for a long
  /// poll whose client went away, which is abandoned instead).
  void TaskClaimed(std::string_view command);
  /// codeq_task_completed_total{command,status} and codeq_task_processing_latency_seconds{command,status}
  /// (buckets 0.1 … 3600 s of §7): a result submission or a DLQ transition (status "FAILED").
  /// latency_seconds = now − createdAt; negative or NaN values are recorded as 0.
  void TaskCompleted(std::string_view command, std::string_view status, double latency_seconds);
  /// codeq_lease_expired_total{command}: an expired/missing lease found by claim-time repair.
  void LeaseExpired(std::string_view command);
  /// codeq_webhook_deliveries_total{kind,command,outcome}; kind task_result|queue_ready,
  /// outcome success|failure.
  void WebhookDelivery(std::string_view kind, std::string_view command, std::string_view outcome);
  /// codeq_http_requests_total{method,route,status} and
  /// codeq_http_request_duration_seconds{method,route,status} (buckets 0.005 … 10 s and 30 s for
  /// long polls). `route` must be the route pattern, not the raw
  /// path, to keep the series count bounded.
  void HttpRequest(std::string_view method, std::string_view route, int status, double seconds);

  /// codeq_store_operation_duration_seconds{op}: one Store call made by the Scheduler (buckets
  /// 0.0001 … 5 s). `op` is a fixed operation name (create, claim, repair, …).
  void StoreOperation(std::string_view op, double seconds);

  /// Queue depths of one command, read from the store at scrape time (§7, D5).
  struct QueueGauge {
    std::string command;
    int64_t ready = 0, delayed = 0, in_progress = 0, dlq = 0;
    /// codeq_subscriptions_active{command}; nullopt = not exported for this command.
    std::optional<int64_t> subscriptions_active = std::nullopt;
  };

  /// The Prometheus text exposition format 0.0.4 (Content-Type `text/plain; version=0.0.4`): HELP
  /// and TYPE lines per family; counter/histogram families only after their first observation;
  /// gauges codeq_queue_depth{command,queue}, codeq_dlq_depth{command} and
  /// codeq_subscriptions_active{command} from `gauges` in the given order (omitted entirely when
  /// gauges is nullopt, i.e. the store did not answer). Label values are escaped (\\, \", \n).
  std::string Render(const std::optional<std::vector<QueueGauge>>& gauges) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace codeq
