#include "support/test_http_server.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>

namespace codeq::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

struct TestHttpServer::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
};

std::string ReceivedRequest::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

TestHttpServer::TestHttpServer(const std::string& address) : impl_(std::make_unique<Impl>()) {
  auto ip = asio::ip::make_address(address);
  host_ = ip.is_v6() ? "[" + address + "]" : address;
  tcp::endpoint ep(ip, 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  thread_ = std::thread([this] { Serve(); });
}

TestHttpServer::~TestHttpServer() {
  stopping_.store(true);
  // Wake the blocking accept with a connection of our own.
  boost::system::error_code ec;
  tcp::socket poke(impl_->ioc);
  poke.connect(impl_->acceptor.local_endpoint(), ec);
  thread_.join();
}

std::string TestHttpServer::Url(const std::string& path) const {
  return "http://" + host_ + ":" + std::to_string(port_) + path;
}

void TestHttpServer::Script(const std::string& path, std::vector<int> statuses) {
  std::lock_guard lock(mu_);
  script_[path] = std::move(statuses);
}

void TestHttpServer::SetBody(const std::string& path, std::string body) {
  std::lock_guard lock(mu_);
  bodies_[path] = std::move(body);
}

std::vector<ReceivedRequest> TestHttpServer::Requests(const std::string& path) const {
  std::lock_guard lock(mu_);
  std::vector<ReceivedRequest> out;
  for (const auto& r : requests_) {
    if (path.empty() || r.target == path) out.push_back(r);
  }
  return out;
}

std::vector<ReceivedRequest> TestHttpServer::WaitFor(const std::string& path, size_t n,
                                                      std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  auto count = [&] {
    return static_cast<size_t>(std::count_if(requests_.begin(), requests_.end(),
                                             [&](const auto& r) { return path.empty() || r.target == path; }));
  };
  cv_.wait_for(lock, timeout, [&] { return count() >= n; });
  lock.unlock();
  return Requests(path);
}

void TestHttpServer::Serve() {
  while (!stopping_.load()) {
    tcp::socket socket(impl_->ioc);
    boost::system::error_code ec;
    impl_->acceptor.accept(socket, ec);
    if (ec || stopping_.load()) continue;
    beast::flat_buffer buffer;
    beast::http::request<beast::http::string_body> req;
    beast::http::read(socket, buffer, req, ec);
    if (ec) continue;
    ReceivedRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.body = req.body();
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      r.headers[name] = std::string(field.value());
    }
    r.at = std::chrono::steady_clock::now();
    r.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
    int status = default_status_.load();
    std::string answer = "{}";
    {
      std::lock_guard lock(mu_);
      if (auto it = bodies_.find(r.target); it != bodies_.end()) answer = it->second;
      auto& script = script_[r.target];
      if (!script.empty()) {
        status = script.front();
        script.erase(script.begin());
      }
      requests_.push_back(std::move(r));
    }
    cv_.notify_all();
    beast::http::response<beast::http::string_body> res{static_cast<beast::http::status>(status), 11};
    res.set(beast::http::field::content_type, "application/json");
    res.keep_alive(false);
    res.body() = std::move(answer);
    res.prepare_payload();
    beast::http::write(socket, res, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
}

std::string ExpectedSignature(const std::string& secret, const std::string& timestamp, const std::string& body) {
  std::string message = timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", mac[i]);
    hex += buf;
  }
  return hex;
}

}  // namespace codeq::test
