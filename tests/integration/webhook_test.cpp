// Webhooks over HTTP against a real `codeq serve` (both stores) and a real local receiver
// (issue 5): result callbacks with signatures, retries, give-ups, restarts; subscriptions and
// worker-availability notifications (fanout, group, hash, minInterval, TTL, delayed tasks).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "integration/it_fixture.h"
#include "support/test_http_server.h"

namespace codeq::it {
namespace {

using namespace std::chrono_literals;
constexpr const char* kSecret = "it-webhook-secret";
constexpr const char* kSubscriptionsPath = "/v1/codeq/workers/subscriptions";

EnvList WebhookEnv(const std::string& base_backoff) {
  return {{"WEBHOOK_HMAC_SECRET", kSecret},
          {"RESULT_WEBHOOK_BASE_BACKOFF_SECONDS", base_backoff},
          {"RESULT_WEBHOOK_MAX_BACKOFF_SECONDS", "60"},
          {"RESULT_WEBHOOK_MAX_ATTEMPTS", "3"},
          {"SUBSCRIPTION_MIN_INTERVAL_SECONDS", "1"},
          {"SUBSCRIPTION_CLEANUP_INTERVAL_SECONDS", "1"},
          {"WEBHOOK_DENIED_HOSTS", "10.0.0.0/8"}};  // the link-local list is built in
}

class WebhookTest : public IntegrationTest {
 public:
  static void SetUpTestSuite() { StartEnvironment(WebhookEnv("1")); }

 protected:
  /// Creates a task with a webhook to `path` on the receiver, claims it and submits `result`.
  std::string CompleteWithWebhook(const std::string& cmd, const std::string& path, json::object result_body) {
    auto t = CreateTask(cmd, {{"webhook", receiver_.Url(path)}});
    std::string id = JsonString(t, "id");
    auto claimed = ClaimOne(cmd);
    EXPECT_EQ(JsonString(claimed, "id"), id);
    auto r = Post(TaskPath(id, "result"), Worker(), result_body);
    EXPECT_EQ(r.status, 200) << r.Describe();
    return id;
  }

  /// POST /v1/codeq/workers/subscriptions with the dev worker token (or `token`).
  static HttpResponse Subscribe(json::object body, const std::string& token = "") {
    return Post(kSubscriptionsPath, token.empty() ? Worker() : token, body);
  }
  /// Subscribes `path` of the receiver to `cmd`; expects 200 and returns the subscription id.
  std::string SubscribeOk(const std::string& cmd, const std::string& path, json::object extra = {},
                          const std::string& token = "") {
    json::object body{{"callbackUrl", receiver_.Url(path)}, {"eventTypes", json::array{json::value(cmd)}}};
    for (const auto& kv : extra) body[kv.key()] = kv.value();
    auto r = Subscribe(body, token);
    EXPECT_EQ(r.status, 200) << r.Describe();
    return JsonString(r.Json(), "subscriptionId");
  }

  /// One empty → ready transition: creates a task, waits until `total` notifications arrived on
  /// `paths` (in all), then claims the task so the queue is empty again.
  void ReadyEvent(const std::string& cmd, const std::vector<std::string>& paths, size_t total) {
    CreateTask(cmd);
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (Count(paths) < total && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    ClaimOne(cmd);
  }
  size_t Count(const std::vector<std::string>& paths) const {
    size_t n = 0;
    for (const auto& p : paths) n += receiver_.Requests(p).size();
    return n;
  }

  static void ExpectSigned(const test::ReceivedRequest& r) {
    std::string ts = r.Header("x-codeq-timestamp");
    ASSERT_FALSE(ts.empty());
    EXPECT_NEAR(std::stoll(ts), UnixNow(), 10) << "a receiver rejects timestamps far from its clock";
    EXPECT_EQ(r.Header("x-codeq-signature"), test::ExpectedSignature(kSecret, ts, r.body));
  }

  test::TestHttpServer receiver_;
};

TEST_F(WebhookTest, ResultCallbackIsSignedAndCarriesTheResult) {
  std::string cmd = Cmd();
  std::string id = CompleteWithWebhook(cmd, "/done", {{"status", "COMPLETED"}, {"result", {{"v", 1}}}});
  auto got = receiver_.WaitFor("/done", 1, 5s);
  ASSERT_EQ(got.size(), 1u);
  const auto& r = got[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.Header("content-type"), "application/json");
  ExpectSigned(r);
  // A replayed body under another timestamp does not verify: stale timestamps are detectable.
  std::string ts = r.Header("x-codeq-timestamp");
  EXPECT_NE(r.Header("x-codeq-signature"),
            test::ExpectedSignature(kSecret, std::to_string(std::stoll(ts) + 600), r.body));
  auto body = json::parse(r.body).as_object();
  EXPECT_EQ(JsonString(body, "taskId"), id);
  EXPECT_EQ(JsonString(body, "eventType"), cmd);
  EXPECT_EQ(JsonString(body, "status"), "COMPLETED");
  EXPECT_EQ(body["result"], (json::value{{"v", 1}}));
  EXPECT_EQ(JsonString(body, "error"), "");
  EXPECT_TRUE(body["artifacts"].is_null());
  EXPECT_TRUE(ParseUtcSeconds(JsonString(body, "completedAt")).has_value());
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(receiver_.Requests("/done").size(), 1u) << "a 2xx ends the delivery";
}

TEST_F(WebhookTest, ReceiverFailingTwiceGetsExactlyThreeDeliveriesAtTheConfiguredSpacing) {
  receiver_.Script("/flaky", {500, 503});
  CompleteWithWebhook(Cmd(), "/flaky", {{"status", "COMPLETED"}, {"result", json::object{}}});
  auto got = receiver_.WaitFor("/flaky", 3, 10s);
  ASSERT_EQ(got.size(), 3u);
  auto gap = [&](int i) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(got[i + 1].at - got[i].at).count();
  };
  // Base 1 s: 1 s after the first failure, 2 s after the second (SPEC §6.1).
  EXPECT_GE(gap(0), 900);
  EXPECT_LE(gap(0), 2500);
  EXPECT_GE(gap(1), 1900);
  EXPECT_LE(gap(1), 3500);
  for (const auto& r : got) ExpectSigned(r);
  EXPECT_NE(got[0].Header("x-codeq-timestamp"), got[2].Header("x-codeq-timestamp")) << "re-signed per attempt";
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(receiver_.Requests("/flaky").size(), 3u);
}

TEST_F(WebhookTest, GiveUpAfterMaxAttemptsIsCountedInMetrics) {
  receiver_.Script("/down", {500, 500, 500, 500, 500});
  std::string cmd = Cmd();
  CompleteWithWebhook(cmd, "/down", {{"status", "FAILED"}, {"error", "bad input"}});
  auto got = receiver_.WaitFor("/down", 3, 10s);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(JsonString(json::parse(got[0].body), "status"), "FAILED");
  EXPECT_EQ(JsonString(json::parse(got[0].body), "error"), "bad input");
  std::string series = "codeq_webhook_deliveries_total{kind=\"task_result\",command=\"" + cmd + "\",outcome=\"failure\"} 1";
  auto deadline = std::chrono::steady_clock::now() + 3s;
  std::string metrics;
  while (std::chrono::steady_clock::now() < deadline) {
    metrics = Get("/metrics", "").body;
    if (metrics.find(series) != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(metrics.find(series), std::string::npos) << series;
  std::this_thread::sleep_for(4500ms);
  EXPECT_EQ(receiver_.Requests("/down").size(), 3u) << "resultWebhookMaxAttempts=3";
}

TEST_F(WebhookTest, DeadLetteredTaskFiresAFailedCallback) {
  std::string cmd = Cmd();
  auto t = CreateTask(cmd, {{"webhook", receiver_.Url("/dlq")}, {"maxAttempts", 1}});
  std::string id = JsonString(t, "id");
  ClaimOne(cmd);
  auto r = Post(TaskPath(id, "nack"), Worker(), {{"reason", "poison"}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  ASSERT_EQ(JsonString(r.Json(), "status"), "dlq");
  auto got = receiver_.WaitFor("/dlq", 1, 5s);
  ASSERT_EQ(got.size(), 1u);
  auto body = json::parse(got[0].body).as_object();
  EXPECT_EQ(JsonString(body, "taskId"), id);
  EXPECT_EQ(JsonString(body, "status"), "FAILED");
  EXPECT_EQ(JsonString(body, "error"), "poison");
}

TEST_F(WebhookTest, DeniedAndMalformedUrlsAreRefusedAtCreateTime) {
  std::string cmd = Cmd();
  auto r = Post("/v1/codeq/tasks", Producer(), {{"command", cmd}, {"payload", json::object{}}, {"webhook", "http://10.1.2.3/hook"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorText(), "webhook url not allowed");
  r = Post("/v1/codeq/tasks", Producer(), {{"command", cmd}, {"payload", json::object{}}, {"webhook", "ftp://x/y"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorText(), "invalid webhook url");
  // The built-in list: "this host" in IPv6, and the metadata address in IPv6 forms that reach it.
  for (const char* url : {"http://[::]/hook", "http://[::ffff:169.254.169.254]/hook", "http://[64:ff9b::a9fe:a9fe]/hook",
                          "http://[::169.254.169.254]/hook"}) {
    r = Post("/v1/codeq/tasks", Producer(), {{"command", cmd}, {"payload", json::object{}}, {"webhook", url}});
    EXPECT_EQ(r.status, 400) << url;
    EXPECT_EQ(r.ErrorText(), "webhook url not allowed") << url;
  }
  r = Post("/v1/codeq/tasks/batch", Producer(),
           {{"tasks", json::array{json::object{{"command", cmd}, {"payload", json::object{}},
                                               {"webhook", "http://169.254.169.254/latest"}},
                                  json::object{{"command", cmd}, {"payload", json::object{}}}}}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  auto items = r.Json().at("items").as_array();
  EXPECT_EQ(items[0].at("status").as_int64(), 400);
  EXPECT_EQ(items[0].at("error").as_string(), "webhook url not allowed");
  EXPECT_EQ(items[1].at("status").as_int64(), 202);
  r = Subscribe({{"callbackUrl", "http://169.254.169.254/x"}, {"eventTypes", json::array{json::value(cmd)}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorText(), "callback url not allowed");
  r = Subscribe({{"callbackUrl", "mailto:a@b"}, {"eventTypes", json::array{json::value(cmd)}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorText(), "invalid callback url");
  r = Subscribe({{"callbackUrl", "http://127.0.0.1:99999/x"}, {"eventTypes", json::array{json::value(cmd)}}});
  EXPECT_EQ(r.ErrorText(), "invalid callback url");
  r = Subscribe({{"callbackUrl", receiver_.Url("/" + std::string(3000, 'a'))}, {"eventTypes", json::array{json::value(cmd)}}});
  EXPECT_EQ(r.ErrorText(), "callback url too long (max 2048 bytes)");
  json::array many;
  for (int i = 0; i < 101; ++i) many.emplace_back("C" + std::to_string(i));
  r = Subscribe({{"callbackUrl", receiver_.Url("/many")}, {"eventTypes", many}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorText(), "too many eventTypes (max 100)");
}

TEST_F(WebhookTest, SubscriptionRequestsAreValidated) {
  std::string cmd = Cmd();
  json::array events{json::value(cmd)};
  auto r = Subscribe({{"eventTypes", events}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorText(), "invalid body");
  r = Subscribe({{"callbackUrl", receiver_.Url("/v")}, {"eventTypes", events}, {"deliveryMode", "broadcast"}});
  EXPECT_EQ(r.ErrorText(), "invalid deliveryMode");
  r = Subscribe({{"callbackUrl", receiver_.Url("/v")}, {"eventTypes", events}, {"deliveryMode", "group"}});
  EXPECT_EQ(r.ErrorText(), "groupId is required");
  r = Subscribe({{"callbackUrl", receiver_.Url("/v")}, {"eventTypes", events}, {"ttlSeconds", "60"}});
  EXPECT_EQ(r.ErrorText(), "invalid body");

  TokenSpec limited{"w-limited"};
  limited.event_types = {"ONLY_THIS"};
  limited.scope = "codeq:subscribe";
  r = Subscribe({{"callbackUrl", receiver_.Url("/v")}, {"eventTypes", events}}, MintWorker(limited));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.ErrorText(), "event type not allowed");
  TokenSpec no_scope{"w-noscope"};
  no_scope.event_types = {"*"};
  no_scope.scope = "codeq:claim";
  r = Subscribe({{"callbackUrl", receiver_.Url("/v")}, {"eventTypes", events}}, MintWorker(no_scope));
  EXPECT_EQ(r.status, 403);

  // A workerGroup token: group mode by default with its group; another groupId is refused.
  TokenSpec grouped{"w-grouped"};
  grouped.event_types = {"*"};
  grouped.scope = "codeq:subscribe";
  grouped.extra = {{"workerGroup", "blue"}};
  r = Subscribe({{"callbackUrl", receiver_.Url("/v")}, {"eventTypes", events}, {"groupId", "red"}}, MintWorker(grouped));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorText(), "groupId does not match workerGroup");
  r = Subscribe({{"callbackUrl", receiver_.Url("/v")}, {"eventTypes", events}, {"ttlSeconds", 120}}, MintWorker(grouped));
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_TRUE(IsUuid(JsonString(r.Json(), "subscriptionId")));
  auto expires = ParseUtcSeconds(JsonString(r.Json(), "expiresAt"));
  ASSERT_TRUE(expires.has_value());
  EXPECT_NEAR(*expires, UnixNow() + 120, 5);
  // The token's eventTypes are the default when the body has none.
  r = Subscribe({{"callbackUrl", receiver_.Url("/v")}}, MintWorker(limited));
  EXPECT_EQ(r.status, 200) << r.Describe();
}

TEST_F(WebhookTest, RenewalExtendsAndIsTenantScoped) {
  std::string cmd = Cmd();
  std::string mine = WorkerAs("w-renew", std::string("tenant-a"));
  std::string id = SubscribeOk(cmd, "/renew", {{"ttlSeconds", 30}}, mine);
  auto r = Post(std::string(kSubscriptionsPath) + "/" + id + "/heartbeat", mine, {{"ttlSeconds", 600}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(JsonString(r.Json(), "subscriptionId"), id);
  EXPECT_NEAR(*ParseUtcSeconds(JsonString(r.Json(), "expiresAt")), UnixNow() + 600, 5);
  r = Call("POST", std::string(kSubscriptionsPath) + "/" + id + "/heartbeat", mine, "");
  ASSERT_EQ(r.status, 200) << "body optional: " << r.Describe();
  EXPECT_NEAR(*ParseUtcSeconds(JsonString(r.Json(), "expiresAt")), UnixNow() + 300, 5);
  r = Post(std::string(kSubscriptionsPath) + "/" + id + "/heartbeat", WorkerAs("w-other", std::string("tenant-b")), {});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.ErrorText(), "not-found");
  r = Post(std::string(kSubscriptionsPath) + "/00000000-0000-4000-8000-000000000000/heartbeat", mine, {});
  EXPECT_EQ(r.status, 404);
}

TEST_F(WebhookTest, FanoutNotifiesEverySubscriberOnEmptyToReadyOnly) {
  std::string cmd = Cmd();
  SubscribeOk(cmd, "/f1");
  SubscribeOk(cmd, "/f2");
  CreateTask(cmd);
  auto a = receiver_.WaitFor("/f1", 1, 5s);
  auto b = receiver_.WaitFor("/f2", 1, 5s);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  ExpectSigned(a[0]);
  auto body = json::parse(a[0].body).as_object();
  EXPECT_EQ(JsonString(body, "eventType"), cmd);
  EXPECT_EQ(body["available"], json::value(true));
  EXPECT_EQ(JsonInt(body, "queueDepth"), 1);
  EXPECT_EQ(JsonString(body, "claimUrl"), "/v1/codeq/tasks/claim");
  EXPECT_EQ(JsonString(body, "notificationId").rfind("ntf-", 0), 0u);
  EXPECT_NE(JsonString(body, "notificationId"), JsonString(json::parse(b[0].body), "notificationId"));
  // 1 → 2 is not an empty → ready transition (waited past minIntervalSeconds = 1).
  std::this_thread::sleep_for(1200ms);
  CreateTask(cmd);
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(receiver_.Requests("/f1").size(), 1u);
  EXPECT_EQ(receiver_.Requests("/f2").size(), 1u);
}

// A batch into an empty queue is one 0 → n change: one notification, with the depth after the
// batch (D16), also when the batch spells the command in several cases (D5).
TEST_F(WebhookTest, BatchIntoAnEmptyQueueNotifiesOnceWithItsDepth) {
  std::string cmd = Cmd();
  SubscribeOk(cmd, "/batch");
  json::array tasks;
  for (int i = 0; i < 50; ++i) {
    std::string spelling = cmd;
    if (i % 2 == 1) std::transform(spelling.begin(), spelling.end(), spelling.begin(), ::tolower);
    tasks.push_back(json::object{{"command", spelling}, {"payload", json::object{{"i", i}}}});
  }
  auto r = Post("/v1/codeq/tasks/batch", Producer(), json::object{{"tasks", tasks}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  auto got = receiver_.WaitFor("/batch", 1, 5s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(JsonInt(json::parse(got[0].body), "queueDepth"), 50) << got[0].body;
  std::this_thread::sleep_for(1500ms);  // past minIntervalSeconds (1): a second one would show
  EXPECT_EQ(receiver_.Requests("/batch").size(), 1u);
}

TEST_F(WebhookTest, GroupNotifiesOneMemberRoundRobin) {
  std::string cmd = Cmd();
  std::vector<std::string> paths = {"/g1", "/g2", "/g3"};
  for (const auto& p : paths) SubscribeOk(cmd, p, {{"deliveryMode", "group"}, {"groupId", "g"}});
  SubscribeOk(cmd, "/gf");  // a fanout subscriber sees every event
  for (size_t i = 1; i <= 6; ++i) {
    ReadyEvent(cmd, paths, i);
    std::this_thread::sleep_for(1050ms);  // past minIntervalSeconds (1) of the fanout subscriber
  }
  for (const auto& p : paths) EXPECT_EQ(receiver_.Requests(p).size(), 2u) << p;
  EXPECT_EQ(receiver_.Requests("/gf").size(), 6u);
}

TEST_F(WebhookTest, HashNotifiesTheSameSingleMemberWithinAMinute) {
  if (UnixNow() % 60 > 45) std::this_thread::sleep_for(std::chrono::seconds(61 - UnixNow() % 60));
  std::string cmd = Cmd();
  std::vector<std::string> paths = {"/h1", "/h2", "/h3"};
  for (const auto& p : paths) SubscribeOk(cmd, p, {{"deliveryMode", "hash"}});
  for (size_t i = 1; i <= 3; ++i) {
    ReadyEvent(cmd, paths, i);
    std::this_thread::sleep_for(1100ms);  // past the member's minIntervalSeconds
  }
  std::vector<size_t> counts;
  for (const auto& p : paths) counts.push_back(receiver_.Requests(p).size());
  std::sort(counts.begin(), counts.end());
  EXPECT_EQ(counts, (std::vector<size_t>{0, 0, 3}));
}

TEST_F(WebhookTest, MinIntervalSuppressesBursts) {
  std::string cmd = Cmd();
  SubscribeOk(cmd, "/burst", {{"minIntervalSeconds", 5}});
  SubscribeOk(cmd, "/every", {{"minIntervalSeconds", 1}});
  for (size_t i = 1; i <= 4; ++i) {
    ReadyEvent(cmd, {"/every"}, i);
    std::this_thread::sleep_for(1100ms);
  }
  EXPECT_EQ(receiver_.Requests("/every").size(), 4u);
  EXPECT_EQ(receiver_.Requests("/burst").size(), 1u);
}

TEST_F(WebhookTest, ExpiredSubscriptionGetsNothing) {
  std::string cmd = Cmd();
  SubscribeOk(cmd, "/short", {{"ttlSeconds", 1}});
  SubscribeOk(cmd, "/long", {{"ttlSeconds", 60}});
  std::this_thread::sleep_for(2200ms);
  CreateTask(cmd);
  ASSERT_EQ(receiver_.WaitFor("/long", 1, 5s).size(), 1u);
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(receiver_.Requests("/short").empty());
}

TEST_F(WebhookTest, DelayedTaskComingDueNotifies) {
  std::string cmd = Cmd();
  SubscribeOk(cmd, "/due");
  CreateTask(cmd, {{"delaySeconds", 1}});
  auto got = receiver_.WaitFor("/due", 1, 6s);
  ASSERT_EQ(got.size(), 1u) << "no notification after the delayed task came due";
  EXPECT_EQ(JsonInt(json::parse(got[0].body), "queueDepth"), 1);
  EXPECT_EQ(JsonString(ClaimOne(cmd), "command"), cmd);
}

TEST_F(WebhookTest, NotificationsStayInsideTheTenant) {
  std::string cmd = Cmd();
  SubscribeOk(cmd, "/tenant-a", {}, WorkerAs("w-a", std::string("tenant-a")));
  CreateTask(cmd, {}, MintProducer(TokenSpec{"p-b", std::string("tenant-b")}));
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(receiver_.Requests("/tenant-a").empty()) << "tenant-b's queue is not tenant-a's";
  CreateTask(cmd, {}, MintProducer(TokenSpec{"p-a", std::string("tenant-a")}));
  EXPECT_EQ(receiver_.WaitFor("/tenant-a", 1, 5s).size(), 1u);
}

TEST_F(WebhookTest, ActiveSubscriptionsGaugeIsExported) {
  std::string cmd = Cmd();
  CreateTask(cmd);  // the gauges cover commands known to the store
  SubscribeOk(cmd, "/gauge");
  std::string series = "codeq_subscriptions_active{command=\"" + cmd + "\"} 1";
  EXPECT_NE(Get("/metrics", "").body.find(series), std::string::npos) << series;
}

// Restarting the server between a failed attempt and its retry (outbox durability, D16).
class WebhookRestartTest : public WebhookTest {
 public:
  static void SetUpTestSuite() { StartEnvironment(WebhookEnv("3")); }
};

TEST_F(WebhookRestartTest, RetryAfterRestartStillDelivers) {
  receiver_.Script("/restart", {500});
  std::string id = CompleteWithWebhook(Cmd(), "/restart", {{"status", "COMPLETED"}, {"result", {{"n", 7}}}});
  ASSERT_EQ(receiver_.WaitFor("/restart", 1, 5s).size(), 1u);
  std::this_thread::sleep_for(300ms);  // let the server record the failed attempt
  codeq().Stop();
  std::string error;
  ASSERT_TRUE(codeq().Start(&error)) << error;
  auto restarted = std::chrono::steady_clock::now();
  auto got = receiver_.WaitFor("/restart", 2, 10s);
  ASSERT_EQ(got.size(), 2u) << "the retry was lost in the restart\n" << codeq().LogTail();
  EXPECT_GE(got[1].at, restarted - 200ms);
  EXPECT_EQ(JsonString(json::parse(got[1].body), "taskId"), id);
  ExpectSigned(got[1]);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(receiver_.Requests("/restart").size(), 2u);
}

}  // namespace
}  // namespace codeq::it
