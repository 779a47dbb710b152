// The Redis backend of the contract suite, and access to its shared test server.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "store/redis/redis_store.h"
#include "support/redis_server.h"

namespace codeq::contract {

/// The redis-server shared by the contract tests (started on first use, stopped at exit).
test::RedisServer& SharedRedisServer();

/// Options pointing at `server` with short timeouts suitable for tests.
RedisOptions TestRedisOptions(const test::RedisServer& server);

/// Base fixture of the Redis-only contract tests: the shared redis-server, flushed, and a fresh
/// RedisStore on it for every test.
class RedisStoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server().Running() || server().Start());
    ASSERT_TRUE(server().FlushAll());
    store_ = RedisStore::Create(TestRedisOptions(server()));
  }

  test::RedisServer& server() { return SharedRedisServer(); }

  /// One command on the test connection (not the store's); fails the test on a transport error.
  test::RespValue Call(const std::vector<std::string>& args) {
    auto r = server().Call(args);
    EXPECT_TRUE(r.has_value());
    return r.value_or(test::RespValue{});
  }

  std::shared_ptr<RedisStore> store_;
};

}  // namespace codeq::contract
