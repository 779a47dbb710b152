// `codeq migrate plan`: a read-only analysis of the legacy keyspace and of the destination.
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <unordered_set>

#include "migrate/internal.h"
#include "migrate/scan_util.h"

namespace codeq::migrate {
namespace json = boost::json;

namespace {

void Sample(std::vector<std::string>& v, std::string s, size_t max = 20) {
  if (v.size() < max) v.push_back(std::move(s));
}

bool SameScore(const std::string& a, const std::string& b) {
  if (a == b) return true;
  char* ea = nullptr;
  char* eb = nullptr;
  double x = std::strtod(a.c_str(), &ea);
  double y = std::strtod(b.c_str(), &eb);
  return *ea == '\0' && *eb == '\0' && x == y;
}

}  // namespace

/// Pages of a legacy queue key (list: head→tail; set: SSCAN order).
Status QueueItems(RedisClient& c, const QueueSource& q, int batch,
                  const std::function<Status(std::vector<std::string>&)>& fn) {
  if (q.type == "set") return ScanSet(c, q.key, batch, fn);
  // Another type is a key the plan refused or `run --force` skipped: no items came from it.
  if (q.type != "list") return Status::Ok();
  return ListPages(c, q.key, batch, [&](std::vector<std::string>& page, long long) { return fn(page); });
}

Result<PlanReport> BuildPlan(RedisClient& c, const Options& o, Progress* progress) {
  auto t0 = std::chrono::steady_clock::now();
  const Layout& L = o.layout;
  PlanReport p;
  auto st = LoadState(c, o);
  if (!st.ok()) return st.status();
  p.state = std::move(*st);
  const bool resume = p.state.exists && p.state.status != "completed";
  const bool completed = p.state.exists && p.state.status == "completed";

  auto inv = Discover(c, o);
  if (!inv.ok()) return inv.status();
  p.inv = std::move(*inv);
  const Inventory& I = p.inv;

  if (!L.tenant.empty() && !ValidTenant(L.tenant)) {
    p.blocking.push_back("--tenant '" + L.tenant + "' is not a valid tenant ([A-Za-z0-9._-]{1,64})");
  }
  for (const auto& [from, to] : L.renames) {
    if (auto why = CommandProblem(to); !why.empty()) {
      p.blocking.push_back("--rename-command " + from + "=" + to + ": the new name " + why +
                           " (commands must match [A-Za-z0-9._-]{1,128})");
    }
  }

  // Destination structures that are never overwritten with another type.
  {
    std::vector<std::string> keys = {L.DstTasks(), L.DstTtl(), L.DstCommands(), L.DstResults()};
    std::vector<std::string> want = {"hash", "zset", "set", "hash"};
    auto types = Types(c, keys);
    if (!types.ok()) return types.status();
    for (size_t i = 0; i < keys.size(); ++i) {
      if ((*types)[i] != "none" && (*types)[i] != want[i]) {
        p.blocking.push_back("destination " + keys[i] + " is a " + (*types)[i] + ", expected a " + want[i] +
                             " (a key of another type is never overwritten)");
      }
    }
  }

  auto note_invalid = [&](const std::string& legacy_cmd) {
    std::string dst = L.DstCommand(legacy_cmd);
    std::string why = CommandProblem(dst);
    if (!why.empty() && !L.RenameOf(legacy_cmd)) p.invalid_commands[legacy_cmd] = why;
    return why.empty();
  };

  int64_t total = I.task_fields + I.ttl_members + static_cast<int64_t>(I.lease_ids.size());
  for (const auto& q : I.queues) total += q.length;
  if (progress) progress->Begin("plan: reading", total);

  std::set<std::string> record_commands;  // lower-cased destination commands seen in task records

  // --- Tasks ---------------------------------------------------------------------------------------
  if (I.tasks_type == "hash") {
    p.tasks.keys = 1;
    auto s = ScanTasks(c, o, "0", [&](TaskPage& page, const std::string&) -> Status {
      if (progress) progress->Advance(static_cast<int64_t>(page.scanned));
      p.tasks_unselected += page.unselected;
      p.tasks_unparsable += page.skipped;
      p.tasks.items += page.skipped;
      p.tasks.skipped += page.skipped;
      for (const TaskRewrite& t : page.tasks) {
        ++p.tasks.items;
        if (!t.parsed) {
          ++p.tasks_unparsable;
          continue;
        }
        if (note_invalid(t.command)) {
          p.command_members.insert(L.CommandsMember(t.dst_command));
          record_commands.insert(Lower(t.dst_command));
        }
        if (t.tenant_changed) ++p.tasks_tenant_rewritten;
        if (t.renamed) ++p.tasks_renamed;
        if (t.id_added) ++p.tasks_id_added;
        if (t.id_mismatch) ++p.tasks_id_mismatch;
      }
      const auto& ids = page.ids;
      if (ids.empty()) return Status::Ok();
      Argv hmget = {"HMGET", L.DstTasks()};
      hmget.insert(hmget.end(), ids.begin(), ids.end());
      auto r = c.Call(hmget);
      if (!r.ok()) return r.status();
      if (r->is_error()) {  // destination of another type: already blocking
        p.tasks.to_write += static_cast<int64_t>(ids.size());
        return Status::Ok();
      }
      for (size_t i = 0; i < ids.size(); ++i) {
        const Reply& d = r->elements[i];
        if (d.is_nil()) {
          ++p.tasks.to_write;
        } else if (d.str == page.tasks[i].text) {
          ++p.tasks.already;
        } else if (resume && !o.merge) {
          ++p.tasks.to_write;  // written by the interrupted run: refreshed from the source
        } else {
          ++p.tasks.conflicts;
          Sample(p.conflict_samples, L.DstTasks() + " field " + ids[i] + " differs from the legacy record");
        }
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
  } else if (I.tasks_type != "none") {
    p.blocking.push_back("legacy " + L.SrcTasks() + " is a " + I.tasks_type + ", expected a hash");
  }

  // --- Retention index -------------------------------------------------------------------------------
  if (I.ttl_type == "zset") {
    p.ttl.keys = 1;
    auto s = ScanSelected(c, o, "ZSCAN", L.SrcTtl(), "0",
                          [&](std::vector<std::pair<std::string, std::string>>& page, size_t scanned,
                              const std::string&) -> Status {
      if (progress) progress->Advance(static_cast<int64_t>(scanned));
      std::vector<Argv> cmds;
      for (const auto& kv : page) {
        cmds.push_back({"HEXISTS", L.SrcTasks(), kv.first});
        cmds.push_back({"ZSCORE", L.DstTtl(), kv.first});
      }
      auto r = c.Pipeline(cmds);
      if (!r.ok()) return r.status();
      for (size_t k = 0; k < page.size(); ++k) {
        const auto& [id, score] = page[k];
        ++p.ttl.items;
        if ((*r)[2 * k].as_int() == 0) ++p.ttl_without_task;
        const Reply& d = (*r)[2 * k + 1];
        if (d.is_nil() || d.is_error()) {
          ++p.ttl.to_write;
        } else if (SameScore(d.str, score)) {
          ++p.ttl.already;
        } else if (resume && !o.merge) {
          ++p.ttl.to_write;
        } else {
          ++p.ttl.conflicts;
          Sample(p.conflict_samples, L.DstTtl() + " member " + id + " has score " + d.str + " (legacy " + score + ")");
        }
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
  } else if (I.ttl_type != "none") {
    p.blocking.push_back("legacy " + L.SrcTtl() + " is a " + I.ttl_type + ", expected a zset");
  }

  // --- Leases ----------------------------------------------------------------------------------------
  std::unordered_set<std::string> selected_leases;
  auto leases = ReadLeases(c, o, I.lease_ids, true, [&](size_t batch, std::vector<LeaseRead>& read) -> Status {
    if (progress) progress->Advance(static_cast<int64_t>(batch));
    for (const LeaseRead& l : read) {
      if (l.value.is_nil() || l.pttl == -2) continue;  // expired since the scan
      selected_leases.insert(l.id);
      ++p.leases.keys;
      ++p.leases.items;
      if (l.pttl == -1) ++p.leases_without_ttl;
      if (l.dst.is_nil()) {
        ++p.leases.to_write;
      } else if (!l.dst.is_error() && l.dst.str == l.value.str) {
        ++p.leases.already;
      } else if (resume && !o.merge) {
        ++p.leases.to_write;
      } else {
        ++p.leases.conflicts;
        Sample(p.conflict_samples, L.DstLease(l.id) + " exists with another value");
      }
    }
    return Status::Ok();
  });
  if (!leases.ok()) return leases;
  if (!I.lease_wrong_type.empty()) {
    std::string what = std::to_string(I.lease_wrong_type.size()) + " legacy lease keys are not strings (" +
                       JoinSample(I.lease_wrong_type, 5) + ")";
    if (o.force) p.warnings.push_back(what + "; skipped (--force)");
    else p.blocking.push_back(what + "; --force skips them");
  }

  // --- Queues ----------------------------------------------------------------------------------------
  std::map<std::string, std::vector<std::string>> by_dst;
  std::map<std::string, std::unordered_set<std::string>> pending_ids;  // by lower-cased legacy command
  std::unordered_set<std::string> inprog_ids;
  std::vector<std::pair<std::string, std::string>> inprog_pairs;  // (command, id) for overlap counting
  for (const auto& q : I.queues) {
    QueuePlan qp;
    qp.src = q;
    bool pending = q.kind == SourceKind::kPending;
    bool type_ok = pending ? q.type == "list" : (q.type == "list" || q.type == "set");
    if (!type_ok) {
      std::string what = "legacy " + q.key + " is a " + q.type + ", expected a " + (pending ? "list" : "list or set");
      if (o.force) {
        p.warnings.push_back(what + "; skipped (--force)");
        qp.conflict = "skipped: source type";
      } else {
        p.blocking.push_back(what + "; --force skips it");
      }
      p.queues.push_back(std::move(qp));
      continue;
    }
    note_invalid(q.command);
    by_dst[q.dst_key].push_back(q.key);
    // The exact case comes from the task records when there are any (the key segment may be
    // lower-cased); a queue whose tasks have no record falls back to the key segment.
    if (CommandProblem(q.dst_command).empty() && !record_commands.count(Lower(q.dst_command))) {
      p.command_members.insert(L.CommandsMember(q.dst_command));
    }

    std::unordered_set<std::string> seen;
    auto s = QueueItems(c, q, o.batch_size, [&](std::vector<std::string>& page) -> Status {
      if (progress) progress->Advance(static_cast<int64_t>(page.size()));
      std::vector<Argv> cmds;
      Argv hmget = {"HMGET", L.SrcTasks()};
      hmget.insert(hmget.end(), page.begin(), page.end());
      cmds.push_back(hmget);
      if (!pending) {
        for (const auto& id : page) cmds.push_back({"EXISTS", L.SrcLease(id)});
      }
      auto r = c.Pipeline(cmds);
      if (!r.ok()) return r.status();
      const Reply& recs = (*r)[0];
      for (size_t i = 0; i < page.size(); ++i) {
        const std::string& id = page[i];
        if (!seen.insert(id).second) {
          ++qp.duplicates;
          continue;
        }
        if (pending) {
          pending_ids[Lower(q.command)].insert(id);
        } else {
          inprog_pairs.emplace_back(Lower(q.command), id);
          inprog_ids.insert(id);
        }
        if (recs.is_error() || i >= recs.elements.size() || recs.elements[i].is_nil()) {
          ++qp.missing_tasks;
          ++p.missing_tasks;
          Sample(p.missing_task_samples, id);
        } else {
          TaskRewrite t = RewriteTask(L, id, recs.elements[i].str);
          if (t.parsed) {
            if (t.status != (pending ? "PENDING" : "IN_PROGRESS")) ++qp.status_mismatch;
            if (Lower(t.command) != Lower(q.command)) ++qp.command_mismatch;
          }
        }
        if (!pending && (*r)[1 + i].as_int() == 0) ++qp.without_lease;
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
    qp.unique = static_cast<int64_t>(seen.size());

    // Destination.
    auto marker = p.state.queues.find(q.key);
    if (marker != p.state.queues.end() && marker->second.dst == q.dst_key) qp.done = true;
    auto dt = c.Checked({"TYPE", q.dst_key});
    if (!dt.ok()) return dt.status();
    qp.dst_type = dt->str;
    if (qp.dst_type != "none") {
      auto n = SizeOf(c, q.dst_key, qp.dst_type);
      if (!n.ok()) return n.status();
      qp.dst_length = *n;
    }
    const std::string want = pending ? "list" : "set";
    if (!qp.done && qp.dst_type != "none") {
      if (qp.dst_type != want) {
        qp.conflict = "destination is a " + qp.dst_type + ", expected a " + want;
        std::string hint = (!pending && qp.dst_type == "list")
                               ? " (a v1.0 in-progress list: run `codeq migrate inprog-to-set` first)"
                               : " (a key of another type is never overwritten)";
        p.blocking.push_back(q.dst_key + ": " + qp.conflict + hint);
      } else if (qp.dst_length > 0) {
        qp.conflict = "destination already holds " + std::to_string(qp.dst_length) + " items";
        Sample(p.conflict_samples, q.dst_key + " already holds " + std::to_string(qp.dst_length) + " items");
      }
    }
    CategoryPlan& cat = pending ? p.pending : p.inprog;
    ++cat.keys;
    cat.items += q.length;
    if (qp.done) {
      cat.already += qp.unique;
    } else {
      cat.to_write += qp.unique;
      if (!qp.conflict.empty()) ++cat.conflicts;
    }
    p.queues.push_back(std::move(qp));
  }
  if (progress) progress->End();

  for (const auto& [cmd, id] : inprog_pairs) {
    auto it = pending_ids.find(cmd);
    if (it != pending_ids.end() && it->second.count(id)) ++p.ids_pending_and_inprog;
  }
  for (const auto& id : selected_leases) {
    if (!inprog_ids.count(id)) ++p.leases_orphan;
  }
  for (auto& [dst, srcs] : by_dst) {
    if (srcs.size() > 1) p.collisions[dst] = srcs;
  }

  // --- Verdict -----------------------------------------------------------------------------------
  for (const auto& [cmd, why] : p.invalid_commands) {
    p.blocking.push_back("legacy command '" + cmd + "' " + why +
                         " (SPEC D15: [A-Za-z0-9._-]{1,128}); pass --rename-command '" + cmd +
                         "=NEW' or leave it out with --commands");
  }
  for (const auto& [dst, srcs] : p.collisions) {
    std::string what = JoinSample(srcs) + " all map to " + dst;
    if (o.merge) p.warnings.push_back(what + " (merged in key order)");
    else p.blocking.push_back(what + "; use --merge to combine them or --rename-command to separate them");
  }
  int64_t conflicts = p.tasks.conflicts + p.ttl.conflicts + p.leases.conflicts + p.pending.conflicts + p.inprog.conflicts;
  if (conflicts > 0 && !completed) {
    std::string what = "the destination already holds conflicting data: " + std::to_string(p.tasks.conflicts) +
                       " task records, " + std::to_string(p.ttl.conflicts) + " retention entries, " +
                       std::to_string(p.leases.conflicts) + " leases, " +
                       std::to_string(p.pending.conflicts + p.inprog.conflicts) + " queue keys";
    if (o.merge) {
      p.warnings.push_back(what + "; --merge keeps existing records, retention entries and leases, puts legacy "
                                  "pending IDs behind the existing ones and unions in-progress sets");
    } else {
      p.blocking.push_back(what + "; refusing to overwrite (--merge merges, see docs/migration.md)");
    }
  }
  if (p.tasks_unparsable > 0) {
    std::string what = std::to_string(p.tasks_unparsable) + " legacy task records are not task JSON";
    if (o.force) p.warnings.push_back(what + "; skipped (--force)");
    else p.blocking.push_back(what + "; --force migrates without them");
  }
  if (p.missing_tasks > 0) {
    p.warnings.push_back(std::to_string(p.missing_tasks) + " task IDs in legacy queues have no record in " +
                         L.SrcTasks() + " (copied as is; a claim discards them), e.g. " +
                         JoinSample(std::vector<std::string>(p.missing_task_samples.begin(),
                                                             p.missing_task_samples.begin() +
                                                                 std::min<size_t>(5, p.missing_task_samples.size())),
                                    5));
  }
  int64_t not_pending = 0, not_inprog = 0, cmd_mismatch = 0, no_lease = 0, dups_pending = 0, dups_inprog = 0;
  for (const auto& q : p.queues) {
    if (q.src.kind == SourceKind::kPending) {
      not_pending += q.status_mismatch;
      dups_pending += q.duplicates;
    } else {
      not_inprog += q.status_mismatch;
      dups_inprog += q.duplicates;
      no_lease += q.without_lease;
    }
    cmd_mismatch += q.command_mismatch;
  }
  if (not_pending > 0) {
    p.warnings.push_back(std::to_string(not_pending) + " IDs in pending lists belong to tasks whose status is not PENDING "
                         "(a claim discards them)");
  }
  if (not_inprog > 0) {
    p.warnings.push_back(std::to_string(not_inprog) + " IDs in in-progress lists belong to tasks whose status is not "
                         "IN_PROGRESS (claim-time repair removes them)");
  }
  if (cmd_mismatch > 0) {
    p.warnings.push_back(std::to_string(cmd_mismatch) + " queued IDs belong to tasks of another command than their queue");
  }
  if (no_lease > 0) {
    p.warnings.push_back(std::to_string(no_lease) + " in-progress IDs have no lease (claim-time repair requeues them "
                         "after the cutover)");
  }
  if (dups_pending > 0) {
    p.warnings.push_back(std::to_string(dups_pending) + " duplicate IDs in pending lists are dropped (the occurrence "
                         "served first is kept)");
  }
  if (dups_inprog > 0) {
    p.warnings.push_back(std::to_string(dups_inprog) + " duplicate IDs in in-progress lists collapse in the sets");
  }
  if (p.ids_pending_and_inprog > 0) {
    p.warnings.push_back(std::to_string(p.ids_pending_and_inprog) + " IDs are both pending and in progress");
  }
  if (p.leases_without_ttl > 0) {
    p.warnings.push_back(std::to_string(p.leases_without_ttl) + " legacy leases have no expiry (copied without one)");
  }
  if (p.leases_orphan > 0) {
    p.warnings.push_back(std::to_string(p.leases_orphan) + " leases belong to IDs that are in no in-progress list");
  }
  if (p.tasks_tenant_rewritten > 0) {
    p.warnings.push_back(std::to_string(p.tasks_tenant_rewritten) + " task records get tenantId " +
                         (L.tenant.empty() ? std::string("removed (unscoped queues)") : "\"" + L.tenant + "\""));
  }
  if (p.tasks_id_mismatch > 0) {
    p.warnings.push_back(std::to_string(p.tasks_id_mismatch) + " task records carry an id different from their hash field: it is set to the hash field, "
                         "the id their queues and leases use");
  }
  if (!I.unknown.empty()) {
    std::vector<std::string> names;
    for (const auto& [k, t] : I.unknown) names.push_back(k + " (" + t + ")");
    p.warnings.push_back(std::to_string(I.unknown.size()) + " legacy keys match no mapping and are not migrated: " +
                         JoinSample(names, 5));
  }

  p.total_items = p.tasks.items + p.ttl.items + p.leases.items + p.pending.items + p.inprog.items;
  p.read_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // A run reads everything again, writes it, and reads both sides once more to verify.
  p.estimate_seconds = p.read_seconds * 3.0 + o.freeze_check_ms / 1000.0 +
                       (o.throttle_ms > 0 ? (p.total_items / std::max(1, o.batch_size) + 1) * o.throttle_ms / 1000.0 : 0);
  return p;
}

// --- Output --------------------------------------------------------------------------------------

namespace {

std::string Row(const std::string& name, const CategoryPlan& c, const std::string& extra = "") {
  char buf[256];
  std::snprintf(buf, sizeof buf, "  %-24s %6lld %9lld %9lld %9lld %9lld", name.c_str(), static_cast<long long>(c.keys),
                static_cast<long long>(c.items), static_cast<long long>(c.to_write), static_cast<long long>(c.already),
                static_cast<long long>(c.conflicts));
  return std::string(buf) + extra + "\n";
}

json::object CatJson(const CategoryPlan& c) {
  return {{"keys", c.keys}, {"items", c.items},         {"toWrite", c.to_write},
          {"already", c.already}, {"conflicts", c.conflicts}, {"skipped", c.skipped}};
}

std::string Scope(const Options& o) {
  std::string s = o.layout.from + ":* -> " + o.layout.to + ":*, ";
  s += o.layout.tenant.empty() ? "unscoped queues" : "tenant \"" + o.layout.tenant + "\"";
  s += ", commands: ";
  if (o.selection.all()) {
    s += "all";
  } else {
    std::vector<std::string> v(o.selection.commands.begin(), o.selection.commands.end());
    s += JoinSample(v, 50);
  }
  return s;
}

}  // namespace

std::string PlanText(const PlanReport& p, const Options& o) {
  std::ostringstream out;
  out << "codeq migrate plan: " << Scope(o) << "\n";
  out << "Scanned " << p.inv.keys_scanned << " legacy keys (SCAN MATCH " << o.layout.SrcPattern() << ")";
  if (p.inv.unselected_queues > 0) out << "; " << p.inv.unselected_queues << " queue keys of other commands left out";
  out << "\n\n";
  out << "  category                   keys     items  to write   already conflicts\n";
  out << Row(o.layout.SrcTasks() + " (hash)", p.tasks);
  out << Row(o.layout.SrcTtl() + " (zset)", p.ttl);
  out << Row("leases (TTL kept)", p.leases);
  int64_t dp = 0, di = 0;
  for (const auto& q : p.queues) (q.src.kind == SourceKind::kPending ? dp : di) += q.duplicates;
  out << Row("pending lists", p.pending, dp ? "  (" + std::to_string(dp) + " duplicates dropped)" : "");
  out << Row("in-progress lists->sets", p.inprog, di ? "  (" + std::to_string(di) + " duplicates collapse)" : "");
  if (!p.queues.empty()) {
    out << "\nQueues:\n";
    for (const auto& q : p.queues) {
      out << "  " << q.src.key << " (" << q.src.type << ", " << q.src.length << " items";
      if (q.duplicates) out << ", " << q.duplicates << " duplicates";
      if (q.missing_tasks) out << ", " << q.missing_tasks << " without record";
      if (q.without_lease) out << ", " << q.without_lease << " without lease";
      out << ") -> " << q.src.dst_key;
      if (q.done) out << "  [already migrated]";
      else if (!q.conflict.empty()) out << "  [CONFLICT: " << q.conflict << "]";
      out << "\n";
    }
  }
  if (p.tasks_unselected) out << "\n" << p.tasks_unselected << " task records belong to commands left out\n";
  if (!p.command_members.empty()) {
    std::vector<std::string> v(p.command_members.begin(), p.command_members.end());
    out << "\nKnown-commands members to add to " << o.layout.DstCommands() << ": " << JoinSample(v, 20) << "\n";
  }
  if (!p.conflict_samples.empty()) {
    out << "\nDestination conflicts (sample):\n";
    for (const auto& s : p.conflict_samples) out << "  " << s << "\n";
  }
  if (!p.warnings.empty()) {
    out << "\nNotes:\n";
    for (const auto& w : p.warnings) out << "  - " << w << "\n";
  }
  if (p.state.exists) {
    out << "\nPrevious run of this scope: status " << p.state.status << ", phase " << p.state.phase << ", started "
        << p.state.started_at;
    if (!p.state.completed_at.empty()) out << ", completed " << p.state.completed_at;
    if (!p.state.abort_reason.empty()) out << "\n  stopped because: " << p.state.abort_reason;
    out << "\n";
  }
  out << "\nEstimated run time: about " << FormatSeconds(p.estimate_seconds) << " (" << p.total_items
      << " items; this plan read them in " << FormatSeconds(p.read_seconds) << ")\n";
  if (p.state.exists && p.state.status == "completed") {
    out << "A run of this scope already completed: `run` would do nothing.\n";
  } else if (p.blocking.empty()) {
    out << "`codeq migrate run` would proceed with these options.\n";
  } else {
    out << "\n`codeq migrate run` would REFUSE with these options:\n";
    for (const auto& b : p.blocking) out << "  * " << b << "\n";
  }
  return out.str();
}

json::object PlanJson(const PlanReport& p, const Options& o) {
  json::object j;
  j["from"] = o.layout.from;
  j["to"] = o.layout.to;
  j["tenant"] = o.layout.tenant;
  json::array cmds;
  for (const auto& c : o.selection.commands) cmds.emplace_back(c);
  j["commands"] = std::move(cmds);
  j["keysScanned"] = p.inv.keys_scanned;
  j["tasks"] = CatJson(p.tasks);
  j["ttl"] = CatJson(p.ttl);
  j["leases"] = CatJson(p.leases);
  j["pending"] = CatJson(p.pending);
  j["inprog"] = CatJson(p.inprog);
  json::array queues;
  for (const auto& q : p.queues) {
    queues.push_back(json::object{{"source", q.src.key},
                                  {"kind", KindName(q.src.kind)},
                                  {"type", q.src.type},
                                  {"command", q.src.command},
                                  {"destination", q.src.dst_key},
                                  {"destinationCommand", q.src.dst_command},
                                  {"items", q.src.length},
                                  {"unique", q.unique},
                                  {"duplicates", q.duplicates},
                                  {"missingTasks", q.missing_tasks},
                                  {"statusMismatch", q.status_mismatch},
                                  {"commandMismatch", q.command_mismatch},
                                  {"withoutLease", q.without_lease},
                                  {"destinationType", q.dst_type},
                                  {"destinationLength", q.dst_length},
                                  {"done", q.done},
                                  {"conflict", q.conflict}});
  }
  j["queues"] = std::move(queues);
  j["missingTasks"] = p.missing_tasks;
  json::array miss;
  for (const auto& id : p.missing_task_samples) miss.emplace_back(id);
  j["missingTaskSamples"] = std::move(miss);
  j["tasksUnparsable"] = p.tasks_unparsable;
  j["tasksUnselected"] = p.tasks_unselected;
  j["tasksTenantRewritten"] = p.tasks_tenant_rewritten;
  j["tasksRenamed"] = p.tasks_renamed;
  j["tasksIdAdded"] = p.tasks_id_added;
  j["ttlWithoutTask"] = p.ttl_without_task;
  j["leasesWithoutTtl"] = p.leases_without_ttl;
  j["leasesOrphan"] = p.leases_orphan;
  j["idsPendingAndInprog"] = p.ids_pending_and_inprog;
  json::object invalid;
  for (const auto& [c, why] : p.invalid_commands) invalid[c] = why;
  j["invalidCommands"] = std::move(invalid);
  json::object coll;
  for (const auto& [d, srcs] : p.collisions) {
    json::array a;
    for (const auto& s : srcs) a.emplace_back(s);
    coll[d] = std::move(a);
  }
  j["collisions"] = std::move(coll);
  json::array unknown;
  for (const auto& [k, t] : p.inv.unknown) unknown.push_back(json::object{{"key", k}, {"type", t}});
  j["unmappedKeys"] = std::move(unknown);
  json::array members;
  for (const auto& m : p.command_members) members.emplace_back(m);
  j["commandMembers"] = std::move(members);
  json::array conflicts;
  for (const auto& s : p.conflict_samples) conflicts.emplace_back(s);
  j["conflictSamples"] = std::move(conflicts);
  json::array warnings;
  for (const auto& s : p.warnings) warnings.emplace_back(s);
  j["warnings"] = std::move(warnings);
  json::array blocking;
  for (const auto& s : p.blocking) blocking.emplace_back(s);
  j["blocking"] = std::move(blocking);
  j["wouldProceed"] = p.blocking.empty() && !(p.state.exists && p.state.status == "completed");
  if (p.state.exists) {
    j["previousRun"] = json::object{{"status", p.state.status},
                                    {"phase", p.state.phase},
                                    {"startedAt", p.state.started_at},
                                    {"completedAt", p.state.completed_at},
                                    {"abortReason", p.state.abort_reason}};
  }
  j["totalItems"] = p.total_items;
  j["readSeconds"] = p.read_seconds;
  j["estimatedSeconds"] = p.estimate_seconds;
  return j;
}

}  // namespace codeq::migrate
