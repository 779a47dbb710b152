// POST /v1/codeq/tasks/claim over HTTP: empty bodies, 204, long polling, priority order, delayed
// and scheduled tasks (SPEC §2.3 visibility, §2.4, §4.8 with D4, D9).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <future>
#include <thread>

#include "integration/it_fixture.h"
#include "support/raw_connection.h"

namespace codeq::it {
namespace {

using Clock = std::chrono::steady_clock;

class ClaimTest : public IntegrationTest {};

TEST_F(ClaimTest, EmptyBodyIsAnEmptyObject) {
  const std::string cmd = Cmd();
  TokenSpec w;
  w.sub = "only-" + cmd;
  w.event_types = {cmd};
  w.scope = "codeq:claim";
  const std::string token = MintWorker(w);
  // No body at all: {} → the token's event types.
  auto none = Call("POST", "/v1/codeq/tasks/claim", token, "");
  EXPECT_EQ(none.status, 204) << none.Describe();
  EXPECT_TRUE(none.body.empty()) << none.body;
  auto t = CreateTask(cmd);
  auto r = Call("POST", "/v1/codeq/tasks/claim", token, "");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(JsonString(r.Json(), "id"), JsonString(t, "id"));
  // Malformed JSON is still 400; wrong member types too.
  auto bad = Call("POST", "/v1/codeq/tasks/claim", token, "{nope");
  EXPECT_EQ(bad.status, 400) << bad.Describe();
  EXPECT_EQ(bad.ErrorText(), "invalid body");
  auto bad_type = Post("/v1/codeq/tasks/claim", token, json::object{{"leaseSeconds", "10"}});
  EXPECT_EQ(bad_type.status, 400) << bad_type.Describe();
  auto bad_cmds = Post("/v1/codeq/tasks/claim", token, json::object{{"commands", cmd}});
  EXPECT_EQ(bad_cmds.status, 400) << bad_cmds.Describe();
}

TEST_F(ClaimTest, NothingToClaimIs204) {
  auto r = ClaimRaw(Worker(), {Cmd()});
  EXPECT_EQ(r.status, 204) << r.Describe();
  EXPECT_TRUE(r.body.empty());
  EXPECT_LT(r.elapsed.count(), 1000) << "no wait requested";
}

TEST_F(ClaimTest, InvalidCommandInClaimIs400) {
  auto r = ClaimRaw(Worker(), {"a b"});
  EXPECT_EQ(r.status, 400) << r.Describe();
  EXPECT_EQ(r.ErrorText(), "invalid command");
  auto colon = ClaimRaw(Worker(), {Cmd(), "x:y"});
  EXPECT_EQ(colon.status, 400) << colon.Describe();
}

TEST_F(ClaimTest, LongPollWakesUpOnCreate) {
  const std::string cmd = Cmd();
  const int port = codeq().port();
  const std::string worker = Worker();
  auto started = Clock::now();
  std::promise<Clock::time_point> answered;
  auto answered_at = answered.get_future();
  std::thread claimer([&] {
    HttpClient c("127.0.0.1", port);
    auto r = c.Request("POST", "/v1/codeq/tasks/claim", Auth(worker),
                       json::serialize(json::object{{"commands", json::array{json::value(cmd)}}, {"waitSeconds", 5}}));
    answered.set_value(Clock::now());
    EXPECT_EQ(r.status, 200) << r.Describe();
    EXPECT_EQ(JsonString(r.Json(), "command"), cmd);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  auto created_at = Clock::now();
  auto t = CreateTask(cmd);
  ASSERT_EQ(answered_at.wait_for(std::chrono::seconds(6)), std::future_status::ready);
  auto when = answered_at.get();
  claimer.join();
  auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(when - created_at).count();
  EXPECT_LT(latency, 500) << "claim answered " << latency << " ms after the create";
  EXPECT_GE(std::chrono::duration_cast<std::chrono::milliseconds>(when - started).count(), 600)
      << "the claim must have been waiting";
}

// SPEC §2.4: "If the client disconnects during a long poll, the request is abandoned." Without
// that, the gone client's poll (the oldest waiter) is the one a create wakes, and it takes the task
// for a lease nobody holds.
TEST_F(ClaimTest, LongPollOfAClientThatWentAwayIsAbandoned) {
  const std::string cmd = Cmd();
  const std::string body = json::serialize(json::object{{"commands", json::array{json::value(cmd)}}, {"waitSeconds", 20}});
  {
    auto gone = test::RawConnection::Connect("127.0.0.1", codeq().port());
    ASSERT_TRUE(gone);
    ASSERT_TRUE(gone->Send(test::HttpRequestText("POST", "/v1/codeq/tasks/claim", {"Authorization: Bearer " + Worker()}, body)));
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the poll is waiting now
  }  // closed
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto t = CreateTask(cmd);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // time for a stale poll to take it
  auto r = ClaimRaw(Worker(), {cmd});
  ASSERT_EQ(r.status, 200) << "the task went to a client that had gone away: " << r.Describe();
  EXPECT_EQ(JsonString(r.Json(), "id"), JsonString(t, "id"));
  EXPECT_EQ(JsonInt(r.Json(), "attempts"), 1) << "first delivery";
  // The abandoned request is counted as nginx logs it: 499.
  auto m = Get("/metrics", "");
  EXPECT_NE(m.body.find("codeq_http_requests_total{method=\"POST\",route=\"/v1/codeq/tasks/claim\",status=\"499\"}"),
            std::string::npos);
}

// A client that sends its claim and closes its side at once (nc -N, shutdown(SHUT_WR)) is gone
// before the claim starts: nothing is claimed, so the ready task keeps its attempts and its place.
TEST_F(ClaimTest, LongPollOfAClientThatClosedRightAwayClaimsNothing) {
  const std::string cmd = Cmd();
  auto first = CreateTask(cmd);
  auto second = CreateTask(cmd);
  for (int i = 0; i < 3; ++i) {
    auto gone = test::RawConnection::Connect("127.0.0.1", codeq().port());
    ASSERT_TRUE(gone);
    // Corked, the request and the FIN leave in one segment: the server sees the close together
    // with the request, never in between (that later case is the abandon of the test above).
    const int one = 1;
    ASSERT_EQ(::setsockopt(gone->fd(), IPPROTO_TCP, TCP_CORK, &one, sizeof one), 0);
    ASSERT_TRUE(gone->Send(test::HttpRequestText(
        "POST", "/v1/codeq/tasks/claim", {"Authorization: Bearer " + Worker()},
        json::serialize(json::object{{"commands", json::array{json::value(cmd)}}, {"waitSeconds", 3}}))));
    ::shutdown(gone->fd(), SHUT_WR);
    EXPECT_TRUE(gone->WaitClosed(std::chrono::milliseconds(3000)));
    EXPECT_EQ(gone->Received(), "") << "nobody to answer";
  }
  auto r = ClaimRaw(Worker(), {cmd});
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(JsonString(r.Json(), "id"), JsonString(first, "id")) << "the first task kept its place";
  EXPECT_EQ(JsonInt(r.Json(), "attempts"), 1) << "no delivery was counted for the gone clients";
  (void)second;
}

TEST_F(ClaimTest, MoreThan100CommandsIs400) {
  json::array many;
  for (int i = 0; i <= 100; ++i) many.push_back(json::value(Cmd(std::to_string(i))));
  auto r = Post("/v1/codeq/tasks/claim", Worker(), json::object{{"commands", many}});
  EXPECT_EQ(r.status, 400) << r.Describe();
  EXPECT_EQ(r.ErrorText(), "too many commands (max 100)");
  many.pop_back();
  auto ok = Post("/v1/codeq/tasks/claim", Worker(), json::object{{"commands", many}});
  EXPECT_EQ(ok.status, 204) << ok.Describe();
}

// The disconnect watch reads the connection while the poll waits: a pipelined request that arrives
// then is kept and answered after the poll's own answer, in order.
TEST_F(ClaimTest, RequestPipelinedBehindALongPollIsAnsweredAfterIt) {
  const std::string cmd = Cmd();
  auto conn = test::RawConnection::Connect("127.0.0.1", codeq().port());
  ASSERT_TRUE(conn);
  const std::string claim = test::HttpRequestText(
      "POST", "/v1/codeq/tasks/claim", {"Authorization: Bearer " + Worker()},
      json::serialize(json::object{{"commands", json::array{json::value(cmd)}}, {"waitSeconds", 1}}));
  ASSERT_TRUE(conn->Send(claim));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the poll is waiting now
  ASSERT_TRUE(conn->Send(test::HttpRequestText("GET", "/healthz", {})));
  auto count = [&] {
    size_t n = 0;
    for (size_t at = conn->Received().find("HTTP/1.1 "); at != std::string::npos;
         at = conn->Received().find("HTTP/1.1 ", at + 1)) {
      ++n;
    }
    return n;
  };
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (count() < 2 && !conn->Closed() && Clock::now() < deadline) conn->ReadSome(std::chrono::milliseconds(100));
  ASSERT_EQ(count(), 2u) << conn->Received();
  const std::string& got = conn->Received();
  EXPECT_EQ(got.rfind("HTTP/1.1 204", 0), 0u) << got;
  EXPECT_NE(got.find("HTTP/1.1 200", 1), std::string::npos) << got;
  EXPECT_FALSE(conn->Closed());
}

TEST_F(ClaimTest, LongPollTimesOutWith204) {
  const std::string cmd = Cmd();
  auto start = Clock::now();
  auto r = ClaimRaw(Worker(), {cmd}, 0, 2);
  auto ms = MsSince(start);
  EXPECT_EQ(r.status, 204) << r.Describe();
  EXPECT_GE(ms, 1950) << "answered before the wait ended";
  EXPECT_LE(ms, 3500) << "answered long after the wait ended";
}

TEST_F(ClaimTest, WaitSecondsIsCappedAt30) {
  // A huge wait is clamped, not rejected: the request is accepted and a task that arrives is returned.
  const std::string cmd = Cmd();
  CreateTask(cmd);
  auto r = ClaimRaw(Worker(), {cmd}, 0, 100000);
  EXPECT_EQ(r.status, 200) << r.Describe();
}

TEST_F(ClaimTest, PriorityOrderThenFifo) {
  const std::string cmd = Cmd();
  // (priority, label) in creation order.
  const std::vector<std::pair<int, std::string>> tasks = {{0, "p0-a"}, {5, "p5-a"}, {9, "p9-a"}, {5, "p5-b"},
                                                          {0, "p0-b"}, {9, "p9-b"}, {3, "p3-a"}, {42, "p9-c"},
                                                          {-1, "p0-c"}};
  for (const auto& [p, label] : tasks) CreateTask(cmd, {{"priority", p}, {"payload", label}});
  const std::vector<std::string> expected = {"p9-a", "p9-b", "p9-c", "p5-a", "p5-b", "p3-a", "p0-a", "p0-b", "p0-c"};
  std::vector<std::string> got;
  for (size_t i = 0; i < tasks.size(); ++i) {
    auto t = ClaimOne(cmd);
    auto label = json::parse(JsonString(t, "payload"));
    got.push_back(label.is_string() ? std::string(label.get_string()) : "?");
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(ClaimRaw(Worker(), {cmd}).status, 204);
}

TEST_F(ClaimTest, PriorityBeatsCommandOrder) {
  // D4: for p = 9..0, for each requested command in order.
  const std::string a = Cmd("_a"), b = Cmd("_b");
  CreateTask(a, {{"priority", 1}, {"payload", "a1"}});
  CreateTask(b, {{"priority", 8}, {"payload", "b8"}});
  CreateTask(a, {{"priority", 8}, {"payload", "a8"}});
  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i) {
    auto r = ClaimRaw(Worker(), {a, b});
    ASSERT_EQ(r.status, 200) << r.Describe();
    got.push_back(std::string(json::parse(JsonString(r.Json(), "payload")).as_string()));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"a8", "b8", "a1"}));
}

TEST_F(ClaimTest, DelayedTaskBecomesClaimableAfterItsDelay) {
  const std::string cmd = Cmd();
  auto created_at = Clock::now();
  auto t = CreateTask(cmd, {{"delaySeconds", 2}});
  EXPECT_EQ(JsonString(t, "status"), "PENDING");
  auto now = ClaimRaw(Worker(), {cmd});
  EXPECT_EQ(now.status, 204) << "a delayed task is not claimable at once: " << now.Describe();
  auto stats = Get("/v1/codeq/admin/queues/" + cmd, Admin());
  EXPECT_EQ(JsonInt(stats.Json(), "delayed"), 1) << stats.Describe();
  EXPECT_EQ(JsonInt(stats.Json(), "ready"), 0) << stats.Describe();

  auto later = ClaimRaw(Worker(), {cmd}, 0, 5);
  auto ms = MsSince(created_at);
  ASSERT_EQ(later.status, 200) << later.Describe();
  EXPECT_EQ(JsonString(later.Json(), "id"), JsonString(t, "id"));
  // Visibility is whole epoch seconds (now_sec + 2), so the wait is between 1 and ~2.3 s.
  EXPECT_GE(ms, 950) << "claimed too early";
  EXPECT_LE(ms, 3500) << "claimed too late";
}

TEST_F(ClaimTest, RunAtInThePastIsImmediateAndInTheFutureIsDelayed) {
  const std::string cmd = Cmd();
  auto past = CreateTask(cmd, {{"runAt", "2020-01-01T00:00:00Z"}});
  auto r = ClaimRaw(Worker(), {cmd});
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(JsonString(r.Json(), "id"), JsonString(past, "id"));

  // Fractional seconds and offsets are accepted; runAt wins over delaySeconds.
  auto future = CreateTask(cmd, {{"runAt", "2999-06-01T10:00:00.123+02:00"}, {"delaySeconds", 0}});
  EXPECT_EQ(JsonString(future, "status"), "PENDING");
  auto past_with_delay = CreateTask(cmd, {{"runAt", "2001-01-01T00:00:00.5-03:00"}, {"delaySeconds", 3600}});
  auto r2 = ClaimRaw(Worker(), {cmd});
  ASSERT_EQ(r2.status, 200) << r2.Describe();
  EXPECT_EQ(JsonString(r2.Json(), "id"), JsonString(past_with_delay, "id")) << "runAt wins over delaySeconds";
  EXPECT_EQ(ClaimRaw(Worker(), {cmd}).status, 204) << "the far-future task stays scheduled";
  auto stats = Get("/v1/codeq/admin/queues/" + cmd, Admin());
  EXPECT_EQ(JsonInt(stats.Json(), "delayed"), 1) << stats.Describe();
}

TEST_F(ClaimTest, LeaseSecondsDefaultAndClamp) {
  const std::string cmd = Cmd();
  CreateTask(cmd);
  CreateTask(cmd);
  CreateTask(cmd);
  const int64_t now = UnixNow();
  auto a = ClaimOne(cmd);                 // default lease: 300 s
  auto b = ClaimOne(cmd, "", 10000000);   // clamped to maxLeaseSeconds (86400)
  auto c = ClaimOne(cmd, "", 7);
  auto la = ParseUtcSeconds(JsonString(a, "leaseUntil"));
  auto lb = ParseUtcSeconds(JsonString(b, "leaseUntil"));
  auto lc = ParseUtcSeconds(JsonString(c, "leaseUntil"));
  ASSERT_TRUE(la && lb && lc) << json::serialize(a) << json::serialize(b);
  EXPECT_NEAR(static_cast<double>(*la - now), 300, 3);
  EXPECT_NEAR(static_cast<double>(*lb - now), 86400, 3);
  EXPECT_NEAR(static_cast<double>(*lc - now), 7, 3);
}

}  // namespace
}  // namespace codeq::it
