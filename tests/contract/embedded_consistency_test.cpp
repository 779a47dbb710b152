// Embedded-only: idempotency keys expire with the injected time, cleanup never deletes a key that
// a newer task took over, and random concurrent work leaves indexes that recovery rebuilds
// exactly (and that pass its cross-checks).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "contract_fixture.h"
#include "embedded_test_util.h"

namespace codeq::contract {
namespace {

constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kDay = 86'400'000;

std::shared_ptr<EmbeddedStore> OpenStore(const std::string& dir) {
  EmbeddedOptions o;
  o.data_dir = dir;
  o.timer_interval_ms = 0;
  auto s = EmbeddedStore::Open(o);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? *s : nullptr;
}

Result<CreateOutcome> CreateWithKey(Store& s, const std::string& key, int64_t now_ms) {
  CreateTaskInput in;
  in.task.id = NewId();
  in.task.command = "idem";
  in.task.payload = "{}";
  in.task.status = "PENDING";
  in.task.created_at = in.task.updated_at = FormatTimestamp(now_ms);
  in.idempotency_key = key;
  in.now = At(now_ms);
  in.visible_at_sec = now_ms / 1000;
  return Await(s.CreateTask(in));
}

TEST(EmbeddedConsistencyTest, IdempotencyKeyExpiresAfter24HoursAndCleanupSparesItsNewOwner) {
  TempDir dir;
  auto s = OpenStore(dir.path());
  ASSERT_TRUE(s);
  auto first = CreateWithKey(*s, "k", kT0);
  ASSERT_TRUE(first.ok());
  auto replay = CreateWithKey(*s, "k", kT0 + kDay - 1);
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->task.id, first->task.id);

  auto second = CreateWithKey(*s, "k", kT0 + kDay);  // the key expired: a new task takes it
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->replayed);
  EXPECT_NE(second->task.id, first->task.id);

  // Cleaning up the first task (its retention passed) must not delete the key it no longer owns.
  CleanupInput c;
  c.before_sec = (kT0 + kDay) / 1000;
  c.include_active = true;
  c.now = At(kT0 + kDay);
  auto n = Await(s->Cleanup(c));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  auto again = CreateWithKey(*s, "k", kT0 + kDay + 1000);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->task.id, second->task.id);
}

TEST(EmbeddedConsistencyTest, RandomConcurrentWorkIsRebuiltExactlyOnReopen) {
  TempDir dir;
  const std::vector<std::string> tenants = {"", "acme"};
  const std::vector<std::string> commands = {"a", "B", "c"};
  std::map<std::pair<std::string, std::string>, QueueStats> before;
  {
    auto s = OpenStore(dir.path());
    ASSERT_TRUE(s);
    std::atomic<int> errors{0};
    // Races between threads (a repair requeues another thread's expired lease) legitimately give
    // not-owner / not-in-progress; anything else is a failure.
    auto failed = [](const Status& st) {
      return !st.ok() && st.code() != StatusCode::kForbidden && st.code() != StatusCode::kConflict;
    };
    std::vector<std::thread> threads;
    for (int w = 0; w < 6; ++w) {
      threads.emplace_back([&, w] {
        std::mt19937 rng(1234 + w);
        const std::string worker = "w" + std::to_string(w % 3);
        for (int i = 0; i < 300; ++i) {
          const std::string tenant = tenants[rng() % tenants.size()];
          const std::string cmd = commands[rng() % commands.size()];
          const int64_t now_ms = kT0 + i * 100;
          int op = static_cast<int>(rng() % 10);
          if (op < 4) {
            CreateTaskInput in;
            in.task.id = NewId();
            in.task.command = cmd;
            in.task.payload = R"({"i":1})";
            in.task.priority = static_cast<int>(rng() % 10);
            in.task.status = "PENDING";
            in.task.max_attempts = 2;
            in.task.tenant_id = tenant;
            in.task.created_at = in.task.updated_at = FormatTimestamp(now_ms);
            in.now = At(now_ms);
            in.visible_at_sec = now_ms / 1000 + (rng() % 4 == 0 ? static_cast<int64_t>(rng() % 20) : 0);
            if (!Await(s->CreateTask(in)).ok()) ++errors;
            continue;
          }
          ClaimInput claim{worker, tenant, {cmd, commands[rng() % commands.size()]}, 5, 200, At(now_ms)};
          auto t = Await(s->ClaimTask(claim));
          if (!t.ok()) {
            ++errors;
            continue;
          }
          if (!t->has_value()) continue;
          const std::string id = (*t)->id;
          switch (rng() % 5) {
            case 0: {
              SubmitResultInput r{tenant, id, worker, {}, At(now_ms)};
              r.result.status = rng() % 2 ? "COMPLETED" : "FAILED";
              r.result.error = "e";
              if (failed(Await(s->SubmitResult(r)).status())) ++errors;
              break;
            }
            case 1: {
              NackInput nk;
              nk.tenant = tenant;
              nk.task_id = id;
              nk.worker_id = worker;
              nk.delay_seconds = static_cast<int64_t>(rng() % 3);
              nk.now = At(now_ms);
              if (failed(Await(s->Nack(nk)).status())) ++errors;
              break;
            }
            case 2:
              if (failed(Await(s->Abandon(TaskRef{tenant, id, worker, At(now_ms)})).status())) ++errors;
              break;
            case 3: {
              HeartbeatInput hb{tenant, id, worker, 60, At(now_ms)};
              if (failed(Await(s->Heartbeat(hb)).status())) ++errors;
              break;
            }
            default: {  // leave it; repair later
              RepairInput rp{tenant, {cmd}, 200, 5, [](int) { return int64_t{1}; }, At(now_ms + 10'000)};
              if (!Await(s->RepairExpired(rp)).ok()) ++errors;
            }
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(errors.load(), 0);
    // Some cleanup too.
    CleanupInput c;
    c.before_sec = (kT0 + 2 * kDay) / 1000;
    c.limit = 50;
    c.now = At(kT0 + 2 * kDay);
    ASSERT_TRUE(Await(s->Cleanup(c)).ok());
    for (const auto& t : tenants) {
      for (const auto& cmd : commands) {
        auto st = Await(s->Stats(t, cmd));
        ASSERT_TRUE(st.ok());
        before[{t, cmd}] = *st;
      }
    }
  }
  auto s = OpenStore(dir.path());
  ASSERT_TRUE(s);
  int64_t total = 0;
  for (const auto& [key, b] : before) {
    auto st = Await(s->Stats(key.first, key.second));
    ASSERT_TRUE(st.ok());
    SCOPED_TRACE(key.first + "/" + key.second);
    EXPECT_EQ(st->ready, b.ready);
    EXPECT_EQ(st->delayed, b.delayed);
    EXPECT_EQ(st->in_progress, b.in_progress);
    EXPECT_EQ(st->dlq, b.dlq);
    total += b.ready + b.delayed + b.in_progress + b.dlq;
  }
  EXPECT_GT(total, 0);
  // Everything ready can be claimed exactly once.
  for (const auto& t : tenants) {
    for (const auto& cmd : commands) {
      int64_t claimed = 0;
      for (;;) {
        ClaimInput claim{"final", t, {cmd}, 60, 1000, At(kT0 + 3 * kDay)};
        auto r = Await(s->ClaimTask(claim));
        ASSERT_TRUE(r.ok());
        if (!r->has_value()) break;
        ++claimed;
      }
      const auto& b = before[{t, cmd}];
      EXPECT_EQ(claimed, b.ready + b.delayed) << t << "/" << cmd;
    }
  }
}

}  // namespace
}  // namespace codeq::contract
