// After a migration, a real `codeq serve` on the same Redis serves the migrated tasks, and
// `codeq migrate verify --server ... --canary` passes against it.
#include <boost/json.hpp>
#include <set>

#include "migrate_fixture.h"
#include "support/codeq_server.h"
#include "support/http_client.h"

namespace codeq::migrate_test {
namespace json = boost::json;

class ServeTest : public MigrateTest {};

TEST_F(ServeTest, MigratedTasksAreClaimedAndCompletedByCodeqServe) {
  SeedSpec spec;
  spec.commands = {"RENDER"};
  spec.pending_per_command = 60;
  spec.inprog_per_command = 6;
  spec.inprog_without_lease = 0;
  spec.completed_per_command = 5;
  spec.pending_duplicates = 5;
  spec.missing_tasks = 2;
  Seeded seed = Seed(spec);
  auto run = Cli({"run", "--freeze-check-ms", "50", "--no-progress"});
  ASSERT_EQ(run.exit_code, 0) << run.output;

  test::CodeqServerOptions so;
  so.store_url = Url();
  test::CodeqServer server(so);
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());

  // The checklist, including the queue counts seen by the server and a canary round trip.
  auto v = Cli({"verify", "--no-progress", "--server", base, "--admin-token", server.admin_token(),
                "--producer-token", server.producer_token(), "--worker-token", server.worker_token(), "--canary"});
  ASSERT_EQ(v.exit_code, 0) << v.output << "\n" << server.LogTail();
  EXPECT_NE(v.output.find("[ OK ] server queue counts"), std::string::npos) << v.output;
  EXPECT_NE(v.output.find("[ OK ] canary task"), std::string::npos) << v.output;
  EXPECT_TRUE(ScanAll("codeq:q:codeq-migrate-canary*").empty());
  EXPECT_FALSE(Set("codeq:commands").count("|codeq-migrate-canary"));

  // Workers claim and complete every migrated pending task (IDs without a record are discarded).
  auto client = server.NewClient();
  test::HttpHeaders worker = {{"Authorization", "Bearer " + server.worker_token()}};
  std::set<std::string> claimed;
  for (int i = 0; i < 200; ++i) {
    auto r = client->Request("POST", "/v1/codeq/tasks/claim", worker, R"({"commands":["RENDER"],"leaseSeconds":60})");
    if (r.status == 204) break;
    ASSERT_EQ(r.status, 200) << r.Describe();
    std::string id = test::JsonString(r.Json(), "id");
    EXPECT_EQ(test::JsonString(r.Json(), "status"), "IN_PROGRESS");
    EXPECT_TRUE(claimed.insert(id).second) << "claimed twice: " << id;
    auto done = client->Request("POST", "/v1/codeq/tasks/" + id + "/result", worker,
                                R"({"status":"COMPLETED","result":{"ok":true}})");
    ASSERT_EQ(done.status, 200) << done.Describe();
  }
  std::set<std::string> expected;
  for (const auto& id : seed.pending.at("RENDER")) {
    if (id.find("-0000-4000-8000-") != std::string::npos && Cmd({"HEXISTS", "codeq:tasks", id}).as_int() == 1) {
      expected.insert(id);
    }
  }
  EXPECT_EQ(expected.size(), 60u);
  EXPECT_EQ(claimed, expected);

  // The migrated in-progress tasks are still leased and visible to the server.
  test::HttpHeaders admin = {{"Authorization", "Bearer " + server.admin_token()}};
  auto q = client->Request("GET", "/v1/codeq/admin/queues", admin);
  ASSERT_EQ(q.status, 200) << q.Describe();
  bool found = false;
  const json::value overview = q.Json();
  for (const auto& s : overview.at("queues").as_array()) {
    if (s.at("command").as_string() == "RENDER") {
      found = true;
      EXPECT_EQ(s.at("ready").as_int64(), 0);
      EXPECT_EQ(s.at("inProgress").as_int64(), 6);
    }
  }
  EXPECT_TRUE(found) << q.body;
  std::string inprog_id = seed.inprog.at("RENDER").front();
  auto t = client->Request("GET", "/v1/codeq/tasks/" + inprog_id, {{"Authorization", "Bearer " + server.producer_token()}});
  ASSERT_EQ(t.status, 200) << t.Describe();
  EXPECT_EQ(test::JsonString(t.Json(), "status"), "IN_PROGRESS");
}

}  // namespace codeq::migrate_test
