// POST /v1/codeq/tasks over HTTP (SPEC §2.3 as amended by D9, D15, D17, D18).
#include <latch>
#include <set>
#include <thread>

#include "integration/it_fixture.h"

namespace codeq::it {
namespace {

class CreateTaskTest : public IntegrationTest {
 protected:
  static HttpResponse CreateRaw(const std::string& body, const std::string& token = "") {
    return Call("POST", "/v1/codeq/tasks", token.empty() ? Producer() : token, body);
  }
  static void ExpectError(const HttpResponse& r, int status, const std::string& error, const std::string& what) {
    EXPECT_EQ(r.status, status) << what << " -> " << r.Describe();
    EXPECT_EQ(r.Json(), json::value(json::object{{"error", error}})) << what << " -> " << r.Describe();
  }
};

TEST_F(CreateTaskTest, Returns202WithTheStoredTask) {
  const std::string cmd = Cmd();
  auto r = Post("/v1/codeq/tasks", Producer(), json::object{{"command", cmd}, {"payload", json::object{{"k", "v"}}}});
  ASSERT_EQ(r.status, 202) << r.Describe();
  EXPECT_NE(r.Header("Content-Type").value_or("").find("application/json"), std::string::npos);
  EXPECT_FALSE(r.Header("Idempotent-Replayed").has_value());
  auto t = r.Json();
  EXPECT_TRUE(IsUuid(JsonString(t, "id"))) << r.body;
  EXPECT_EQ(JsonString(t, "command"), cmd);
  EXPECT_EQ(JsonString(t, "payload"), R"({"k":"v"})");
  EXPECT_EQ(JsonString(t, "status"), "PENDING");
  EXPECT_EQ(JsonInt(t, "maxAttempts"), 5);
  EXPECT_FALSE(JsonHas(t, "priority")) << "priority 0 is omitted: " << r.body;
  EXPECT_FALSE(JsonHas(t, "attempts")) << r.body;
  EXPECT_FALSE(JsonHas(t, "workerId")) << r.body;
  EXPECT_FALSE(JsonHas(t, "leaseUntil")) << r.body;
  EXPECT_FALSE(JsonHas(t, "tenantId")) << "the dev producer has no tenant: " << r.body;
  EXPECT_FALSE(JsonString(t, "createdAt").empty());
  EXPECT_FALSE(JsonString(t, "updatedAt").empty());

  // The task is readable and identical.
  auto g = GetTask(JsonString(t, "id"));
  ASSERT_EQ(g.status, 200) << g.Describe();
  EXPECT_EQ(g.Json(), t);
}

TEST_F(CreateTaskTest, CommandCaseIsPreserved) {
  const std::string cmd = Cmd("_MiXeD.case-1");
  auto t = CreateTask(cmd);
  EXPECT_EQ(JsonString(t, "command"), cmd);
  auto c = ClaimOne(cmd);
  EXPECT_EQ(JsonString(c, "command"), cmd);
}

TEST_F(CreateTaskTest, PayloadIsCanonicalAndIntegersExact) {
  const std::string cmd = Cmd();
  auto r = CreateRaw(R"({"command":")" + cmd +
                     R"(","payload":{ "b" : 1, "a": {"d":[1, 2, {"z":true,"y":null}], "c":"x"},
                        "n": 9007199254740993, "neg": -9007199254740993, "u": 18446744073709551615 }})");
  ASSERT_EQ(r.status, 202) << r.Describe();
  const std::string expected =
      R"({"a":{"c":"x","d":[1,2,{"y":null,"z":true}]},"b":1,"n":9007199254740993,"neg":-9007199254740993,"u":18446744073709551615})";
  EXPECT_EQ(JsonString(r.Json(), "payload"), expected);
  auto g = GetTask(JsonString(r.Json(), "id"));
  EXPECT_EQ(JsonString(g.Json(), "payload"), expected);
  auto c = ClaimOne(cmd);
  EXPECT_EQ(JsonString(c, "payload"), expected) << "the claimed task carries the same payload text";
}

// D17: integers are kept exactly. One beyond 64 bits could only be rounded (Boost.JSON reads it as
// a double), so it is refused with a clear reason; an exponent literal of the same size is a
// double and is kept as one.
TEST_F(CreateTaskTest, IntegerBeyond64BitsIsRefusedNotRounded) {
  const std::string cmd = Cmd();
  const std::string beyond_double(400, '9');  // would even become infinity as a double
  for (const std::string& payload : {std::string("123456789012345678901234567890"),
                                     std::string(R"({"x":[1,-99999999999999999999]})"),
                                     std::string("18446744073709551616"), beyond_double}) {
    auto r = CreateRaw(R"({"command":")" + cmd + R"(","payload":)" + payload + "}");
    EXPECT_EQ(r.status, 400) << payload << " " << r.Describe();
    EXPECT_EQ(r.ErrorText(), "invalid body: integer out of range (at most 64 bits)") << payload;
  }
  auto exp = CreateRaw(R"({"command":")" + cmd + R"(","payload":1e30})");
  EXPECT_EQ(exp.status, 202) << exp.Describe();
  EXPECT_EQ(JsonString(exp.Json(), "payload"), "1E30");
  auto text = CreateRaw(R"({"command":")" + cmd + R"(","payload":"123456789012345678901234567890"})");
  EXPECT_EQ(text.status, 202) << text.Describe();
  // The same rule guards a result's JSON.
  auto task = CreateTask(cmd);
  auto claimed = ClaimOne(cmd);
  auto res = Call("POST", TaskPath(JsonString(claimed, "id"), "result"), Worker(),
                  R"({"status":"COMPLETED","result":{"big":123456789012345678901234567890}})");
  EXPECT_EQ(res.status, 400) << res.Describe();
  (void)task;
}

TEST_F(CreateTaskTest, NonObjectPayloadsAreAccepted) {
  const std::string cmd = Cmd();
  struct Case {
    const char* payload;
    const char* stored;
  } cases[] = {{R"("hi")", R"("hi")"}, {"0", "0"}, {"false", "false"}, {R"("")", R"("")"}, {"[3,1]", "[3,1]"}};
  for (const auto& c : cases) {
    auto r = CreateRaw(R"({"command":")" + cmd + R"(","payload":)" + c.payload + "}");
    ASSERT_EQ(r.status, 202) << c.payload << " -> " << r.Describe();
    EXPECT_EQ(JsonString(r.Json(), "payload"), c.stored) << c.payload;
  }
}

TEST_F(CreateTaskTest, PriorityIsClamped) {
  const std::string cmd = Cmd();
  auto low = CreateTask(cmd, {{"priority", -3}});
  EXPECT_FALSE(JsonHas(low, "priority")) << json::serialize(low);
  auto high = CreateTask(cmd, {{"priority", 42}});
  EXPECT_EQ(JsonInt(high, "priority"), 9);
  auto mid = CreateTask(cmd, {{"priority", 5}});
  EXPECT_EQ(JsonInt(mid, "priority"), 5);
}

TEST_F(CreateTaskTest, MaxAttemptsDefaultsAndExplicit) {
  const std::string cmd = Cmd();
  EXPECT_EQ(JsonInt(CreateTask(cmd), "maxAttempts"), 5);
  EXPECT_EQ(JsonInt(CreateTask(cmd, {{"maxAttempts", 0}}), "maxAttempts"), 5);
  EXPECT_EQ(JsonInt(CreateTask(cmd, {{"maxAttempts", -4}}), "maxAttempts"), 5);
  EXPECT_EQ(JsonInt(CreateTask(cmd, {{"maxAttempts", 3}}), "maxAttempts"), 3);
  EXPECT_EQ(JsonInt(CreateTask(cmd, {{"maxAttempts", 5000}}), "maxAttempts"), 1000) << "D15 clamp";
}

TEST_F(CreateTaskTest, WebhookIsStored) {
  auto t = CreateTask(Cmd(), {{"webhook", "https://example.com/hook?x=1"}});
  EXPECT_EQ(JsonString(t, "webhook"), "https://example.com/hook?x=1");
}

TEST_F(CreateTaskTest, InvalidBodies) {
  const std::string cmd = Cmd();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not json"},
      {"empty body", ""},
      {"array", "[1,2]"},
      {"truncated", R"({"command":")" + cmd + R"(","payload":{})"},
      {"priority string", R"({"command":")" + cmd + R"(","payload":{},"priority":"5"})"},
      {"priority float", R"({"command":")" + cmd + R"(","payload":{},"priority":5.5})"},
      {"maxAttempts string", R"({"command":")" + cmd + R"(","payload":{},"maxAttempts":"3"})"},
      {"delaySeconds float", R"({"command":")" + cmd + R"(","payload":{},"delaySeconds":1.5})"},
      {"command number", R"({"command":5,"payload":{}})"},
      {"missing command", R"({"payload":{}})"},
      {"empty command", R"({"command":"","payload":{}})"},
      {"missing payload", R"({"command":")" + cmd + R"("})"},
      {"null payload", R"({"command":")" + cmd + R"(","payload":null})"},
      {"webhook number", R"({"command":")" + cmd + R"(","payload":{},"webhook":1})"},
  };
  for (const auto& [what, body] : cases) ExpectError(CreateRaw(body), 400, "invalid body", what);
  // Nothing was enqueued by any of them.
  auto r = ClaimRaw(Worker(), {cmd});
  EXPECT_EQ(r.status, 204) << r.Describe();
}

TEST_F(CreateTaskTest, InvalidRunAtAndDelay) {
  const std::string cmd = Cmd();
  for (const char* run_at : {"tomorrow", "2026-13-01T00:00:00Z", "2026-01-01 10:00"}) {
    ExpectError(Post("/v1/codeq/tasks", Producer(),
                     json::object{{"command", cmd}, {"payload", 1}, {"runAt", run_at}}),
                400, "invalid 'runAt' (use RFC3339)", run_at);
  }
  ExpectError(Post("/v1/codeq/tasks", Producer(), json::object{{"command", cmd}, {"payload", 1}, {"delaySeconds", -1}}),
              400, "invalid 'delaySeconds' (must be >= 0)", "negative delay");
  // Validation order (§2.3): runAt before delaySeconds before command before webhook.
  ExpectError(Post("/v1/codeq/tasks", Producer(),
                   json::object{{"command", "a b"}, {"payload", 1}, {"delaySeconds", -1}, {"webhook", "ftp://x"}}),
              400, "invalid 'delaySeconds' (must be >= 0)", "order: delay first");
  ExpectError(Post("/v1/codeq/tasks", Producer(),
                   json::object{{"command", "a b"}, {"payload", 1}, {"webhook", "ftp://x"}}),
              400, "invalid command", "order: command before webhook");
}

TEST_F(CreateTaskTest, InvalidCommands) {
  for (const char* c : {"a b", "x:y", "   ", "caf\xc3\xa9", "a/b", "tab\tx"}) {
    ExpectError(Post("/v1/codeq/tasks", Producer(), json::object{{"command", c}, {"payload", 1}}), 400,
                "invalid command", std::string("command '") + c + "'");
  }
  ExpectError(Post("/v1/codeq/tasks", Producer(), json::object{{"command", std::string(129, 'a')}, {"payload", 1}}),
              400, "invalid command", "129 characters");
  CreateTask(std::string(128, 'a'));  // the limit itself is fine
}

TEST_F(CreateTaskTest, InvalidWebhooks) {
  const std::string cmd = Cmd();
  for (const char* w : {"ftp://x", "http://", "not a url", "https:///path", "mailto:a@b.c"}) {
    ExpectError(Post("/v1/codeq/tasks", Producer(), json::object{{"command", cmd}, {"payload", 1}, {"webhook", w}}),
                400, "invalid webhook url", w);
  }
  // An empty webhook means none.
  auto t = CreateTask(cmd, {{"webhook", ""}});
  EXPECT_FALSE(JsonHas(t, "webhook"));
}

TEST_F(CreateTaskTest, InvalidUtf8IsRejected) {
  const std::string cmd = Cmd();
  auto r = CreateRaw(std::string(R"({"command":")") + cmd + "\",\"payload\":\"bad \xff\xfe bytes\"}");
  EXPECT_EQ(r.status, 400) << r.Describe();
  auto s = CreateRaw(R"({"command":")" + cmd + R"(","payload":"lone \ud800 surrogate"})");
  EXPECT_EQ(s.status, 400) << s.Describe();
  auto overlong = CreateRaw(std::string(R"({"command":")") + cmd + "\",\"payload\":\"\xc0\xaf\"}");
  EXPECT_EQ(overlong.status, 400) << overlong.Describe();
  EXPECT_EQ(ClaimRaw(Worker(), {cmd}).status, 204);
  // Valid multi-byte UTF-8 is fine.
  auto ok = CreateRaw(std::string(R"({"command":")") + cmd + "\",\"payload\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}");
  EXPECT_EQ(ok.status, 202) << ok.Describe();
}

TEST_F(CreateTaskTest, BodyOverLimitIs413) {
  const std::string cmd = Cmd();
  // The suite's server runs with MAX_BODY_BYTES=65536.
  std::string big(70000, 'x');
  auto r = CreateRaw(R"({"command":")" + cmd + R"(","payload":")" + big + R"("})");
  EXPECT_EQ(r.status, 413) << "Content-Length over the limit -> " << r.Describe();
  EXPECT_FALSE(r.ErrorText().empty()) << r.Describe();
  // The same body without Content-Length (chunked) is refused as well.
  auto chunked = Call("POST", "/v1/codeq/tasks", Producer(), R"({"command":")" + cmd + R"(","payload":")" + big + R"("})",
                      {{"Transfer-Encoding", "chunked"}});
  EXPECT_EQ(chunked.status, 413) << "chunked body over the limit -> " << chunked.Describe();
  // Just under the limit is accepted.
  std::string fits(60000, 'y');
  auto ok = CreateRaw(R"({"command":")" + cmd + R"(","payload":")" + fits + R"("})");
  EXPECT_EQ(ok.status, 202) << ok.Describe();
  // The server is still healthy afterwards.
  EXPECT_EQ(Get("/healthz", "").status, 200);
}

TEST_F(CreateTaskTest, IdempotentReplayReturns200AndSameTask) {
  const std::string cmd = Cmd();
  json::object body{{"command", cmd}, {"payload", json::object{{"n", 1}}}, {"idempotencyKey", Cmd("-key")}};
  auto first = Post("/v1/codeq/tasks", Producer(), body);
  ASSERT_EQ(first.status, 202) << first.Describe();
  EXPECT_FALSE(first.Header("Idempotent-Replayed").has_value());

  // A replay ignores every other field, even a different command and payload.
  json::object again = body;
  again["payload"] = json::object{{"n", 2}};
  again["priority"] = 9;
  auto second = Post("/v1/codeq/tasks", Producer(), again);
  ASSERT_EQ(second.status, 200) << second.Describe();
  EXPECT_EQ(second.Header("Idempotent-Replayed").value_or(""), "true");
  EXPECT_EQ(JsonString(second.Json(), "id"), JsonString(first.Json(), "id"));
  EXPECT_EQ(JsonString(second.Json(), "payload"), R"({"n":1})");
  EXPECT_FALSE(JsonHas(second.Json(), "priority"));

  // Only one task was enqueued.
  auto c = ClaimOne(cmd);
  EXPECT_EQ(JsonString(c, "id"), JsonString(first.Json(), "id"));
  EXPECT_EQ(ClaimRaw(Worker(), {cmd}).status, 204);

  // The replay returns the task in its current state.
  auto third = Post("/v1/codeq/tasks", Producer(), body);
  ASSERT_EQ(third.status, 200) << third.Describe();
  EXPECT_EQ(JsonString(third.Json(), "status"), "IN_PROGRESS");

  // A whitespace-only key means no key.
  json::object blank{{"command", cmd}, {"payload", 1}, {"idempotencyKey", "   "}};
  auto b1 = Post("/v1/codeq/tasks", Producer(), blank);
  auto b2 = Post("/v1/codeq/tasks", Producer(), blank);
  EXPECT_EQ(b1.status, 202);
  EXPECT_EQ(b2.status, 202);
  EXPECT_NE(JsonString(b1.Json(), "id"), JsonString(b2.Json(), "id"));
}

TEST_F(CreateTaskTest, ConcurrentCreatesWithOneKeyMakeOneTask) {
  const std::string cmd = Cmd();
  const std::string body = json::serialize(
      json::object{{"command", cmd}, {"payload", json::object{{"x", 1}}}, {"idempotencyKey", Cmd("-race")}});
  constexpr int kThreads = 20;
  std::vector<HttpResponse> results(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  const int port = codeq().port();
  const std::string token = Producer();
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      HttpClient client("127.0.0.1", port);
      start.arrive_and_wait();
      results[i] = client.Request("POST", "/v1/codeq/tasks", Auth(token), body);
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> ids;
  int created = 0, replayed = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.status == 200 || r.status == 202) << r.Describe();
    ids.insert(JsonString(r.Json(), "id"));
    if (r.status == 202) {
      ++created;
      EXPECT_FALSE(r.Header("Idempotent-Replayed").has_value());
    } else {
      ++replayed;
      EXPECT_EQ(r.Header("Idempotent-Replayed").value_or(""), "true");
    }
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(created, 1);
  EXPECT_EQ(replayed, kThreads - 1);
  // Exactly one task is queued.
  auto c = ClaimOne(cmd);
  EXPECT_EQ(JsonString(c, "id"), *ids.begin());
  EXPECT_EQ(ClaimRaw(Worker(), {cmd}).status, 204);
}

}  // namespace
}  // namespace codeq::it
