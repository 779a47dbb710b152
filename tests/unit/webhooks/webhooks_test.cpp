// Unit tests of webhooks/: signing, URL policy, recipient selection, backoff, bodies, and the
// Sender against a real local HTTP receiver.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <memory>
#include <set>

#include "domain/clock.h"
#include "support/test_http_server.h"
#include "webhooks/notifier.h"
#include "webhooks/result_callbacks.h"
#include "webhooks/sender.h"
#include "webhooks/signing.h"
#include "webhooks/url_policy.h"

namespace codeq::webhooks {
namespace {

TEST(Signing, MatchesRfc4231TestCase2) {
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Signing, SignsTimestampDotBody) {
  std::string body = R"({"taskId":"x"})";
  EXPECT_EQ(SignWebhook("s3cret", 1700000000, body), HmacSha256Hex("s3cret", "1700000000." + body));
  EXPECT_EQ(SignWebhook("s3cret", 1700000000, body), test::ExpectedSignature("s3cret", "1700000000", body));
  EXPECT_NE(SignWebhook("s3cret", 1700000001, body), SignWebhook("s3cret", 1700000000, body));
}

TEST(UrlPolicy, RejectsNonHttpAndDeniedHosts) {
  auto p = UrlPolicy::Make("", "169.254.0.0/16, 10.0.0.0/8 evil.example.com *.internal fd00::/8");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_TRUE(p->CheckUrl("http://hooks.example.com/x").ok());
  EXPECT_TRUE(p->CheckUrl("https://127.0.0.1:8443/x").ok());
  EXPECT_EQ(p->CheckUrl("ftp://hooks.example.com/x").message(), "invalid");
  EXPECT_EQ(p->CheckUrl("http:///nohost").message(), "invalid");
  EXPECT_EQ(p->CheckUrl("http://169.254.169.254/latest/meta-data").message(), "denied");
  EXPECT_EQ(p->CheckUrl("http://10.1.2.3/x").message(), "denied");
  EXPECT_EQ(p->CheckUrl("http://EVIL.example.com/x").message(), "denied");
  EXPECT_EQ(p->CheckUrl("http://a.b.internal/x").message(), "denied");
  EXPECT_TRUE(p->CheckUrl("http://internal/x").ok()) << "*.suffix does not cover the apex";
  EXPECT_EQ(p->CheckUrl("http://[fd00::1]:80/x").message(), "denied");
}

TEST(UrlPolicy, AllowListRestrictsHostsAndAddresses) {
  auto p = UrlPolicy::Make("hooks.example.com 127.0.0.0/8", "");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->CheckUrl("http://hooks.example.com/x").ok());
  EXPECT_TRUE(p->CheckUrl("http://127.0.0.1:9/x").ok());
  EXPECT_EQ(p->CheckUrl("http://192.168.1.1/x").message(), "denied");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  EXPECT_TRUE(p->AllowsAddress("localhost", reinterpret_cast<sockaddr*>(&a)));
  inet_pton(AF_INET, "192.168.1.1", &a.sin_addr);
  EXPECT_FALSE(p->AllowsAddress("other.example.com", reinterpret_cast<sockaddr*>(&a)));
  EXPECT_TRUE(p->AllowsAddress("hooks.example.com", reinterpret_cast<sockaddr*>(&a)));
}

TEST(UrlPolicy, DeniedNetworkAppliesToResolvedAddressOfAnyName) {
  auto p = UrlPolicy::Make("", "127.0.0.0/8");
  ASSERT_TRUE(p.ok());
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  EXPECT_FALSE(p->AllowsAddress("innocent-looking.example.com", reinterpret_cast<sockaddr*>(&a)));
}

// An IPv4 network also denies the IPv6 forms that carry that IPv4 address: mapped ::ffff:a.b.c.d,
// IPv4-compatible ::a.b.c.d and NAT64 64:ff9b::a.b.c.d, in URLs and in resolved addresses.
TEST(UrlPolicy, Ipv6FormsOfADeniedIpv4AddressAreDenied) {
  auto p = UrlPolicy::Make("", "169.254.0.0/16 ::/128");
  ASSERT_TRUE(p.ok());
  for (const char* url : {"http://[::ffff:169.254.169.254]/x", "http://[::169.254.169.254]/x",
                          "http://[64:ff9b::a9fe:a9fe]/x", "http://[64:ff9b::169.254.169.254]/x", "http://[::]/x",
                          "http://[64:ff9b:1::a9fe:a9fe]/x", "http://[::ffff:0:a9fe:a9fe]/x",
                          "http://[2002:a9fe:a9fe::]/x", "http://[2002:a9fe:a9fe:1::5]/x"}) {
    EXPECT_EQ(p->CheckUrl(url).message(), "denied") << url;
  }
  EXPECT_TRUE(p->CheckUrl("http://[::1]:9/x").ok()) << "loopback is not IPv4-compatible";
  EXPECT_TRUE(p->CheckUrl("http://[64:ff9b::808:808]/x").ok()) << "NAT64 of an allowed address";
  EXPECT_TRUE(p->CheckUrl("http://[2002:808:808::1]/x").ok()) << "6to4 of an allowed address";
  EXPECT_TRUE(p->CheckUrl("http://[2001:db8::a9fe:a9fe]/x").ok()) << "no IPv4 embedded";
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "64:ff9b::a9fe:a9fe", &a.sin6_addr);
  EXPECT_FALSE(p->AllowsAddress("metadata.example.com", reinterpret_cast<sockaddr*>(&a)));
}

TEST(UrlPolicy, LegacyIpv4FormsAndBadPortsCannotSlipThrough) {
  auto p = UrlPolicy::Make("", "127.0.0.0/8");
  ASSERT_TRUE(p.ok());
  for (const char* url : {"http://127.1:9/x", "http://2130706433:9/x", "http://0x7f000001:9/x"}) {
    EXPECT_EQ(p->CheckUrl(url).message(), "denied") << url;
  }
  EXPECT_EQ(p->CheckUrl("http://example.com:99999/x").message(), "invalid");
  EXPECT_EQ(p->CheckUrl("http://example.com:0/x").message(), "invalid");
  EXPECT_TRUE(p->CheckUrl("http://example.com:65535/x").ok());
}

TEST(UrlPolicy, MalformedEntriesAreConfigErrors) {
  EXPECT_FALSE(UrlPolicy::Make("10.0.0.0/33", "").ok());
  EXPECT_FALSE(UrlPolicy::Make("", "example.com/8").ok());
  EXPECT_FALSE(UrlPolicy::Make("", "user@host").ok());
  EXPECT_TRUE(UrlPolicy::Make(" , ", "").ok());
}

Subscription Sub(const std::string& id, const std::string& mode, const std::string& group = "") {
  Subscription s;
  s.id = id;
  s.delivery_mode = mode;
  s.group_id = group;
  return s;
}

std::vector<std::string> Ids(const std::vector<Subscription>& v) {
  std::vector<std::string> out;
  for (const auto& s : v) out.push_back(s.id);
  return out;
}

TEST(SelectRecipients, FanoutAllGroupRoundRobinHashOne) {
  std::vector<Subscription> active = {Sub("f1", "fanout"), Sub("g1", "group", "g"), Sub("g2", "group", "g"),
                                      Sub("h1", "hash"),   Sub("h2", "hash"),       Sub("f2", "fanout"),
                                      Sub("g3", "group", "g"), Sub("o1", "group", "other")};
  std::map<std::string, int64_t> counters;
  auto rr = [&](const std::string& g) { return ++counters[g]; };
  // Group g has 3 members: counter 1 → index 1 (g2), 2 → g3, 3 → g1 (SPEC §6.2 step 4).
  std::vector<std::string> picked_g;
  std::set<std::string> hash_picks;
  for (int i = 0; i < 3; ++i) {
    auto r = Ids(SelectRecipients(active, 120, rr));
    ASSERT_EQ(r.size(), 5u);  // f1, f2, one of g, o1, one hash
    EXPECT_EQ(r[0], "f1");
    EXPECT_EQ(r[1], "f2");
    picked_g.push_back(r[2]);
    EXPECT_EQ(r[3], "o1");
    hash_picks.insert(r[4]);
  }
  EXPECT_EQ(picked_g, (std::vector<std::string>{"g2", "g3", "g1"}));
  EXPECT_EQ(hash_picks, (std::set<std::string>{"h1"})) << "same minute → same hash member";
  EXPECT_EQ(Ids(SelectRecipients(active, 180, rr)).back(), "h2") << "next minute → next member";
}

TEST(CallbackBackoff, DoublesFromBaseUpToMax) {
  CallbackOptions o;  // 2, 60
  EXPECT_EQ(CallbackBackoffSeconds(o, 1), 2);
  EXPECT_EQ(CallbackBackoffSeconds(o, 2), 4);
  EXPECT_EQ(CallbackBackoffSeconds(o, 5), 32);
  EXPECT_EQ(CallbackBackoffSeconds(o, 6), 60);
  EXPECT_EQ(CallbackBackoffSeconds(o, 40), 60);
}

TEST(Bodies, ResultCallbackHasSpecMembersInOrder) {
  Task t;
  t.id = "7c0c8f5e-0000-4000-8000-000000000001";
  t.command = "Generate_Master";
  TaskResult r;
  r.task_id = t.id;
  r.status = "COMPLETED";
  r.result = boost::json::object{{"ok", true}};
  r.completed_at = "2026-01-01T00:00:00Z";
  EXPECT_EQ(ResultCallbackBody(t, r),
            R"({"artifacts":null,"completedAt":"2026-01-01T00:00:00Z","error":"","eventType":"Generate_Master",)"
            R"("result":{"ok":true},"status":"COMPLETED","taskId":"7c0c8f5e-0000-4000-8000-000000000001"})");
  r.result.reset();
  r.status = "FAILED";
  r.error = "boom";
  r.artifacts.push_back(Artifact{"a.txt", "file:///tmp/a.txt"});
  auto v = boost::json::parse(ResultCallbackBody(t, r)).as_object();
  EXPECT_TRUE(v["result"].is_null());
  EXPECT_EQ(v["error"].as_string(), "boom");
  EXPECT_EQ(v["artifacts"].as_array().size(), 1u);
}

TEST(Bodies, NotificationHasDepthAndFreshId) {
  auto a = boost::json::parse(NotificationBody("CMD", 3, 1767225600)).as_object();
  auto b = boost::json::parse(NotificationBody("CMD", 3, 1767225600)).as_object();
  EXPECT_EQ(a["eventType"].as_string(), "CMD");
  EXPECT_EQ(a["available"].as_bool(), true);
  EXPECT_EQ(a["queueDepth"].as_int64(), 3);
  EXPECT_EQ(a["claimUrl"].as_string(), "/v1/codeq/tasks/claim");
  EXPECT_EQ(a["sentAt"].as_string(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(std::string(a["notificationId"].as_string()).rfind("ntf-", 0), 0u);
  EXPECT_NE(a["notificationId"], b["notificationId"]);
}

class SenderTest : public ::testing::Test {
 protected:
  Sender MakeSender(const std::string& denied = "", int64_t timeout_ms = 2000) {
    SenderOptions o;
    o.hmac_secret = "topsecret";
    o.timeout_ms = timeout_ms;
    return Sender(*UrlPolicy::Make("", denied), o, clock_);
  }
  SystemClock clock_;
  test::TestHttpServer receiver_;
};

TEST_F(SenderTest, DeliversSignedJsonOn2xx) {
  Sender sender = MakeSender();
  auto out = sender.PostBlocking(receiver_.Url("/ok"), R"({"a":1})");
  EXPECT_TRUE(out.delivered) << out.error;
  EXPECT_EQ(out.http_status, 200);
  auto reqs = receiver_.Requests("/ok");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].body, R"({"a":1})");
  EXPECT_EQ(reqs[0].Header("content-type"), "application/json");
  std::string ts = reqs[0].Header("x-codeq-timestamp");
  EXPECT_NEAR(std::stoll(ts), clock_.NowSeconds(), 5);
  EXPECT_EQ(reqs[0].Header("x-codeq-signature"), test::ExpectedSignature("topsecret", ts, R"({"a":1})"));
}

TEST_F(SenderTest, Non2xxAndRedirectsAreFailuresAndRedirectsAreNotFollowed) {
  Sender sender = MakeSender();
  receiver_.Script("/fail", {500, 302});
  auto a = sender.PostBlocking(receiver_.Url("/fail"), "{}");
  EXPECT_FALSE(a.delivered);
  EXPECT_EQ(a.http_status, 500);
  auto b = sender.PostBlocking(receiver_.Url("/fail"), "{}");
  EXPECT_FALSE(b.delivered);
  EXPECT_EQ(b.http_status, 302);
  EXPECT_EQ(receiver_.Requests().size(), 2u);
}

TEST_F(SenderTest, DeniedAddressIsNeverContacted) {
  Sender sender = MakeSender("127.0.0.0/8");
  auto out = sender.PostBlocking("http://localhost:" + std::to_string(receiver_.port()) + "/x", "{}");
  EXPECT_FALSE(out.delivered);
  EXPECT_EQ(out.http_status, 0);
  EXPECT_NE(out.error.find("denied"), std::string::npos) << out.error;
  EXPECT_TRUE(receiver_.Requests().empty());
}

TEST_F(SenderTest, DeliversToABracketedIpv6Literal) {
  std::unique_ptr<test::TestHttpServer> v6;
  try {
    v6 = std::make_unique<test::TestHttpServer>("::1");
  } catch (const std::exception&) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  Sender sender = MakeSender();
  auto out = sender.PostBlocking(v6->Url("/v6"), "{}");
  EXPECT_TRUE(out.delivered) << out.error;
  EXPECT_EQ(v6->Requests("/v6").size(), 1u);
}

TEST_F(SenderTest, DeniedAddressIsAPermanentFailure) {
  Sender sender = MakeSender("127.0.0.0/8");
  auto out = sender.PostBlocking(receiver_.Url("/x"), "{}");
  EXPECT_FALSE(out.delivered);
  EXPECT_TRUE(out.permanent);
  auto transient = MakeSender().PostBlocking("http://127.0.0.1:1/x", "{}");  // refused: may recover
  EXPECT_FALSE(transient.delivered);
  EXPECT_FALSE(transient.permanent);
}

TEST_F(SenderTest, SilentReceiverTimesOut) {
  // A listening socket that never answers: the attempt ends after the timeout.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor silent(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  Sender sender = MakeSender("", 300);
  auto start = std::chrono::steady_clock::now();
  auto out = sender.PostBlocking("http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/", "{}");
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(out.delivered);
  EXPECT_EQ(out.http_status, 0);
  EXPECT_GE(ms, 250);
  EXPECT_LT(ms, 3000);
}

}  // namespace
}  // namespace codeq::webhooks
