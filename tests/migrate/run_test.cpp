// `codeq migrate plan` and `run` against a real redis-server: counts, TTLs, resumability,
// conflicts, freeze detection.
#include <signal.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "migrate_fixture.h"

namespace codeq::migrate_test {
namespace json = boost::json;
using migrate::Layout;

class RunTest : public MigrateTest {
 protected:
  // Every destination pending list holds the de-duplicated legacy list in order, no duplicate.
  void ExpectPendingMigrated(const Seeded& seed) {
    Layout L;
    for (const auto& [cmd, src] : seed.pending) {
      std::vector<std::string> want;
      std::set<std::string> seen;
      for (auto it = src.rbegin(); it != src.rend(); ++it) {  // the occurrence served first is kept
        if (seen.insert(*it).second) want.push_back(*it);
      }
      std::reverse(want.begin(), want.end());
      auto got = List(L.DstPending(cmd, 0));
      EXPECT_EQ(got.size(), static_cast<size_t>(seed.pending_unique.at(cmd))) << cmd;
      EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), got.size()) << "duplicate IDs in " << cmd;
      EXPECT_EQ(got, want) << cmd;
    }
  }

  void ExpectFullyMigrated(const Seeded& seed) {
    Layout L;
    EXPECT_EQ(Int({"HLEN", L.DstTasks()}), seed.tasks);
    EXPECT_EQ(Int({"ZCARD", L.DstTtl()}), seed.tasks);
    ExpectPendingMigrated(seed);
    for (const auto& [cmd, src] : seed.inprog) {
      EXPECT_EQ(Type(L.DstInprog(cmd)), "set");
      EXPECT_EQ(Set(L.DstInprog(cmd)), std::set<std::string>(src.begin(), src.end())) << cmd;
    }
    for (const auto& id : seed.leased) EXPECT_EQ(Cmd({"GET", L.DstLease(id)}).str, "legacy-worker-1") << id;
    auto members = Set(L.DstCommands());
    for (const auto& [cmd, src] : seed.pending) EXPECT_TRUE(members.count("|" + cmd)) << cmd;
  }
};

TEST_F(RunTest, PlanReportsCountsDuplicatesAndMissingTasks) {
  Seed();
  Cmd({"SET", "legacy:unmapped", "x"});
  auto r = Cli({"plan", "--json", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto line = r.output.substr(0, r.output.find('\n'));
  auto j = json::parse(line).as_object();
  EXPECT_EQ(j.at("tasks").at("items").as_int64(), 3 * 1140);
  EXPECT_EQ(j.at("tasks").at("toWrite").as_int64(), 3 * 1140);
  EXPECT_EQ(j.at("pending").at("keys").as_int64(), 3);
  EXPECT_EQ(j.at("pending").at("items").as_int64(), 3 * (1000 + 3 + 20));
  EXPECT_EQ(j.at("pending").at("toWrite").as_int64(), 3 * 1003);
  EXPECT_EQ(j.at("inprog").at("items").as_int64(), 3 * 50);
  EXPECT_EQ(j.at("inprog").at("toWrite").as_int64(), 3 * 40);
  EXPECT_EQ(j.at("leases").at("items").as_int64(), 3 * 35);
  EXPECT_EQ(j.at("missingTasks").as_int64(), 9);
  EXPECT_EQ(j.at("unmappedKeys").as_array().size(), 1u);
  EXPECT_TRUE(j.at("wouldProceed").as_bool());
  EXPECT_GT(j.at("estimatedSeconds").as_double(), 0.0);
  for (const auto& q : j.at("queues").as_array()) {
    if (q.at("kind").as_string() == "inprog") {
      EXPECT_EQ(q.at("withoutLease").as_int64(), 5);
      EXPECT_EQ(q.at("duplicates").as_int64(), 10);
    }
  }
  // Read-only: nothing was written anywhere.
  EXPECT_TRUE(ScanAll("codeq:*").empty());
  auto text = Cli({"plan", "--no-progress"});
  EXPECT_NE(text.output.find("would proceed"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("Estimated run time"), std::string::npos);
}

TEST_F(RunTest, CopyMigratesCountsTtlsAndKeepsTheSource) {
  Seeded seed = Seed();
  auto before = Dump("legacy");
  auto r = Cli({"run", "--freeze-check-ms", "100", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("duplicates collapsed in in-progress sets: 30"), std::string::npos) << r.output;
  ExpectFullyMigrated(seed);
  Layout L;
  // Lease TTLs within a second of the source.
  for (const auto& id : seed.leased) {
    auto src = Int({"PTTL", L.SrcLease(id)});
    auto dst = Int({"PTTL", L.DstLease(id)});
    ASSERT_GT(src, 0);
    EXPECT_LE(std::llabs(src - dst), 1000) << id << " src " << src << " dst " << dst;
  }
  // Records are copied byte for byte (no rewrite needed for unscoped, valid records).
  std::string id = Id("RENDER", "p", 7);
  EXPECT_EQ(Cmd({"HGET", L.DstTasks(), id}).str, Cmd({"HGET", L.SrcTasks(), id}).str);
  EXPECT_EQ(Cmd({"ZSCORE", L.DstTtl(), id}).str, Cmd({"ZSCORE", L.SrcTtl(), id}).str);
  // Mode copy keeps the legacy keyspace untouched; no temp keys remain.
  EXPECT_EQ(Dump("legacy"), before);
  EXPECT_TRUE(ScanAll("codeq:migrate:tmp:*").empty());

  // A completed run re-run does nothing.
  auto after = Dump("codeq");
  auto again = Cli({"run", "--freeze-check-ms", "100", "--no-progress"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("Nothing to do"), std::string::npos) << again.output;
  auto after2 = Dump("codeq");
  EXPECT_EQ(after.size(), after2.size());
  for (const auto& [k, v] : after) {
    if (k.rfind("codeq:lease:", 0) == 0 || k == "codeq:migrate:state") continue;
    EXPECT_EQ(after2[k], v) << k;
  }

  auto v = Cli({"verify", "--no-progress"});
  EXPECT_EQ(v.exit_code, 0) << v.output;
}

TEST_F(RunTest, KilledRunResumesWithoutDuplicates) {
  Seeded seed = Seed();
  std::string out = (std::filesystem::temp_directory_path() / "codeq-migrate-kill.log").string();
  auto child = CliStart({"run", "--freeze-check-ms", "50", "--batch-size", "100", "--throttle-ms", "15", "--no-progress"}, out);
  ASSERT_TRUE(child);
  // Kill it in the middle of the queue phase: after the first queue key was finalized.
  bool killed = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && child->Running()) {
    auto fields = Cmd({"HKEYS", "codeq:migrate:state"});
    bool queue_done = false;
    for (const auto& f : fields.elements) queue_done = queue_done || f.str.find("|queue|") != std::string::npos;
    if (queue_done) {
      child->Signal(SIGKILL);
      child->Wait(std::chrono::seconds(5));
      killed = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(killed) << child->Output();
  auto state = json::parse(Cmd({"HGET", "codeq:migrate:state", "from=legacy;to=codeq;tenant=;commands=all"}).str);
  ASSERT_EQ(state.at("status").as_string(), "running");
  EXPECT_LT(Int({"HLEN", "codeq:migrate:state"}), 1 + 6);  // not every queue was done

  auto r = Cli({"run", "--freeze-check-ms", "50", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed"), std::string::npos) << r.output;
  ExpectFullyMigrated(seed);
  EXPECT_TRUE(ScanAll("codeq:migrate:tmp:*").empty());
  std::filesystem::remove(out);
}

// A crash at each point of the run (simulated through the hook), then a plain re-run: the result
// is always a complete migration without duplicates.
TEST_F(RunTest, InterruptedAtEveryStepThenResumed) {
  SeedSpec spec;
  spec.commands = {"alpha", "Beta"};
  spec.pending_per_command = 120;
  spec.inprog_per_command = 12;
  spec.completed_per_command = 10;
  spec.inprog_without_lease = 2;
  for (std::string point : {"after-freeze-check", "tasks-batch", "after-tasks", "ttl-batch", "leases-batch",
                            "queue-batch", "after-queue", "after-queues", "before-verify", "after-verify",
                            "before-remove", "remove-key"}) {
    for (const char* mode : {"copy", "move"}) {
      SCOPED_TRACE(point + " / " + mode);
      ASSERT_TRUE(redis().FlushAll());
      Seeded seed = Seed(spec);
      auto o = Opts();
      o.batch_size = 25;
      if (std::string(mode) == "move") {
        o.mode = migrate::Mode::kMove;
        o.i_have_a_backup = true;
      }
      int hits = 0;
      const int crash_at = (point == "tasks-batch" || point == "queue-batch") ? 2 : 1;
      o.hook = [&](const std::string& p) -> Status {
        if (p == point && ++hits == crash_at) return Internal("simulated crash");
        return Status::Ok();
      };
      auto first = RunLib(o);
      bool crashed = !first.ok();
      if ((point == "before-remove" || point == "remove-key") && std::string(mode) == "copy") {
        EXPECT_FALSE(crashed);
      }
      o.hook = nullptr;
      auto second = RunLib(o);
      ASSERT_TRUE(second.ok()) << second.status().message();
      if (crashed && point != "after-freeze-check") {
        EXPECT_TRUE(second->resumed);
      }
      ExpectFullyMigrated(seed);
      if (std::string(mode) == "move") {
        EXPECT_TRUE(ScanAll("legacy:*").empty());
      }
    }
  }
}

TEST_F(RunTest, ConflictingDestinationRefusesAndMergeMerges) {
  SeedSpec spec;
  spec.commands = {"RENDER"};
  spec.pending_per_command = 30;
  spec.pending_duplicates = 0;
  spec.missing_tasks = 0;
  Seeded seed = Seed(spec);
  Layout L;
  Cmd({"RPUSH", L.DstPending("RENDER", 0), "existing-2", "existing-1"});  // existing-1 is served first
  std::string id = Id("RENDER", "p", 3);
  Cmd({"HSET", L.DstTasks(), id, TaskJson(id, "RENDER", "COMPLETED")});
  auto before = Dump("codeq");

  auto r = Cli({"run", "--freeze-check-ms", "50", "--no-progress"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("refusing"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("conflicting"), std::string::npos) << r.output;
  EXPECT_EQ(Dump("codeq"), before);  // nothing written, not even a run record

  auto plan = Cli({"plan", "--no-progress"});
  EXPECT_NE(plan.output.find("REFUSE"), std::string::npos) << plan.output;
  EXPECT_NE(plan.output.find("CONFLICT"), std::string::npos) << plan.output;

  auto m = Cli({"run", "--merge", "--freeze-check-ms", "50", "--no-progress"});
  ASSERT_EQ(m.exit_code, 0) << m.output;
  auto list = List(L.DstPending("RENDER", 0));
  ASSERT_EQ(list.size(), 32u);
  // FIFO-consistent: the existing IDs (at the tail) are still served first, then the legacy ones in order.
  EXPECT_EQ(list[30], "existing-2");
  EXPECT_EQ(list[31], "existing-1");
  std::vector<std::string> head(list.begin(), list.begin() + 30);
  EXPECT_EQ(head, seed.pending.at("RENDER"));
  // The existing record wins under --merge.
  EXPECT_NE(Cmd({"HGET", L.DstTasks(), id}).str.find("COMPLETED"), std::string::npos);
  auto v = Cli({"verify", "--no-progress"});
  EXPECT_EQ(v.exit_code, 0) << v.output;
}

TEST_F(RunTest, V1InprogListInDestinationBlocksTheRun) {
  SeedSpec spec;
  spec.commands = {"RENDER"};
  spec.pending_per_command = 5;
  Seed(spec);
  Cmd({"RPUSH", "codeq:q:render:inprog", "a", "b"});
  auto r = Cli({"run", "--merge", "--freeze-check-ms", "50", "--no-progress"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("inprog-to-set"), std::string::npos) << r.output;
}

TEST_F(RunTest, WritesDuringTheFreezeCheckAreDetected) {
  SeedSpec spec;
  spec.commands = {"RENDER"};
  spec.pending_per_command = 50;
  Seed(spec);
  std::string out = (std::filesystem::temp_directory_path() / "codeq-migrate-freeze.log").string();
  auto child = CliStart({"run", "--freeze-check-ms", "2500", "--no-progress"}, out);
  ASSERT_TRUE(child);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  Cmd({"LPUSH", "legacy:q:RENDER:pending", "late-producer-task"});  // a producer that was not frozen
  auto code = child->Wait(std::chrono::seconds(60));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1) << child->Output();
  EXPECT_NE(child->Output().find("activity detected"), std::string::npos) << child->Output();
  EXPECT_TRUE(ScanAll("codeq:*").empty());  // nothing written
  std::filesystem::remove(out);
}

TEST_F(RunTest, WritesDuringTheRunStopItAndAReRunRecopies) {
  SeedSpec spec;
  spec.commands = {"RENDER", "mail"};
  spec.pending_per_command = 100;
  Seed(spec);
  Layout L;
  auto o = Opts();
  o.batch_size = 30;
  // A producer pushes while the run copies the queues (after the task records were copied).
  bool fired = false;
  o.hook = [&](const std::string& p) -> Status {
    if (p == "after-queue" && !fired) {
      fired = true;
      std::string id = "late-1";
      Cmd({"HSET", L.SrcTasks(), id, TaskJson(id, "RENDER", "PENDING")});
      Cmd({"LPUSH", "legacy:q:RENDER:pending", id});
    }
    return Status::Ok();
  };
  auto first = RunLib(o);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), StatusCode::kConflict);
  EXPECT_NE(first.status().message().find("write freeze was not respected"), std::string::npos)
      << first.status().message();
  auto state = json::parse(Cmd({"HGET", L.StateKey(), migrate::ScopeId(o)}).str);
  EXPECT_EQ(state.at("status").as_string(), "aborted");
  EXPECT_TRUE(Cmd({"HEXISTS", L.SrcTasks(), "late-1"}).as_int() == 1);  // the source was not touched

  // Freeze respected now: the re-run copies what changed, including the late task.
  auto second = RunLib(o);
  ASSERT_TRUE(second.ok()) << second.status().message();
  auto list = List(L.DstPending("RENDER", 0));
  EXPECT_EQ(list.front(), "late-1");
  EXPECT_EQ(std::set<std::string>(list.begin(), list.end()).size(), list.size());
  EXPECT_EQ(Cmd({"HEXISTS", L.DstTasks(), "late-1"}).as_int(), 1);
}

TEST_F(RunTest, ARecordChangedAfterItWasCopiedFailsTheVerification) {
  SeedSpec spec;
  spec.commands = {"RENDER"};
  spec.pending_per_command = 40;
  Seed(spec);
  Layout L;
  auto o = Opts();
  std::string id = Id("RENDER", "p", 1);
  o.hook = [&](const std::string& p) -> Status {
    if (p == "after-tasks") {  // a legacy worker updates a record (same hash length: only the content check sees it)
      Cmd({"HSET", L.SrcTasks(), id, TaskJson(id, "RENDER", "COMPLETED")});
    }
    return Status::Ok();
  };
  auto r = RunLib(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("verification of the copy failed"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(id), std::string::npos);
  o.hook = nullptr;
  auto again = RunLib(o);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(Cmd({"HGET", L.DstTasks(), id}).str, Cmd({"HGET", L.SrcTasks(), id}).str);
}

TEST_F(RunTest, DryRunWritesNothing) {
  Seed();
  auto r = Cli({"run", "--dry-run", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Dry run"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("legacy:q:RENDER:pending"), std::string::npos) << r.output;
  EXPECT_TRUE(ScanAll("codeq:*").empty());
}

TEST_F(RunTest, TenantAndRenamedCommands) {
  SeedSpec spec;
  spec.commands = {"img:resize", "Render"};
  spec.pending_per_command = 20;
  spec.missing_tasks = 0;
  Seed(spec);
  auto plan = Cli({"plan", "--json", "--no-progress"});
  ASSERT_EQ(plan.exit_code, 0);
  auto j = json::parse(plan.output.substr(0, plan.output.find('\n'))).as_object();
  EXPECT_TRUE(j.at("invalidCommands").as_object().contains("img:resize")) << plan.output;
  EXPECT_FALSE(j.at("wouldProceed").as_bool());
  auto refused = Cli({"run", "--freeze-check-ms", "50", "--no-progress"});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("--rename-command"), std::string::npos) << refused.output;

  auto r = Cli({"run", "--tenant", "acme", "--rename-command", "img:resize=img-resize", "--freeze-check-ms", "50",
                "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Int({"LLEN", "codeq:q:img-resize:acme:pending:0"}), 20);
  EXPECT_EQ(Int({"LLEN", "codeq:q:render:acme:pending:0"}), 20);
  EXPECT_EQ(Int({"SCARD", "codeq:q:img-resize:acme:inprog"}), 40);
  std::string id = Id("img:resize", "p", 0);
  auto rec = json::parse(Cmd({"HGET", "codeq:tasks", id}).str).as_object();
  EXPECT_EQ(rec.at("command").as_string(), "img-resize");
  EXPECT_EQ(rec.at("tenantId").as_string(), "acme");
  auto members = Set("codeq:commands");
  EXPECT_TRUE(members.count("acme|img-resize"));
  EXPECT_TRUE(members.count("acme|Render"));
  auto v = Cli({"verify", "--tenant", "acme", "--rename-command", "img:resize=img-resize", "--no-progress"});
  EXPECT_EQ(v.exit_code, 0) << v.output;
  // The run record carries the renames: verify without repeating them checks the same queues.
  auto again = Cli({"verify", "--tenant", "acme", "--no-progress"});
  EXPECT_EQ(again.exit_code, 0) << again.output;
}

TEST_F(RunTest, PartialRunOfSelectedCommands) {
  SeedSpec spec;
  spec.commands = {"one", "two"};
  spec.pending_per_command = 30;
  Seed(spec);
  auto r = Cli({"run", "--commands", "one", "--mode", "move", "--i-have-a-backup", "--freeze-check-ms", "50",
                "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Type("codeq:q:one:pending:0"), "list");
  EXPECT_EQ(Type("codeq:q:two:pending:0"), "none");
  EXPECT_EQ(Type("legacy:q:one:pending"), "none");
  EXPECT_EQ(Type("legacy:q:two:pending"), "list");
  // Only the selected command's records left the legacy hash.
  EXPECT_EQ(Int({"HLEN", "legacy:tasks"}), 30 + 40 + 100);
  EXPECT_EQ(Int({"HLEN", "codeq:tasks"}), 30 + 40 + 100);
  auto rb = Cli({"rollback", "--commands", "one", "--no-progress"});
  ASSERT_EQ(rb.exit_code, 0) << rb.output;
  EXPECT_EQ(Int({"HLEN", "legacy:tasks"}), 2 * 170);
  EXPECT_EQ(Type("legacy:q:one:pending"), "list");
  EXPECT_EQ(Int({"HLEN", "codeq:tasks"}), 0);
}

TEST_F(RunTest, KnownCommandsKeepTheCaseOfTheTaskRecords) {
  // The legacy keys carry the command lower-cased, the records the original case.
  Cmd({"HSET", "legacy:tasks", "t1", TaskJson("t1", "GENERATE_MASTER", "PENDING")});
  Cmd({"RPUSH", "legacy:q:generate_master:pending", "t1"});
  Cmd({"RPUSH", "legacy:q:orphan:pending", "t2"});  // no record: the key segment is all there is
  auto r = Cli({"run", "--freeze-check-ms", "50", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Set("codeq:commands"), (std::set<std::string>{"|GENERATE_MASTER", "|orphan"}));
  EXPECT_EQ(List("codeq:q:generate_master:pending:0"), std::vector<std::string>{"t1"});
}

}  // namespace codeq::migrate_test
