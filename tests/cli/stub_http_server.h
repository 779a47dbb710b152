// A tiny local HTTP server for the CLI tests: stands in for the identity service (login and token
// exchange of SPEC §9.3) and serves JWKS documents. Requests are recorded; answers come from a
// callback. One connection at a time (Boost.Beast, synchronous).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace codeq::clitest {

struct StubRequest {
  std::string method, target, body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// The first header of that name (case-insensitive), "" when absent.
  std::string Header(const std::string& name) const;
};

struct StubResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

class StubHttpServer {
 public:
  using Handler = std::function<StubResponse(const StubRequest&)>;
  explicit StubHttpServer(Handler handler);
  ~StubHttpServer();
  /// Binds 127.0.0.1 on a free port and starts serving. False on failure.
  bool Start();
  void Stop();
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<StubRequest> Requests() const;

 private:
  struct Impl;
  Handler handler_;
  int port_ = 0;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<StubRequest> requests_;
};

}  // namespace codeq::clitest
