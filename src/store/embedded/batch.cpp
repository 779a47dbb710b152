// Batch: the engine's write batch with read-your-writes (batch.h).
#include "store/embedded/batch.h"

#include <algorithm>
#include <vector>

namespace codeq::embedded {

void Batch::Put(std::string key, std::string value) {
  ++ops_;
  auto [it, inserted] = writes_.try_emplace(std::move(key));
  it->second.value = std::move(value);
  it->second.deleted = false;
}

void Batch::Delete(std::string key) {
  ++ops_;
  auto [it, inserted] = writes_.try_emplace(std::move(key));
  it->second.value.clear();
  it->second.deleted = true;
}

rocksdb::Status Batch::Get(rocksdb::DB* db, const rocksdb::ReadOptions& ro, std::string_view key,
                           std::string* value) const {
  auto it = writes_.find(key);
  if (it != writes_.end()) {
    if (it->second.deleted) return rocksdb::Status::NotFound();
    *value = it->second.value;
    return rocksdb::Status::OK();
  }
  return db->Get(ro, rocksdb::Slice(key.data(), key.size()), value);
}

rocksdb::Status Batch::Get(rocksdb::DB* db, const rocksdb::ReadOptions& ro, std::string_view key,
                           rocksdb::PinnableSlice* value) const {
  auto it = writes_.find(key);
  if (it != writes_.end()) {
    if (it->second.deleted) return rocksdb::Status::NotFound();
    value->PinSelf(it->second.value);
    return rocksdb::Status::OK();
  }
  return db->Get(ro, db->DefaultColumnFamily(), rocksdb::Slice(key.data(), key.size()), value);
}

rocksdb::Status Batch::Write(rocksdb::DB* db, const rocksdb::WriteOptions& wo) const {
  if (writes_.empty()) return rocksdb::Status::OK();
  using Entry = std::unordered_map<std::string, Slot, Hash, std::equal_to<>>::value_type;
  std::vector<const Entry*> order;
  order.reserve(writes_.size());
  size_t bytes = 12;  // the batch header: sequence number + count
  for (const Entry& e : writes_) {
    order.push_back(&e);
    bytes += e.first.size() + e.second.value.size() + 11;  // tag + two varint32 lengths, at most
  }
  // std::string's operator< compares bytes as unsigned char (memcmp), as BytewiseComparator does.
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) { return a->first < b->first; });
  rocksdb::WriteBatch wb(bytes);
  for (const Entry* e : order) {
    rocksdb::Status s = e->second.deleted ? wb.Delete(e->first) : wb.Put(e->first, e->second.value);
    if (!s.ok()) return s;
  }
  return db->Write(wo, &wb);
}

void Batch::Clear() {
  // clear() zeroes every bucket: after an unusually large group, start with a small table again.
  if (writes_.bucket_count() > (size_t{1} << 16)) {
    decltype(writes_)().swap(writes_);
  } else {
    writes_.clear();
  }
  ops_ = 0;
}

}  // namespace codeq::embedded
