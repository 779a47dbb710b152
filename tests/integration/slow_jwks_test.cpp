// A JWKS endpoint that accepts connections and never answers (a hung identity service), against
// `codeq serve` with a single I/O thread (IO_THREADS=1). A request whose token needs the JWKS waits
// for the fetch's timeout, but on the server's auth pool: every other connection is served at once
// meanwhile (before, the fetch ran on the I/O thread and froze the whole server for its timeout).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "auth/dev_keys.h"
#include "integration/it_fixture.h"

namespace codeq::it {
namespace {

constexpr const char* kIssuer = "https://issuer.slow-jwks.test";
constexpr int kJwksTimeoutSeconds = 3;

class SlowJwks : public IntegrationTest {
 public:
  static void SetUpTestSuite() {
    // Listens and never accepts: connections complete in the kernel's backlog and the request
    // is never answered, so every JWKS fetch waits for its timeout.
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener_, 64), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/jwks.json";
    auto config = [&](const char* audience) {
      return json::serialize(json::object{{"jwksUrl", url},
                                          {"issuer", kIssuer},
                                          {"audience", audience},
                                          {"httpTimeout", std::to_string(kJwksTimeoutSeconds) + "s"}});
    };
    StartEnvironment({{"IO_THREADS", "1"},
                      {"PRODUCER_AUTH_PROVIDER", "jwks"},
                      {"PRODUCER_AUTH_CONFIG", config("codeq-producer")},
                      {"WORKER_AUTH_PROVIDER", "jwks"},
                      {"WORKER_AUTH_CONFIG", config("codeq-worker")},
                      {"IDENTITY_JWKS_URL", url},
                      {"IDENTITY_ISSUER", kIssuer},
                      {"WORKER_JWKS_URL", url},
                      {"WORKER_ISSUER", kIssuer},
                      {"WORKER_AUDIENCE", "codeq-worker"},
                      {"WEBHOOK_HMAC_SECRET", "slow-jwks-test-secret"}},
                     /*dev=*/false);
  }
  static void TearDownTestSuite() {
    StopEnvironment();
    if (listener_ >= 0) ::close(listener_);
  }

 protected:
  static inline int listener_ = -1;
};

TEST_F(SlowJwks, TokenWaitingForTheJwksDoesNotHoldUpOtherConnections) {
  auto key = GenerateSigningKey();
  ASSERT_TRUE(key.ok()) << key.status().message();
  const int64_t now = UnixNow();
  auto token = SignJwt(*key, json::object{{"iss", kIssuer}, {"aud", "codeq-producer"}, {"sub", "p"},
                                         {"iat", now}, {"exp", now + 3600}});
  ASSERT_TRUE(token.ok()) << token.status().message();
  // The start-up prefetch failed; after the 1 s retry pause the next request fetches again.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));

  const int port = codeq().port();
  auto slow = std::async(std::launch::async, [&] {
    HttpClient c("127.0.0.1", port);
    return c.Request("POST", "/v1/codeq/tasks", Auth(*token),
                     json::serialize(json::object{{"command", Cmd()}, {"payload", json::object{}}}),
                     std::chrono::milliseconds(20000));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the create now waits for the JWKS
  for (int i = 0; i < 5; ++i) {
    auto start = std::chrono::steady_clock::now();
    HttpClient c("127.0.0.1", port);
    auto h = c.Request("GET", "/healthz");
    EXPECT_EQ(h.status, 200) << h.Describe();
    EXPECT_LT(MsSince(start), 1000) << "a JWKS fetch held up an unrelated request";
  }
  EXPECT_NE(slow.wait_for(std::chrono::seconds(0)), std::future_status::ready)
      << "the create was already answered: the health checks did not overlap its wait";
  auto r = slow.get();
  EXPECT_GE(r.elapsed.count(), (kJwksTimeoutSeconds - 1) * 1000) << "the create did not wait for the JWKS "
                                                                    "(the test proves nothing): "
                                                                 << r.Describe();
  EXPECT_EQ(r.status, 401) << r.Describe();
  EXPECT_EQ(JsonString(r.Json(), "error"), "jwks unavailable") << r.Describe();
}

}  // namespace
}  // namespace codeq::it
