// Outgoing webhook POSTs (SPEC §6, D16): signed, time-bounded, never on the request path.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <string>

#include "domain/clock.h"
#include "webhooks/url_policy.h"

namespace codeq::webhooks {

/// Knobs of outgoing webhooks (config keys in comments, docs/configuration.md).
struct SenderOptions {
  std::string hmac_secret;          // webhookHmacSecret; empty = unsigned (SPEC §6.1)
  int concurrency = 8;              // webhookConcurrency: POSTs in flight at once
  int64_t timeout_ms = 10000;       // webhookTimeoutSeconds × 1000 (D16: 10 s)
  size_t max_response_bytes = 64 * 1024;  // a receiver's body is not read past this
};

/// What one POST attempt gave.
struct PostOutcome {
  bool delivered = false;  // a 2xx answer
  int http_status = 0;     // 0 when no HTTP answer (refused, timeout, denied address)
  std::string error;       // why not delivered (for logs); "" when delivered
  bool aborted = false;    // the sender is stopping: the attempt does not count
  bool permanent = false;  // retrying cannot help (the URL is invalid or denied by the policy)
};

/// Sends webhook POSTs with libcurl on its own pool of `concurrency` threads. Each attempt:
/// resolves the host, drops addresses the UrlPolicy denies (none left → not delivered, no
/// connection made) and pins curl to the checked addresses; signs the body with a fresh
/// X-CodeQ-Timestamp (SPEC §6.1); POSTs with Content-Type application/json, the whole transfer
/// bounded by timeout_ms; never follows redirects; http/https only. Thread-safe.
class Sender {
 public:
  Sender(UrlPolicy policy, SenderOptions options, const Clock& clock);
  /// Stop()s.
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  /// One attempt, run on the sender's pool; the awaiting coroutine resumes on its own executor.
  /// Never throws; a stopped sender answers "not delivered" at once.
  boost::asio::awaitable<PostOutcome> Post(std::string url, std::string body);

  /// The blocking attempt itself (what Post runs on the pool). Used by tests.
  PostOutcome PostBlocking(const std::string& url, const std::string& body);

  /// Attempts queued or in flight now.
  int pending() const { return pending_.load(); }
  int concurrency() const { return options_.concurrency; }
  int64_t timeout_ms() const { return options_.timeout_ms; }
  const UrlPolicy& policy() const { return policy_; }

  /// Aborts transfers in flight (they end "not delivered", aborted, within ~100 ms) and refuses
  /// new ones; returns at once. Idempotent.
  void BeginStop() { stopping_.store(true); }
  /// BeginStop, then joins the pool. Idempotent.
  void Stop();

 private:
  UrlPolicy policy_;
  SenderOptions options_;
  const Clock& clock_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> pending_{0};
  boost::asio::thread_pool pool_;
};

}  // namespace codeq::webhooks
