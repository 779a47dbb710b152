// Embedded-only behaviour: recovery after reopen (FIFO per tier, delayed due times, lease
// deadlines), crash recovery in both durability modes, ManualClock lease expiry, background
// promotion and repair waking the ReadyListener, the data-directory lock, write groups.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "contract_fixture.h"
#include "domain/clock.h"
#include "embedded_test_util.h"
#include "store/embedded/engine.h"

#include <rocksdb/perf_level.h>

namespace codeq::contract {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

class EmbeddedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  std::shared_ptr<EmbeddedStore> Open(bool sync = true, int64_t timer_ms = 0, const Clock* clock = nullptr,
                                      bool inline_calls = true) {
    EmbeddedOptions o;
    o.data_dir = dir_.path();
    o.sync = sync;
    o.inline_calls = inline_calls;
    o.timer_interval_ms = timer_ms;
    o.clock = clock;
    auto s = EmbeddedStore::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? *s : nullptr;
  }

  static Task NewTask(const std::string& command, int priority = 0, int max_attempts = 5,
                      const std::string& tenant = "", int64_t now_ms = kT0) {
    Task t;
    t.id = NewId();
    t.command = command;
    t.payload = R"({"n":1})";
    t.priority = priority;
    t.status = "PENDING";
    t.max_attempts = max_attempts;
    t.tenant_id = tenant;
    t.created_at = t.updated_at = FormatTimestamp(now_ms);
    return t;
  }

  static Task Create(Store& s, const std::string& command, int priority = 0, int64_t now_ms = kT0,
                     int64_t visible_sec = 0, int max_attempts = 5, const std::string& tenant = "") {
    CreateTaskInput in;
    in.task = NewTask(command, priority, max_attempts, tenant, now_ms);
    in.now = At(now_ms);
    in.visible_at_sec = visible_sec > 0 ? visible_sec : now_ms / 1000;
    auto r = Await(s.CreateTask(in));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return in.task;
  }

  static std::optional<Task> Claim(Store& s, const std::string& command, int64_t now_ms,
                                   int64_t lease = 30, const std::string& worker = "w",
                                   const std::string& tenant = "") {
    ClaimInput in;
    in.worker_id = worker;
    in.tenant = tenant;
    in.commands = {command};
    in.lease_seconds = lease;
    in.now = At(now_ms);
    auto r = Await(s.ClaimTask(in));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::nullopt;
  }

  static std::string ClaimId(Store& s, const std::string& command, int64_t now_ms, int64_t lease = 30) {
    auto t = Claim(s, command, now_ms, lease);
    return t ? t->id : "";
  }

  static RepairOutcome Repair(Store& s, const std::string& command, int64_t now_ms) {
    RepairInput in;
    in.commands = {command};
    in.backoff = [](int) { return int64_t{0}; };
    in.now = At(now_ms);
    auto r = Await(s.RepairExpired(in));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : RepairOutcome{};
  }

  static QueueStats Stats(Store& s, const std::string& command, const std::string& tenant = "") {
    auto r = Await(s.Stats(tenant, command));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : QueueStats{};
  }

  TempDir dir_;
};

// --- free-space guard --------------------------------------------------------------------------

// Below minFreeDiskBytes free, new tasks are refused; below half of it, every state change but
// cleanup; reads go on; with space back, everything works again. Nothing refused is half-written.
TEST_F(EmbeddedStoreTest, LowDiskRefusesNewTasksThenStateChangesAndRecovers) {
  constexpr uint64_t kReserve = 100 << 20;
  auto free_bytes = std::make_shared<std::atomic<uint64_t>>(kReserve * 4);
  EmbeddedOptions o;
  o.data_dir = dir_.path();
  o.timer_interval_ms = 0;
  o.min_free_disk_bytes = kReserve;
  o.free_disk_bytes = [free_bytes] { return free_bytes->load(); };
  o.disk_check_interval_ms = 0;
  auto opened = EmbeddedStore::Open(o);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EmbeddedStore& s = **opened;
  const Task first = Create(s, "disk");
  Create(s, "disk");

  // (The guard counts unflushed memtables as used: a few KiB here, inside these margins.)
  free_bytes->store(kReserve - 1);  // new tasks refused, the rest goes on
  CreateTaskInput in;
  in.task = NewTask("disk");
  in.now = At(kT0);
  in.visible_at_sec = kT0 / 1000;
  auto refused = Await(s.CreateTask(in));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.status().message(), "store unavailable");
  auto batch = Await(s.CreateTasks({in, in}));
  ASSERT_EQ(batch.size(), 2u);
  for (const auto& r : batch) EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Stats(s, "disk").ready, 2) << "nothing of the refused creates was written";
  EXPECT_EQ(Await(s.GetTask("", in.task.id)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ClaimId(s, "disk", kT0 + 1000), first.id) << "claims still work";

  free_bytes->store(kReserve / 2 - 1);  // every state change refused; reads and cleanup served
  ClaimInput claim;
  claim.worker_id = "w";
  claim.commands = {"disk"};
  claim.lease_seconds = 30;
  claim.now = At(kT0 + 2000);
  EXPECT_EQ(Await(s.ClaimTask(claim)).status().code(), StatusCode::kUnavailable);
  SubmitResultInput result;
  result.task_id = first.id;
  result.worker_id = "w";
  result.now = At(kT0 + 2000);
  result.result.task_id = first.id;
  result.result.status = "COMPLETED";
  result.result.result = boost::json::object{};
  result.result.completed_at = FormatTimestamp(kT0 + 2000);
  EXPECT_EQ(Await(s.SubmitResult(result)).status().code(), StatusCode::kUnavailable);
  // Asked by the scheduler before it writes artifact files for a result (they were left behind).
  EXPECT_EQ(s.AdmitStateChange().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Stats(s, "disk").in_progress, 1);
  EXPECT_EQ(Stats(s, "disk").ready, 1);
  EXPECT_TRUE(Await(s.GetTask("", first.id)).ok());
  CleanupInput cleanup;
  cleanup.before_sec = 0;
  EXPECT_TRUE(Await(s.Cleanup(cleanup)).ok()) << "cleanup frees space: never refused";

  free_bytes->store(kReserve + (8 << 20));  // enough again
  EXPECT_TRUE(s.AdmitStateChange().ok());
  auto done = Await(s.SubmitResult(result));
  EXPECT_TRUE(done.ok()) << done.status().message();
  EXPECT_TRUE(Await(s.CreateTask(in)).ok());
  EXPECT_EQ(Stats(s, "disk").ready, 2);
}

// A (nearly) full filesystem is a clear error at open, not a failure inside RocksDB.
TEST_F(EmbeddedStoreTest, OpenRefusesANearlyFullFilesystem) {
  EmbeddedOptions o;
  o.data_dir = dir_.path() + "/not-yet";
  o.timer_interval_ms = 0;
  o.free_disk_bytes = [] { return uint64_t{5} << 20; };
  auto s = EmbeddedStore::Open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.status().message(), "data directory " + o.data_dir +
                                      ": only 5 MiB free on its filesystem; the embedded store needs 16 MiB to open "
                                      "(0 MiB of write-ahead log to replay, and a margin): free some space");
  o.free_disk_bytes = [] { return uint64_t{17} << 20; };  // enough to open; writes refused
  auto opened = EmbeddedStore::Open(o);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
}

// --- recovery ----------------------------------------------------------------------------------

// A create hands back the text it wrote (CreateOutcome::task_json), so the answer is not encoded
// twice: it must be exactly the task's own encoding, also for a batch, and what a later read
// returns; a replay has none (the API encodes the task it gets).
// RocksDB's perf counters (on by default) cost a thread-local access per memtable key comparison:
// the engine turns them off on each thread that runs its calls, recovery's included.
TEST_F(EmbeddedStoreTest, EngineThreadsRunWithRocksDbPerfCountersOff) {
  std::thread([&] {
    EXPECT_EQ(rocksdb::GetPerfLevel(), rocksdb::PerfLevel::kEnableCount) << "RocksDB's default";
    auto s = Open();
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(rocksdb::GetPerfLevel(), rocksdb::PerfLevel::kDisable) << "after Open (recovery) on this thread";
  }).join();
  std::thread([] {
    embedded::Engine::DisablePerfCounters();
    EXPECT_EQ(rocksdb::GetPerfLevel(), rocksdb::PerfLevel::kDisable);
  }).join();
}

TEST_F(EmbeddedStoreTest, CreateAnswersWithTheRecordTextItWrote) {
  auto s = Open();
  CreateTaskInput in;
  in.task = NewTask("text", 3);
  in.task.webhook = "https://example.com/hook";
  in.task.payload = R"({"quote":"\"","n":[1,2]})";
  in.now = At(kT0);
  in.visible_at_sec = kT0 / 1000;
  in.idempotency_key = "k1";
  auto out = Await(s->CreateTask(in));
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_FALSE(out->replayed);
  EXPECT_EQ(out->task_json, TaskToJsonText(out->task));
  auto read = Await(s->GetTask("", in.task.id));
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(out->task_json, TaskToJsonText(*read));

  CreateTaskInput again = in;
  again.task.id = NewId();
  auto replay = Await(s->CreateTask(again));
  ASSERT_TRUE(replay.ok()) << replay.status().message();
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->task.id, in.task.id);
  EXPECT_TRUE(replay->task_json.empty());

  std::vector<CreateTaskInput> batch(2, in);
  batch[0].task.id = NewId();
  batch[0].idempotency_key.clear();
  batch[1].task.id = NewId();
  batch[1].idempotency_key.clear();
  batch[1].visible_at_sec = kT0 / 1000 + 60;  // delayed
  auto many = Await(s->CreateTasks(batch));
  ASSERT_EQ(many.size(), 2u);
  for (auto& r : many) {
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->task_json, TaskToJsonText(r->task));
  }
}

TEST_F(EmbeddedStoreTest, ReopenRestoresFifoPerTierDelayedDueTimesAndLeases) {
  std::vector<std::string> tier0, tier5;
  std::string abandoned, short_lease, long_lease, due50, due100, dead, done;
  {
    auto s = Open();
    ASSERT_TRUE(s);
    for (int i = 0; i < 3; ++i) tier0.push_back(Create(*s, "order", 0).id);
    for (int i = 0; i < 3; ++i) tier5.push_back(Create(*s, "order", 5).id);
    // Abandon sends tier5[0] behind tier5[1], tier5[2].
    abandoned = ClaimId(*s, "order", kT0);
    ASSERT_EQ(abandoned, tier5[0]);
    ASSERT_TRUE(Await(s->Abandon(TaskRef{"", abandoned, "w", At(kT0)})).ok());

    Create(*s, "lease");
    Create(*s, "lease");
    short_lease = ClaimId(*s, "lease", kT0, 10);
    long_lease = ClaimId(*s, "lease", kT0, 100);

    due100 = Create(*s, "later", 0, kT0, kT0 / 1000 + 100).id;  // created first, due last
    due50 = Create(*s, "later", 0, kT0, kT0 / 1000 + 50).id;

    Create(*s, "dead", 0, kT0, 0, /*max_attempts=*/1);
    dead = ClaimId(*s, "dead", kT0);
    NackInput nack;
    nack.task_id = dead;
    nack.worker_id = "w";
    nack.reason = "gave up";
    nack.now = At(kT0);
    auto n = Await(s->Nack(nack));
    ASSERT_TRUE(n.ok() && n->dead_lettered);

    Create(*s, "done");
    done = ClaimId(*s, "done", kT0);
    SubmitResultInput res;
    res.task_id = done;
    res.worker_id = "w";
    res.now = At(kT0);
    res.result.status = "COMPLETED";
    res.result.result = boost::json::object{{"v", 7}};
    ASSERT_TRUE(Await(s->SubmitResult(res)).ok());
  }  // clean close

  auto s = Open();
  ASSERT_TRUE(s);
  QueueStats order = Stats(*s, "order");
  EXPECT_EQ(order.ready, 6);
  EXPECT_EQ(order.in_progress, 0);
  QueueStats lease = Stats(*s, "lease");
  EXPECT_EQ(lease.in_progress, 2);
  EXPECT_EQ(Stats(*s, "later").delayed, 2);
  EXPECT_EQ(Stats(*s, "dead").dlq, 1);
  auto cmds = Await(s->ListCommands(""));
  ASSERT_TRUE(cmds.ok());
  EXPECT_EQ(*cmds, (std::vector<std::string>{"dead", "done", "later", "lease", "order"}));

  // Pending FIFO per tier, tier 9 first; the abandoned task behind those that waited.
  std::vector<std::string> expected = {tier5[1], tier5[2], abandoned, tier0[0], tier0[1], tier0[2]};
  for (const auto& id : expected) EXPECT_EQ(ClaimId(*s, "order", kT0), id);
  EXPECT_EQ(ClaimId(*s, "order", kT0), "");

  // Delayed due times survive exactly.
  EXPECT_EQ(ClaimId(*s, "later", kT0 + 49'999), "");
  EXPECT_EQ(ClaimId(*s, "later", kT0 + 50'000), due50);
  EXPECT_EQ(ClaimId(*s, "later", kT0 + 99'999), "");
  EXPECT_EQ(ClaimId(*s, "later", kT0 + 100'000), due100);

  // Lease deadlines survive exactly.
  EXPECT_TRUE(Repair(*s, "lease", kT0 + 9'999).expired_commands.empty());
  EXPECT_EQ(Repair(*s, "lease", kT0 + 10'000).expired_commands.size(), 1u);
  auto requeued = Await(s->GetTask("", short_lease));
  ASSERT_TRUE(requeued.ok());
  EXPECT_EQ(requeued->status, "PENDING");
  EXPECT_TRUE(Repair(*s, "lease", kT0 + 99'999).expired_commands.empty());
  HeartbeatInput hb{"", long_lease, "w", 60, At(kT0 + 99'999)};  // the owner still holds it
  ASSERT_TRUE(Await(s->Heartbeat(hb)).ok());
  EXPECT_TRUE(Repair(*s, "lease", kT0 + 150'000).expired_commands.empty());
  EXPECT_EQ(Repair(*s, "lease", kT0 + 159'999).expired_commands.size(), 1u);

  // Terminal records and results.
  auto d = Await(s->GetResult("", dead));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->status, "FAILED");
  EXPECT_EQ(d->error, "gave up");
  auto r = Await(s->GetResult("", done));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, "COMPLETED");
  ASSERT_TRUE(r->result.has_value());
  EXPECT_EQ(r->result->at("v").as_int64(), 7);
}

TEST_F(EmbeddedStoreTest, ExpiredLeaseFoundAtStartupIsRepairedAsUsual) {
  std::string id;
  {
    auto s = Open();
    ASSERT_TRUE(s);
    Create(*s, "exp");
    id = ClaimId(*s, "exp", kT0, 5);
  }
  auto s = Open();
  ASSERT_TRUE(s);
  auto out = Repair(*s, "exp", kT0 + 60'000);
  ASSERT_EQ(out.expired_commands.size(), 1u);
  auto again = Claim(*s, "exp", kT0 + 60'000, 30, "w2");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->id, id);
  EXPECT_EQ(again->attempts, 2);
}

// A crash (no clean close, no memtable flush) loses nothing that was acknowledged, in both
// durability modes: the WAL is written before every call returns (fsynced too with sync=true).
TEST_F(EmbeddedStoreTest, CrashRecoveryKeepsEveryAcknowledgedChangeSyncAndAsync) {
  CODEQ_SKIP_IF_FORK_UNSUPPORTED();
  for (bool sync : {true, false}) {
    SCOPED_TRACE(sync ? "sync" : "async");
    TempDir dir;
    std::vector<std::string> ids(20);
    for (auto& id : ids) id = NewId();
    int code = RunInChild([&]() -> int {
      EmbeddedOptions o;
      o.data_dir = dir.path();
      o.sync = sync;
      o.timer_interval_ms = 0;
      auto s = EmbeddedStore::Open(o);
      if (!s.ok()) return 1;
      for (size_t i = 0; i < ids.size(); ++i) {
        CreateTaskInput in;
        in.task = NewTask("crash", static_cast<int>(i % 3));
        in.task.id = ids[i];
        in.now = At(kT0);
        in.visible_at_sec = kT0 / 1000;
        if (!Await((*s)->CreateTask(in)).ok()) return 2;
      }
      // Claim the first (priority 2) and complete it.
      auto c = Claim(**s, "crash", kT0);
      if (!c || c->id != ids[2]) return 3;
      SubmitResultInput res{"", c->id, "w", {}, At(kT0)};
      res.result.status = "COMPLETED";
      if (!Await((*s)->SubmitResult(res)).ok()) return 4;
      new std::shared_ptr<EmbeddedStore>(*s);  // never closed: the child _exits with it open
      return 0;
    });
    ASSERT_EQ(code, 0);
    EmbeddedOptions o;
    o.data_dir = dir.path();
    o.timer_interval_ms = 0;
    auto s = EmbeddedStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().message();
    QueueStats st = Stats(**s, "crash");
    EXPECT_EQ(st.ready, 19);
    auto done = Await((*s)->GetResult("", ids[2]));
    ASSERT_TRUE(done.ok()) << done.status().message();
    EXPECT_EQ(done->status, "COMPLETED");
    EXPECT_EQ(ClaimId(**s, "crash", kT0), ids[5]);  // tier 2 FIFO continues with the next one
  }
}

// --- durability modes --------------------------------------------------------------------------

TEST_F(EmbeddedStoreTest, SyncModeSharesFsyncsAcrossConcurrentWritersAsyncModeHasNone) {
  auto run = [](Store& s, int threads, int per_thread) {
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&s, per_thread] {
        for (int i = 0; i < per_thread; ++i) Create(s, "gc");
      });
    }
    for (auto& t : ts) t.join();
  };
  {
    auto s = Open(/*sync=*/true);
    ASSERT_TRUE(s);
    run(*s, 16, 20);
    EXPECT_EQ(Stats(*s, "gc").ready, 320);
    const uint64_t syncs = s->WalSyncCount();
    EXPECT_GT(syncs, 0u);
    EXPECT_LT(syncs, 320u) << "concurrent creates should share fsyncs (group commit)";
  }
  TempDir other;
  EmbeddedOptions o;
  o.data_dir = other.path();
  o.sync = false;
  o.timer_interval_ms = 0;
  auto s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok());
  run(**s, 4, 20);
  EXPECT_EQ(Stats(**s, "gc").ready, 80);
  EXPECT_EQ((*s)->WalSyncCount(), 0u);
}

// --- ManualClock leases and the background timer -------------------------------------------------

// --- write groups (engine thread) ---------------------------------------------------------------

TEST_F(EmbeddedStoreTest, ConcurrentCallsShareWriteGroupsAndEachKeepsItsOwnOutcome) {
  constexpr int kThreads = 8, kPerThread = 40;
  std::set<std::string> created, claimed;
  std::mutex mu;
  int forbidden = 0;
  {
    // Inline calls off: a call that finds the engine idle would otherwise run as a group of its
    // own, and on a loaded machine that can be every one of them (SingleCallsRunInlineWhenIdle...
    // covers that path); here every call is queued, and the ones queued meanwhile share a group.
    auto s = Open(/*sync=*/false, 0, nullptr, /*inline_calls=*/false);
    ASSERT_TRUE(s);
    auto parallel = [](const std::function<void(int)>& body) {
      std::vector<std::thread> ts;
      for (int t = 0; t < kThreads; ++t) ts.emplace_back(body, t);
      for (auto& t : ts) t.join();
    };
    parallel([&](int) {
      for (int i = 0; i < kPerThread; ++i) {
        Task t = Create(*s, "grp");
        std::lock_guard lock(mu);
        created.insert(t.id);
      }
    });
    // Claims and failing heartbeats (another worker's task) interleave in the same groups: each
    // call gets its own answer, and a failing call changes nothing for the others.
    parallel([&](int t) {
      const std::string worker = "w" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        auto got = Claim(*s, "grp", kT0, 30, worker);
        ASSERT_TRUE(got.has_value());
        EXPECT_EQ(got->worker_id, worker);
        HeartbeatInput hb{"", got->id, "intruder", 30, At(kT0)};
        auto beat = Await(s->Heartbeat(hb));
        ASSERT_FALSE(beat.ok());
        std::lock_guard lock(mu);
        forbidden += beat.status().code() == StatusCode::kForbidden;
        EXPECT_TRUE(claimed.insert(got->id).second) << "claimed twice: " << got->id;
      }
    });
    EXPECT_EQ(created, claimed);
    EXPECT_EQ(forbidden, kThreads * kPerThread);
    QueueStats st = Stats(*s, "grp");
    EXPECT_EQ(st.ready, 0);
    EXPECT_EQ(st.in_progress, kThreads * kPerThread);
    EXPECT_EQ(s->InlineOpCount(), 0u);
    EXPECT_GT(s->WriteGroupCount(), 0u);
    EXPECT_LT(s->WriteGroupCount(), 3u * kThreads * kPerThread) << "concurrent calls should share write groups";
  }
  // What the groups wrote is on disk: a reopened store has every task leased, none ready.
  auto s = Open(/*sync=*/false);
  ASSERT_TRUE(s);
  QueueStats st = Stats(*s, "grp");
  EXPECT_EQ(st.ready, 0);
  EXPECT_EQ(st.in_progress, kThreads * kPerThread);
  EXPECT_FALSE(Claim(*s, "grp", kT0).has_value());
}

// Memory-only calls (Stats, ListCommands, the throttle and round-robin counters) run on the
// caller's thread when the engine is idle and are queued to the engine thread while a write group
// holds it, instead of blocking the caller. Both paths must give consistent answers.
TEST_F(EmbeddedStoreTest, MemoryOnlyCallsDuringWriteGroupsAreQueuedNotBlockedAndStayConsistent) {
  auto s = Open(/*sync=*/true);
  ASSERT_TRUE(s);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> created{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 6; ++t) {
    writers.emplace_back([&] {
      while (!stop.load()) {
        Create(*s, "mem");
        created.fetch_add(1);
      }
    });
  }
  std::mutex mu;
  std::vector<int64_t> turns;  // every NextRoundRobin answer
  int64_t reads = 0;
  auto reader = [&] {
    int64_t last_ready = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline &&
           (s->QueuedMemoryOpCount() < 20 || created.load() < 200)) {
      QueueStats st = Stats(*s, "mem");
      EXPECT_GE(st.ready, last_ready) << "ready depth went back while only creates ran";
      last_ready = st.ready;
      auto commands = Await(s->ListCommands(""));
      ASSERT_TRUE(commands.ok());
      if (st.ready > 0) EXPECT_EQ(*commands, std::vector<std::string>{"mem"});
      auto turn = Await(s->NextRoundRobin("mem", "g"));
      ASSERT_TRUE(turn.ok());
      std::lock_guard lock(mu);
      turns.push_back(*turn);
      ++reads;
    }
  };
  std::thread r1(reader), r2(reader);
  r1.join();
  r2.join();
  stop = true;
  for (auto& w : writers) w.join();
  EXPECT_GT(s->QueuedMemoryOpCount(), 0u) << "no memory-only call met a running write group";
  // Three memory-only calls per read loop: fewer queued than that means some ran inline.
  EXPECT_LT(s->QueuedMemoryOpCount(), static_cast<uint64_t>(3 * reads)) << "none ran on the caller's thread";
  std::set<int64_t> distinct(turns.begin(), turns.end());
  EXPECT_EQ(distinct.size(), turns.size()) << "a round-robin turn was handed out twice";
  EXPECT_EQ(*distinct.rbegin(), static_cast<int64_t>(turns.size()));
  EXPECT_EQ(Stats(*s, "mem").ready, created.load());
}

// A single call that finds the engine idle runs on the caller's thread as a write group of its
// own; a batch call always goes to the engine thread; while the engine thread runs a group,
// single calls queue behind it instead of waiting for the mutex. The outcomes are the same either
// way, and durable.
TEST_F(EmbeddedStoreTest, SingleCallsRunInlineWhenIdleAndQueueWhileBusy) {
  auto s = Open(/*sync=*/true);
  ASSERT_TRUE(s);
  uint64_t inline_before = s->InlineOpCount();
  const uint64_t groups_before = s->WriteGroupCount();
  const uint64_t syncs_before = s->WalSyncCount();
  const std::string first = Create(*s, "inl").id;
  EXPECT_EQ(s->InlineOpCount(), inline_before + 1) << "an idle engine should run the call inline";
  EXPECT_EQ(s->WriteGroupCount(), groups_before + 1);
  EXPECT_GT(s->WalSyncCount(), syncs_before) << "an inline call answered before its fsync";

  auto batch = [] {
    std::vector<CreateTaskInput> inputs(500);
    for (auto& in : inputs) {
      in.task = NewTask("inl");
      in.now = At(kT0);
      in.visible_at_sec = kT0 / 1000;
    }
    return inputs;
  };
  inline_before = s->InlineOpCount();
  auto created = Await(s->CreateTasks(batch()));
  ASSERT_EQ(created.size(), 500u);
  std::vector<CreateTaskInput> one = batch();
  one.resize(1);
  ASSERT_EQ(Await(s->CreateTasks(std::move(one))).size(), 1u);
  EXPECT_EQ(s->InlineOpCount(), inline_before) << "a batch call (even of one item) ran inline";
  // A claim of many tasks is not short either.
  ClaimInput many;
  many.worker_id = "w";
  many.commands = {"other"};
  many.lease_seconds = 30;
  many.now = At(kT0);
  ASSERT_TRUE(Await(s->ClaimTasks(many, 10)).ok());
  EXPECT_EQ(s->InlineOpCount(), inline_before) << "a claim of up to 10 tasks ran inline";

  std::atomic<bool> stop{false};
  std::atomic<int> batches{0};
  std::thread busy([&] {
    while (!stop.load()) {
      for (const auto& r : Await(s->CreateTasks(batch()))) EXPECT_TRUE(r.ok());
      batches.fetch_add(1);
    }
  });
  int singles = 0, queued = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (queued == 0 && std::chrono::steady_clock::now() < deadline) {
    const uint64_t before = s->InlineOpCount();
    Create(*s, "inl");
    ++singles;
    if (s->InlineOpCount() == before) ++queued;  // this thread's call went to the engine thread
  }
  stop = true;
  busy.join();
  EXPECT_GT(queued, 0) << "no single call met a busy engine in 20 s";
  const int64_t total = 1 + 500 + 1 + 500 * batches.load() + singles;
  EXPECT_EQ(Stats(*s, "inl").ready, total);
  s.reset();
  s = Open();
  EXPECT_EQ(Stats(*s, "inl").ready, total);
  auto oldest = Claim(*s, "inl", kT0 + 1000);
  ASSERT_TRUE(oldest.has_value());
  EXPECT_EQ(oldest->id, first);
}

// With inline_calls off (codeq serve with a single I/O thread) every call goes to the engine
// thread.
TEST_F(EmbeddedStoreTest, InlineCallsCanBeTurnedOff) {
  EmbeddedOptions o;
  o.data_dir = dir_.path();
  o.timer_interval_ms = 0;
  o.inline_calls = false;
  auto s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok()) << s.status().message();
  Create(**s, "off");
  ASSERT_TRUE(Claim(**s, "off", kT0 + 1000).has_value());
  EXPECT_EQ((*s)->InlineOpCount(), 0u);
  EXPECT_EQ((*s)->WriteGroupCount(), 2u);
}

TEST_F(EmbeddedStoreTest, ManualClockExpiresLeasesInstantlyForClaimTimeRepair) {
  ManualClock clock(kT0);
  auto s = Open(true, 0, &clock);
  ASSERT_TRUE(s);
  Create(*s, "mc", 0, clock.NowMs());
  std::string id = ClaimId(*s, "mc", clock.NowMs(), 3600);
  clock.Advance(3600 * 1000 - 1);
  EXPECT_TRUE(Repair(*s, "mc", clock.NowMs()).expired_commands.empty());
  clock.Advance(1);
  EXPECT_EQ(Repair(*s, "mc", clock.NowMs()).expired_commands.size(), 1u);
  EXPECT_EQ(ClaimId(*s, "mc", clock.NowMs()), id);
}

struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::string>> calls;
  std::vector<std::chrono::system_clock::time_point> at;
  std::vector<RepairOutcome> repairs;

  Store::ReadyListener Listener() {
    return [this](const std::string& tenant, const std::string& command) {
      std::lock_guard lock(mu);
      calls.emplace_back(tenant, command);
      at.push_back(std::chrono::system_clock::now());
      cv.notify_all();
    };
  }
  EmbeddedStore::RepairListener OnRepaired() {
    return [this](const RepairOutcome& r) {
      std::lock_guard lock(mu);
      repairs.push_back(r);
      cv.notify_all();
    };
  }
  bool WaitCalls(size_t n, milliseconds timeout) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return calls.size() >= n; });
  }
};

TEST_F(EmbeddedStoreTest, BackgroundRepairRequeuesExpiredLeasesWithManualClockAndWakesListener) {
  ManualClock clock(kT0);
  auto s = Open(true, /*timer_ms=*/10, &clock);
  ASSERT_TRUE(s);
  Recorder rec;
  s->SetReadyListener(rec.Listener());
  Create(*s, "bg", 0, clock.NowMs(), 0, 5, "acme");
  auto t = Claim(*s, "bg", clock.NowMs(), 30, "w", "acme");
  ASSERT_TRUE(t.has_value());

  clock.Advance(31'000);
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_TRUE(rec.calls.empty()) << "no repair in the background before SetBackgroundRepair";
  EXPECT_EQ(Stats(*s, "bg", "acme").in_progress, 1);

  s->SetBackgroundRepair([](int) { return int64_t{0}; }, 5, rec.OnRepaired());
  ASSERT_TRUE(rec.WaitCalls(1, milliseconds(2000)));
  {
    std::unique_lock lock(rec.mu);
    ASSERT_TRUE(rec.cv.wait_for(lock, milliseconds(2000), [&] { return !rec.repairs.empty(); }));
    EXPECT_EQ(rec.calls[0], (std::pair<std::string, std::string>{"acme", "bg"}));
    ASSERT_EQ(rec.repairs.size(), 1u);
    EXPECT_EQ(rec.repairs[0].expired_commands, std::vector<std::string>{"bg"});
  }
  QueueStats st = Stats(*s, "bg", "acme");
  EXPECT_EQ(st.in_progress, 0);
  EXPECT_EQ(st.ready, 1);
  auto again = Claim(*s, "bg", clock.NowMs(), 30, "w2", "acme");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->id, t->id);
  EXPECT_EQ(again->attempts, 2);
}

TEST_F(EmbeddedStoreTest, BackgroundRepairDeadLettersAtMaxAttempts) {
  ManualClock clock(kT0);
  auto s = Open(true, 10, &clock);
  ASSERT_TRUE(s);
  Recorder rec;
  s->SetBackgroundRepair([](int) { return int64_t{0}; }, 5, rec.OnRepaired());
  Create(*s, "bgdlq", 0, clock.NowMs(), 0, /*max_attempts=*/1);
  std::string id = ClaimId(*s, "bgdlq", clock.NowMs(), 5);
  clock.Advance(6'000);
  {
    std::unique_lock lock(rec.mu);
    ASSERT_TRUE(rec.cv.wait_for(lock, milliseconds(2000), [&] { return !rec.repairs.empty(); }));
    ASSERT_EQ(rec.repairs[0].dead_lettered.size(), 1u);
    EXPECT_EQ(rec.repairs[0].dead_lettered[0].id, id);
    EXPECT_EQ(rec.repairs[0].dead_lettered[0].error, "LEASE_EXPIRED");
  }
  EXPECT_EQ(Stats(*s, "bgdlq").dlq, 1);
  auto res = Await(s->GetResult("", id));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, "FAILED");
  EXPECT_EQ(res->error, "LEASE_EXPIRED");
}

TEST_F(EmbeddedStoreTest, BackgroundDeadLetterQueuesResultCallback) {  // D11, D16
  ManualClock clock(kT0);
  auto s = Open(true, 10, &clock);
  ASSERT_TRUE(s);
  Recorder rec;
  s->SetBackgroundRepair([](int) { return int64_t{0}; }, 5, rec.OnRepaired());
  CreateTaskInput in;
  in.task = NewTask("bghook", 0, /*max_attempts=*/1, "acme", clock.NowMs());
  in.task.webhook = "https://hooks.example/bg";
  in.now = At(clock.NowMs());
  in.visible_at_sec = clock.NowMs() / 1000;
  ASSERT_TRUE(Await(s->CreateTask(in)).ok());
  ASSERT_TRUE(Claim(*s, "bghook", clock.NowMs(), 5, "w", "acme").has_value());
  EXPECT_TRUE(Await(s->ClaimDueCallbacks(clock.NowMs() + 60'000, 1000, 10))->empty());
  clock.Advance(6'000);
  {
    std::unique_lock lock(rec.mu);
    ASSERT_TRUE(rec.cv.wait_for(lock, milliseconds(2000), [&] { return !rec.repairs.empty(); }));
  }
  auto got = Await(s->ClaimDueCallbacks(clock.NowMs(), 1000, 10));
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].task_id, in.task.id);
  EXPECT_EQ((*got)[0].url, "https://hooks.example/bg");
  EXPECT_EQ((*got)[0].tenant, "acme");
}

TEST_F(EmbeddedStoreTest, BackgroundPromotionWakesReadyListenerWithin100ms) {
  auto s = Open(true, /*timer_ms=*/200);  // system clock; the timer also wakes at due times
  ASSERT_TRUE(s);
  Recorder rec;
  s->SetReadyListener(rec.Listener());
  const int64_t now_ms = SystemClock().NowMs();
  const int64_t visible_sec = now_ms / 1000 + 1;  // due at the next second boundary
  Create(*s, "soon", 0, now_ms, visible_sec, 5, "acme");
  ASSERT_TRUE(rec.WaitCalls(1, milliseconds(3000)));
  std::lock_guard lock(rec.mu);
  EXPECT_EQ(rec.calls[0], (std::pair<std::string, std::string>{"acme", "soon"}));
  const int64_t called_ms =
      std::chrono::duration_cast<milliseconds>(rec.at[0].time_since_epoch()).count();
  EXPECT_GE(called_ms, visible_sec * 1000);
  EXPECT_LE(called_ms - visible_sec * 1000, 100) << "listener called too late";
  EXPECT_EQ(Stats(*s, "soon", "acme").ready, 1);
}

TEST_F(EmbeddedStoreTest, NackWithoutDelayIsPromotedInTheBackgroundAtOnce) {
  auto s = Open(true, 200);
  ASSERT_TRUE(s);
  Recorder rec;
  s->SetReadyListener(rec.Listener());
  const int64_t now_ms = SystemClock().NowMs();
  Create(*s, "nk", 0, now_ms);
  std::string id = ClaimId(*s, "nk", now_ms);
  NackInput nack;
  nack.task_id = id;
  nack.worker_id = "w";
  nack.now = At(SystemClock().NowMs());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(Await(s->Nack(nack)).ok());
  ASSERT_TRUE(rec.WaitCalls(1, milliseconds(2000)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(100));
  EXPECT_EQ(Stats(*s, "nk").ready, 1);
}

TEST_F(EmbeddedStoreTest, DetachedListenerIsNotCalled) {
  auto s = Open(true, 200);
  ASSERT_TRUE(s);
  Recorder rec;
  s->SetReadyListener(rec.Listener());
  s->SetReadyListener(nullptr);
  const int64_t now_ms = SystemClock().NowMs();
  Create(*s, "quiet", 0, now_ms, now_ms / 1000 + 1);
  std::this_thread::sleep_for(milliseconds(1300));
  EXPECT_EQ(Stats(*s, "quiet").ready, 1);  // promoted all the same
  std::lock_guard lock(rec.mu);
  EXPECT_TRUE(rec.calls.empty());
}

// --- the data directory lock ---------------------------------------------------------------------

TEST_F(EmbeddedStoreTest, SecondOpenOnTheSameDirectoryFailsWithAClearMessage) {
  auto first = Open();
  ASSERT_TRUE(first);
  EmbeddedOptions o;
  o.data_dir = dir_.path();
  o.timer_interval_ms = 0;
  auto second = EmbeddedStore::Open(o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(second.status().message(),
            "data directory " + dir_.path() + " is in use by another codeq process");

  // The lock is released on close.
  first.reset();
  auto third = EmbeddedStore::Open(o);
  EXPECT_TRUE(third.ok()) << third.status().message();
}

TEST_F(EmbeddedStoreTest, AnotherProcessHoldingTheDirectoryIsRefused) {
  CODEQ_SKIP_IF_FORK_UNSUPPORTED();
  // The child opens the store and keeps it open until told to stop; this process then tries.
  int ready[2], stop[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(stop), 0);
  std::fflush(nullptr);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    ::close(stop[1]);
    EmbeddedOptions o;
    o.data_dir = dir_.path();
    o.timer_interval_ms = 0;
    auto s = EmbeddedStore::Open(o);
    char c = s.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    (void)!::read(stop[0], &c, 1);
    ::_exit(0);
  }
  ::close(ready[1]);  // so a child that dies early gives EOF instead of a hang
  ::close(stop[0]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  EmbeddedOptions o;
  o.data_dir = dir_.path();
  o.timer_interval_ms = 0;
  auto mine = EmbeddedStore::Open(o);
  EXPECT_FALSE(mine.ok());
  EXPECT_EQ(mine.status().message(), "data directory " + dir_.path() + " is in use by another codeq process");
  (void)!::write(stop[1], "x", 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(ready[0]);
  ::close(stop[1]);
  auto after = EmbeddedStore::Open(o);  // the child is gone: free again
  EXPECT_TRUE(after.ok()) << after.status().message();
}

// --- batch claims and the record cache --------------------------------------------------------

// On the embedded store ClaimTasks is one engine call: one write group, one write; the leases
// it wrote survive a reopen. (The claim order is checked for both backends in StoreContract.)
TEST_F(EmbeddedStoreTest, ClaimTasksIsOneWriteGroupAndItsLeasesSurviveAReopen) {
  auto s = Open();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Create(*s, "many", i % 2 == 0 ? 0 : 5).id);
  ClaimInput in;
  in.worker_id = "w";
  in.commands = {"many"};
  in.lease_seconds = 30;
  in.now = At(kT0 + 1000);
  const uint64_t groups_before = s->WriteGroupCount();
  auto claimed = Await(s->ClaimTasks(in, 10));
  ASSERT_TRUE(claimed.ok()) << claimed.status().message();
  EXPECT_EQ(claimed->size(), 5u);
  EXPECT_EQ(s->WriteGroupCount(), groups_before + 1);
  EXPECT_EQ(Stats(*s, "many").in_progress, 5);
  s.reset();
  s = Open();
  EXPECT_EQ(Stats(*s, "many").in_progress, 5);
  EXPECT_EQ(Stats(*s, "many").ready, 0);
  for (const std::string& id : ids) {
    auto t = Await(s->GetTask("", id));
    ASSERT_TRUE(t.ok()) << t.status().message();
    EXPECT_EQ(t->status, "IN_PROGRESS") << id;
    EXPECT_EQ(t->attempts, 1) << id;
  }
}

// More tasks than the engine's record cache holds, and one too large to be kept in it: every
// transition still reads the state the previous one wrote, and the disk agrees after a reopen.
TEST_F(EmbeddedStoreTest, TransitionsSeeTheirOwnStateBeyondTheRecordCacheBounds) {
  auto s = Open(/*sync=*/false);
  constexpr int kTasks = 5000;
  std::set<std::string> created;
  CreateTaskInput big;
  big.task = NewTask("bounds");
  big.task.payload = "\"" + std::string(100 << 10, 'x') + "\"";
  big.now = At(kT0);
  big.visible_at_sec = kT0 / 1000;
  ASSERT_TRUE(Await(s->CreateTask(big)).ok());
  created.insert(big.task.id);
  for (int i = 1; i < kTasks; ++i) created.insert(Create(*s, "bounds").id);
  ClaimInput in;
  in.worker_id = "w";
  in.commands = {"bounds"};
  in.lease_seconds = 30;
  in.now = At(kT0 + 1000);
  std::vector<Task> claimed;
  for (int round = 0; round < 6; ++round) {
    auto r = Await(s->ClaimTasks(in, 1000));
    ASSERT_TRUE(r.ok()) << r.status().message();
    claimed.insert(claimed.end(), r->begin(), r->end());
  }
  ASSERT_EQ(claimed.size(), static_cast<size_t>(kTasks));
  EXPECT_EQ(claimed.front().id, big.task.id);  // FIFO: created first
  EXPECT_EQ(claimed.front().payload, big.task.payload);
  std::set<std::string> seen;
  for (const Task& t : claimed) {
    EXPECT_EQ(t.attempts, 1);
    EXPECT_TRUE(seen.insert(t.id).second) << "claimed twice: " << t.id;
    SubmitResultInput res{"", t.id, "w", {}, At(kT0 + 2000)};
    res.result.task_id = t.id;
    res.result.status = "COMPLETED";
    res.result.completed_at = res.now.text;
    auto done = Await(s->SubmitResult(res));
    ASSERT_TRUE(done.ok()) << done.status().message();
    EXPECT_EQ(done->status, "COMPLETED");
    EXPECT_EQ(done->attempts, 1);
  }
  EXPECT_EQ(seen, created);
  s.reset();
  s = Open(/*sync=*/false);
  EXPECT_EQ(Stats(*s, "bounds").in_progress, 0);
  EXPECT_EQ(Stats(*s, "bounds").ready, 0);
  for (const std::string& id : {*created.begin(), big.task.id, *created.rbegin()}) {
    auto t = Await(s->GetTask("", id));
    ASSERT_TRUE(t.ok()) << t.status().message();
    EXPECT_EQ(t->status, "COMPLETED");
  }
}

}  // namespace
}  // namespace codeq::contract
