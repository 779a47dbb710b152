// The Store contract suite: one parameterized fixture, run against every backend (ARCHITECTURE.md,
// "Backends are interchangeable"). A backend joins the suite by adding one factory to
// AllBackends() in backends.cpp.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace codeq::contract {

/// One backend instance for one test: an empty data set and a fresh Store over it.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Store& store() = 0;
  /// Raw length of a list/zset/set key when the backend has a Redis keyspace (for layout checks);
  /// nullopt otherwise.
  virtual std::optional<int64_t> KeySize(const std::string& key) { return std::nullopt; }
  /// Replaces the Store by a new one over the same data (embedded: close, then open the same
  /// directory; Redis: a new store object). False when that failed.
  virtual bool Reopen() = 0;
};

/// How to make a Backend; `name` becomes the test-name suffix.
struct BackendFactory {
  std::string name;
  std::function<std::unique_ptr<Backend>()> make;
};

/// Every backend under contract (backends.cpp): the Redis one. The embedded store is instantiated
/// apart (embedded_backend.cpp), from EmbeddedBackends().
std::vector<BackendFactory> AllBackends();
/// The embedded store with a fresh data directory per test, sync durability, no background timer.
std::vector<BackendFactory> EmbeddedBackends();

/// Runs an awaitable to completion on a private io_context and returns its value. O(1) overhead.
template <typename T>
T Await(boost::asio::awaitable<T> op) {
  auto wrap = [](boost::asio::awaitable<T> a) -> boost::asio::awaitable<std::optional<T>> {
    co_return co_await std::move(a);  // co_spawn needs a default-constructible result
  };
  boost::asio::io_context ctx;
  auto fut = boost::asio::co_spawn(ctx, wrap(std::move(op)), boost::asio::use_future);
  ctx.run();
  return std::move(*fut.get());
}

/// A fresh random version-4 UUID, lower-case canonical form (SPEC §1.1).
std::string NewId();

/// Wall-clock now (backends expire Redis keys in real time, so tests use real time).
Now RealNow();
/// RealNow() shifted by `seconds`.
Now NowPlus(int64_t seconds);
/// Sleeps until just after the next whole wall-clock second. Redis keeps due times in whole epoch
/// seconds (SPEC §2.3), so a 1-second delay started late in a second falls due within milliseconds;
/// tests that check "not yet due" start their delay here to keep ~990 ms of margin, even under
/// sanitizers.
void SleepToStartOfNextSecond();

/// The webhook URL of ClaimedWithWebhook.
inline constexpr const char* kTestWebhook = "https://hooks.example/done?x=1";

/// Fixture with helpers that build inputs with sensible defaults.
class StoreContract : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  Store& store() { return backend_->store(); }
  Backend& backend() { return *backend_; }

  /// A PENDING task record as the service would build it.
  Task MakeTask(const std::string& command, const std::string& tenant = "", int priority = 0,
                int max_attempts = 5);
  /// Creates an immediately visible task (or with a delay) and returns it; fails the test on error.
  Task Create(const std::string& command, const std::string& tenant = "", int priority = 0,
              int max_attempts = 5, int64_t delay_seconds = 0);
  /// One claim attempt.
  Result<std::optional<Task>> Claim(const std::string& worker, const std::string& tenant,
                                    std::vector<std::string> commands, int64_t lease_seconds = 30);
  /// Claims and expects a task; fails the test otherwise.
  Task ClaimOne(const std::string& worker, const std::string& tenant,
                std::vector<std::string> commands, int64_t lease_seconds = 30);
  Result<RepairOutcome> Repair(const std::string& tenant, std::vector<std::string> commands,
                               int64_t backoff_seconds = 0, int max_attempts_default = 5);
  Result<NackOutcome> Nack(const std::string& tenant, const std::string& id,
                           const std::string& worker, int64_t delay_seconds = 0,
                           std::string reason = "");
  /// A result submission at the real time: COMPLETED with result {"ok":true}, or `status` with
  /// `error` and no result.
  static SubmitResultInput ResultFor(const std::string& tenant, const std::string& id, const std::string& worker,
                                     const std::string& status = "COMPLETED", const std::string& error = "");
  Result<Task> Complete(const std::string& tenant, const std::string& id, const std::string& worker,
                        const std::string& status = "COMPLETED", const std::string& error = "");

  // --- webhooks (SPEC §6, D16) ---
  /// Creates a task with the given options and returns the whole outcome; fails the test on error.
  CreateOutcome CreateWith(const std::string& command, const std::string& tenant = "",
                           int64_t delay_seconds = 0, const std::string& webhook = "",
                           const std::string& idempotency_key = "", int max_attempts = 5);
  /// Creates a task with webhook kTestWebhook and claims it as worker "w".
  Task ClaimedWithWebhook(const std::string& command, const std::string& tenant = "",
                          int max_attempts = 5, int64_t lease_seconds = 30);
  /// ClaimDueCallbacks; fails the test on error.
  std::vector<OutboxEntry> ClaimCallbacks(int64_t now_ms, int64_t lease_ms = 10000, int limit = 10);
  /// A subscription record as the service builds it (fresh id, fanout, min interval 5 s).
  Subscription MakeSubscription(std::vector<std::string> event_types, int64_t expires_at_sec,
                                const std::string& tenant = "");
  /// Stores `s`; fails the test on error.
  void CreateSubscription(const Subscription& s);
  /// ActiveSubscriptions as a list of ids; fails the test on error.
  std::vector<std::string> ActiveIds(const std::string& command, int64_t now_sec, int limit = 100);

 private:
  std::unique_ptr<Backend> backend_;
};

}  // namespace codeq::contract
