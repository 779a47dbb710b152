// `codeq task create|get|result` end to end against `codeq serve --dev`.
#include "cli/cli_fixture.h"

namespace codeq::clitest {
namespace {

using TaskCli = CliTest;

TEST_F(TaskCli, CreateGetResultRoundTrip) {
  std::string cmd = Cmd();
  auto created = Codeq({"task", "create", "--event", cmd, "--payload", R"({"video":"intro.mp4","n":12345678901234})",
                        "--priority", "5", "--max-attempts", "3"});
  ASSERT_EQ(created.exit_code, 0) << created.Describe();
  json::value task = ParseJson(created.out);  // piped stdout → JSON
  std::string id = Str(task, "id");
  ASSERT_FALSE(id.empty()) << created.Describe();
  EXPECT_EQ(Str(task, "command"), cmd);
  EXPECT_EQ(Str(task, "status"), "PENDING");
  EXPECT_EQ(task.at("priority").as_int64(), 5);
  EXPECT_EQ(task.at("maxAttempts").as_int64(), 3);
  EXPECT_EQ(ParseJson(Str(task, "payload")), ParseJson(R"({"video":"intro.mp4","n":12345678901234})"));

  auto got = Codeq({"task", "get", id});
  ASSERT_EQ(got.exit_code, 0) << got.Describe();
  EXPECT_EQ(Str(ParseJson(got.out), "id"), id);

  // No result yet: exit 1 with the server's message on stderr.
  auto none = Codeq({"task", "result", id});
  EXPECT_EQ(none.exit_code, 1) << none.Describe();
  EXPECT_NE(none.err.find("result not found"), std::string::npos) << none.Describe();
  EXPECT_TRUE(none.out.empty());

  // A worker completes it; the result is then readable (with --wait polling until it exists).
  auto result_wait = StartCodeq({"task", "result", id, "--wait", "20s"});
  ASSERT_TRUE(result_wait);
  WriteScript("ok.sh", "#!/bin/sh\ncat >/dev/null\necho '{\"status\":\"COMPLETED\",\"result\":{\"url\":\"s3://b/x\"}}'\n");
  auto worker = Codeq({"worker", "start", "--events", cmd, "--once", "--handler", "./ok.sh"});
  ASSERT_EQ(worker.exit_code, 0) << worker.Describe();
  ASSERT_EQ(result_wait->Wait(std::chrono::seconds(30)), 0) << result_wait->Err();
  json::value r = ParseJson(result_wait->Out());
  ASSERT_TRUE(r.is_object()) << result_wait->Out();
  EXPECT_EQ(Str(r.at("result"), "status"), "COMPLETED");
  EXPECT_EQ(Str(r.at("result").at("result"), "url"), "s3://b/x");
  EXPECT_EQ(Str(r.at("task"), "id"), id);
  // (Not r["task"]["status"]: the server reads the task before the result, so a poll that lands
  // mid-submission may pair the result with the IN_PROGRESS snapshot.)
  EXPECT_EQ(Str(GetTask(id), "status"), "COMPLETED");

  auto table = Codeq({"task", "result", id, "--table"});
  ASSERT_EQ(table.exit_code, 0) << table.Describe();
  EXPECT_NE(table.out.find("status:"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("COMPLETED"), std::string::npos) << table.out;
}

TEST_F(TaskCli, CreateFlagsReachTheServer) {
  std::string cmd = Cmd();
  std::string file = WriteFile("payload.json", R"({"from":"file"})");
  auto r = Codeq({"task", "create", "--event", cmd, "--payload", "@payload.json", "--delay", "1h",
                  "--idempotency-key", cmd + "-key", "--webhook", "http://127.0.0.1:9/cb"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  json::value t = ParseJson(r.out);
  EXPECT_EQ(Str(t, "payload"), R"({"from":"file"})");
  EXPECT_EQ(Str(t, "webhook"), "http://127.0.0.1:9/cb");
  // --delay 1h → delayed set.
  auto stats = Http("GET", "/v1/codeq/admin/queues/" + cmd, server().admin_token());
  EXPECT_EQ(stats.Json().at("delayed").as_int64(), 1) << stats.Describe();

  // Same idempotency key → the same task (the server's replay), quiet prints only the id.
  auto again = Codeq({"task", "create", "--event", cmd, "--idempotency-key", cmd + "-key", "-q"});
  ASSERT_EQ(again.exit_code, 0) << again.Describe();
  EXPECT_EQ(again.out, Str(t, "id") + "\n");

  // --run-at in the past is immediately visible; the RI alias --delay-seconds and stdin payloads work.
  auto past = Codeq({"task", "create", "--event", cmd, "--run-at", "2020-01-01T00:00:00Z", "--payload", "@-"}, {},
                    R"(["from","stdin"])");
  ASSERT_EQ(past.exit_code, 0) << past.Describe();
  EXPECT_EQ(Str(ParseJson(past.out), "payload"), R"(["from","stdin"])");
  auto alias = Codeq({"task", "create", "--event", cmd, "--delay-seconds", "30"});
  ASSERT_EQ(alias.exit_code, 0) << alias.Describe();
  stats = Http("GET", "/v1/codeq/admin/queues/" + cmd, server().admin_token());
  EXPECT_EQ(stats.Json().at("ready").as_int64(), 1) << stats.Describe();
  EXPECT_EQ(stats.Json().at("delayed").as_int64(), 2) << stats.Describe();
}

TEST_F(TaskCli, TableOutputAndQuiet) {
  std::string cmd = Cmd();
  auto r = Codeq({"task", "create", "--event", cmd, "--table"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_EQ(r.out.rfind("[OK] Task created: ", 0), 0u) << r.out;
  std::string id = r.out.substr(std::string("[OK] Task created: ").size());
  id.pop_back();
  auto get = Codeq({"task", "get", id, "--table"});
  ASSERT_EQ(get.exit_code, 0) << get.Describe();
  EXPECT_NE(get.out.find("status:"), std::string::npos) << get.out;
  EXPECT_NE(get.out.find("PENDING"), std::string::npos) << get.out;
  EXPECT_NE(get.out.find(cmd), std::string::npos) << get.out;
  // --json wins over --table's absence on a pipe; with both, --json wins.
  auto both = Codeq({"task", "get", id, "--table", "--json"});
  EXPECT_EQ(Str(ParseJson(both.out), "id"), id) << both.Describe();
}

TEST_F(TaskCli, ExitCodesAndErrors) {
  // Usage errors: 2, message on stderr.
  auto missing = Codeq({"task", "create", "--payload", "{}"});
  EXPECT_EQ(missing.exit_code, 2) << missing.Describe();
  EXPECT_NE(missing.err.find("--event"), std::string::npos) << missing.Describe();
  auto bad_json = Codeq({"task", "create", "--event", Cmd(), "--payload", "{nope"});
  EXPECT_EQ(bad_json.exit_code, 2) << bad_json.Describe();
  EXPECT_NE(bad_json.err.find("not valid JSON"), std::string::npos) << bad_json.Describe();
  auto no_file = Codeq({"task", "create", "--event", Cmd(), "--payload", "@/nonexistent.json"});
  EXPECT_EQ(no_file.exit_code, 2) << no_file.Describe();
  auto dir_file = Codeq({"task", "create", "--event", Cmd(), "--payload", "@/tmp"});  // threw before
  EXPECT_EQ(dir_file.exit_code, 2) << dir_file.Describe();
  EXPECT_EQ(dir_file.err, "[ERROR] cannot read payload file /tmp: is a directory\n") << dir_file.Describe();
  auto unknown = Codeq({"task", "frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.Describe();
  auto no_token = Codeq({"task", "create", "--event", Cmd()},
                        {{"CODEQ_PRODUCER_TOKEN", kUnset}, {"CODEQ_WORKER_TOKEN", kUnset}});
  EXPECT_EQ(no_token.exit_code, 2) << no_token.Describe();
  EXPECT_NE(no_token.err.find("token is required"), std::string::npos) << no_token.Describe();
  auto bad_url = Codeq({"task", "get", "x", "--base-url", "ftp://nowhere"});
  EXPECT_EQ(bad_url.exit_code, 2) << bad_url.Describe();

  // Server errors: 1, "[ERROR] error (<status>): <server message>".
  auto not_found = Codeq({"task", "get", "00000000-0000-4000-8000-000000000000"});
  EXPECT_EQ(not_found.exit_code, 1) << not_found.Describe();
  EXPECT_EQ(not_found.err, "[ERROR] error (404): not found\n") << not_found.Describe();
  auto bad_run_at = Codeq({"task", "create", "--event", Cmd(), "--run-at", "tomorrow"});
  EXPECT_EQ(bad_run_at.exit_code, 1) << bad_run_at.Describe();
  EXPECT_NE(bad_run_at.err.find("invalid 'runAt' (use RFC3339)"), std::string::npos) << bad_run_at.Describe();
  auto bad_token = Codeq({"task", "create", "--event", Cmd(), "--producer-token", "garbage"});
  EXPECT_EQ(bad_token.exit_code, 1) << bad_token.Describe();
  EXPECT_NE(bad_token.err.find("error (401)"), std::string::npos) << bad_token.Describe();
  // Unreachable server: 1.
  auto down = Codeq({"task", "get", "x", "--base-url", "http://127.0.0.1:1"});
  EXPECT_EQ(down.exit_code, 1) << down.Describe();
  EXPECT_NE(down.err.find("cannot reach http://127.0.0.1:1"), std::string::npos) << down.Describe();
}

}  // namespace
}  // namespace codeq::clitest
