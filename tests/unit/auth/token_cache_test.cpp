// TokenCache and its use by JwtValidator: hits skip verification, expiry with leeway, LRU bound.
#include "auth/token_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "auth/jwt_validator.h"
#include "auth_test_util.h"

namespace codeq {
namespace {

using auth_test::GoodClaims;
using auth_test::JwksFile;
using auth_test::KeyA;
using auth_test::kAudience;
using auth_test::kIssuer;
using auth_test::MustSign;

Claims ClaimsFor(const std::string& sub) {
  Claims c;
  c.subject = sub;
  c.scopes = {"codeq:claim"};
  c.raw = boost::json::object{{"sub", sub}};
  return c;
}

TEST(TokenCacheTest, HitReturnsStoredClaims) {
  TokenCache cache(100);
  EXPECT_EQ(cache.Get("t1", 1000), nullptr);
  cache.Put("t1", ClaimsFor("alice"), 2000);
  auto hit = cache.Get("t1", 1000);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->subject, "alice");
  EXPECT_EQ(hit->scopes, std::vector<std::string>{"codeq:claim"});
  EXPECT_EQ(hit->raw.at("sub").as_string(), "alice");
  EXPECT_EQ(cache.Get("t2", 1000), nullptr);
  EXPECT_EQ(cache.Get("t", 1000), nullptr);  // exact token text only
}

TEST(TokenCacheTest, TokensThatDifferOnlyBeforeTheHashedTailAreDistinct) {
  // Same length, same last TokenHash::kHashedBytes bytes: one hash, two entries.
  const std::string tail(TokenHash::kHashedBytes, 's');
  const std::string a = "header-a." + tail, b = "header-b." + tail;
  ASSERT_EQ(TokenHash{}(a), TokenHash{}(b));
  EXPECT_NE(TokenHash{}(a), TokenHash{}("x" + a));  // the length counts too
  TokenCache cache(100, 1);
  cache.Put(a, ClaimsFor("alice"), 2000);
  EXPECT_EQ(cache.Get(b, 1000), nullptr);
  EXPECT_FALSE(cache.Contains(b, 1000));
  cache.Put(b, ClaimsFor("bob"), 2000);
  EXPECT_EQ(cache.Size(), 2u);
  EXPECT_EQ(cache.Get(a, 1000)->subject, "alice");
  EXPECT_EQ(cache.Get(b, 1000)->subject, "bob");
}

TEST(TokenCacheTest, HitsShareOneClaimsObject) {
  TokenCache cache(100);
  cache.Put("t", ClaimsFor("alice"), 2000);
  EXPECT_EQ(cache.Get("t", 1000).get(), cache.Get("t", 1000).get());
}

TEST(TokenCacheTest, ContainsMatchesWhatGetWouldReturn) {
  TokenCache cache(100);
  Claims c;
  c.subject = "s";
  EXPECT_FALSE(cache.Contains("t", 1000));
  cache.Put("t", c, 2000);
  EXPECT_TRUE(cache.Contains("t", 2000));   // valid_until is inclusive
  EXPECT_FALSE(cache.Contains("t", 2001));
  EXPECT_FALSE(cache.Contains("other", 1000));
  EXPECT_NE(cache.Get("t", 1500), nullptr);  // Contains left the entry in place
  TokenCache off(0);
  off.Put("t", c, 2000);
  EXPECT_FALSE(off.Contains("t", 1000));
}

TEST(TokenCacheTest, EntryExpiresAfterValidUntil) {
  TokenCache cache(100);
  cache.Put("t", ClaimsFor("a"), 2000);
  EXPECT_NE(cache.Get("t", 2000), nullptr);  // inclusive
  EXPECT_EQ(cache.Get("t", 2001), nullptr);
  EXPECT_EQ(cache.Size(), 0u);  // the expired entry was dropped
}

TEST(TokenCacheTest, PutReplacesExistingEntry) {
  TokenCache cache(100);
  cache.Put("t", ClaimsFor("a"), 2000);
  cache.Put("t", ClaimsFor("b"), 3000);
  EXPECT_EQ(cache.Size(), 1u);
  EXPECT_EQ(cache.Get("t", 2500)->subject, "b");
}

TEST(TokenCacheTest, BoundedWithLeastRecentlyUsedEviction) {
  TokenCache cache(4, 1);  // one shard, so the LRU order is exact
  for (int i = 0; i < 4; ++i) cache.Put("t" + std::to_string(i), ClaimsFor("s"), 9999);
  EXPECT_NE(cache.Get("t0", 0), nullptr);  // t0 becomes most recent; t1 is now oldest
  cache.Put("t4", ClaimsFor("s"), 9999);
  EXPECT_EQ(cache.Size(), 4u);
  EXPECT_EQ(cache.Get("t1", 0), nullptr);
  EXPECT_NE(cache.Get("t0", 0), nullptr);
  EXPECT_NE(cache.Get("t4", 0), nullptr);
}

TEST(TokenCacheTest, ShardedCacheNeverExceedsCapacity) {
  TokenCache cache(64);
  for (int i = 0; i < 1000; ++i) cache.Put("token-" + std::to_string(i), ClaimsFor("s"), 9999);
  EXPECT_LE(cache.Size(), 64u);
  EXPECT_GT(cache.Size(), 0u);
}

TEST(TokenCacheTest, ZeroCapacityDisables) {
  TokenCache cache(0);
  cache.Put("t", ClaimsFor("a"), 9999);
  EXPECT_EQ(cache.Get("t", 0), nullptr);
  EXPECT_EQ(cache.Size(), 0u);
}

TEST(TokenCacheTest, ConcurrentUseIsSafe) {
  TokenCache cache(256);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 5000; ++i) {
        std::string key = "k" + std::to_string((i * 7 + t) % 500);
        if (!cache.Get(key, 10)) cache.Put(key, ClaimsFor(key), 100);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(cache.Size(), 256u);
}

class JwtValidatorCacheTest : public ::testing::Test {
 protected:
  JwtValidatorCacheTest() : file_({&KeyA()}) {}
  JwtValidatorOptions Options(size_t cache_size) const {
    JwtValidatorOptions o;
    o.jwks_url = file_.url();
    o.issuer = kIssuer;
    o.audience = kAudience;
    o.clock_skew_seconds = 60;
    o.http_timeout_ms = 1000;
    o.token_cache_size = cache_size;
    return o;
  }
  JwksFile file_;
  ManualClock clock_;
};

TEST_F(JwtValidatorCacheTest, RepeatedTokenIsServedFromCache) {
  JwtValidator v(Options(100), clock_);
  std::string token = MustSign(KeyA(), GoodClaims(clock_.NowSeconds()));
  auto first = v.Validate(token);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(v.token_cache().Size(), 1u);
  auto second = v.Validate(token);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->subject, "user-1");
  EXPECT_EQ(second->scopes, first->scopes);
  EXPECT_EQ(second->event_types, first->event_types);
  EXPECT_EQ(second->raw, first->raw);
  EXPECT_EQ(v.token_cache().Size(), 1u);
}

TEST_F(JwtValidatorCacheTest, CachedTokenStillExpiresWithLeeway) {
  JwtValidator v(Options(100), clock_);
  boost::json::object claims = GoodClaims(clock_.NowSeconds());
  claims["exp"] = clock_.NowSeconds() + 10;
  std::string token = MustSign(KeyA(), claims);
  ASSERT_TRUE(v.Validate(token).ok());
  clock_.Advance((10 + 60) * 1000);  // exactly exp + skew: still accepted
  EXPECT_TRUE(v.Validate(token).ok());
  clock_.Advance(1000);
  auto r = v.Validate(token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "token expired");
}

TEST_F(JwtValidatorCacheTest, RejectedTokensAreNotCached) {
  JwtValidator v(Options(100), clock_);
  std::string token = MustSign(KeyA(), GoodClaims(clock_.NowSeconds()));
  std::string tampered = token;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(v.Validate(tampered).ok());
  EXPECT_FALSE(v.Validate(tampered).ok());
  EXPECT_EQ(v.token_cache().Size(), 0u);
}

TEST_F(JwtValidatorCacheTest, DisabledCacheStillValidates) {
  JwtValidator v(Options(0), clock_);
  std::string token = MustSign(KeyA(), GoodClaims(clock_.NowSeconds()));
  EXPECT_TRUE(v.Validate(token).ok());
  EXPECT_TRUE(v.Validate(token).ok());
  EXPECT_EQ(v.token_cache().Size(), 0u);
}

}  // namespace
}  // namespace codeq
