#include "http/server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

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

HttpServer::HttpServer(asio::io_context& ioc, ServerOptions opts, Handler handler)
    : ioc_(ioc), opts_(std::move(opts)), handler_(std::move(handler)), acceptor_(asio::make_strand(ioc)) {}

Status HttpServer::Start() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(opts_.address, ec);
  if (ec) return InvalidArgument("invalid listen address '" + opts_.address + "'");
  tcp::endpoint ep(addr, opts_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
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
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket(asio::make_strand(ioc_));
    co_await acceptor_.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) {
      // Typically EMFILE (out of file descriptors): the pending connection stays in the backlog,
      // so retrying at once would spin. Pause briefly; closing connections frees descriptors.
      spdlog::warn("accept failed: {}; retrying in 100 ms", ec.message());
      asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto ex = socket.get_executor();
    asio::co_spawn(ex, Session(std::move(socket)), asio::detached);
  }
}

namespace {

bhttp::response<bhttp::string_body> ToBeast(Response&& r, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
  res.set(bhttp::field::server, "codeq");
  if (!r.body.empty() || r.status != 204) res.set(bhttp::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) res.set(k, v);
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

// Writes `res` on a connection whose request is not (fully) read, then closes it "lingering": the
// rest of the request is read and discarded (for at most 1 s and 4 MiB) first. Closing with unread
// data would reset the connection, and the reset can destroy the answer before the client reads it.
asio::awaitable<void> AnswerAndClose(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                     bhttp::response<bhttp::string_body>& res, std::chrono::seconds write_timeout) {
  boost::system::error_code ec;
  stream.expires_after(write_timeout);
  co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(std::chrono::seconds(1));
  size_t drained = 0;
  while (!ec && drained < (4u << 20)) {
    buffer.clear();
    drained += co_await stream.async_read_some(buffer.prepare(16384), asio::redirect_error(asio::use_awaitable, ec));
  }
}

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
  auto res = ToBeast(std::move(refusal), 11, false);
  co_await AnswerAndClose(stream, buffer, res, std::chrono::seconds(2));
}

}  // namespace

asio::awaitable<void> HttpServer::Session(tcp::socket socket) {
  struct Counter {
    std::atomic<size_t>& c;
    explicit Counter(std::atomic<size_t>& x) : c(x) { ++c; }
    ~Counter() { --c; }
  } counter(connections_);

  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  boost::system::error_code ec;

  if (connections_.load() > opts_.max_connections) {
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
      if (parser.content_length() && *parser.content_length() > opts_.max_body_bytes) {
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
      auto res = ToBeast(ErrorResponse(early_status, early_message), 11, false);
      co_await AnswerAndClose(stream, buffer, res, opts_.write_timeout);
      co_return;
    }

    Request req = parser.release();
    bool keep_alive = req.keep_alive();
    stream.expires_never();  // a long-poll claim may legitimately take up to 30 s
    ++active_requests_;
    Response response;
    try {
      response = co_await handler_(req);
    } catch (const std::exception& e) {
      spdlog::error("handler failed: {}", e.what());
      response = Response{500, "", "application/json; charset=utf-8", {}};
    }
    auto res = ToBeast(std::move(response), req.version(), keep_alive);
    stream.expires_after(opts_.write_timeout);
    co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    // Only now: graceful shutdown stops the server when no request is active, and an answer still
    // being written would be lost.
    --active_requests_;
    if (ec || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace codeq::http
