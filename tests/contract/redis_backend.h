// The Redis backend of the contract suite, and access to its shared test server.
#pragma once

#include <memory>

#include "store/redis/redis_store.h"
#include "support/redis_server.h"

namespace codeq::contract {

/// The redis-server shared by the contract tests (started on first use, stopped at exit).
test::RedisServer& SharedRedisServer();

/// Options pointing at `server` with short timeouts suitable for tests.
RedisOptions TestRedisOptions(const test::RedisServer& server);

}  // namespace codeq::contract
