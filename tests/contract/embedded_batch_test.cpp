// The engine's write batch (store/embedded/batch.h) against a real RocksDB database: reads see
// the batch's own writes, the last write of a key wins, and Write leaves the database exactly as
// applying every write in order would.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "embedded_test_util.h"
#include "store/embedded/batch.h"

namespace codeq::contract {
namespace {

class BatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.path() + "/db", &db).ok());
    db_.reset(db);
  }

  std::optional<std::string> DbValue(const std::string& key) {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &v);
    if (s.IsNotFound()) return std::nullopt;
    EXPECT_TRUE(s.ok()) << s.ToString();
    return v;
  }

  std::optional<std::string> BatchValue(const embedded::Batch& b, const std::string& key) {
    std::string v;
    rocksdb::Status s = b.Get(db_.get(), rocksdb::ReadOptions(), key, &v);
    rocksdb::PinnableSlice pinned;
    rocksdb::Status ps = b.Get(db_.get(), rocksdb::ReadOptions(), key, &pinned);
    EXPECT_EQ(s.code(), ps.code());  // both overloads agree
    if (s.IsNotFound()) return std::nullopt;
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(v, pinned.ToString());
    return v;
  }

  TempDir dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

TEST_F(BatchTest, ReadsSeeOwnWritesThenTheDatabase) {
  ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), "a", "disk-a").ok());
  ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), "b", "disk-b").ok());
  embedded::Batch b;
  EXPECT_EQ(BatchValue(b, "a"), "disk-a");  // nothing written yet: the database's value
  b.Put("a", "batch-a");
  b.Delete("b");
  b.Put("c", "batch-c");
  EXPECT_EQ(BatchValue(b, "a"), "batch-a");
  EXPECT_EQ(BatchValue(b, "b"), std::nullopt);  // deleted by the batch, still on disk
  EXPECT_EQ(BatchValue(b, "c"), "batch-c");
  EXPECT_EQ(BatchValue(b, "d"), std::nullopt);
  EXPECT_EQ(DbValue("a"), "disk-a");  // nothing reaches the database before Write
  EXPECT_EQ(DbValue("b"), "disk-b");
  EXPECT_EQ(b.Count(), 3u);
  ASSERT_TRUE(b.Write(db_.get(), rocksdb::WriteOptions()).ok());
  EXPECT_EQ(DbValue("a"), "batch-a");
  EXPECT_EQ(DbValue("b"), std::nullopt);
  EXPECT_EQ(DbValue("c"), "batch-c");
}

TEST_F(BatchTest, LastWriteOfAKeyWins) {
  ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), "k", "disk").ok());
  embedded::Batch b;
  b.Put("k", "one");
  b.Delete("k");
  EXPECT_EQ(BatchValue(b, "k"), std::nullopt);
  b.Put("k", "two");
  EXPECT_EQ(BatchValue(b, "k"), "two");
  b.Put("gone", "x");
  b.Delete("gone");
  EXPECT_EQ(b.Count(), 5u);  // every call counts
  EXPECT_EQ(b.Keys(), 2u);   // one entry per key
  const uint64_t before = db_->GetLatestSequenceNumber();
  ASSERT_TRUE(b.Write(db_.get(), rocksdb::WriteOptions()).ok());
  EXPECT_EQ(db_->GetLatestSequenceNumber(), before + 2);  // one entry per key reached RocksDB
  EXPECT_EQ(DbValue("k"), "two");
  EXPECT_EQ(DbValue("gone"), std::nullopt);
}

TEST_F(BatchTest, EmptyBatchWritesNothingAndClearForgets) {
  embedded::Batch b;
  const uint64_t before = db_->GetLatestSequenceNumber();
  ASSERT_TRUE(b.Write(db_.get(), rocksdb::WriteOptions()).ok());
  EXPECT_EQ(db_->GetLatestSequenceNumber(), before);
  b.Put("k", "v");
  b.Clear();
  EXPECT_EQ(b.Count(), 0u);
  EXPECT_EQ(BatchValue(b, "k"), std::nullopt);
  ASSERT_TRUE(b.Write(db_.get(), rocksdb::WriteOptions()).ok());
  EXPECT_EQ(DbValue("k"), std::nullopt);
}

// Random writes over a small key space with binary keys (zero and high bytes): the database
// after Write equals a model that applied every write in order, and reads through the batch
// agree with that model before the Write. (Write's key order only makes the memtable inserts
// cheaper; it has no visible effect, so this does not check it.)
TEST_F(BatchTest, MatchesApplyingEveryWriteInOrder) {
  std::mt19937 rng(7);
  std::map<std::string, std::optional<std::string>> model;  // key -> value, nullopt = absent
  auto key_of = [](int i) { return std::string("\x00k", 2) + static_cast<char>(0x7e + i % 5) + std::to_string(i); };
  for (int round = 0; round < 20; ++round) {
    embedded::Batch b;
    const int writes = static_cast<int>(rng() % 300);
    for (int i = 0; i < writes; ++i) {
      const std::string key = key_of(static_cast<int>(rng() % 97));
      if (rng() % 3 == 0) {
        b.Delete(key);
        model[key] = std::nullopt;
      } else {
        std::string value = "v" + std::to_string(round) + "-" + std::to_string(i);
        b.Put(key, value);
        model[key] = value;
      }
    }
    for (int i = 0; i < 97; ++i) {
      const std::string key = key_of(i);
      auto it = model.find(key);
      EXPECT_EQ(BatchValue(b, key), it == model.end() ? std::nullopt : it->second) << "round " << round;
    }
    ASSERT_TRUE(b.Write(db_.get(), rocksdb::WriteOptions()).ok());
    for (const auto& [key, value] : model) EXPECT_EQ(DbValue(key), value) << "round " << round;
  }
}

}  // namespace
}  // namespace codeq::contract
