// The full task life cycle over HTTP: create → claim → heartbeat → result (with artifacts) →
// read back; result validation errors (SPEC §2.4, §2.5, §2.8–§2.10, D10, D11, D15).
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "integration/it_fixture.h"

namespace codeq::it {
namespace {
namespace fs = std::filesystem;

class Lifecycle : public IntegrationTest {
 protected:
  static void ExpectError(const HttpResponse& r, int status, const std::string& error, const std::string& what) {
    EXPECT_EQ(r.status, status) << what << " -> " << r.Describe();
    EXPECT_EQ(r.Json(), json::value(json::object{{"error", error}})) << what << " -> " << r.Describe();
  }
  static std::string ReadFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static size_t CountFiles(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) return 0;
    size_t n = 0;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); ++it) {
      if (it->is_regular_file()) ++n;
    }
    return n;
  }
};

TEST_F(Lifecycle, CreateClaimHeartbeatResultAndReadBack) {
  const std::string cmd = Cmd();
  auto created = CreateTask(cmd, {{"payload", json::object{{"job", 7}}}, {"priority", 4}});
  const std::string id = JsonString(created, "id");
  ASSERT_FALSE(id.empty());

  // Claim.
  auto claim = ClaimRaw(Worker(), {cmd}, 120);
  ASSERT_EQ(claim.status, 200) << claim.Describe();
  auto t = claim.Json();
  EXPECT_EQ(JsonString(t, "id"), id);
  EXPECT_EQ(JsonString(t, "status"), "IN_PROGRESS");
  EXPECT_EQ(JsonString(t, "workerId"), "dev-worker");
  EXPECT_EQ(JsonInt(t, "attempts"), 1);
  EXPECT_EQ(JsonInt(t, "priority"), 4);
  EXPECT_EQ(JsonString(t, "payload"), R"({"job":7})");
  const std::string lease1 = JsonString(t, "leaseUntil");
  EXPECT_EQ(lease1.size(), 20u) << "RFC 3339 UTC whole seconds: " << lease1;
  EXPECT_EQ(lease1.back(), 'Z') << lease1;

  auto g = GetTask(id);
  EXPECT_EQ(JsonString(g.Json(), "status"), "IN_PROGRESS");
  EXPECT_EQ(JsonString(g.Json(), "workerId"), "dev-worker");

  // Heartbeat extends the lease.
  auto hb = Post(TaskPath(id, "heartbeat"), Worker(), json::object{{"extendSeconds", 3600}});
  ASSERT_EQ(hb.status, 200) << hb.Describe();
  EXPECT_EQ(hb.Json(), json::value(json::object{{"ok", true}}));
  const std::string lease2 = JsonString(GetTask(id).Json(), "leaseUntil");
  EXPECT_GT(lease2, lease1) << "leaseUntil moves forward";
  // An empty heartbeat body is {} (D9).
  auto hb2 = Call("POST", TaskPath(id, "heartbeat"), Worker(), "");
  EXPECT_EQ(hb2.status, 200) << hb2.Describe();
  // Malformed JSON stays 400.
  ExpectError(Call("POST", TaskPath(id, "heartbeat"), Worker(), "{oops"), 400, "invalid body", "bad heartbeat body");

  // Result with artifacts: one uploaded, one by URL, one empty (dropped).
  const std::string bytes = std::string("hello\0world\xff", 12);
  json::object result_body{
      {"status", "COMPLETED"},
      {"result", json::object{{"answer", 42}, {"big", 9007199254740993LL}}},
      {"workerId", "ignored"},
      {"artifacts", json::array{json::object{{"name", "out.bin"}, {"contentBase64", "aGVsbG8Ad29ybGT/"},
                                             {"contentType", "application/octet-stream"}},
                                json::object{{"name", "ext"}, {"url", "https://example.com/a.png"}},
                                json::object{{"name", "empty"}, {"contentBase64", ""}}}}};
  auto res = Post(TaskPath(id, "result"), Worker(), result_body);
  ASSERT_EQ(res.status, 200) << res.Describe();
  auto rec = res.Json();
  EXPECT_EQ(JsonString(rec, "taskId"), id);
  EXPECT_EQ(JsonString(rec, "status"), "COMPLETED");
  EXPECT_EQ(rec.at("result"), json::parse(R"({"answer":42,"big":9007199254740993})"));
  EXPECT_FALSE(JsonHas(rec, "error"));
  EXPECT_FALSE(JsonString(rec, "completedAt").empty());
  ASSERT_TRUE(rec.at("artifacts").is_array()) << res.body;
  const auto& arts = rec.at("artifacts").get_array();
  ASSERT_EQ(arts.size(), 2u) << "the empty artifact is dropped: " << res.body;
  EXPECT_EQ(JsonString(arts[0], "name"), "out.bin");
  fs::path expected_file = fs::path(codeq().artifacts_dir()) / "results" / id / "out.bin";
  EXPECT_EQ(JsonString(arts[0], "url"), "file://" + fs::absolute(expected_file).lexically_normal().string());
  EXPECT_EQ(ReadFile(expected_file), bytes) << "decoded bytes written";
  EXPECT_EQ(arts[1], json::value(json::object{{"name", "ext"}, {"url", "https://example.com/a.png"}}));
  EXPECT_FALSE(fs::exists(fs::path(codeq().artifacts_dir()) / "results" / id / "empty"));

  // The task is COMPLETED, lease fields cleared.
  auto done = GetTask(id);
  ASSERT_EQ(done.status, 200);
  auto dt = done.Json();
  EXPECT_EQ(JsonString(dt, "status"), "COMPLETED");
  EXPECT_FALSE(JsonHas(dt, "workerId")) << done.body;
  EXPECT_FALSE(JsonHas(dt, "leaseUntil")) << done.body;
  EXPECT_EQ(JsonString(dt, "resultKey"), "codeq:results");

  // GET result returns both.
  auto gr = Get(TaskPath(id, "result"), Producer());
  ASSERT_EQ(gr.status, 200) << gr.Describe();
  auto both = gr.Json();
  ASSERT_TRUE(both.is_object());
  EXPECT_EQ(both.get_object().size(), 2u);
  EXPECT_EQ(JsonString(both.at("task"), "status"), "COMPLETED");
  EXPECT_EQ(both.at("result"), rec);

  // A second result is a conflict; heartbeat on a finished task is refused.
  ExpectError(Post(TaskPath(id, "result"), Worker(), json::object{{"status", "COMPLETED"}, {"result", json::object{}}}),
              409, "not-in-progress", "second result");
  auto late_hb = Post(TaskPath(id, "heartbeat"), Worker(), json::object{});
  EXPECT_TRUE(late_hb.status == 403 || late_hb.status == 409) << late_hb.Describe();
  // Nothing left to claim.
  EXPECT_EQ(ClaimRaw(Worker(), {cmd}).status, 204);
}

TEST_F(Lifecycle, ResultValidationErrors) {
  const std::string cmd = Cmd();
  CreateTask(cmd);
  auto t = ClaimOne(cmd);
  const std::string id = JsonString(t, "id");
  ASSERT_FALSE(id.empty());
  const std::string path = TaskPath(id, "result");

  ExpectError(Post(path, Worker(), json::object{{"status", "FAILED"}}), 400, "error required when status=FAILED",
              "FAILED without error");
  ExpectError(Post(path, Worker(), json::object{{"status", "FAILED"}, {"error", "   "}}), 400,
              "error required when status=FAILED", "FAILED with blank error");
  ExpectError(Post(path, Worker(), json::object{{"status", "COMPLETED"}}), 400,
              "result required when status=COMPLETED", "COMPLETED without result");
  ExpectError(Post(path, Worker(), json::object{{"status", "DONE"}, {"result", json::object{}}}), 400,
              "invalid status", "unknown status");
  ExpectError(Post(path, Worker(), json::object{{"status", "completed"}, {"result", json::object{}}}), 400,
              "invalid status", "status is case-sensitive");
  ExpectError(Post(path, Worker(), json::object{{"result", json::object{}}}), 400, "invalid request body",
              "missing status");
  ExpectError(Post(path, Worker(), json::object{{"status", "COMPLETED"}, {"result", "text"}}), 400,
              "invalid request body", "result not an object");
  ExpectError(Call("POST", path, Worker(), "not json"), 400, "invalid request body", "malformed JSON");
  ExpectError(Call("POST", path, Worker(), ""), 400, "invalid request body", "empty body");

  // Artifact names that would escape the task's directory are refused and nothing is written.
  const fs::path results = fs::path(codeq().artifacts_dir()) / "results";
  const size_t files_before = CountFiles(codeq().artifacts_dir());
  for (const char* name : {"../x", "..", "a/b", "a\\b", "", "."}) {
    ExpectError(Post(path, Worker(),
                     json::object{{"status", "COMPLETED"},
                                  {"result", json::object{}},
                                  {"artifacts", json::array{json::object{{"name", name}, {"contentBase64", "aGk="}}}}}),
                400, "invalid artifact name", std::string("artifact name '") + name + "'");
  }
  EXPECT_FALSE(fs::exists(results / "x"));
  EXPECT_EQ(CountFiles(codeq().artifacts_dir()), files_before) << "no file was written";

  // Bad base64.
  auto b64 = Post(path, Worker(),
                  json::object{{"status", "COMPLETED"},
                               {"result", json::object{}},
                               {"artifacts", json::array{json::object{{"name", "ok.txt"}, {"contentBase64", "!!!*"}}}}});
  EXPECT_EQ(b64.status, 400) << b64.Describe();
  EXPECT_EQ(b64.ErrorText().rfind("artifact ok.txt", 0), 0u) << b64.Describe();
  EXPECT_FALSE(fs::exists(results / id / "ok.txt"));
  // '=' inside the data is not padding: refused rather than decoded into garbage bytes.
  ExpectError(Post(path, Worker(),
                   json::object{{"status", "COMPLETED"},
                                {"result", json::object{}},
                                {"artifacts", json::array{json::object{{"name", "mid.txt"}, {"contentBase64", "aGk=aGk="}}}}}),
              400, "artifact mid.txt base64 decode: illegal base64 data", "'=' inside base64");
  // Two uploads under one name would list one file twice and lose the first.
  ExpectError(Post(path, Worker(),
                   json::object{{"status", "COMPLETED"},
                                {"result", json::object{}},
                                {"artifacts", json::array{json::object{{"name", "twice"}, {"contentBase64", "aGk="}},
                                                          json::object{{"name", "twice"}, {"contentBase64", "aG8="}}}}}),
              400, "artifact twice upload: duplicate name", "duplicate artifact names");
  EXPECT_FALSE(fs::exists(results / id / "mid.txt"));
  EXPECT_FALSE(fs::exists(results / id / "twice"));

  // A status error is reported before any artifact is written (D15).
  auto order = Post(path, Worker(),
                    json::object{{"status", "BOGUS"},
                                 {"artifacts", json::array{json::object{{"name", "early.txt"}, {"contentBase64", "aGk="}}}}});
  EXPECT_EQ(order.status, 400) << order.Describe();
  EXPECT_FALSE(fs::exists(results / id / "early.txt")) << "file written before status validation";

  // None of this changed the task.
  auto still = GetTask(id);
  EXPECT_EQ(JsonString(still.Json(), "status"), "IN_PROGRESS") << still.Describe();
  ExpectError(Get(TaskPath(id, "result"), Producer()), 404, "result not found", "no result yet");

  // A valid FAILED result: the task takes the error (D11).
  auto failed = Post(path, Worker(), json::object{{"status", "FAILED"}, {"error", "boom"}});
  ASSERT_EQ(failed.status, 200) << failed.Describe();
  EXPECT_EQ(JsonString(failed.Json(), "error"), "boom");
  EXPECT_FALSE(JsonHas(failed.Json(), "result"));
  auto ft = GetTask(id).Json();
  EXPECT_EQ(JsonString(ft, "status"), "FAILED");
  EXPECT_EQ(JsonString(ft, "error"), "boom");
}

// Two result submissions for one task at once, each uploading a file under the same name: the
// one refused with 409 must not overwrite the file of the one that won (D15).
TEST_F(Lifecycle, RefusedDuplicateSubmissionLeavesTheWinnersArtifact) {
  const std::string cmd = Cmd();
  constexpr int kTasks = 20;
  for (int i = 0; i < kTasks; ++i) CreateTask(cmd);
  std::vector<std::string> ids;
  for (int i = 0; i < kTasks; ++i) ids.push_back(JsonString(ClaimOne(cmd), "id"));
  // 45 000 bytes of 'A' (or 'B'): base64 "QUFB" ("QkJC") repeated 15 000 times (the suite's
  // servers take bodies up to 64 KiB).
  auto body = [](const std::string& who, const char* quantum) {
    std::string b64;
    for (int i = 0; i < 15000; ++i) b64 += quantum;
    return json::object{{"status", "COMPLETED"},
                        {"result", json::object{{"who", who}}},
                        {"artifacts", json::array{json::object{{"name", "out"}, {"contentBase64", b64}}}}};
  };
  const json::object body_a = body("A", "QUFB"), body_b = body("B", "QkJC");
  for (const auto& id : ids) {
    ASSERT_FALSE(id.empty());
    HttpResponse ra, rb;
    std::thread ta([&] { ra = Post(TaskPath(id, "result"), Worker(), body_a); });
    std::thread tb([&] { rb = Post(TaskPath(id, "result"), Worker(), body_b); });
    ta.join();
    tb.join();
    ASSERT_EQ((ra.status == 200) + (rb.status == 200), 1) << ra.Describe() << "\n" << rb.Describe();
    const HttpResponse& loser = ra.status == 200 ? rb : ra;
    EXPECT_EQ(loser.status, 409) << loser.Describe();
    const std::string winner = ra.status == 200 ? "A" : "B";
    auto stored = Get(TaskPath(id, "result"), Producer());
    ASSERT_EQ(stored.status, 200) << stored.Describe();
    EXPECT_EQ(JsonString(stored.Json().at("result").at("result"), "who"), winner) << stored.Describe();
    const std::string file = ReadFile(fs::path(codeq().artifacts_dir()) / "results" / id / "out");
    ASSERT_EQ(file.size(), 45000u);
    EXPECT_EQ(file, std::string(45000, winner[0])) << "the refused submission overwrote the winner's file";
  }
}

TEST_F(Lifecycle, UnknownTasks) {
  const std::string unknown = "00000000-0000-4000-8000-000000000001";
  ExpectError(GetTask(unknown), 404, "not found", "get task");
  ExpectError(Get(TaskPath(unknown, "result"), Producer()), 404, "task not found", "get result");
  ExpectError(Post(TaskPath(unknown, "result"), Worker(), json::object{{"status", "COMPLETED"}, {"result", json::object{}}}),
              404, "task not found", "submit result");
  // An unknown task is reported before the request's own faults (404 before 400).
  ExpectError(Post(TaskPath(unknown, "result"), Worker(), json::object{{"status", "DONE"}}), 404, "task not found",
              "bad result on an unknown task");
  ExpectError(Post(TaskPath("not-a-uuid", "result"), Worker(),
                   json::object{{"status", "COMPLETED"}, {"result", json::object{}}}),
              404, "task not found", "result on a garbage id");
  auto hb = Post(TaskPath(unknown, "heartbeat"), Worker(), json::object{});
  EXPECT_EQ(hb.status, 404) << hb.Describe();
  auto ab = Post(TaskPath(unknown, "abandon"), Worker(), json::object{});
  EXPECT_EQ(ab.status, 404) << ab.Describe();
  auto nk = Post(TaskPath(unknown, "nack"), Worker(), json::object{});
  EXPECT_EQ(nk.status, 404) << nk.Describe();
  ExpectError(GetTask("not-a-uuid"), 404, "not found", "garbage id");
}

TEST_F(Lifecycle, CompletedResultWithEmptyObject) {
  const std::string cmd = Cmd();
  CreateTask(cmd);
  auto t = ClaimOne(cmd);
  const std::string id = JsonString(t, "id");
  auto r = Post(TaskPath(id, "result"), Worker(), json::object{{"status", "COMPLETED"}, {"result", json::object{}}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_FALSE(JsonHas(r.Json(), "result")) << "{} is accepted but not echoed: " << r.body;
  EXPECT_FALSE(JsonHas(r.Json(), "artifacts")) << r.body;
  EXPECT_EQ(JsonString(GetTask(id).Json(), "status"), "COMPLETED");
}

}  // namespace
}  // namespace codeq::it
