// Batch endpoints over HTTP (issue 7): POST /v1/codeq/tasks/batch, claim with maxTasks,
// POST /v1/codeq/tasks/results/batch. Each item behaves like its single request.
#include <set>
#include <thread>

#include "integration/it_fixture.h"

namespace codeq::it {
namespace {

class BatchTest : public IntegrationTest {
 protected:
  static json::array Items(const HttpResponse& r) {
    json::value v = r.Json();
    if (!v.is_object() || !v.as_object().contains("items") || !v.at("items").is_array()) return {};
    return v.at("items").as_array();
  }
  static HttpResponse ClaimMany(const std::string& cmd, int64_t max_tasks, int wait_seconds = 0) {
    return Post("/v1/codeq/tasks/claim", Worker(),
                json::object{{"commands", json::array{json::value(cmd)}},
                             {"maxTasks", max_tasks},
                             {"waitSeconds", wait_seconds}});
  }
  /// Creates `n` tasks of `cmd` with one batch and claims them all with one claim; their ids in
  /// claim order (empty after a failed assertion).
  static std::vector<std::string> CreateAndClaim(const std::string& cmd, int n) {
    json::array tasks;
    for (int i = 0; i < n; ++i) tasks.push_back(json::object{{"command", cmd}, {"payload", i}});
    auto created = Post("/v1/codeq/tasks/batch", Producer(), json::object{{"tasks", tasks}});
    EXPECT_EQ(created.status, 200) << created.Describe();
    auto claimed = ClaimMany(cmd, n);
    EXPECT_EQ(claimed.status, 200) << claimed.Describe();
    if (claimed.status != 200) return {};
    std::vector<std::string> ids;
    const json::value body = claimed.Json();
    for (const auto& t : body.at("tasks").as_array()) ids.push_back(JsonString(t, "id"));
    return ids;
  }
};

TEST_F(BatchTest, CreateBatchReportsEachItem) {
  const std::string cmd = Cmd();
  json::array tasks{
      json::object{{"command", cmd}, {"payload", json::object{{"n", 1}}}},
      json::object{{"command", cmd}},                                     // no payload
      json::object{{"command", cmd}, {"payload", 2}, {"delaySeconds", -1}},
      json::object{{"command", "a b"}, {"payload", 3}},
      json::value("not an object"),
      json::object{{"command", cmd}, {"payload", 4}, {"priority", 7}},
  };
  auto r = Post("/v1/codeq/tasks/batch", Producer(), json::object{{"tasks", tasks}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  json::array items = Items(r);
  ASSERT_EQ(items.size(), 6u) << r.body;
  EXPECT_EQ(JsonInt(items[0], "status"), 202);
  EXPECT_TRUE(IsUuid(JsonString(items[0].at("task"), "id")));
  EXPECT_EQ(JsonString(items[0].at("task"), "status"), "PENDING");
  EXPECT_EQ(JsonString(items[0].at("task"), "payload"), "{\"n\":1}");
  EXPECT_EQ(JsonInt(items[1], "status"), 400);
  EXPECT_EQ(JsonString(items[1], "error"), "invalid body");
  EXPECT_EQ(JsonString(items[2], "error"), "invalid 'delaySeconds' (must be >= 0)");
  EXPECT_EQ(JsonString(items[3], "error"), "invalid command");
  EXPECT_EQ(JsonInt(items[4], "status"), 400);
  EXPECT_EQ(JsonInt(items[5], "status"), 202);
  EXPECT_EQ(JsonInt(items[5].at("task"), "priority"), 7);

  // The good items were really created: both are claimable, the priority-7 one first.
  auto first = ClaimOne(cmd);
  EXPECT_EQ(JsonString(first, "id"), JsonString(items[5].at("task"), "id"));
  auto second = ClaimOne(cmd);
  EXPECT_EQ(JsonString(second, "id"), JsonString(items[0].at("task"), "id"));
}

// Each entry is held to the body rules of a single create (depth counted from the entry, numbers
// a single create refuses): one entry breaking them gets its error, the others are created. Before,
// the rules applied to the whole body, and one such entry failed the whole batch.
TEST_F(BatchTest, CreateBatchHoldsEachEntryToTheRulesOfASingleBody) {
  const std::string cmd = Cmd();
  auto nested = [](int levels) { return std::string(levels, '[') + "1" + std::string(levels, ']'); };
  auto entry = [&](const std::string& payload) {
    return R"({"command":")" + cmd + R"(","payload":)" + payload + "}";
  };
  // A payload nested 63 levels is within a single create's 64 (with its body object); 64 is not.
  EXPECT_EQ(Call("POST", "/v1/codeq/tasks", Producer(), entry(nested(63))).status, 202);
  EXPECT_EQ(Call("POST", "/v1/codeq/tasks", Producer(), entry(nested(64))).status, 400);
  const std::string body = R"({"tasks":[)" + entry("1") + "," + entry(nested(63)) + "," + entry(nested(64)) + "," +
                           entry(R"({"big":123456789012345678901234567890})") + "," + entry("1e400") + "," +
                           entry(R"({"fine":18446744073709551615,"float":1e300})") + "]}";
  auto r = Call("POST", "/v1/codeq/tasks/batch", Producer(), body);
  ASSERT_EQ(r.status, 200) << r.Describe();
  json::array items = Items(r);
  ASSERT_EQ(items.size(), 6u) << r.body;
  EXPECT_EQ(JsonInt(items[0], "status"), 202) << items[0];
  EXPECT_EQ(JsonInt(items[1], "status"), 202) << items[1];
  EXPECT_EQ(JsonInt(items[2], "status"), 400);
  EXPECT_EQ(JsonString(items[2], "error"), "invalid body");
  EXPECT_EQ(JsonInt(items[3], "status"), 400);
  EXPECT_EQ(JsonString(items[3], "error"), "invalid body: integer out of range (at most 64 bits)");
  EXPECT_EQ(JsonString(items[4], "error"), "invalid body");
  EXPECT_EQ(JsonInt(items[5], "status"), 202) << items[5];
  auto stats = Get("/v1/codeq/admin/queues/" + cmd, Admin());
  EXPECT_EQ(JsonInt(stats.Json(), "ready"), 1 + 3) << "the single create that passed and three entries";

  // Outside the entries the single-body rules fail the whole request, as before.
  r = Call("POST", "/v1/codeq/tasks/batch", Producer(), R"({"x":123456789012345678901234567890,"tasks":[)" + entry("1") + "]}");
  EXPECT_EQ(r.status, 400) << r.Describe();
  EXPECT_EQ(r.ErrorText(), "invalid body: integer out of range (at most 64 bits)");
  r = Call("POST", "/v1/codeq/tasks/batch", Producer(), R"({"x":)" + nested(65) + R"(,"tasks":[)" + entry("1") + "]}");
  EXPECT_EQ(r.status, 400) << r.Describe();
  // Of two "tasks" members the last one counts, also for the number rules.
  r = Call("POST", "/v1/codeq/tasks/batch", Producer(),
           R"({"tasks":[)" + entry(R"({"big":123456789012345678901234567890})") + R"(],"tasks":[)" + entry("1e20") + "]}");
  ASSERT_EQ(r.status, 200) << r.Describe();
  items = Items(r);
  ASSERT_EQ(items.size(), 1u) << r.body;
  EXPECT_EQ(JsonInt(items[0], "status"), 202) << items[0];
}

TEST_F(BatchTest, CreateBatchIdempotencyIsPerItem) {
  const std::string cmd = Cmd();
  const std::string key = "k-" + cmd;
  json::object item{{"command", cmd}, {"payload", 1}, {"idempotencyKey", key}};
  auto r = Post("/v1/codeq/tasks/batch", Producer(), json::object{{"tasks", json::array{item, item}}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  json::array items = Items(r);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(JsonInt(items[0], "status"), 202);
  EXPECT_EQ(JsonInt(items[1], "status"), 200);  // replay of the first (D18)
  EXPECT_EQ(JsonString(items[0].at("task"), "id"), JsonString(items[1].at("task"), "id"));
  // A single create with the same key replays the same task.
  auto single = Post("/v1/codeq/tasks", Producer(), item);
  EXPECT_EQ(single.status, 200) << single.Describe();
  EXPECT_EQ(JsonString(single.Json(), "id"), JsonString(items[0].at("task"), "id"));
}

TEST_F(BatchTest, CreateBatchRejectsBadEnvelopes) {
  auto no_auth = Call("POST", "/v1/codeq/tasks/batch", "", "{\"tasks\":[]}");
  EXPECT_EQ(no_auth.status, 401) << no_auth.Describe();
  auto worker = Post("/v1/codeq/tasks/batch", Worker(), json::object{{"tasks", json::array{}}});
  EXPECT_EQ(worker.status, 401) << worker.Describe();
  auto missing = Post("/v1/codeq/tasks/batch", Producer(), json::object{});
  EXPECT_EQ(missing.status, 400) << missing.Describe();
  EXPECT_EQ(missing.ErrorText(), "invalid body");
  auto empty = Post("/v1/codeq/tasks/batch", Producer(), json::object{{"tasks", json::array{}}});
  EXPECT_EQ(empty.status, 400) << empty.Describe();
  json::array many;
  // Small items, so the body stays under the suite's 64 KiB MAX_BODY_BYTES.
  for (int i = 0; i < 1001; ++i) many.push_back(json::object{{"command", "c"}, {"payload", 0}});
  auto too_many = Post("/v1/codeq/tasks/batch", Producer(), json::object{{"tasks", many}});
  EXPECT_EQ(too_many.status, 400) << too_many.Describe();
  EXPECT_EQ(too_many.ErrorText(), "too many items (max 1000)");
  auto get = Get("/v1/codeq/tasks/batch", Producer());  // GET is the get-task route: unknown id
  EXPECT_EQ(get.status, 404) << get.Describe();
}

TEST_F(BatchTest, ClaimWithMaxTasks) {
  const std::string cmd = Cmd();
  json::array tasks;
  for (int i = 0; i < 5; ++i) tasks.push_back(json::object{{"command", cmd}, {"payload", i}});
  auto created = Post("/v1/codeq/tasks/batch", Producer(), json::object{{"tasks", tasks}});
  ASSERT_EQ(created.status, 200) << created.Describe();

  auto r = ClaimMany(cmd, 3);
  ASSERT_EQ(r.status, 200) << r.Describe();
  json::array got = r.Json().at("tasks").as_array();
  ASSERT_EQ(got.size(), 3u);
  std::set<std::string> ids;
  for (const auto& t : got) {
    EXPECT_EQ(JsonString(t, "status"), "IN_PROGRESS");
    EXPECT_EQ(JsonInt(t, "attempts"), 1);
    ids.insert(JsonString(t, "id"));
  }
  EXPECT_EQ(ids.size(), 3u);
  auto rest = ClaimMany(cmd, 10);
  ASSERT_EQ(rest.status, 200) << rest.Describe();
  EXPECT_EQ(rest.Json().at("tasks").as_array().size(), 2u);
  auto none = ClaimMany(cmd, 10);
  EXPECT_EQ(none.status, 204) << none.Describe();
  EXPECT_TRUE(none.body.empty());

  for (int64_t bad : {0, -1, 1001}) {
    auto b = ClaimMany(cmd, bad);
    EXPECT_EQ(b.status, 400) << bad << ": " << b.Describe();
    EXPECT_EQ(b.ErrorText(), "invalid 'maxTasks' (1..1000)");
  }
  auto bad_type = Post("/v1/codeq/tasks/claim", Worker(), json::object{{"maxTasks", "2"}});
  EXPECT_EQ(bad_type.status, 400) << bad_type.Describe();
}

TEST_F(BatchTest, ClaimWithMaxTasksLongPolls) {
  const std::string cmd = Cmd();
  auto start = std::chrono::steady_clock::now();
  auto none = ClaimMany(cmd, 5, 1);
  EXPECT_EQ(none.status, 204) << none.Describe();
  EXPECT_GE(MsSince(start), 900);
}

TEST_F(BatchTest, ResultsBatchReportsEachItem) {
  const std::vector<std::string> got = CreateAndClaim(Cmd(), 3);
  ASSERT_EQ(got.size(), 3u);
  const std::string a = got[0], b = got[1], c = got[2];

  json::array results{
      json::object{{"id", a}, {"status", "COMPLETED"}, {"result", json::object{{"ok", true}}}},
      json::object{{"id", b}, {"status", "FAILED"}, {"error", "boom"}},
      json::object{{"id", c}, {"status", "COMPLETED"}},                      // no result object
      json::object{{"id", a}, {"status", "COMPLETED"}, {"result", json::object{}}},  // second time
      json::object{{"id", "no-such-task"}, {"status", "COMPLETED"}, {"result", json::object{}}},
      json::object{{"status", "COMPLETED"}},                                   // no id
      json::object{{"id", c}, {"status", 5}},                                  // bad type
  };
  auto r = Post("/v1/codeq/tasks/results/batch", Worker(), json::object{{"results", results}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  json::array items = Items(r);
  ASSERT_EQ(items.size(), 7u) << r.body;
  EXPECT_EQ(JsonString(items[0], "id"), a);
  EXPECT_EQ(JsonInt(items[0], "status"), 200);
  EXPECT_EQ(JsonString(items[0].at("result"), "status"), "COMPLETED");
  EXPECT_EQ(JsonInt(items[1], "status"), 200);
  EXPECT_EQ(JsonString(items[1].at("result"), "error"), "boom");
  EXPECT_EQ(JsonInt(items[2], "status"), 400);
  EXPECT_EQ(JsonString(items[2], "error"), "result required when status=COMPLETED");
  EXPECT_EQ(JsonInt(items[3], "status"), 409);
  EXPECT_EQ(JsonString(items[3], "error"), "not-in-progress");
  EXPECT_EQ(JsonInt(items[4], "status"), 404);
  EXPECT_EQ(JsonString(items[4], "error"), "task not found");
  EXPECT_EQ(JsonInt(items[5], "status"), 400);
  EXPECT_TRUE(items[5].at("id").is_null());
  EXPECT_EQ(JsonInt(items[6], "status"), 400);
  EXPECT_EQ(JsonString(items[6], "error"), "invalid request body");

  EXPECT_EQ(JsonString(GetTask(a).Json(), "status"), "COMPLETED");
  EXPECT_EQ(JsonString(GetTask(b).Json(), "status"), "FAILED");
  EXPECT_EQ(JsonString(GetTask(c).Json(), "status"), "IN_PROGRESS");
}

// One results batch mixing entries the store takes together (well-formed, links only, a task
// named once) with entries that run as single submissions (an upload, an id named twice, a
// faulty body): each gets its single request's outcome, the repeated id in array order.
// As for creates, each result entry is held to the rules of a single result body.
TEST_F(BatchTest, ResultsBatchHoldsEachEntryToTheRulesOfASingleBody) {
  const std::string cmd = Cmd();
  auto ids = CreateAndClaim(cmd, 2);
  ASSERT_EQ(ids.size(), 2u);
  const std::string body = R"({"results":[{"id":")" + ids[0] +
                           R"(","status":"COMPLETED","result":{"n":123456789012345678901234567890}},{"id":")" + ids[1] +
                           R"(","status":"COMPLETED","result":{"n":1}}]})";
  auto r = Call("POST", "/v1/codeq/tasks/results/batch", Worker(), body);
  ASSERT_EQ(r.status, 200) << r.Describe();
  json::array items = Items(r);
  ASSERT_EQ(items.size(), 2u) << r.body;
  EXPECT_EQ(JsonInt(items[0], "status"), 400);
  EXPECT_EQ(JsonString(items[0], "error"), "invalid request body: integer out of range (at most 64 bits)");
  EXPECT_EQ(JsonInt(items[1], "status"), 200) << items[1];
  EXPECT_EQ(JsonString(GetTask(ids[0]).Json(), "status"), "IN_PROGRESS");
  EXPECT_EQ(JsonString(GetTask(ids[1]).Json(), "status"), "COMPLETED");
}

TEST_F(BatchTest, ResultsBatchMixesStoredTogetherAndSingleEntries) {
  const std::vector<std::string> got = CreateAndClaim(Cmd(), 4);
  ASSERT_EQ(got.size(), 4u);
  const std::string a = got[0], b = got[1], c = got[2], d = got[3];

  json::array results{
      json::object{{"id", a}, {"status", "COMPLETED"}, {"result", json::object{{"n", "a"}}},
                   {"artifacts", json::array{json::object{{"name", "ext"}, {"url", "https://example.com/a"}}}}},
      json::object{{"id", b}, {"status", "COMPLETED"}, {"result", json::object{}},
                   {"artifacts", json::array{json::object{{"name", "up.txt"}, {"contentBase64", "aGk="}}}}},
      json::object{{"id", c}, {"status", "COMPLETED"}, {"result", json::object{{"n", "c"}}}},
      json::object{{"id", c}, {"status", "FAILED"}},  // faulty, and its task is finished by then
      json::object{{"id", d}, {"status", "FAILED"}},  // faulty, task in progress
  };
  auto r = Post("/v1/codeq/tasks/results/batch", Worker(), json::object{{"results", results}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  json::array items = Items(r);
  ASSERT_EQ(items.size(), 5u) << r.body;
  EXPECT_EQ(JsonInt(items[0], "status"), 200);
  EXPECT_EQ(JsonString(items[0].at("result").at("artifacts").at(0), "url"), "https://example.com/a");
  EXPECT_EQ(JsonInt(items[1], "status"), 200);
  const std::string uploaded = JsonString(items[1].at("result").at("artifacts").at(0), "url");
  EXPECT_EQ(uploaded.rfind("file://", 0), 0u) << uploaded;
  EXPECT_EQ(JsonInt(items[2], "status"), 200);
  EXPECT_EQ(JsonInt(items[3], "status"), 409);
  EXPECT_EQ(JsonString(items[3], "error"), "not-in-progress");
  EXPECT_EQ(JsonInt(items[4], "status"), 400);
  EXPECT_EQ(JsonString(items[4], "error"), "error required when status=FAILED");

  for (const auto& id : {a, b, c}) EXPECT_EQ(JsonString(GetTask(id).Json(), "status"), "COMPLETED") << id;
  EXPECT_EQ(JsonString(GetTask(d).Json(), "status"), "IN_PROGRESS");
}

TEST_F(BatchTest, ResultsBatchChecksOwnershipAndScope) {
  const std::string cmd = Cmd();
  CreateTask(cmd);
  auto t = ClaimOne(cmd);
  const std::string id = JsonString(t, "id");
  json::object body{{"results", json::array{json::object{
                                    {"id", id}, {"status", "COMPLETED"}, {"result", json::object{}}}}}};
  auto other = Post("/v1/codeq/tasks/results/batch", WorkerAs("someone-else"), body);
  ASSERT_EQ(other.status, 200) << other.Describe();
  EXPECT_EQ(JsonInt(Items(other)[0], "status"), 403);
  EXPECT_EQ(JsonString(Items(other)[0], "error"), "not-owner");

  TokenSpec no_scope;
  no_scope.sub = "w";
  no_scope.event_types = {"*"};
  no_scope.scope = "codeq:claim";
  auto forbidden = Post("/v1/codeq/tasks/results/batch", MintWorker(no_scope), body);
  EXPECT_EQ(forbidden.status, 403) << forbidden.Describe();
  auto producer = Post("/v1/codeq/tasks/results/batch", Producer(), body);
  EXPECT_EQ(producer.status, 401) << producer.Describe();
  auto empty = Post("/v1/codeq/tasks/results/batch", Worker(), json::object{{"results", json::array{}}});
  EXPECT_EQ(empty.status, 400) << empty.Describe();
}

TEST_F(BatchTest, TenantRulesApplyPerItem) {
  const std::string cmd = Cmd();
  TokenSpec p;
  p.sub = "producer-acme";
  p.tenant = "acme";
  auto created = Post("/v1/codeq/tasks/batch", MintProducer(p),
                      json::object{{"tasks", json::array{json::object{{"command", cmd}, {"payload", 1}}}}});
  ASSERT_EQ(created.status, 200) << created.Describe();
  EXPECT_EQ(JsonString(Items(created)[0].at("task"), "tenantId"), "acme");
  // A worker of another tenant sees nothing; the tenant's worker claims it.
  EXPECT_EQ(ClaimMany(cmd, 5).status, 204);
  auto acme = Post("/v1/codeq/tasks/claim", WorkerAs("w-acme", "acme"),
                   json::object{{"commands", json::array{json::value(cmd)}}, {"maxTasks", 5}});
  ASSERT_EQ(acme.status, 200) << acme.Describe();
  EXPECT_EQ(acme.Json().at("tasks").as_array().size(), 1u);
}

class JsonLogTest : public IntegrationTest {
 public:
  static void SetUpTestSuite() { StartEnvironment({{"LOG_FORMAT", "json"}}); }
};

TEST_F(JsonLogTest, AccessLinesAreJsonObjects) {
  auto r = Call("GET", "/healthz", "", "", {{"X-Request-Id", "rid-\"quoted\"\\x"}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.Header("X-Request-Id").value_or(""), "rid-\"quoted\"\\x");
  // Lines are flushed asynchronously by the child's stdio; poll briefly.
  bool found = false;
  for (int i = 0; i < 50 && !found; ++i) {
    std::string log = codeq().Log();
    size_t pos = 0;
    while (pos < log.size()) {
      size_t end = log.find('\n', pos);
      if (end == std::string::npos) end = log.size();
      std::string line = log.substr(pos, end - pos);
      pos = end + 1;
      if (line.empty() || line[0] != '{') continue;
      boost::system::error_code ec;
      json::value v = json::parse(line, ec);
      EXPECT_FALSE(ec) << "not JSON: " << line;
      if (ec || !v.is_object()) continue;
      EXPECT_TRUE(v.as_object().contains("time")) << line;
      EXPECT_TRUE(v.as_object().contains("level")) << line;
      if (JsonString(v, "msg") != "request" || JsonString(v, "request_id") != "rid-\"quoted\"\\x") continue;
      found = true;
      EXPECT_EQ(JsonString(v, "method"), "GET");
      EXPECT_EQ(JsonString(v, "route"), "/healthz");
      EXPECT_EQ(JsonInt(v, "status"), 200);
      EXPECT_TRUE(v.at("duration_ms").is_number()) << line;
      EXPECT_EQ(JsonString(v, "level"), "info");
    }
    if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(found) << codeq().LogTail();
}

}  // namespace
}  // namespace codeq::it
