// A real local HTTP server for tests that need an outside endpoint under their control: a webhook
// receiver (records every request, answers scripted statuses) or a JWKS URL (fixed bodies by
// path, request counts). Boost.Beast, blocking, one thread, one request per connection.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace codeq::test {

/// One request as received.
struct ReceivedRequest {
  std::string method, target, body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::chrono::steady_clock::time_point at;    // arrival time
  int64_t unix_ms = 0;                         // arrival wall time

  /// Header value by lower-case name, "" when absent.
  std::string Header(const std::string& lower_name) const;
};

/// Listens on `address` (default 127.0.0.1) at a free port. For each path, answers the statuses
/// given by Script() in order, then the default status (200), with the body set by SetBody() for
/// that path or "{}". Thread-safe.
class TestHttpServer {
 public:
  /// Throws boost::system::system_error when `address` cannot be bound (e.g. "::1" without IPv6).
  explicit TestHttpServer(const std::string& address = "127.0.0.1");
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  /// "http://<address>:<port><path>" (IPv6 in brackets).
  std::string Url(const std::string& path) const;
  /// The next answers for `path` (e.g. {500, 500} then the default).
  void Script(const std::string& path, std::vector<int> statuses);
  /// The answer once a path's script is used up (default 200).
  void SetDefault(int status) { default_status_.store(status); }
  /// The body answered for `path` (Content-Type application/json), e.g. a JWKS document.
  void SetBody(const std::string& path, std::string body);
  /// Requests received for `path` so far.
  int Hits(const std::string& path) const { return static_cast<int>(Requests(path).size()); }

  /// Requests received for `path` so far (all paths when empty), in arrival order.
  std::vector<ReceivedRequest> Requests(const std::string& path = "") const;
  /// Waits up to `timeout` until at least `n` requests for `path` arrived; returns what arrived.
  std::vector<ReceivedRequest> WaitFor(const std::string& path, size_t n, std::chrono::milliseconds timeout) const;

 private:
  void Serve();

  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::string host_;  // as written in URLs
  std::atomic<int> default_status_{200};
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<ReceivedRequest> requests_;         // guarded by mu_
  std::map<std::string, std::vector<int>> script_;  // guarded by mu_
  std::map<std::string, std::string> bodies_;       // guarded by mu_
  std::thread thread_;
};

/// HMAC-SHA256 hex of "<timestamp>.<body>" with `secret`: what a receiver computes to verify
/// X-CodeQ-Signature (SPEC §6.1). Implemented with OpenSSL here, independently of the server code.
std::string ExpectedSignature(const std::string& secret, const std::string& timestamp, const std::string& body);

}  // namespace codeq::test
