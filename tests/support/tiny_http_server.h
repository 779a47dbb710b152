// A tiny HTTP/1.1 server for tests that need an outside HTTP endpoint under their control (a JWKS
// URL, ...): serves fixed bodies by path and counts the requests per path.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace codeq::test {

/// Serves GET <path> → 200 with the body set for that path (Content-Type: application/json), any
/// other path → 404. One request per connection (Connection: close). Runs on its own thread from
/// Start() until destruction. Thread-safe.
class TinyHttpServer {
 public:
  TinyHttpServer() = default;
  ~TinyHttpServer();
  TinyHttpServer(const TinyHttpServer&) = delete;
  TinyHttpServer& operator=(const TinyHttpServer&) = delete;

  /// Binds 127.0.0.1 on a free port and starts serving. False when no socket could be bound.
  bool Start();
  /// Sets (or replaces) the body served at `path` (e.g. "/jwks.json"). O(body size).
  void Set(const std::string& path, std::string body);
  /// Requests seen for `path` so far (any method, any answer). O(log paths).
  int Hits(const std::string& path) const;
  int port() const { return port_; }
  /// "http://127.0.0.1:<port><path>".
  std::string Url(const std::string& path) const;

 private:
  void Serve();
  void HandleOne(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> bodies_;
  std::map<std::string, int> hits_;
};

}  // namespace codeq::test
