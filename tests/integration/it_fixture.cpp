#include <cstdlib>
#include "integration/it_fixture.h"

#include <cstdio>
#include <ctime>
#include <iostream>
#include <regex>

#include "auth/dev_keys.h"

namespace codeq::it {

namespace {

std::optional<SigningKey>& Key() {
  static std::optional<SigningKey> key;
  return key;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json::object BaseClaims(const TokenSpec& spec, const char* audience) {
  int64_t now = NowSeconds();
  json::object c{{"iss", "codeq-dev"},
                 {"aud", audience},
                 {"sub", spec.sub},
                 {"iat", spec.expires_in_seconds < 0 ? now + spec.expires_in_seconds - 60 : now},
                 {"exp", now + spec.expires_in_seconds}};
  if (spec.tenant) c["tenantId"] = *spec.tenant;
  if (spec.scope) c["scope"] = *spec.scope;
  if (spec.role) c["role"] = *spec.role;
  if (!spec.event_types.empty()) {
    json::array ev;
    for (const auto& e : spec.event_types) ev.emplace_back(e);
    c["eventTypes"] = std::move(ev);
  }
  for (const auto& kv : spec.extra) c[kv.key()] = kv.value();
  return c;
}

}  // namespace

HttpHeaders Auth(const std::string& token) {
  if (token.empty()) return {};
  return {{"Authorization", "Bearer " + token}};
}

bool IsUuid(const std::string& s) {
  static const std::regex re("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  return std::regex_match(s, re);
}

int64_t UnixNow() { return NowSeconds(); }

std::optional<int64_t> ParseUtcSeconds(const std::string& text) {
  std::tm tm{};
  if (text.size() < 20 || text.back() != 'Z') return std::nullopt;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(::timegm(&tm));
}

int64_t MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

bool IntegrationTest::EmbeddedBackend() {
  const char* store = std::getenv("CODEQ_IT_STORE");
  return store != nullptr && std::string(store) == "embedded";
}

void IntegrationTest::StartEnvironment(const EnvList& env, bool dev, const std::vector<std::string>& redis_args) {
  test::RedisServerOptions redis_options;
  redis_options.extra_args = redis_args;
  redis_ = std::make_unique<test::RedisServer>(redis_options);
  if (!redis_->Start()) {
    std::string log = redis_->Log();
    redis_.reset();
    GTEST_FAIL() << "redis-server did not start: " << log;
  }
  test::CodeqServerOptions o;
  o.store_url = EmbeddedBackend() ? std::string("embedded") : redis_->url();
  o.env = {{"MAX_BODY_BYTES", "65536"}};
  o.env.insert(o.env.end(), env.begin(), env.end());
  o.dev = dev;
  codeq_ = std::make_unique<test::CodeqServer>(o);
  std::string error;
  if (!codeq_->Start(&error)) {
    codeq_.reset();
    GTEST_FAIL() << "codeq did not start: " << error;
  }
  if (!dev) return;
  auto key = LoadOrCreateSigningKey(codeq_->signing_key_path());
  if (!key.ok()) GTEST_FAIL() << "cannot load the dev signing key: " << key.status().message();
  Key() = *key;
}

void IntegrationTest::StopEnvironment() {
  if (codeq_) {
    auto st = codeq_->Stop();
    if (st && *st != 0) {
      ADD_FAILURE() << "codeq exited with status " << *st << " at teardown\n" << codeq_->LogTail();
    }
  }
  codeq_.reset();
  redis_.reset();
  Key().reset();
}

void IntegrationTest::SetUp() {
  if (!codeq_ || !redis_) GTEST_SKIP() << "environment failed to start (see the suite set-up failure)";
  if (!codeq_->Running()) {
    // A previous test crashed the server (reported there); start it again so one crash fails one test.
    std::string error;
    ASSERT_TRUE(codeq_->Start(&error)) << "codeq could not be restarted: " << error;
  }
}

void IntegrationTest::TearDown() {
  if (!codeq_) return;
  if (!codeq_->Running()) {
    ADD_FAILURE() << "codeq CRASHED during this test; log tail:\n" << codeq_->LogTail(3000);
    std::string error;
    if (!codeq_->Start(&error)) ADD_FAILURE() << "codeq could not be restarted: " << error;
    return;
  }
  if (HasFailure()) {
    std::cerr << "---- codeq log (tail) ----\n" << codeq_->LogTail(2500) << "\n---- end of codeq log ----\n";
  }
}

std::string IntegrationTest::Cmd(const std::string& suffix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "_" + info->name() : "cmd";
  for (char& c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) c = '_';
  }
  return name + suffix;
}

std::string IntegrationTest::MintRaw(const json::object& claims) {
  if (!Key()) {
    ADD_FAILURE() << "no signing key";
    return "";
  }
  auto token = SignJwt(*Key(), claims);
  if (!token.ok()) {
    ADD_FAILURE() << "SignJwt: " << token.status().message();
    return "";
  }
  return *token;
}

std::string IntegrationTest::MintProducer(const TokenSpec& spec) { return MintRaw(BaseClaims(spec, "codeq-producer")); }

std::string IntegrationTest::MintWorker(const TokenSpec& spec) { return MintRaw(BaseClaims(spec, "codeq-worker")); }

std::string IntegrationTest::WorkerAs(const std::string& sub, std::optional<std::string> tenant) {
  TokenSpec s;
  s.sub = sub;
  s.tenant = std::move(tenant);
  s.event_types = {"*"};
  s.scope = "codeq:claim codeq:heartbeat codeq:abandon codeq:nack codeq:result codeq:subscribe";
  return MintWorker(s);
}

HttpResponse IntegrationTest::Call(const std::string& method, const std::string& path, const std::string& token,
                                   const std::string& body, HttpHeaders extra,
                                   std::optional<std::chrono::milliseconds> timeout) {
  HttpHeaders h = Auth(token);
  h.insert(h.end(), extra.begin(), extra.end());
  HttpClient client("127.0.0.1", codeq_->port());
  return client.Request(method, path, h, body, timeout);
}

HttpResponse IntegrationTest::Post(const std::string& path, const std::string& token, const json::value& body,
                                   HttpHeaders extra) {
  return Call("POST", path, token, json::serialize(body), std::move(extra));
}

HttpResponse IntegrationTest::Get(const std::string& path, const std::string& token, HttpHeaders extra) {
  return Call("GET", path, token, "", std::move(extra));
}

json::object IntegrationTest::CreateTask(const std::string& command, json::object fields, const std::string& token) {
  json::object body{{"command", command}, {"payload", json::object{}}};
  for (const auto& kv : fields) body[kv.key()] = kv.value();
  auto r = Post("/v1/codeq/tasks", token.empty() ? Producer() : token, body);
  EXPECT_EQ(r.status, 202) << "create " << json::serialize(body) << " -> " << r.Describe();
  auto v = r.Json();
  if (r.status != 202 || !v.is_object()) return {};
  return v.get_object();
}

HttpResponse IntegrationTest::ClaimRaw(const std::string& token, const std::vector<std::string>& commands,
                                       int lease_seconds, int wait_seconds) {
  json::object body;
  json::array cmds;
  for (const auto& c : commands) cmds.emplace_back(c);
  body["commands"] = std::move(cmds);
  if (lease_seconds > 0) body["leaseSeconds"] = lease_seconds;
  if (wait_seconds > 0) body["waitSeconds"] = wait_seconds;
  return Post("/v1/codeq/tasks/claim", token, body);
}

json::object IntegrationTest::ClaimOne(const std::string& command, const std::string& token, int lease_seconds,
                                       int wait_seconds) {
  auto r = ClaimRaw(token.empty() ? Worker() : token, {command}, lease_seconds, wait_seconds);
  EXPECT_EQ(r.status, 200) << "claim " << command << " -> " << r.Describe();
  auto v = r.Json();
  if (r.status != 200 || !v.is_object()) return {};
  return v.get_object();
}

HttpResponse IntegrationTest::GetTask(const std::string& id, const std::string& token) {
  return Get(TaskPath(id), token.empty() ? Producer() : token);
}

std::string IntegrationTest::TaskPath(const std::string& id, const std::string& action) {
  return "/v1/codeq/tasks/" + id + (action.empty() ? "" : "/" + action);
}

}  // namespace codeq::it
