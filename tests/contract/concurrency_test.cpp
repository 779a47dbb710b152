// Contract: concurrent claims never hand out a task twice; concurrent idempotent creates make one
// task (SPEC D3, §2.3.2).
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "contract_fixture.h"

namespace codeq::contract {
namespace {

TEST_P(StoreContract, ConcurrentClaimsNeverDeliverATaskTwice) {
  constexpr int kTasks = 200;
  constexpr int kThreads = 8;
  std::set<std::string> created;
  for (int i = 0; i < kTasks; ++i) created.insert(Create(i % 2 ? "conc-a" : "conc-b", "", i % 10).id);

  std::mutex mu;
  std::multiset<std::string> claimed;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      const std::string worker = "worker-" + std::to_string(w);
      for (;;) {
        ClaimInput in;
        in.worker_id = worker;
        in.commands = {"conc-a", "conc-b"};
        in.lease_seconds = 60;
        in.now = RealNow();
        auto r = Await(store().ClaimTask(in));
        if (!r.ok()) {
          ++errors;
          return;
        }
        if (!r->has_value()) return;
        std::lock_guard<std::mutex> lock(mu);
        claimed.insert((*r)->id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kTasks));
  std::set<std::string> unique(claimed.begin(), claimed.end());
  EXPECT_EQ(unique.size(), claimed.size()) << "a task was delivered twice";
  EXPECT_EQ(unique, created);
}

TEST_P(StoreContract, ConcurrentCreatesWithOneIdempotencyKeyMakeOneTask) {
  constexpr int kCreates = 20;
  std::mutex mu;
  std::vector<CreateOutcome> outcomes;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kCreates; ++i) {
    threads.emplace_back([&] {
      CreateTaskInput in;
      in.task = MakeTask("idem-race", "acme");
      in.idempotency_key = "same-key";
      in.now = RealNow();
      in.visible_at_sec = in.now.seconds();
      auto r = Await(store().CreateTask(in));
      if (!r.ok()) {
        ++errors;
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      outcomes.push_back(*r);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  ASSERT_EQ(outcomes.size(), static_cast<size_t>(kCreates));
  int fresh = 0;
  std::set<std::string> ids;
  for (const auto& o : outcomes) {
    fresh += o.replayed ? 0 : 1;
    ids.insert(o.task.id);
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(ids.size(), 1u);
  auto s = Await(store().Stats("acme", "idem-race"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ready, 1);
}

}  // namespace
}  // namespace codeq::contract
