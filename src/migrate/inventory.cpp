// Discovery of the legacy keyspace, snapshots for freeze detection, and the run state record.
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "migrate/internal.h"
#include "migrate/scan_util.h"

namespace codeq::migrate {
namespace json = boost::json;

std::string ScopeId(const Options& o) {
  std::string s = "from=" + o.layout.from + ";to=" + o.layout.to + ";tenant=" + o.layout.tenant + ";commands=";
  if (o.selection.all()) {
    s += "all";
  } else {
    bool first = true;
    for (const auto& c : o.selection.commands) {
      if (!first) s += ",";
      s += c;
      first = false;
    }
  }
  return s;
}

// --- Discover ------------------------------------------------------------------------------------

Result<Inventory> Discover(RedisClient& c, const Options& o) {
  Inventory inv;
  const Layout& L = o.layout;
  auto s = ScanKeys(c, L.SrcPattern(), o.batch_size, [&](std::vector<std::string>& keys) -> Status {
    inv.keys_scanned += static_cast<int64_t>(keys.size());
    auto types = Types(c, keys);
    if (!types.ok()) return types.status();
    for (size_t i = 0; i < keys.size(); ++i) {
      const std::string& type = (*types)[i];
      if (type == "none") continue;  // vanished (an expired lease)
      SourceKey k = L.Classify(keys[i]);
      switch (k.kind) {
        case SourceKind::kTasks:
          inv.tasks_type = type;
          break;
        case SourceKind::kTtl:
          inv.ttl_type = type;
          break;
        case SourceKind::kLease:
          if (type == "string") {
            inv.lease_ids.push_back(k.lease_id);
          } else {
            inv.lease_wrong_type.push_back(keys[i] + " (" + type + ")");
          }
          break;
        case SourceKind::kPending:
        case SourceKind::kInprog: {
          if (!o.selection.Includes(k.command)) {
            ++inv.unselected_queues;
            break;
          }
          QueueSource q;
          q.key = keys[i];
          q.kind = k.kind;
          q.command = k.command;
          q.type = type;
          q.dst_command = L.DstCommand(k.command);
          q.dst_key = k.kind == SourceKind::kPending ? L.DstPending(q.dst_command, 0) : L.DstInprog(q.dst_command);
          inv.queues.push_back(std::move(q));
          break;
        }
        case SourceKind::kUnknown:
          inv.unknown.emplace_back(keys[i], type);
          break;
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  std::sort(inv.queues.begin(), inv.queues.end(),
            [](const QueueSource& a, const QueueSource& b) { return a.key < b.key; });
  std::sort(inv.lease_ids.begin(), inv.lease_ids.end());
  inv.lease_ids.erase(std::unique(inv.lease_ids.begin(), inv.lease_ids.end()), inv.lease_ids.end());
  std::sort(inv.unknown.begin(), inv.unknown.end());
  if (inv.tasks_type != "none") {
    auto n = SizeOf(c, L.SrcTasks(), inv.tasks_type);
    if (!n.ok()) return n.status();
    inv.task_fields = *n;
  }
  if (inv.ttl_type != "none") {
    auto n = SizeOf(c, L.SrcTtl(), inv.ttl_type);
    if (!n.ok()) return n.status();
    inv.ttl_members = *n;
  }
  for (size_t i = 0; i < inv.queues.size(); i += static_cast<size_t>(o.batch_size)) {
    std::vector<Argv> cmds;
    size_t end = std::min(inv.queues.size(), i + static_cast<size_t>(o.batch_size));
    for (size_t j = i; j < end; ++j) {
      const auto& q = inv.queues[j];
      if (q.type == "list") cmds.push_back({"LLEN", q.key});
      else if (q.type == "set") cmds.push_back({"SCARD", q.key});
      else cmds.push_back({"EXISTS", q.key});
    }
    auto r = c.PipelineChecked(cmds);
    if (!r.ok()) return r.status();
    for (size_t j = i; j < end; ++j) {
      if (inv.queues[j].type == "list" || inv.queues[j].type == "set") inv.queues[j].length = (*r)[j - i].as_int();
    }
  }
  return inv;
}

Result<std::vector<bool>> SelectIds(RedisClient& c, const Options& o, const std::vector<std::string>& ids) {
  std::vector<bool> out(ids.size(), o.selection.all());
  if (o.selection.all() || ids.empty()) return out;
  Argv hmget = {"HMGET", o.layout.SrcTasks()};
  hmget.insert(hmget.end(), ids.begin(), ids.end());
  auto r = c.Call(hmget);
  if (!r.ok()) return r.status();
  if (r->is_error()) return out;  // no hash: nothing attributable
  for (size_t i = 0; i < ids.size() && i < r->elements.size(); ++i) {
    if (r->elements[i].is_nil()) continue;
    auto t = RewriteTask(o.layout, ids[i], r->elements[i].str);
    out[i] = t.parsed && o.selection.Includes(t.command);
  }
  return out;
}

// --- Snapshots -----------------------------------------------------------------------------------

Result<std::vector<std::string>> KeySignatures(RedisClient& c, const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  if (keys.empty()) return out;
  auto types = Types(c, keys);
  if (!types.ok()) return types.status();
  std::vector<Argv> cmds;
  std::vector<size_t> first(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    first[i] = cmds.size();
    const std::string& t = (*types)[i];
    if (t == "list") {
      cmds.push_back({"LLEN", keys[i]});
      cmds.push_back({"LINDEX", keys[i], "0"});
      cmds.push_back({"LINDEX", keys[i], "-1"});
    } else if (t == "hash") {
      cmds.push_back({"HLEN", keys[i]});
    } else if (t == "zset") {
      cmds.push_back({"ZCARD", keys[i]});
    } else if (t == "set") {
      cmds.push_back({"SCARD", keys[i]});
    } else if (t == "string") {
      cmds.push_back({"STRLEN", keys[i]});
    }
  }
  auto r = c.PipelineChecked(cmds);
  if (!r.ok()) return r.status();
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string& t = (*types)[i];
    std::string sig = t;
    if (t == "list") {
      sig += ":" + std::to_string((*r)[first[i]].as_int()) + ":" + (*r)[first[i] + 1].str + ":" + (*r)[first[i] + 2].str;
    } else if (t == "hash" || t == "zset" || t == "set" || t == "string") {
      sig += ":" + std::to_string((*r)[first[i]].as_int());
    }
    out.push_back(std::move(sig));
  }
  return out;
}

Result<std::string> KeySignature(RedisClient& c, const std::string& key) {
  auto r = KeySignatures(c, {key});
  if (!r.ok()) return r.status();
  return r->front();
}

Result<Fingerprint> TakeFingerprint(RedisClient& c, const Options& o) {
  Fingerprint f;
  const Layout& L = o.layout;
  std::vector<std::string> keys, lease_ids;
  auto s = ScanKeys(c, L.SrcPattern(), o.batch_size, [&](std::vector<std::string>& page) -> Status {
    for (auto& k : page) {
      SourceKey sk = L.Classify(k);
      if (sk.kind == SourceKind::kLease) {
        lease_ids.push_back(sk.lease_id);
      } else if ((sk.kind == SourceKind::kPending || sk.kind == SourceKind::kInprog) &&
                 !o.selection.Includes(sk.command)) {
        continue;
      } else {
        keys.push_back(k);
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  auto now = ServerTimeMs(c);
  if (!now.ok()) return now.status();
  f.at_ms = *now;
  s = ForEachChunk(keys, o.batch_size, [&](std::vector<std::string>& chunk) -> Status {
    auto sigs = KeySignatures(c, chunk);
    if (!sigs.ok()) return sigs.status();
    for (size_t j = 0; j < chunk.size(); ++j) {
      if ((*sigs)[j] != "none") f.keys[chunk[j]] = (*sigs)[j];
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  for (size_t i = 0; i < lease_ids.size(); i += static_cast<size_t>(o.batch_size)) {
    std::vector<Argv> cmds;
    size_t end = std::min(lease_ids.size(), i + static_cast<size_t>(o.batch_size));
    for (size_t j = i; j < end; ++j) {
      cmds.push_back({"GET", L.SrcLease(lease_ids[j])});
      cmds.push_back({"PTTL", L.SrcLease(lease_ids[j])});
    }
    auto r = c.Pipeline(cmds);
    if (!r.ok()) return r.status();
    for (size_t j = i; j < end; ++j) {
      const Reply& v = (*r)[2 * (j - i)];
      long long pttl = (*r)[2 * (j - i) + 1].as_int(-2);
      if (v.is_nil() || pttl == -2) continue;  // expired meanwhile
      LeaseSig sig;
      sig.value = v.is_error() ? "<" + v.str + ">" : v.str;
      sig.deadline_ms = pttl < 0 ? -1 : f.at_ms + pttl;
      f.leases[lease_ids[j]] = sig;
    }
  }
  return f;
}

std::vector<std::string> FingerprintDiff(const Fingerprint& a, const Fingerprint& b, int tolerance_ms, size_t limit) {
  std::vector<std::string> out;
  auto add = [&](std::string s) {
    if (out.size() < limit) out.push_back(std::move(s));
  };
  for (const auto& [k, sig] : a.keys) {
    auto it = b.keys.find(k);
    if (it == b.keys.end()) add(k + " was deleted");
    else if (it->second != sig) add(k + " changed (" + sig + " -> " + it->second + ")");
  }
  for (const auto& [k, sig] : b.keys) {
    if (!a.keys.count(k)) add(k + " was created");
  }
  for (const auto& [id, l] : a.leases) {
    auto it = b.leases.find(id);
    if (it == b.leases.end()) {
      // Gone: fine when it was due to expire by the second snapshot.
      if (l.deadline_ms < 0 || l.deadline_ms > b.at_ms + tolerance_ms) add("lease " + id + " was deleted before it expired");
    } else if (it->second.value != l.value) {
      add("lease " + id + " changed owner");
    } else if ((l.deadline_ms < 0) != (it->second.deadline_ms < 0) ||
               std::llabs(it->second.deadline_ms - l.deadline_ms) > tolerance_ms) {
      add("lease " + id + " was extended or re-created");
    }
  }
  for (const auto& [id, l] : b.leases) {
    if (!a.leases.count(id)) add("lease " + id + " was created");
  }
  return out;
}

// --- State ---------------------------------------------------------------------------------------

std::string MarkerField(const std::string& scope, const std::string& src) { return scope + "|queue|" + src; }
std::string BackupField(const std::string& scope, const std::string& src) { return scope + "|backup|" + src; }

std::string MarkerJson(const QueueMarker& m) {
  json::object o;
  o["src"] = m.src;
  o["dst"] = m.dst;
  o["kind"] = m.kind;
  o["signature"] = m.signature;
  o["sourceLength"] = m.source_length;
  o["written"] = m.written;
  o["duplicates"] = m.duplicates;
  o["preexisting"] = m.preexisting;
  return json::serialize(o);
}

namespace {

std::string Str(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}
int64_t Int(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v != nullptr && v->is_int64() ? v->as_int64() : 0;
}

}  // namespace

Result<RunState> LoadState(RedisClient& c, const Options& o) {
  RunState s;
  auto type = c.Checked({"TYPE", o.layout.StateKey()});
  if (!type.ok()) return type.status();
  if (type->str == "none") return s;
  if (type->str != "hash") return Conflict(o.layout.StateKey() + " is a " + type->str + ", expected a hash");
  const std::string scope = ScopeId(o);
  const std::string qprefix = scope + "|queue|";
  const std::string bprefix = scope + "|backup|";
  auto s_ok = ScanPairs(c, "HSCAN", o.layout.StateKey(), "0", 1000,
                        [&](std::vector<std::pair<std::string, std::string>>& page, const std::string&) -> Status {
    for (auto& [field, value] : page) {
      boost::system::error_code ec;
      if (field == scope) {
        json::value v = json::parse(value, ec);
        if (ec || !v.is_object()) return Internal("unreadable migration state in " + o.layout.StateKey());
        const auto& j = v.as_object();
        s.exists = true;
        s.status = Str(j, "status");
        s.phase = Str(j, "phase");
        s.mode = Str(j, "mode");
        s.backup = Str(j, "backup");
        s.tenant = Str(j, "tenant");
        s.from = Str(j, "from");
        s.to = Str(j, "to");
        s.merge = j.if_contains("merge") && j.at("merge").is_bool() && j.at("merge").as_bool();
        s.started_at = Str(j, "startedAt");
        s.updated_at = Str(j, "updatedAt");
        s.completed_at = Str(j, "completedAt");
        s.abort_reason = Str(j, "abortReason");
        if (auto* a = j.if_contains("commands"); a && a->is_array()) {
          for (auto& x : a->as_array()) {
            if (x.is_string()) s.commands.emplace_back(x.as_string());
          }
        }
        if (auto* m = j.if_contains("renames"); m && m->is_object()) {
          for (auto& [k, x] : m->as_object()) {
            if (x.is_string()) s.renames[std::string(k)] = std::string(x.as_string());
          }
        }
        if (auto* m = j.if_contains("cursors"); m && m->is_object()) {
          for (auto& [k, x] : m->as_object()) {
            if (x.is_string()) s.cursors[std::string(k)] = std::string(x.as_string());
          }
        }
        if (auto* a = j.if_contains("stepsDone"); a && a->is_array()) {
          for (auto& x : a->as_array()) {
            if (x.is_string()) s.steps_done.insert(std::string(x.as_string()));
          }
        }
        if (auto* m = j.if_contains("counts"); m && m->is_object()) {
          for (auto& [k, x] : m->as_object()) {
            if (x.is_int64()) s.counts[std::string(k)] = x.as_int64();
          }
        }
      } else if (field.rfind(qprefix, 0) == 0) {
        json::value v = json::parse(value, ec);
        if (ec || !v.is_object()) continue;
        const auto& j = v.as_object();
        QueueMarker m;
        m.src = Str(j, "src");
        m.dst = Str(j, "dst");
        m.kind = Str(j, "kind");
        m.signature = Str(j, "signature");
        m.source_length = Int(j, "sourceLength");
        m.written = Int(j, "written");
        m.duplicates = Int(j, "duplicates");
        m.preexisting = Int(j, "preexisting");
        s.queues[field.substr(qprefix.size())] = m;
      } else if (field.rfind(bprefix, 0) == 0) {
        s.backups[field.substr(bprefix.size())] = value;
      }
    }
    return Status::Ok();
  });
  if (!s_ok.ok()) return s_ok;
  if (!s.exists && (!s.queues.empty() || !s.backups.empty())) s.exists = true;  // markers without a record
  return s;
}

Argv SaveStateArgv(const Options& o, const RunState& s) {
  json::object j;
  j["version"] = 1;
  j["status"] = s.status;
  j["phase"] = s.phase;
  j["mode"] = s.mode;
  j["backup"] = s.backup;
  j["merge"] = s.merge;
  j["from"] = o.layout.from;
  j["to"] = o.layout.to;
  j["tenant"] = o.layout.tenant;
  json::array cmds;
  for (const auto& c : o.selection.commands) cmds.emplace_back(c);
  j["commands"] = std::move(cmds);
  json::object renames;
  for (const auto& [k, v] : o.layout.renames) renames[k] = v;
  j["renames"] = std::move(renames);
  j["startedAt"] = s.started_at;
  j["updatedAt"] = NowText();
  if (!s.completed_at.empty()) j["completedAt"] = s.completed_at;
  if (!s.abort_reason.empty()) j["abortReason"] = s.abort_reason;
  json::object cursors;
  for (const auto& [k, v] : s.cursors) cursors[k] = v;
  j["cursors"] = std::move(cursors);
  json::array steps;
  for (const auto& x : s.steps_done) steps.emplace_back(x);
  j["stepsDone"] = std::move(steps);
  json::object counts;
  for (const auto& [k, v] : s.counts) counts[k] = v;
  j["counts"] = std::move(counts);
  return {"HSET", o.layout.StateKey(), ScopeId(o), json::serialize(j)};
}

Status SaveState(RedisClient& c, const Options& o, const RunState& s) {
  auto r = c.Checked(SaveStateArgv(o, s));
  return r.ok() ? Status::Ok() : r.status();
}

Status DeleteState(RedisClient& c, const Options& o, const RunState& s) {
  const std::string scope = ScopeId(o);
  Argv hdel = {"HDEL", o.layout.StateKey(), scope};
  for (const auto& [src, m] : s.queues) hdel.push_back(MarkerField(scope, src));
  for (const auto& [src, b] : s.backups) hdel.push_back(BackupField(scope, src));
  auto r = c.Checked(hdel);
  return r.ok() ? Status::Ok() : r.status();
}

// --- Formatting ----------------------------------------------------------------------------------

std::string NowText() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatSeconds(double s) {
  char buf[64];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%d min %d s", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%d h %d min", static_cast<int>(s) / 3600, (static_cast<int>(s) % 3600) / 60);
  }
  return buf;
}

std::string JoinSample(const std::vector<std::string>& items, size_t max) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max; ++i) {
    if (i) out += ", ";
    out += items[i];
  }
  if (items.size() > max) out += ", ... (+" + std::to_string(items.size() - max) + " more)";
  return out;
}

}  // namespace codeq::migrate
