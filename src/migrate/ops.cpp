// `codeq migrate rollback`, `inprog-to-set` and `drain-status`.
#include <sstream>
#include <unordered_set>

#include "migrate/internal.h"
#include "migrate/scan_util.h"

namespace codeq::migrate {
namespace json = boost::json;

const char* kOperatorSequence() {
  return "Operator sequence (SPEC §11):\n"
         "  1. freeze: stop every legacy producer and worker (nothing may write to the legacy keys)\n"
         "  2. codeq migrate plan --redis URL            (read-only; fix what it reports)\n"
         "  3. codeq migrate run --redis URL [--mode copy|move]\n"
         "  4. start codeQ on the same Redis: codeq serve --store redis://...\n"
         "  5. unfreeze the clients, now pointed at /v1/codeq (workers with worker tokens)\n"
         "  6. codeq migrate verify --redis URL [--server http://codeq:8080 --admin-token T] [--canary ...]\n"
         "Rollback: freeze the clients again, `codeq migrate rollback --redis URL` (restores the legacy keys kept by\n"
         "mode copy or by --backup keys, and removes the migrated IDs from the codeQ keyspace), then repoint the\n"
         "clients to /v1/scheduler and restart the legacy scheduler. After --backup external, restore the Redis\n"
         "backup first, then run rollback to clean the codeQ keyspace.\n"
         "v1.0 -> v1.1 upgrade: in-progress queues became sets; with clients frozen run `codeq migrate inprog-to-set`,\n"
         "or drain in-progress work first (`codeq migrate drain-status` exits non-zero while work remains).";
}

// --- rollback ------------------------------------------------------------------------------------

namespace {

Status RestoreBackup(RedisClient& c, const Options& o, const std::string& src, const std::string& bkey,
                     RollbackReport& rep) {
  auto types = Types(c, {bkey, src});
  if (!types.ok()) return types.status();
  const std::string& bt = (*types)[0];
  const std::string& st = (*types)[1];
  if (bt == "none") return Status::Ok();  // an expired lease, or already restored
  if (o.dry_run) {
    rep.operations.push_back("restore " + src + " from " + bkey);
    return Status::Ok();
  }
  if (st == "none") {
    auto r = c.Checked({"RENAME", bkey, src});
    if (!r.ok()) return r.status();
    ++rep.restored_keys;
    return Status::Ok();
  }
  if ((bt == "hash" || bt == "zset") && st == bt) {  // a partial (--commands) run moved fields only
    const bool hash = bt == "hash";
    auto s = ScanPairs(c, hash ? "HSCAN" : "ZSCAN", bkey, "0", o.batch_size,
                       [&](std::vector<std::pair<std::string, std::string>>& page, const std::string&) -> Status {
      Argv put = {hash ? "HSET" : "ZADD", src};
      for (auto& [k, v] : page) {
        if (hash) {
          put.push_back(k);
          put.push_back(v);
        } else {
          put.push_back(v);
          put.push_back(k);
        }
      }
      if (page.empty()) return Status::Ok();
      auto r = c.Checked(put);
      if (!r.ok()) return r.status();
      rep.restored_fields += static_cast<int64_t>(page.size());
      return Status::Ok();
    });
    if (!s.ok()) return s;
    auto r = c.Checked({"DEL", bkey});
    return r.ok() ? Status::Ok() : r.status();
  }
  if (!o.force) {
    return Conflict("legacy key " + src + " exists again (" + st + ") while its backup " + bkey +
                    " is kept; --force replaces it with the backup");
  }
  auto r = c.Checked({"RENAME", bkey, src});
  if (!r.ok()) return r.status();
  ++rep.restored_keys;
  return Status::Ok();
}

// Removes `ids` from one destination queue key of any type, keeping every other entry in order.
Status RemoveIdsFromKey(RedisClient& c, const Options& o, const std::string& key,
                        const std::unordered_set<std::string>& ids, RollbackReport& rep) {
  auto t = c.Checked({"TYPE", key});
  if (!t.ok()) return t.status();
  const std::string& type = t->str;
  if (type == "none") return Status::Ok();
  if (type == "list") {
    auto items = ReadList(c, key, o.batch_size);
    if (!items.ok()) return items.status();
    std::vector<std::string> keep;
    for (auto& id : *items) {
      if (!ids.count(id)) keep.push_back(std::move(id));
    }
    int64_t removed = static_cast<int64_t>(items->size() - keep.size());
    if (removed == 0) return Status::Ok();
    rep.removed_queue_entries += removed;
    if (o.dry_run) {
      rep.operations.push_back("remove " + std::to_string(removed) + " legacy IDs from " + key);
      return Status::Ok();
    }
    // Rebuilt in a temp key and renamed over the original: readers never see a partial list.
    const std::string tmp = o.layout.TmpKey(key);
    if (auto r = c.Checked({"DEL", tmp}); !r.ok()) return r.status();
    for (size_t i = 0; i < keep.size(); i += static_cast<size_t>(o.batch_size)) {
      Argv push = {"RPUSH", tmp};
      size_t end = std::min(keep.size(), i + static_cast<size_t>(o.batch_size));
      push.insert(push.end(), keep.begin() + static_cast<long>(i), keep.begin() + static_cast<long>(end));
      if (auto r = c.Checked(push); !r.ok()) return r.status();
    }
    auto r = keep.empty() ? c.Checked({"DEL", key}) : c.Checked({"RENAME", tmp, key});
    return r.ok() ? Status::Ok() : r.status();
  }
  if (type != "set" && type != "zset") return Status::Ok();
  std::vector<std::string> members;
  if (type == "set") {
    auto m = ReadSet(c, key, o.batch_size);
    if (!m.ok()) return m.status();
    members = std::move(*m);
  } else {
    auto s = ScanPairs(c, "ZSCAN", key, "0", o.batch_size,
                       [&](std::vector<std::pair<std::string, std::string>>& page, const std::string&) -> Status {
      for (auto& kv : page) members.push_back(kv.first);
      return Status::Ok();
    });
    if (!s.ok()) return s;
  }
  Argv rem = {type == "set" ? "SREM" : "ZREM", key};
  for (const auto& m : members) {
    if (ids.count(m)) rem.push_back(m);
  }
  if (rem.size() == 2) return Status::Ok();
  rep.removed_queue_entries += static_cast<int64_t>(rem.size() - 2);
  if (o.dry_run) {
    rep.operations.push_back("remove " + std::to_string(rem.size() - 2) + " legacy IDs from " + key);
    return Status::Ok();
  }
  auto r = c.Checked(rem);
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace

Result<RollbackReport> Rollback(RedisClient& c, const Options& o, const RollbackOptions& ro, Progress* progress) {
  RollbackReport rep;
  const Layout& L = o.layout;
  auto st = LoadState(c, o);
  if (!st.ok()) return st.status();
  if (!st->exists && !o.force) {
    return NotFound("no migration run of this scope is recorded in " + L.StateKey() +
                    " (check --from-prefix/--to-prefix/--tenant/--commands); --force removes the legacy IDs from "
                    "the codeQ keyspace anyway");
  }

  // 1. Bring the legacy keys back from the backup copies.
  if (progress) progress->Begin("restore legacy keys", static_cast<int64_t>(st->backups.size()));
  for (const auto& [src, bkey] : st->backups) {
    if (auto s = RestoreBackup(c, o, src, bkey, rep); !s.ok()) return s;
    if (progress) progress->Advance(1);
  }
  if (progress) progress->End();

  auto inv = Discover(c, o);
  if (!inv.ok()) return inv.status();
  const bool source_empty = inv->tasks_type == "none" && inv->queues.empty();
  if (source_empty && st->mode == "move" && st->backup == "external" && !o.dry_run && !o.force) {
    return Conflict("the legacy keys were deleted by `run --mode move --backup external`: restore them from your "
                    "Redis backup first (only the legacy keys), then run `codeq migrate rollback` again to remove "
                    "the migrated IDs from the codeQ keyspace (--force skips this check)");
  }

  // 2. Which IDs came from the legacy keyspace.
  std::unordered_set<std::string> ids;
  if (inv->tasks_type == "hash") {
    auto s = ScanPairs(c, "HSCAN", L.SrcTasks(), "0", o.batch_size,
                       [&](std::vector<std::pair<std::string, std::string>>& page, const std::string&) -> Status {
      for (auto& [id, text] : page) {
        TaskRewrite t = RewriteTask(L, id, text);
        if (o.selection.all() || (t.parsed && o.selection.Includes(t.command))) ids.insert(id);
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
    rep.legacy_tasks = static_cast<int64_t>(ids.size());
  }
  std::set<std::string> dst_commands;
  for (const auto& q : inv->queues) {
    dst_commands.insert(q.dst_command);
    rep.legacy_queue_items += q.length;
    auto s = QueueItems(c, q, o.batch_size, [&](std::vector<std::string>& page) -> Status {
      ids.insert(page.begin(), page.end());
      return Status::Ok();
    });
    if (!s.ok()) return s;
  }
  for (const auto& [src, m] : st->queues) {
    SourceKey sk = L.Classify(src);
    if (sk.kind == SourceKind::kPending || sk.kind == SourceKind::kInprog) dst_commands.insert(L.DstCommand(sk.command));
  }

  // 3. Remove them from the codeQ keyspace.
  if (!ro.keep_destination) {
    std::vector<std::string> list(ids.begin(), ids.end());
    std::sort(list.begin(), list.end());
    if (progress) progress->Begin("remove migrated IDs", static_cast<int64_t>(list.size()));
    for (size_t i = 0; i < list.size(); i += static_cast<size_t>(o.batch_size)) {
      size_t end = std::min(list.size(), i + static_cast<size_t>(o.batch_size));
      Argv hdel = {"HDEL", L.DstTasks()};
      Argv zrem = {"ZREM", L.DstTtl()};
      Argv hdel_res = {"HDEL", L.DstResults()};
      Argv del = {"DEL"};
      for (size_t j = i; j < end; ++j) {
        hdel.push_back(list[j]);
        zrem.push_back(list[j]);
        hdel_res.push_back(list[j]);
        del.push_back(L.DstLease(list[j]));
      }
      if (o.dry_run) {
        Argv hmget = {"HMGET", L.DstTasks()};
        hmget.insert(hmget.end(), list.begin() + static_cast<long>(i), list.begin() + static_cast<long>(end));
        auto r = c.Checked(hmget);
        if (!r.ok()) return r.status();
        for (const auto& e : r->elements) rep.removed_tasks += e.is_nil() ? 0 : 1;
      } else {
        auto r = c.Pipeline({hdel, zrem, hdel_res, del});
        if (!r.ok()) return r.status();
        rep.removed_tasks += (*r)[0].as_int();
        rep.removed_results += (*r)[2].as_int();
        rep.removed_leases += (*r)[3].as_int();
      }
      if (progress) progress->Advance(static_cast<int64_t>(end - i));
    }
    if (progress) progress->End();
    for (const auto& cmd : dst_commands) {
      std::vector<std::string> keys;
      for (int p = 0; p <= 9; ++p) keys.push_back(L.DstPending(cmd, p));
      keys.push_back(L.DstInprog(cmd));
      keys.push_back(L.DstDelayed(cmd));
      keys.push_back(L.DstDlq(cmd));
      for (const auto& k : keys) {
        if (auto s = RemoveIdsFromKey(c, o, k, ids, rep); !s.ok()) return s;
      }
      if (!o.dry_run) (void)c.Call({"DEL", L.TmpKey(L.DstPending(cmd, 0)), L.TmpKey(L.DstInprog(cmd))});
    }
    if (o.dry_run) {
      rep.operations.push_back("remove " + std::to_string(rep.removed_tasks) + " migrated task records (and their "
                               "retention entries, results and leases) from the codeQ keyspace");
    }
  }

  // 4. Forget the run.
  if (st->exists) {
    if (o.dry_run) {
      rep.operations.push_back("delete the run record of this scope from " + L.StateKey());
    } else if (auto s = DeleteState(c, o, *st); !s.ok()) {
      return s;
    }
  }
  if (inv->tasks_type == "none" && inv->queues.empty()) {
    rep.warnings.push_back("the legacy keyspace is empty: there is nothing for the legacy scheduler to resume");
  }
  return rep;
}

std::string RollbackText(const RollbackReport& r, const Options& o) {
  std::ostringstream out;
  if (o.dry_run) {
    out << "Dry run: nothing was changed. Rollback would:\n";
    for (const auto& op : r.operations) out << "  - " << op << "\n";
  } else {
    out << "Rollback done.\n"
        << "  legacy keys restored from backups: " << r.restored_keys << " keys, " << r.restored_fields << " fields\n"
        << "  legacy keyspace now holds " << r.legacy_tasks << " task records and " << r.legacy_queue_items
        << " queued IDs\n"
        << "  removed from the codeQ keyspace: " << r.removed_tasks << " task records, " << r.removed_queue_entries
        << " queue entries, " << r.removed_leases << " leases, " << r.removed_results << " results\n";
  }
  for (const auto& w : r.warnings) out << "  note: " << w << "\n";
  out << "Next: repoint the clients to /v1/scheduler, start the legacy scheduler, then unfreeze the clients.\n";
  return out.str();
}

json::object RollbackJson(const RollbackReport& r) {
  json::array ops, warnings;
  for (const auto& x : r.operations) ops.emplace_back(x);
  for (const auto& x : r.warnings) warnings.emplace_back(x);
  return {{"restoredKeys", r.restored_keys},
          {"restoredFields", r.restored_fields},
          {"removedTasks", r.removed_tasks},
          {"removedQueueEntries", r.removed_queue_entries},
          {"removedLeases", r.removed_leases},
          {"removedResults", r.removed_results},
          {"legacyTasks", r.legacy_tasks},
          {"legacyQueueItems", r.legacy_queue_items},
          {"operations", std::move(ops)},
          {"warnings", std::move(warnings)}};
}

// --- inprog-to-set -------------------------------------------------------------------------------

namespace {

// KEYS: 1 the in-progress list, 2 the temp set. ARGV: 1 length, 2 first, 3 last element seen when
// the set was built. Replaces the list by the set in one step, unless the list changed meanwhile.
constexpr const char* kSwapScript = R"lua(
if redis.call('TYPE', KEYS[1]).ok ~= 'list' then return 'changed' end
if redis.call('LLEN', KEYS[1]) ~= tonumber(ARGV[1]) then return 'changed' end
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[2] or redis.call('LINDEX', KEYS[1], -1) ~= ARGV[3] then return 'changed' end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1])
  return 'ok'
end
redis.call('RENAME', KEYS[2], KEYS[1])
return 'ok'
)lua";

// "<to>:q:<cmd>[:<tenant>]:inprog" -> cmd, tenant. False for other shapes.
bool ParseInprogKey(const Layout& L, const std::string& key, std::string& cmd, std::string& tenant) {
  std::string head = L.to + ":q:";
  const std::string tail = ":inprog";
  if (key.rfind(head, 0) != 0 || key.size() <= head.size() + tail.size() ||
      key.compare(key.size() - tail.size(), tail.size(), tail) != 0) {
    return false;
  }
  std::string mid = key.substr(head.size(), key.size() - head.size() - tail.size());
  auto colon = mid.find(':');
  cmd = mid.substr(0, colon);
  tenant = colon == std::string::npos ? "" : mid.substr(colon + 1);
  return !cmd.empty();
}

Result<std::vector<std::string>> InprogListKeys(RedisClient& c, const Options& o, std::vector<std::string>* sets) {
  const Layout& L = o.layout;
  std::vector<std::string> lists;
  auto s = ScanKeys(c, GlobEscape(L.to) + ":q:*:inprog", o.batch_size, [&](std::vector<std::string>& page) -> Status {
    std::vector<std::string> keep;
    for (const auto& k : page) {
      std::string cmd, tenant;
      if (!ParseInprogKey(L, k, cmd, tenant)) continue;
      if (!o.selection.Includes(cmd)) continue;
      if (!L.tenant.empty() && tenant != L.tenant) continue;
      keep.push_back(k);
    }
    auto types = Types(c, keep);
    if (!types.ok()) return types.status();
    for (size_t i = 0; i < keep.size(); ++i) {
      if ((*types)[i] == "list") lists.push_back(keep[i]);
      else if ((*types)[i] == "set" && sets != nullptr) sets->push_back(keep[i]);
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  std::sort(lists.begin(), lists.end());
  return lists;
}

}  // namespace

Result<InprogReport> ConvertInprog(RedisClient& c, const Options& o, Progress* progress) {
  InprogReport rep;
  std::vector<std::string> sets;
  auto lists = InprogListKeys(c, o, &sets);
  if (!lists.ok()) return lists.status();
  rep.already_sets = static_cast<int64_t>(sets.size());
  if (progress) progress->Begin("convert in-progress lists", static_cast<int64_t>(lists->size()));
  for (const auto& key : *lists) {
    InprogConversion conv;
    conv.key = key;
    auto ends = c.PipelineChecked({{"LLEN", key}, {"LINDEX", key, "0"}, {"LINDEX", key, "-1"}});
    if (!ends.ok()) return ends.status();
    conv.list_length = (*ends)[0].as_int();
    const std::string tmp = o.layout.TmpKey(key);
    if (o.dry_run) {
      auto items = ReadList(c, key, o.batch_size);
      if (!items.ok()) return items.status();
      std::unordered_set<std::string> u(items->begin(), items->end());
      conv.set_size = static_cast<int64_t>(u.size());
      conv.duplicates = conv.list_length - conv.set_size;
      conv.result = "would-convert";
    } else {
      if (auto r = c.Checked({"DEL", tmp}); !r.ok()) return r.status();
      auto s = ListPages(c, key, o.batch_size, [&](std::vector<std::string>& page, long long) -> Status {
        Argv sadd = {"SADD", tmp};
        sadd.insert(sadd.end(), page.begin(), page.end());
        auto r = c.Checked(sadd);
        return r.ok() ? Status::Ok() : r.status();
      });
      if (!s.ok()) return s;
      auto n = c.Checked({"SCARD", tmp});
      if (!n.ok()) return n.status();
      conv.set_size = n->as_int();
      conv.duplicates = conv.list_length - conv.set_size;
      auto r = c.Checked({"EVAL", kSwapScript, "2", key, tmp, std::to_string(conv.list_length), (*ends)[1].str,
                          (*ends)[2].str});
      if (!r.ok()) return r.status();
      if (r->str == "ok") {
        conv.result = "converted";
        ++rep.converted;
        rep.duplicates += conv.duplicates;
      } else {
        (void)c.Call({"DEL", tmp});
        conv.result = "changed";
      }
    }
    rep.keys.push_back(conv);
    if (progress) progress->Advance(1);
  }
  if (progress) progress->End();
  return rep;
}

std::string InprogText(const InprogReport& r, const Options& o) {
  std::ostringstream out;
  out << "WARNING: run this only while every codeQ server and client is stopped (the v1.1 upgrade freeze). The "
         "alternative is to drain in-progress work on v1.0 first (`codeq migrate drain-status`).\n";
  if (r.keys.empty()) {
    out << "No list-typed in-progress key under " << o.layout.to << ":q:*:inprog (" << r.already_sets
        << " are sets already): nothing to convert.\n";
    return out.str();
  }
  int changed = 0;
  for (const auto& k : r.keys) {
    out << "  " << k.key << ": list of " << k.list_length << " -> set of " << k.set_size;
    if (k.duplicates) out << " (" << k.duplicates << " duplicates collapsed)";
    out << "  [" << k.result << "]\n";
    if (k.result == "changed") ++changed;
  }
  if (o.dry_run) {
    out << "Dry run: nothing was changed.\n";
  } else {
    out << "Converted " << r.converted << " keys (" << r.duplicates << " duplicates collapsed); " << r.already_sets
        << " keys were sets already.\n";
  }
  if (changed) {
    out << changed << " keys changed while being converted and were left as lists: clients are still running. "
                      "Freeze them and run again.\n";
  }
  return out.str();
}

json::object InprogJson(const InprogReport& r) {
  json::array keys;
  for (const auto& k : r.keys) {
    keys.push_back(json::object{{"key", k.key},
                                {"listLength", k.list_length},
                                {"setSize", k.set_size},
                                {"duplicates", k.duplicates},
                                {"result", k.result}});
  }
  return {{"keys", std::move(keys)},
          {"converted", r.converted},
          {"alreadySets", r.already_sets},
          {"duplicates", r.duplicates}};
}

// --- drain-status --------------------------------------------------------------------------------

bool DrainReport::drained() const {
  for (const auto& row : legacy) {
    if (row.pending > 0 || row.inprog > 0) return false;
  }
  for (const auto& [k, n] : v1_inprog_lists) {
    if (n > 0) return false;
  }
  return true;
}

Result<DrainReport> DrainStatus(RedisClient& c, const Options& o) {
  DrainReport rep;
  auto inv = Discover(c, o);
  if (!inv.ok()) return inv.status();
  std::map<std::string, DrainRow> rows;
  for (const auto& q : inv->queues) {
    DrainRow& row = rows[q.command];
    row.command = q.command;
    (q.kind == SourceKind::kPending ? row.pending : row.inprog) += q.length;
  }
  for (auto& [k, row] : rows) rep.legacy.push_back(row);
  rep.legacy_leases = static_cast<int64_t>(inv->lease_ids.size());
  auto lists = InprogListKeys(c, o, nullptr);
  if (!lists.ok()) return lists.status();
  for (const auto& k : *lists) {
    auto n = c.Checked({"LLEN", k});
    if (!n.ok()) return n.status();
    rep.v1_inprog_lists.emplace_back(k, n->as_int());
  }
  return rep;
}

std::string DrainText(const DrainReport& r, const Options& o) {
  std::ostringstream out;
  if (r.legacy.empty()) {
    out << "Legacy keyspace (" << o.layout.from << ":q:*): no pending or in-progress work.\n";
  } else {
    char buf[256];
    std::snprintf(buf, sizeof buf, "  %-40s %10s %12s\n", "legacy command", "pending", "in progress");
    out << buf;
    for (const auto& row : r.legacy) {
      std::snprintf(buf, sizeof buf, "  %-40s %10lld %12lld\n", row.command.c_str(), static_cast<long long>(row.pending),
                    static_cast<long long>(row.inprog));
      out << buf;
    }
  }
  if (r.legacy_leases > 0) out << "  legacy leases still held: " << r.legacy_leases << "\n";
  for (const auto& [k, n] : r.v1_inprog_lists) {
    out << "  v1.0 in-progress list " << k << ": " << n << " IDs (drain it, or `codeq migrate inprog-to-set`)\n";
  }
  out << (r.drained() ? "Drained: nothing remains.\n" : "Work remains (exit code 3).\n");
  return out.str();
}

json::object DrainJson(const DrainReport& r) {
  json::array rows, lists;
  for (const auto& row : r.legacy) {
    rows.push_back(json::object{{"command", row.command}, {"pending", row.pending}, {"inProgress", row.inprog}});
  }
  for (const auto& [k, n] : r.v1_inprog_lists) lists.push_back(json::object{{"key", k}, {"length", n}});
  return {{"legacy", std::move(rows)},
          {"legacyLeases", r.legacy_leases},
          {"v1InprogLists", std::move(lists)},
          {"drained", r.drained()}};
}

}  // namespace codeq::migrate
