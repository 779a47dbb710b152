#include "webhooks/result_callbacks.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

namespace codeq::webhooks {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {
constexpr std::string_view kKind = "task_result";
// An entry whose delivery is in flight is hidden this long beyond the POST timeout.
constexpr int64_t kLeaseSlackMs = 30000;
// Store trouble while loading a task: try again after this long, attempts unchanged.
constexpr int64_t kStoreRetryMs = 5000;
}  // namespace

int64_t CallbackBackoffSeconds(const CallbackOptions& o, int attempt) {
  int64_t delay = std::max<int64_t>(o.base_backoff_seconds, 0);
  for (int k = 1; k < attempt && delay < o.max_backoff_seconds; ++k) delay *= 2;
  return std::min(delay, o.max_backoff_seconds);
}

std::string ResultCallbackBody(const Task& task, const TaskResult& result) {
  json::object o;
  if (result.artifacts.empty()) {
    o["artifacts"] = nullptr;
  } else {
    json::array a;
    for (const auto& art : result.artifacts) a.push_back(json::object{{"name", art.name}, {"url", art.url}});
    o["artifacts"] = std::move(a);
  }
  o["completedAt"] = result.completed_at;
  o["error"] = result.error;
  o["eventType"] = task.command;
  if (result.result) {
    o["result"] = *result.result;
  } else {
    o["result"] = nullptr;
  }
  o["status"] = result.status;
  o["taskId"] = task.id;
  return json::serialize(o);
}

ResultCallbacks::ResultCallbacks(std::shared_ptr<Store> store, Sender& sender, Metrics& metrics,
                                 const Clock& clock, CallbackOptions options)
    : store_(std::move(store)), sender_(sender), metrics_(metrics), clock_(clock), options_(options) {}

void ResultCallbacks::Start(asio::any_io_executor executor) {
  asio::co_spawn(executor, Loop(), asio::detached);
}

void ResultCallbacks::Wake() { woken_.store(true); }

void ResultCallbacks::Stop() { stopped_.store(true); }

asio::awaitable<void> ResultCallbacks::Loop() {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  auto tick = std::chrono::milliseconds(25);  // latency of Wake()
  auto last_poll = std::chrono::steady_clock::now() - options_.poll_interval;
  bool warned = false;
  while (!stopped_.load()) {
    auto now = std::chrono::steady_clock::now();
    bool due_poll = woken_.exchange(false) || now - last_poll >= options_.poll_interval;
    int free = sender_.concurrency() - in_flight_.load();
    if (due_poll && free > 0) {
      last_poll = now;
      int64_t now_ms = clock_.NowMs();
      int64_t lease_ms = sender_.timeout_ms() + kLeaseSlackMs;
      auto due = co_await store_->ClaimDueCallbacks(now_ms, lease_ms, free);
      if (!due.ok()) {
        if (!warned) spdlog::warn("result callbacks: outbox unavailable: {}", due.status().message());
        warned = true;
      } else {
        warned = false;
        for (auto& entry : *due) {
          in_flight_.fetch_add(1);
          asio::co_spawn(executor, Deliver(std::move(entry)), asio::detached);
        }
        if (static_cast<int>(due->size()) == free) woken_.store(true);  // more may be due
      }
    }
    timer.expires_after(tick);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> ResultCallbacks::Deliver(OutboxEntry entry) {
  struct Done {
    explicit Done(std::atomic<int>& counter) : n(counter) {}
    ~Done() { n.fetch_sub(1); }
    std::atomic<int>& n;
  };
  Done done(in_flight_);
  auto task = co_await store_->GetTask(entry.tenant, entry.task_id);
  std::optional<TaskResult> result;
  if (task.ok()) {
    auto r = co_await store_->GetResult(entry.tenant, entry.task_id);
    if (r.ok()) result = std::move(*r);
    if (!r.ok() && r.status().code() != StatusCode::kNotFound) task = r.status();
  }
  if (!task.ok() || !result) {
    if (task.ok() || task.status().code() == StatusCode::kNotFound) {
      // Cleaned up (or never finished): nothing left to report.
      spdlog::warn("result callback for task {} dropped: task or result no longer stored", entry.task_id);
      co_await store_->FinishCallback(entry.task_id);
    } else {
      co_await store_->RetryCallback(entry.task_id, entry.attempts, clock_.NowMs() + kStoreRetryMs);
    }
    co_return;
  }
  std::string body = ResultCallbackBody(*task, *result);
  PostOutcome out = co_await sender_.Post(entry.url, std::move(body));
  if (out.aborted) co_return;  // shutting down: the lease brings it back after a restart
  int attempts = entry.attempts + 1;
  if (out.delivered) {
    metrics_.WebhookDelivery(kKind, entry.command, "success");
    spdlog::info("result callback delivered: task={} attempt={} status={}", entry.task_id, attempts,
                 out.http_status);
    co_await store_->FinishCallback(entry.task_id);
  } else if (attempts >= options_.max_attempts || out.permanent) {
    metrics_.WebhookDelivery(kKind, entry.command, "failure");
    spdlog::warn("result callback given up: task={} attempts={} last error: {}", entry.task_id, attempts,
                 out.error);
    co_await store_->FinishCallback(entry.task_id);
  } else {
    int64_t delay_ms = CallbackBackoffSeconds(options_, attempts) * 1000;
    spdlog::info("result callback failed: task={} attempt={} error: {}; retry in {} s", entry.task_id,
                 attempts, out.error, delay_ms / 1000);
    co_await store_->RetryCallback(entry.task_id, attempts, clock_.NowMs() + delay_ms);
  }
}

}  // namespace codeq::webhooks
