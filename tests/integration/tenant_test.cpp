// Tenant isolation over HTTP (SPEC §3.5 as amended by D1, D3, D6).
#include "integration/it_fixture.h"

namespace codeq::it {
namespace {

class Tenancy : public IntegrationTest {
 protected:
  static std::string ProducerOf(const std::string& tenant, const std::string& role = "") {
    TokenSpec s;
    s.sub = "producer-" + tenant;
    s.tenant = tenant;
    if (!role.empty()) s.role = role;
    return MintProducer(s);
  }
  static void ExpectNotFound(const HttpResponse& r, const std::string& what) {
    EXPECT_EQ(r.status, 404) << what << " -> " << r.Describe();
  }
};

TEST_F(Tenancy, TasksAreInvisibleToOtherTenants) {
  const std::string cmd = Cmd();
  const std::string acme_producer = ProducerOf("acme");
  const std::string globex_worker = WorkerAs("globex-worker", "globex");
  const std::string acme_worker = WorkerAs("acme-worker", "acme");
  const std::string plain_worker = WorkerAs("plain-worker");

  auto t = CreateTask(cmd, {{"payload", "secret"}}, acme_producer);
  const std::string id = JsonString(t, "id");
  EXPECT_EQ(JsonString(t, "tenantId"), "acme");

  // Another tenant (and the unscoped worker) sees nothing.
  EXPECT_EQ(ClaimRaw(globex_worker, {cmd}).status, 204);
  EXPECT_EQ(ClaimRaw(plain_worker, {cmd}).status, 204);
  auto g = GetTask(id, globex_worker);
  EXPECT_EQ(g.status, 404) << g.Describe();
  EXPECT_EQ(g.ErrorText(), "not found");
  ExpectNotFound(GetTask(id, ProducerOf("globex")), "globex producer GET");
  ExpectNotFound(GetTask(id, Producer()), "unscoped producer GET");
  ExpectNotFound(Get(TaskPath(id, "result"), globex_worker), "globex GET result");

  // The acme worker claims it; the globex worker cannot touch it.
  auto c = ClaimRaw(acme_worker, {cmd});
  ASSERT_EQ(c.status, 200) << c.Describe();
  EXPECT_EQ(JsonString(c.Json(), "id"), id);
  EXPECT_EQ(JsonString(c.Json(), "tenantId"), "acme");
  EXPECT_EQ(GetTask(id, acme_worker).status, 200);
  EXPECT_EQ(GetTask(id, acme_producer).status, 200);

  // Same `sub` in another tenant still cannot act on it: tenant comes first (D6).
  const std::string impostor = WorkerAs("acme-worker", "globex");
  for (const auto& token : {globex_worker, impostor}) {
    ExpectNotFound(Post(TaskPath(id, "heartbeat"), token, json::object{}), "heartbeat");
    ExpectNotFound(Post(TaskPath(id, "abandon"), token, json::object{}), "abandon");
    ExpectNotFound(Post(TaskPath(id, "nack"), token, json::object{}), "nack");
    ExpectNotFound(Post(TaskPath(id, "result"), token, json::object{{"status", "COMPLETED"}, {"result", json::object{}}}),
                   "result");
  }
  // Still the acme worker's.
  auto cur = GetTask(id, acme_producer).Json();
  EXPECT_EQ(JsonString(cur, "status"), "IN_PROGRESS");
  EXPECT_EQ(JsonString(cur, "workerId"), "acme-worker");

  // The owner completes it; the result is visible to acme only.
  auto done = Post(TaskPath(id, "result"), acme_worker, json::object{{"status", "COMPLETED"}, {"result", json::object{{"a", 1}}}});
  ASSERT_EQ(done.status, 200) << done.Describe();
  EXPECT_EQ(Get(TaskPath(id, "result"), acme_producer).status, 200);
  ExpectNotFound(Get(TaskPath(id, "result"), globex_worker), "globex GET result after completion");
  // D3: a completed tenant task is not re-delivered (RI bug of §10.2).
  EXPECT_EQ(ClaimRaw(acme_worker, {cmd}).status, 204);
  auto stats = Get("/v1/codeq/admin/queues/" + cmd, ProducerOf("acme", "ADMIN"));
  EXPECT_EQ(JsonInt(stats.Json(), "inProgress"), 0) << stats.Describe();
}

TEST_F(Tenancy, TenantTaskLifecycleUsesTenantKeys) {
  // Abandon, nack and lease expiry of a tenant task keep it in its tenant's queues.
  const std::string cmd = Cmd();
  const std::string producer = ProducerOf("initech");
  const std::string worker = WorkerAs("initech-w", "initech");
  auto t = CreateTask(cmd, {}, producer);
  const std::string id = JsonString(t, "id");
  ClaimOne(cmd, worker);
  ASSERT_EQ(Post(TaskPath(id, "abandon"), worker, json::object{}).status, 200);
  EXPECT_EQ(ClaimRaw(Worker(), {cmd}).status, 204) << "not leaked into the unscoped queue";
  ClaimOne(cmd, worker);
  auto n = Post(TaskPath(id, "nack"), worker, json::object{{"delaySeconds", 1}});
  ASSERT_EQ(n.status, 200) << n.Describe();
  auto again = ClaimRaw(worker, {cmd}, 0, 4);
  ASSERT_EQ(again.status, 200) << again.Describe();
  EXPECT_EQ(JsonString(again.Json(), "id"), id);
  EXPECT_EQ(JsonInt(again.Json(), "attempts"), 3);
}

TEST_F(Tenancy, AdminViewsAreTenantScoped) {
  const std::string cmd = Cmd();
  CreateTask(cmd, {}, ProducerOf("acme"));
  CreateTask(cmd, {}, ProducerOf("acme"));
  const std::string acme_admin = ProducerOf("acme", "ADMIN");
  const std::string globex_admin = ProducerOf("globex", "ADMIN");
  const std::string expect_acme = R"({"command":")" + cmd + R"(","ready":2,"delayed":0,"inProgress":0,"dlq":0})";
  const std::string expect_zero = R"({"command":")" + cmd + R"(","ready":0,"delayed":0,"inProgress":0,"dlq":0})";

  auto a = Get("/v1/codeq/admin/queues/" + cmd, acme_admin);
  ASSERT_EQ(a.status, 200) << a.Describe();
  EXPECT_EQ(a.Json(), json::parse(expect_acme));
  auto g = Get("/v1/codeq/admin/queues/" + cmd, globex_admin);
  ASSERT_EQ(g.status, 200) << g.Describe();
  EXPECT_EQ(g.Json(), json::parse(expect_zero));
  // The globex overview does not list acme's command.
  auto go = Get("/v1/codeq/admin/queues", globex_admin);
  ASSERT_EQ(go.status, 200) << go.Describe();
  const json::value go_json = go.Json();
  ASSERT_TRUE(go_json.is_object() && go_json.as_object().contains("queues")) << go.body;
  for (const auto& q : go_json.at("queues").as_array()) EXPECT_NE(JsonString(q, "command"), cmd) << go.body;
  // A globex admin cannot peek with ?tenant=acme.
  auto peek = Get("/v1/codeq/admin/queues/" + cmd + "?tenant=acme", globex_admin);
  EXPECT_EQ(peek.status, 403) << peek.Describe();

  // An admin without tenant: unscoped by default, any tenant with ?tenant=.
  auto u = Get("/v1/codeq/admin/queues/" + cmd, Admin());
  EXPECT_EQ(u.Json(), json::parse(expect_zero)) << u.Describe();
  auto ut = Get("/v1/codeq/admin/queues/" + cmd + "?tenant=acme", Admin());
  ASSERT_EQ(ut.status, 200) << ut.Describe();
  EXPECT_EQ(ut.Json(), json::parse(expect_acme));
  auto uo = Get("/v1/codeq/admin/queues?tenant=acme", Admin());
  ASSERT_EQ(uo.status, 200) << uo.Describe();
  bool listed = false;
  const json::value uo_json = uo.Json();
  ASSERT_TRUE(uo_json.is_object() && uo_json.as_object().contains("queues")) << uo.body;
  for (const auto& q : uo_json.at("queues").as_array()) {
    if (JsonString(q, "command") == cmd) {
      listed = true;
      EXPECT_EQ(q, json::parse(expect_acme));
    }
  }
  EXPECT_TRUE(listed) << uo.body;
}

TEST_F(Tenancy, TenantAdminCleanupOnlyTouchesItsTenant) {
  const std::string cmd = Cmd();
  auto acme_task = CreateTask(cmd, {}, ProducerOf("acme"));
  auto globex_task = CreateTask(cmd, {}, ProducerOf("globex"));
  auto r = Post("/v1/codeq/admin/tasks/cleanup", ProducerOf("acme", "ADMIN"),
                json::object{{"before", "2999-01-01T00:00:00Z"}, {"includeActive", true}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_GE(JsonInt(r.Json(), "deleted").value_or(0), 1) << r.body;
  EXPECT_EQ(GetTask(JsonString(acme_task, "id"), ProducerOf("acme")).status, 404) << "acme's task is cleaned up";
  EXPECT_EQ(GetTask(JsonString(globex_task, "id"), ProducerOf("globex")).status, 200)
      << "an acme admin must not delete globex's task";
  EXPECT_EQ(ClaimRaw(WorkerAs("globex-w", "globex"), {cmd}).status, 200);
}

TEST_F(Tenancy, IdempotencyKeysArePerTenant) {
  const std::string cmd = Cmd();
  const std::string key = Cmd("-shared-key");
  json::object body{{"command", cmd}, {"payload", 1}, {"idempotencyKey", key}};
  auto a = Post("/v1/codeq/tasks", ProducerOf("acme"), body);
  auto b = Post("/v1/codeq/tasks", ProducerOf("globex"), body);
  auto u = Post("/v1/codeq/tasks", Producer(), body);
  ASSERT_EQ(a.status, 202) << a.Describe();
  ASSERT_EQ(b.status, 202) << "another tenant's key must not replay: " << b.Describe();
  ASSERT_EQ(u.status, 202) << u.Describe();
  EXPECT_NE(JsonString(a.Json(), "id"), JsonString(b.Json(), "id"));
  EXPECT_NE(JsonString(a.Json(), "id"), JsonString(u.Json(), "id"));
  EXPECT_EQ(JsonString(b.Json(), "tenantId"), "globex");
  // Within a tenant the key still replays.
  auto a2 = Post("/v1/codeq/tasks", ProducerOf("acme"), body);
  EXPECT_EQ(a2.status, 200) << a2.Describe();
  EXPECT_EQ(JsonString(a2.Json(), "id"), JsonString(a.Json(), "id"));
}

TEST_F(Tenancy, TenantClaimAliasesAndValidation) {
  const std::string cmd = Cmd();
  // organization_id is one of the accepted claim names (D1).
  TokenSpec p;
  p.sub = "org-producer";
  p.extra = {{"organization_id", "umbrella"}};
  auto t = CreateTask(cmd, {}, MintProducer(p));
  EXPECT_EQ(JsonString(t, "tenantId"), "umbrella");
  EXPECT_EQ(ClaimRaw(WorkerAs("umbrella-w", "umbrella"), {cmd}).status, 200);
  // No tenant claim → unscoped, even though subjects differ (no fallback to sub).
  TokenSpec q;
  q.sub = "someone";
  auto u = CreateTask(cmd, {}, MintProducer(q));
  EXPECT_FALSE(JsonHas(u, "tenantId"));
  EXPECT_EQ(ClaimRaw(WorkerAs("someone-else"), {cmd}).status, 200);
  // Invalid tenant labels are rejected.
  TokenSpec bad;
  bad.sub = "bad";
  bad.tenant = "bad tenant!";
  auto r = Post("/v1/codeq/tasks", MintProducer(bad), json::object{{"command", cmd}, {"payload", 1}});
  EXPECT_EQ(r.status, 401) << r.Describe();
  auto w = ClaimRaw(WorkerAs("w", "bad tenant!"), {cmd});
  EXPECT_EQ(w.status, 401) << w.Describe();
}

}  // namespace
}  // namespace codeq::it
