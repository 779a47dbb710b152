// Graceful shutdown of `codeq serve` (SPEC §8.4): SIGTERM answers waiting long-poll claims with
// 204, stops accepting connections, lets requests in flight finish and be answered, flushes the
// embedded store (acknowledged work is there after a restart, even with durability=async) and
// exits 0 within the 10 s budget. Runs in its own environment.
#include <signal.h>

#include <future>
#include <set>
#include <thread>

#include "integration/it_fixture.h"
#include "support/raw_connection.h"

namespace codeq::it {
namespace {

class Shutdown : public IntegrationTest {
 public:
  // async: acknowledged writes are not fsynced one by one, so only a real flush at shutdown keeps
  // them (the embedded store; Redis ignores the setting).
  static void SetUpTestSuite() { StartEnvironment({{"DURABILITY", "async"}}); }

 protected:
  void TearDown() override {
    if (redis_) redis_->Resume();
    IntegrationTest::TearDown();
  }
};

TEST_F(Shutdown, SigtermAnswersWaitingClaimsAndExitsZero) {
  const std::string cmd = Cmd();
  const int port = codeq().port();
  const std::string worker = Worker();
  std::vector<std::future<HttpResponse>> waiting;
  for (int i = 0; i < 3; ++i) {
    waiting.push_back(std::async(std::launch::async, [&] {
      HttpClient c("127.0.0.1", port);
      return c.Request("POST", "/v1/codeq/tasks/claim", Auth(worker),
                       json::serialize(json::object{{"commands", json::array{json::value(cmd)}}, {"waitSeconds", 25}}),
                       std::chrono::milliseconds(30000));
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto start = std::chrono::steady_clock::now();
  auto status = codeq().Stop(std::chrono::seconds(15));
  auto stop_ms = MsSince(start);
  ASSERT_TRUE(status.has_value()) << "codeq was not running";
  EXPECT_EQ(*status, 0) << "exit status after SIGTERM\n" << codeq().LogTail(2000);
  EXPECT_LT(stop_ms, 10500) << "shutdown exceeded its 10 s budget";
  for (auto& f : waiting) {
    auto r = f.get();
    EXPECT_EQ(r.status, 204) << "a waiting claim at shutdown -> " << r.Describe();
    EXPECT_LT(r.elapsed.count(), 10000) << "the claim waited for its full window";
  }
  // Restart for the suite's teardown (same data dir and key).
  std::string error;
  ASSERT_TRUE(codeq().Start(&error)) << error;
  EXPECT_EQ(Get("/healthz", "").status, 200);
}

TEST_F(Shutdown, SigtermKeepsAcknowledgedWork) {
  const std::string cmd = Cmd();
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(JsonString(CreateTask(cmd, {{"payload", i}}), "id"));
  std::set<std::string> completed, claimed;
  for (int i = 0; i < 10; ++i) {
    const std::string id = JsonString(ClaimOne(cmd, "", 600), "id");
    if (i < 6) {
      auto r = Post(TaskPath(id, "result"), Worker(), json::object{{"status", "COMPLETED"}, {"result", json::object{{"i", i}}}});
      ASSERT_EQ(r.status, 200) << r.Describe();
      completed.insert(id);
    } else {
      claimed.insert(id);
    }
  }
  auto status = codeq().Stop(std::chrono::seconds(15));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << codeq().LogTail(2000);
  std::string error;
  ASSERT_TRUE(codeq().Start(&error)) << error;
  for (const auto& id : ids) {
    auto r = GetTask(id);
    ASSERT_EQ(r.status, 200) << "acknowledged task lost at shutdown: " << r.Describe();
    const std::string want = completed.count(id) ? "COMPLETED" : claimed.count(id) ? "IN_PROGRESS" : "PENDING";
    EXPECT_EQ(JsonString(r.Json(), "status"), want) << r.body;
  }
  for (const auto& id : completed) EXPECT_EQ(Get(TaskPath(id, "result"), Producer()).status, 200) << id;
  auto stats = Get("/v1/codeq/admin/queues/" + cmd, Admin());
  EXPECT_EQ(JsonInt(stats.Json(), "ready"), 30) << stats.Describe();
  EXPECT_EQ(JsonInt(stats.Json(), "inProgress"), 4) << stats.Describe();
}

TEST_F(Shutdown, SigtermStopsAcceptingAndAnswersRequestsInFlight) {
  if (EmbeddedBackend()) GTEST_SKIP() << "holds a request in flight by freezing Redis";
  const std::string cmd = Cmd();
  CreateTask(cmd);  // scripts loaded, connections warm
  ASSERT_TRUE(redis().Pause());
  // A create stuck in the store (up to the 2 s command timeout) when SIGTERM arrives.
  const int port = codeq().port();
  const std::string producer = Producer();
  auto in_flight = std::async(std::launch::async, [&] {
    HttpClient c("127.0.0.1", port, false, std::chrono::seconds(15));
    return c.Request("POST", "/v1/codeq/tasks", Auth(producer),
                     json::serialize(json::object{{"command", cmd}, {"payload", 1}}));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_TRUE(codeq().Signal(SIGTERM));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // New connections are refused while the request in flight is still being served.
  EXPECT_TRUE(codeq().Running()) << "exited before its request in flight was answered";
  auto late = test::RawConnection::Connect("127.0.0.1", port, std::chrono::milliseconds(1000));
  EXPECT_EQ(late, nullptr) << "a connection was accepted after SIGTERM";
  auto r = in_flight.get();
  EXPECT_EQ(r.status, 503) << "the request in flight must get its answer -> " << r.Describe();
  ASSERT_TRUE(redis().Resume());
  auto status = codeq().WaitExit(std::chrono::seconds(15));
  ASSERT_TRUE(status.has_value()) << "the server did not exit by itself";
  EXPECT_EQ(*status, 0) << codeq().LogTail(2000);
  std::string error;
  ASSERT_TRUE(codeq().Start(&error)) << error;
}

// A request whose headers arrived but whose body is still coming in when SIGTERM arrives is in
// flight too: the server waits for the body, answers, then exits (both stores).
TEST_F(Shutdown, SigtermWaitsForABodyStillArriving) {
  const std::string cmd = Cmd();
  const std::string body = json::serialize(json::object{{"command", cmd}, {"payload", "slow"}});
  auto conn = test::RawConnection::Connect("127.0.0.1", codeq().port());
  ASSERT_TRUE(conn);
  std::string request = test::HttpRequestText(
      "POST", "/v1/codeq/tasks", {"Authorization: Bearer " + Producer(), "Content-Type: application/json"}, body);
  const size_t split = request.size() - 5;  // headers and most of the body now, the rest later
  ASSERT_TRUE(conn->Send(request.substr(0, split)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(codeq().Signal(SIGTERM));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(codeq().Running()) << "exited while a request body was still arriving";
  ASSERT_TRUE(conn->Send(request.substr(split)));
  ASSERT_TRUE(conn->ReadResponse(std::chrono::seconds(5))) << conn->Received();
  EXPECT_EQ(conn->ResponseStatus(), 202) << conn->Received();
  auto status = codeq().WaitExit(std::chrono::seconds(15));
  ASSERT_TRUE(status.has_value()) << "the server did not exit by itself";
  EXPECT_EQ(*status, 0) << codeq().LogTail(2000);
  std::string error;
  ASSERT_TRUE(codeq().Start(&error)) << error;
  // The acknowledged task is there after the restart.
  auto again = ClaimOne(cmd);
  EXPECT_EQ(JsonString(again, "payload"), "\"slow\"") << json::serialize(again);  // payload: JSON text
}

}  // namespace
}  // namespace codeq::it
