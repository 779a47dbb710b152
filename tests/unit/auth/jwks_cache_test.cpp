// JWKS parsing, cache refresh rules (D13) and the libcurl fetch.
#include "auth/jwks_cache.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>

#include "auth/base64url.h"
#include "auth/http_fetch.h"
#include "auth_test_util.h"

namespace codeq {
namespace {

using auth_test::JwksFile;
using auth_test::KeyA;
using auth_test::KeyB;
using auth_test::KeyC;

constexpr int64_t kRefreshMs = 300000;
constexpr int64_t kUnknownKidMs = 30000;

std::string RandomKid(std::mt19937_64& rng) {
  std::string bytes(8, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
  return Base64UrlEncode(bytes);
}

// ---- ParseJwks ----

TEST(ParseJwksTest, SkipsNonRsaMalformedAndEncryptionKeys) {
  boost::json::object good = boost::json::parse(JwksJson(KeyA())).at("keys").at(0).as_object();
  boost::json::object enc = boost::json::parse(JwksJson(KeyB())).at("keys").at(0).as_object();
  enc["use"] = "enc";
  boost::json::object no_kid = good;
  no_kid.erase("kid");
  boost::json::object bad_n = good;
  bad_n["kid"] = "bad-n";
  bad_n["n"] = "!!!";
  boost::json::object small = good;
  small["kid"] = "small";
  small["n"] = Base64UrlEncode(std::string(128, '\xff'));  // 1024-bit modulus
  boost::json::object even_e = good;
  even_e["kid"] = "even-e";
  even_e["e"] = Base64UrlEncode("\x01\x00\x00");
  boost::json::object num_n = good;
  num_n["kid"] = "num-n";
  num_n["n"] = 5;
  boost::json::array keys{boost::json::object{{"kty", "EC"}, {"kid", "ec"}, {"crv", "P-256"}},
                          good, enc, no_kid, bad_n, small, even_e, num_n, 42, "str", nullptr};
  auto r = ParseJwks(boost::json::serialize(boost::json::object{{"keys", keys}}));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->begin()->first, KeyA().kid);
}

TEST(ParseJwksTest, RejectsNonJsonAndMissingKeys) {
  EXPECT_FALSE(ParseJwks("").ok());
  EXPECT_FALSE(ParseJwks("<html>").ok());
  EXPECT_FALSE(ParseJwks("[]").ok());
  EXPECT_FALSE(ParseJwks(R"({"keys":{}})").ok());
  EXPECT_FALSE(ParseJwks(R"({"nokeys":[]})").ok());
  auto empty = ParseJwks(R"({"keys":[]})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// ---- cache rules ----

TEST(JwksCacheTest, PrefetchThenServesFromCache) {
  JwksFile file({&KeyA(), &KeyB()});
  ManualClock clock;
  JwksCache cache(file.url(), 1000, clock, kRefreshMs, kUnknownKidMs);
  ASSERT_TRUE(cache.Prefetch().ok());
  EXPECT_EQ(cache.FetchCount(), 1);
  EXPECT_EQ(cache.KeyCount(), 2u);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(cache.GetKey(KeyA().kid).ok());
    ASSERT_TRUE(cache.GetKey(KeyB().kid).ok());
  }
  EXPECT_EQ(cache.FetchCount(), 1);
}

TEST(JwksCacheTest, FirstGetKeyLoadsLazily) {
  JwksFile file({&KeyA()});
  ManualClock clock;
  JwksCache cache(file.url(), 1000, clock);
  auto k = cache.GetKey(KeyA().kid);
  ASSERT_TRUE(k.ok());
  EXPECT_TRUE(*k);
  EXPECT_EQ(cache.FetchCount(), 1);
}

TEST(JwksCacheTest, WholeSetRefreshedAfterInterval) {
  JwksFile file({&KeyA()});
  ManualClock clock;
  JwksCache cache(file.url(), 1000, clock, kRefreshMs, kUnknownKidMs);
  ASSERT_TRUE(cache.Prefetch().ok());
  file.Write({&KeyB()});  // A removed upstream
  clock.Advance(kRefreshMs - 1);
  EXPECT_TRUE(cache.GetKey(KeyA().kid).ok());
  EXPECT_EQ(cache.FetchCount(), 1);
  clock.Advance(1);
  // The stale set still answers at once; the refresh runs in the background and drops the
  // revoked key.
  EXPECT_TRUE(cache.GetKey(KeyA().kid).ok());
  cache.WaitForBackgroundRefresh();
  EXPECT_EQ(cache.FetchCount(), 2);
  EXPECT_TRUE(cache.GetKey(KeyB().kid).ok());
  EXPECT_EQ(cache.FetchCount(), 2);
  auto a = cache.GetKey(KeyA().kid);  // now an unknown kid: one (rate-limited) refetch confirms it
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(a.status().message(), "unknown key id");
  EXPECT_EQ(cache.FetchCount(), 3);
}

TEST(JwksCacheTest, UnknownKidFloodRefetchesAtMostOncePerInterval) {
  JwksFile file({&KeyA()});
  ManualClock clock;
  JwksCache cache(file.url(), 1000, clock, kRefreshMs, kUnknownKidMs);
  ASSERT_TRUE(cache.Prefetch().ok());
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100; ++i) {
    auto r = cache.GetKey(RandomKid(rng));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), "unknown key id");
  }
  EXPECT_EQ(cache.FetchCount(), 2);  // the prefetch + one unknown-kid refetch
  clock.Advance(kUnknownKidMs - 1);
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(cache.GetKey(RandomKid(rng)).ok());
  EXPECT_EQ(cache.FetchCount(), 2);
  clock.Advance(1);
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(cache.GetKey(RandomKid(rng)).ok());
  EXPECT_EQ(cache.FetchCount(), 3);
  EXPECT_TRUE(cache.GetKey(KeyA().kid).ok());  // known keys unaffected
  EXPECT_EQ(cache.FetchCount(), 3);
}

TEST(JwksCacheTest, ConcurrentUnknownKidFloodStillOneRefetch) {
  JwksFile file({&KeyA()});
  ManualClock clock;
  JwksCache cache(file.url(), 1000, clock, kRefreshMs, kUnknownKidMs);
  ASSERT_TRUE(cache.Prefetch().ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&cache, t] {
      std::mt19937_64 rng(t);
      for (int i = 0; i < 50; ++i) {
        (void)cache.GetKey(RandomKid(rng));
        EXPECT_TRUE(cache.GetKey(KeyA().kid).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(cache.FetchCount(), 2);
}

TEST(JwksCacheTest, RotatedKeyWorksOnFirstRequest) {
  JwksFile file({&KeyA()});
  ManualClock clock;
  JwksCache cache(file.url(), 1000, clock, kRefreshMs, kUnknownKidMs);
  ASSERT_TRUE(cache.Prefetch().ok());  // the initial load does not use up the unknown-kid budget
  file.Write({&KeyA(), &KeyB()});
  EXPECT_TRUE(cache.GetKey(KeyB().kid).ok());
  EXPECT_EQ(cache.FetchCount(), 2);
  // A periodic refresh does not use it up either.
  clock.Advance(kRefreshMs);
  EXPECT_TRUE(cache.GetKey(KeyA().kid).ok());
  cache.WaitForBackgroundRefresh();
  EXPECT_EQ(cache.FetchCount(), 3);
  clock.Advance(kUnknownKidMs);
  file.Write({&KeyC()});
  EXPECT_TRUE(cache.GetKey(KeyC().kid).ok());
  EXPECT_EQ(cache.FetchCount(), 4);
}

TEST(JwksCacheTest, LazyInitialLoadDoesNotCountAgainstUnknownKidLimit) {
  JwksFile file({&KeyA()});
  ManualClock clock;
  JwksCache cache(file.url(), 1000, clock, kRefreshMs, kUnknownKidMs);
  EXPECT_FALSE(cache.GetKey("nope").ok());  // initial load, kid still unknown
  EXPECT_EQ(cache.FetchCount(), 1);
  file.Write({&KeyA(), &KeyB()});
  EXPECT_TRUE(cache.GetKey(KeyB().kid).ok());
  EXPECT_EQ(cache.FetchCount(), 2);
}

TEST(JwksCacheTest, UnreachableJwksIsUnavailableWithRetryBackoff) {
  JwksFile file({&KeyA()});
  file.Remove();
  ManualClock clock;
  JwksCache cache(file.url(), 1000, clock, kRefreshMs, kUnknownKidMs);
  EXPECT_FALSE(cache.Prefetch().ok());
  auto r = cache.GetKey(KeyA().kid);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "jwks unavailable");
  EXPECT_EQ(cache.FetchCount(), 1);  // within the retry pause
  file.Write({&KeyA()});
  clock.Advance(JwksCache::kFailedFetchRetryMs);
  EXPECT_TRUE(cache.GetKey(KeyA().kid).ok());
  EXPECT_EQ(cache.FetchCount(), 2);
}

TEST(JwksCacheTest, StaleKeysServedWhenRefreshFails) {
  JwksFile file({&KeyA()});
  ManualClock clock;
  JwksCache cache(file.url(), 1000, clock, kRefreshMs, kUnknownKidMs);
  ASSERT_TRUE(cache.Prefetch().ok());
  file.WriteRaw("<html>oops</html>");
  clock.Advance(kRefreshMs);
  EXPECT_TRUE(cache.GetKey(KeyA().kid).ok());
  cache.WaitForBackgroundRefresh();
  EXPECT_EQ(cache.FetchCount(), 2);
  EXPECT_TRUE(cache.GetKey(KeyA().kid).ok());
  cache.WaitForBackgroundRefresh();
  EXPECT_EQ(cache.FetchCount(), 2);  // retry pause
  file.Write({&KeyB()});
  clock.Advance(JwksCache::kFailedFetchRetryMs);
  EXPECT_TRUE(cache.GetKey(KeyA().kid).ok());  // served while the refresh runs
  cache.WaitForBackgroundRefresh();
  EXPECT_TRUE(cache.GetKey(KeyB().kid).ok());
  EXPECT_EQ(cache.FetchCount(), 3);
  EXPECT_FALSE(cache.GetKey(KeyA().kid).ok());  // gone upstream (after one unknown-kid refetch)
}

// ---- HttpGet over a real socket ----

/// Serves one canned HTTP response per connection on 127.0.0.1 until destroyed.
class OneShotHttpServer {
 public:
  explicit OneShotHttpServer(std::string response, bool never_answer = false)
      : response_(std::move(response)), never_answer_(never_answer) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~OneShotHttpServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  /// From now on, connections are accepted and never answered.
  void StopAnswering() { never_answer_ = true; }
  std::string url(const std::string& path = "/jwks") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  void Serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      std::string req;
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      if (never_answer_) {
        while (!stop_ && ::read(c, buf, sizeof buf) > 0) {
        }
      } else {
        (void)!::write(c, response_.data(), response_.size());
      }
      ::close(c);
    }
  }

  std::string response_;
  std::atomic<bool> never_answer_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string HttpResponse(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

// A JWKS endpoint that stops answering: requests signed with a key of the stale set are not held
// up by the refresh (which waits out its timeout on a background thread), and one refresh runs
// however many requests arrive meanwhile.
TEST(JwksCacheTest, StaleSetAnswersKnownKidsWhileTheRefreshHangs) {
  OneShotHttpServer server(HttpResponse(200, JwksJson(KeyA())));
  ManualClock clock;
  JwksCache cache(server.url(), 1500, clock, kRefreshMs, kUnknownKidMs);
  ASSERT_TRUE(cache.Prefetch().ok());
  server.StopAnswering();
  clock.Advance(kRefreshMs);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(cache.GetKey(KeyA().kid).ok());
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::milliseconds(500)) << "known kids waited for the hung refresh";
  cache.WaitForBackgroundRefresh();  // ends with its 1.5 s timeout
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  EXPECT_EQ(cache.FetchCount(), 2);  // one background refresh for all 50
  EXPECT_TRUE(cache.GetKey(KeyA().kid).ok());  // the failed refresh kept the set
}

// Many threads on a stale set: all get the key, and one refresh runs (then the set is fresh).
TEST(JwksCacheTest, ConcurrentRequestsOnAStaleSetStartOneRefresh) {
  JwksFile file({&KeyA()});
  ManualClock clock;
  JwksCache cache(file.url(), 1000, clock, kRefreshMs, kUnknownKidMs);
  ASSERT_TRUE(cache.Prefetch().ok());
  clock.Advance(kRefreshMs);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (!cache.GetKey(KeyA().kid).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  cache.WaitForBackgroundRefresh();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(cache.FetchCount(), 2);
}

// A cache destroyed while its refresh hangs waits for the refresh's timeout, then goes away
// cleanly (no crash, no thread left behind).
TEST(JwksCacheTest, DestroyedWhileItsRefreshHangs) {
  OneShotHttpServer server(HttpResponse(200, JwksJson(KeyA())));
  ManualClock clock;
  auto start = std::chrono::steady_clock::now();
  {
    JwksCache cache(server.url(), 800, clock, kRefreshMs, kUnknownKidMs);
    ASSERT_TRUE(cache.Prefetch().ok());
    server.StopAnswering();
    clock.Advance(kRefreshMs);
    ASSERT_TRUE(cache.GetKey(KeyA().kid).ok());  // starts the refresh
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(5)) << "the destructor waited beyond the fetch timeout";
}

TEST(HttpGetTest, FetchesJwksOverHttp) {
  OneShotHttpServer server(HttpResponse(200, JwksJson(KeyA())));
  ManualClock clock;
  JwksCache cache(server.url(), 2000, clock);
  ASSERT_TRUE(cache.Prefetch().ok());
  EXPECT_TRUE(cache.GetKey(KeyA().kid).ok());
}

TEST(HttpGetTest, Non200IsFailure) {
  OneShotHttpServer server(HttpResponse(404, JwksJson(KeyA())));
  auto r = HttpGet(server.url(), 2000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "fetch: HTTP status 404");
  ManualClock clock;
  JwksCache cache(server.url(), 2000, clock);
  EXPECT_FALSE(cache.Prefetch().ok());
  EXPECT_EQ(cache.GetKey(KeyA().kid).status().message(), "jwks unavailable");
}

TEST(HttpGetTest, TimeoutIsFailure) {
  OneShotHttpServer server("", /*never_answer=*/true);
  auto start = std::chrono::steady_clock::now();
  auto r = HttpGet(server.url(), 200);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "fetch: timeout");
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST(HttpGetTest, OversizedBodyIsFailure) {
  OneShotHttpServer server(HttpResponse(200, std::string(5000, 'x')));
  auto r = HttpGet(server.url(), 2000, 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "fetch: response too large");
}

TEST(HttpGetTest, RefusesOtherSchemes) {
  EXPECT_FALSE(HttpGet("ftp://127.0.0.1/jwks", 500).ok());
  EXPECT_FALSE(HttpGet("gopher://127.0.0.1/", 500).ok());
  EXPECT_FALSE(HttpGet("", 500).ok());
}

TEST(HttpGetTest, ReadsFileUrls) {
  JwksFile file({&KeyA()});
  auto r = HttpGet(file.url(), 500);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, JwksJson(KeyA()));
  file.Remove();
  EXPECT_FALSE(HttpGet(file.url(), 500).ok());
}

}  // namespace
}  // namespace codeq
