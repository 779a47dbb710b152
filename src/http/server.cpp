#include "http/server.h"

#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace codeq::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

Response ErrorResponse(int status, std::string_view message) {
  Response r;
  r.status = status;
  r.body = boost::json::serialize(boost::json::object{{"error", message}});
  return r;
}

HttpServer::HttpServer(asio::io_context& acceptor_context, std::vector<asio::io_context*> session_contexts,
                       ServerOptions opts, Handler handler)
    : session_contexts_(std::move(session_contexts)),
      opts_(std::move(opts)),
      handler_(std::move(handler)),
      acceptor_(asio::make_strand(acceptor_context)),
      gauges_(std::make_shared<Gauges>(session_contexts_.size())) {}

size_t HttpServer::PickSessionContext() {
  const size_t n = session_contexts_.size();
  size_t best = next_context_ % n;
  for (size_t k = 1; k < n; ++k) {
    const size_t i = (next_context_ + k) % n;
    if (gauges_->per_context[i].load() < gauges_->per_context[best].load()) best = i;
  }
  next_context_ = best + 1;
  return best;
}

Status HttpServer::Start() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(opts_.address, ec);
  if (ec) return InvalidArgument("invalid listen address '" + opts_.address + "'");
  tcp::endpoint ep(addr, opts_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  // AcceptLoop accepts only after a readiness wait, without blocking: a connection gone by then
  // (would_block) or reset before it was accepted (connection_aborted, which asio's synchronous
  // accept would otherwise retry by blocking in poll until the next connection) is skipped.
  if (!ec) acceptor_.non_blocking(true, ec);
  if (!ec) acceptor_.set_option(asio::socket_base::enable_connection_aborted(true), ec);
  if (ec) {
    return Unavailable("cannot listen on " + opts_.address + ":" + std::to_string(opts_.port) + ": " +
                       ec.message());
  }
  bound_port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(acceptor_.get_executor(), AcceptLoop(), asio::detached);
  return Status::Ok();
}

void HttpServer::StopAccepting() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
}

asio::awaitable<void> HttpServer::AcceptLoop() {
  // Failed accepts (EMFILE) are retried every 100 ms but warned about at most once per 10 s,
  // however often accepting works in between (connections closing and opening at the limit),
  // each warning with the failures since the previous one. The first accept after a warning is
  // logged at info.
  constexpr auto kWarnEvery = std::chrono::seconds(10);
  int64_t unreported = 0;       // failed accepts not counted in a warning yet
  int64_t since_recovery = 0;   // failed accepts since the last info line
  bool warned = false;          // a warning since the last info line
  std::optional<std::chrono::steady_clock::time_point> last_warning;
  for (;;) {
    // Wait until a connection is pending, then choose its context with the counts of that moment
    // and accept it straight onto that context (the acceptor is non-blocking: a connection that
    // went away meanwhile leaves would_block, and the loop waits again).
    boost::system::error_code ec;
    co_await acceptor_.async_wait(tcp::acceptor::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    // Counted at accept (per_context), not when a session starts on its thread: a busy I/O
    // thread must not let the loop accept past the bound.
    size_t accepted = 0;
    for (const auto& n : gauges_->per_context) accepted += n.load();
    if (accepted >= opts_.max_connections + opts_.max_refusing) {
      // Full, and as many refusals under way as allowed: leave the connection in the backlog.
      asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(20));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    const size_t context = PickSessionContext();
    std::optional<tcp::socket> accepted_socket;
    try {
      // Creates the context's reactor (epoll, eventfd, timerfd) if it has none yet, which can
      // fail like an accept (EMFILE); the loop must survive that. (`codeq serve` creates every
      // reactor before it counts its descriptors: PrepareContexts.)
      accepted_socket.emplace(session_contexts_[context]->get_executor());
    } catch (const boost::system::system_error& e) {
      ec = e.code();
    }
    if (!ec) acceptor_.accept(*accepted_socket, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again ||
        ec == asio::error::connection_aborted || ec.value() == EPROTO) {
      continue;
    }
    if (ec) {
      // Typically EMFILE (out of file descriptors): the pending connection stays in the backlog,
      // so retrying at once would spin. Pause briefly; closing connections frees descriptors.
      ++unreported;
      ++since_recovery;
      const auto now = std::chrono::steady_clock::now();
      if (!last_warning || now - *last_warning >= kWarnEvery) {
        spdlog::warn("accept failed: {}; retrying every 100 ms, warning at most every 10 s ({} failed since "
                     "the last warning)",
                     ec.message(), unreported);
        last_warning = now;
        unreported = 0;
        warned = true;
      }
      asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (warned) {
      spdlog::info("accepting connections again after {} failed accepts", since_recovery);
      warned = false;
      since_recovery = 0;
    }
    ++gauges_->per_context[context];  // counted now, so the next accept sees it; Session gives it back
    // Served or refused is decided here, where connections are counted, so at most
    // max_connections are served at once; a refused connection does not count as served.
    const bool refuse = gauges_->served.load() >= opts_.max_connections;
    if (!refuse) ++gauges_->served;
    tcp::socket& socket = *accepted_socket;
    socket.set_option(tcp::no_delay(true), ec);
    auto ex = socket.get_executor();
    auto cancel = std::make_shared<asio::cancellation_signal>();
    auto slot = cancel->slot();
    asio::co_spawn(ex, Session(std::move(socket), std::move(cancel), context, refuse),
                   asio::bind_cancellation_slot(slot, asio::detached));
  }
}

namespace {

// An answer as it goes on the wire: the status line and header block, then the body.
struct WireResponse {
  std::string head;
  std::string body;
  std::array<asio::const_buffer, 2> Buffers() const { return {asio::buffer(head), asio::buffer(body)}; }
};

// The answer to a request of HTTP `version` (major * 10 + minor, as Beast has it) and `method`:
// the status line, Server, Content-Type and Content-Length (neither on 1xx, 204 and 304, which
// have no body: RFC 9110 §8.6), the handler's headers, and Connection where `keep_alive` differs
// from the version's default (RFC 9112 §9.3: close for 1.1, keep-alive for 1.0). For HEAD, the
// headers of the GET answer, Content-Length included, and no body (RFC 9110 §9.3.2).
// Rendered here instead of by beast::http::serializer, whose generic buffer sequences were about
// 9 % of the server's instructions per request (docs/performance.md). A header whose name or value
// holds CR or LF is dropped; none does (the names are ours, and an echoed X-Request-Id passed the
// request parser and the router's check).
WireResponse Render(Response&& r, unsigned version, bool keep_alive, bhttp::verb method) {
  auto line_break = [](char c) { return c == '\r' || c == '\n'; };
  auto line = [&](std::string& out, std::string_view name, std::string_view value) {
    if (std::any_of(name.begin(), name.end(), line_break) || std::any_of(value.begin(), value.end(), line_break)) {
      return;
    }
    out.append(name).append(": ").append(value).append("\r\n");
  };
  WireResponse w;
  std::string& h = w.head;
  h.reserve(160);
  const std::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(r.status));
  h.append("HTTP/").append(std::to_string(version / 10)).append(".").append(std::to_string(version % 10));
  h.append(" ").append(std::to_string(r.status)).append(" ").append(reason).append("\r\n");
  // These statuses never carry a body (RFC 9110 §15.2, §15.3.5, §15.4.5): a handler's body for
  // one is dropped, with its Content-Type and Content-Length.
  const bool bodiless_status = r.status / 100 == 1 || r.status == 204 || r.status == 304;
  line(h, "Server", "codeq");
  if (!bodiless_status) line(h, "Content-Type", r.content_type);
  for (const auto& [name, value] : r.headers) line(h, name, value);
  if (!bodiless_status) line(h, "Content-Length", std::to_string(r.body.size()));
  if (version >= 11 && !keep_alive) line(h, "Connection", "close");
  if (version < 11 && keep_alive) line(h, "Connection", "keep-alive");
  h.append("\r\n");
  if (method != bhttp::verb::head && !bodiless_status) w.body = std::move(r.body);
  return w;
}

// Writes `res` on a connection whose request is not (fully) read, then closes it "lingering": the
// rest of the request is read and discarded (for at most 1 s and 4 MiB) first. Closing with unread
// data would reset the connection, and the reset can destroy the answer before the client reads it.
asio::awaitable<void> AnswerAndClose(beast::tcp_stream& stream, beast::flat_buffer& buffer, const WireResponse& res,
                                     std::chrono::seconds write_timeout) {
  boost::system::error_code ec;
  stream.expires_after(write_timeout);
  co_await asio::async_write(stream, res.Buffers(), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(std::chrono::seconds(1));
  size_t drained = 0;
  while (!ec && drained < (4u << 20)) {
    buffer.clear();
    drained += co_await stream.async_read_some(buffer.prepare(16384), asio::redirect_error(asio::use_awaitable, ec));
  }
}

// The RequestContext of one request: its disconnect watch. Lives in the Session frame; the read's
// completion handler holds the shared State (and the signal), not the watch itself. Nothing is
// allocated unless a handler asks for the watch.
class ConnectionWatch final : public RequestContext {
 public:
  static constexpr size_t kMaxEarlyBytes = 64 * 1024;

  ConnectionWatch(tcp::socket& socket, const std::shared_ptr<asio::cancellation_signal>& cancel)
      : socket_(socket), cancel_(cancel) {}

  void WatchForDisconnect() override {
    if (state_ || gone_now_) return;
    state_ = std::make_shared<State>(socket_, cancel_);
    // A client that closed right after sending its request (or half-closed its side) is seen at
    // once, before the handler does anything on its behalf; the read covers what comes later.
    if (PeerClosed()) {
      state_->gone = true;
      cancel_->emit(asio::cancellation_type::terminal);
      return;
    }
    Read(state_);
  }

  void CheckForDisconnect() override {
    if (state_ || gone_now_ || !PeerClosed()) return;  // a watch in place sees it by itself
    gone_now_ = true;
    cancel_->emit(asio::cancellation_type::terminal);
  }

  bool ClientGone() const override { return gone_now_ || (state_ && state_->gone); }
  bool Watching() const { return state_ != nullptr; }

  // Ends the watch once the handler has returned: cancels the pending read and waits for it, then
  // hands the bytes that arrived meanwhile (a pipelined next request) to `buffer`.
  asio::awaitable<void> Finish(beast::flat_buffer& buffer) {
    State& st = *state_;
    st.handler_running = false;
    boost::system::error_code ec;
    if (st.read_pending) st.socket.cancel(ec);
    while (st.read_pending) {
      st.done.expires_at(asio::steady_timer::time_point::max());
      co_await st.done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!st.early.empty()) {
      buffer.commit(asio::buffer_copy(buffer.prepare(st.early.size()), asio::buffer(st.early)));
      st.early.clear();
    }
  }

 private:
  struct State {
    State(tcp::socket& s, std::shared_ptr<asio::cancellation_signal> c)
        : socket(s), cancel(std::move(c)), done(s.get_executor()) {}
    tcp::socket& socket;  // valid while a read is pending: Finish waits for it
    std::shared_ptr<asio::cancellation_signal> cancel;
    asio::steady_timer done;  // cancelled when the pending read completes (Finish waits on it)
    std::array<char, 128> chunk{};  // small: every waiting long poll holds one
    std::string early;  // bytes of a pipelined next request
    bool handler_running = true;
    bool read_pending = false;
    bool gone = false;
  };

  // Whether the peer has closed or reset the connection with nothing unread before that: a
  // non-blocking peek at one byte. O(1), one syscall.
  bool PeerClosed() {
    char byte = 0;
    const ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  // Every step runs on the connection's io_context (the socket's executor, one thread), as the
  // request coroutine.
  static void Read(const std::shared_ptr<State>& st) {
    st->read_pending = true;
    st->socket.async_read_some(asio::buffer(st->chunk), [st](boost::system::error_code ec, size_t n) {
      st->read_pending = false;
      if (!ec) {
        st->early.append(st->chunk.data(), n);
        if (st->handler_running && st->early.size() < kMaxEarlyBytes) Read(st);
      } else if (ec != asio::error::operation_aborted && st->handler_running) {
        st->gone = true;  // end of stream or reset: nobody is waiting for the answer any more
        st->cancel->emit(asio::cancellation_type::terminal);
      }
      if (!st->read_pending) st->done.cancel();
    });
  }

  tcp::socket& socket_;
  const std::shared_ptr<asio::cancellation_signal>& cancel_;
  std::shared_ptr<State> state_;
  bool gone_now_ = false;  // CheckForDisconnect saw the client gone
};

// Answers a connection over the cap: 503 {"error":"too many connections"}, then closes.
asio::awaitable<void> RefuseConnection(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
  static std::atomic<int64_t> last_warning_s{0};
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t last = last_warning_s.load();
  if (now_s != last && last_warning_s.compare_exchange_strong(last, now_s)) {
    spdlog::warn("connection limit reached: refusing connections with 503");
  }
  Response refusal = ErrorResponse(503, "too many connections");
  refusal.headers.emplace_back("Retry-After", "1");
  auto res = Render(std::move(refusal), 11, false, bhttp::verb::unknown);  // no request read
  co_await AnswerAndClose(stream, buffer, res, std::chrono::seconds(2));
}

}  // namespace

asio::awaitable<void> HttpServer::Session(tcp::socket socket, std::shared_ptr<asio::cancellation_signal> cancel,
                                          size_t context, bool refuse) {
  // A disconnect watch cancels the request coroutine (RequestContext); awaiting then must not
  // throw, so a handler always gets to finish what it started.
  co_await asio::this_coro::throw_if_cancelled(false);
  std::shared_ptr<Gauges> gauges = gauges_;  // the frame may outlive the server (Gauges)
  struct Release {  // gives back what AcceptLoop counted for this connection
    Gauges& g;
    size_t context;
    bool served;
    ~Release() {
      --g.per_context[context];
      if (served) --g.served;
    }
  } release{*gauges, context, !refuse};

  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  boost::system::error_code ec;

  if (refuse) {
    co_await RefuseConnection(stream, buffer);
    co_return;
  }

  bool first = true;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(opts_.max_header_bytes);
    parser.body_limit(opts_.max_body_bytes);

    // Idle keep-alive connections wait up to idle_timeout for the next request to start; headers
    // of a started request must then complete within header_timeout (slow clients are cut off).
    // A new connection gets header_timeout for its first request's headers, waiting included.
    if (!first && buffer.size() == 0) {
      stream.expires_after(opts_.idle_timeout);
      size_t n = co_await stream.async_read_some(buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      buffer.commit(n);
    }
    first = false;
    stream.expires_after(opts_.header_timeout);
    co_await bhttp::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      break;
    }
    // From here until its answer is written, the request is active: graceful shutdown waits for
    // it, also while its body is still arriving (ends with this loop iteration).
    struct ActiveRequest {
      explicit ActiveRequest(std::shared_ptr<Gauges> g) : gauges(std::move(g)) { ++gauges->active_requests; }
      ~ActiveRequest() { --gauges->active_requests; }
      ActiveRequest(const ActiveRequest&) = delete;
      ActiveRequest& operator=(const ActiveRequest&) = delete;
      std::shared_ptr<Gauges> gauges;
    } active(gauges);
    int early_status = 0;
    std::string early_message;
    if (ec == bhttp::error::body_limit) {  // Content-Length above the limit
      early_status = 413;
      early_message = "request body too large";
    } else if (ec == bhttp::error::header_limit) {
      early_status = 431;
      early_message = "request headers too large";
    } else if (ec) {
      early_status = 400;
      early_message = "malformed HTTP request";
    } else {
      auto& hdr = parser.get();
      const auto te = hdr[bhttp::field::transfer_encoding];  // the parser trims field values
      // An empty Transfer-Encoding field names no coding at all; a proxy in front may still take
      // it for one, and disagreeing on where a body ends is how requests get smuggled: refused.
      const bool te_present = hdr.find(bhttp::field::transfer_encoding) != hdr.end();
      if (te_present && !beast::iequals(te, "chunked")) {
        // Only "chunked" is understood. RFC 9112 §6.3: when chunked is not the final coding the
        // body length is unknown (400); §6.1: another coding before it is not implemented (501).
        // Either way the connection closes, so nothing of the body is taken for a next request.
        early_status = parser.chunked() ? 501 : 400;
        early_message = "unsupported Transfer-Encoding";
      } else if (parser.content_length() && *parser.content_length() > opts_.max_body_bytes) {
        early_status = 413;
        early_message = "request body too large";
      } else {
        if (beast::iequals(hdr[bhttp::field::expect], "100-continue")) {
          bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, hdr.version()};
          stream.expires_after(opts_.write_timeout);
          co_await bhttp::async_write(stream, cont, asio::redirect_error(asio::use_awaitable, ec));
          if (ec) break;
        }
        stream.expires_after(opts_.body_timeout);
        co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        if (ec == bhttp::error::body_limit) {
          early_status = 413;
          early_message = "request body too large";
        } else if (ec == beast::error::timeout || ec == asio::error::eof ||
                   ec == bhttp::error::partial_message || ec == asio::error::connection_reset) {
          break;
        } else if (ec) {
          early_status = 400;
          early_message = "malformed HTTP request";
        }
      }
    }
    if (early_status != 0) {
      auto res = Render(ErrorResponse(early_status, early_message), 11, false, parser.get().method());
      co_await AnswerAndClose(stream, buffer, res, opts_.write_timeout);
      co_return;
    }

    Request req = parser.release();
    bool keep_alive = req.keep_alive();
    stream.expires_never();  // a long-poll claim may legitimately take up to 30 s
    Response response;
    ConnectionWatch watch(stream.socket(), cancel);
    try {
      response = co_await handler_(req, watch);
    } catch (const std::exception& e) {
      spdlog::error("handler failed: {}", e.what());
      response = Response{500, "", "application/json; charset=utf-8", {}};
    }
    if (watch.Watching()) {
      co_await watch.Finish(buffer);
      co_await asio::this_coro::reset_cancellation_state();  // the next request starts uncancelled
    }
    if (watch.ClientGone()) break;  // nobody to answer
    const WireResponse res = Render(std::move(response), req.version(), keep_alive, req.method());
    stream.expires_after(opts_.write_timeout);
    co_await asio::async_write(stream, res.Buffers(), asio::redirect_error(asio::use_awaitable, ec));
    // `active` ends only after this write: graceful shutdown stops the server when no request is
    // active, and an answer still being written would be lost.
    if (ec || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace codeq::http
