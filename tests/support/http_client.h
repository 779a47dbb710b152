// A small blocking HTTP/1.1 client for integration tests (Boost.Beast), with JSON helpers.
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace codeq::test {

/// Request headers, in order. Names are sent as given.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// One response. `status` is 0 when no response arrived; `error` then says why (connect refused,
/// timeout, ...). Header names are matched case-insensitively.
struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string error;                      // transport error text, empty on success
  std::chrono::milliseconds elapsed{0};   // wall time of the whole exchange

  /// The first value of header `name` (case-insensitive), nullopt when absent.
  std::optional<std::string> Header(std::string_view name) const;
  /// The body parsed as JSON; a null value when it is not valid JSON.
  boost::json::value Json() const;
  /// The "error" member of a JSON error body, "" otherwise.
  std::string ErrorText() const;
  /// One-line summary for assertion messages: "<status> <body>" or "transport error: <error>".
  std::string Describe() const;
};

/// A client bound to one host:port. Each call either reuses a keep-alive connection (when
/// `keep_alive` is set and the previous response allowed it) or opens a new one. Every exchange is
/// bounded by a timeout (connect + write + read). Not thread-safe: use one client per thread.
class HttpClient {
 public:
  explicit HttpClient(std::string host, int port, bool keep_alive = false,
                      std::chrono::milliseconds timeout = std::chrono::seconds(40));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends `method target` with `headers` and `body` (Content-Type: application/json is added
  /// when a body is present and no Content-Type header was given). A `Transfer-Encoding: chunked`
  /// header sends the body chunked (no Content-Length). `timeout` overrides the
  /// client's default for this exchange. O(request + response size).
  HttpResponse Request(std::string_view method, std::string_view target, const HttpHeaders& headers = {},
                       std::string body = {}, std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  /// Closes the kept-alive connection, if any.
  void Close();

  const std::string& host() const { return host_; }
  int port() const { return port_; }

 private:
  struct Impl;
  std::string host_;
  int port_;
  bool keep_alive_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Impl> impl_;
};

/// Parses JSON text; nullopt when invalid.
std::optional<boost::json::value> ParseJson(std::string_view text);

/// Serialises a JSON value compactly.
std::string ToJson(const boost::json::value& v);

/// Member `key` of an object as a string ("" when absent or not a string / not an object).
std::string JsonString(const boost::json::value& v, std::string_view key);
/// Member `key` of an object as an integer (nullopt when absent or not an integer).
std::optional<int64_t> JsonInt(const boost::json::value& v, std::string_view key);
/// Whether object `v` has member `key`.
bool JsonHas(const boost::json::value& v, std::string_view key);

}  // namespace codeq::test
