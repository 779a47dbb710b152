// The category walkers of internal.h: the scan, select and read loops that plan, run and verify
// share for task records, retention entries and leases.
#include "migrate/internal.h"
#include "migrate/scan_util.h"

namespace codeq::migrate {

TaskPick PickTask(const Options& o, const TaskRewrite& t) {
  if (!t.parsed) {
    if (!o.selection.all()) return TaskPick::kUnselected;
    return o.force ? TaskPick::kSkipped : TaskPick::kSelected;
  }
  return o.selection.Includes(t.command) ? TaskPick::kSelected : TaskPick::kUnselected;
}

Status ScanTasks(RedisClient& c, const Options& o, const std::string& cursor,
                 const std::function<Status(TaskPage&, const std::string&)>& fn) {
  return ScanPairs(c, "HSCAN", o.layout.SrcTasks(), cursor, o.batch_size,
                   [&](std::vector<std::pair<std::string, std::string>>& page, const std::string& next) -> Status {
    TaskPage tp;
    tp.scanned = page.size();
    for (auto& [id, text] : page) {
      TaskRewrite t = RewriteTask(o.layout, id, text);
      switch (PickTask(o, t)) {
        case TaskPick::kUnselected:
          ++tp.unselected;
          break;
        case TaskPick::kSkipped:
          ++tp.skipped;
          break;
        case TaskPick::kSelected:
          tp.ids.push_back(id);
          tp.tasks.push_back(std::move(t));
          break;
      }
    }
    return fn(tp, next);
  });
}

Status ScanSelected(RedisClient& c, const Options& o, const std::string& scan_cmd, const std::string& key,
                    const std::string& cursor,
                    const std::function<Status(std::vector<std::pair<std::string, std::string>>&, size_t,
                                               const std::string&)>& fn) {
  return ScanPairs(c, scan_cmd, key, cursor, o.batch_size,
                   [&](std::vector<std::pair<std::string, std::string>>& page, const std::string& next) -> Status {
    std::vector<std::string> ids;
    ids.reserve(page.size());
    for (const auto& kv : page) ids.push_back(kv.first);
    auto sel = SelectIds(c, o, ids);
    if (!sel.ok()) return sel.status();
    std::vector<std::pair<std::string, std::string>> picked;
    for (size_t i = 0; i < page.size(); ++i) {
      if ((*sel)[i]) picked.push_back(std::move(page[i]));
    }
    return fn(picked, page.size(), next);
  });
}

Result<std::vector<std::string>> ScanLeaseIds(RedisClient& c, const Options& o) {
  std::vector<std::string> ids;
  auto s = ScanKeys(c, o.layout.SrcLeasePattern(), o.batch_size, [&](std::vector<std::string>& page) -> Status {
    for (const auto& k : page) {
      SourceKey sk = o.layout.Classify(k);
      if (sk.kind == SourceKind::kLease) ids.push_back(sk.lease_id);
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return ids;
}

Status ReadLeases(RedisClient& c, const Options& o, const std::vector<std::string>& ids, bool with_dst,
                  const std::function<Status(size_t, std::vector<LeaseRead>&)>& fn) {
  const Layout& L = o.layout;
  const size_t per = with_dst ? 3 : 2;
  return ForEachChunk(ids, o.batch_size, [&](std::vector<std::string>& chunk) -> Status {
    auto sel = SelectIds(c, o, chunk);
    if (!sel.ok()) return sel.status();
    std::vector<Argv> cmds;
    std::vector<LeaseRead> leases;
    for (size_t j = 0; j < chunk.size(); ++j) {
      if (!(*sel)[j]) continue;
      cmds.push_back({"GET", L.SrcLease(chunk[j])});
      cmds.push_back({"PTTL", L.SrcLease(chunk[j])});
      if (with_dst) cmds.push_back({"GET", L.DstLease(chunk[j])});
      leases.emplace_back().id = chunk[j];
    }
    auto r = c.Pipeline(cmds);
    if (!r.ok()) return r.status();
    for (size_t k = 0; k < leases.size(); ++k) {
      leases[k].value = std::move((*r)[per * k]);
      leases[k].pttl = (*r)[per * k + 1].as_int(-2);
      if (with_dst) leases[k].dst = std::move((*r)[per * k + 2]);
    }
    return fn(chunk.size(), leases);
  });
}

}  // namespace codeq::migrate
