// A raw TCP connection for tests that misbehave on purpose (slow clients, thousands of idle
// requests) where a well-behaved HTTP client cannot be used.
#pragma once

#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace codeq::test {

/// One blocking IPv4 TCP connection. Closed on destruction. Not thread-safe.
class RawConnection {
 public:
  /// Connects to host:port (IPv4 literal) within `timeout`. nullptr on failure.
  static std::unique_ptr<RawConnection> Connect(const std::string& host, int port,
                                                std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  /// Sends all of `data` (no SIGPIPE). False when the peer has closed or reset the connection.
  bool Send(std::string_view data);
  /// Waits up to `timeout` for data; appends what arrived to Received(). Returns false when the
  /// peer closed (EOF or reset) — then Closed() is true. O(bytes read).
  bool ReadSome(std::chrono::milliseconds timeout);
  /// Reads until the peer closes or `timeout` passes. True when it closed.
  bool WaitClosed(std::chrono::milliseconds timeout);
  /// Reads until Received() holds one whole HTTP response (headers and Content-Length body), the
  /// peer closes, or `timeout` passes. True when a whole response is there.
  bool ReadResponse(std::chrono::milliseconds timeout);
  /// The status code of the response in Received(); 0 when none.
  int ResponseStatus() const;
  /// The body of the (whole) response in Received(); "" when none.
  std::string ResponseBody() const;

  const std::string& Received() const { return received_; }
  bool Closed() const { return closed_; }
  int fd() const { return fd_; }

 private:
  explicit RawConnection(int fd) : fd_(fd) {}
  bool HasWholeResponse() const;

  int fd_;
  bool closed_ = false;
  std::string received_;
};

/// An HTTP/1.1 request as text: `method target`, Host, the given extra header lines (each
/// "Name: value", without CRLF), Content-Length when `body` is non-empty, then the body.
std::string HttpRequestText(std::string_view method, std::string_view target, std::initializer_list<std::string> headers,
                            std::string_view body = {});

}  // namespace codeq::test
