// Admin endpoints over HTTP: queue overview (D7), per-command stats (§2.14), cleanup (§2.15, D12).
#include <algorithm>
#include <cctype>
#include <map>

#include "integration/it_fixture.h"

namespace codeq::it {
namespace {

class AdminApi : public IntegrationTest {
 protected:
  static void ExpectError(const HttpResponse& r, int status, const std::string& error, const std::string& what) {
    EXPECT_EQ(r.status, status) << what << " -> " << r.Describe();
    EXPECT_EQ(r.Json(), json::value(json::object{{"error", error}})) << what << " -> " << r.Describe();
  }
  static json::value Stats(const std::string& cmd) {
    auto r = Get("/v1/codeq/admin/queues/" + cmd, Admin());
    EXPECT_EQ(r.status, 200) << r.Describe();
    return r.Json();
  }
  static json::value StatsOf(const std::string& cmd, int ready, int delayed, int in_progress, int dlq) {
    return json::object{{"command", cmd}, {"ready", ready}, {"delayed", delayed}, {"inProgress", in_progress}, {"dlq", dlq}};
  }
  static std::string CompleteOne(const std::string& cmd) {
    auto t = ClaimOne(cmd);
    const std::string id = JsonString(t, "id");
    auto r = Post(TaskPath(id, "result"), Worker(), json::object{{"status", "COMPLETED"}, {"result", json::object{{"x", 1}}}});
    EXPECT_EQ(r.status, 200) << r.Describe();
    return id;
  }
};

TEST_F(AdminApi, PerCommandStatsFollowCreatesAndClaims) {
  const std::string cmd = Cmd();
  EXPECT_EQ(Stats(cmd), StatsOf(cmd, 0, 0, 0, 0)) << "unknown commands give zeros, not 404";
  CreateTask(cmd);
  CreateTask(cmd, {{"priority", 7}});
  CreateTask(cmd, {{"priority", 2}});
  CreateTask(cmd, {{"delaySeconds", 600}});
  EXPECT_EQ(Stats(cmd), StatsOf(cmd, 3, 1, 0, 0));
  ClaimOne(cmd);
  EXPECT_EQ(Stats(cmd), StatsOf(cmd, 2, 1, 1, 0));
  CompleteOne(cmd);
  EXPECT_EQ(Stats(cmd), StatsOf(cmd, 1, 1, 1, 0));
  // The command is echoed as given in the path; keys use the lower-cased command (§4.1).
  std::string upper = cmd;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(Stats(upper), StatsOf(upper, 1, 1, 1, 0));
}

TEST_F(AdminApi, BlankOrInvalidCommand) {
  ExpectError(Get("/v1/codeq/admin/queues/%20", Admin()), 400, "command is required", "blank");
  ExpectError(Get("/v1/codeq/admin/queues/%20%20%09", Admin()), 400, "command is required", "spaces");
  auto bad = Get("/v1/codeq/admin/queues/a%3Ab", Admin());
  EXPECT_EQ(bad.status, 400) << bad.Describe();
}

TEST_F(AdminApi, OverviewListsKnownCommandsSorted) {
  const std::string b = Cmd("_b"), a = Cmd("_a"), c = Cmd("_c");
  CreateTask(b);
  CreateTask(b);
  CreateTask(a, {{"delaySeconds", 600}});
  CreateTask(c);
  ClaimOne(c);
  auto r = Get("/v1/codeq/admin/queues", Admin());
  ASSERT_EQ(r.status, 200) << r.Describe();
  auto v = r.Json();
  ASSERT_TRUE(v.is_object() && v.as_object().contains("queues") && v.at("queues").is_array()) << r.body;
  EXPECT_EQ(v.as_object().size(), 1u) << r.body;
  const auto& qs = v.at("queues").as_array();
  std::vector<std::string> names;
  for (const auto& q : qs) names.push_back(JsonString(q, "command"));
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end())) << r.body;
  std::map<std::string, json::value> by_name;
  for (const auto& q : qs) by_name[JsonString(q, "command")] = q;
  ASSERT_TRUE(by_name.count(a) && by_name.count(b) && by_name.count(c)) << r.body;
  EXPECT_EQ(by_name[a], StatsOf(a, 0, 1, 0, 0));
  EXPECT_EQ(by_name[b], StatsOf(b, 2, 0, 0, 0));
  EXPECT_EQ(by_name[c], StatsOf(c, 0, 0, 1, 0));
  // Overview order: a < b < c.
  auto pos = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
  EXPECT_LT(pos(a), pos(b));
  EXPECT_LT(pos(b), pos(c));
}

TEST_F(AdminApi, CleanupDeletesOnlyFinishedTasksByDefault) {
  const std::string cmd = Cmd();
  CreateTask(cmd);
  const std::string done = CompleteOne(cmd);
  auto pending = CreateTask(cmd);
  const std::string pending_id = JsonString(pending, "id");
  auto scheduled = CreateTask(cmd, {{"delaySeconds", 3600}});
  const std::string scheduled_id = JsonString(scheduled, "id");

  // A `before` in the past deletes nothing of ours (retention is now + 24 h).
  auto none = Post("/v1/codeq/admin/tasks/cleanup", Admin(), json::object{{"before", "2001-01-01T00:00:00Z"}});
  ASSERT_EQ(none.status, 200) << none.Describe();
  EXPECT_EQ(JsonInt(none.Json(), "deleted"), 0);
  EXPECT_EQ(GetTask(done).status, 200);

  auto r = Post("/v1/codeq/admin/tasks/cleanup", Admin(),
                json::object{{"before", "2999-01-01T00:00:00Z"}, {"limit", 500}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  auto v = r.Json();
  EXPECT_GE(JsonInt(v, "deleted").value_or(0), 1) << r.body;
  EXPECT_EQ(JsonString(v, "before"), "2999-01-01T00:00:00Z");
  EXPECT_EQ(JsonInt(v, "limit"), 500);
  auto gone = GetTask(done);
  EXPECT_EQ(gone.status, 404) << "the completed task is deleted: " << gone.Describe();
  EXPECT_EQ(Get(TaskPath(done, "result"), Producer()).status, 404) << "its result record too (D12)";
  EXPECT_EQ(GetTask(pending_id).status, 200) << "pending work is kept";
  EXPECT_EQ(GetTask(scheduled_id).status, 200) << "scheduled work is kept";
  EXPECT_EQ(Stats(cmd), StatsOf(cmd, 1, 1, 0, 0));

  // includeActive also removes live tasks idle past the deadline.
  auto all = Post("/v1/codeq/admin/tasks/cleanup", Admin(),
                  json::object{{"before", "2999-01-01T00:00:00Z"}, {"includeActive", true}});
  ASSERT_EQ(all.status, 200) << all.Describe();
  EXPECT_GE(JsonInt(all.Json(), "deleted").value_or(0), 2) << all.body;
  EXPECT_EQ(GetTask(pending_id).status, 404);
  EXPECT_EQ(GetTask(scheduled_id).status, 404);
  EXPECT_EQ(Stats(cmd), StatsOf(cmd, 0, 0, 0, 0)) << "queue entries removed with the tasks";
  EXPECT_EQ(ClaimRaw(Worker(), {cmd}).status, 204);
}

TEST_F(AdminApi, CleanupAlsoForgetsIdempotencyKeys) {
  const std::string cmd = Cmd();
  json::object body{{"command", cmd}, {"payload", 1}, {"idempotencyKey", Cmd("-key")}};
  auto first = Post("/v1/codeq/tasks", Producer(), body);
  ASSERT_EQ(first.status, 202) << first.Describe();
  const std::string id = CompleteOne(cmd);
  ASSERT_EQ(id, JsonString(first.Json(), "id"));
  EXPECT_EQ(Post("/v1/codeq/tasks", Producer(), body).status, 200) << "replay before cleanup";
  auto r = Post("/v1/codeq/admin/tasks/cleanup", Admin(), json::object{{"before", "2999-01-01T00:00:00Z"}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(GetTask(id).status, 404);
  auto again = Post("/v1/codeq/tasks", Producer(), body);
  EXPECT_EQ(again.status, 202) << "the key was deleted with its task (D12): " << again.Describe();
  EXPECT_NE(JsonString(again.Json(), "id"), id);
}

TEST_F(AdminApi, CleanupDefaultsAndErrors) {
  ExpectError(Post("/v1/codeq/admin/tasks/cleanup", Admin(), json::object{{"before", "yesterday"}}), 400,
              "invalid 'before' (use RFC3339)", "bad before");
  // No body: before = now, limit echoed as 0.
  auto r = Call("POST", "/v1/codeq/admin/tasks/cleanup", Admin(), "");
  ASSERT_EQ(r.status, 200) << r.Describe();
  auto v = r.Json();
  EXPECT_EQ(JsonInt(v, "limit"), 0);
  EXPECT_TRUE(JsonInt(v, "deleted").has_value());
  auto before = ParseUtcSeconds(JsonString(v, "before"));
  ASSERT_TRUE(before.has_value()) << r.body;
  EXPECT_NEAR(static_cast<double>(*before), static_cast<double>(UnixNow()), 5);
  // Malformed JSON bodies are ignored (defaults used).
  auto junk = Call("POST", "/v1/codeq/admin/tasks/cleanup", Admin(), "{junk");
  EXPECT_EQ(junk.status, 200) << junk.Describe();
  // The `before` offset is echoed in whole seconds.
  auto off = Post("/v1/codeq/admin/tasks/cleanup", Admin(), json::object{{"before", "2001-02-03T04:05:06.789+02:00"}});
  ASSERT_EQ(off.status, 200) << off.Describe();
  EXPECT_EQ(JsonString(off.Json(), "before"), "2001-02-03T04:05:06+02:00");
}

}  // namespace
}  // namespace codeq::it
