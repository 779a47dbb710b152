// Contract: worker-availability subscriptions (SPEC §2.11, §2.12, §6.2, D6, D16).
#include <algorithm>
#include <chrono>
#include <thread>

#include "contract_fixture.h"

namespace codeq::contract {
namespace {

using std::chrono::milliseconds;

bool Contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

TEST_P(StoreContract, SubscriptionsAreActiveByCommandInExpiryOrder) {
  const int64_t now = RealNow().seconds();
  Subscription late = MakeSubscription({"Render", "Encode"}, now + 300, "acme");
  late.group_id = "g1";
  late.delivery_mode = "group";
  late.worker_id = "worker-7";
  Subscription early = MakeSubscription({"render"}, now + 100);
  Subscription expired = MakeSubscription({"RENDER"}, now - 10);
  CreateSubscription(late);
  CreateSubscription(early);
  CreateSubscription(expired);

  EXPECT_EQ(ActiveIds("render", now), (std::vector<std::string>{early.id, late.id}));
  EXPECT_EQ(ActiveIds("RENDER", now), (std::vector<std::string>{early.id, late.id}));  // any case
  EXPECT_EQ(ActiveIds("encode", now), (std::vector<std::string>{late.id}));
  EXPECT_TRUE(ActiveIds("other", now).empty());
  EXPECT_EQ(ActiveIds("render", now, /*limit=*/1), (std::vector<std::string>{early.id}));
  EXPECT_EQ(ActiveIds("render", now + 200), (std::vector<std::string>{late.id}));

  // The record comes back whole.
  auto subs = Await(store().ActiveSubscriptions("encode", now, 10));
  ASSERT_TRUE(subs.ok());
  ASSERT_EQ(subs->size(), 1u);
  const Subscription& s = (*subs)[0];
  EXPECT_EQ(s.callback_url, late.callback_url);
  EXPECT_EQ(s.event_types, late.event_types);
  EXPECT_EQ(s.delivery_mode, "group");
  EXPECT_EQ(s.group_id, "g1");
  EXPECT_EQ(s.tenant_id, "acme");
  EXPECT_EQ(s.worker_id, "worker-7");
  EXPECT_EQ(s.min_interval_seconds, 5);
  EXPECT_EQ(s.expires_at_sec, now + 300);
  EXPECT_EQ(s.expires_at, late.expires_at);
}

TEST_P(StoreContract, CountAndListActiveSubscriptions) {
  const int64_t now = RealNow().seconds();
  Subscription a = MakeSubscription({"Count"}, now + 100);
  Subscription b = MakeSubscription({"count", "list"}, now + 200, "acme");
  Subscription gone = MakeSubscription({"count"}, now - 1);
  for (const auto* s : {&a, &b, &gone}) CreateSubscription(*s);

  auto n = Await(store().CountActiveSubscriptions("COUNT", now));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(*Await(store().CountActiveSubscriptions("list", now)), 1);
  EXPECT_EQ(*Await(store().CountActiveSubscriptions("count", now + 150)), 1);
  EXPECT_EQ(*Await(store().CountActiveSubscriptions("nothing", now)), 0);

  auto all = Await(store().ListSubscriptions(now, 100));
  ASSERT_TRUE(all.ok());
  std::vector<std::string> ids;
  for (const auto& s : *all) ids.push_back(s.id);
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_TRUE(Contains(ids, a.id));
  EXPECT_TRUE(Contains(ids, b.id));
  EXPECT_FALSE(Contains(ids, gone.id));
  EXPECT_EQ(Await(store().ListSubscriptions(now, 1))->size(), 1u);
}

TEST_P(StoreContract, RenewMovesTheExpiryOfEveryEventType) {
  const int64_t now = RealNow().seconds();
  Subscription a = MakeSubscription({"Renew", "Second"}, now + 100, "acme");
  Subscription b = MakeSubscription({"renew"}, now + 200, "acme");
  CreateSubscription(a);
  CreateSubscription(b);
  ASSERT_EQ(ActiveIds("renew", now), (std::vector<std::string>{a.id, b.id}));

  const std::string text = "2099-01-01T00:00:00Z";
  auto renewed = Await(store().RenewSubscription("acme", a.id, now + 300, text));
  ASSERT_TRUE(renewed.ok()) << renewed.status().message();
  EXPECT_EQ(renewed->id, a.id);
  EXPECT_EQ(renewed->expires_at, text);
  EXPECT_EQ(renewed->expires_at_sec, now + 300);
  EXPECT_EQ(renewed->event_types, a.event_types);
  EXPECT_EQ(renewed->callback_url, a.callback_url);

  EXPECT_EQ(ActiveIds("renew", now), (std::vector<std::string>{b.id, a.id}));
  EXPECT_EQ(ActiveIds("second", now + 250), (std::vector<std::string>{a.id}));
  auto stored = Await(store().ActiveSubscriptions("second", now, 10));
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].expires_at, text);  // the record was rewritten too
}

TEST_P(StoreContract, RenewOfUnknownOrOtherTenantsSubscriptionIsNotFound) {
  const int64_t now = RealNow().seconds();
  Subscription a = MakeSubscription({"iso"}, now + 100, "acme");
  CreateSubscription(a);
  for (const std::string tenant : {"other", ""}) {
    auto r = Await(store().RenewSubscription(tenant, a.id, now + 900, "2099-01-01T00:00:00Z"));
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << "tenant '" << tenant << "'";
    EXPECT_EQ(r.status().message(), "not-found");
  }
  auto unknown = Await(store().RenewSubscription("acme", NewId(), now + 900, "2099-01-01T00:00:00Z"));
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  // Unchanged by the refused renewals.
  EXPECT_TRUE(ActiveIds("iso", now + 150).empty());
}

TEST_P(StoreContract, CleanupRemovesExpiredSubscriptionsWithTheirIndex) {
  const int64_t now = RealNow().seconds();
  Subscription old1 = MakeSubscription({"Clean", "Also"}, now - 50);
  Subscription old2 = MakeSubscription({"clean"}, now - 20, "acme");
  Subscription live = MakeSubscription({"clean"}, now + 100);
  for (const auto* s : {&old1, &old2, &live}) CreateSubscription(*s);
  ASSERT_TRUE(Await(store().TryThrottle(old1.id, 60, RealNow().ms)).ok());

  auto removed = Await(store().CleanupSubscriptions(now, 1000));
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, 2);

  // The records are gone: a renewal no longer finds them, and they are not listed.
  EXPECT_EQ(Await(store().RenewSubscription("", old1.id, now + 500, "2099-01-01T00:00:00Z")).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(Await(store().RenewSubscription("acme", old2.id, now + 500, "2099-01-01T00:00:00Z")).status().code(),
            StatusCode::kNotFound);
  // So are their index entries: even looking from the past, only the live one is left.
  EXPECT_EQ(ActiveIds("clean", now - 100), (std::vector<std::string>{live.id}));
  EXPECT_TRUE(ActiveIds("also", now - 100).empty());
  EXPECT_EQ(*Await(store().CountActiveSubscriptions("clean", now - 100)), 1);
  EXPECT_EQ(backend().KeySize("codeq:subs:clean").value_or(1), 1);  // Redis keyspace (SPEC §4.1)
  EXPECT_EQ(backend().KeySize("codeq:subs:also").value_or(0), 0);
  EXPECT_EQ(backend().KeySize("codeq:subs").value_or(1), 1);
  // The throttle state went with it.
  EXPECT_TRUE(*Await(store().TryThrottle(old1.id, 60, RealNow().ms)));

  EXPECT_EQ(*Await(store().CleanupSubscriptions(now, 1000)), 0);
  EXPECT_EQ(ActiveIds("clean", now), (std::vector<std::string>{live.id}));
}

TEST_P(StoreContract, CleanupHonoursLimit) {
  const int64_t now = RealNow().seconds();
  for (int i = 0; i < 3; ++i) CreateSubscription(MakeSubscription({"lim"}, now - 10 - i));
  EXPECT_EQ(*Await(store().CleanupSubscriptions(now, 2)), 2);
  EXPECT_EQ(*Await(store().CleanupSubscriptions(now, 2)), 1);
  EXPECT_TRUE(ActiveIds("lim", 0).empty());
}

TEST_P(StoreContract, ThrottleAllowsOneNotificationPerInterval) {
  const std::string id = NewId();
  auto first = Await(store().TryThrottle(id, 1, RealNow().ms));
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*Await(store().TryThrottle(id, 1, RealNow().ms)));
  EXPECT_TRUE(*Await(store().TryThrottle(NewId(), 1, RealNow().ms))) << "per subscription";
  std::this_thread::sleep_for(milliseconds(1100));
  EXPECT_TRUE(*Await(store().TryThrottle(id, 1, RealNow().ms))) << "the interval passed";
  EXPECT_FALSE(*Await(store().TryThrottle(id, 1, RealNow().ms)));
}

TEST_P(StoreContract, RoundRobinCountsPerCommandAndGroup) {
  for (int64_t want = 1; want <= 3; ++want) {
    auto n = Await(store().NextRoundRobin("Render", "g1"));
    ASSERT_TRUE(n.ok()) << n.status().message();
    EXPECT_EQ(*n, want);
  }
  EXPECT_EQ(*Await(store().NextRoundRobin("render", "g1")), 4);  // command lower-cased
  EXPECT_EQ(*Await(store().NextRoundRobin("render", "g2")), 1);
  EXPECT_EQ(*Await(store().NextRoundRobin("encode", "g1")), 1);
}

}  // namespace
}  // namespace codeq::contract
