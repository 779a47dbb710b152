#include "migrate/http.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <optional>

namespace codeq::migrate {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

HttpResult HttpCall(const std::string& base_url, const std::string& method, const std::string& path,
                    const std::string& token, const std::string& body, int timeout_ms) {
  HttpResult out;
  auto parsed = boost::urls::parse_uri(base_url);
  if (!parsed) {
    out.error = "invalid --server URL (expected http://host:port)";
    return out;
  }
  if (parsed->scheme() != "http") {
    out.error = "--server must be an http:// URL (https is not supported; use the codeQ port directly)";
    return out;
  }
  std::string host = parsed->host_address();
  std::string port = parsed->has_port() ? std::string(parsed->port()) : "80";
  std::string prefix = std::string(parsed->encoded_path());
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();

  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  bhttp::request<bhttp::string_body> req;
  req.method(bhttp::string_to_verb(method));
  req.target(prefix + path);
  req.version(11);
  req.set(bhttp::field::host, host + ":" + port);
  req.set(bhttp::field::user_agent, "codeq-migrate");
  req.set(bhttp::field::connection, "close");
  if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
  if (!body.empty()) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  bool done = false;
  beast::error_code failure;

  auto fail = [&](beast::error_code ec, const char* what) {
    failure = ec;
    out.error = std::string(what) + ": " + ec.message();
    done = true;
  };
  resolver.async_resolve(host, port, [&](beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return fail(ec, "resolve");
    stream.async_connect(results, [&](beast::error_code ec2, const tcp::endpoint&) {
      if (ec2) return fail(ec2, "connect");
      bhttp::async_write(stream, req, [&](beast::error_code ec3, size_t) {
        if (ec3) return fail(ec3, "write");
        bhttp::async_read(stream, buffer, parser, [&](beast::error_code ec4, size_t) {
          if (ec4) return fail(ec4, "read");
          out.status = static_cast<int>(parser.get().result_int());
          out.body = parser.get().body();
          done = true;
        });
      });
    });
  });
  ioc.run_for(std::chrono::milliseconds(timeout_ms));
  if (!done) {
    out.status = 0;
    out.error = "timed out after " + std::to_string(timeout_ms) + " ms";
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return out;
}

}  // namespace codeq::migrate
