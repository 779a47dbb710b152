// Contract: create (immediate, delayed, past runAt, idempotency) and claim order (SPEC §2.3, §2.4,
// §4.8, D4, D6, D18).
#include <chrono>
#include <set>
#include <thread>

#include "contract_fixture.h"
#include "domain/time_format.h"

namespace codeq::contract {
namespace {

using std::chrono::milliseconds;

TEST_P(StoreContract, CreateImmediateStoresTaskAndIsClaimable) {
  CreateTaskInput in;
  in.task = MakeTask("render", "", 4, 3);
  in.task.webhook = "https://example.test/cb";
  in.now = RealNow();
  in.visible_at_sec = in.now.seconds();
  auto created = Await(store().CreateTask(in));
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_FALSE(created->replayed);
  EXPECT_EQ(created->task.id, in.task.id);

  auto got = Await(store().GetTask("", in.task.id));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->command, "render");
  EXPECT_EQ(got->payload, R"({"n":1})");
  EXPECT_EQ(got->priority, 4);
  EXPECT_EQ(got->webhook, "https://example.test/cb");
  EXPECT_EQ(got->status, "PENDING");
  EXPECT_EQ(got->max_attempts, 3);
  EXPECT_EQ(got->attempts, 0);
  EXPECT_EQ(got->worker_id, "");
  EXPECT_EQ(got->created_at, in.task.created_at);

  Task claimed = ClaimOne("w1", "", {"render"}, 60);
  EXPECT_EQ(claimed.id, in.task.id);
  EXPECT_EQ(claimed.status, "IN_PROGRESS");
  EXPECT_EQ(claimed.worker_id, "w1");
  EXPECT_EQ(claimed.attempts, 1);
  EXPECT_EQ(claimed.payload, R"({"n":1})");
  EXPECT_EQ(claimed.webhook, "https://example.test/cb");
  auto lease_ms = ParseRfc3339Ms(claimed.lease_until);
  ASSERT_TRUE(lease_ms.has_value()) << claimed.lease_until;
  EXPECT_NEAR(static_cast<double>(*lease_ms / 1000), static_cast<double>(RealNow().seconds() + 60), 2.0);
  EXPECT_EQ(claimed.lease_until.back(), 'Z');

  auto stored = Await(store().GetTask("", in.task.id));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->status, "IN_PROGRESS");
  EXPECT_EQ(stored->attempts, 1);

  auto again = Claim("w2", "", {"render"});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST_P(StoreContract, ClaimWithNothingReadyReturnsNothing) {
  auto r = Claim("w1", "", {"nothing-here", "neither"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->has_value());
}

TEST_P(StoreContract, DelayedTaskIsClaimableOnlyWhenDue) {
  SleepToStartOfNextSecond();
  Task t = Create("later", "", 0, 5, /*delay_seconds=*/1);
  auto early = Claim("w1", "", {"later"});
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early->has_value());
  auto stats = Await(store().Stats("", "later"));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->delayed, 1);
  EXPECT_EQ(stats->ready, 0);

  std::this_thread::sleep_for(milliseconds(1100));
  Task claimed = ClaimOne("w1", "", {"later"});
  EXPECT_EQ(claimed.id, t.id);
  EXPECT_EQ(claimed.attempts, 1);
  stats = Await(store().Stats("", "later"));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->delayed, 0);
  EXPECT_EQ(stats->in_progress, 1);
}

TEST_P(StoreContract, RunAtInThePastEnqueuesImmediately) {
  CreateTaskInput in;
  in.task = MakeTask("past");
  in.now = RealNow();
  in.visible_at_sec = in.now.seconds() - 3600;
  ASSERT_TRUE(Await(store().CreateTask(in)).ok());
  auto stats = Await(store().Stats("", "past"));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->ready, 1);
  EXPECT_EQ(stats->delayed, 0);
  EXPECT_EQ(ClaimOne("w1", "", {"past"}).id, in.task.id);
}

TEST_P(StoreContract, IdempotentReplayReturnsTheSameTask) {
  CreateTaskInput in;
  in.task = MakeTask("idem");
  in.idempotency_key = "key-1";
  in.now = RealNow();
  in.visible_at_sec = in.now.seconds();
  auto first = Await(store().CreateTask(in));
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_FALSE(first->replayed);

  CreateTaskInput second = in;
  second.task = MakeTask("other-command");  // ignored on replay
  auto replay = Await(store().CreateTask(second));
  ASSERT_TRUE(replay.ok()) << replay.status().message();
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->task.id, in.task.id);
  EXPECT_EQ(replay->task.command, "idem");

  // The replay reflects the current state.
  ClaimOne("w1", "", {"idem"});
  auto replay2 = Await(store().CreateTask(second));
  ASSERT_TRUE(replay2.ok());
  EXPECT_TRUE(replay2->replayed);
  EXPECT_EQ(replay2->task.status, "IN_PROGRESS");

  auto stats = Await(store().Stats("", "other-command"));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->ready, 0);
}

TEST_P(StoreContract, IdempotencyKeysArePerTenant) {
  CreateTaskInput a;
  a.task = MakeTask("idem", "acme");
  a.idempotency_key = "shared";
  a.now = RealNow();
  a.visible_at_sec = a.now.seconds();
  CreateTaskInput b = a;
  b.task = MakeTask("idem", "globex");
  CreateTaskInput c = a;
  c.task = MakeTask("idem", "");

  auto ra = Await(store().CreateTask(a));
  auto rb = Await(store().CreateTask(b));
  auto rc = Await(store().CreateTask(c));
  ASSERT_TRUE(ra.ok() && rb.ok() && rc.ok());
  EXPECT_FALSE(ra->replayed);
  EXPECT_FALSE(rb->replayed);
  EXPECT_FALSE(rc->replayed);
  EXPECT_NE(ra->task.id, rb->task.id);
  EXPECT_NE(ra->task.id, rc->task.id);

  auto again = Await(store().CreateTask(b));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->task.id, b.task.id);
  EXPECT_EQ(again->task.tenant_id, "globex");
}

TEST_P(StoreContract, IdempotencyKeyOfADeletedTaskIsTakenOver) {
  CreateTaskInput in;
  in.task = MakeTask("idem");
  in.idempotency_key = "k";
  in.now = RealNow();
  in.visible_at_sec = in.now.seconds();
  ASSERT_TRUE(Await(store().CreateTask(in)).ok());

  CleanupInput clean;
  clean.before_sec = RealNow().seconds() + 3 * 86400;
  clean.include_active = true;
  clean.now = RealNow();
  auto deleted = Await(store().Cleanup(clean));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);

  CreateTaskInput next = in;
  next.task = MakeTask("idem");
  auto r = Await(store().CreateTask(next));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->replayed);
  EXPECT_EQ(r->task.id, next.task.id);
  auto replay = Await(store().CreateTask(in));
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->task.id, next.task.id);
}

TEST_P(StoreContract, PriorityNineFirstAndFifoWithinATier) {
  Task p0 = Create("prio", "", 0);
  Task p5a = Create("prio", "", 5);
  Task p9 = Create("prio", "", 9);
  Task p5b = Create("prio", "", 5);
  Task p0b = Create("prio", "", 0);
  EXPECT_EQ(ClaimOne("w", "", {"prio"}).id, p9.id);
  EXPECT_EQ(ClaimOne("w", "", {"prio"}).id, p5a.id);
  EXPECT_EQ(ClaimOne("w", "", {"prio"}).id, p5b.id);
  EXPECT_EQ(ClaimOne("w", "", {"prio"}).id, p0.id);
  EXPECT_EQ(ClaimOne("w", "", {"prio"}).id, p0b.id);
}

TEST_P(StoreContract, PriorityBeatsCommandOrder) {  // D4
  Task a1 = Create("alpha", "", 1);
  Task b9 = Create("beta", "", 9);
  Task a9 = Create("alpha", "", 9);
  Task b1 = Create("beta", "", 1);
  EXPECT_EQ(ClaimOne("w", "", {"alpha", "beta"}).id, a9.id);
  EXPECT_EQ(ClaimOne("w", "", {"alpha", "beta"}).id, b9.id);
  EXPECT_EQ(ClaimOne("w", "", {"alpha", "beta"}).id, a1.id);
  EXPECT_EQ(ClaimOne("w", "", {"alpha", "beta"}).id, b1.id);
}

// A claim over thousands of commands (a wildcard claim lists every known command of the tenant):
// the highest tier still wins wherever its command stands, then command order within a tier;
// spellings differing only in case name one queue.
TEST_P(StoreContract, ClaimOverThousandsOfCommandsKeepsPriorityAndCommandOrder) {
  std::vector<std::string> commands;
  for (int i = 0; i < 2000; ++i) commands.push_back("many-" + std::to_string(i));
  commands.push_back("MANY-0");  // the same queue as many-0: listed twice, must change nothing
  Task first_low = Create("many-0", "", 2);
  Task late_high = Create("many-1999", "", 7);
  Task mid_low = Create("many-1000", "", 2);
  EXPECT_EQ(ClaimOne("w", "", commands).id, late_high.id);
  EXPECT_EQ(ClaimOne("w", "", commands).id, first_low.id);
  EXPECT_EQ(ClaimOne("w", "", commands).id, mid_low.id);
  auto none = Claim("w", "", commands);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_FALSE(none->has_value());
}

// Tasks deleted by cleanup while they wait leave stale queue entries behind: a claim skips them
// and goes on in the same tier, and a tier left with only stale entries is passed over.
TEST_P(StoreContract, ClaimSkipsTasksDeletedWhileWaiting) {
  auto create_at = [&](int priority, int64_t shift_seconds) {
    CreateTaskInput in;
    in.task = MakeTask("stale-tier", "", priority);
    in.now = NowPlus(shift_seconds);
    in.task.created_at = in.task.updated_at = in.now.text;
    in.visible_at_sec = in.now.seconds();
    auto r = Await(store().CreateTask(in));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return in.task.id;
  };
  auto clean_old = [&] {
    CleanupInput clean;
    clean.before_sec = NowPlus(-5 * 86400).seconds();  // only the tasks made 10 days ago
    clean.include_active = true;
    clean.now = RealNow();
    auto n = Await(store().Cleanup(clean));
    ASSERT_TRUE(n.ok()) << n.status().message();
    EXPECT_EQ(*n, 1);
  };
  // Tier 9 keeps a live task behind the deleted one.
  create_at(9, -10 * 86400);
  std::string new9 = create_at(9, 0);
  std::string new2 = create_at(2, 0);
  clean_old();
  EXPECT_EQ(ClaimOne("w", "", {"stale-tier"}).id, new9);
  EXPECT_EQ(ClaimOne("w", "", {"stale-tier"}).id, new2);
  // Tier 9 holds only the deleted task.
  create_at(9, -10 * 86400);
  std::string low = create_at(2, 0);
  clean_old();
  EXPECT_EQ(ClaimOne("w", "", {"stale-tier"}).id, low);
  auto none = Claim("w", "", {"stale-tier"});
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_FALSE(none->has_value());
}

// ClaimTasks (issue 7 batch claim): one store call makes up to max_tasks claims, in the order
// single claims would take them (D4: priority first, then command order, FIFO within a tier),
// each claimed task leased and counted once; fewer when the queues run dry; other tenants' and
// other commands' tasks untouched.
TEST_P(StoreContract, ClaimTasksClaimsInSingleClaimOrderAndFewerWhenDry) {
  std::vector<std::string> a0, b5;
  a0.push_back(Create("many-a", "t1", 0).id);
  b5.push_back(Create("many-b", "t1", 5).id);
  a0.push_back(Create("many-a", "t1", 0).id);
  const std::string a9 = Create("many-a", "t1", 9).id;
  const std::string a5 = Create("many-a", "t1", 5).id;
  b5.push_back(Create("many-b", "t1", 5).id);
  const std::string other_tenant = Create("many-a", "t2", 9).id;
  const std::string other_command = Create("many-c", "t1", 9).id;
  auto claim = [&](int max) {
    ClaimInput in;
    in.worker_id = "w";
    in.tenant = "t1";
    in.commands = {"many-a", "many-b"};
    in.lease_seconds = 30;
    in.now = RealNow();
    auto r = Await(store().ClaimTasks(in, max));
    EXPECT_TRUE(r.ok()) << r.status().message();
    std::vector<std::string> ids;
    for (const Task& t : r.ok() ? *r : std::vector<Task>{}) {
      EXPECT_EQ(t.status, "IN_PROGRESS");
      EXPECT_EQ(t.worker_id, "w");
      EXPECT_EQ(t.attempts, 1);
      EXPECT_FALSE(t.lease_until.empty());
      ids.push_back(t.id);
    }
    return ids;
  };
  // 9 first; in tier 5 command order (many-a before many-b), FIFO within each queue.
  EXPECT_EQ(claim(4), (std::vector<std::string>{a9, a5, b5[0], b5[1]}));
  EXPECT_EQ(claim(1000), a0);
  EXPECT_TRUE(claim(10).empty());
  for (const std::string& id : {a9, a5, b5[0], b5[1], a0[0], a0[1]}) {
    auto t = Await(store().GetTask("t1", id));
    ASSERT_TRUE(t.ok()) << t.status().message();
    EXPECT_EQ(t->status, "IN_PROGRESS") << id;
    EXPECT_EQ(t->attempts, 1) << id;
  }
  EXPECT_EQ(ClaimOne("w", "t2", {"many-a"}).id, other_tenant);
  EXPECT_EQ(ClaimOne("w", "t1", {"many-c"}).id, other_command);
}

// A batch claim promotes due delayed tasks before each of its claims, as single claims would:
// with more due than one promotion moves (inspect_limit), it still returns every due task and
// takes the due high-priority ones before ready low-priority ones.
TEST_P(StoreContract, ClaimTasksPromotesBeforeEachClaimLikeSingleClaims) {
  std::set<std::string> due9;
  for (int i = 0; i < 5; ++i) due9.insert(Create("many-due", "", 9, 5, /*delay_seconds=*/10).id);
  std::vector<std::string> ready0;
  for (int i = 0; i < 3; ++i) ready0.push_back(Create("many-due", "", 0).id);
  ClaimInput in;
  in.worker_id = "w";
  in.commands = {"many-due"};
  in.lease_seconds = 30;
  in.inspect_limit = 2;  // one promotion moves at most 2 of the 5 due tasks
  in.now = NowPlus(20);
  auto r = Await(store().ClaimTasks(in, 100));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 8u);
  std::set<std::string> first5;
  for (size_t i = 0; i < 5; ++i) first5.insert((*r)[i].id);
  EXPECT_EQ(first5, due9);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ((*r)[5 + i].id, ready0[i]);
}

TEST_P(StoreContract, ClaimOnlyServesRequestedCommands) {
  Create("alpha");
  auto r = Claim("w", "", {"beta"});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST_P(StoreContract, CommandCaseIsPreservedButKeysAreCaseInsensitive) {
  Task t = Create("Render.Video");
  Task claimed = ClaimOne("w", "", {"render.video"});
  EXPECT_EQ(claimed.id, t.id);
  EXPECT_EQ(claimed.command, "Render.Video");
}

}  // namespace
}  // namespace codeq::contract
