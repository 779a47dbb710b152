// Shared fixture of the HTTP integration suites: one redis-server and one `codeq serve --dev` per
// test suite, request helpers, and tokens minted with the dev signing key.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/codeq_server.h"
#include "support/http_client.h"
#include "support/redis_server.h"

namespace codeq::it {

using test::HttpClient;
using test::HttpHeaders;
using test::HttpResponse;
using test::JsonHas;
using test::JsonInt;
using test::JsonString;
namespace json = boost::json;

/// Extra environment of a suite's codeq process.
using EnvList = std::vector<std::pair<std::string, std::string>>;

/// Claims for a minted token beyond iss/aud/iat/exp (see Mint*).
struct TokenSpec {
  std::string sub;
  std::optional<std::string> tenant;         // tenantId claim
  std::vector<std::string> event_types;      // worker only; empty = claim absent
  std::optional<std::string> scope;          // space separated; nullopt = claim absent
  std::optional<std::string> role;           // producer role claim
  int64_t expires_in_seconds = 3600;         // negative = already expired
  json::object extra;                        // merged last
};

class IntegrationTest : public ::testing::Test {
 public:
  /// Starts redis + codeq for the suite (with `env` on top of the defaults). Fatal-fails the suite
  /// on error. `dev` = false starts codeq without --dev: `env` must then configure auth, and the
  /// dev tokens and Mint* helpers are unavailable. `redis_args` are extra redis-server arguments
  /// (e.g. AOF persistence for a suite that restarts Redis).
  static void StartEnvironment(const EnvList& env = {}, bool dev = true,
                               const std::vector<std::string>& redis_args = {});
  static void StopEnvironment();
  static void SetUpTestSuite() { StartEnvironment(); }
  static void TearDownTestSuite() { StopEnvironment(); }

 protected:
  void SetUp() override;
  void TearDown() override;

  static test::RedisServer& redis() { return *redis_; }
  /// True when the suite runs against the embedded store (env CODEQ_IT_STORE=embedded); a
  /// redis-server is still started but the server does not use it.
  static bool EmbeddedBackend();
  static test::CodeqServer& codeq() { return *codeq_; }

  /// A command name unique to the running test: "<Suite>_<Test>" plus `suffix`.
  static std::string Cmd(const std::string& suffix = "");

  /// Tokens: the three dev tokens and freshly minted ones (signed with the server's dev key).
  static const std::string& Producer() { return codeq_->producer_token(); }
  static const std::string& Worker() { return codeq_->worker_token(); }
  static const std::string& Admin() { return codeq_->admin_token(); }
  static std::string MintProducer(const TokenSpec& spec);
  static std::string MintWorker(const TokenSpec& spec);
  /// A worker token with all six worker scopes, eventTypes ["*"] and the given subject/tenant.
  static std::string WorkerAs(const std::string& sub, std::optional<std::string> tenant = std::nullopt);
  /// Signs arbitrary claims with the dev key (no defaults added).
  static std::string MintRaw(const json::object& claims);

  /// Raw request on a fresh connection.
  static HttpResponse Call(const std::string& method, const std::string& path, const std::string& token,
                           const std::string& body = "", HttpHeaders extra = {},
                           std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  static HttpResponse Post(const std::string& path, const std::string& token, const json::value& body,
                           HttpHeaders extra = {});
  static HttpResponse Get(const std::string& path, const std::string& token, HttpHeaders extra = {});

  /// POST /v1/codeq/tasks with {command, payload:{}} merged with `fields`; expects 202 and returns
  /// the task (null and a test failure otherwise).
  static json::object CreateTask(const std::string& command, json::object fields = {},
                                 const std::string& token = "");
  /// POST /v1/codeq/tasks/claim {"commands":[...], leaseSeconds, waitSeconds}.
  static HttpResponse ClaimRaw(const std::string& token, const std::vector<std::string>& commands,
                               int lease_seconds = 0, int wait_seconds = 0);
  /// Claims one task of `command`: expects 200 and returns it.
  static json::object ClaimOne(const std::string& command, const std::string& token = "", int lease_seconds = 0,
                               int wait_seconds = 0);
  static HttpResponse GetTask(const std::string& id, const std::string& token = "");
  static std::string TaskPath(const std::string& id, const std::string& action = "");

  static inline std::unique_ptr<test::RedisServer> redis_;
  static inline std::unique_ptr<test::CodeqServer> codeq_;
};

/// "Bearer <token>" as a header list.
HttpHeaders Auth(const std::string& token);

/// Whether `s` is a lower-case canonical 8-4-4-4-12 UUID.
bool IsUuid(const std::string& s);

/// Seconds since the epoch, now.
int64_t UnixNow();

/// "YYYY-MM-DDTHH:MM:SSZ" (optionally with a fraction) → epoch seconds; nullopt otherwise.
std::optional<int64_t> ParseUtcSeconds(const std::string& text);

/// Milliseconds since `start`.
int64_t MsSince(std::chrono::steady_clock::time_point start);

}  // namespace codeq::it
