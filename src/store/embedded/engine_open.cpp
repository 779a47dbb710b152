// Engine: opening the database, recovery of the in-memory indexes, closing.
//
// Recovery reads the whole database once, in key order, and checks every record: envelopes and
// JSON decode, ids match their keys, state and status agree, and the derived 'x' (retention) and
// 'd' (DLQ) keys match the task records exactly (compared by an order-independent hash); outbox
// ('w') and subscription ('s') records must decode. Any failure refuses to open: a partial queue
// is never served.
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "domain/keys.h"
#include "store/embedded/engine.h"
#include "store/embedded/engine_util.h"

namespace codeq::embedded {
namespace {

namespace fs = std::filesystem;

Status Damaged(const std::string& dir, const std::string& what) {
  return Internal("data directory " + dir + " is damaged: " + what);
}

// Maps a failed DB::Open to the messages promised by EmbeddedStore::Open.
Status OpenError(const std::string& dir, const rocksdb::Status& s) {
  const std::string msg = s.ToString();
  // RocksDB's LOCK file: flock() refused (another process) or already held by this process.
  // Other LOCK errors (e.g. permission denied) fall through to "cannot open".
  const bool held_elsewhere = msg.find("While lock file") != std::string::npos &&
                              (msg.find("Resource temporarily unavailable") != std::string::npos ||
                               msg.find("would block") != std::string::npos);
  if (s.IsIOError() && (held_elsewhere || msg.find("lock hold by current process") != std::string::npos)) {
    return Unavailable("data directory " + dir + " is in use by another codeq process");
  }
  if (s.IsCorruption() || s.IsNotFound() || s.IsInvalidArgument() ||
      (s.IsIOError() && msg.find("No such file") != std::string::npos)) {
    return Damaged(dir, msg);
  }
  return Internal("cannot open data directory " + dir + ": " + msg);
}

rocksdb::CompressionType PickCompression() {
  auto supported = rocksdb::GetSupportedCompressions();
  for (auto c : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(supported.begin(), supported.end(), c) != supported.end()) return c;
  }
  return rocksdb::kNoCompression;
}

// The memtable's bucket key (RocksDB prefix extractor): the whole key, except for the retention
// index ('x'), whose keys all share one bucket so that cleanup can scan them in order. See
// DbOptions for why. The name is recorded in SST files; a file written under another name (or
// none) is still read correctly, only without prefix filters.
class MemtableBucket : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "codeq.MemtableBucket.1"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return key[0] == kRetentionPrefix ? rocksdb::Slice(key.data(), 1) : key;
  }
  bool InDomain(const rocksdb::Slice& key) const override { return !key.empty(); }
};

}  // namespace

struct Engine::BackgroundErrors : rocksdb::EventListener {
  std::atomic<bool> active{false};
  void OnBackgroundError(rocksdb::BackgroundErrorReason, rocksdb::Status* error) override {
    if (error != nullptr && !error->ok()) {
      active.store(true);
      std::fprintf(stderr, "codeq embedded store: background error, writes refused until it clears: %s\n",
                   error->ToString().c_str());
    }
  }
  void OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) override {
    if (info.new_bg_error.ok()) active.store(false);
  }
};

bool Engine::WritesStopped() const { return background_errors_ && background_errors_->active.load(); }

bool Engine::TryResume() {
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t due = next_resume_ms_.load();
  if (now_ms < due || !next_resume_ms_.compare_exchange_strong(due, now_ms + 1000)) return !WritesStopped();
  const rocksdb::Status s = db_->Resume();
  if (s.ok()) {
    background_errors_->active.store(false);
    std::fprintf(stderr, "codeq embedded store: recovered from a background error; writes accepted again\n");
  }
  return !WritesStopped();
}

namespace {

rocksdb::Options DbOptions(bool fresh, int max_open_files, std::shared_ptr<rocksdb::EventListener> listener) {
  rocksdb::Options o;
  o.listeners.push_back(std::move(listener));
  // A hash memtable: a hash table of small skiplists, one per bucket key (MemtableBucket), so
  // inserting a new random key (a task or result record: SPEC §1.1 ids are random) finds its
  // bucket by hash instead of walking a 100k-entry skiplist from the top, a cache miss per level.
  // That walk was the engine thread's largest cost (docs/performance.md, tenth session: +7-13 %
  // in batch mode over HTTP, ~+28 % for the store alone). The one ordered scan of a key range
  // (cleanup, 'x') stays inside one bucket (a skiplist high enough for ~10^5 keys); whole-database
  // scans (recovery, and flushes in the background) sort a copy of the memtable. ~2^18 buckets fit
  // a full 64 MB memtable (~10^5 distinct keys) at a low load; the array takes 2 MB of it. Writes
  // come from one thread (the engine), so concurrent memtable writes are not needed.
  o.prefix_extractor = std::make_shared<MemtableBucket>();
  o.memtable_factory.reset(rocksdb::NewHashSkipListRepFactory(size_t{1} << 18, 12, 4));
  o.allow_concurrent_memtable_write = false;
  o.create_if_missing = fresh;
  o.paranoid_checks = true;
  // A torn last record (crash while writing it) is tolerated; any other WAL damage refuses to
  // open instead of silently recovering to an earlier point.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  // The recovered WAL stays in the memtable (and its files stay on disk) until the next flush,
  // instead of being written to an SST during open, unless it fills a memtable: a small log then
  // needs no room to open (EmbeddedStore::Open checks for room for the whole log all the same).
  o.avoid_flush_during_recovery = true;
  // -1: every SST open (and checked) at start-up; otherwise a table cache of that many files
  // (EmbeddedOptions::max_open_files).
  o.max_open_files = max_open_files < 0 ? -1 : std::max(20, max_open_files);
  o.max_background_jobs = 2;
  o.level_compaction_dynamic_level_bytes = true;
  o.compression = PickCompression();
  o.write_buffer_size = 64 << 20;
  // A bloom filter over whole keys in the memtable: a create's duplicate-id and idempotency
  // lookups usually miss, and a miss then skips the skiplist walk.
  o.memtable_whole_key_filtering = true;
  o.memtable_prefix_bloom_size_ratio = 0.05;
  o.max_write_buffer_number = 3;
  o.keep_log_file_num = 4;
  o.max_log_file_size = 8 << 20;
  rocksdb::BlockBasedTableOptions t;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.block_cache = rocksdb::NewLRUCache(32 << 20);
  t.block_size = 16 << 10;
  t.format_version = 5;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

// What one scan of a key range collected (ranges could be scanned in parallel and merged).
struct QueueLoad {
  std::string tenant, command;
  std::array<std::vector<std::pair<uint64_t, Uuid>>, 10> ready;
  std::vector<DelayedEntry> delayed;
  std::vector<LeaseEntry> leases;
  int64_t dead = 0;
  std::vector<std::string> spellings;  // every command spelling of the queue's tasks (D5)
};

struct ScanState {
  uint64_t x_from_tasks = 0, x_from_keys = 0, d_from_tasks = 0, d_from_keys = 0;
  uint64_t max_seq = 0;
  bool has_format = false;
  bool legacy_format = false;  // layout "1": upgraded to "2" by this open
  int64_t records = 0;
  std::unordered_map<std::string, QueueLoad> queues;
  std::set<std::pair<std::string, std::string>> known_commands;
  std::vector<std::pair<Uuid, OutboxValue>> outbox;
  std::vector<Subscription> subs;
};

bool StatusMatches(State state, const std::string& status) {
  switch (state) {
    case State::kReady:
    case State::kDelayed:
      return status == kPending;
    case State::kInProgress:
      return status == kInProgress;
    case State::kDead:
      return status == kFailed;
    case State::kDone:
      return status == kCompleted || status == kFailed;
  }
  return false;
}

std::string Concat(std::string_view a, std::string_view b) {
  std::string s(a);
  s.append(b);
  return s;
}

// Checks one task record and files it into its queue. Returns a description of the damage, or "".
std::string ScanTask(std::string_view key, std::string_view value, ScanState& st) {
  Uuid id{};
  if (!ParseIdKey(key, &id)) return "bad task key " + Hex(key);
  Envelope env;
  std::string_view json;
  std::string why;
  if (!DecodeTask(value, &env, &json, &why)) return "undecodable task record " + FormatUuid(id) + ": " + why;
  auto parsed = TaskFromJsonText(json);
  if (!parsed.ok()) return "undecodable task record " + FormatUuid(id) + ": malformed task JSON";
  const Task& t = *parsed;
  if (t.id != FormatUuid(id)) return "task record " + FormatUuid(id) + " holds id " + t.id;
  if (t.command.empty()) return "task record " + FormatUuid(id) + " has no command";
  if (env.tier != keys::ClampPriority(t.priority)) return "task record " + FormatUuid(id) + ": priority mismatch";
  if (!StatusMatches(env.state, t.status)) {
    return "task record " + FormatUuid(id) + ": status " + t.status + " does not match its queue state";
  }
  st.max_seq = std::max(st.max_seq, env.seq);
  // The 'x' key sits at the indexed deadline; its state byte is a hint from when it was written.
  st.x_from_tasks ^= Hash64(Concat(RetentionKey(env.indexed_sec, id), t.tenant_id));
  QueueLoad& q = st.queues[QueueId(t.tenant_id, t.command)];
  if (q.command.empty()) {
    q.tenant = t.tenant_id;
    q.command = t.command;
  }
  switch (env.state) {
    case State::kReady:
      q.ready[env.tier].emplace_back(env.seq, id);
      break;
    case State::kDelayed:
      q.delayed.push_back({env.due_ms, env.seq, id});
      break;
    case State::kInProgress:
      q.leases.push_back({env.due_ms, id});
      break;
    case State::kDead: {
      std::string_view raw(reinterpret_cast<const char*>(id.data()), id.size());
      st.d_from_tasks ^= Hash64(Concat(DlqKey(t.tenant_id, keys::LowerAscii(t.command), env.seq), raw));
      ++q.dead;
      break;
    }
    case State::kDone:
      break;
  }
  if (std::find(q.spellings.begin(), q.spellings.end(), t.command) == q.spellings.end()) {
    q.spellings.push_back(t.command);
  }
  return "";
}

// Checks one record of any type. Returns a description of the damage, or "".
std::string ScanRecord(std::string_view key, std::string_view value, ScanState& st) {
  ++st.records;
  switch (key.empty() ? '\0' : key[0]) {
    case kTaskPrefix:
      return ScanTask(key, value, st);
    case kResultPrefix: {
      Uuid id{};
      if (!ParseIdKey(key, &id)) return "bad result key " + Hex(key);
      auto r = TaskResultFromJsonText(value);
      if (!r.ok() || r->task_id != FormatUuid(id)) return "undecodable result record " + FormatUuid(id);
      return "";
    }
    case kRetentionPrefix: {
      int64_t retention = 0;
      Uuid id{};
      State state{};
      std::string_view tenant;
      if (!ParseRetentionKey(key, &retention, &id) || !DecodeRetentionValue(value, &state, &tenant)) {
        return "bad retention record " + Hex(key);
      }
      st.x_from_keys ^= Hash64(Concat(key, tenant));
      return "";
    }
    case kDlqPrefix: {
      std::string tenant, command;
      uint64_t seq = 0;
      if (!ParseDlqKey(key, &tenant, &command, &seq) || value.size() != 16) return "bad DLQ record " + Hex(key);
      st.max_seq = std::max(st.max_seq, seq);
      st.d_from_keys ^= Hash64(Concat(key, value));
      return "";
    }
    case kIdemPrefix: {
      std::string tenant, idem;
      Uuid id{};
      int64_t expiry = 0;
      if (!ParseIdemKey(key, &tenant, &idem) || !DecodeIdemValue(value, &id, &expiry)) {
        return "bad idempotency record " + Hex(key);
      }
      return "";
    }
    case kOutboxPrefix: {
      Uuid id{};
      OutboxValue v;
      if (!ParseIdKey(key, &id) || !DecodeOutboxValue(value, &v)) return "bad outbox record " + Hex(key);
      st.outbox.emplace_back(id, std::move(v));
      return "";
    }
    case kSubscriptionPrefix: {
      auto sub = SubscriptionFromJsonText(value);
      if (!sub.ok() || "s" + sub->id != key) return "bad subscription record " + Hex(key);
      st.subs.push_back(std::move(sub).value());
      return "";
    }
    case kCommandPrefix: {
      std::string tenant, command;
      if (!ParseCommandKey(key, &tenant, &command) || !value.empty()) return "bad command record " + Hex(key);
      st.known_commands.emplace(std::move(tenant), std::move(command));
      return "";
    }
    default:
      if (key == kFormatKey) {
        if (value != kFormatValue && value != kLegacyFormatValue) {
          return "unsupported layout version '" + std::string(value) + "'";
        }
        st.has_format = true;
        st.legacy_format = value == kLegacyFormatValue;
        return "";
      }
      return "unknown record " + Hex(key);
  }
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::Open(const EmbeddedOptions& options) {
  DisablePerfCounters();  // recovery reads every record on this thread
  const std::string& dir = options.data_dir;
  const fs::path db_path = fs::path(dir) / "db";
  std::error_code ec;
  fs::create_directories(db_path, ec);
  if (ec) return Internal("cannot open data directory " + dir + ": " + ec.message());
  // Only an empty directory (or the leftovers of a creation that stopped before writing
  // anything: LOCK, LOG files) may become a new database. A missing CURRENT next to other files
  // means damage, and letting RocksDB create a fresh database there would hide the old data.
  bool fresh = true;
  for (const auto& entry : fs::directory_iterator(db_path, ec)) {
    const std::string name = entry.path().filename().string();
    if (name != "LOCK" && name.rfind("LOG", 0) != 0) fresh = false;
  }
  if (ec) return Internal("cannot open data directory " + dir + ": " + ec.message());
  const bool has_current = fs::exists(db_path / "CURRENT", ec);
  if (!fresh && !has_current) return Damaged(dir, "db/CURRENT is missing");

  std::unique_ptr<Engine> e(new Engine());
  e->options_ = options;
  e->write_options_.sync = false;  // durability comes from GroupCommit (SyncWAL)
  e->write_options_.disableWAL = false;
  rocksdb::DB* raw = nullptr;
  e->background_errors_ = std::make_shared<BackgroundErrors>();
  rocksdb::Status s =
      rocksdb::DB::Open(DbOptions(fresh, options.max_open_files, e->background_errors_), db_path.string(), &raw);
  if (!s.ok()) return OpenError(dir, s);
  e->db_.reset(raw);
  if (Status r = e->Recover(dir); !r.ok()) return r;  // closed without a flush: left as found
  e->recovered_ = true;
  return e;
}

Status Engine::Recover(const std::string& dir) {
  ScanState st;
  {
    rocksdb::ReadOptions ro;
    ro.verify_checksums = true;
    ro.fill_cache = false;  // one pass over everything: do not evict the useful blocks
    ro.readahead_size = 4 << 20;
    ro.total_order_seek = true;  // across buckets (see DbOptions)
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string damage = ScanRecord(View(it->key()), View(it->value()), st);
      if (!damage.empty()) return Damaged(dir, damage);
    }
    if (!it->status().ok()) return Damaged(dir, it->status().ToString());
  }
  if (st.x_from_tasks != st.x_from_keys) return Damaged(dir, "retention index does not match the task records");
  if (st.d_from_tasks != st.d_from_keys) return Damaged(dir, "DLQ index does not match the task records");

  rocksdb::WriteBatch fix;
  if (!st.has_format) {
    if (st.records > 0) return Damaged(dir, "layout marker missing");
    fix.Put(kFormatKey, kFormatValue);
  } else if (st.legacy_format) {
    // Layout "1" is a valid layout "2" (every 'x' key at its deadline exactly); the marker moves
    // on before anything is written lazily, so older builds refuse the directory from now on.
    fix.Put(kFormatKey, kFormatValue);
  }
  for (const auto& [tenant, command] : st.known_commands) commands_[tenant].insert(command);
  for (auto& [id, load] : st.queues) {
    for (const auto& command : load.spellings) {  // the D5 set is additive; heal a gap
      if (commands_[load.tenant].insert(command).second) fix.Put(CommandKey(load.tenant, command), "");
    }
    auto q = std::make_unique<QueueIndex>(load.tenant, keys::LowerAscii(load.command), load.command);
    for (int tier = 0; tier < 10; ++tier) {
      auto& v = load.ready[tier];
      if (v.empty()) continue;
      std::sort(v.begin(), v.end());  // original FIFO order = seq order
      std::deque<Uuid> ids;
      for (const auto& [seq, uuid] : v) ids.push_back(uuid);
      std::vector<std::pair<uint64_t, Uuid>>().swap(v);
      q->LoadReady(tier, std::move(ids));
    }
    q->LoadDelayed(std::move(load.delayed));
    for (const auto& l : load.leases) q->AddLease(l.deadline_ms, l.id);
    for (int64_t i = 0; i < load.dead; ++i) q->AddDead();
    queues_.emplace(id, std::move(q));
  }
  next_seq_ = st.max_seq + 1;
  for (auto& [id, v] : st.outbox) {
    outbox_due_.insert({v.due_ms, id});
    outbox_.emplace(id, std::move(v));
  }
  for (auto& sub : st.subs) {
    IndexSubscription(sub);
    subs_.emplace(sub.id, std::move(sub));
  }
  if (fix.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = db_->Write(wo, &fix);
    if (!s.ok()) return Internal("cannot open data directory " + dir + ": " + s.ToString());
  }
  return Status::Ok();
}

Engine::~Engine() {
  if (!db_) return;
  if (!recovered_) {
    db_->Close();
    return;
  }
  // Flushing the memtable makes the next start skip WAL replay; failures only cost that.
  rocksdb::FlushOptions fo;
  fo.wait = true;
  db_->Flush(fo);
  db_->SyncWAL();
  db_->Close();
}

}  // namespace codeq::embedded
