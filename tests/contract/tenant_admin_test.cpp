// Contract: tenant isolation (D6), stats (§1.6, D7), known commands (D5) and cleanup (§4.10, D12).
#include "contract_fixture.h"

namespace codeq::contract {
namespace {

TEST_P(StoreContract, OtherTenantsSeeNotFound) {
  Create("iso", "acme");
  Task t = ClaimOne("w1", "acme", {"iso"});
  ASSERT_FALSE(t.id.empty());
  ASSERT_TRUE(Complete("acme", t.id, "w1").ok());
  Create("iso2", "acme");
  Task u = ClaimOne("w1", "acme", {"iso2"});

  for (const std::string tenant : {"globex", ""}) {
    SCOPED_TRACE("tenant=" + tenant);
    auto g = Await(store().GetTask(tenant, t.id));
    EXPECT_EQ(g.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(g.status().message(), "not found");
    auto r = Await(store().GetResult(tenant, t.id));
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(r.status().message(), "task not found");

    HeartbeatInput hb;
    hb.tenant = tenant;
    hb.task_id = u.id;
    hb.worker_id = "w1";
    hb.now = RealNow();
    EXPECT_EQ(Await(store().Heartbeat(hb)).status().code(), StatusCode::kNotFound);
    TaskRef ab{tenant, u.id, "w1", RealNow()};
    EXPECT_EQ(Await(store().Abandon(ab)).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(Nack(tenant, u.id, "w1").status().code(), StatusCode::kNotFound);
    auto c = Complete(tenant, u.id, "w1");
    EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(c.status().message(), "task not found");
  }
  // Still intact for its own tenant.
  auto own = Await(store().GetTask("acme", u.id));
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->status, "IN_PROGRESS");
  EXPECT_EQ(own->tenant_id, "acme");
}

TEST_P(StoreContract, ClaimsOnlySeeTheirTenantsQueues) {
  Task a = Create("shared", "acme");
  Task n = Create("shared", "");
  auto g = Claim("w", "globex", {"shared"});
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->has_value());
  EXPECT_EQ(ClaimOne("w", "acme", {"shared"}).id, a.id);
  EXPECT_EQ(ClaimOne("w", "", {"shared"}).id, n.id);
}

TEST_P(StoreContract, StatsArePerTenantAndCommand) {
  Create("job", "acme", 3);
  Create("job", "acme", 0);
  Create("job", "acme", 0, 5, /*delay_seconds=*/3600);
  Create("job", "", 0);
  Create("JOB", "acme", 9);  // same queues: keys use the lower-cased command

  auto s = Await(store().Stats("acme", "job"));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->command, "job");
  EXPECT_EQ(s->ready, 3);
  EXPECT_EQ(s->delayed, 1);
  EXPECT_EQ(s->in_progress, 0);
  EXPECT_EQ(s->dlq, 0);

  ClaimOne("w", "acme", {"job"});
  s = Await(store().Stats("acme", "Job"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->command, "Job");  // echoes the command as asked
  EXPECT_EQ(s->ready, 2);
  EXPECT_EQ(s->in_progress, 1);

  auto unscoped = Await(store().Stats("", "job"));
  ASSERT_TRUE(unscoped.ok());
  EXPECT_EQ(unscoped->ready, 1);
  EXPECT_EQ(unscoped->in_progress, 0);

  auto unknown = Await(store().Stats("acme", "never-seen"));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->ready + unknown->delayed + unknown->in_progress + unknown->dlq, 0);
}

TEST_P(StoreContract, ListCommandsPerTenantSorted) {
  Create("render", "acme");
  Create("Build", "acme");
  Create("render", "acme");
  Create("zeta", "");
  Create("alpha", "globex", 0, 5, 3600);

  auto acme = Await(store().ListCommands("acme"));
  ASSERT_TRUE(acme.ok()) << acme.status().message();
  EXPECT_EQ(*acme, (std::vector<std::string>{"Build", "render"}));
  auto none = Await(store().ListCommands(""));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, (std::vector<std::string>{"zeta"}));
  auto globex = Await(store().ListCommands("globex"));
  ASSERT_TRUE(globex.ok());
  EXPECT_EQ(*globex, (std::vector<std::string>{"alpha"}));
  auto nobody = Await(store().ListCommands("nobody"));
  ASSERT_TRUE(nobody.ok());
  EXPECT_TRUE(nobody->empty());
}

TEST_P(StoreContract, CleanupDeletesOnlyTerminalTasksByDefault) {
  Create("cl");
  Task done = ClaimOne("w", "", {"cl"});
  ASSERT_TRUE(Complete("", done.id, "w").ok());
  Create("cl", "", 0, 1);
  Task dead = ClaimOne("w", "", {"cl"});
  ASSERT_TRUE(Nack("", dead.id, "w").ok());  // maxAttempts 1 → DLQ, FAILED
  Task pending = Create("cl");
  Create("cl2");
  Task running = ClaimOne("w", "", {"cl2"});
  Task scheduled = Create("cl", "", 0, 5, 3600);

  CleanupInput in;
  in.before_sec = RealNow().seconds() + 2 * 86400 + 7200;  // past every retention deadline
  in.now = RealNow();
  auto n = Await(store().Cleanup(in));
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(Await(store().GetTask("", done.id)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Await(store().GetTask("", dead.id)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Await(store().GetResult("", done.id)).status().message(), "task not found");
  auto s = Await(store().Stats("", "cl"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->dlq, 0);
  EXPECT_EQ(s->ready, 1);
  EXPECT_EQ(s->delayed, 1);
  for (const auto& id : {pending.id, running.id, scheduled.id}) {
    EXPECT_TRUE(Await(store().GetTask("", id)).ok()) << id;
  }

  in.include_active = true;
  n = Await(store().Cleanup(in));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3);
  for (const auto& id : {pending.id, running.id, scheduled.id}) {
    EXPECT_EQ(Await(store().GetTask("", id)).status().code(), StatusCode::kNotFound) << id;
  }
  s = Await(store().Stats("", "cl"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ready + s->delayed + s->in_progress + s->dlq, 0);
  auto s2 = Await(store().Stats("", "cl2"));
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->in_progress, 0);
}

TEST_P(StoreContract, CleanupRespectsRetentionDeadline) {
  Create("ret");
  Task t = ClaimOne("w", "", {"ret"});
  ASSERT_TRUE(Complete("", t.id, "w").ok());
  CleanupInput in;
  in.before_sec = RealNow().seconds();  // retention is now + 24 h: not yet due
  in.include_active = true;
  in.now = RealNow();
  auto n = Await(store().Cleanup(in));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  EXPECT_TRUE(Await(store().GetTask("", t.id)).ok());
}

// SPEC §4.6: the retention deadline runs from a task's last transition, not from its creation.
TEST_P(StoreContract, CleanupGoesByTheDeadlineOfTheLastTransition) {
  const Now t0 = RealNow();
  CreateTaskInput c;
  c.task = MakeTask("last");
  c.now = t0;
  c.visible_at_sec = t0.seconds();
  ASSERT_TRUE(Await(store().CreateTask(c)).ok());
  ClaimInput claim{"w", "", {"last"}, 3600, 200, NowPlus(1000)};
  auto claimed = Await(store().ClaimTask(claim));
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  ASSERT_EQ((*claimed)->id, c.task.id);

  CleanupInput in;
  in.include_active = true;
  in.now = RealNow();
  in.before_sec = t0.seconds() + 86400 + 500;  // past the create's deadline, before the claim's
  auto n = Await(store().Cleanup(in));
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 0);

  SubmitResultInput done{"", c.task.id, "w", {}, NowPlus(2000)};
  done.result.status = "COMPLETED";
  ASSERT_TRUE(Await(store().SubmitResult(done)).ok());
  in.include_active = false;
  in.before_sec = t0.seconds() + 1000 + 86400 + 500;  // past the claim's deadline, before the result's
  n = Await(store().Cleanup(in));
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 0);
  n = Await(store().Cleanup(in));  // the same again: still nothing to delete
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 0);
  EXPECT_TRUE(Await(store().GetTask("", c.task.id)).ok());

  in.before_sec = NowPlus(2000).seconds() + 86400;
  n = Await(store().Cleanup(in));
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(Await(store().GetTask("", c.task.id)).status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContract, ScheduledTaskRetentionStartsAtItsVisibleTime) {  // D12
  Task far = Create("sched", "", 0, 5, /*delay_seconds=*/3 * 86400);
  CleanupInput in;
  in.before_sec = RealNow().seconds() + 2 * 86400;  // later than now + 24 h, before visible + 24 h
  in.include_active = true;
  in.now = RealNow();
  auto n = Await(store().Cleanup(in));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  EXPECT_TRUE(Await(store().GetTask("", far.id)).ok());
}

TEST_P(StoreContract, CleanupTenantFilterAndLimit) {
  std::vector<std::string> acme_ids;
  for (int i = 0; i < 3; ++i) {
    Create("lim", "acme");
    Task t = ClaimOne("w", "acme", {"lim"});
    ASSERT_TRUE(Complete("acme", t.id, "w").ok());
    acme_ids.push_back(t.id);
  }
  Create("lim", "");
  Task other = ClaimOne("w", "", {"lim"});
  ASSERT_TRUE(Complete("", other.id, "w").ok());

  CleanupInput in;
  in.before_sec = RealNow().seconds() + 2 * 86400;
  in.tenant = "acme";
  in.limit = 2;
  in.now = RealNow();
  auto n = Await(store().Cleanup(in));
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 2);
  n = Await(store().Cleanup(in));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  n = Await(store().Cleanup(in));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  for (const auto& id : acme_ids) {
    EXPECT_EQ(Await(store().GetTask("acme", id)).status().code(), StatusCode::kNotFound);
  }
  EXPECT_TRUE(Await(store().GetTask("", other.id)).ok());

  in.tenant.reset();
  n = Await(store().Cleanup(in));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
}

TEST_P(StoreContract, PingAnswers) { EXPECT_TRUE(Await(store().Ping()).ok()); }

}  // namespace
}  // namespace codeq::contract
