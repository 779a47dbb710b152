// `codeq migrate run`: copies (or moves) the legacy keyspace into the codeQ keyspace per SPEC.md
// §11.2, resumably, with freeze detection and a content verification before anything is removed.
//
// Resumability: task records, retention entries and leases are written with idempotent commands
// (HSET/ZADD/SET) and a scan cursor is saved after every batch; each queue key is built in a
// temporary key and then renamed (or merged) into place by one script that also writes the key's
// marker into the run record, so a queue is either fully migrated and marked, or not at all.
#include <chrono>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "migrate/internal.h"
#include "migrate/scan_util.h"

namespace codeq::migrate {
namespace json = boost::json;

namespace {

// KEYS: 1 temp key, 2 destination, 3 run record. ARGV: 1 marker field, 2 marker JSON,
// 3 'rename' | 'prepend' (merge a list: the legacy IDs are served after the existing ones) |
// 'union' (merge a set). Returns 'ok', 'exists' (rename target appeared) or 'wrongtype'.
constexpr const char* kFinalizeScript = R"lua(
local tmp, dst, state = KEYS[1], KEYS[2], KEYS[3]
local mode = ARGV[3]
if redis.call('EXISTS', tmp) == 1 then
  if mode == 'rename' then
    if redis.call('EXISTS', dst) == 1 then return 'exists' end
    redis.call('RENAME', tmp, dst)
  elseif mode == 'prepend' then
    local t = redis.call('TYPE', dst).ok
    if t ~= 'none' and t ~= 'list' then return 'wrongtype' end
    while redis.call('RPOPLPUSH', tmp, dst) do end
  else
    local t = redis.call('TYPE', dst).ok
    if t ~= 'none' and t ~= 'set' then return 'wrongtype' end
    redis.call('SUNIONSTORE', dst, dst, tmp)
    redis.call('DEL', tmp)
  end
end
redis.call('HSET', state, ARGV[1], ARGV[2])
return 'ok'
)lua";

// KEYS: 1 legacy key, 2 backup key, 3 run record. ARGV: 1 backup marker field.
// Returns 'ok', 'gone' (nothing to move) or 'backup-exists'.
constexpr const char* kBackupScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'backup-exists' end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[3], ARGV[1], KEYS[2])
return 'ok'
)lua";

const char* ModeName(Mode m) { return m == Mode::kMove ? "move" : "copy"; }
const char* BackupName(BackupMode b) { return b == BackupMode::kExternal ? "external" : "keys"; }

bool SameScore(const std::string& a, const std::string& b) {
  if (a == b) return true;
  try {
    return std::stod(a) == std::stod(b);
  } catch (...) {
    return false;
  }
}

class Runner {
 public:
  Runner(RedisClient& c, const Options& o, Progress& progress, std::ostream& log)
      : c_(c), o_(o), L_(o.layout), progress_(progress), log_(log), scope_(ScopeId(o)) {}

  Result<RunReport> Run();

 private:
  Status Hook(const std::string& point) { return o_.hook ? o_.hook(point) : Status::Ok(); }
  void Throttle() {
    if (o_.throttle_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o_.throttle_ms));
  }
  Status Save() { return SaveState(c_, o_, st_); }
  Status Abort(const std::string& reason) {
    progress_.End();
    st_.status = "aborted";
    st_.abort_reason = reason;
    (void)Save();
    return Conflict(reason);
  }
  Status CheckFrozen(const std::string& where);
  Status CheckBackupFreshness();
  Status CheckStaleBackups();

  Status CopyTasks();
  Status CopyTtl();
  Status CopyLeases();
  Status CopyQueues();
  Status CopyQueue(const QueuePlan& qp);
  Status AddCommands();
  Status VerifyContent();
  Status RemoveSources();
  Status RemoveKey(const std::string& src);
  Status RemoveFields(const std::string& src, bool hash);
  void DryRunOperations();

  RedisClient& c_;
  const Options& o_;
  const Layout& L_;
  Progress& progress_;
  std::ostream& log_;
  std::string scope_;
  PlanReport plan_;
  RunState st_;
  RunReport rep_;
  Fingerprint base_;
  bool force_warned_ = false;
};

Status Runner::CheckFrozen(const std::string& where) {
  auto now = TakeFingerprint(c_, o_);
  if (!now.ok()) return now.status();
  auto diff = FingerprintDiff(base_, *now, o_.lease_tolerance_ms);
  if (diff.empty()) return Status::Ok();
  std::string what = "the legacy keyspace changed during the run (" + where +
                     "): the write freeze was not respected: " + JoinSample(diff, 5);
  if (o_.force) {
    if (!force_warned_) {
      rep_.warnings.push_back(what + " (continuing: --force)");
      progress_.Note("WARNING: " + what + " (continuing: --force)");
      force_warned_ = true;
    }
    base_ = std::move(*now);
    return Status::Ok();
  }
  return Abort(what +
               ". Nothing was removed from the legacy keyspace. Stop every legacy producer and worker, then re-run "
               "`codeq migrate run` (it re-copies what changed) or `codeq migrate rollback` to discard the partial copy.");
}

Status Runner::CheckBackupFreshness() {
  auto last = c_.Call({"LASTSAVE"});
  if (!last.ok()) return last.status();
  if (last->is_error()) {
    return InvalidArgument("cannot check for a fresh backup on this server (LASTSAVE: " + last->str +
                           "); use --backup keys");
  }
  auto now = ServerTimeMs(c_);
  if (!now.ok()) return now.status();
  long long age = *now / 1000 - last->as_int();
  if (age > o_.backup_max_age_seconds) {
    return InvalidArgument("--backup external: the server's last snapshot (LASTSAVE) is " + FormatSeconds(age) +
                           " old, more than --backup-max-age " + std::to_string(o_.backup_max_age_seconds) +
                           " s; take a fresh backup after freezing the clients (e.g. BGSAVE and copy the RDB "
                           "file), or use --backup keys");
  }
  auto info = c_.Call({"INFO", "persistence"});
  if (info.ok() && info->is_string()) {
    auto pos = info->str.find("rdb_changes_since_last_save:");
    if (pos != std::string::npos) {
      long long changes = std::atoll(info->str.c_str() + pos + 28);
      if (changes > 0) {
        rep_.warnings.push_back(std::to_string(changes) +
                                " writes happened since the last snapshot; make sure your backup covers the frozen state");
      }
    }
  }
  return Status::Ok();
}

Status Runner::CheckStaleBackups() {
  std::vector<std::string> srcs = {L_.SrcTasks(), L_.SrcTtl()};
  for (const auto& q : plan_.queues) srcs.push_back(q.src.key);
  std::vector<Argv> cmds;
  for (const auto& s : srcs) cmds.push_back({"EXISTS", L_.BackupKey(s)});
  auto r = c_.PipelineChecked(cmds);
  if (!r.ok()) return r.status();
  std::vector<std::string> stale;
  for (size_t i = 0; i < srcs.size(); ++i) {
    if ((*r)[i].as_int() > 0) stale.push_back(L_.BackupKey(srcs[i]));
  }
  if (!stale.empty()) {
    return Conflict("backup keys of an earlier run exist (" + JoinSample(stale, 5) +
                    "); run `codeq migrate rollback` for that run or delete them before a new --mode move run");
  }
  return Status::Ok();
}

// --- Copy steps ----------------------------------------------------------------------------------

Status Runner::CopyTasks() {
  if (plan_.inv.tasks_type != "hash" || st_.steps_done.count("tasks")) return Status::Ok();
  progress_.Begin("copy task records", plan_.inv.task_fields);
  std::string cursor = st_.cursors.count("tasks") ? st_.cursors["tasks"] : "0";
  auto s = ScanTasks(c_, o_, cursor, [&](TaskPage& page, const std::string& next) -> Status {
    if (page.skipped > 0) st_.counts["tasks_skipped"] += page.skipped;
    std::vector<Argv> cmds;
    for (size_t i = 0; i < page.ids.size(); ++i) {
      cmds.push_back({o_.merge ? "HSETNX" : "HSET", L_.DstTasks(), page.ids[i], page.tasks[i].text});
    }
    auto r = c_.PipelineChecked(cmds);
    if (!r.ok()) return r.status();
    for (const auto& x : *r) ++st_.counts[x.as_int() == 1 ? "tasks_written" : "tasks_existing"];
    st_.cursors["tasks"] = next;
    if (auto sv = Save(); !sv.ok()) return sv;
    progress_.Advance(static_cast<int64_t>(page.scanned));
    Throttle();
    return Hook("tasks-batch");
  });
  if (!s.ok()) return s;
  progress_.End();
  st_.steps_done.insert("tasks");
  st_.cursors.erase("tasks");
  if (auto sv = Save(); !sv.ok()) return sv;
  return Hook("after-tasks");
}

Status Runner::CopyTtl() {
  if (plan_.inv.ttl_type != "zset" || st_.steps_done.count("ttl")) return Status::Ok();
  progress_.Begin("copy retention index", plan_.inv.ttl_members);
  std::string cursor = st_.cursors.count("ttl") ? st_.cursors["ttl"] : "0";
  auto s = ScanSelected(c_, o_, "ZSCAN", L_.SrcTtl(), cursor,
                        [&](std::vector<std::pair<std::string, std::string>>& page, size_t scanned,
                            const std::string& next) -> Status {
    Argv zadd = {"ZADD", L_.DstTtl()};
    if (o_.merge) zadd.push_back("NX");
    for (const auto& [id, score] : page) {
      zadd.push_back(score);
      zadd.push_back(id);
    }
    const size_t n = page.size();
    if (n > 0) {
      auto r = c_.Checked(zadd);
      if (!r.ok()) return r.status();
      st_.counts["ttl_written"] += r->as_int();
      st_.counts["ttl_existing"] += static_cast<int64_t>(n) - r->as_int();
    }
    st_.cursors["ttl"] = next;
    if (auto sv = Save(); !sv.ok()) return sv;
    progress_.Advance(static_cast<int64_t>(scanned));
    Throttle();
    return Hook("ttl-batch");
  });
  if (!s.ok()) return s;
  progress_.End();
  st_.steps_done.insert("ttl");
  st_.cursors.erase("ttl");
  if (auto sv = Save(); !sv.ok()) return sv;
  return Hook("after-ttl");
}

Status Runner::CopyLeases() {
  if (st_.steps_done.count("leases")) return Status::Ok();
  // Re-scan: leases come and go (expiry) and the plan's list may be stale.
  auto ids = ScanLeaseIds(c_, o_);
  if (!ids.ok()) return ids.status();
  progress_.Begin("copy leases", static_cast<int64_t>(ids->size()));
  auto s = ReadLeases(c_, o_, *ids, false, [&](size_t batch, std::vector<LeaseRead>& leases) -> Status {
    auto read_at = std::chrono::steady_clock::now();
    std::vector<Argv> writes;
    for (const LeaseRead& l : leases) {
      if (l.value.is_nil() || l.value.is_error() || l.pttl == -2) {
        ++st_.counts["leases_expired"];
        continue;
      }
      Argv set = {"SET", L_.DstLease(l.id), l.value.str};
      if (l.pttl >= 0) {
        // The TTL keeps running while we copy: subtract the time since it was read.
        auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - read_at);
        long long remaining = l.pttl - elapsed.count();
        if (remaining <= 0) {
          ++st_.counts["leases_expired"];
          continue;
        }
        set.push_back("PX");
        set.push_back(std::to_string(remaining));
      }
      if (o_.merge) set.push_back("NX");
      writes.push_back(std::move(set));
    }
    auto w = c_.PipelineChecked(writes);
    if (!w.ok()) return w.status();
    for (const auto& x : *w) ++st_.counts[x.is_nil() ? "leases_existing" : "leases_written"];
    progress_.Advance(static_cast<int64_t>(batch));
    Throttle();
    return Hook("leases-batch");
  });
  if (!s.ok()) return s;
  progress_.End();
  st_.steps_done.insert("leases");
  if (auto sv = Save(); !sv.ok()) return sv;
  return Hook("after-leases");
}

Status Runner::CopyQueue(const QueuePlan& qp) {
  const QueueSource& q = qp.src;
  const bool pending = q.kind == SourceKind::kPending;
  auto sig = KeySignature(c_, q.key);
  if (!sig.ok()) return sig.status();
  auto it = st_.queues.find(q.key);
  if (it != st_.queues.end()) {
    if (it->second.signature == *sig && it->second.dst == q.dst_key) {  // done by an earlier attempt
      progress_.Advance(q.length);
      return Status::Ok();
    }
    if (st_.merge) {
      return Abort("legacy key " + q.key + " changed after it was merged into " + it->second.dst +
                   "; a merged key cannot be re-copied: run `codeq migrate rollback`, freeze the clients and run again");
    }
    // Copied by an earlier attempt, then the source changed: the destination is ours, rebuild it.
    progress_.Note("re-copying " + q.key + ": it changed after it was copied");
    auto r = c_.PipelineChecked({{"DEL", it->second.dst}, {"HDEL", L_.StateKey(), MarkerField(scope_, q.key)}});
    if (!r.ok()) return r.status();
    const std::string kind = pending ? "pending" : "inprog";
    st_.counts[kind + "_keys"] -= 1;
    st_.counts[kind + "_written"] -= it->second.written;
    st_.counts[kind + "_duplicates"] -= it->second.duplicates;
    st_.queues.erase(it);
  }
  if (auto b = base_.keys.find(q.key); b != base_.keys.end() && b->second != *sig) {
    return Abort("legacy key " + q.key + " changed during the run (" + b->second + " -> " + *sig +
                 "): the write freeze was not respected. Nothing was removed from the legacy keyspace; freeze the "
                 "clients and re-run `codeq migrate run`, or `codeq migrate rollback`");
  }
  if (*sig == "none") return Status::Ok();  // drained meanwhile; the freeze check reports it

  const std::string tmp = L_.TmpKey(q.dst_key);
  if (auto r = c_.Checked({"DEL", tmp}); !r.ok()) return r.status();
  int64_t written = 0, seen_items = 0;
  if (pending && q.type == "list") {
    // Walk from the tail (served first) to the head, keep the first occurrence of each ID and
    // LPUSH the kept IDs in that order: the temp list ends up in source order, minus duplicates.
    auto len = c_.Checked({"LLEN", q.key});
    if (!len.ok()) return len.status();
    long long n = len->as_int();
    std::unordered_set<std::string> seen;
    for (long long end = n - 1; end >= 0; end -= o_.batch_size) {
      long long start = std::max(0LL, end - o_.batch_size + 1);
      auto r = c_.Checked({"LRANGE", q.key, std::to_string(start), std::to_string(end)});
      if (!r.ok()) return r.status();
      auto page = Strings(*r);
      Argv push = {"LPUSH", tmp};
      for (auto p = page.rbegin(); p != page.rend(); ++p) {
        if (seen.insert(*p).second) push.push_back(*p);
      }
      if (push.size() > 2) {
        auto w = c_.Checked(push);
        if (!w.ok()) return w.status();
      }
      seen_items += static_cast<int64_t>(page.size());
      progress_.Advance(static_cast<int64_t>(page.size()));
      Throttle();
      if (auto h = Hook("queue-batch"); !h.ok()) return h;
    }
    written = static_cast<int64_t>(seen.size());
  } else {
    auto s = QueueItems(c_, q, o_.batch_size, [&](std::vector<std::string>& page) -> Status {
      Argv sadd = {"SADD", tmp};
      sadd.insert(sadd.end(), page.begin(), page.end());
      auto w = c_.Checked(sadd);
      if (!w.ok()) return w.status();
      seen_items += static_cast<int64_t>(page.size());
      progress_.Advance(static_cast<int64_t>(page.size()));
      Throttle();
      return Hook("queue-batch");
    });
    if (!s.ok()) return s;
    auto n = c_.Checked({"SCARD", tmp});
    if (!n.ok()) return n.status();
    written = n->as_int();
  }

  auto sig2 = KeySignature(c_, q.key);
  if (!sig2.ok()) return sig2.status();
  if (*sig2 != *sig) {
    (void)c_.Call({"DEL", tmp});
    return Abort("legacy key " + q.key + " changed while it was being copied (" + *sig + " -> " + *sig2 +
                 "): the write freeze was not respected. Nothing was removed from the legacy keyspace; freeze the "
                 "clients and re-run `codeq migrate run`, or `codeq migrate rollback`");
  }

  QueueMarker m;
  m.src = q.key;
  m.dst = q.dst_key;
  m.kind = pending ? "pending" : "inprog";
  m.signature = *sig;
  m.source_length = seen_items;
  m.written = written;
  m.duplicates = seen_items - written;
  if (st_.merge) {
    auto n = SizeOf(c_, q.dst_key, pending ? "list" : "set");
    if (!n.ok()) return n.status();
    m.preexisting = *n;
  }
  const char* how = !st_.merge ? "rename" : (pending ? "prepend" : "union");
  auto r = c_.Checked({"EVAL", kFinalizeScript, "3", tmp, q.dst_key, L_.StateKey(), MarkerField(scope_, q.key),
                       MarkerJson(m), how});
  if (!r.ok()) return r.status();
  if (r->str == "exists") {
    (void)c_.Call({"DEL", tmp});
    return Abort("destination " + q.dst_key + " appeared during the run (is a codeQ server already using this "
                 "keyspace?); nothing was overwritten");
  }
  if (r->str == "wrongtype") {
    (void)c_.Call({"DEL", tmp});
    return Abort("destination " + q.dst_key + " has another type; nothing was overwritten");
  }
  st_.queues[q.key] = m;
  st_.counts[m.kind + "_keys"] += 1;
  st_.counts[m.kind + "_written"] += m.written;
  st_.counts[m.kind + "_duplicates"] += m.duplicates;
  if (auto sv = Save(); !sv.ok()) return sv;
  return Hook("after-queue");
}

Status Runner::CopyQueues() {
  int64_t total = 0;
  for (const auto& q : plan_.queues) total += q.src.length;
  progress_.Begin("copy queues", total);
  for (const auto& qp : plan_.queues) {
    if (qp.conflict.rfind("skipped", 0) == 0) continue;
    if (auto s = CopyQueue(qp); !s.ok()) return s;
  }
  progress_.End();
  return Hook("after-queues");
}

Status Runner::AddCommands() {
  if (plan_.command_members.empty()) return Status::Ok();
  Argv sadd = {"SADD", L_.DstCommands()};
  sadd.insert(sadd.end(), plan_.command_members.begin(), plan_.command_members.end());
  auto r = c_.Checked(sadd);
  if (!r.ok()) return r.status();
  st_.counts["commands_added"] += r->as_int();
  return Save();
}

// --- Verification of the copy ------------------------------------------------------------------

Status Runner::VerifyContent() {
  if (auto s = CheckFrozen("before verification"); !s.ok()) return s;
  std::vector<std::string> bad;
  auto add = [&](std::string s) {
    if (bad.size() < 10) bad.push_back(std::move(s));
  };
  int64_t total = plan_.total_items;
  progress_.Begin("verify copy", total);

  if (plan_.inv.tasks_type == "hash") {
    auto s = ScanTasks(c_, o_, "0", [&](TaskPage& page, const std::string&) -> Status {
      progress_.Advance(static_cast<int64_t>(page.scanned));
      const auto& ids = page.ids;
      if (ids.empty()) return Status::Ok();
      Argv hmget = {"HMGET", L_.DstTasks()};
      hmget.insert(hmget.end(), ids.begin(), ids.end());
      auto r = c_.Checked(hmget);
      if (!r.ok()) return r.status();
      for (size_t i = 0; i < ids.size(); ++i) {
        const Reply& d = r->elements[i];
        if (d.is_nil()) add("task " + ids[i] + " is missing in " + L_.DstTasks());
        else if (d.str != page.tasks[i].text && !st_.merge) add("task " + ids[i] + " differs from the legacy record");
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
  }
  if (plan_.inv.ttl_type == "zset") {
    auto s = ScanSelected(c_, o_, "ZSCAN", L_.SrcTtl(), "0",
                          [&](std::vector<std::pair<std::string, std::string>>& page, size_t scanned,
                              const std::string&) -> Status {
      progress_.Advance(static_cast<int64_t>(scanned));
      std::vector<Argv> cmds;
      for (const auto& kv : page) cmds.push_back({"ZSCORE", L_.DstTtl(), kv.first});
      auto r = c_.PipelineChecked(cmds);
      if (!r.ok()) return r.status();
      for (size_t k = 0; k < page.size(); ++k) {
        const auto& [id, score] = page[k];
        if ((*r)[k].is_nil()) add("retention entry " + id + " is missing");
        else if (!st_.merge && !SameScore((*r)[k].str, score)) add("retention entry " + id + " has another score");
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
  }
  // Leases: every legacy lease that still has time left must exist with the same holder.
  {
    auto ids = ScanLeaseIds(c_, o_);
    if (!ids.ok()) return ids.status();
    auto s = ReadLeases(c_, o_, *ids, true, [&](size_t batch, std::vector<LeaseRead>& leases) -> Status {
      progress_.Advance(static_cast<int64_t>(batch));
      for (const LeaseRead& l : leases) {
        if (l.value.is_nil() || l.value.is_error() || (l.pttl >= 0 && l.pttl < o_.lease_tolerance_ms)) continue;
        if (l.dst.is_nil()) add("lease " + l.id + " is missing in the destination");
        else if (!st_.merge && l.dst.str != l.value.str) add("lease " + l.id + " has another holder");
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
  }
  // Queues: the destination holds exactly the de-duplicated legacy IDs (merge: as the head
  // segment of the list / a subset of the set).
  for (const auto& qp : plan_.queues) {
    auto it = st_.queues.find(qp.src.key);
    if (it == st_.queues.end()) continue;
    const QueueMarker& m = it->second;
    progress_.Advance(qp.src.length);
    if (m.kind == "pending" && qp.src.type == "list") {
      auto src = ReadList(c_, qp.src.key, o_.batch_size);
      if (!src.ok()) return src.status();
      std::vector<std::string> want;
      std::unordered_set<std::string> seen;
      for (auto p = src->rbegin(); p != src->rend(); ++p) {
        if (seen.insert(*p).second) want.push_back(*p);
      }
      std::reverse(want.begin(), want.end());
      auto dst = ReadList(c_, m.dst, o_.batch_size);
      if (!dst.ok()) return dst.status();
      bool same = st_.merge ? (dst->size() >= want.size() && std::equal(want.begin(), want.end(), dst->begin()))
                            : *dst == want;
      if (!same) add(m.dst + " does not match " + qp.src.key);
    } else {
      auto src = qp.src.type == "set" ? ReadSet(c_, qp.src.key, o_.batch_size) : ReadList(c_, qp.src.key, o_.batch_size);
      if (!src.ok()) return src.status();
      std::unordered_set<std::string> want(src->begin(), src->end());
      auto dst = ReadSet(c_, m.dst, o_.batch_size);
      if (!dst.ok()) return dst.status();
      std::unordered_set<std::string> have(dst->begin(), dst->end());
      bool same = true;
      for (const auto& id : want) same = same && have.count(id) > 0;
      if (!st_.merge && have.size() != want.size()) same = false;
      if (!same) add(m.dst + " does not match " + qp.src.key);
    }
  }
  progress_.End();
  if (!bad.empty()) {
    return Abort("verification of the copy failed (the legacy keyspace or the destination was modified during the "
                 "run): " + JoinSample(bad, 5) + ". Nothing was removed from the legacy keyspace; freeze every client "
                 "and re-run `codeq migrate run`, or `codeq migrate rollback`");
  }
  return CheckFrozen("after verification");
}

// --- Removal of the source (mode move) ---------------------------------------------------------

Status Runner::RemoveKey(const std::string& src) {
  if (o_.backup == BackupMode::kExternal) {
    auto r = c_.Checked({"DEL", src});
    if (!r.ok()) return r.status();
    st_.counts["removed_keys"] += r->as_int();
    return Status::Ok();
  }
  const std::string bkey = L_.BackupKey(src);
  auto r = c_.Checked({"EVAL", kBackupScript, "3", src, bkey, L_.StateKey(), BackupField(scope_, src)});
  if (!r.ok()) return r.status();
  if (r->str == "backup-exists") return Conflict("backup key " + bkey + " already exists; nothing was removed");
  if (r->str == "ok") {
    st_.backups[src] = bkey;
    st_.counts["removed_keys"] += 1;
  }
  return Status::Ok();
}

// Field-level removal for a partial (--commands) run: the selected fields/members move to the
// backup key (or are deleted with --backup external); the legacy key keeps the others.
Status Runner::RemoveFields(const std::string& src, bool hash) {
  const std::string bkey = L_.BackupKey(src);
  if (o_.backup == BackupMode::kKeys) {
    auto r = c_.Checked({"HSET", L_.StateKey(), BackupField(scope_, src), bkey});
    if (!r.ok()) return r.status();
    st_.backups[src] = bkey;
  }
  // Collect first (removing while scanning is allowed by SCAN, but a stable list is simpler).
  std::vector<std::pair<std::string, std::string>> items;
  auto s = ScanSelected(c_, o_, hash ? "HSCAN" : "ZSCAN", src, "0",
                        [&](std::vector<std::pair<std::string, std::string>>& page, size_t,
                            const std::string&) -> Status {
    items.insert(items.end(), std::make_move_iterator(page.begin()), std::make_move_iterator(page.end()));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  for (size_t i = 0; i < items.size(); i += static_cast<size_t>(o_.batch_size)) {
    size_t end = std::min(items.size(), i + static_cast<size_t>(o_.batch_size));
    Argv put = {hash ? "HSET" : "ZADD", bkey};
    Argv del = {hash ? "HDEL" : "ZREM", src};
    for (size_t j = i; j < end; ++j) {
      if (hash) {
        put.push_back(items[j].first);
        put.push_back(items[j].second);
      } else {
        put.push_back(items[j].second);
        put.push_back(items[j].first);
      }
      del.push_back(items[j].first);
    }
    std::vector<Argv> cmds;
    if (o_.backup == BackupMode::kKeys) cmds.push_back(put);
    cmds.push_back(del);
    auto r = c_.PipelineChecked(cmds);
    if (!r.ok()) return r.status();
    st_.counts["removed_fields"] += r->back().as_int();
  }
  return Status::Ok();
}

Status Runner::RemoveSources() {
  st_.phase = "removing-source";
  if (auto sv = Save(); !sv.ok()) return sv;
  if (auto h = Hook("before-remove"); !h.ok()) return h;
  progress_.Begin("remove legacy keys", 0);
  if (plan_.inv.tasks_type == "hash") {
    auto s = o_.selection.all() ? RemoveKey(L_.SrcTasks()) : RemoveFields(L_.SrcTasks(), true);
    if (!s.ok()) return s;
  }
  if (plan_.inv.ttl_type == "zset") {
    auto s = o_.selection.all() ? RemoveKey(L_.SrcTtl()) : RemoveFields(L_.SrcTtl(), false);
    if (!s.ok()) return s;
  }
  for (const auto& qp : plan_.queues) {
    if (!st_.queues.count(qp.src.key)) continue;
    if (auto s = RemoveKey(qp.src.key); !s.ok()) return s;
    progress_.Advance(1);
    if (auto h = Hook("remove-key"); !h.ok()) return h;
  }
  // Leases of migrated tasks (all of them for a full run).
  auto scanned = ScanLeaseIds(c_, o_);
  if (!scanned.ok()) return scanned.status();
  std::vector<std::string> ids = std::move(*scanned);
  if (!o_.selection.all()) {
    // The task records of selected commands are gone from the legacy hash by now: use the
    // destination records (which carry the same IDs) to attribute leases.
    std::vector<std::string> keep;
    auto s = ForEachChunk(ids, o_.batch_size, [&](std::vector<std::string>& chunk) -> Status {
      Argv hmget = {"HMGET", L_.DstTasks()};
      hmget.insert(hmget.end(), chunk.begin(), chunk.end());
      auto r = c_.Checked(hmget);
      if (!r.ok()) return r.status();
      for (size_t j = 0; j < chunk.size(); ++j) {
        if (r->elements[j].is_nil()) continue;
        auto t = RewriteTask(L_, chunk[j], r->elements[j].str);
        std::string legacy_cmd = t.command;
        for (const auto& [from, to] : L_.renames) {
          if (Lower(to) == Lower(t.command)) legacy_cmd = from;
        }
        if (t.parsed && o_.selection.Includes(legacy_cmd)) keep.push_back(chunk[j]);
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
    ids = std::move(keep);
  }
  for (const auto& id : ids) {
    if (auto r = RemoveKey(L_.SrcLease(id)); !r.ok()) return r;
  }
  progress_.End();
  return Status::Ok();
}

void Runner::DryRunOperations() {
  auto& ops = rep_.operations;
  ops.push_back("check the write freeze: two snapshots of the legacy keyspace " + std::to_string(o_.freeze_check_ms) +
                " ms apart must match");
  if (plan_.tasks.items > 0) {
    std::string what = "copy " + std::to_string(plan_.tasks.items - plan_.tasks.skipped) + " task records " +
                       L_.SrcTasks() + " -> " + L_.DstTasks() + " (" + (o_.merge ? "HSETNX" : "HSET") +
                       ", batches of " + std::to_string(o_.batch_size) + ")";
    if (plan_.tasks_tenant_rewritten) what += "; tenantId rewritten in " + std::to_string(plan_.tasks_tenant_rewritten);
    if (plan_.tasks_renamed) what += "; command renamed in " + std::to_string(plan_.tasks_renamed);
    ops.push_back(what);
  }
  if (plan_.ttl.items > 0) {
    ops.push_back("copy " + std::to_string(plan_.ttl.items) + " retention entries " + L_.SrcTtl() + " -> " +
                  L_.DstTtl() + " (ZADD" + (o_.merge ? " NX" : "") + ", scores unchanged)");
  }
  if (plan_.leases.items > 0) {
    ops.push_back("copy " + std::to_string(plan_.leases.items) + " leases " + L_.from + ":lease:<id> -> " + L_.to +
                  ":lease:<id> (SET PX <remaining TTL>)");
  }
  for (const auto& q : plan_.queues) {
    if (q.done || q.conflict.rfind("skipped", 0) == 0) continue;
    std::string how = q.src.kind == SourceKind::kPending
                          ? (o_.merge ? "build in a temp list, then put behind the existing IDs" : "build in a temp list, then RENAME")
                          : (o_.merge ? "SADD into a temp set, then SUNIONSTORE" : "SADD into a temp set, then RENAME");
    ops.push_back(q.src.key + " (" + std::to_string(q.src.length) + " items, " + std::to_string(q.unique) + " unique) -> " +
                  q.src.dst_key + ": " + how);
  }
  if (!plan_.command_members.empty()) {
    ops.push_back("SADD " + L_.DstCommands() + " " + std::to_string(plan_.command_members.size()) + " members");
  }
  ops.push_back("verify the copy against the legacy keyspace");
  if (o_.mode == Mode::kMove) {
    ops.push_back(o_.backup == BackupMode::kKeys
                      ? "remove the legacy keys by renaming them under " + L_.to + ":migrate:backup: (rollback restores them)"
                      : "delete the legacy keys (restore from your backup to roll back)");
  } else {
    ops.push_back("keep the legacy keyspace (mode copy) for rollback");
  }
}

Result<RunReport> Runner::Run() {
  auto t0 = std::chrono::steady_clock::now();
  log_ << "WARNING: a write freeze is required: stop every legacy producer and worker before this run and keep "
          "them stopped until codeQ serves the migrated keys (codeq migrate --help shows the sequence).\n";
  auto plan = BuildPlan(c_, o_, &progress_);
  if (!plan.ok()) return plan.status();
  plan_ = std::move(*plan);
  st_ = plan_.state;
  rep_.plan = plan_;
  if (st_.exists && st_.status == "completed") {
    rep_.already_completed = true;
    rep_.state = st_;
    return rep_;
  }
  const bool resume = st_.exists;
  if (resume) {
    std::string mode = ModeName(o_.mode);
    if (st_.mode != mode || st_.merge != o_.merge || st_.renames != L_.renames ||
        (o_.mode == Mode::kMove && st_.backup != BackupName(o_.backup))) {
      return Conflict("an unfinished run of this scope (started " + st_.started_at + ") used other options (--mode " +
                      st_.mode + (st_.merge ? " --merge" : "") + ", --backup " + st_.backup +
                      "); re-run it with the same options, or `codeq migrate rollback` first");
    }
    rep_.resumed = true;
  }
  if (!plan_.blocking.empty()) {
    std::string msg = "refusing to start:";
    for (const auto& b : plan_.blocking) msg += "\n  * " + b;
    return Conflict(msg);
  }
  if (o_.mode == Mode::kMove && !resume) {
    if (o_.backup == BackupMode::kKeys) {
      if (auto s = CheckStaleBackups(); !s.ok()) return s;
    } else if (auto s = CheckBackupFreshness(); !s.ok()) {
      return s;
    }
  }
  rep_.warnings.insert(rep_.warnings.end(), plan_.warnings.begin(), plan_.warnings.end());
  if (o_.dry_run) {
    rep_.dry_run = true;
    DryRunOperations();
    rep_.state = st_;
    return rep_;
  }

  // Freeze check: two snapshots a short interval apart must match.
  auto f1 = TakeFingerprint(c_, o_);
  if (!f1.ok()) return f1.status();
  progress_.Note("checking the write freeze (" + std::to_string(o_.freeze_check_ms) + " ms)...");
  std::this_thread::sleep_for(std::chrono::milliseconds(o_.freeze_check_ms));
  auto f2 = TakeFingerprint(c_, o_);
  if (!f2.ok()) return f2.status();
  auto diff = FingerprintDiff(*f1, *f2, o_.lease_tolerance_ms);
  if (!diff.empty()) {
    std::string what = "activity detected in the legacy keyspace within " + std::to_string(o_.freeze_check_ms) +
                       " ms: " + JoinSample(diff, 5);
    if (!o_.force) {
      return Conflict(what + ". The write freeze is not in place: stop every legacy producer and worker and run "
                             "again (--force skips this check). Nothing was written.");
    }
    rep_.warnings.push_back(what + " (continuing: --force)");
  }
  base_ = std::move(*f2);
  if (auto h = Hook("after-freeze-check"); !h.ok()) return h;

  if (!resume) {
    st_ = RunState{};
    st_.exists = true;
    st_.phase = "copy";
    st_.mode = ModeName(o_.mode);
    st_.merge = o_.merge;
    st_.backup = BackupName(o_.backup);
    st_.started_at = NowText();
  } else if (st_.status == "aborted") {
    // The source changed under an earlier attempt: copy everything again (idempotent writes;
    // queue keys are re-copied when their source signature changed).
    st_.cursors.clear();
    st_.steps_done.clear();
    if (st_.phase != "removing-source") st_.phase = "copy";
  }
  st_.status = "running";
  st_.abort_reason.clear();
  if (auto s = Save(); !s.ok()) return s;

  if (st_.phase == "copy" || st_.phase.empty()) {
    st_.phase = "copy";
    if (auto s = CopyTasks(); !s.ok()) return s;
    if (auto s = CheckFrozen("after copying task records"); !s.ok()) return s;
    if (auto s = CopyTtl(); !s.ok()) return s;
    if (auto s = CopyLeases(); !s.ok()) return s;
    if (auto s = CheckFrozen("after copying leases"); !s.ok()) return s;
    if (auto s = CopyQueues(); !s.ok()) return s;
    if (auto s = AddCommands(); !s.ok()) return s;
    if (auto h = Hook("before-verify"); !h.ok()) return h;
    if (auto s = VerifyContent(); !s.ok()) return s;
    st_.phase = "verified";
    if (auto s = Save(); !s.ok()) return s;
    if (auto h = Hook("after-verify"); !h.ok()) return h;
  }
  if (o_.mode == Mode::kMove && (st_.phase == "verified" || st_.phase == "removing-source")) {
    if (auto s = RemoveSources(); !s.ok()) return s;
  }
  st_.status = "completed";
  st_.phase = "completed";
  st_.completed_at = NowText();
  if (auto s = Save(); !s.ok()) return s;
  rep_.state = st_;
  rep_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep_;
}

int64_t Count(const RunState& s, const std::string& k) {
  auto it = s.counts.find(k);
  return it == s.counts.end() ? 0 : it->second;
}

}  // namespace

Result<RunReport> RunMigration(RedisClient& c, const Options& o, Progress& progress, std::ostream& log) {
  if (o.mode == Mode::kMove && !o.i_have_a_backup) {
    return InvalidArgument("--mode move deletes the legacy keys after a verified copy and requires --i-have-a-backup "
                           "(take a backup of the Redis data set first; see docs/migration.md)");
  }
  if (!o.layout.tenant.empty() && !ValidTenant(o.layout.tenant)) {
    return InvalidArgument("--tenant must match [A-Za-z0-9._-]{1,64}");
  }
  Runner r(c, o, progress, log);
  return r.Run();
}

std::string RunText(const RunReport& r, const Options& o) {
  std::ostringstream out;
  if (r.already_completed) {
    out << "Nothing to do: a migration of this scope already completed at " << r.state.completed_at << " (mode "
        << r.state.mode << "). Use `codeq migrate verify` to check it, or `codeq migrate rollback` to undo it.\n";
    return out.str();
  }
  if (r.dry_run) {
    out << "Dry run: no key was written. Planned operations:\n";
    for (const auto& op : r.operations) out << "  - " << op << "\n";
    if (!r.warnings.empty()) {
      out << "Notes:\n";
      for (const auto& w : r.warnings) out << "  - " << w << "\n";
    }
    return out.str();
  }
  const RunState& s = r.state;
  out << "Migration " << (r.resumed ? "resumed and " : "") << "completed in " << FormatSeconds(r.seconds) << " (mode "
      << s.mode << (s.merge ? ", merge" : "") << ")\n\n";
  char buf[256];
  std::snprintf(buf, sizeof buf, "  %-28s %9s %9s %9s %11s %8s\n", "category", "source", "written", "existing",
                "duplicates", "skipped");
  out << buf;
  auto row = [&](const char* name, int64_t src, int64_t w, int64_t e, int64_t d, int64_t sk) {
    std::snprintf(buf, sizeof buf, "  %-28s %9lld %9lld %9lld %11lld %8lld\n", name, static_cast<long long>(src),
                  static_cast<long long>(w), static_cast<long long>(e), static_cast<long long>(d),
                  static_cast<long long>(sk));
    out << buf;
  };
  row("task records", r.plan.tasks.items, Count(s, "tasks_written"), Count(s, "tasks_existing"), 0,
      Count(s, "tasks_skipped"));
  row("retention entries", r.plan.ttl.items, Count(s, "ttl_written"), Count(s, "ttl_existing"), 0, 0);
  row("leases (TTL kept)", r.plan.leases.items, Count(s, "leases_written"), Count(s, "leases_existing"), 0,
      Count(s, "leases_expired"));
  row("pending IDs", r.plan.pending.items, Count(s, "pending_written"), 0, Count(s, "pending_duplicates"), 0);
  row("in-progress IDs (list->set)", r.plan.inprog.items, Count(s, "inprog_written"), 0, Count(s, "inprog_duplicates"), 0);
  out << "\n  queue keys: " << Count(s, "pending_keys") << " pending lists, " << Count(s, "inprog_keys")
      << " in-progress sets; known-commands members added: " << Count(s, "commands_added") << "\n";
  if (Count(s, "inprog_duplicates") > 0) {
    out << "  duplicates collapsed in in-progress sets: " << Count(s, "inprog_duplicates") << "\n";
  }
  if (Count(s, "leases_expired") > 0) {
    out << "  leases that expired before they could be copied: " << Count(s, "leases_expired")
        << " (claim-time repair requeues those tasks)\n";
  }
  if (s.mode == "move") {
    out << "  legacy keys removed: " << Count(s, "removed_keys") << " keys, " << Count(s, "removed_fields")
        << " fields"
        << (s.backup == "keys" ? " (kept under " + o.layout.to + ":migrate:backup: for rollback)" : std::string()) << "\n";
  } else {
    out << "  the legacy keyspace was kept (mode copy): `codeq migrate rollback` returns to it\n";
  }
  if (!r.warnings.empty()) {
    out << "\nNotes:\n";
    for (const auto& w : r.warnings) out << "  - " << w << "\n";
  }
  out << "\nNext: start codeQ on this Redis (STORE=redis://...), repoint clients to /v1/codeq, unfreeze them, "
         "then `codeq migrate verify`.\n";
  return out.str();
}

json::object RunJson(const RunReport& r, const Options& o) {
  json::object j;
  j["alreadyCompleted"] = r.already_completed;
  j["dryRun"] = r.dry_run;
  j["resumed"] = r.resumed;
  j["status"] = r.state.status;
  j["mode"] = r.state.mode.empty() ? std::string(ModeName(o.mode)) : r.state.mode;
  j["merge"] = o.merge;
  j["seconds"] = r.seconds;
  json::object counts;
  for (const auto& [k, v] : r.state.counts) counts[k] = v;
  j["counts"] = std::move(counts);
  j["source"] = json::object{{"tasks", r.plan.tasks.items},
                             {"ttl", r.plan.ttl.items},
                             {"leases", r.plan.leases.items},
                             {"pending", r.plan.pending.items},
                             {"inprog", r.plan.inprog.items}};
  json::array queues;
  for (const auto& [src, m] : r.state.queues) {
    queues.push_back(json::object{{"source", src},
                                  {"destination", m.dst},
                                  {"kind", m.kind},
                                  {"sourceLength", m.source_length},
                                  {"written", m.written},
                                  {"duplicates", m.duplicates},
                                  {"preexisting", m.preexisting}});
  }
  j["queues"] = std::move(queues);
  json::array ops;
  for (const auto& op : r.operations) ops.emplace_back(op);
  j["operations"] = std::move(ops);
  json::array warnings;
  for (const auto& w : r.warnings) warnings.emplace_back(w);
  j["warnings"] = std::move(warnings);
  return j;
}

}  // namespace codeq::migrate
