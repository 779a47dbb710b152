#include "support/http_client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <strings.h>

namespace codeq::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return std::nullopt;
}

json::value HttpResponse::Json() const {
  auto v = ParseJson(body);
  return v ? *v : json::value();
}

std::string HttpResponse::ErrorText() const { return JsonString(Json(), "error"); }

std::string HttpResponse::Describe() const {
  if (status == 0) return "transport error: " + error;
  std::string b = body.size() > 600 ? body.substr(0, 600) + "..." : body;
  return std::to_string(status) + " " + b;
}

struct HttpClient::Impl {
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(std::string host, int port, bool keep_alive, std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), keep_alive_(keep_alive), timeout_(timeout),
      impl_(std::make_unique<Impl>()) {}

HttpClient::~HttpClient() { Close(); }

void HttpClient::Close() {
  if (impl_->stream) {
    boost::system::error_code ec;
    impl_->stream->socket().shutdown(tcp::socket::shutdown_both, ec);
    impl_->stream->socket().close(ec);
    impl_->stream.reset();
  }
  impl_->buffer.clear();
}

namespace {

struct Exchange {
  bhttp::request<bhttp::string_body> req;
  bhttp::response<bhttp::string_body> res;
  boost::system::error_code ec;
  bool wrote = false;      // the request was written completely
  bool got_bytes = false;  // some response arrived
};

}  // namespace

HttpResponse HttpClient::Request(std::string_view method, std::string_view target, const HttpHeaders& headers,
                                 std::string body, std::optional<std::chrono::milliseconds> timeout) {
  auto started = std::chrono::steady_clock::now();
  auto limit = timeout.value_or(timeout_);
  HttpResponse out;

  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = impl_->stream.has_value();
    Exchange ex;
    ex.req.method_string(method);
    ex.req.target(target);
    ex.req.version(11);
    ex.req.set(bhttp::field::host, host_ + ":" + std::to_string(port_));
    ex.req.set(bhttp::field::user_agent, "codeq-integration-test");
    bool has_type = false, chunked = false;
    for (const auto& [k, v] : headers) {
      if (::strcasecmp(k.c_str(), "content-type") == 0) has_type = true;
      if (::strcasecmp(k.c_str(), "transfer-encoding") == 0 && ::strcasecmp(v.c_str(), "chunked") == 0) {
        chunked = true;  // sent with chunked framing below instead of Content-Length
        continue;
      }
      ex.req.insert(k, v);
    }
    if (!body.empty() && !has_type) ex.req.set(bhttp::field::content_type, "application/json");
    ex.req.body() = body;
    ex.req.keep_alive(keep_alive_);
    if (chunked) {
      ex.req.chunked(true);
    } else {
      ex.req.prepare_payload();
    }

    impl_->ioc.restart();
    if (!impl_->stream) {
      impl_->stream.emplace(impl_->ioc);
      impl_->buffer.clear();
    }
    beast::tcp_stream& stream = *impl_->stream;
    stream.expires_after(limit);

    auto run = [&]() -> asio::awaitable<void> {
      auto tok = asio::redirect_error(asio::use_awaitable, ex.ec);
      if (!stream.socket().is_open()) {
        boost::system::error_code aec;
        auto addr = asio::ip::make_address(host_, aec);
        if (aec) {
          tcp::resolver resolver(impl_->ioc);
          auto results = co_await resolver.async_resolve(host_, std::to_string(port_), tok);
          if (ex.ec) co_return;
          co_await stream.async_connect(results, tok);
        } else {
          co_await stream.async_connect(tcp::endpoint(addr, static_cast<unsigned short>(port_)), tok);
        }
        if (ex.ec) co_return;
        stream.socket().set_option(tcp::no_delay(true), ex.ec);
        ex.ec = {};
      }
      co_await bhttp::async_write(stream, ex.req, tok);
      if (ex.ec) co_return;
      ex.wrote = true;
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      if (ex.req.method() == bhttp::verb::head) parser.skip(true);  // a HEAD answer has no body
      co_await bhttp::async_read_header(stream, impl_->buffer, parser, tok);
      if (ex.ec) co_return;
      ex.got_bytes = true;
      if (!parser.is_done()) {
        co_await bhttp::async_read(stream, impl_->buffer, parser, tok);
        if (ex.ec) co_return;
      }
      ex.res = parser.release();
    };
    asio::co_spawn(impl_->ioc, run(), asio::detached);
    impl_->ioc.run();

    if (ex.ec) {
      Close();
      // A kept-alive connection the server closed meanwhile: retry once on a fresh one.
      if (reused && !ex.got_bytes &&
          (ex.ec == bhttp::error::end_of_stream || ex.ec == asio::error::eof ||
           ex.ec == asio::error::connection_reset || ex.ec == asio::error::broken_pipe)) {
        continue;
      }
      out.error = ex.ec == beast::error::timeout ? "timeout after " + std::to_string(limit.count()) + " ms"
                                                  : ex.ec.message();
      break;
    }
    out.status = static_cast<int>(ex.res.result_int());
    for (const auto& f : ex.res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(ex.res.body());
    if (!keep_alive_ || !ex.res.keep_alive()) Close();
    break;
  }
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  return out;
}

std::optional<json::value> ParseJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return std::nullopt;
  return v;
}

std::string ToJson(const json::value& v) { return json::serialize(v); }

std::string JsonString(const json::value& v, std::string_view key) {
  if (!v.is_object()) return "";
  const json::value* m = v.get_object().if_contains(key);
  if (m == nullptr || !m->is_string()) return "";
  return std::string(m->get_string());
}

std::optional<int64_t> JsonInt(const json::value& v, std::string_view key) {
  if (!v.is_object()) return std::nullopt;
  const json::value* m = v.get_object().if_contains(key);
  if (m == nullptr) return std::nullopt;
  if (m->is_int64()) return m->get_int64();
  if (m->is_uint64()) return static_cast<int64_t>(m->get_uint64());
  return std::nullopt;
}

bool JsonHas(const json::value& v, std::string_view key) {
  return v.is_object() && v.get_object().contains(key);
}

}  // namespace codeq::test
