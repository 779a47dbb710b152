// The HTTP/1.1 server: connections, parsing, limits, keep-alive, timeouts. Knows nothing of queues
// (ARCHITECTURE.md, http/): every request goes to one Handler.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "domain/status.h"

namespace codeq::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

/// A response: status, body (JSON unless content_type says otherwise) and extra headers.
struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
};

/// What a handler may ask of the connection its request arrived on.
class RequestContext {
 public:
  virtual ~RequestContext() = default;
  /// Watches the connection, while the handler runs, for the client going away (end of stream
  /// or reset); for long polls (SPEC §2.4: "If the client disconnects during a long poll, the
  /// request is abandoned"). Once the client is gone, the request coroutine gets a terminal
  /// cancellation: `(co_await asio::this_coro::cancellation_state).cancelled()` turns non-zero,
  /// a cancellable operation in flight (a timer) ends with operation_aborted, and the answer is
  /// not written. Nothing throws: the server turns throw_if_cancelled off. A client that only
  /// half-closes its side counts as gone, as with common proxies. Bytes of a pipelined next
  /// request that arrive meanwhile are kept for it (up to 64 KiB; past that, watching stops).
  /// Cheap to call twice. Must be called from the request coroutine.
  virtual void WatchForDisconnect() = 0;
  /// Checks once, now, whether the client has already gone (closed or reset its side, nothing
  /// unread before that): a non-blocking peek, one syscall, nothing kept. If it has, the same as
  /// a watch that saw it go: ClientGone() turns true and the request coroutine gets a terminal
  /// cancellation. For a handler that arms the watch only once it has to wait. Must be called
  /// from the request coroutine.
  virtual void CheckForDisconnect() = 0;
  /// Whether a watch saw the client go away. O(1).
  virtual bool ClientGone() const = 0;
};

/// Handles one request; must not throw (exceptions become 500 with an empty body, SPEC §2.1).
using Handler = std::function<boost::asio::awaitable<Response>(const Request&, RequestContext&)>;

struct ServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 8080;                 // 0 = any free port (see HttpServer::port())
  uint64_t max_body_bytes = 1 << 20;    // larger bodies → 413 (D9)
  uint32_t max_header_bytes = 16 * 1024;  // larger headers → 431
  /// SPEC §8.4: once a request's first byte has arrived, its headers must be complete within this.
  std::chrono::seconds header_timeout{5};
  /// After the headers, the whole body must arrive within this (slow uploads are cut off).
  std::chrono::seconds body_timeout{30};
  std::chrono::seconds idle_timeout{75};    // keep-alive connection waiting for the next request
  std::chrono::seconds write_timeout{30};
  /// Open connections served at once; one more gets 503 {"error":"too many connections"} and is
  /// closed.
  size_t max_connections = 10000;
  /// Connections being answered that 503 at once (each holds a descriptor for up to 3 s). Beyond
  /// max_connections + max_refusing the server accepts nothing and new connections wait in the
  /// listen backlog, so the descriptors open for connections stay bounded.
  size_t max_refusing = 64;
};

/// Accepts connections on one io_context and serves each on one of several others, one thread
/// each (an io_context per I/O thread): a connection stays on the context it was given, so its
/// steps need no strand and never hand off between threads.
class HttpServer {
 public:
  /// `acceptor_context` runs the accept loop. Each connection's coroutine runs on the one of
  /// `session_contexts` (at least one; the acceptor's may be among them) with the fewest open
  /// connections when it is accepted, ties going round-robin. Each session context must be run
  /// by exactly one thread, since a connection's steps are not put on a strand; all of them
  /// must outlive the server's connections (a connection still open at exit is destroyed with
  /// its context).
  HttpServer(boost::asio::io_context& acceptor_context, std::vector<boost::asio::io_context*> session_contexts,
             ServerOptions opts, Handler handler);

  /// Binds and starts accepting. Unavailable with the OS reason when the address cannot be bound.
  Status Start();
  /// Stops accepting new connections; open connections finish their current request.
  void StopAccepting();
  /// The bound port (useful with port 0).
  uint16_t port() const { return bound_port_; }
  /// Requests currently inside the handler or having their answer written.
  int64_t active_requests() const { return gauges_->active_requests.load(); }
  /// Connections open now, served or being refused (each holds a descriptor).
  size_t open_connections() const {
    size_t n = 0;
    for (const auto& c : gauges_->per_context) n += c.load();
    return n;
  }
  /// Replaces ServerOptions::max_connections and max_refusing; call before the contexts run
  /// (`codeq serve` fits them to the open-file limit once the server holds its descriptors).
  void SetConnectionLimits(size_t max_connections, size_t max_refusing) {
    opts_.max_connections = max_connections;
    opts_.max_refusing = max_refusing;
  }
  const ServerOptions& options() const { return opts_; }

 private:
  boost::asio::awaitable<void> AcceptLoop();
  /// One connection. `cancel` is the signal bound to this coroutine's cancellation slot; the
  /// disconnect watch (RequestContext) emits on it. `refuse`: answer 503 and close (over the
  /// cap when accepted); otherwise the connection counts in Gauges::served until it ends.
  boost::asio::awaitable<void> Session(boost::asio::ip::tcp::socket socket,
                                       std::shared_ptr<boost::asio::cancellation_signal> cancel, size_t context,
                                       bool refuse);

  /// The session context for a new connection: fewest open connections, ties round-robin.
  size_t PickSessionContext();

  std::vector<boost::asio::io_context*> session_contexts_;
  ServerOptions opts_;
  Handler handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t bound_port_ = 0;
  size_t next_context_ = 0;  // where the round-robin of ties starts; accept loop only
  /// Shared with every Session: a connection still idle when the server goes away is destroyed
  /// with its io_context, later than this object, and its frame then updates the gauges.
  struct Gauges {
    explicit Gauges(size_t contexts) : per_context(contexts) {}
    std::atomic<int64_t> active_requests{0};
    /// Connections being served (not refused); counted by AcceptLoop, given back by Session.
    std::atomic<size_t> served{0};
    /// Open connections of each session context, served or refused; counted by AcceptLoop when
    /// it accepts (so it bounds descriptors), given back by Session.
    std::vector<std::atomic<size_t>> per_context;
  };
  std::shared_ptr<Gauges> gauges_;
};

/// A JSON error response `{"error": message}` (SPEC §0: every error body has exactly one member).
Response ErrorResponse(int status, std::string_view message);

}  // namespace codeq::http
