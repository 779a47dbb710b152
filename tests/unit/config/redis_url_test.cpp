// ParseRedisUrl and RedisTarget (SPEC D21 URL form).
#include <gtest/gtest.h>

#include "config/config.h"

namespace codeq {
namespace {

RedisUrl MustParse(std::string_view url) {
  Result<RedisUrl> r = ParseRedisUrl(url);
  EXPECT_TRUE(r.ok()) << url << ": " << r.status().message();
  return r.ok() ? r.value() : RedisUrl{};
}

std::string ParseError(std::string_view url) {
  Result<RedisUrl> r = ParseRedisUrl(url);
  EXPECT_FALSE(r.ok()) << url;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(RedisUrlTest, HostOnlyTakesDefaults) {
  RedisUrl u = MustParse("redis://localhost");
  EXPECT_EQ(u.host, "localhost");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.db, 0);
  EXPECT_EQ(u.password, "");
  EXPECT_EQ(u.username, "");
}

TEST(RedisUrlTest, PasswordPortAndDb) {
  RedisUrl u = MustParse("redis://:s3cret@db.internal:6380/2");
  EXPECT_EQ(u.host, "db.internal");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.db, 2);
  EXPECT_EQ(u.password, "s3cret");
  EXPECT_EQ(u.username, "");
}

TEST(RedisUrlTest, UserAndPassword) {
  RedisUrl u = MustParse("redis://alice:p%40ss@10.0.0.5");
  EXPECT_EQ(u.host, "10.0.0.5");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.username, "alice");
  EXPECT_EQ(u.password, "p@ss");  // percent-decoded
}

TEST(RedisUrlTest, TrailingSlashAndIpv6) {
  EXPECT_EQ(MustParse("redis://h:1/").db, 0);
  RedisUrl u = MustParse("redis://[::1]:7000/15");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 7000);
  EXPECT_EQ(u.db, 15);
  EXPECT_EQ(MustParse("REDIS://H:1").host, "H");  // scheme is case-insensitive
}

TEST(RedisUrlTest, BadScheme) {
  EXPECT_EQ(ParseError("http://localhost:6379"), "redis URL must start with redis://");
  EXPECT_EQ(ParseError("localhost:6379"), "redis URL must start with redis://");
  EXPECT_EQ(ParseError("rediss://:pw@localhost:6379"), "rediss:// (TLS) is not supported; use redis://");
}

TEST(RedisUrlTest, MissingHost) {
  EXPECT_EQ(ParseError("redis://"), "redis URL has no host");
  EXPECT_EQ(ParseError("redis://:6379"), "redis URL has no host");
  EXPECT_EQ(ParseError("redis://:pw@:6379/1"), "redis URL has no host");
  EXPECT_EQ(ParseError("redis:localhost"), "redis URL has no host");
}

TEST(RedisUrlTest, BadPort) {
  EXPECT_EQ(ParseError("redis://h:0"), "redis URL port must be 1..65535");
  EXPECT_EQ(ParseError("redis://h:65536"), "redis URL port must be 1..65535");
  EXPECT_EQ(ParseError("redis://h:"), "redis URL port must be 1..65535");
  EXPECT_FALSE(ParseRedisUrl("redis://h:abc").ok());
}

TEST(RedisUrlTest, BadDbQueryAndGarbage) {
  EXPECT_EQ(ParseError("redis://h:1/x"), "redis URL db must be a non-negative integer");
  EXPECT_EQ(ParseError("redis://h:1/1/2"), "redis URL db must be a non-negative integer");
  EXPECT_EQ(ParseError("redis://h:1/-1"), "redis URL db must be a non-negative integer");
  EXPECT_EQ(ParseError("redis://h:1/0?timeout=1"), "redis URL must not have a query or fragment");
  EXPECT_FALSE(ParseRedisUrl("").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://h h").ok());
}

TEST(RedisUrlTest, ErrorsNeverContainThePassword) {
  for (const char* url : {"redis://:topsecret@h:0", "redis://:topsecret@h:1/x", "rediss://:topsecret@h",
                          "redis://:topsecret@:1", "redis://:topsecret@h h"}) {
    Result<RedisUrl> r = ParseRedisUrl(url);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.status().message().find("topsecret"), std::string::npos) << r.status().message();
  }
}

TEST(RedisTargetTest, FromStoreUrlOrRedisAddr) {
  Config c;
  EXPECT_FALSE(RedisTarget(c).ok());  // embedded

  c.store = "redis";
  c.redis_addr = "kv.internal:6666";
  c.redis_password = "pw";
  Result<RedisUrl> r = RedisTarget(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->host, "kv.internal");
  EXPECT_EQ(r->port, 6666);
  EXPECT_EQ(r->password, "pw");

  c.store = "redis://h:1/4";
  r = RedisTarget(c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->host, "h");
  EXPECT_EQ(r->db, 4);
  EXPECT_EQ(r->password, "pw");  // URL without password takes redisPassword

  c.store = "redis://:url-pw@h:1";
  EXPECT_EQ(RedisTarget(c)->password, "url-pw");
}

}  // namespace
}  // namespace codeq
