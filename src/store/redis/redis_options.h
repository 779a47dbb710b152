// Connection settings of the Redis/KVRocks backend (SPEC §4, §8.2 `redis*` keys, D20 `STORE=redis://…`).
#pragma once

#include <string>

namespace codeq {

/// Where and how RedisStore connects. Plain value type; copying is O(size of the strings).
struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;                     // SELECT <db> after connecting when != 0
  std::string password;           // AUTH <password> after connecting when non-empty
  std::string username;           // ACL user: AUTH <username> <password> when both are non-empty
  int pool_size = 8;              // worker threads = maximum simultaneous connections
  int connect_timeout_ms = 1000;  // TCP connect (and AUTH/SELECT) bound
  int command_timeout_ms = 2000;  // socket read/write bound per command round trip
};

}  // namespace codeq
