// HTTP limits of `codeq serve` against misbehaving clients (issue 8, docs/security.md): header
// size (431), slow headers and slow bodies (slowloris) cut off by requestHeaderTimeoutSeconds and
// requestBodyTimeoutSeconds, a connection cap answered with a clear 503, and 10,000 idle long-poll
// claims held with bounded memory and woken correctly. (Body size → 413: create_test.cpp.)
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <thread>

#include "integration/it_fixture.h"
#include "support/process_stats.h"
#include "support/raw_connection.h"

namespace codeq::it {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using test::HttpRequestText;
using test::RawConnection;

constexpr int kHeaderTimeoutS = 2;
constexpr int kBodyTimeoutS = 3;
constexpr int kMaxConnections = 16;

/// Sends `data` one byte per `interval` until the server closes the connection or `limit` passes.
/// The milliseconds until the close, or -1 when the connection stayed open.
int64_t DripUntilClosed(RawConnection& conn, const std::string& data, milliseconds interval, milliseconds limit) {
  const auto start = Clock::now();
  size_t i = 0;
  while (Clock::now() - start < limit) {
    if (!conn.Send(std::string_view(data).substr(i % data.size(), 1))) return MsSince(start);
    ++i;
    if (!conn.ReadSome(interval)) return MsSince(start);
  }
  return -1;
}

std::unique_ptr<RawConnection> MustConnect(int port) {
  auto c = RawConnection::Connect("127.0.0.1", port);
  EXPECT_TRUE(c) << "connect to 127.0.0.1:" << port;
  return c;
}

class HttpLimits : public IntegrationTest {
 public:
  static void SetUpTestSuite() {
    StartEnvironment({{"REQUEST_HEADER_TIMEOUT_SECONDS", std::to_string(kHeaderTimeoutS)},
                      {"REQUEST_BODY_TIMEOUT_SECONDS", std::to_string(kBodyTimeoutS)},
                      {"MAX_CONNECTIONS", std::to_string(kMaxConnections)}});
  }

 protected:
  /// A long-poll claim request for `cmd` that waits `wait_s` seconds, as raw HTTP text.
  static std::string ClaimText(const std::string& cmd, int wait_s) {
    return HttpRequestText("POST", "/v1/codeq/tasks/claim", {"Authorization: Bearer " + Worker()},
                           json::serialize(json::object{{"commands", json::array{json::value(cmd)}},
                                                        {"waitSeconds", wait_s}}));
  }
};

TEST_F(HttpLimits, OversizedHeadersAre431) {
  auto r = Call("GET", "/healthz", "", "", {{"X-Padding", std::string(20 * 1024, 'p')}});
  EXPECT_EQ(r.status, 431) << r.Describe();
  EXPECT_EQ(r.Json(), json::parse(R"({"error":"request headers too large"})")) << r.Describe();
  // Many small headers count too.
  HttpHeaders many;
  for (int i = 0; i < 400; ++i) many.emplace_back("X-H" + std::to_string(i), std::string(60, 'v'));
  EXPECT_EQ(Call("GET", "/healthz", "", "", many).status, 431);
  EXPECT_EQ(Get("/healthz", "").status, 200);
}

// Only the chunked transfer coding is understood (RFC 9112 §6): a body under another coding is
// refused, never read as if it were plain, and the connection closes.
TEST_F(HttpLimits, TransferEncodingsOtherThanChunkedAreRefused) {
  const std::string body = json::serialize(json::object{{"command", Cmd()}, {"payload", json::object{}}});
  const std::string chunked = [&] {
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    return std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
  }();
  struct Case {
    std::string headers, body;
    int status;
  };
  const Case cases[] = {
      {"Transfer-Encoding: gzip\r\nContent-Length: " + std::to_string(body.size()) + "\r\n", body, 400},
      {"Transfer-Encoding: gzip, chunked\r\n", chunked, 501},
      // An empty field names no coding; a proxy might still read one (it was taken as absent).
      {"Transfer-Encoding:\r\nContent-Length: " + std::to_string(body.size()) + "\r\n", body, 400},
      {"Transfer-Encoding: chunked\r\n", chunked, 202},
  };
  for (const Case& c : cases) {
    auto conn = MustConnect(codeq().port());
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send("POST /v1/codeq/tasks HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + Producer() +
                           "\r\nContent-Type: application/json\r\n" + c.headers + "\r\n" + c.body));
    ASSERT_TRUE(conn->ReadResponse(milliseconds(5000))) << c.headers;
    EXPECT_EQ(conn->ResponseStatus(), c.status) << c.headers << conn->Received();
    if (c.status != 202) {
      EXPECT_NE(conn->Received().find(R"({"error":"unsupported Transfer-Encoding"})"), std::string::npos)
          << conn->Received();
      EXPECT_TRUE(conn->WaitClosed(milliseconds(3000))) << "the connection stays open after " << c.status;
    }
  }
}

// RFC 9112 §3.2.2: a server must accept a request target in absolute form; its path and query
// are routed as the origin form would be.
TEST_F(HttpLimits, AbsoluteFormTargetsAreRoutedByTheirPath) {
  struct Case {
    std::string target;
    int status;
  };
  const Case cases[] = {
      {"http://codeq.example/healthz", 200},
      {"HTTPS://codeq.example:8443/healthz?x=1", 200},
      {"http://codeq.example", 404},          // the path "/"
      {"ftp://codeq.example/healthz", 404},  // not an http(s) URL: no route
  };
  for (const Case& c : cases) {
    auto conn = MustConnect(codeq().port());
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send("GET " + c.target + " HTTP/1.1\r\nHost: codeq.example\r\n\r\n"));
    ASSERT_TRUE(conn->ReadResponse(milliseconds(5000))) << c.target;
    EXPECT_EQ(conn->ResponseStatus(), c.status) << c.target << conn->Received();
  }
  auto conn = MustConnect(codeq().port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send("GET http://codeq.example/v1/codeq/tasks/00000000-0000-4000-8000-000000000000 HTTP/1.1\r\n"
                         "Host: codeq.example\r\nAuthorization: Bearer " + Producer() + "\r\n\r\n"));
  ASSERT_TRUE(conn->ReadResponse(milliseconds(5000)));
  EXPECT_EQ(conn->ResponseStatus(), 404) << conn->Received();
  EXPECT_NE(conn->Received().find(R"({"error":"not found"})"), std::string::npos) << conn->Received();
}

TEST_F(HttpLimits, HeadersSentOneBytePerSecondAreCutOff) {
  auto conn = MustConnect(codeq().port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send("POST /v1/codeq/tasks HTTP/1.1\r\nHost: x\r\n"));
  const int64_t ms = DripUntilClosed(*conn, "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaa", milliseconds(1000), milliseconds(15000));
  std::printf("[limits] slow headers (1 byte/s) cut after %lld ms (requestHeaderTimeoutSeconds=%d)\n",
              static_cast<long long>(ms), kHeaderTimeoutS);
  ASSERT_GE(ms, 0) << "a client dripping headers was never disconnected";
  EXPECT_LE(ms, kHeaderTimeoutS * 1000 + 1500);
  EXPECT_EQ(conn->ResponseStatus(), 0) << "no request was complete, so no answer: " << conn->Received();
}

TEST_F(HttpLimits, SlowHeadersOnAKeptAliveConnectionAreCutOff) {
  // The keep-alive idle allowance (75 s) only covers waiting for a request, not sending it slowly.
  auto conn = MustConnect(codeq().port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(HttpRequestText("GET", "/healthz", {})));
  ASSERT_TRUE(conn->ReadResponse(milliseconds(5000)));
  ASSERT_EQ(conn->ResponseStatus(), 200) << conn->Received();
  ASSERT_TRUE(conn->Send("GET /healthz HTTP/1.1\r\n"));
  const int64_t ms = DripUntilClosed(*conn, "X-Slow: bbbbbbbbbbbbbbbbbbbbbbbbb", milliseconds(1000), milliseconds(15000));
  std::printf("[limits] slow headers on a kept-alive connection cut after %lld ms\n", static_cast<long long>(ms));
  ASSERT_GE(ms, 0);
  EXPECT_LE(ms, kHeaderTimeoutS * 1000 + 1500);
}

TEST_F(HttpLimits, IdleConnectionWithoutARequestIsClosed) {
  auto conn = MustConnect(codeq().port());
  ASSERT_TRUE(conn);
  const auto start = Clock::now();
  ASSERT_TRUE(conn->WaitClosed(milliseconds(10000))) << "a silent connection was kept open";
  EXPECT_LE(MsSince(start), kHeaderTimeoutS * 1000 + 1500);
}

TEST_F(HttpLimits, BodySentSlowlyIsCutOff) {
  auto conn = MustConnect(codeq().port());
  ASSERT_TRUE(conn);
  const std::string body = json::serialize(json::object{{"command", Cmd()}, {"payload", std::string(200, 'x')}});
  std::string text = HttpRequestText("POST", "/v1/codeq/tasks", {"Authorization: Bearer " + Producer()}, body);
  const std::string head = text.substr(0, text.find("\r\n\r\n") + 4);
  ASSERT_TRUE(conn->Send(head));  // headers at once, then the body one byte per second
  const int64_t ms = DripUntilClosed(*conn, body, milliseconds(1000), milliseconds(20000));
  std::printf("[limits] slow body (1 byte/s) cut after %lld ms (requestBodyTimeoutSeconds=%d)\n",
              static_cast<long long>(ms), kBodyTimeoutS);
  ASSERT_GE(ms, 0) << "a client dripping its body was never disconnected";
  EXPECT_LE(ms, kBodyTimeoutS * 1000 + 1500);
  EXPECT_GE(ms, kBodyTimeoutS * 1000 - 1000) << "cut before the body timeout";
  // Nothing was created from the partial body.
  EXPECT_EQ(JsonInt(Get("/v1/codeq/admin/queues/" + Cmd(), Admin()).Json(), "ready"), 0);
}

TEST_F(HttpLimits, ConnectionsBeyondTheCapGetA503) {
  const std::string cmd = Cmd();
  // Connections of the previous slow-client cases may still be counted for up to a second (the
  // lingering close after an early answer) or a header timeout: let them go before filling the cap.
  std::this_thread::sleep_for(milliseconds(2500));
  // Hold the cap with long-poll claims (inside the handler, so no read timeout applies).
  std::vector<std::unique_ptr<RawConnection>> holders;
  for (int i = 0; i < kMaxConnections; ++i) {
    holders.push_back(MustConnect(codeq().port()));
    ASSERT_TRUE(holders.back() && holders.back()->Send(ClaimText(cmd, 4)));
  }
  std::this_thread::sleep_for(milliseconds(500));  // let the server accept them all

  auto refused = MustConnect(codeq().port());
  ASSERT_TRUE(refused);
  ASSERT_TRUE(refused->Send(HttpRequestText("GET", "/healthz", {})));
  ASSERT_TRUE(refused->ReadResponse(milliseconds(5000))) << "no answer at the cap: '" << refused->Received() << "'";
  EXPECT_EQ(refused->ResponseStatus(), 503) << refused->Received();
  EXPECT_EQ(test::ParseJson(refused->ResponseBody()).value_or(nullptr), json::parse(R"({"error":"too many connections"})"))
      << refused->Received();
  EXPECT_NE(refused->Received().find("Retry-After: 1"), std::string::npos) << refused->Received();
  EXPECT_TRUE(refused->WaitClosed(milliseconds(3000))) << "the refused connection must be closed";
  // An HTTP client sees the same clear answer.
  auto r = Get("/healthz", "");
  EXPECT_EQ(r.status, 503) << r.Describe();
  EXPECT_EQ(r.ErrorText(), "too many connections");

  // The holders end with 204 when their wait is over, and the server serves again.
  for (auto& h : holders) {
    ASSERT_TRUE(h->ReadResponse(milliseconds(10000)));
    EXPECT_EQ(h->ResponseStatus(), 204) << h->Received();
  }
  holders.clear();
  const auto start = Clock::now();
  HttpResponse ok;
  do {
    ok = Get("/healthz", "");
  } while (ok.status != 200 && MsSince(start) < 3000);
  EXPECT_EQ(ok.status, 200) << ok.Describe();
}

// 10,000 concurrent long-poll claims: each costs a coroutine and a socket, not a thread.
constexpr int kIdleClaims = 10000;
constexpr int kWakeTasks = 20;

class IdleClaims : public IntegrationTest {
 public:
  static void SetUpTestSuite() {
    // Both processes need a descriptor per connection; the server inherits this limit.
    fd_limit_ = test::RaiseOpenFileLimit(kIdleClaims + 2048);
    StartEnvironment({{"MAX_CONNECTIONS", std::to_string(kIdleClaims + 1000)}});
  }

 protected:
  static inline uint64_t fd_limit_ = 0;
};

TEST_F(IdleClaims, TenThousandWaitingClaimsStayCheapAndWakeCorrectly) {
  if (fd_limit_ < kIdleClaims + 1024) {
    GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << fd_limit_ << " is too low for " << kIdleClaims << " connections";
  }
  const std::string cmd = Cmd();
  const pid_t pid = codeq().pid();
  const int64_t rss_before = test::ResidentKb(pid);
  const int64_t sockets_before = test::OpenSocketCount(pid);
  const std::string request = HttpRequestText(
      "POST", "/v1/codeq/tasks/claim", {"Authorization: Bearer " + Worker()},
      json::serialize(json::object{{"commands", json::array{json::value(cmd)}}, {"waitSeconds", 30}}));

  const auto start = Clock::now();
  std::vector<std::unique_ptr<RawConnection>> claims;
  claims.reserve(kIdleClaims);
  for (int i = 0; i < kIdleClaims; ++i) {
    auto c = RawConnection::Connect("127.0.0.1", codeq().port(), milliseconds(10000));
    ASSERT_TRUE(c) << "connection " << i << " failed";
    ASSERT_TRUE(c->Send(request)) << "connection " << i;
    claims.push_back(std::move(c));
  }
  const int64_t open_ms = MsSince(start);
  // Wait until the server holds them all (a few sockets of before, e.g. the start-up health check,
  // may have closed meanwhile), then let it finish parsing and registering the claims.
  const int64_t target = sockets_before + kIdleClaims - 8;
  while (test::OpenSocketCount(pid) < target && MsSince(start) < 20000) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_GE(test::OpenSocketCount(pid), target) << "the server did not accept every connection";
  std::this_thread::sleep_for(milliseconds(1500));
  const int64_t rss_with = test::ResidentKb(pid);
  const int64_t held_ms = MsSince(start);
  std::printf("[limits] claims held after %lld ms\n", static_cast<long long>(held_ms));
  std::printf("[limits] %d idle claims opened in %lld ms; server RSS %lld KiB before, %lld KiB with them "
              "(+%.1f KiB per claim)\n",
              kIdleClaims, static_cast<long long>(open_ms), static_cast<long long>(rss_before),
              static_cast<long long>(rss_with), static_cast<double>(rss_with - rss_before) / kIdleClaims);
  EXPECT_LT(rss_with - rss_before, 400 * 1024) << "10k idle claims must not cost more than 400 MiB";
  ASSERT_LT(held_ms, 20000) << "too slow to test within the 30 s wait";
  // Nobody has been answered yet.
  int early = 0;
  for (auto& c : claims) {
    c->ReadSome(milliseconds(0));
    if (!c->Received().empty() || c->Closed()) ++early;
  }
  EXPECT_EQ(early, 0) << "waiting claims answered before any task existed";

  // Creates wake exactly as many waiters as there are tasks, each task to one claim.
  std::set<std::string> created;
  for (int i = 0; i < kWakeTasks; ++i) created.insert(JsonString(CreateTask(cmd, {{"payload", i}}), "id"));
  ASSERT_EQ(created.size(), static_cast<size_t>(kWakeTasks));
  std::vector<pollfd> polls(claims.size());
  for (size_t i = 0; i < claims.size(); ++i) polls[i] = pollfd{claims[i]->fd(), POLLIN, 0};
  std::set<std::string> delivered;
  int other = 0;
  const auto wake_start = Clock::now();
  while (delivered.size() + other < static_cast<size_t>(kWakeTasks) && MsSince(wake_start) < 8000) {
    if (::poll(polls.data(), polls.size(), 200) <= 0) continue;
    for (size_t i = 0; i < polls.size(); ++i) {
      if (polls[i].revents == 0 || polls[i].fd < 0) continue;
      polls[i].fd = -1;  // one answer per claim
      auto& c = *claims[i];
      c.ReadResponse(milliseconds(2000));
      if (c.ResponseStatus() == 200) {
        const std::string id = JsonString(test::ParseJson(c.ResponseBody()).value_or(nullptr), "id");
        EXPECT_TRUE(created.count(id)) << "woken with a task that was not created here: " << c.Received();
        EXPECT_TRUE(delivered.insert(id).second) << "task " << id << " delivered twice";
      } else {
        ++other;
        ADD_FAILURE() << "a waiting claim answered " << c.Received().substr(0, 300);
      }
    }
  }
  std::printf("[limits] %zu of %d tasks delivered to waiting claims in %lld ms (%lld ms after the first claim)\n",
              delivered.size(), kWakeTasks, static_cast<long long>(MsSince(wake_start)),
              static_cast<long long>(MsSince(start)));
  EXPECT_EQ(delivered, created);
  EXPECT_EQ(Get("/healthz", "").status, 200);
  claims.clear();
  auto stats = Get("/v1/codeq/admin/queues/" + cmd, Admin());
  EXPECT_EQ(JsonInt(stats.Json(), "inProgress"), kWakeTasks) << stats.Describe();
  EXPECT_EQ(JsonInt(stats.Json(), "ready"), 0) << stats.Describe();
}

}  // namespace
// A low open-file limit caps the connections below it, keeping descriptors for the store: idle
// connections beyond the cap get 503 instead of taking the descriptors the embedded store needs
// for its next WAL file (a break test had the server stop with "Too many open files" there).
TEST(HttpFileLimit, ConnectionsAreCappedBelowTheOpenFileLimit) {
  char dir_template[] = "/tmp/codeq-nofile-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string wrapper = std::string(dir_template) + "/codeq";
  {
    std::FILE* f = std::fopen(wrapper.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fprintf(f, "#!/bin/sh\nexec prlimit --nofile=200:200 '%s' \"$@\"\n", test::DefaultCodeqBinary().c_str());
    std::fclose(f);
    ASSERT_EQ(::chmod(wrapper.c_str(), 0755), 0);
  }
  test::CodeqServerOptions o;
  o.binary = wrapper;
  o.store_url = "embedded";
  test::CodeqServer server(o);
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  EXPECT_NE(server.Log().find("leaves room for"), std::string::npos) << server.Log();
  {
    // Under a low limit the store keeps a bounded set of SST files open (a quarter of the limit),
    // not every file of a database that may grow: RocksDB prints its options in its LOG.
    std::ifstream log(server.data_dir() + "/db/LOG");
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("Options.max_open_files: 50\n"), std::string::npos)
        << "RocksDB LOG has no bounded max_open_files";
  }

  // The first connection is accepted well under the cap; it sends nothing until the end.
  auto first = RawConnection::Connect("127.0.0.1", server.port());
  ASSERT_TRUE(first);
  std::vector<std::unique_ptr<RawConnection>> held;
  int served = 0, refused = 0;
  for (int i = 0; i < 189; ++i) {
    auto c = RawConnection::Connect("127.0.0.1", server.port());
    ASSERT_TRUE(c) << "connection " << i;
    ASSERT_TRUE(c->Send(HttpRequestText("GET", "/healthz", {})));
    ASSERT_TRUE(c->ReadResponse(milliseconds(5000))) << "connection " << i << ": '" << c->Received() << "'";
    if (c->ResponseStatus() == 200) {
      ++served;
      held.push_back(std::move(c));  // stays open (keep-alive) and counted
    } else {
      EXPECT_EQ(c->ResponseStatus(), 503) << c->Received();
      EXPECT_NE(c->ResponseBody().find("too many connections"), std::string::npos) << c->Received();
      ++refused;
    }
  }
  EXPECT_GT(served, 0);
  EXPECT_GT(refused, 0) << "190 connections under a limit of 200 descriptors: some must be refused";
  EXPECT_LE(served, 100) << "at least half of the free descriptors stay in reserve";
  // A connection held all along still works, writes included, and the server is up.
  const std::string body = R"({"command":"nofile","payload":{"n":1}})";
  ASSERT_TRUE(first->Send(HttpRequestText("POST", "/v1/codeq/tasks",
                                          {"Authorization: Bearer " + server.producer_token(),
                                           "Content-Type: application/json"},
                                          body)));
  ASSERT_TRUE(first->ReadResponse(milliseconds(5000))) << first->Received();
  EXPECT_EQ(first->ResponseStatus(), 202) << first->Received();
  EXPECT_TRUE(server.Running()) << server.LogTail();
  held.clear();
  first.reset();
  server.Stop();
  std::remove(wrapper.c_str());
  ::rmdir(dir_template);
}


// Bytes free on the filesystem of `path` (as the store reads it).
static uint64_t FreeBytes(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_frsize);
}

// The embedded store's free-space guard over HTTP (minFreeDiskBytes): with less free than it, a
// create is 503 store unavailable with Retry-After while claims go on; with less than half of it,
// claims are refused too; reads and /healthz are served throughout, and the log says why.
TEST(HttpDiskGuard, LowFreeSpaceRefusesWritesWith503AndKeepsServing) {
  struct Level {
    const char* name;
    double reserve_factor;  // minFreeDiskBytes = free space × this
    int claim_status;
    const char* logged;
  };
  const Level levels[] = {{"new tasks refused", 1.5, 204, "refusing new tasks"},
                          {"every change refused", 4.0, 503, "refusing every change but cleanup"}};
  for (const Level& level : levels) {
    SCOPED_TRACE(level.name);
    test::CodeqServerOptions o;
    o.store_url = "embedded";
    test::CodeqServer probe(o);  // only for its temp dir's filesystem
    const uint64_t free = FreeBytes(probe.dir());
    ASSERT_GT(free, uint64_t{64} << 20) << "the test needs some free space";
    o.env = {{"MIN_FREE_DISK_BYTES", std::to_string(static_cast<uint64_t>(static_cast<double>(free) * level.reserve_factor))}};
    test::CodeqServer server(o);
    std::string error;
    ASSERT_TRUE(server.Start(&error)) << error;
    HttpClient c("127.0.0.1", server.port());
    const HttpHeaders producer = {{"Authorization", "Bearer " + server.producer_token()}};
    auto r = c.Request("POST", "/v1/codeq/tasks", producer, R"({"command":"disk","payload":{}})");
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(r.body, R"({"error":"store unavailable"})");
    EXPECT_EQ(r.Header("Retry-After").value_or(""), "1");
    r = c.Request("POST", "/v1/codeq/tasks/batch", producer, R"({"tasks":[{"command":"disk","payload":{}}]})");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find(R"({"status":503,"error":"store unavailable"})"), std::string::npos) << r.body;
    r = c.Request("POST", "/v1/codeq/tasks/claim", {{"Authorization", "Bearer " + server.worker_token()}},
                  R"({"commands":["disk"]})");
    EXPECT_EQ(r.status, level.claim_status) << r.body;
    EXPECT_EQ(c.Request("GET", "/healthz").status, 200);
    r = c.Request("GET", "/v1/codeq/admin/queues/disk", {{"Authorization", "Bearer " + server.admin_token()}});
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(server.Log().find(level.logged), std::string::npos) << server.LogTail();
    EXPECT_TRUE(server.Running());
  }
}

}  // namespace codeq::it

