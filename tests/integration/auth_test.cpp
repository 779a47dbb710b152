// Authentication and authorisation over HTTP (SPEC §2.2, §3 as amended by D1, D8, D13, D14).
#include "auth/dev_keys.h"
#include "integration/it_fixture.h"

namespace codeq::it {
namespace {

class AuthTest : public IntegrationTest {
 protected:
  static void ExpectError(const HttpResponse& r, int status, const std::string& error, const std::string& what) {
    EXPECT_EQ(r.status, status) << what << " -> " << r.Describe();
    EXPECT_EQ(r.Json(), json::value(json::object{{"error", error}})) << what << " -> " << r.Describe();
  }
  static json::object CreateBody(const std::string& cmd) { return {{"command", cmd}, {"payload", 1}}; }
  static json::object ClaimBody(const std::string& cmd) { return {{"commands", json::array{json::value(cmd)}}}; }
};

TEST_F(AuthTest, MissingAuthorizationHeader) {
  const std::string cmd = Cmd();
  ExpectError(Post("/v1/codeq/tasks", "", CreateBody(cmd)), 401, "missing Authorization header", "create");
  ExpectError(Post("/v1/codeq/tasks/claim", "", ClaimBody(cmd)), 401, "missing Authorization header", "claim");
  ExpectError(Get("/v1/codeq/tasks/some-id", ""), 401, "missing Authorization header", "get task");
  ExpectError(Get("/v1/codeq/admin/queues", ""), 401, "missing Authorization header", "admin");
  ExpectError(Call("POST", "/v1/codeq/tasks", "", json::serialize(CreateBody(cmd)), {{"Authorization", "   "}}), 401,
              "missing Authorization header", "blank header");
}

TEST_F(AuthTest, InvalidAuthorizationFormat) {
  const std::string cmd = Cmd();
  for (const std::string& h : std::vector<std::string>{"Basic x", "Bearer", "Token abc", "Bearer a b", Producer()}) {
    ExpectError(Call("POST", "/v1/codeq/tasks", "", json::serialize(CreateBody(cmd)), {{"Authorization", h}}), 401,
                "invalid Authorization format", "'" + h.substr(0, 20) + "'");
  }
  // The scheme is case-insensitive.
  auto r = Call("POST", "/v1/codeq/tasks", "", json::serialize(CreateBody(cmd)),
                {{"Authorization", "bEaReR " + Producer()}});
  EXPECT_EQ(r.status, 202) << r.Describe();
  // Two Authorization headers, even both valid: neither is used (a proxy may have checked the other).
  ExpectError(Call("POST", "/v1/codeq/tasks", "", json::serialize(CreateBody(cmd)),
                   {{"Authorization", "Bearer " + Producer()}, {"Authorization", "Bearer " + Producer()}}),
              401, "invalid Authorization format", "two Authorization headers");
}

TEST_F(AuthTest, GarbageAndForeignTokensAre401) {
  const std::string cmd = Cmd();
  // A JWT signed by another key, with otherwise perfect claims.
  auto other = GenerateSigningKey();
  ASSERT_TRUE(other.ok());
  json::object claims{{"iss", "codeq-dev"}, {"aud", "codeq-producer"}, {"sub", "mallory"},
                      {"exp", std::time(nullptr) + 3600}, {"iat", std::time(nullptr)}};
  auto forged = SignJwt(*other, claims);
  ASSERT_TRUE(forged.ok());
  TokenSpec wrong_iss;
  wrong_iss.sub = "p";
  wrong_iss.extra = {{"iss", "someone-else"}};
  for (const auto& [what, token] : std::vector<std::pair<std::string, std::string>>{
           {"garbage", "garbage"},
           {"three dots", "a.b.c"},
           {"forged signature", *forged},
           {"wrong issuer", MintProducer(wrong_iss)},
           {"tampered", Producer().substr(0, Producer().size() - 4) + "AAAA"}}) {
    auto r = Post("/v1/codeq/tasks", token, CreateBody(cmd));
    EXPECT_EQ(r.status, 401) << what << " -> " << r.Describe();
    EXPECT_FALSE(r.ErrorText().empty()) << what;
  }
  // exp is required (D13).
  json::object without_exp{{"iss", "codeq-dev"}, {"aud", "codeq-producer"}, {"sub", "p"}};
  auto r = Post("/v1/codeq/tasks", MintRaw(without_exp), CreateBody(cmd));
  EXPECT_EQ(r.status, 401) << r.Describe();
  EXPECT_EQ(ClaimRaw(Worker(), {cmd}).status, 204) << "nothing was created";
}

TEST_F(AuthTest, ExpiredTokenIs401) {
  const std::string cmd = Cmd();
  TokenSpec p;
  p.sub = "late-producer";
  p.expires_in_seconds = -3600;
  auto r = Post("/v1/codeq/tasks", MintProducer(p), CreateBody(cmd));
  EXPECT_EQ(r.status, 401) << r.Describe();
  TokenSpec w;
  w.sub = "late-worker";
  w.event_types = {"*"};
  w.scope = "codeq:claim";
  w.expires_in_seconds = -3600;
  auto c = Post("/v1/codeq/tasks/claim", MintWorker(w), ClaimBody(cmd));
  EXPECT_EQ(c.status, 401) << c.Describe();
  // Within the allowed clock skew (60 s) a just-expired token still works.
  p.expires_in_seconds = -5;
  auto skew = Post("/v1/codeq/tasks", MintProducer(p), CreateBody(cmd));
  EXPECT_EQ(skew.status, 202) << skew.Describe();
}

TEST_F(AuthTest, TokensOfTheOtherSideAre401) {
  const std::string cmd = Cmd();
  auto a = Post("/v1/codeq/tasks", Worker(), CreateBody(cmd));
  EXPECT_EQ(a.status, 401) << "worker token on create -> " << a.Describe();
  auto b = Post("/v1/codeq/tasks/claim", Producer(), ClaimBody(cmd));
  EXPECT_EQ(b.status, 401) << "producer token on claim -> " << b.Describe();
  auto c = Get("/v1/codeq/admin/queues", Worker());
  EXPECT_EQ(c.status, 401) << "worker token on admin -> " << c.Describe();
  // GET task accepts either side.
  auto t = CreateTask(cmd);
  EXPECT_EQ(GetTask(JsonString(t, "id"), Worker()).status, 200);
  EXPECT_EQ(GetTask(JsonString(t, "id"), Producer()).status, 200);
  EXPECT_EQ(GetTask(JsonString(t, "id"), Admin()).status, 200);
}

TEST_F(AuthTest, WorkerTokenRequirements) {
  const std::string cmd = Cmd();
  TokenSpec no_events;
  no_events.sub = "w";
  no_events.scope = "codeq:claim";
  ExpectError(Post("/v1/codeq/tasks/claim", MintWorker(no_events), ClaimBody(cmd)), 401, "missing eventTypes",
              "no eventTypes");
  TokenSpec no_scope;
  no_scope.sub = "w";
  no_scope.event_types = {"*"};
  ExpectError(Post("/v1/codeq/tasks/claim", MintWorker(no_scope), ClaimBody(cmd)), 401, "missing scope",
              "no scope at all");
  TokenSpec other_scope = no_scope;
  other_scope.scope = "codeq:heartbeat codeq:result";
  ExpectError(Post("/v1/codeq/tasks/claim", MintWorker(other_scope), ClaimBody(cmd)), 403, "missing scope",
              "lacks codeq:claim");
  // Scope checks happen before anything else, even for an unknown task.
  ExpectError(Post(TaskPath("00000000-0000-4000-8000-000000000000", "nack"), MintWorker(other_scope), json::object{}),
              403, "missing scope", "lacks codeq:nack");
  ExpectError(Post(TaskPath("00000000-0000-4000-8000-000000000000", "abandon"), MintWorker(other_scope),
                   json::object{}),
              403, "missing scope", "lacks codeq:abandon");
}

TEST_F(AuthTest, EventTypesRestrictClaims) {
  const std::string allowed = Cmd("_ok");
  const std::string other = Cmd("_other");
  CreateTask(allowed);
  CreateTask(other);
  TokenSpec w;
  w.sub = "restricted-worker";
  w.event_types = {allowed};
  w.scope = "codeq:claim codeq:result";
  const std::string token = MintWorker(w);
  ExpectError(ClaimRaw(token, {other}), 403, "event type not allowed", "other command");
  ExpectError(ClaimRaw(token, {allowed, other}), 403, "event type not allowed", "mixed list");
  ExpectError(ClaimRaw(token, {allowed + "X"}), 403, "event type not allowed", "case/suffix differs");
  // Without `commands` the token's own event types are used.
  auto r = Post("/v1/codeq/tasks/claim", token, json::object{});
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(JsonString(r.Json(), "command"), allowed);
  EXPECT_EQ(JsonString(r.Json(), "workerId"), "restricted-worker");
  // The other task is still there for a wildcard worker.
  EXPECT_EQ(JsonString(ClaimOne(other), "command"), other);
}

TEST_F(AuthTest, AdminEndpointsNeedAdmin) {
  const std::string cmd = Cmd();
  ExpectError(Get("/v1/codeq/admin/queues", Producer()), 403, "unauthorized. Admin only", "overview");
  ExpectError(Get("/v1/codeq/admin/queues/" + cmd, Producer()), 403, "unauthorized. Admin only", "stats");
  ExpectError(Post("/v1/codeq/admin/tasks/cleanup", Producer(), json::object{}), 403, "unauthorized. Admin only",
              "cleanup");
  EXPECT_EQ(Get("/v1/codeq/admin/queues", Admin()).status, 200);
  // A role claim ADMIN (any case) or the codeq:admin scope makes an admin.
  TokenSpec role;
  role.sub = "role-admin";
  role.role = "admin";
  EXPECT_EQ(Get("/v1/codeq/admin/queues/" + cmd, MintProducer(role)).status, 200);
  TokenSpec scope;
  scope.sub = "scope-admin";
  scope.scope = "codeq:admin";
  EXPECT_EQ(Get("/v1/codeq/admin/queues/" + cmd, MintProducer(scope)).status, 200);
  TokenSpec user;
  user.sub = "plain-user";
  user.role = "USER";
  EXPECT_EQ(Get("/v1/codeq/admin/queues/" + cmd, MintProducer(user)).status, 403);
  // In dev mode (the suite runs `serve --dev`) X-Role: ADMIN is honoured (D14).
  auto dev = Get("/v1/codeq/admin/queues/" + cmd, Producer(), {{"X-Role", "admin"}});
  EXPECT_EQ(dev.status, 200) << dev.Describe();
}

TEST_F(AuthTest, InvalidTenantClaimIs401) {
  const std::string cmd = Cmd();
  TokenSpec p;
  p.sub = "p";
  p.tenant = "bad tenant!";
  auto r = Post("/v1/codeq/tasks", MintProducer(p), CreateBody(cmd));
  EXPECT_EQ(r.status, 401) << r.Describe();
  TokenSpec w;
  w.sub = "w";
  w.tenant = "a:b";
  w.event_types = {"*"};
  w.scope = "codeq:claim";
  auto c = Post("/v1/codeq/tasks/claim", MintWorker(w), ClaimBody(cmd));
  EXPECT_EQ(c.status, 401) << c.Describe();
  TokenSpec longer = p;
  longer.tenant = std::string(65, 't');
  EXPECT_EQ(Post("/v1/codeq/tasks", MintProducer(longer), CreateBody(cmd)).status, 401);
}

TEST_F(AuthTest, UnauthorizedBodiesDoNotEchoTheToken) {
  const std::string cmd = Cmd();
  TokenSpec p;
  p.sub = "secret-subject-xyz";
  p.expires_in_seconds = -3600;
  const std::string expired = MintProducer(p);
  const std::string wrong_side = Worker();
  const std::string garbage = "Zm9vYmFyYmF6cXV4c2VjcmV0dG9rZW4.c2VjcmV0cGF5bG9hZA.c2ln";
  for (const auto& token : {expired, wrong_side, garbage}) {
    for (const auto& r : {Post("/v1/codeq/tasks", token, CreateBody(cmd)), Get("/v1/codeq/tasks/x", token + "x")}) {
      EXPECT_EQ(r.status, 401) << r.Describe();
      auto parts = {token.substr(0, token.find('.')), token.substr(token.rfind('.') + 1)};
      for (const auto& part : parts) {
        if (part.size() >= 8) {
          EXPECT_EQ(r.body.find(part), std::string::npos) << "401 body echoes the token: " << r.body;
        }
      }
      EXPECT_EQ(r.body.find("secret-subject-xyz"), std::string::npos) << r.body;
      for (const auto& [k, v] : r.headers) {
        EXPECT_EQ(v.find(token), std::string::npos) << "header " << k << " echoes the token";
      }
    }
  }
}

}  // namespace
}  // namespace codeq::it
