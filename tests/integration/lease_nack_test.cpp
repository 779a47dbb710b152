// Lease expiry, NACK, dead-lettering and abandon over HTTP (SPEC §2.5–§2.7, §4.8, §4.9, §5 with
// D2, D8, D10, D11). The suite's server uses BACKOFF_POLICY=fixed, BACKOFF_BASE_SECONDS=1.
#include <thread>

#include "integration/it_fixture.h"

namespace codeq::it {
namespace {

using Clock = std::chrono::steady_clock;

class LeaseNack : public IntegrationTest {
 protected:
  static void ExpectError(const HttpResponse& r, int status, const std::string& error, const std::string& what) {
    EXPECT_EQ(r.status, status) << what << " -> " << r.Describe();
    EXPECT_EQ(r.Json(), json::value(json::object{{"error", error}})) << what << " -> " << r.Describe();
  }
};

TEST_F(LeaseNack, ExpiredLeaseIsRedeliveredToAnotherWorker) {
  const std::string cmd = Cmd();
  const std::string w1 = WorkerAs("worker-one"), w2 = WorkerAs("worker-two");
  auto t = CreateTask(cmd);
  const std::string id = JsonString(t, "id");
  auto first = ClaimOne(cmd, w1, 1);
  EXPECT_EQ(JsonString(first, "workerId"), "worker-one");
  EXPECT_EQ(JsonInt(first, "attempts"), 1);
  // While the lease is live, nobody else gets it.
  EXPECT_EQ(ClaimRaw(w2, {cmd}).status, 204);

  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  // The expired lease is repaired at claim time (requeued with the 1 s fixed backoff).
  auto second = ClaimRaw(w2, {cmd}, 30, 4);
  ASSERT_EQ(second.status, 200) << second.Describe();
  EXPECT_EQ(JsonString(second.Json(), "id"), id);
  EXPECT_EQ(JsonString(second.Json(), "workerId"), "worker-two");
  EXPECT_EQ(JsonInt(second.Json(), "attempts"), 2) << "attempts count deliveries (D2)";

  // The first worker lost the task.
  ExpectError(Post(TaskPath(id, "heartbeat"), w1, json::object{}), 403, "not-owner", "stale heartbeat");
  ExpectError(Post(TaskPath(id, "result"), w1, json::object{{"status", "COMPLETED"}, {"result", json::object{}}}), 403,
              "not-owner", "stale result");
  ExpectError(Post(TaskPath(id, "nack"), w1, json::object{}), 403, "not-owner", "stale nack");
  ExpectError(Post(TaskPath(id, "abandon"), w1, json::object{}), 403, "not-owner", "stale abandon");
  // The new owner completes it.
  auto done = Post(TaskPath(id, "result"), w2, json::object{{"status", "COMPLETED"}, {"result", json::object{{"ok", 1}}}});
  EXPECT_EQ(done.status, 200) << done.Describe();
  EXPECT_EQ(JsonString(GetTask(id).Json(), "status"), "COMPLETED");
}

TEST_F(LeaseNack, HeartbeatKeepsTheLeaseAlive) {
  const std::string cmd = Cmd();
  const std::string w1 = WorkerAs("hb-one"), w2 = WorkerAs("hb-two");
  auto t = CreateTask(cmd);
  const std::string id = JsonString(t, "id");
  ClaimOne(cmd, w1, 2);
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    auto hb = Post(TaskPath(id, "heartbeat"), w1, json::object{{"extendSeconds", 2}});
    ASSERT_EQ(hb.status, 200) << hb.Describe();
  }
  // 2.4 s after the claim the original 2 s lease would be gone; the heartbeats kept it.
  EXPECT_EQ(ClaimRaw(w2, {cmd}).status, 204);
  auto cur = GetTask(id).Json();
  EXPECT_EQ(JsonString(cur, "workerId"), "hb-one");
  EXPECT_EQ(JsonInt(cur, "attempts"), 1);
}

TEST_F(LeaseNack, HeartbeatRecreatesAVanishedLease) {
  if (EmbeddedBackend()) GTEST_SKIP() << "exercises the Redis backend itself";
  // D10: the owner's heartbeat re-creates the lease key if it vanished while the task is still
  // IN_PROGRESS, so the next repair does not take the task away.
  const std::string cmd = Cmd();
  auto t = CreateTask(cmd);
  const std::string id = JsonString(t, "id");
  ClaimOne(cmd, "", 60);
  auto del = redis().Call({"DEL", "codeq:lease:" + id});
  ASSERT_TRUE(del && del->type == ':' && del->integer == 1) << "lease key codeq:lease:<id> expected (SPEC §4.1)";
  auto hb = Post(TaskPath(id, "heartbeat"), Worker(), json::object{{"extendSeconds", 30}});
  ASSERT_EQ(hb.status, 200) << hb.Describe();
  auto ttl = redis().Call({"TTL", "codeq:lease:" + id});
  ASSERT_TRUE(ttl && ttl->type == ':');
  EXPECT_GT(ttl->integer, 20) << "lease re-created with the extension";
  auto owner = redis().Call({"GET", "codeq:lease:" + id});
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->str, "dev-worker");
  // A repair (any claim of this command) leaves it alone.
  EXPECT_EQ(ClaimRaw(WorkerAs("thief"), {cmd}).status, 204);
  EXPECT_EQ(JsonString(GetTask(id).Json(), "workerId"), "dev-worker");
}

TEST_F(LeaseNack, NackRequeuesWithDelay) {
  const std::string cmd = Cmd();
  auto t = CreateTask(cmd);
  const std::string id = JsonString(t, "id");
  ClaimOne(cmd);
  auto start = Clock::now();
  auto nack = Post(TaskPath(id, "nack"), Worker(), json::object{{"delaySeconds", 2}, {"reason", "try later"}});
  ASSERT_EQ(nack.status, 200) << nack.Describe();
  EXPECT_EQ(nack.Json(), json::parse(R"({"status":"requeued","delaySeconds":2})"));
  auto cur = GetTask(id).Json();
  EXPECT_EQ(JsonString(cur, "status"), "PENDING");
  EXPECT_FALSE(JsonHas(cur, "workerId"));
  EXPECT_FALSE(JsonHas(cur, "leaseUntil"));
  EXPECT_FALSE(JsonHas(cur, "error")) << "error is cleared on requeue";
  EXPECT_EQ(JsonInt(cur, "attempts"), 1) << "nack does not count an attempt (D2)";

  EXPECT_EQ(ClaimRaw(Worker(), {cmd}).status, 204) << "not claimable during the delay";
  auto again = ClaimRaw(Worker(), {cmd}, 0, 5);
  auto ms = MsSince(start);
  ASSERT_EQ(again.status, 200) << again.Describe();
  EXPECT_EQ(JsonString(again.Json(), "id"), id);
  EXPECT_EQ(JsonInt(again.Json(), "attempts"), 2);
  EXPECT_GE(ms, 950);
  EXPECT_LE(ms, 3500);
}

TEST_F(LeaseNack, NackWithoutDelayUsesBackoffAndEmptyBodyIsAccepted) {
  const std::string cmd = Cmd();
  auto t = CreateTask(cmd);
  const std::string id = JsonString(t, "id");
  ClaimOne(cmd);
  auto nack = Call("POST", TaskPath(id, "nack"), Worker(), "");  // D9: empty body = {}
  ASSERT_EQ(nack.status, 200) << nack.Describe();
  EXPECT_EQ(nack.Json(), json::parse(R"({"status":"requeued","delaySeconds":1})")) << "fixed backoff of 1 s";
  auto again = ClaimRaw(Worker(), {cmd}, 0, 4);
  EXPECT_EQ(again.status, 200) << again.Describe();
  // Explicit delays are capped at backoffMaxSeconds (900 by default).
  const std::string id2 = JsonString(again.Json(), "id");
  auto capped = Post(TaskPath(id2, "nack"), Worker(), json::object{{"delaySeconds", 100000}});
  ASSERT_EQ(capped.status, 200) << capped.Describe();
  EXPECT_EQ(JsonInt(capped.Json(), "delaySeconds"), 900);
  // Malformed nack bodies are 400.
  ExpectError(Call("POST", TaskPath(id2, "nack"), Worker(), "{bad"), 400, "invalid body", "malformed nack");
}

TEST_F(LeaseNack, NackExhaustingAttemptsDeadLetters) {
  const std::string cmd = Cmd();
  auto t = CreateTask(cmd, {{"maxAttempts", 2}});
  const std::string id = JsonString(t, "id");
  auto c1 = ClaimOne(cmd);
  EXPECT_EQ(JsonInt(c1, "attempts"), 1);
  auto n1 = Post(TaskPath(id, "nack"), Worker(), json::object{{"delaySeconds", 1}, {"reason", "first"}});
  ASSERT_EQ(n1.status, 200) << n1.Describe();
  EXPECT_EQ(JsonString(n1.Json(), "status"), "requeued");

  auto c2 = ClaimRaw(Worker(), {cmd}, 0, 4);
  ASSERT_EQ(c2.status, 200) << c2.Describe();
  EXPECT_EQ(JsonInt(c2.Json(), "attempts"), 2);
  auto n2 = Post(TaskPath(id, "nack"), Worker(), json::object{{"delaySeconds", 1}, {"reason", "gave up"}});
  ASSERT_EQ(n2.status, 200) << n2.Describe();
  EXPECT_EQ(n2.Json(), json::parse(R"({"status":"dlq","delaySeconds":0})"));

  auto task = GetTask(id).Json();
  EXPECT_EQ(JsonString(task, "status"), "FAILED");
  EXPECT_EQ(JsonString(task, "error"), "gave up");
  EXPECT_FALSE(JsonHas(task, "workerId"));
  EXPECT_EQ(JsonInt(task, "attempts"), 2);

  // D11: the DLQ transition stores a FAILED result record.
  auto res = Get(TaskPath(id, "result"), Producer());
  ASSERT_EQ(res.status, 200) << res.Describe();
  auto rec = res.Json().at("result");
  EXPECT_EQ(JsonString(rec, "taskId"), id);
  EXPECT_EQ(JsonString(rec, "status"), "FAILED");
  EXPECT_EQ(JsonString(rec, "error"), "gave up");
  EXPECT_EQ(JsonString(res.Json().at("task"), "status"), "FAILED");

  auto stats = Get("/v1/codeq/admin/queues/" + cmd, Admin());
  ASSERT_EQ(stats.status, 200) << stats.Describe();
  EXPECT_EQ(stats.Json(), json::parse(R"({"command":")" + cmd + R"(","ready":0,"delayed":0,"inProgress":0,"dlq":1})"));

  // Not claimable any more; a later nack/result is refused.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(ClaimRaw(Worker(), {cmd}).status, 204);
  auto late = Post(TaskPath(id, "nack"), Worker(), json::object{});
  EXPECT_EQ(late.status, 403) << late.Describe();
}

TEST_F(LeaseNack, DeadLetterWithoutReasonSaysMaxAttempts) {
  const std::string cmd = Cmd();
  auto t = CreateTask(cmd, {{"maxAttempts", 1}});
  const std::string id = JsonString(t, "id");
  ClaimOne(cmd);
  auto n = Post(TaskPath(id, "nack"), Worker(), json::object{});
  ASSERT_EQ(n.status, 200) << n.Describe();
  EXPECT_EQ(JsonString(n.Json(), "status"), "dlq");
  EXPECT_EQ(JsonString(GetTask(id).Json(), "error"), "MAX_ATTEMPTS");
}

TEST_F(LeaseNack, LeaseExpiryExhaustingAttemptsDeadLetters) {
  const std::string cmd = Cmd();
  auto t = CreateTask(cmd, {{"maxAttempts", 1}});
  const std::string id = JsonString(t, "id");
  ClaimOne(cmd, "", 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  // The repair at this claim finds the expired lease and dead-letters the task.
  EXPECT_EQ(ClaimRaw(Worker(), {cmd}).status, 204);
  auto task = GetTask(id).Json();
  EXPECT_EQ(JsonString(task, "status"), "FAILED") << json::serialize(task);
  EXPECT_EQ(JsonString(task, "error"), "LEASE_EXPIRED");
  auto res = Get(TaskPath(id, "result"), Producer());
  EXPECT_EQ(res.status, 200) << res.Describe();
  auto stats = Get("/v1/codeq/admin/queues/" + cmd, Admin()).Json();
  EXPECT_EQ(JsonInt(stats, "dlq"), 1);
  EXPECT_EQ(JsonInt(stats, "inProgress"), 0);
}

TEST_F(LeaseNack, AbandonRequeuesImmediately) {
  const std::string cmd = Cmd();
  auto t = CreateTask(cmd);
  const std::string id = JsonString(t, "id");
  ClaimOne(cmd);
  auto ab = Call("POST", TaskPath(id, "abandon"), Worker(), "");  // no body is read
  ASSERT_EQ(ab.status, 200) << ab.Describe();
  EXPECT_EQ(ab.Json(), json::parse(R"({"status":"requeued"})"));
  auto cur = GetTask(id).Json();
  EXPECT_EQ(JsonString(cur, "status"), "PENDING");
  EXPECT_FALSE(JsonHas(cur, "workerId"));
  EXPECT_FALSE(JsonHas(cur, "leaseUntil"));
  EXPECT_EQ(JsonInt(cur, "attempts"), 1) << "abandon leaves attempts unchanged";

  // PENDING after abandon: ownership is checked before status (SPEC order), so 403.
  ExpectError(Post(TaskPath(id, "heartbeat"), Worker(), json::object{}), 403, "not-owner", "heartbeat on pending");
  ExpectError(Post(TaskPath(id, "abandon"), Worker(), json::object{}), 403, "not-owner", "abandon on pending");
  ExpectError(Post(TaskPath(id, "nack"), Worker(), json::object{}), 403, "not-owner", "nack on pending");
  // result: workerId empty → no ownership check → status check.
  ExpectError(Post(TaskPath(id, "result"), Worker(), json::object{{"status", "COMPLETED"}, {"result", json::object{}}}),
              409, "not-in-progress", "result on pending");

  auto again = ClaimRaw(Worker(), {cmd});
  ASSERT_EQ(again.status, 200) << "immediately claimable: " << again.Describe();
  EXPECT_EQ(JsonString(again.Json(), "id"), id);
  EXPECT_EQ(JsonInt(again.Json(), "attempts"), 2);
}

TEST_F(LeaseNack, AbandonedTaskGoesBehindWaitingOnes) {
  const std::string cmd = Cmd();
  auto a = CreateTask(cmd, {{"payload", "a"}});
  auto b = CreateTask(cmd, {{"payload", "b"}});
  auto first = ClaimOne(cmd);
  ASSERT_EQ(JsonString(first, "id"), JsonString(a, "id"));
  ASSERT_EQ(Post(TaskPath(JsonString(a, "id"), "abandon"), Worker(), json::object{}).status, 200);
  EXPECT_EQ(JsonString(ClaimOne(cmd), "id"), JsonString(b, "id"));
  EXPECT_EQ(JsonString(ClaimOne(cmd), "id"), JsonString(a, "id"));
}

TEST_F(LeaseNack, NonOwnerIsRefused) {
  const std::string cmd = Cmd();
  const std::string owner = WorkerAs("owner-w"), other = WorkerAs("other-w");
  auto t = CreateTask(cmd);
  const std::string id = JsonString(t, "id");
  ClaimOne(cmd, owner);
  ExpectError(Post(TaskPath(id, "heartbeat"), other, json::object{}), 403, "not-owner", "heartbeat");
  ExpectError(Post(TaskPath(id, "abandon"), other, json::object{}), 403, "not-owner", "abandon");
  ExpectError(Post(TaskPath(id, "nack"), other, json::object{}), 403, "not-owner", "nack");
  ExpectError(Post(TaskPath(id, "result"), other, json::object{{"status", "COMPLETED"}, {"result", json::object{}}}),
              403, "not-owner", "result");
  // Still owned and in progress.
  auto cur = GetTask(id).Json();
  EXPECT_EQ(JsonString(cur, "status"), "IN_PROGRESS");
  EXPECT_EQ(JsonString(cur, "workerId"), "owner-w");
  EXPECT_EQ(Post(TaskPath(id, "heartbeat"), owner, json::object{}).status, 200);
}

TEST_F(LeaseNack, UnknownIds) {
  const std::string id = "00000000-0000-4000-8000-00000000abcd";
  for (const char* action : {"heartbeat", "abandon", "nack"}) {
    auto r = Post(TaskPath(id, action), Worker(), json::object{});
    EXPECT_EQ(r.status, 404) << action << " -> " << r.Describe();
    EXPECT_FALSE(r.ErrorText().empty()) << action;
  }
}

}  // namespace
}  // namespace codeq::it
