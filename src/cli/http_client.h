// A blocking HTTP/1.1 client for the CLI (libcurl easy interface): codeQ API calls and the
// identity-service login/exchange (SPEC §9). One client per thread; it keeps its connection alive.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace codeq::cli {

/// Request headers, in order ("Name", "value").
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HeaderList headers;
  std::string body;                          // sent when non-empty (or when method is POST/PUT/PATCH)
  int64_t timeout_ms = 30000;                // whole exchange
  /// When it turns true the transfer is aborted (within ~1 s: libcurl looks at it about once a
  /// second while idle), unless the answer has started to arrive: then that answer is read to
  /// its end and returned.
  const std::atomic<bool>* cancel = nullptr;
};

struct HttpResponse {
  int status = 0;      // 0 = no response; see `error`
  std::string body;
  std::string error;   // transport error text ("" when a response arrived)
  bool cancelled = false;  // aborted through HttpRequest::cancel
};

/// Thread-compatible (not thread-safe): use one instance per thread.
class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Performs the exchange. Never throws; transport failures are reported in the response.
  /// Bodies larger than 64 MiB are refused (error "response too large").
  HttpResponse Send(const HttpRequest& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Percent-encodes one URL path segment or query value (RFC 3986 unreserved characters kept).
std::string EscapeUrlComponent(const std::string& text);

}  // namespace codeq::cli
