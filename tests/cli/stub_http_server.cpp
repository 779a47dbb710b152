#include "cli/stub_http_server.h"

#include <strings.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace codeq::clitest {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string StubRequest::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  }
  return "";
}

struct StubHttpServer::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
};

StubHttpServer::StubHttpServer(Handler handler) : handler_(std::move(handler)), impl_(std::make_unique<Impl>()) {}

StubHttpServer::~StubHttpServer() { Stop(); }

bool StubHttpServer::Start() {
  boost::system::error_code ec;
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return false;
  port_ = impl_->acceptor.local_endpoint().port();
  thread_ = std::thread([this] {
    while (!stop_) {
      tcp::socket socket(impl_->ioc);
      boost::system::error_code aec;
      impl_->acceptor.accept(socket, aec);
      if (aec || stop_) break;
      beast::flat_buffer buffer;
      http::request<http::string_body> req;
      boost::system::error_code rec;
      http::read(socket, buffer, req, rec);
      if (!rec) {
        StubRequest r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        r.body = req.body();
        for (const auto& f : req) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        {
          std::lock_guard lock(mu_);
          requests_.push_back(r);
        }
        StubResponse out = handler_(r);
        http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
        res.set(http::field::content_type, out.content_type);
        res.body() = out.body;
        res.keep_alive(false);  // one request per connection: a kept-alive client cannot block others
        res.prepare_payload();
        boost::system::error_code wec;
        http::write(socket, res, wec);
      }
      boost::system::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_both, ignored);
    }
  });
  return true;
}

void StubHttpServer::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  // Wake the blocking accept() with a connection of our own.
  try {
    asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)));
  } catch (...) {
  }
  thread_.join();
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
}

std::vector<StubRequest> StubHttpServer::Requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

}  // namespace codeq::clitest
