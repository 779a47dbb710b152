// Embedded-only: the on-disk layout (store/embedded/layout.h). The retention index is lazy (a
// task's 'x' key is a lower bound of its deadline, moved by cleanup or when the deadline moves
// earlier), cleanup scans those keys on disk and in the hash memtable alike, and a layout "1"
// directory opens, keeps every task and is upgraded to layout "2".
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "contract_fixture.h"
#include "embedded_test_util.h"
#include "store/embedded/layout.h"

namespace codeq::contract {
namespace {

using embedded::ParseRetentionKey;
using embedded::ParseUuid;
using embedded::Uuid;

constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kDay = 86400;

class EmbeddedLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  std::shared_ptr<EmbeddedStore> Open() {
    EmbeddedOptions o;
    o.data_dir = dir_.path();
    o.timer_interval_ms = 0;
    auto s = EmbeddedStore::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? *s : nullptr;
  }

  static Task Create(Store& s, const std::string& command, int64_t now_ms) {
    CreateTaskInput in;
    in.task.id = NewId();
    in.task.command = command;
    in.task.payload = R"({"n":1})";
    in.task.status = "PENDING";
    in.task.max_attempts = 5;
    in.task.created_at = in.task.updated_at = FormatTimestamp(now_ms);
    in.now = At(now_ms);
    in.visible_at_sec = now_ms / 1000;
    auto r = Await(s.CreateTask(in));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return in.task;
  }

  static std::string Claim(Store& s, const std::string& command, int64_t now_ms) {
    ClaimInput in;
    in.worker_id = "w";
    in.commands = {command};
    in.lease_seconds = 3600;  // outlasts every later step of these tests
    in.now = At(now_ms);
    auto r = Await(s.ClaimTask(in));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() && r->has_value() ? (*r)->id : "";
  }

  static Status Complete(Store& s, const std::string& id, int64_t now_ms) {
    SubmitResultInput in{"", id, "w", {}, At(now_ms)};
    in.result.status = "COMPLETED";
    return Await(s.SubmitResult(in)).status();
  }

  static Result<int64_t> Cleanup(Store& s, int64_t before_sec, bool include_active = false) {
    CleanupInput in;
    in.before_sec = before_sec;
    in.include_active = include_active;
    in.now = At(kT0);
    return Await(s.Cleanup(in));
  }

  // Raw access to the closed store's RocksDB database.
  std::unique_ptr<rocksdb::DB> Raw() {
    rocksdb::DB* db = nullptr;
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::Status st = rocksdb::DB::Open(o, dir_.path() + "/db", &db);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return std::unique_ptr<rocksdb::DB>(db);
  }

  // The deadlines (epoch s) of every retention key of task `id`, in key order.
  std::vector<int64_t> RetentionKeys(const std::string& id) {
    std::vector<int64_t> out;
    auto db = Raw();
    if (!db) return out;
    const Uuid want = *ParseUuid(id);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek("x"); it->Valid() && it->key().starts_with("x"); it->Next()) {
      int64_t sec = 0;
      Uuid got{};
      if (ParseRetentionKey(std::string_view(it->key().data(), it->key().size()), &sec, &got) && got == want) {
        out.push_back(sec);
      }
    }
    return out;
  }

  TempDir dir_;
};

TEST_F(EmbeddedLayoutTest, RetentionKeyStaysAtItsFirstDeadlineUntilCleanupMovesIt) {
  const int64_t t0 = kT0 / 1000;
  std::string id;
  {
    auto s = Open();
    ASSERT_TRUE(s);
    id = Create(*s, "lazy", kT0).id;
    ASSERT_EQ(Claim(*s, "lazy", kT0 + 1000'000), id);  // deadline now t0 + 1000 + 24 h
    ASSERT_TRUE(Complete(*s, id, kT0 + 2000'000).ok());  // and now t0 + 2000 + 24 h
  }
  // The claim and the result did not rewrite the key: it is still at the create's deadline.
  EXPECT_EQ(RetentionKeys(id), (std::vector<int64_t>{t0 + kDay}));
  {
    auto s = Open();  // recovery accepts a key that lags behind its task's deadline
    ASSERT_TRUE(s);
    // Past the key, before the task's true deadline: nothing is deleted, the key moves on.
    auto n = Cleanup(*s, t0 + kDay + 1500);
    ASSERT_TRUE(n.ok()) << n.status().message();
    EXPECT_EQ(*n, 0);
    EXPECT_TRUE(Await(s->GetTask("", id)).ok());
  }
  EXPECT_EQ(RetentionKeys(id), (std::vector<int64_t>{t0 + 2000 + kDay}));
  {
    auto s = Open();
    ASSERT_TRUE(s);
    auto n = Cleanup(*s, t0 + 2000 + kDay);
    ASSERT_TRUE(n.ok()) << n.status().message();
    EXPECT_EQ(*n, 1);
    EXPECT_EQ(Await(s->GetTask("", id)).status().code(), StatusCode::kNotFound);
  }
  EXPECT_TRUE(RetentionKeys(id).empty());
}

TEST_F(EmbeddedLayoutTest, CleanupOfActiveTasksGoesByTheirTrueDeadline) {
  const int64_t t0 = kT0 / 1000;
  std::string id;
  {
    auto s = Open();
    ASSERT_TRUE(s);
    id = Create(*s, "active", kT0).id;
    ASSERT_EQ(Claim(*s, "active", kT0 + 1000'000), id);  // IN_PROGRESS, deadline t0 + 1000 + 24 h
    auto n = Cleanup(*s, t0 + kDay + 500, /*include_active=*/true);
    ASSERT_TRUE(n.ok()) << n.status().message();
    EXPECT_EQ(*n, 0);
    auto t = Await(s->GetTask("", id));
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->status, "IN_PROGRESS");
    n = Cleanup(*s, t0 + 1000 + kDay, /*include_active=*/true);
    ASSERT_TRUE(n.ok()) << n.status().message();
    EXPECT_EQ(*n, 1);
  }
  EXPECT_TRUE(RetentionKeys(id).empty());
}

TEST_F(EmbeddedLayoutTest, RetentionKeyMovesWhenTheDeadlineMovesEarlier) {
  const int64_t t0 = kT0 / 1000;
  std::string id;
  {
    auto s = Open();
    ASSERT_TRUE(s);
    id = Create(*s, "earlier", kT0 + 5000'000).id;  // deadline t0 + 5000 + 24 h
    ASSERT_EQ(Claim(*s, "earlier", kT0), id);       // the clock stepped back: t0 + 24 h
  }
  EXPECT_EQ(RetentionKeys(id), (std::vector<int64_t>{t0 + kDay}));
  auto s = Open();
  ASSERT_TRUE(s);
  auto n = Cleanup(*s, t0 + kDay, /*include_active=*/true);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 1);
}

// The memtable is a hash table of buckets (engine_open.cpp) and the retention keys share one
// bucket: cleanup's ordered scan of them must see the keys on disk (flushed when the store
// closed) and in the memtable together, in deadline order, and stop at its upper bound.
TEST_F(EmbeddedLayoutTest, CleanupScansRetentionKeysOnDiskAndInTheMemtableInDeadlineOrder) {
  const int64_t t0 = kT0 / 1000;
  constexpr int kEach = 300;
  std::vector<std::string> early, late;
  {
    auto s = Open();
    ASSERT_TRUE(s);
    for (int i = 0; i < kEach; ++i) {
      early.push_back(Create(*s, "disk", kT0).id);
      ASSERT_EQ(Claim(*s, "disk", kT0), early.back());
      ASSERT_TRUE(Complete(*s, early.back(), kT0).ok());
    }
  }  // closed: flushed to an SST file
  auto s = Open();
  ASSERT_TRUE(s);
  for (int i = 0; i < kEach; ++i) {
    late.push_back(Create(*s, "mem", kT0 + 10'000'000).id);  // deadline t0 + 10 000 + 24 h
    ASSERT_EQ(Claim(*s, "mem", kT0 + 10'000'000), late.back());
    ASSERT_TRUE(Complete(*s, late.back(), kT0 + 10'000'000).ok());
  }
  auto n = Cleanup(*s, t0 + kDay + 5000);  // between the two groups' deadlines
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, kEach);
  for (const auto& id : early) ASSERT_EQ(Await(s->GetTask("", id)).status().code(), StatusCode::kNotFound);
  for (const auto& id : late) ASSERT_TRUE(Await(s->GetTask("", id)).ok()) << id;
  n = Cleanup(*s, t0 + kDay + 10'000);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, kEach);
  for (const auto& id : late) ASSERT_EQ(Await(s->GetTask("", id)).status().code(), StatusCode::kNotFound);
  s.reset();
  s = Open();  // recovery cross-checks the retention keys against the task records
  ASSERT_TRUE(s);
  EXPECT_EQ(Await(s->GetTask("", early.front())).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Await(s->GetTask("", late.back())).status().code(), StatusCode::kNotFound);
}

// A layout "1" directory as a build before layout "2" left it: version-1 envelopes (no indexed
// deadline) and 'x' keys exactly at the deadlines.
TEST_F(EmbeddedLayoutTest, Layout1DirectoryOpensWithEveryTaskAndIsUpgraded) {
  const int64_t t0 = kT0 / 1000;
  auto v1_task = [](const Task& t, embedded::State state, int64_t retention_sec, uint64_t seq) {
    std::string v;
    v.push_back(1);  // envelope version 1
    v.push_back(static_cast<char>(state));
    v.push_back(static_cast<char>(t.priority));
    for (uint64_t x : {seq, uint64_t{0}, static_cast<uint64_t>(retention_sec)}) {
      for (int i = 0; i < 8; ++i) v.push_back(static_cast<char>((x >> (8 * i)) & 0xff));
    }
    v.push_back('\0');  // no idempotency key
    v += TaskToJsonText(t);
    return v;
  };
  Task ready;
  ready.id = NewId();
  ready.command = "old";
  ready.payload = R"({"v":1})";
  ready.status = "PENDING";
  ready.max_attempts = 5;
  ready.created_at = ready.updated_at = FormatTimestamp(kT0);
  Task done = ready;
  done.id = NewId();
  done.status = "COMPLETED";
  {
    auto db = Raw();
    ASSERT_TRUE(db);
    rocksdb::WriteBatch b;
    b.Put(std::string(embedded::kFormatKey), "1");
    b.Put(embedded::CommandKey("", "old"), "");
    const Uuid ready_id = *ParseUuid(ready.id), done_id = *ParseUuid(done.id);
    b.Put(embedded::TaskKey(ready_id), v1_task(ready, embedded::State::kReady, t0 + kDay, 1));
    b.Put(embedded::RetentionKey(t0 + kDay, ready_id), embedded::EncodeRetentionValue(embedded::State::kReady, ""));
    b.Put(embedded::TaskKey(done_id), v1_task(done, embedded::State::kDone, t0 + 10 + kDay, 2));
    b.Put(embedded::RetentionKey(t0 + 10 + kDay, done_id),
          embedded::EncodeRetentionValue(embedded::State::kDone, ""));
    ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &b).ok());
  }
  {
    auto s = Open();
    ASSERT_TRUE(s);
    auto got = Await(s->GetTask("", done.id));
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(got->status, "COMPLETED");
    EXPECT_EQ(got->payload, R"({"v":1})");
    ASSERT_EQ(Claim(*s, "old", kT0 + 20'000), ready.id);
  }
  {
    auto db = Raw();
    ASSERT_TRUE(db);
    std::string marker;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), std::string(embedded::kFormatKey), &marker).ok());
    EXPECT_EQ(marker, "2");
  }
  // The claimed task was rewritten as version 2; its key stayed at the version-1 deadline.
  EXPECT_EQ(RetentionKeys(ready.id), (std::vector<int64_t>{t0 + kDay}));
  auto s = Open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(Complete(*s, ready.id, kT0 + 30'000).ok());
  auto n = Cleanup(*s, t0 + 30 + kDay);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 2);
}

TEST_F(EmbeddedLayoutTest, UnknownLayoutMarkerIsRefused) {
  {
    auto db = Raw();
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), std::string(embedded::kFormatKey), "3").ok());
  }
  EmbeddedOptions o;
  o.data_dir = dir_.path();
  o.timer_interval_ms = 0;
  auto s = EmbeddedStore::Open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("unsupported layout version '3'"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace codeq::contract
