// The backends under contract. Adding a backend = adding one factory here.
#include <string>

#include "contract_fixture.h"
#include "redis_backend.h"

namespace codeq::contract {
namespace {

class RedisBackend final : public Backend {
 public:
  explicit RedisBackend(test::RedisServer& server) : server_(server) {
    store_ = RedisStore::Create(TestRedisOptions(server));
  }
  Store& store() override { return *store_; }
  bool Reopen() override {
    store_.reset();
    store_ = RedisStore::Create(TestRedisOptions(server_));
    return true;
  }

  std::optional<int64_t> KeySize(const std::string& key) override {
    auto type = server_.Call({"TYPE", key});
    if (!type) return std::nullopt;
    std::string cmd = type->str == "list" ? "LLEN" : type->str == "zset" ? "ZCARD"
                    : type->str == "set"  ? "SCARD" : type->str == "hash" ? "HLEN" : "";
    if (cmd.empty()) return 0;
    auto n = server_.Call({cmd, key});
    if (!n) return std::nullopt;
    return n->integer;
  }

 private:
  test::RedisServer& server_;
  std::shared_ptr<RedisStore> store_;
};

}  // namespace

test::RedisServer& SharedRedisServer() {
  static test::RedisServer server;
  static bool started = server.Start();
  (void)started;
  return server;
}

RedisOptions TestRedisOptions(const test::RedisServer& server) {
  RedisOptions o;
  o.host = server.host();
  o.port = server.port();
  o.password = server.password();
  o.pool_size = 8;
  o.connect_timeout_ms = 500;
  o.command_timeout_ms = 1000;
  return o;
}

std::vector<BackendFactory> AllBackends() {
  return {
      {"Redis",
       []() -> std::unique_ptr<Backend> {
         auto& server = SharedRedisServer();
         if (!server.Running() && !server.Start()) return nullptr;
         if (!server.FlushAll()) return nullptr;
         return std::make_unique<RedisBackend>(server);
       }},
  };
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::ValuesIn(AllBackends()),
                         [](const ::testing::TestParamInfo<BackendFactory>& info) { return info.param.name; });

}  // namespace codeq::contract
