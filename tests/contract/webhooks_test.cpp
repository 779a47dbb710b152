// Contract: ready depth on create, the durable result-callback outbox and on-demand promotion
// (SPEC §6.1, §6.2, D11, D16).
#include <chrono>
#include <thread>

#include "contract_fixture.h"

namespace codeq::contract {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kLeaseMs = 10000;  // the fixture's default for ClaimCallbacks

// --- ready depth -------------------------------------------------------------------------------

TEST_P(StoreContract, CreateReportsReadyDepthOfItsOwnQueue) {
  EXPECT_EQ(CreateWith("Depth").ready_depth, 1);
  EXPECT_EQ(CreateWith("depth").ready_depth, 2);  // same queue (command lower-cased)
  EXPECT_EQ(CreateWith("depth", "acme").ready_depth, 1);  // another tenant's queue
  EXPECT_EQ(CreateWith("other").ready_depth, 1);
  EXPECT_EQ(CreateWith("depth", "", /*delay_seconds=*/60).ready_depth, 0);  // delayed

  CreateOutcome first = CreateWith("depth", "", 0, "", "idem-1");
  EXPECT_EQ(first.ready_depth, 3);
  CreateOutcome replay = CreateWith("depth", "", 0, "", "idem-1");
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.task.id, first.task.id);
  EXPECT_EQ(replay.ready_depth, 0);

  ClaimOne("w", "", {"depth"});
  EXPECT_EQ(CreateWith("depth").ready_depth, 3);  // a claim took one out
}

// Only the 0 -> 1 transition must be exact; a task pushed onto a tier that already held tasks
// may report just that tier (the Redis store does), still more than 1.
TEST_P(StoreContract, CreateReportsOneExactlyWhenTheQueueWasEmptyInAnyTier) {
  auto create = [&](int priority) {
    CreateTaskInput in;
    in.task = MakeTask("tiers", "", priority);
    in.now = RealNow();
    in.visible_at_sec = in.now.seconds();
    auto r = Await(store().CreateTask(in));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->ready_depth : -1;
  };
  EXPECT_EQ(create(5), 1);
  EXPECT_EQ(create(0), 2);  // its own tier was empty: the other tiers are counted
  EXPECT_GT(create(0), 1);  // 2 (its tier) or 3 (all tiers): never 1
  ClaimOne("w", "", {"tiers"});  // takes the priority-5 task
  ClaimOne("w", "", {"tiers"});
  ClaimOne("w", "", {"tiers"});
  EXPECT_EQ(create(9), 1);  // empty again
}

// --- outbox ------------------------------------------------------------------------------------

TEST_P(StoreContract, ResultSubmissionWithWebhookQueuesCallback) {
  Task t = ClaimedWithWebhook("Render", "acme");
  const int64_t before = RealNow().ms;
  EXPECT_TRUE(ClaimCallbacks(before - 60000).empty()) << "nothing before the submission";
  ASSERT_TRUE(Complete("acme", t.id, "w").ok());

  const int64_t now = RealNow().ms;
  auto got = ClaimCallbacks(now);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].task_id, t.id);
  EXPECT_EQ(got[0].url, kTestWebhook);
  EXPECT_EQ(got[0].tenant, "acme");
  EXPECT_EQ(got[0].command, "Render");  // as created, not lower-cased
  EXPECT_EQ(got[0].attempts, 0);
  EXPECT_EQ(got[0].due_ms, now + kLeaseMs);
}

TEST_P(StoreContract, FailedResultAlsoQueuesCallback) {
  Task t = ClaimedWithWebhook("render");
  ASSERT_TRUE(Complete("", t.id, "w", "FAILED", "boom").ok());
  auto got = ClaimCallbacks(RealNow().ms);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].task_id, t.id);
  EXPECT_EQ(got[0].tenant, "");
}

TEST_P(StoreContract, NoCallbackWithoutWebhook) {
  Create("plain");
  Task t = ClaimOne("w", "", {"plain"});
  ASSERT_TRUE(Complete("", t.id, "w").ok());
  Create("plain", "", 0, /*max_attempts=*/1);
  Task d = ClaimOne("w", "", {"plain"});
  auto n = Nack("", d.id, "w");
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(n->dead_lettered);
  EXPECT_TRUE(ClaimCallbacks(RealNow().ms + 1000).empty());
}

TEST_P(StoreContract, NackToDeadLetterQueuesCallbackButRequeueDoesNot) {
  Task again = ClaimedWithWebhook("nk", "", /*max_attempts=*/5);
  auto requeued = Nack("", again.id, "w");
  ASSERT_TRUE(requeued.ok());
  ASSERT_FALSE(requeued->dead_lettered);
  EXPECT_TRUE(ClaimCallbacks(RealNow().ms + 1000).empty());

  Task dead = ClaimedWithWebhook("nkd", "", /*max_attempts=*/1);
  auto n = Nack("", dead.id, "w", 0, "gave up");
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(n->dead_lettered);
  auto got = ClaimCallbacks(RealNow().ms);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].task_id, dead.id);
  EXPECT_EQ(got[0].command, "nkd");
}

TEST_P(StoreContract, RepairToDeadLetterQueuesCallback) {
  Task t = ClaimedWithWebhook("rep", "acme", /*max_attempts=*/1, /*lease_seconds=*/1);
  std::this_thread::sleep_for(milliseconds(1200));
  auto r = Repair("acme", {"rep"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->dead_lettered.size(), 1u);
  auto got = ClaimCallbacks(RealNow().ms);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].task_id, t.id);
  EXPECT_EQ(got[0].tenant, "acme");
}

TEST_P(StoreContract, ClaimedCallbackIsLeased) {
  Task t = ClaimedWithWebhook("lease");
  ASSERT_TRUE(Complete("", t.id, "w").ok());
  const int64_t t0 = RealNow().ms;
  ASSERT_EQ(ClaimCallbacks(t0).size(), 1u);
  EXPECT_TRUE(ClaimCallbacks(t0 + 1000).empty()) << "still leased";
  EXPECT_TRUE(ClaimCallbacks(t0 + kLeaseMs - 1).empty()) << "still leased";
  auto again = ClaimCallbacks(t0 + kLeaseMs);
  ASSERT_EQ(again.size(), 1u) << "the lease ran out: delivered again";
  EXPECT_EQ(again[0].task_id, t.id);
}

TEST_P(StoreContract, ClaimHonoursLimitAndDueOrder) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    Task t = ClaimedWithWebhook("lim");
    ASSERT_TRUE(Complete("", t.id, "w").ok());
    ids.push_back(t.id);
    std::this_thread::sleep_for(milliseconds(5));  // distinct due times
  }
  const int64_t now = RealNow().ms;
  auto first = ClaimCallbacks(now, kLeaseMs, 2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].task_id, ids[0]);
  EXPECT_EQ(first[1].task_id, ids[1]);
  auto rest = ClaimCallbacks(now, kLeaseMs, 2);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].task_id, ids[2]);
}

TEST_P(StoreContract, RetryReschedulesAndFinishRemoves) {
  Task t = ClaimedWithWebhook("retry");
  ASSERT_TRUE(Complete("", t.id, "w").ok());
  const int64_t t0 = RealNow().ms;
  ASSERT_EQ(ClaimCallbacks(t0).size(), 1u);

  ASSERT_TRUE(Await(store().RetryCallback(t.id, 2, t0 + 5000)).ok());
  EXPECT_TRUE(ClaimCallbacks(t0 + 4999).empty());
  auto got = ClaimCallbacks(t0 + 5000);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].attempts, 2);
  EXPECT_EQ(got[0].url, kTestWebhook);

  ASSERT_TRUE(Await(store().FinishCallback(t.id)).ok());
  EXPECT_TRUE(ClaimCallbacks(t0 + 10 * kLeaseMs).empty());

  // Unknown ids are not errors, and a retry never resurrects a finished entry.
  EXPECT_TRUE(Await(store().FinishCallback(t.id)).ok());
  EXPECT_TRUE(Await(store().FinishCallback(NewId())).ok());
  EXPECT_TRUE(Await(store().RetryCallback(t.id, 3, t0)).ok());
  EXPECT_TRUE(ClaimCallbacks(t0 + 10 * kLeaseMs).empty());
}

TEST_P(StoreContract, OutboxSurvivesReopen) {
  Task t = ClaimedWithWebhook("durable", "acme");
  ASSERT_TRUE(Complete("acme", t.id, "w").ok());
  Task u = ClaimedWithWebhook("durable", "acme");
  ASSERT_TRUE(Complete("acme", u.id, "w").ok());
  const int64_t t0 = RealNow().ms;
  ASSERT_TRUE(Await(store().RetryCallback(u.id, 1, t0 + 5000)).ok());

  ASSERT_TRUE(backend().Reopen());
  EXPECT_TRUE(ClaimCallbacks(t0 - 60000).empty());
  auto got = ClaimCallbacks(t0);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].task_id, t.id);
  EXPECT_EQ(got[0].tenant, "acme");
  EXPECT_EQ(got[0].command, "durable");

  ASSERT_TRUE(backend().Reopen());  // the lease and the retry schedule are durable too
  EXPECT_TRUE(ClaimCallbacks(t0 + 1000).empty());
  auto later = ClaimCallbacks(t0 + 5000);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].task_id, u.id);
  EXPECT_EQ(later[0].attempts, 1);
}

// --- PromoteDue --------------------------------------------------------------------------------

TEST_P(StoreContract, PromoteDueMovesDueDelayedTasksAndReportsDepth) {
  CreateWith("promo", "acme");                        // one ready already
  Task later = CreateWith("promo", "acme", 2).task;   // delayed 2 s
  CreateWith("promo", "other", 2);                    // another tenant's delayed task
  const int64_t now = RealNow().seconds();

  auto early = Await(store().PromoteDue("acme", "promo", now, 100));
  ASSERT_TRUE(early.ok()) << early.status().message();
  EXPECT_EQ(early->moved, 0);
  EXPECT_EQ(early->ready_depth, 1);

  auto due = Await(store().PromoteDue("acme", "PROMO", now + 5, 100));
  ASSERT_TRUE(due.ok()) << due.status().message();
  EXPECT_EQ(due->moved, 1);
  EXPECT_EQ(due->ready_depth, 2);

  auto stats = Await(store().Stats("acme", "promo"));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->ready, 2);
  EXPECT_EQ(stats->delayed, 0);
  auto other = Await(store().Stats("other", "promo"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->delayed, 1) << "other tenants are not touched";

  auto unknown = Await(store().PromoteDue("acme", "nothing-here", now + 5, 100));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->moved, 0);
  EXPECT_EQ(unknown->ready_depth, 0);
  (void)later;
}

}  // namespace
}  // namespace codeq::contract
