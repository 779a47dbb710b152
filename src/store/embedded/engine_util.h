// Small helpers shared by the engine_*.cpp files (internal to store/embedded/).
#pragma once

#include <rocksdb/slice.h>
#include <rocksdb/status.h>

#include <string_view>

#include "domain/status.h"

namespace codeq::embedded {

inline std::string_view View(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

/// A RocksDB read error as the Store reports it: logged, then Unavailable("store unavailable")
/// (SPEC D8). O(1).
Status StorageError(const rocksdb::Status& s);

}  // namespace codeq::embedded
