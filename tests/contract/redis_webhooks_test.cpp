// Redis-only: the exact keys of the outbox and of subscriptions (SPEC §4.1 + our outbox keys),
// and repairs of states only raw data can produce.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "contract_fixture.h"
#include "domain/time_format.h"
#include "redis_backend.h"

namespace codeq::contract {
namespace {

class RedisWebhooksTest : public RedisStoreFixture {
 protected:
  Subscription Sub(std::vector<std::string> events, int64_t expires_at_sec, const std::string& tenant = "") {
    Subscription s;
    s.id = NewId();
    s.callback_url = "https://w.example/r";
    s.event_types = std::move(events);
    s.expires_at_sec = expires_at_sec;
    s.expires_at = FormatTimestamp(expires_at_sec * 1000);
    s.created_at = RealNow().text;
    s.tenant_id = tenant;
    EXPECT_TRUE(Await(store_->CreateSubscription(s)).ok());
    return s;
  }

};

TEST_F(RedisWebhooksTest, OutboxKeysHoldDueScoreAndEntryJson) {
  CreateTaskInput in;
  in.task.id = NewId();
  in.task.command = "Render";
  in.task.payload = "{}";
  in.task.status = "PENDING";
  in.task.tenant_id = "acme";
  in.task.webhook = "https://hooks.example/a/b";
  in.now = RealNow();
  in.task.created_at = in.task.updated_at = in.now.text;
  in.visible_at_sec = in.now.seconds();
  ASSERT_TRUE(Await(store_->CreateTask(in)).ok());
  ClaimInput c;
  c.worker_id = "w";
  c.tenant = "acme";
  c.commands = {"render"};
  c.now = RealNow();
  ASSERT_TRUE(Await(store_->ClaimTask(c)).ok());
  SubmitResultInput r;
  r.tenant = "acme";
  r.task_id = in.task.id;
  r.worker_id = "w";
  r.result.status = "COMPLETED";
  r.now = RealNow();
  ASSERT_TRUE(Await(store_->SubmitResult(r)).ok());

  EXPECT_EQ(Call({"ZSCORE", "codeq:webhooks:outbox", in.task.id}).str, std::to_string(r.now.ms));
  auto data = boost::json::parse(Call({"HGET", "codeq:webhooks:outbox:data", in.task.id}).str).as_object();
  EXPECT_EQ(data.at("url").as_string(), "https://hooks.example/a/b");
  EXPECT_EQ(data.at("tenantId").as_string(), "acme");
  EXPECT_EQ(data.at("command").as_string(), "Render");
  EXPECT_EQ(data.at("attempts").to_number<int64_t>(), 0);

  ASSERT_TRUE(Await(store_->RetryCallback(in.task.id, 3, 42)).ok());
  EXPECT_EQ(Call({"ZSCORE", "codeq:webhooks:outbox", in.task.id}).str, "42");
  data = boost::json::parse(Call({"HGET", "codeq:webhooks:outbox:data", in.task.id}).str).as_object();
  EXPECT_EQ(data.at("attempts").to_number<int64_t>(), 3);
  EXPECT_EQ(data.at("url").as_string(), "https://hooks.example/a/b");

  ASSERT_TRUE(Await(store_->FinishCallback(in.task.id)).ok());
  EXPECT_EQ(Call({"EXISTS", "codeq:webhooks:outbox", "codeq:webhooks:outbox:data"}).integer, 0);
}

TEST_F(RedisWebhooksTest, OutboxIndexEntryWithoutDataIsDroppedOnClaim) {
  Call({"ZADD", "codeq:webhooks:outbox", "1", "orphan"});
  auto got = Await(store_->ClaimDueCallbacks(10, 1000, 10));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
  EXPECT_EQ(Call({"ZCARD", "codeq:webhooks:outbox"}).integer, 0);
}

TEST_F(RedisWebhooksTest, SubscriptionKeysMatchSpec) {
  const int64_t now = RealNow().seconds();
  Subscription s = Sub({"Render", "ENCODE"}, now + 300, "acme");
  auto stored = SubscriptionFromJsonText(Call({"HGET", "codeq:subs", s.id}).str);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->tenant_id, "acme");
  EXPECT_EQ(Call({"ZSCORE", "codeq:subs:render", s.id}).str, std::to_string(now + 300));
  EXPECT_EQ(Call({"ZSCORE", "codeq:subs:encode", s.id}).str, std::to_string(now + 300));

  ASSERT_TRUE(*Await(store_->TryThrottle(s.id, 7, RealNow().ms)));
  EXPECT_EQ(Call({"GET", "codeq:subs:last:" + s.id}).str, "1");
  const long long ttl = Call({"TTL", "codeq:subs:last:" + s.id}).integer;
  EXPECT_GT(ttl, 5);
  EXPECT_LE(ttl, 7);

  ASSERT_EQ(*Await(store_->NextRoundRobin("Render", "g1")), 1);
  EXPECT_EQ(Call({"GET", "codeq:subs:rr:render:g1"}).str, "1");

  auto renewed = Await(store_->RenewSubscription("acme", s.id, now + 900, FormatTimestamp((now + 900) * 1000)));
  ASSERT_TRUE(renewed.ok()) << renewed.status().message();
  EXPECT_EQ(Call({"ZSCORE", "codeq:subs:render", s.id}).str, std::to_string(now + 900));
  EXPECT_EQ(Call({"ZSCORE", "codeq:subs:encode", s.id}).str, std::to_string(now + 900));
  auto reread = SubscriptionFromJsonText(Call({"HGET", "codeq:subs", s.id}).str);
  ASSERT_TRUE(reread.ok()) << "the Lua-rewritten record still decodes";
  EXPECT_EQ(reread->expires_at_sec, now + 900);
  EXPECT_EQ(reread->event_types, s.event_types);
}

TEST_F(RedisWebhooksTest, ActiveDropsIndexEntriesWhoseRecordIsMissing) {
  const int64_t now = RealNow().seconds();
  Subscription keep = Sub({"x"}, now + 100);
  Subscription lost = Sub({"x"}, now + 50);
  Call({"HDEL", "codeq:subs", lost.id});
  auto active = Await(store_->ActiveSubscriptions("x", now, 10));
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].id, keep.id);
  EXPECT_EQ(Call({"ZCARD", "codeq:subs:x"}).integer, 1);
}

TEST_F(RedisWebhooksTest, CleanupFixesStaleScoresAndDropsOrphans) {
  const int64_t now = RealNow().seconds();
  Subscription live = Sub({"y"}, now + 100);
  Call({"ZADD", "codeq:subs:y", std::to_string(now - 100), live.id});  // stale score
  Call({"ZADD", "codeq:subs:y", std::to_string(now - 100), "orphan"});  // no record
  Call({"SET", "codeq:subs:last:orphan", "1"});
  auto removed = Await(store_->CleanupSubscriptions(now, 100));
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(Call({"ZSCORE", "codeq:subs:y", live.id}).str, std::to_string(now + 100));
  EXPECT_TRUE(Call({"ZSCORE", "codeq:subs:y", "orphan"}).nil);
  EXPECT_EQ(Call({"EXISTS", "codeq:subs:last:orphan"}).integer, 0);
  EXPECT_EQ(Call({"HLEN", "codeq:subs"}).integer, 1);
}

}  // namespace
}  // namespace codeq::contract
