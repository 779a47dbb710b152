// Contract: lease expiry repair (SPEC §4.8 requeue_expired with D2, D3, D11).
#include <chrono>
#include <thread>

#include "contract_fixture.h"

namespace codeq::contract {
namespace {

using std::chrono::milliseconds;

TEST_P(StoreContract, ExpiredLeaseIsRequeuedAndAnotherWorkerClaimsIt) {
  Create("exp", "", 0, 5);
  Task t = ClaimOne("w1", "", {"exp"}, /*lease_seconds=*/1);
  std::this_thread::sleep_for(milliseconds(1200));

  auto r = Repair("", {"exp"}, /*backoff_seconds=*/0);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->expired_commands.size(), 1u);
  EXPECT_EQ(r->expired_commands[0], "exp");
  EXPECT_TRUE(r->dead_lettered.empty());

  auto got = Await(store().GetTask("", t.id));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, "PENDING");
  EXPECT_EQ(got->attempts, 1);  // D2: counted once per delivery
  EXPECT_EQ(got->worker_id, "");

  Task again = ClaimOne("w2", "", {"exp"});
  EXPECT_EQ(again.id, t.id);
  EXPECT_EQ(again.attempts, 2);
  EXPECT_EQ(again.worker_id, "w2");

  // The first worker lost the task.
  HeartbeatInput hb;
  hb.task_id = t.id;
  hb.worker_id = "w1";
  hb.now = RealNow();
  EXPECT_EQ(Await(store().Heartbeat(hb)).status().code(), StatusCode::kForbidden);

  // Nothing more to repair.
  auto r2 = Repair("", {"exp"});
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(r2->expired_commands.empty());
}

TEST_P(StoreContract, ExpiredLeaseRequeueHonoursBackoffDelay) {
  Create("expd");
  Task t = ClaimOne("w1", "", {"expd"}, 1);
  std::this_thread::sleep_for(milliseconds(1200));
  RepairInput in;
  in.commands = {"expd"};
  int seen = -1;
  in.backoff = [&seen](int attempts) {
    seen = attempts;
    return int64_t{1};
  };
  in.now = RealNow();
  auto r = Await(store().RepairExpired(in));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->expired_commands.size(), 1u);
  EXPECT_EQ(seen, 1);
  auto stats = Await(store().Stats("", "expd"));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->delayed, 1);
  EXPECT_EQ(stats->in_progress, 0);
  std::this_thread::sleep_for(milliseconds(1100));
  EXPECT_EQ(ClaimOne("w2", "", {"expd"}).id, t.id);
}

TEST_P(StoreContract, ExpiredLeaseAtMaxAttemptsDeadLetters) {
  Create("expx", "acme", 0, /*max_attempts=*/1);
  Task t = ClaimOne("w1", "acme", {"expx"}, 1);
  std::this_thread::sleep_for(milliseconds(1200));
  auto r = Repair("acme", {"expx"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->dead_lettered.size(), 1u);
  EXPECT_EQ(r->dead_lettered[0].id, t.id);
  EXPECT_EQ(r->dead_lettered[0].status, "FAILED");
  EXPECT_EQ(r->dead_lettered[0].error, "LEASE_EXPIRED");
  EXPECT_EQ(r->expired_commands.size(), 1u);

  auto res = Await(store().GetResult("acme", t.id));
  ASSERT_TRUE(res.ok()) << res.status().message();
  EXPECT_EQ(res->status, "FAILED");
  EXPECT_EQ(res->error, "LEASE_EXPIRED");
  auto stats = Await(store().Stats("acme", "expx"));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->dlq, 1);
  EXPECT_EQ(stats->in_progress, 0);
}

TEST_P(StoreContract, MaxAttemptsDefaultAppliesWhenTaskHasNone) {
  Create("expdef", "", 0, /*max_attempts=*/0);
  ClaimOne("w1", "", {"expdef"}, 1);
  std::this_thread::sleep_for(milliseconds(1200));
  auto r = Repair("", {"expdef"}, 0, /*max_attempts_default=*/1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->dead_lettered.size(), 1u);
}

TEST_P(StoreContract, LiveLeasesAreNotRepaired) {
  Create("live");
  Task t = ClaimOne("w1", "", {"live"}, 60);
  auto r = Repair("", {"live"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->expired_commands.empty());
  auto got = Await(store().GetTask("", t.id));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, "IN_PROGRESS");
}

TEST_P(StoreContract, RepairOnlyLooksAtTheCallersTenant) {
  Create("iso", "acme");
  ClaimOne("w1", "acme", {"iso"}, 1);
  std::this_thread::sleep_for(milliseconds(1200));
  auto other = Repair("globex", {"iso"});
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->expired_commands.empty());
  auto own = Repair("acme", {"iso"});
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->expired_commands.size(), 1u);
}

}  // namespace
}  // namespace codeq::contract
