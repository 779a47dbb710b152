// `codeq migrate` rollback, move, inprog-to-set, drain-status and verify against a real
// redis-server.
#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "migrate_fixture.h"

namespace codeq::migrate_test {
namespace json = boost::json;
using migrate::Layout;

class OpsTest : public MigrateTest {
 protected:
  static SeedSpec Small() {
    SeedSpec s;
    s.commands = {"RENDER", "mail.send"};
    s.pending_per_command = 200;
    s.inprog_per_command = 20;
    s.completed_per_command = 30;
    return s;
  }
};

TEST_F(OpsTest, MoveRequiresABackupConfirmation) {
  Seed(Small());
  auto r = Cli({"run", "--mode", "move", "--freeze-check-ms", "50", "--no-progress"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--i-have-a-backup"), std::string::npos) << r.output;
  EXPECT_TRUE(ScanAll("codeq:*").empty());
}

TEST_F(OpsTest, MoveKeepsBackupsAndRollbackRestoresTheLegacyKeyspace) {
  Seeded seed = Seed(Small());
  auto before = Dump("legacy");
  auto r = Cli({"run", "--mode", "move", "--i-have-a-backup", "--freeze-check-ms", "50", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(ScanAll("legacy:*").empty()) << "move must remove the legacy keys";
  EXPECT_FALSE(ScanAll("codeq:migrate:backup:legacy:*").empty());
  Layout L;
  EXPECT_EQ(Int({"HLEN", L.DstTasks()}), seed.tasks);
  auto v = Cli({"verify", "--no-progress"});
  EXPECT_EQ(v.exit_code, 0) << v.output;

  auto rb = Cli({"rollback", "--no-progress"});
  ASSERT_EQ(rb.exit_code, 0) << rb.output;
  EXPECT_EQ(Dump("legacy"), before);  // every legacy key back, same content, leases still expiring
  for (const auto& id : seed.leased) EXPECT_GT(Int({"PTTL", L.SrcLease(id)}), 0);
  EXPECT_TRUE(ScanAll("codeq:migrate:backup:*").empty());
  EXPECT_EQ(Int({"HLEN", L.DstTasks()}), 0);
  EXPECT_EQ(Type(L.DstPending("RENDER", 0)), "none");
  EXPECT_EQ(Type(L.DstInprog("RENDER")), "none");
  EXPECT_TRUE(ScanAll("codeq:lease:*").empty());
  EXPECT_EQ(Type(L.StateKey()), "none");

  // Rolled back: a new run starts from scratch and succeeds.
  auto again = Cli({"run", "--freeze-check-ms", "50", "--no-progress"});
  EXPECT_EQ(again.exit_code, 0) << again.output;
}

TEST_F(OpsTest, RollbackAfterCopyKeepsCodeqTasksThatWereNotMigrated) {
  Seed(Small());
  auto before = Dump("legacy");
  ASSERT_EQ(Cli({"run", "--freeze-check-ms", "50", "--no-progress"}).exit_code, 0);
  Layout L;
  // After the cutover codeQ received a new task of its own.
  Cmd({"HSET", L.DstTasks(), "new-1", TaskJson("new-1", "RENDER", "PENDING")});
  Cmd({"LPUSH", L.DstPending("RENDER", 0), "new-1"});
  auto dry = Cli({"rollback", "--dry-run", "--no-progress"});
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("Dry run"), std::string::npos);
  EXPECT_EQ(Int({"HLEN", L.DstTasks()}), 2 * 250 + 1);

  auto rb = Cli({"rollback", "--no-progress"});
  ASSERT_EQ(rb.exit_code, 0) << rb.output;
  EXPECT_EQ(Dump("legacy"), before);
  EXPECT_EQ(Int({"HLEN", L.DstTasks()}), 1);
  EXPECT_EQ(List(L.DstPending("RENDER", 0)), std::vector<std::string>{"new-1"});
}

// A legacy queue key of the wrong type, skipped by `run --force`, does not block the rollback
// (it asked LLEN of a string and failed with WRONGTYPE).
TEST_F(OpsTest, RollbackPassesOverAQueueKeyTheForcedRunSkipped) {
  Seed(Small());
  Layout L;
  Cmd({"SET", L.SrcPending("weird"), "string-not-list"});
  auto run = Cli({"run", "--force", "--freeze-check-ms", "50", "--no-progress"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("skipped (--force)"), std::string::npos) << run.output;
  EXPECT_EQ(Int({"HLEN", L.DstTasks()}), 2 * 250);
  auto dry = Cli({"rollback", "--dry-run", "--no-progress"});
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  auto rb = Cli({"rollback", "--no-progress"});
  ASSERT_EQ(rb.exit_code, 0) << rb.output;
  EXPECT_EQ(Int({"HLEN", L.DstTasks()}), 0);
  EXPECT_EQ(Type(L.SrcPending("weird")), "string") << "the skipped key is left as it was";
}

TEST_F(OpsTest, MoveWithExternalBackupChecksTheSnapshotAge) {
  Seed(Small());
  // The test server never saved: LASTSAVE is its start time, which is recent -> accepted.
  auto r = Cli({"run", "--mode", "move", "--i-have-a-backup", "--backup", "external", "--freeze-check-ms", "50",
                "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(ScanAll("legacy:*").empty());
  EXPECT_TRUE(ScanAll("codeq:migrate:backup:*").empty());
  // Nothing to restore from: rollback points at the backup.
  auto rb = Cli({"rollback", "--no-progress"});
  EXPECT_EQ(rb.exit_code, 1) << rb.output;
  EXPECT_NE(rb.output.find("restore them from your"), std::string::npos) << rb.output;

  ASSERT_TRUE(redis().FlushAll());
  Seed(Small());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the snapshot is now >= 1 s old
  auto stale = Cli({"run", "--mode", "move", "--i-have-a-backup", "--backup", "external", "--backup-max-age", "0",
                    "--freeze-check-ms", "50", "--no-progress"});
  EXPECT_EQ(stale.exit_code, 2) << stale.output;
  EXPECT_NE(stale.output.find("LASTSAVE"), std::string::npos) << stale.output;
  EXPECT_FALSE(ScanAll("legacy:*").empty());
}

TEST_F(OpsTest, InprogListsConvertToSets) {
  Cmd({"RPUSH", "codeq:q:render:inprog", "a", "b", "a", "c", "b"});
  Cmd({"RPUSH", "codeq:q:render:acme:inprog", "x", "x"});
  Cmd({"SADD", "codeq:q:mail:inprog", "m"});
  auto dry = Cli({"inprog-to-set", "--dry-run", "--no-progress"});
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("would-convert"), std::string::npos) << dry.output;
  EXPECT_EQ(Type("codeq:q:render:inprog"), "list");

  auto drain = Cli({"drain-status", "--no-progress"});
  EXPECT_EQ(drain.exit_code, 3) << drain.output;  // v1.0 in-progress work remains

  auto r = Cli({"convert-inprog", "--json", "--no-progress"});  // the alias
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = json::parse(r.output.substr(0, r.output.find('\n'))).as_object();
  EXPECT_EQ(j.at("converted").as_int64(), 2);
  EXPECT_EQ(j.at("duplicates").as_int64(), 3);
  EXPECT_EQ(j.at("alreadySets").as_int64(), 1);
  EXPECT_EQ(Type("codeq:q:render:inprog"), "set");
  EXPECT_EQ(Set("codeq:q:render:inprog"), (std::set<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Set("codeq:q:render:acme:inprog"), (std::set<std::string>{"x"}));
  EXPECT_TRUE(ScanAll("codeq:migrate:tmp:*").empty());

  auto again = Cli({"inprog-to-set", "--no-progress"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.output.find("nothing to convert"), std::string::npos) << again.output;
  EXPECT_EQ(Cli({"drain-status", "--no-progress"}).exit_code, 0);
}

TEST_F(OpsTest, DrainStatusExitsNonZeroWhileLegacyWorkRemains) {
  Cmd({"RPUSH", "legacy:q:RENDER:pending", "a", "b"});
  Cmd({"RPUSH", "legacy:q:RENDER:inprog", "c"});
  auto r = Cli({"drain-status", "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  auto j = json::parse(r.output.substr(0, r.output.find('\n'))).as_object();
  EXPECT_FALSE(j.at("drained").as_bool());
  EXPECT_EQ(j.at("legacy").as_array()[0].at("pending").as_int64(), 2);
  EXPECT_EQ(j.at("legacy").as_array()[0].at("inProgress").as_int64(), 1);
  Cmd({"DEL", "legacy:q:RENDER:pending", "legacy:q:RENDER:inprog"});
  auto done = Cli({"check"});  // the alias
  EXPECT_EQ(done.exit_code, 0) << done.output;
}

TEST_F(OpsTest, VerifyFailsOnBrokenRecordsAndWrongCounts) {
  Seed(Small());
  ASSERT_EQ(Cli({"run", "--freeze-check-ms", "50", "--no-progress"}).exit_code, 0);
  Layout L;
  ASSERT_EQ(Cli({"verify", "--no-progress"}).exit_code, 0);

  std::string id = Id("RENDER", "c", 0);
  Cmd({"HSET", L.DstTasks(), id, "{broken"});
  auto bad = Cli({"verify", "--no-progress"});
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("[FAIL] task records"), std::string::npos) << bad.output;
  Cmd({"HSET", L.DstTasks(), id, TaskJson(id, "RENDER", "COMPLETED")});

  Cmd({"RPOP", L.DstPending("RENDER", 0)});
  auto counts = Cli({"verify", "--json", "--no-progress"});
  EXPECT_EQ(counts.exit_code, 1) << counts.output;
  auto j = json::parse(counts.output.substr(0, counts.output.find('\n'))).as_object();
  EXPECT_FALSE(j.at("ok").as_bool());
  bool pending_failed = false;
  for (const auto& c : j.at("checks").as_array()) {
    if (c.at("name").as_string() == "pending lists") pending_failed = !c.at("ok").as_bool();
  }
  EXPECT_TRUE(pending_failed) << counts.output;

  // An in-progress ID without a lease is reported (warning), or fails with --strict-leases.
  auto warn = Cli({"verify", "--no-progress"});
  EXPECT_NE(warn.output.find("[WARN] in-progress leases"), std::string::npos) << warn.output;
}

TEST_F(OpsTest, VerifyWithoutARunComparesWithTheLegacyKeyspace) {
  Seed(Small());
  auto v = Cli({"verify", "--no-progress"});
  EXPECT_EQ(v.exit_code, 1) << v.output;  // nothing migrated yet
  EXPECT_NE(v.output.find("[WARN] run record"), std::string::npos) << v.output;
  EXPECT_NE(v.output.find("legacy records missing"), std::string::npos) << v.output;
}

}  // namespace codeq::migrate_test
