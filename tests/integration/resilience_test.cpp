// Store failures seen over HTTP: script cache loss, Redis down, Redis restarted, Redis frozen
// (D8, D19; ARCHITECTURE "EVALSHA, reloaded on NOSCRIPT"; redis_options.h timeouts: connect 1 s,
// command 2 s). The suite owns its redis-server and stops/freezes it.
#include <signal.h>

#include <future>
#include <thread>

#include "integration/it_fixture.h"

namespace codeq::it {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class Resilience : public IntegrationTest {
 protected:
  void TearDown() override {
    // Whatever happened, leave Redis running and thawed for the next test.
    if (redis_) {
      redis_->Resume();
      if (!redis_->Running()) {
        EXPECT_TRUE(redis_->Start()) << redis_->Log();
      }
    }
    IntegrationTest::TearDown();
  }

  static HttpResponse CreateWithTimeout(const std::string& cmd, milliseconds timeout) {
    return Call("POST", "/v1/codeq/tasks", Producer(), json::serialize(json::object{{"command", cmd}, {"payload", 1}}),
                {}, timeout);
  }

  static void ExpectUnavailable(const HttpResponse& r, const std::string& what) {
    EXPECT_EQ(r.status, 503) << what << " -> " << r.Describe();
    EXPECT_EQ(r.Json(), json::parse(R"({"error":"store unavailable"})")) << what << " -> " << r.Describe();
    EXPECT_EQ(r.Header("Retry-After").value_or(""), "1") << what;
  }

  /// Retries `create` until it is 202 or `budget` passes; returns the time it took (ms) or -1.
  static int64_t WaitForCreate(const std::string& cmd, milliseconds budget) {
    auto start = Clock::now();
    while (Clock::now() - start < budget) {
      auto r = CreateWithTimeout(cmd, milliseconds(5000));
      EXPECT_NE(r.status, 500) << r.Describe();
      if (r.status == 202) return MsSince(start);
      std::this_thread::sleep_for(milliseconds(100));
    }
    return -1;
  }

  /// The whole life cycle works: create, claim, heartbeat, result.
  static void ExpectWorkingLifecycle(const std::string& cmd) {
    auto t = CreateTask(cmd, {{"payload", json::object{{"check", cmd}}}});
    const std::string id = JsonString(t, "id");
    auto c = ClaimRaw(Worker(), {cmd});
    ASSERT_EQ(c.status, 200) << c.Describe();
    EXPECT_EQ(JsonString(c.Json(), "id"), id) << "replies must belong to their own requests";
    EXPECT_EQ(JsonString(c.Json(), "payload"), json::serialize(json::object{{"check", cmd}}));
    auto hb = Post(TaskPath(id, "heartbeat"), Worker(), json::object{});
    EXPECT_EQ(hb.status, 200) << hb.Describe();
    auto r = Post(TaskPath(id, "result"), Worker(), json::object{{"status", "COMPLETED"}, {"result", json::object{}}});
    EXPECT_EQ(r.status, 200) << r.Describe();
    EXPECT_EQ(JsonString(GetTask(id).Json(), "status"), "COMPLETED");
  }
};

TEST_F(Resilience, ScriptFlushIsSurvived) {
  if (EmbeddedBackend()) GTEST_SKIP() << "exercises the Redis backend itself";
  const std::string cmd = Cmd();
  ExpectWorkingLifecycle(cmd);  // scripts are loaded now
  CreateTask(cmd);
  auto flushed = redis().Call({"SCRIPT", "FLUSH"});
  ASSERT_TRUE(flushed && !flushed->is_error());
  // Every kind of script-backed operation reloads on NOSCRIPT.
  auto t = CreateTask(cmd, {{"payload", "after-flush"}});
  EXPECT_FALSE(JsonString(t, "id").empty());
  auto c = ClaimRaw(Worker(), {cmd});
  ASSERT_EQ(c.status, 200) << c.Describe();
  const std::string id = JsonString(c.Json(), "id");
  redis().Call({"SCRIPT", "FLUSH"});
  EXPECT_EQ(Post(TaskPath(id, "heartbeat"), Worker(), json::object{}).status, 200);
  redis().Call({"SCRIPT", "FLUSH"});
  auto n = Post(TaskPath(id, "nack"), Worker(), json::object{{"delaySeconds", 1}});
  EXPECT_EQ(n.status, 200) << n.Describe();
  redis().Call({"SCRIPT", "FLUSH"});
  auto c2 = ClaimRaw(Worker(), {cmd}, 0, 4);
  ASSERT_EQ(c2.status, 200) << c2.Describe();
  redis().Call({"SCRIPT", "FLUSH"});
  auto r = Post(TaskPath(JsonString(c2.Json(), "id"), "result"), Worker(),
                json::object{{"status", "COMPLETED"}, {"result", json::object{}}});
  EXPECT_EQ(r.status, 200) << r.Describe();
  redis().Call({"SCRIPT", "FLUSH"});
  auto a = ClaimOne(cmd, "", 0, 4);  // the nacked task, after its 1 s delay
  redis().Call({"SCRIPT", "FLUSH"});
  EXPECT_EQ(Post(TaskPath(JsonString(a, "id"), "abandon"), Worker(), json::object{}).status, 200);
}

TEST_F(Resilience, RedisDownGives503AndRecoversAfterRestart) {
  if (EmbeddedBackend()) GTEST_SKIP() << "exercises the Redis backend itself";
  const std::string cmd = Cmd();
  ExpectWorkingLifecycle(cmd);
  auto before = CreateTask(cmd);

  // A long-poll claim in flight when Redis goes away must end, not hang.
  const int port = codeq().port();
  const std::string worker = Worker();
  auto waiting = std::async(std::launch::async, [&] {
    HttpClient c("127.0.0.1", port);
    return c.Request("POST", "/v1/codeq/tasks/claim", Auth(worker),
                     json::serialize(json::object{{"commands", json::array{json::value(cmd + "_idle")}}, {"waitSeconds", 6}}),
                     milliseconds(15000));
  });
  std::this_thread::sleep_for(milliseconds(300));

  redis().Stop();
  ASSERT_FALSE(redis().Running());

  auto r = CreateWithTimeout(cmd, milliseconds(10000));
  ExpectUnavailable(r, "create while down");
  EXPECT_LT(r.elapsed.count(), 3000) << "create took " << r.elapsed.count() << " ms";

  // /healthz turns 503 within 3 s.
  auto start = Clock::now();
  HttpResponse h;
  do {
    h = Call("GET", "/healthz", "", "", {}, milliseconds(5000));
    if (h.status == 503) break;
    std::this_thread::sleep_for(milliseconds(100));
  } while (Clock::now() - start < milliseconds(3000));
  EXPECT_EQ(h.status, 503) << h.Describe();
  EXPECT_EQ(h.Json(), json::parse(R"({"status":"unavailable"})")) << h.Describe();
  EXPECT_LT(MsSince(start), 3000);

  // Every store-backed endpoint answers 503 quickly, never 500.
  const std::string id = JsonString(before, "id");
  std::vector<std::pair<std::string, HttpResponse>> calls;
  calls.emplace_back("claim", ClaimRaw(Worker(), {cmd}));
  calls.emplace_back("long-poll claim", ClaimRaw(Worker(), {cmd}, 0, 3));
  calls.emplace_back("get task", GetTask(id));
  calls.emplace_back("get result", Get(TaskPath(id, "result"), Producer()));
  calls.emplace_back("heartbeat", Post(TaskPath(id, "heartbeat"), Worker(), json::object{}));
  calls.emplace_back("nack", Post(TaskPath(id, "nack"), Worker(), json::object{}));
  calls.emplace_back("abandon", Post(TaskPath(id, "abandon"), Worker(), json::object{}));
  calls.emplace_back("result", Post(TaskPath(id, "result"), Worker(), json::object{{"status", "FAILED"}, {"error", "x"}}));
  calls.emplace_back("admin stats", Get("/v1/codeq/admin/queues/" + cmd, Admin()));
  calls.emplace_back("admin overview", Get("/v1/codeq/admin/queues", Admin()));
  calls.emplace_back("cleanup", Post("/v1/codeq/admin/tasks/cleanup", Admin(), json::object{}));
  for (const auto& [what, resp] : calls) {
    ExpectUnavailable(resp, what);
    EXPECT_LT(resp.elapsed.count(), 3500) << what << " took " << resp.elapsed.count() << " ms";
  }
  // Clients only see "store unavailable"; the log says why (connection refused), at most once per
  // 10 s however many calls failed.
  const std::string warning = "Redis at 127.0.0.1:" + std::to_string(redis().port()) + " unavailable: connect";
  const std::string log = codeq().Log();
  EXPECT_NE(log.find(warning), std::string::npos) << codeq().LogTail();
  size_t warnings = 0;
  for (size_t at = log.find(warning); at != std::string::npos; at = log.find(warning, at + 1)) ++warnings;
  EXPECT_LE(warnings, 2u) << "one warning per 10 s, not one per failed call";
  // Client errors are still client errors (auth and validation do not need the store).
  EXPECT_EQ(Post("/v1/codeq/tasks", "", json::object{}).status, 401);
  EXPECT_EQ(Post("/v1/codeq/tasks", Producer(), json::object{{"command", "a b"}, {"payload", 1}}).status, 400);
  // /metrics still answers.
  EXPECT_EQ(Call("GET", "/metrics", "", "", {}, milliseconds(5000)).status, 200);

  auto in_flight = waiting.get();
  EXPECT_TRUE(in_flight.status == 503 || in_flight.status == 204) << in_flight.Describe();
  EXPECT_LT(in_flight.elapsed.count(), 3000) << "long poll did not end soon after the outage";

  // Same port, same codeq process: service resumes by itself.
  ASSERT_TRUE(redis().Start()) << redis().Log();
  int64_t took = WaitForCreate(cmd, milliseconds(8000));
  ASSERT_GE(took, 0) << "create did not recover within 8 s of the restart";
  EXPECT_LT(took, 5000) << "recovery took " << took << " ms";
  EXPECT_EQ(Call("GET", "/healthz", "", "", {}, milliseconds(5000)).status, 200);
  ExpectWorkingLifecycle(cmd + "_after");
  EXPECT_TRUE(codeq().Running()) << "codeq must not have been restarted";
}

TEST_F(Resilience, FrozenRedisGives503WithinCommandTimeout) {
  if (EmbeddedBackend()) GTEST_SKIP() << "exercises the Redis backend itself";
  const std::string cmd = Cmd();
  ExpectWorkingLifecycle(cmd);
  ASSERT_TRUE(redis().Pause());

  auto r = CreateWithTimeout(cmd, milliseconds(15000));
  ExpectUnavailable(r, "create while frozen");
  EXPECT_LT(r.elapsed.count(), 3000) << "create took " << r.elapsed.count() << " ms (command timeout is 2 s)";

  auto h = Call("GET", "/healthz", "", "", {}, milliseconds(15000));
  EXPECT_EQ(h.status, 503) << h.Describe();
  EXPECT_LT(h.elapsed.count(), 3000) << "healthz took " << h.elapsed.count() << " ms";

  auto c = ClaimRaw(Worker(), {cmd});
  ExpectUnavailable(c, "claim while frozen");
  EXPECT_LT(c.elapsed.count(), 3000) << "claim took " << c.elapsed.count() << " ms";

  ASSERT_TRUE(redis().Resume());
  int64_t took = WaitForCreate(cmd, milliseconds(8000));
  ASSERT_GE(took, 0) << "create did not recover within 8 s of SIGCONT";
  EXPECT_LT(took, 5000) << "recovery took " << took << " ms";
  // No stale replies from the frozen period leak into new requests.
  for (int i = 0; i < 3; ++i) ExpectWorkingLifecycle(cmd + "_after" + std::to_string(i));
}

TEST_F(Resilience, ParallelRequestsDuringOutageAllAnswer) {
  if (EmbeddedBackend()) GTEST_SKIP() << "exercises the Redis backend itself";
  const std::string cmd = Cmd();
  ExpectWorkingLifecycle(cmd);
  ASSERT_TRUE(redis().Pause());
  // More concurrent requests than the store's pool has connections: all answer, none hang.
  const int port = codeq().port();
  const std::string producer = Producer();
  std::vector<std::future<HttpResponse>> futures;
  for (int i = 0; i < 16; ++i) {
    futures.push_back(std::async(std::launch::async, [&, i] {
      HttpClient c("127.0.0.1", port);
      return c.Request("POST", "/v1/codeq/tasks", Auth(producer),
                       json::serialize(json::object{{"command", cmd}, {"payload", i}}), milliseconds(20000));
    }));
  }
  for (auto& f : futures) {
    auto r = f.get();
    EXPECT_EQ(r.status, 503) << r.Describe();
    EXPECT_LT(r.elapsed.count(), 9000) << "took " << r.elapsed.count() << " ms";
  }
  ASSERT_TRUE(redis().Resume());
  ASSERT_GE(WaitForCreate(cmd, milliseconds(8000)), 0);
  ExpectWorkingLifecycle(cmd + "_after");
}

}  // namespace
}  // namespace codeq::it
