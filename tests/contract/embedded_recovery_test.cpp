// Embedded-only: a damaged data directory refuses to open with a clear message (never a silently
// partial queue), and every record written by normal operation passes the recovery checks.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "contract_fixture.h"
#include "embedded_test_util.h"

namespace codeq::contract {
namespace {

namespace fs = std::filesystem;

class EmbeddedRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  EmbeddedOptions Options() const {
    EmbeddedOptions o;
    o.data_dir = dir_.path();
    o.timer_interval_ms = 0;
    return o;
  }

  // Fills the store with tasks in every state and closes it (the close flushes them to an SST).
  void Populate(int n = 300) {
    auto s = EmbeddedStore::Open(Options());
    ASSERT_TRUE(s.ok()) << s.status().message();
    Store& st = **s;
    for (int i = 0; i < n; ++i) {
      CreateTaskInput in;
      Now now = RealNow();
      in.task.id = NewId();
      in.task.command = i % 2 ? "alpha" : "beta";
      in.task.payload = R"({"i":)" + std::to_string(i) + "}";
      in.task.priority = i % 10;
      in.task.status = "PENDING";
      in.task.max_attempts = 1;
      in.task.tenant_id = i % 3 ? "acme" : "";
      in.task.created_at = in.task.updated_at = now.text;
      in.now = now;
      in.visible_at_sec = now.seconds() + (i % 5 == 0 ? 3600 : 0);
      in.idempotency_key = i % 7 == 0 ? "k" + std::to_string(i) : "";
      ASSERT_TRUE(Await(st.CreateTask(in)).ok());
    }
    for (const std::string tenant : {"", "acme"}) {
      for (int i = 0; i < 10; ++i) {
        ClaimInput c{"w", tenant, {"alpha", "beta"}, 60, 200, RealNow()};
        auto t = Await(st.ClaimTask(c));
        ASSERT_TRUE(t.ok()) << t.status().message();
        if (!t->has_value()) break;
        if (i % 3 == 0) {
          SubmitResultInput r{tenant, (*t)->id, "w", {}, RealNow()};
          r.result.status = "COMPLETED";
          ASSERT_TRUE(Await(st.SubmitResult(r)).ok());
        } else if (i % 3 == 1) {
          NackInput nk;
          nk.tenant = tenant;
          nk.task_id = (*t)->id;
          nk.worker_id = "w";
          nk.now = RealNow();
          ASSERT_TRUE(Await(st.Nack(nk)).ok());  // max attempts 1: DLQ
        }
      }
    }
  }

  std::vector<fs::path> Files(const std::string& prefix_or_ext) const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(fs::path(dir_.path()) / "db")) {
      const std::string name = e.path().filename().string();
      if (name.rfind(prefix_or_ext, 0) == 0 || e.path().extension() == prefix_or_ext) out.push_back(e.path());
    }
    return out;
  }

  std::string OpenError() {
    auto s = EmbeddedStore::Open(Options());
    if (s.ok()) return "";
    std::printf("    Open: %s\n", s.status().message().c_str());
    return s.status().message();
  }

  // Writes raw records next to the store's (the store must be closed).
  void RawPut(const std::string& key, const std::string& value, bool erase = false) {
    rocksdb::DB* db = nullptr;
    rocksdb::Options o;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.path() + "/db", &db).ok());
    if (erase) {
      ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), key).ok());
    } else {
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, value).ok());
    }
    delete db;
  }

  std::string Damaged() const { return "data directory " + dir_.path() + " is damaged: "; }

  TempDir dir_;
};

TEST_F(EmbeddedRecoveryTest, EverythingNormalOperationWritesPassesTheChecks) {
  Populate();
  auto s = EmbeddedStore::Open(Options());
  ASSERT_TRUE(s.ok()) << s.status().message();
  // Cleanup (with includeActive) deletes tasks with their keys; what remains still checks out.
  CleanupInput c;
  c.before_sec = RealNow().seconds() + 3 * 86400;
  c.include_active = true;
  c.limit = 120;
  c.now = RealNow();
  auto n = Await((*s)->Cleanup(c));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 120);
  s = Result<std::shared_ptr<EmbeddedStore>>(Internal("closed"));
  auto again = EmbeddedStore::Open(Options());
  ASSERT_TRUE(again.ok()) << again.status().message();
  int64_t total = 0;
  for (const std::string tenant : {"", "acme"}) {
    for (const std::string cmd : {"alpha", "beta"}) {
      auto st = Await((*again)->Stats(tenant, cmd));
      ASSERT_TRUE(st.ok());
      total += st->ready + st->delayed + st->in_progress + st->dlq;
    }
  }
  EXPECT_LE(total, 300 - 120);
}

TEST_F(EmbeddedRecoveryTest, TruncatedSstFailsOpen) {
  Populate();
  auto ssts = Files(".sst");
  ASSERT_FALSE(ssts.empty());
  fs::resize_file(ssts[0], fs::file_size(ssts[0]) / 2);
  std::string err = OpenError();
  EXPECT_EQ(err.rfind(Damaged(), 0), 0u) << err;
}

TEST_F(EmbeddedRecoveryTest, CorruptSstBlockFailsOpen) {
  Populate();
  auto ssts = Files(".sst");
  ASSERT_FALSE(ssts.empty());
  {
    std::fstream f(ssts[0], std::ios::in | std::ios::out | std::ios::binary);
    for (std::streamoff off : {std::streamoff(64), std::streamoff(65), std::streamoff(66)}) {
      f.seekg(off);
      char c = 0;
      f.read(&c, 1);
      c = static_cast<char>(c ^ 0x5a);
      f.seekp(off);
      f.write(&c, 1);
    }
  }
  std::string err = OpenError();
  EXPECT_EQ(err.rfind(Damaged(), 0), 0u) << err;
}

TEST_F(EmbeddedRecoveryTest, CorruptManifestFailsOpen) {
  Populate();
  auto manifests = Files("MANIFEST-");
  ASSERT_FALSE(manifests.empty());
  for (const auto& m : manifests) {
    std::fstream f(m, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    f.write("\xde\xad\xbe\xef\xde\xad\xbe\xef", 8);
  }
  std::string err = OpenError();
  EXPECT_EQ(err.rfind(Damaged(), 0), 0u) << err;
}

TEST_F(EmbeddedRecoveryTest, MissingCurrentFailsOpenInsteadOfStartingEmpty) {
  Populate();
  fs::remove(fs::path(dir_.path()) / "db" / "CURRENT");
  EXPECT_EQ(OpenError(), Damaged() + "db/CURRENT is missing");
}

TEST_F(EmbeddedRecoveryTest, UndecodableTaskRecordFailsOpen) {
  Populate(20);
  RawPut(std::string("t") + std::string(16, '\x01'), "garbage");
  std::string err = OpenError();
  EXPECT_EQ(err.rfind(Damaged() + "undecodable task record 01010101-0101-0101-0101-010101010101", 0), 0u) << err;
}

TEST_F(EmbeddedRecoveryTest, MalformedTaskJsonFailsOpen) {
  Populate(20);
  // A valid envelope (READY, tier 0) around text that is not a task.
  std::string value(27, '\0');
  value[0] = 1;
  value[1] = 1;
  value.push_back('\0');  // empty idempotency key
  value += "{not json";
  RawPut(std::string("t") + std::string(16, '\x02'), value);
  std::string err = OpenError();
  EXPECT_NE(err.find("undecodable task record"), std::string::npos) << err;
}

TEST_F(EmbeddedRecoveryTest, LostRetentionIndexEntryFailsOpen) {
  Populate(20);
  // Drop one retention key: find any 'x' key with a raw iterator.
  std::string victim;
  {
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.path() + "/db", &db).ok());
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    it->Seek("x");
    ASSERT_TRUE(it->Valid());
    victim = it->key().ToString();
    it.reset();
    delete db;
  }
  RawPut(victim, "", /*erase=*/true);
  EXPECT_EQ(OpenError(), Damaged() + "retention index does not match the task records");
}

TEST_F(EmbeddedRecoveryTest, OutboxAndSubscriptionsAreRebuiltOnOpen) {
  Populate(5);
  const int64_t now = RealNow().seconds();
  Subscription sub;
  sub.id = NewId();
  sub.event_types = {"Alpha"};
  sub.expires_at_sec = now + 300;
  sub.expires_at = FormatTimestamp((now + 300) * 1000);
  sub.tenant_id = "acme";
  {
    auto s = EmbeddedStore::Open(Options());
    ASSERT_TRUE(s.ok()) << s.status().message();
    ASSERT_TRUE(Await((*s)->CreateSubscription(sub)).ok());
  }
  auto s = EmbeddedStore::Open(Options());
  ASSERT_TRUE(s.ok()) << s.status().message();
  auto active = Await((*s)->ActiveSubscriptions("alpha", now, 10));
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].id, sub.id);
  EXPECT_EQ((*active)[0].tenant_id, "acme");
  EXPECT_EQ(*Await((*s)->CountActiveSubscriptions("ALPHA", now)), 1);
}

TEST_F(EmbeddedRecoveryTest, UndecodableOutboxRecordFailsOpen) {
  Populate(5);
  RawPut(std::string("w") + std::string(16, '\x03'), "garbage");
  std::string err = OpenError();
  EXPECT_NE(err.find("bad outbox record"), std::string::npos) << err;
}

TEST_F(EmbeddedRecoveryTest, UndecodableSubscriptionRecordFailsOpen) {
  Populate(5);
  RawPut("sabc", R"({"id":"other","expiresAt":"2026-01-25T10:00:00Z"})");  // id does not match its key
  std::string err = OpenError();
  EXPECT_NE(err.find("bad subscription record"), std::string::npos) << err;
}

TEST_F(EmbeddedRecoveryTest, UnknownRecordTypeFailsOpen) {
  Populate(5);
  RawPut("zzz", "1");
  std::string err = OpenError();
  EXPECT_NE(err.find("unknown record"), std::string::npos) << err;
}

TEST_F(EmbeddedRecoveryTest, CorruptionInsideTheWalFailsOpenInsteadOfDroppingTheRest) {
  CODEQ_SKIP_IF_FORK_UNSUPPORTED();
  // A child writes tasks and dies without closing: they exist only in the WAL.
  int code = RunInChild([&]() -> int {
    auto s = EmbeddedStore::Open(Options());
    if (!s.ok()) return 1;
    for (int i = 0; i < 200; ++i) {
      CreateTaskInput in;
      Now now = RealNow();
      in.task.id = NewId();
      in.task.command = "wal";
      in.task.payload = R"({"pad":")" + std::string(200, 'p') + R"("})";
      in.task.status = "PENDING";
      in.task.created_at = in.task.updated_at = now.text;
      in.now = now;
      in.visible_at_sec = now.seconds();
      if (!Await((*s)->CreateTask(in)).ok()) return 2;
    }
    new std::shared_ptr<EmbeddedStore>(*s);  // left open
    return 0;
  });
  ASSERT_EQ(code, 0);
  auto logs = Files(".log");
  ASSERT_FALSE(logs.empty());
  fs::path wal = logs.back();
  for (const auto& l : logs) {
    if (fs::file_size(l) > fs::file_size(wal)) wal = l;
  }
  const auto size = fs::file_size(wal);
  ASSERT_GT(size, 20000u);
  {
    std::fstream f(wal, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.write("\xde\xad\xbe\xef", 4);
  }
  std::string err = OpenError();
  EXPECT_EQ(err.rfind(Damaged(), 0), 0u) << err;
}

TEST_F(EmbeddedRecoveryTest, LeftoverLockFileOfAnInterruptedCreationStartsFresh) {
  fs::create_directories(fs::path(dir_.path()) / "db");
  std::ofstream(fs::path(dir_.path()) / "db" / "LOCK").put('\0');
  auto s = EmbeddedStore::Open(Options());
  EXPECT_TRUE(s.ok()) << s.status().message();
}

}  // namespace
}  // namespace codeq::contract
