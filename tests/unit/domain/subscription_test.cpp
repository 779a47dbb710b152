#include "domain/subscription.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace codeq {
namespace {

namespace json = boost::json;

Subscription Sample() {
  Subscription s;
  s.id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  s.callback_url = "https://worker.example/ready";
  s.event_types = {"GENERATE_MASTER", "render"};
  s.delivery_mode = "group";
  s.group_id = "g1";
  s.min_interval_seconds = 7;
  s.expires_at = "2026-01-25T10:05:00Z";
  s.created_at = "2026-01-25T10:00:00Z";
  s.tenant_id = "acme";
  s.worker_id = "worker-1";
  return s;
}

TEST(SubscriptionJson, WritesSpecMemberNames) {
  json::object o = json::parse(SubscriptionToJsonText(Sample())).as_object();
  EXPECT_EQ(o.at("id").as_string(), "0f8fad5b-d9cb-469f-a165-70867728950e");
  EXPECT_EQ(o.at("callbackUrl").as_string(), "https://worker.example/ready");
  ASSERT_EQ(o.at("eventTypes").as_array().size(), 2u);
  EXPECT_EQ(o.at("eventTypes").as_array()[0].as_string(), "GENERATE_MASTER");
  EXPECT_EQ(o.at("deliveryMode").as_string(), "group");
  EXPECT_EQ(o.at("groupId").as_string(), "g1");
  EXPECT_EQ(o.at("minIntervalSeconds").as_int64(), 7);
  EXPECT_EQ(o.at("expiresAt").as_string(), "2026-01-25T10:05:00Z");
  EXPECT_EQ(o.at("createdAt").as_string(), "2026-01-25T10:00:00Z");
  EXPECT_EQ(o.at("tenantId").as_string(), "acme");
  EXPECT_EQ(o.at("workerId").as_string(), "worker-1");
  EXPECT_FALSE(o.contains("expires_at_sec"));
  EXPECT_FALSE(o.contains("expiresAtSec"));
}

TEST(SubscriptionJson, OmitsEmptyOptionalMembers) {
  Subscription s = Sample();
  s.group_id.clear();
  s.tenant_id.clear();
  s.worker_id.clear();
  json::object o = json::parse(SubscriptionToJsonText(s)).as_object();
  EXPECT_FALSE(o.contains("groupId"));
  EXPECT_FALSE(o.contains("tenantId"));
  EXPECT_FALSE(o.contains("workerId"));
  EXPECT_TRUE(o.contains("deliveryMode"));
}

TEST(SubscriptionJson, RoundTripsAndDerivesExpirySeconds) {
  auto back = SubscriptionFromJsonText(SubscriptionToJsonText(Sample()));
  ASSERT_TRUE(back.ok()) << back.status().message();
  const Subscription& s = *back;
  EXPECT_EQ(s.id, Sample().id);
  EXPECT_EQ(s.callback_url, Sample().callback_url);
  EXPECT_EQ(s.event_types, Sample().event_types);
  EXPECT_EQ(s.delivery_mode, "group");
  EXPECT_EQ(s.group_id, "g1");
  EXPECT_EQ(s.min_interval_seconds, 7);
  EXPECT_EQ(s.created_at, Sample().created_at);
  EXPECT_EQ(s.tenant_id, "acme");
  EXPECT_EQ(s.worker_id, "worker-1");
  EXPECT_EQ(s.expires_at_sec, 1769335500);  // 2026-01-25T10:05:00Z
}

TEST(SubscriptionJson, ExpirySecondsHonourOffsetsAndFractions) {
  auto s = SubscriptionFromJsonText(
      R"({"id":"x","expiresAt":"2026-01-25T07:05:00.900-03:00","eventTypes":[]})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->expires_at_sec, 1769335500);
  EXPECT_EQ(s->delivery_mode, "fanout");   // default kept when absent
  EXPECT_EQ(s->min_interval_seconds, 5);   // default kept when absent
}

TEST(SubscriptionJson, AcceptsLuaEncodedEmptyArrayAndIntegralDouble) {
  auto s = SubscriptionFromJsonText(
      R"({"id":"x","expiresAt":"2026-01-25T10:05:00Z","eventTypes":{},"minIntervalSeconds":3.0})");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(s->event_types.empty());
  EXPECT_EQ(s->min_interval_seconds, 3);
}

TEST(SubscriptionJson, RejectsBadRecords) {
  EXPECT_FALSE(SubscriptionFromJsonText("[1]").ok());
  EXPECT_FALSE(SubscriptionFromJsonText("not json").ok());
  EXPECT_FALSE(SubscriptionFromJsonText(R"({"expiresAt":"2026-01-25T10:05:00Z"})").ok());  // no id
  EXPECT_FALSE(SubscriptionFromJsonText(R"({"id":"x","expiresAt":"soon"})").ok());
  EXPECT_FALSE(SubscriptionFromJsonText(R"({"id":"x"})").ok());  // no expiresAt
  EXPECT_FALSE(
      SubscriptionFromJsonText(R"({"id":"x","expiresAt":"2026-01-25T10:05:00Z","eventTypes":[1]})").ok());
  EXPECT_EQ(SubscriptionFromJsonText("[1]").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace codeq
