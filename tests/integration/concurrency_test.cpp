// Parallel claims over HTTP: every task is delivered exactly once (SPEC §4.5, D3).
#include <atomic>
#include <future>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "integration/it_fixture.h"

namespace codeq::it {
namespace {

class Concurrency : public IntegrationTest {};

TEST_F(Concurrency, ParallelClaimersGetEveryTaskExactlyOnce) {
  const std::string cmd = Cmd();
  constexpr int kTasks = 200;
  constexpr int kThreads = 8;
  std::set<std::string> created;
  {
    auto client = codeq().NewClient(true);
    for (int i = 0; i < kTasks; ++i) {
      auto r = client->Request(
          "POST", "/v1/codeq/tasks", Auth(Producer()),
          json::serialize(json::object{{"command", cmd}, {"payload", json::object{{"i", i}}}, {"priority", i % 10}}));
      ASSERT_EQ(r.status, 202) << r.Describe();
      created.insert(JsonString(r.Json(), "id"));
    }
  }
  ASSERT_EQ(created.size(), static_cast<size_t>(kTasks));

  std::mutex mu;
  std::map<std::string, int> seen;  // id -> times claimed
  std::vector<std::string> errors;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  const int port = codeq().port();
  for (int t = 0; t < kThreads; ++t) {
    // Distinct subjects, like distinct worker processes.
    const std::string token = WorkerAs("conc-worker-" + std::to_string(t));
    threads.emplace_back([&, token] {
      HttpClient client("127.0.0.1", port, true);
      const std::string body =
          json::serialize(json::object{{"commands", json::array{json::value(cmd)}}, {"leaseSeconds", 120}});
      start.arrive_and_wait();
      for (;;) {
        auto r = client.Request("POST", "/v1/codeq/tasks/claim", Auth(token), body);
        if (r.status == 204) break;
        std::lock_guard<std::mutex> lock(mu);
        if (r.status != 200) {
          errors.push_back(r.Describe());
          break;
        }
        seen[JsonString(r.Json(), "id")]++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE(errors.empty()) << errors.front();
  std::vector<std::string> duplicates, missing, unknown;
  for (const auto& [id, n] : seen) {
    if (n != 1) duplicates.push_back(id + " x" + std::to_string(n));
    if (!created.count(id)) unknown.push_back(id);
  }
  for (const auto& id : created) {
    if (!seen.count(id)) missing.push_back(id);
  }
  EXPECT_TRUE(duplicates.empty()) << duplicates.size() << " duplicated, e.g. " << duplicates.front();
  EXPECT_TRUE(missing.empty()) << missing.size() << " never claimed, e.g. " << missing.front();
  EXPECT_TRUE(unknown.empty()) << unknown.size() << " unknown ids claimed";
  EXPECT_EQ(seen.size(), static_cast<size_t>(kTasks));

  auto stats = Get("/v1/codeq/admin/queues/" + cmd, Admin());
  EXPECT_EQ(stats.Json(),
            json::parse(R"({"command":")" + cmd + R"(","ready":0,"delayed":0,"inProgress":200,"dlq":0})"));
}

TEST_F(Concurrency, ParallelCreatesAndClaimsInterleaved) {
  // Producers and consumers at the same time; consumers stop once everything was seen.
  const std::string cmd = Cmd();
  constexpr int kProducers = 4, kPerProducer = 25, kConsumers = 4;
  constexpr int kTotal = kProducers * kPerProducer;
  std::mutex mu;
  std::map<std::string, int> seen;
  std::set<std::string> created;
  std::atomic<int> claimed{0};
  std::atomic<bool> producer_failed{false};
  const int port = codeq().port();
  const std::string producer = Producer();
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      HttpClient client("127.0.0.1", port, true);
      for (int i = 0; i < kPerProducer; ++i) {
        auto r = client.Request("POST", "/v1/codeq/tasks", Auth(producer),
                                json::serialize(json::object{{"command", cmd}, {"payload", p * 1000 + i}}));
        if (r.status != 202) {
          producer_failed = true;
          return;
        }
        std::lock_guard<std::mutex> lock(mu);
        created.insert(JsonString(r.Json(), "id"));
      }
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    const std::string token = WorkerAs("inter-worker-" + std::to_string(c));
    threads.emplace_back([&, token] {
      HttpClient client("127.0.0.1", port, true);
      const std::string body = json::serialize(
          json::object{{"commands", json::array{json::value(cmd)}}, {"leaseSeconds", 120}, {"waitSeconds", 1}});
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (claimed.load() < kTotal && !producer_failed && std::chrono::steady_clock::now() < deadline) {
        auto r = client.Request("POST", "/v1/codeq/tasks/claim", Auth(token), body);
        if (r.status != 200) continue;
        claimed++;
        std::lock_guard<std::mutex> lock(mu);
        seen[JsonString(r.Json(), "id")]++;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_FALSE(producer_failed);
  EXPECT_EQ(created.size(), static_cast<size_t>(kTotal));
  EXPECT_EQ(seen.size(), static_cast<size_t>(kTotal));
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
  for (const auto& id : created) EXPECT_TRUE(seen.count(id)) << "never claimed: " << id;
}

TEST_F(Concurrency, WaitingClaimersEachGetOneTask) {
  const std::string cmd = Cmd();
  constexpr int kWaiters = 6;
  const int port = codeq().port();
  const std::string worker = Worker();
  std::vector<std::future<HttpResponse>> waiting;
  for (int i = 0; i < kWaiters; ++i) {
    waiting.push_back(std::async(std::launch::async, [&] {
      HttpClient c("127.0.0.1", port);
      return c.Request("POST", "/v1/codeq/tasks/claim", Auth(worker),
                       json::serialize(json::object{{"commands", json::array{json::value(cmd)}}, {"waitSeconds", 8}}));
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto start = std::chrono::steady_clock::now();
  std::set<std::string> created;
  for (int i = 0; i < kWaiters; ++i) created.insert(JsonString(CreateTask(cmd, {{"payload", i}}), "id"));
  std::set<std::string> got;
  for (auto& f : waiting) {
    auto r = f.get();
    ASSERT_EQ(r.status, 200) << r.Describe();
    got.insert(JsonString(r.Json(), "id"));
  }
  EXPECT_EQ(got, created) << "each waiter got a different task";
  EXPECT_LT(MsSince(start), 2500) << "waiters were not woken promptly";
}

}  // namespace
}  // namespace codeq::it
