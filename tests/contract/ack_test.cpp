// Contract: heartbeat, abandon, nack and result submission with their error cases (SPEC §2.5–2.8,
// §4.9, D2, D3, D10, D11).
#include <chrono>
#include <thread>

#include "contract_fixture.h"
#include "domain/time_format.h"

namespace codeq::contract {
namespace {

using std::chrono::milliseconds;

Result<Task> Heartbeat(Store& s, const std::string& tenant, const std::string& id,
                       const std::string& worker, int64_t extend = 60) {
  HeartbeatInput in;
  in.tenant = tenant;
  in.task_id = id;
  in.worker_id = worker;
  in.extend_seconds = extend;
  in.now = RealNow();
  return Await(s.Heartbeat(in));
}

Result<Task> Abandon(Store& s, const std::string& tenant, const std::string& id,
                     const std::string& worker) {
  TaskRef in;
  in.tenant = tenant;
  in.task_id = id;
  in.worker_id = worker;
  in.now = RealNow();
  return Await(s.Abandon(in));
}

void ExpectStatus(const Status& s, StatusCode code, const std::string& message) {
  EXPECT_EQ(s.code(), code) << s.message();
  EXPECT_EQ(s.message(), message);
}

TEST_P(StoreContract, HeartbeatExtendsTheLease) {
  Create("hb");
  Task t = ClaimOne("w1", "", {"hb"}, 1);
  auto r = Heartbeat(store(), "", t.id, "w1", 120);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, "IN_PROGRESS");
  auto until = ParseRfc3339Ms(r->lease_until);
  ASSERT_TRUE(until.has_value());
  EXPECT_NEAR(static_cast<double>(*until / 1000), static_cast<double>(RealNow().seconds() + 120), 2.0);

  std::this_thread::sleep_for(milliseconds(1300));  // past the original 1 s lease
  auto repaired = Repair("", {"hb"});
  ASSERT_TRUE(repaired.ok()) << repaired.status().message();
  EXPECT_TRUE(repaired->expired_commands.empty());
  auto got = Await(store().GetTask("", t.id));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, "IN_PROGRESS");
  EXPECT_EQ(got->worker_id, "w1");
}

TEST_P(StoreContract, HeartbeatErrors) {
  Task pending = Create("hb");
  Create("hb2");
  Task t = ClaimOne("w1", "", {"hb2"});
  ExpectStatus(Heartbeat(store(), "", "no-such-id", "w1").status(), StatusCode::kNotFound, "not-found");
  ExpectStatus(Heartbeat(store(), "", t.id, "w2").status(), StatusCode::kForbidden, "not-owner");
  // The owner check comes before the status check; a task nobody owns is "not-in-progress" only
  // for a caller whose (empty) worker id matches.
  ExpectStatus(Heartbeat(store(), "", pending.id, "w1").status(), StatusCode::kForbidden, "not-owner");
  ExpectStatus(Heartbeat(store(), "", pending.id, "").status(), StatusCode::kConflict, "not-in-progress");
}

TEST_P(StoreContract, AbandonRequeuesBehindWaitingTasksWithoutCountingAnAttempt) {
  Task a = Create("ab");
  Task b = Create("ab");
  Task claimed = ClaimOne("w1", "", {"ab"});
  ASSERT_EQ(claimed.id, a.id);
  auto r = Abandon(store(), "", a.id, "w1");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, "PENDING");
  EXPECT_EQ(r->worker_id, "");
  EXPECT_EQ(r->lease_until, "");
  EXPECT_EQ(r->attempts, 1);
  auto stats = Await(store().Stats("", "ab"));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->ready, 2);
  EXPECT_EQ(stats->in_progress, 0);

  EXPECT_EQ(ClaimOne("w2", "", {"ab"}).id, b.id);  // b was waiting first
  Task again = ClaimOne("w2", "", {"ab"});
  EXPECT_EQ(again.id, a.id);
  EXPECT_EQ(again.attempts, 2);
}

TEST_P(StoreContract, AbandonErrors) {
  Task pending = Create("ab");
  Create("ab2");
  Task t = ClaimOne("w1", "", {"ab2"});
  ExpectStatus(Abandon(store(), "", "nope", "w1").status(), StatusCode::kNotFound, "not-found");
  ExpectStatus(Abandon(store(), "", t.id, "w2").status(), StatusCode::kForbidden, "not-owner");
  ExpectStatus(Abandon(store(), "", pending.id, "").status(), StatusCode::kConflict, "not-in-progress");
  ASSERT_TRUE(Abandon(store(), "", t.id, "w1").ok());
  ExpectStatus(Abandon(store(), "", t.id, "w1").status(), StatusCode::kForbidden, "not-owner");
}

TEST_P(StoreContract, NackRequeuesWithDelayAndCountsOnlyDeliveries) {
  Create("nk", "", 0, 5);
  Task t = ClaimOne("w1", "", {"nk"});
  SleepToStartOfNextSecond();
  auto r = Nack("", t.id, "w1", /*delay_seconds=*/1);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->dead_lettered);
  EXPECT_EQ(r->delay_seconds, 1);
  EXPECT_EQ(r->task.status, "PENDING");
  EXPECT_EQ(r->task.attempts, 1);  // D2: no increment on nack
  EXPECT_EQ(r->task.worker_id, "");
  EXPECT_EQ(r->task.lease_until, "");
  EXPECT_EQ(r->task.error, "");

  auto stats = Await(store().Stats("", "nk"));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->delayed, 1);
  EXPECT_EQ(stats->in_progress, 0);
  auto early = Claim("w2", "", {"nk"});
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early->has_value());

  std::this_thread::sleep_for(milliseconds(1100));
  Task again = ClaimOne("w2", "", {"nk"});
  EXPECT_EQ(again.id, t.id);
  EXPECT_EQ(again.attempts, 2);
  EXPECT_EQ(again.worker_id, "w2");
}

TEST_P(StoreContract, NackWithoutDelayGoesThroughTheDelayedSetAndIsClaimableAtOnce) {
  Create("nk0");
  Task t = ClaimOne("w1", "", {"nk0"});
  auto r = Nack("", t.id, "w1", 0);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->delay_seconds, 0);
  auto stats = Await(store().Stats("", "nk0"));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->delayed, 1);
  EXPECT_EQ(ClaimOne("w1", "", {"nk0"}).id, t.id);
}

TEST_P(StoreContract, NackDelayUsesBackoffOfAttemptsAndIsCapped) {
  Create("nkb");
  Task t = ClaimOne("w1", "", {"nkb"});
  NackInput in;
  in.task_id = t.id;
  in.worker_id = "w1";
  int seen_attempts = -1;
  in.backoff = [&seen_attempts](int attempts) {
    seen_attempts = attempts;
    return int64_t{5000};
  };
  in.max_delay_seconds = 7;
  in.now = RealNow();
  auto r = Await(store().Nack(in));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(seen_attempts, 1);
  EXPECT_EQ(r->delay_seconds, 7);

  Task u = Create("nkb2");
  ClaimOne("w1", "", {"nkb2"});
  in.task_id = u.id;
  in.delay_seconds = 60;  // explicit delays are capped too
  in.now = RealNow();
  r = Await(store().Nack(in));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->delay_seconds, 7);
}

TEST_P(StoreContract, NackDeadLettersAtMaxAttemptsWithAFailedResult) {  // D2, D11
  Create("dl", "", 0, /*max_attempts=*/2);
  Task first = ClaimOne("w1", "", {"dl"});
  auto r1 = Nack("", first.id, "w1", 0, "boom");
  ASSERT_TRUE(r1.ok()) << r1.status().message();
  EXPECT_FALSE(r1->dead_lettered);

  Task second = ClaimOne("w1", "", {"dl"});
  EXPECT_EQ(second.attempts, 2);
  auto r2 = Nack("", second.id, "w1", 0, "boom");
  ASSERT_TRUE(r2.ok()) << r2.status().message();
  EXPECT_TRUE(r2->dead_lettered);
  EXPECT_EQ(r2->delay_seconds, 0);
  EXPECT_EQ(r2->task.status, "FAILED");
  EXPECT_EQ(r2->task.error, "boom");
  EXPECT_EQ(r2->task.attempts, 2);
  EXPECT_EQ(r2->task.worker_id, "");

  auto stats = Await(store().Stats("", "dl"));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->dlq, 1);
  EXPECT_EQ(stats->in_progress, 0);
  EXPECT_EQ(stats->delayed, 0);
  EXPECT_EQ(stats->ready, 0);

  auto result = Await(store().GetResult("", first.id));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->task_id, first.id);
  EXPECT_EQ(result->status, "FAILED");
  EXPECT_EQ(result->error, "boom");
  EXPECT_FALSE(result->completed_at.empty());

  auto none = Claim("w1", "", {"dl"});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_P(StoreContract, NackWithoutReasonDeadLettersWithMaxAttempts) {
  Create("dl1", "", 0, 1);
  Task t = ClaimOne("w1", "", {"dl1"});
  auto r = Nack("", t.id, "w1");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->dead_lettered);
  EXPECT_EQ(r->task.error, "MAX_ATTEMPTS");
}

TEST_P(StoreContract, NackErrors) {
  Task pending = Create("nke");
  Create("nke2");
  Task t = ClaimOne("w1", "", {"nke2"});
  ExpectStatus(Nack("", "nope", "w1").status(), StatusCode::kNotFound, "not-found");
  ExpectStatus(Nack("", t.id, "w2").status(), StatusCode::kForbidden, "not-owner");
  ExpectStatus(Nack("", pending.id, "").status(), StatusCode::kConflict, "not-in-progress");
  ASSERT_TRUE(Nack("", t.id, "w1", 30).ok());
  ExpectStatus(Nack("", t.id, "w1").status(), StatusCode::kForbidden, "not-owner");
}

TEST_P(StoreContract, ResultCompletesTaskAndStoresRecord) {
  Create("res", "acme");
  Task t = ClaimOne("w1", "acme", {"res"});
  auto r = Complete("acme", t.id, "w1");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, "COMPLETED");
  EXPECT_EQ(r->result_key, "codeq:results");
  EXPECT_EQ(r->worker_id, "");
  EXPECT_EQ(r->lease_until, "");
  EXPECT_EQ(r->attempts, 1);

  auto res = Await(store().GetResult("acme", t.id));
  ASSERT_TRUE(res.ok()) << res.status().message();
  EXPECT_EQ(res->task_id, t.id);
  EXPECT_EQ(res->status, "COMPLETED");
  ASSERT_TRUE(res->result.has_value());
  EXPECT_EQ(boost::json::value(*res->result), boost::json::parse(R"({"ok":true})"));

  auto stats = Await(store().Stats("acme", "res"));  // D3: the tenant's own in-progress set
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->in_progress, 0);
  EXPECT_EQ(stats->ready, 0);

  // Finished: a second submission conflicts, and no repair or claim brings it back.
  ExpectStatus(Complete("acme", t.id, "w1").status(), StatusCode::kConflict, "not-in-progress");
  auto repaired = Repair("acme", {"res"});
  ASSERT_TRUE(repaired.ok());
  EXPECT_TRUE(repaired->expired_commands.empty());
  auto none = Claim("w2", "acme", {"res"});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_P(StoreContract, FailedResultCopiesErrorIntoTask) {  // D11
  Create("resf");
  Task t = ClaimOne("w1", "", {"resf"});
  auto r = Complete("", t.id, "w1", "FAILED", "disk full");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, "FAILED");
  EXPECT_EQ(r->error, "disk full");
  auto res = Await(store().GetResult("", t.id));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, "FAILED");
  EXPECT_EQ(res->error, "disk full");
  EXPECT_FALSE(res->result.has_value());
}

TEST_P(StoreContract, ResultErrors) {
  Task pending = Create("rese");
  Create("rese2");
  Task t = ClaimOne("w1", "", {"rese2"});
  ExpectStatus(Complete("", "nope", "w1").status(), StatusCode::kNotFound, "task not found");
  ExpectStatus(Complete("", t.id, "w2").status(), StatusCode::kForbidden, "not-owner");
  ExpectStatus(Complete("", pending.id, "w1").status(), StatusCode::kConflict, "not-in-progress");
  auto no_result = Await(store().GetResult("", t.id));
  ExpectStatus(no_result.status(), StatusCode::kNotFound, "result not found");
  ExpectStatus(Await(store().GetResult("", "nope")).status(), StatusCode::kNotFound, "task not found");
  ExpectStatus(Await(store().GetTask("", "nope")).status(), StatusCode::kNotFound, "not found");
}

}  // namespace
}  // namespace codeq::contract
