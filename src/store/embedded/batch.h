// The write batch of one engine critical section or write group (engine.h).
//
// Internal to store/embedded/.
#pragma once

#include <rocksdb/db.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace codeq::embedded {

/// The writes of one critical section (or of a whole write group), applied to RocksDB by one
/// Write. It keeps only the last write of each key: a later Put or Delete of a key replaces the
/// earlier one, which leaves the database in the same final state as applying every write in
/// order (the engine writes Put and Delete only). Reads through Get see the batch's own writes
/// first, so an operation sees those of the operations before it in the same group.
///
/// Replaces rocksdb::WriteBatchWithIndex, whose skiplist index decodes batch entries on every
/// key comparison: with a write group of a few hundred entries that was a quarter of the engine
/// thread's instructions (docs/performance.md, sixteenth session). Here a write is one hash-map
/// insertion, and Write sorts the keys once. Not thread-safe (the engine mutex guards it).
class Batch {
 public:
  /// Records `value` as the value of `key`, replacing this batch's earlier write of the key.
  void Put(std::string key, std::string value);
  /// Records the deletion of `key`, replacing this batch's earlier write of the key.
  void Delete(std::string key);

  /// The number of Put and Delete calls since construction or Clear (not of distinct keys).
  uint32_t Count() const { return ops_; }
  /// The number of distinct keys written.
  size_t Keys() const { return writes_.size(); }

  /// The value of `key` as the database would hold it after this batch: the batch's own write
  /// when it has one, else the database's value read with `ro`. NotFound when absent or deleted
  /// by the batch; other errors as DB::Get.
  rocksdb::Status Get(rocksdb::DB* db, const rocksdb::ReadOptions& ro, std::string_view key,
                      std::string* value) const;
  /// As above, into a PinnableSlice: the database's value is pinned instead of copied.
  rocksdb::Status Get(rocksdb::DB* db, const rocksdb::ReadOptions& ro, std::string_view key,
                      rocksdb::PinnableSlice* value) const;

  /// Applies the batch with one db->Write, one entry per key, in key order (bytewise, the
  /// database's comparator): the memtable's skiplist insertions then each start near the
  /// previous one. Ok without a write when the batch is empty.
  rocksdb::Status Write(rocksdb::DB* db, const rocksdb::WriteOptions& wo) const;

  /// Forgets every write (keeps the hash table's buckets for the next group, unless many).
  void Clear();

 private:
  struct Slot {
    std::string value;
    bool deleted = false;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Slot, Hash, std::equal_to<>> writes_;
  uint32_t ops_ = 0;
};

}  // namespace codeq::embedded
