// HttpServer with an io_context per I/O thread: which thread serves which connection.
#include "http/server.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace codeq::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

std::string ThisThread() {
  std::ostringstream s;
  s << std::this_thread::get_id();
  return s.str();
}

// A server on 127.0.0.1 whose handler answers with the id of the thread it runs on. The first of
// `n` io_contexts also runs the acceptor, as in `codeq serve`; each is run by one thread.
class ThreadServer {
 public:
  explicit ThreadServer(size_t n, ServerOptions o = {}) {
    std::vector<asio::io_context*> sessions;
    for (size_t i = 0; i < n; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
      sessions.push_back(contexts_.back().get());
      guards_.push_back(asio::make_work_guard(*contexts_.back()));
    }
    o.address = "127.0.0.1";
    o.port = 0;
    server_ = std::make_unique<HttpServer>(*contexts_.front(), sessions, o,
                                           [](const Request&, RequestContext&) -> asio::awaitable<Response> {
                                             Response r;
                                             r.content_type = "text/plain";
                                             r.body = ThisThread();
                                             co_return r;
                                           });
    EXPECT_TRUE(server_->Start().ok());
    for (auto& c : contexts_) threads_.emplace_back([&c] { c->run(); });
  }
  ~ThreadServer() {
    guards_.clear();
    for (auto& c : contexts_) c->stop();
    for (auto& t : threads_) t.join();
    server_.reset();
    contexts_.clear();
  }
  uint16_t port() const { return server_->port(); }
  asio::io_context& context(size_t i) { return *contexts_[i]; }
  const HttpServer& server() const { return *server_; }

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::unique_ptr<HttpServer> server_;
  std::vector<std::thread> threads_;
};

// One keep-alive client connection; Get() answers the body (the serving thread's id).
class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) { socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)); }
  std::string Get() {
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/", 11};
    req.set(bhttp::field::host, "localhost");
    bhttp::write(socket_, req);
    bhttp::response<bhttp::string_body> res;
    bhttp::read(socket_, buffer_, res);
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_TRUE(res.keep_alive());
    return res.body();
  }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

// Waits up to 5 s for `done`.
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

TEST(HttpServerContexts, ConnectionsSpreadEvenlyAndEachStaysOnOneThread) {
  ThreadServer server(2);
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::string> first;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<Client>(server.port()));
    first.push_back(clients.back()->Get());
  }
  std::map<std::string, int> per_thread;
  for (const auto& t : first) ++per_thread[t];
  ASSERT_EQ(per_thread.size(), 2u) << "4 connections over 2 contexts: both threads serve";
  for (const auto& [thread, n] : per_thread) EXPECT_EQ(n, 2) << thread;
  // Every later request of a connection runs on the thread of its first one.
  for (int round = 0; round < 5; ++round) {
    for (size_t i = 0; i < clients.size(); ++i) EXPECT_EQ(clients[i]->Get(), first[i]) << "connection " << i;
  }
}

TEST(HttpServerContexts, NewConnectionGoesToTheContextWithFewestOpen) {
  ThreadServer server(2);
  auto a1 = std::make_unique<Client>(server.port());
  const std::string thread_a = a1->Get();
  auto b1 = std::make_unique<Client>(server.port());
  const std::string thread_b = b1->Get();
  ASSERT_NE(thread_a, thread_b);
  auto a2 = std::make_unique<Client>(server.port());
  ASSERT_EQ(a2->Get(), thread_a) << "ties go round-robin";
  auto b2 = std::make_unique<Client>(server.port());
  ASSERT_EQ(b2->Get(), thread_b);
  // Closing both of A's connections leaves A with the fewest: the next two land there.
  a1.reset();
  a2.reset();
  ASSERT_TRUE(Eventually([&] { return server.server().open_connections() == 2; }));
  Client c1(server.port());
  EXPECT_EQ(c1.Get(), thread_a);
  Client c2(server.port());
  EXPECT_EQ(c2.Get(), thread_a);
  Client c3(server.port());  // 2 and 2 again: round-robin
  EXPECT_EQ(c3.Get(), thread_b);
}

// A client that connects and resets before the server gets to accept it must not wedge the accept
// loop (which runs on the first context, among connections): the next client is served at once.
TEST(HttpServerContexts, ConnectionResetBeforeAcceptDoesNotStallTheAcceptLoop) {
  ThreadServer server(1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  asio::post(server.context(0), [released] { released.wait(); });  // the accept loop cannot run
  {
    asio::io_context ioc;
    tcp::socket gone(ioc);
    gone.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    gone.set_option(asio::socket_base::linger(true, 0));  // close sends RST
    gone.close();
  }
  release.set_value();
  auto start = std::chrono::steady_clock::now();
  Client next(server.port());
  EXPECT_FALSE(next.Get().empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

// The default spdlog logger's messages, captured for the life of the object. The sink keeps the
// raw message text and never formats: spdlog's formatter writing into a buffer built in this file
// trips UBSan's vptr check (fmt's buffer type lives in the shared library too).
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()), sink_(std::make_shared<Sink>()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink_));
    spdlog::set_level(spdlog::level::info);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string Text() { return sink_->Text(); }
  /// How many times `what` occurs in the captured text.
  size_t Count(const std::string& what) {
    const std::string text = Text();
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }

 private:
  class Sink final : public spdlog::sinks::sink {
   public:
    void log(const spdlog::details::log_msg& msg) override {
      std::lock_guard<std::mutex> lock(mu_);
      text_.append(msg.payload.data(), msg.payload.size());
      text_ += '\n';
    }
    void flush() override {}
    void set_pattern(const std::string&) override {}
    void set_formatter(std::unique_ptr<spdlog::formatter>) override {}
    std::string Text() {
      std::lock_guard<std::mutex> lock(mu_);
      return text_;
    }

   private:
    std::mutex mu_;
    std::string text_;
  };
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<Sink> sink_;
};

// The ASan build also runs UBSan, whose vptr check needs a pipe (two descriptors) to test memory:
// with none free it reports a false "invalid vptr" in spdlog's formatting. The tests that take
// every descriptor away run in the other builds (plain, TSan).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitizerNeedsDescriptors = true;
#else
constexpr bool kSanitizerNeedsDescriptors = false;
#endif

// Sends GET / on `s` and reads the answer's status.
unsigned GetStatus(tcp::socket& s) {
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/", 11};
  req.set(bhttp::field::host, "localhost");
  bhttp::write(s, req);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(s, buffer, res);
  return res.result_int();
}

// Lowers this process's soft RLIMIT_NOFILE to its lowest free descriptor number (so no new
// descriptor can be opened) until Restore() or destruction.
class NoFreeDescriptors {
 public:
  NoFreeDescriptors() {
    EXPECT_EQ(getrlimit(RLIMIT_NOFILE, &saved_), 0);
    const int lowest_free = dup(0);
    EXPECT_GE(lowest_free, 0);
    close(lowest_free);
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(lowest_free);
    EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  }
  ~NoFreeDescriptors() { Restore(); }
  void Restore() { EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &saved_), 0); }

 private:
  rlimit saved_{};
};

// Out of file descriptors (EMFILE), the accept loop retries every 100 ms but warns once, not ten
// times a second, and logs when it accepts again; the waiting connection is then served.
TEST(HttpServerAccept, DescriptorExhaustionIsWarnedOnceAndRecovers) {
  if (kSanitizerNeedsDescriptors) GTEST_SKIP() << "UBSan needs free descriptors (see above)";
  LogCapture log;
  ThreadServer server(1);
  asio::io_context ioc;
  tcp::socket waiting(ioc);
  waiting.open(tcp::v4());  // its descriptor is taken before the limit is lowered
  {
    NoFreeDescriptors limit;
    waiting.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));  // accept: EMFILE
    std::this_thread::sleep_for(std::chrono::milliseconds(1050));  // ~10 failed accepts
  }
  EXPECT_EQ(log.Count("accept failed"), 1u) << log.Text();
  EXPECT_EQ(GetStatus(waiting), 200u) << "the connection that waited in the backlog is served";
  EXPECT_EQ(log.Count("accepting connections again after"), 1u) << log.Text();
}

// Connections closing and opening at the descriptor limit: accepting works in between, and the
// warning still comes once (per 10 s), with one info line for it, not one pair per failure.
TEST(HttpServerAccept, ChurnAtTheDescriptorLimitIsStillWarnedOnce) {
  if (kSanitizerNeedsDescriptors) GTEST_SKIP() << "UBSan needs free descriptors (see above)";
  LogCapture log;
  ThreadServer server(1);
  const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), server.port());
  asio::io_context ioc;
  // The client sockets take their descriptors before the limit is lowered.
  tcp::socket first(ioc), spare(ioc), second(ioc);
  first.open(tcp::v4());
  spare.open(tcp::v4());
  second.open(tcp::v4());
  {
    NoFreeDescriptors limit;
    first.connect(at);  // EMFILE: warned
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    spare.close();  // one descriptor free: `first` is accepted
    EXPECT_EQ(GetStatus(first), 200u);
    second.connect(at);  // EMFILE again, within 10 s of the warning
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_EQ(GetStatus(second), 200u);
  EXPECT_EQ(log.Count("accept failed"), 1u) << log.Text();
  EXPECT_EQ(log.Count("accepting connections again after"), 1u) << log.Text();
}

// Past max_connections + max_refusing nothing is accepted: a connection waits in the backlog
// instead of taking a descriptor for its 503, and is answered once a refusal has ended.
TEST(HttpServerAccept, RefusalsUnderWayAreBounded) {
  ServerOptions o;
  o.max_connections = 1;
  o.max_refusing = 1;
  ThreadServer server(1, o);
  Client served(server.port());
  EXPECT_FALSE(served.Get().empty());
  asio::io_context ioc;
  const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), server.port());
  tcp::socket refused(ioc), waiting(ioc);
  refused.connect(at);
  EXPECT_EQ(GetStatus(refused), 503u);  // the server now drains it until this side closes
  waiting.connect(at);  // the kernel completes the handshake; the server does not accept it
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/", 11};
  req.set(bhttp::field::host, "localhost");
  bhttp::write(waiting, req);
  // The refusal drains for up to 1 s after its answer; well inside that, `waiting` is not accepted
  // (the accept loop looks again every 20 ms).
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(server.server().open_connections(), 2u) << "the served and the refused connection only";
  waiting.non_blocking(true);
  std::array<char, 64> byte{};
  boost::system::error_code ec;
  waiting.read_some(asio::buffer(byte), ec);
  EXPECT_EQ(ec, asio::error::would_block) << "no answer while the refusal is under way";
  waiting.non_blocking(false);
  refused.close();  // the refusal ends: `waiting` is accepted, and refused as the cap is full
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(waiting, buffer, res);
  EXPECT_EQ(res.result_int(), 503u);
}

// A connection being refused does not count as served: once the served one closes, the next
// connection is served although the refusal is still under way.
TEST(HttpServerAccept, ARefusalUnderWayLeavesItsPlaceToTheNextConnection) {
  ServerOptions o;
  o.max_connections = 1;
  o.max_refusing = 4;
  ThreadServer server(1, o);
  asio::io_context ioc;
  const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), server.port());
  tcp::socket served(ioc), refused(ioc), next(ioc);
  served.connect(at);
  EXPECT_EQ(GetStatus(served), 200u);
  refused.connect(at);
  EXPECT_EQ(GetStatus(refused), 503u);  // kept open: the server drains it for a while
  served.close();
  ASSERT_TRUE(Eventually([&] { return server.server().open_connections() == 1; }));
  next.connect(at);
  EXPECT_EQ(GetStatus(next), 200u) << "the refused connection still open took the served one's place";
  EXPECT_EQ(server.server().open_connections(), 2u);
}

TEST(HttpServerContexts, OneContextServesEverything) {
  ThreadServer server(1);
  Client a(server.port()), b(server.port());
  const std::string t = a.Get();
  EXPECT_EQ(b.Get(), t);
  EXPECT_EQ(a.Get(), t);
}

}  // namespace
}  // namespace codeq::http
