// `codeq queue list|inspect` and `codeq admin cleanup` against the dev server.
#include "cli/cli_fixture.h"

namespace codeq::clitest {
namespace {

using QueueCli = CliTest;

TEST_F(QueueCli, ListAndInspect) {
  std::string cmd = Cmd();
  CreateTask(cmd);
  CreateTask(cmd);
  ASSERT_EQ(Codeq({"task", "create", "--event", cmd, "--delay", "1h"}).exit_code, 0);

  auto list = Codeq({"queue", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  bool found = false;
  json::value queues = ParseJson(list.out);
  for (const auto& q : queues.at("queues").as_array()) {
    if (Str(q, "command") != cmd) continue;
    found = true;
    EXPECT_EQ(q.at("ready").as_int64(), 2);
    EXPECT_EQ(q.at("delayed").as_int64(), 1);
  }
  EXPECT_TRUE(found) << list.out;

  auto table = Codeq({"queue", "list", "--table"});
  ASSERT_EQ(table.exit_code, 0) << table.Describe();
  EXPECT_EQ(table.out.rfind("COMMAND", 0), 0u) << table.out;
  EXPECT_NE(table.out.find(cmd), std::string::npos) << table.out;

  auto inspect = Codeq({"queue", "inspect", cmd});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.Describe();
  json::value s = ParseJson(inspect.out);
  EXPECT_EQ(Str(s, "command"), cmd);
  EXPECT_EQ(s.at("ready").as_int64(), 2);
  auto line = Codeq({"queue", "inspect", cmd, "--table"});
  EXPECT_EQ(line.out, "READY: 2 | DELAYED: 1 | IN_PROGRESS: 0 | DLQ: 0\n") << line.Describe();

  auto bad = Codeq({"queue", "inspect", "bad:name"});
  EXPECT_EQ(bad.exit_code, 1) << bad.Describe();
  EXPECT_NE(bad.err.find("invalid command"), std::string::npos) << bad.Describe();
  // A non-admin token: the server's 403.
  auto denied = Codeq({"queue", "list", "--no-admin"}, {{"CODEQ_ADMIN_TOKEN", kUnset}});
  EXPECT_EQ(denied.exit_code, 1) << denied.Describe();
}

TEST_F(QueueCli, AdminCleanup) {
  auto r = Codeq({"admin", "cleanup", "--before", "2001-02-03T04:05:06Z", "--limit", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  json::value out = ParseJson(r.out);
  EXPECT_EQ(Str(out, "before"), "2001-02-03T04:05:06Z");
  EXPECT_EQ(out.at("limit").as_int64(), 10);
  EXPECT_EQ(out.at("deleted").as_int64(), 0);

  // A finished task whose retention (last update + 24 h) ended before the cutoff is deleted.
  std::string cmd = Cmd();
  std::string id = CreateTask(cmd);
  ASSERT_EQ(Codeq({"worker", "start", "--events", cmd, "--once", "--ack", "complete"}).exit_code, 0);
  r = Codeq({"admin", "cleanup", "--before", "2999-01-01T00:00:00Z", "--table"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out.rfind("[OK] Deleted ", 0), 0u) << r.out;
  EXPECT_TRUE(GetTask(id).is_null()) << "the completed task should be gone";

  // Relative ages and bad values.
  r = Codeq({"admin", "cleanup", "--before", "7d"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Str(ParseJson(r.out), "before").size(), 20u) << r.out;
  EXPECT_EQ(Codeq({"admin", "cleanup", "--before", "soon"}).exit_code, 2);
  // A bad time or a negative age is refused before any request (usage error, exit 2).
  for (const char* bad : {"2001-99-99T00:00:00Z", "-5d"}) {
    r = Codeq({"admin", "cleanup", "--before", bad});
    EXPECT_EQ(r.exit_code, 2) << r.Describe();
    EXPECT_EQ(r.err.rfind(std::string("[ERROR] --before must be an RFC 3339 time or an age like 7d, not '") + bad, 0), 0u)
        << r.Describe();
  }
  r = Codeq({"admin", "cleanup", "--before", "99999999999999999999d"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_EQ(r.err.rfind("[ERROR] --before", 0), 0u) << r.Describe();
}

}  // namespace
}  // namespace codeq::clitest
