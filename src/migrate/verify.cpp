// `codeq migrate verify`: the post-migration checklist of SPEC.md §11.3.7, automated.
#include <sstream>
#include <thread>
#include <unordered_set>

#include "domain/task.h"
#include "migrate/http.h"
#include "migrate/internal.h"
#include "migrate/scan_util.h"

namespace codeq::migrate {
namespace json = boost::json;

namespace {

// What a migrated destination queue should hold.
struct Expected {
  std::string dst_command;
  std::string pending_key, inprog_key;
  int64_t pending = -1;  // -1: nothing migrated there
  int64_t inprog = -1;
  bool merge = false;
  std::vector<std::string> sources;
};

std::optional<json::value> ParseJson(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return std::nullopt;
  return v;
}

std::string JStr(const json::value& v, const char* k) {
  if (!v.is_object()) return "";
  auto* x = v.as_object().if_contains(k);
  return x != nullptr && x->is_string() ? std::string(x->as_string()) : std::string();
}

int64_t JInt(const json::value& v, const char* k, int64_t fallback = -1) {
  if (!v.is_object()) return fallback;
  auto* x = v.as_object().if_contains(k);
  return x != nullptr && x->is_int64() ? x->as_int64() : fallback;
}

std::string Short(const HttpResult& r) {
  if (r.status == 0) return "no response (" + r.error + ")";
  std::string b = r.body.size() > 300 ? r.body.substr(0, 300) + "..." : r.body;
  return std::to_string(r.status) + " " + b;
}

class Verifier {
 public:
  Verifier(RedisClient& c, const Options& o, const VerifyOptions& v, Progress* p) : c_(c), o_(o), v_(v), progress_(p) {}
  Result<VerifyReport> Run();

 private:
  Check& Add(const std::string& name) {
    rep_.checks.push_back(Check{name, true, false, ""});
    return rep_.checks.back();
  }
  Status LoadExpectations();
  Status CheckTasks();
  Status CheckQueues();
  Status CheckLeases();
  Status CheckV1Lists();
  Status CheckCommands();
  void CheckServer();
  Status Canary();

  RedisClient& c_;
  const Options& o_;
  const VerifyOptions& v_;
  Progress* progress_;
  VerifyReport rep_;
  RunState st_;
  std::map<std::string, Expected> expected_;  // by lower-cased destination command
};

Status Verifier::LoadExpectations() {
  const Layout& L = o_.layout;
  auto st = LoadState(c_, o_);
  if (!st.ok()) return st.status();
  st_ = std::move(*st);
  Check& rec = Add("run record");
  if (!st_.exists) {
    rec.warning = true;
    rec.detail = "no run of this scope is recorded in " + L.StateKey() +
                 "; expected counts are taken from the legacy keyspace";
  } else if (st_.status != "completed") {
    rec.ok = false;
    rec.detail = "the run of this scope is not complete (status " + st_.status + ", phase " + st_.phase +
                 (st_.abort_reason.empty() ? std::string() : ", stopped because: " + st_.abort_reason) +
                 "); re-run `codeq migrate run`";
  } else {
    rec.detail = "completed " + st_.completed_at + " (mode " + st_.mode + (st_.merge ? ", merge" : "") + ")";
  }

  if (st_.exists && !st_.queues.empty()) {
    // The run's own --rename-command mappings decide where its queues landed, so verify needs
    // them only once (a mapping given to verify for the same command wins).
    Layout run_layout = L;
    for (const auto& [from, to] : st_.renames) run_layout.renames.emplace(from, to);
    for (const auto& [src, m] : st_.queues) {
      SourceKey sk = L.Classify(src);
      std::string dst_cmd = run_layout.DstCommand(sk.command);
      Expected& e = expected_[Lower(dst_cmd)];
      e.dst_command = dst_cmd;
      e.pending_key = L.DstPending(dst_cmd, 0);
      e.inprog_key = L.DstInprog(dst_cmd);
      e.merge = st_.merge;
      e.sources.push_back(src);
      int64_t n = m.written + m.preexisting;
      if (m.kind == "pending") e.pending = std::max(e.pending, n);
      else e.inprog = std::max(e.inprog, st_.merge ? m.written : n);
    }
    return Status::Ok();
  }
  // No record: derive from the legacy keyspace (read-only plan).
  auto plan = BuildPlan(c_, o_, nullptr);
  if (!plan.ok()) return plan.status();
  for (const auto& q : plan->queues) {
    Expected& e = expected_[Lower(q.src.dst_command)];
    e.dst_command = q.src.dst_command;
    e.pending_key = L.DstPending(q.src.dst_command, 0);
    e.inprog_key = L.DstInprog(q.src.dst_command);
    e.sources.push_back(q.src.key);
    if (q.src.kind == SourceKind::kPending) e.pending = std::max<int64_t>(e.pending, 0) + q.unique;
    else e.inprog = std::max<int64_t>(e.inprog, 0) + q.unique;
  }
  return Status::Ok();
}

Status Verifier::CheckTasks() {
  const Layout& L = o_.layout;
  Check& chk = Add("task records");
  int64_t total = 0, bad = 0;
  std::vector<std::string> bad_ids;
  auto s = ScanPairs(c_, "HSCAN", L.DstTasks(), "0", o_.batch_size,
                     [&](std::vector<std::pair<std::string, std::string>>& page, const std::string&) -> Status {
    if (progress_) progress_->Advance(static_cast<int64_t>(page.size()));
    for (auto& [id, text] : page) {
      ++total;
      auto t = TaskFromJsonText(text);
      if (!t.ok() || t->command.empty() || t->status.empty()) {
        ++bad;
        if (bad_ids.size() < 10) bad_ids.push_back(id);
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  // Every legacy record still present (mode copy) must have its destination copy.
  int64_t missing = 0;
  std::vector<std::string> missing_ids;
  auto type = c_.Checked({"TYPE", L.SrcTasks()});
  if (!type.ok()) return type.status();
  if (type->str == "hash") {
    auto s2 = ScanPairs(c_, "HSCAN", L.SrcTasks(), "0", o_.batch_size,
                        [&](std::vector<std::pair<std::string, std::string>>& page, const std::string&) -> Status {
      std::vector<std::string> ids;
      for (auto& [id, text] : page) {
        TaskRewrite t = RewriteTask(L, id, text);
        if (!t.parsed || !o_.selection.Includes(t.command)) continue;
        ids.push_back(id);
      }
      if (ids.empty()) return Status::Ok();
      Argv hmget = {"HMGET", L.DstTasks()};
      hmget.insert(hmget.end(), ids.begin(), ids.end());
      auto r = c_.Checked(hmget);
      if (!r.ok()) return r.status();
      for (size_t i = 0; i < ids.size(); ++i) {
        if (r->elements[i].is_nil()) {
          ++missing;
          if (missing_ids.size() < 10) missing_ids.push_back(ids[i]);
        }
      }
      return Status::Ok();
    });
    if (!s2.ok()) return s2;
  }
  chk.ok = bad == 0 && missing == 0;
  chk.detail = std::to_string(total) + " records in " + L.DstTasks() + ", " + std::to_string(bad) + " unreadable";
  if (bad) chk.detail += " (" + JoinSample(bad_ids, 5) + ")";
  if (type->str == "hash") {
    chk.detail += "; " + std::to_string(missing) + " legacy records missing";
    if (missing) chk.detail += " (" + JoinSample(missing_ids, 5) + ")";
  }
  return Status::Ok();
}

Status Verifier::CheckQueues() {
  Check& pend = Add("pending lists");
  Check& inp = Add("in-progress sets");
  std::vector<std::string> pend_bad, inp_bad;
  int64_t pend_keys = 0, inp_keys = 0;
  for (const auto& [lc, e] : expected_) {
    // Tier 0 receives the legacy IDs; the other tiers of a fresh migration hold nothing.
    std::vector<Argv> cmds;
    for (int p = 0; p <= 9; ++p) {
      cmds.push_back({"TYPE", o_.layout.DstPending(e.dst_command, p)});
      cmds.push_back({"LLEN", o_.layout.DstPending(e.dst_command, p)});
    }
    cmds.push_back({"TYPE", e.inprog_key});
    cmds.push_back({"SCARD", e.inprog_key});
    auto r = c_.Pipeline(cmds);
    if (!r.ok()) return r.status();
    for (int p = 0; p <= 9; ++p) {
      const std::string key = o_.layout.DstPending(e.dst_command, p);
      const std::string& type = (*r)[2 * p].str;
      int64_t len = (*r)[2 * p + 1].is_error() ? -1 : (*r)[2 * p + 1].as_int();
      if (type != "none" && type != "list") {
        pend_bad.push_back(key + " is a " + type);
        continue;
      }
      if (p == 0 && e.pending >= 0) {
        ++pend_keys;
        if (len != e.pending) {
          pend_bad.push_back(key + " holds " + std::to_string(len) + ", expected " + std::to_string(e.pending));
        }
      } else if (p != 0 && !e.merge && len > 0 && st_.exists) {
        pend_bad.push_back(key + " holds " + std::to_string(len) + ", expected 0 (nothing was migrated there)");
      }
    }
    const std::string& itype = (*r)[20].str;
    int64_t card = (*r)[21].is_error() ? -1 : (*r)[21].as_int();
    if (itype == "list") {
      inp_bad.push_back(e.inprog_key + " is a LIST (v1.0 layout): run `codeq migrate inprog-to-set`");
    } else if (itype != "none" && itype != "set") {
      inp_bad.push_back(e.inprog_key + " is a " + itype);
    } else if (e.inprog >= 0) {
      ++inp_keys;
      bool good = e.merge ? card >= e.inprog : card == e.inprog;
      if (!good) {
        inp_bad.push_back(e.inprog_key + " holds " + std::to_string(card) + ", expected " + (e.merge ? ">= " : "") +
                          std::to_string(e.inprog));
      }
    }
  }
  pend.ok = pend_bad.empty();
  pend.detail = pend_bad.empty() ? std::to_string(pend_keys) + " migrated pending lists hold the expected counts"
                                 : JoinSample(pend_bad, 5);
  inp.ok = inp_bad.empty();
  inp.detail = inp_bad.empty() ? std::to_string(inp_keys) + " migrated in-progress sets hold the expected counts"
                               : JoinSample(inp_bad, 5);
  return Status::Ok();
}

Status Verifier::CheckLeases() {
  Check& chk = Add("in-progress leases");
  int64_t members = 0, without = 0;
  std::vector<std::string> samples;
  for (const auto& [lc, e] : expected_) {
    if (e.inprog < 0) continue;
    auto t = c_.Checked({"TYPE", e.inprog_key});
    if (!t.ok()) return t.status();
    if (t->str != "set") continue;
    auto ids = ReadSet(c_, e.inprog_key, o_.batch_size);
    if (!ids.ok()) return ids.status();
    for (size_t i = 0; i < ids->size(); i += static_cast<size_t>(o_.batch_size)) {
      std::vector<Argv> cmds;
      size_t end = std::min(ids->size(), i + static_cast<size_t>(o_.batch_size));
      for (size_t j = i; j < end; ++j) cmds.push_back({"EXISTS", o_.layout.DstLease((*ids)[j])});
      auto r = c_.PipelineChecked(cmds);
      if (!r.ok()) return r.status();
      for (size_t j = i; j < end; ++j) {
        ++members;
        if ((*r)[j - i].as_int() == 0) {
          ++without;
          if (samples.size() < 10) samples.push_back((*ids)[j]);
        }
      }
    }
  }
  chk.detail = std::to_string(members) + " in-progress IDs, " + std::to_string(without) + " without a lease";
  if (without > 0) {
    chk.detail += " (" + JoinSample(samples, 5) + "); claim-time repair requeues them";
    if (v_.strict_leases) chk.ok = false;
    else chk.warning = true;
  }
  return Status::Ok();
}

Status Verifier::CheckV1Lists() {
  Check& chk = Add("no v1.0 in-progress lists");
  std::vector<std::string> lists;
  auto s = ScanKeys(c_, GlobEscape(o_.layout.to) + ":q:*:inprog", o_.batch_size, [&](std::vector<std::string>& page) -> Status {
    auto types = Types(c_, page);
    if (!types.ok()) return types.status();
    for (size_t i = 0; i < page.size(); ++i) {
      if ((*types)[i] == "list") lists.push_back(page[i]);
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  chk.ok = lists.empty();
  chk.detail = lists.empty() ? "every " + o_.layout.to + ":q:*:inprog key is a set"
                             : std::to_string(lists.size()) + " list-typed in-progress keys (" + JoinSample(lists, 5) +
                                   "): run `codeq migrate inprog-to-set` with clients frozen";
  return Status::Ok();
}

Status Verifier::CheckCommands() {
  Check& chk = Add("known commands");
  std::vector<std::string> missing;
  if (expected_.empty()) {
    chk.detail = "no migrated queue";
    return Status::Ok();
  }
  auto all = c_.Call({"SMEMBERS", o_.layout.DstCommands()});
  if (!all.ok()) return all.status();
  std::unordered_set<std::string> lower_members;
  for (const auto& m : all->elements) lower_members.insert(Lower(m.str));
  for (const auto& [lc, e] : expected_) {
    if (!lower_members.count(Lower(o_.layout.CommandsMember(e.dst_command)))) missing.push_back(e.dst_command);
  }
  chk.ok = missing.empty();
  chk.detail = missing.empty() ? std::to_string(expected_.size()) + " migrated commands are in " + o_.layout.DstCommands()
                               : "missing from " + o_.layout.DstCommands() + " (admin views, metrics and wildcard "
                                 "claims would not see them): " + JoinSample(missing, 5);
  return Status::Ok();
}

void Verifier::CheckServer() {
  Check& chk = Add("server queue counts");
  if (v_.admin_token.empty()) {
    chk.ok = false;
    chk.detail = "--server needs an admin token (--admin-token or CODEQ_ADMIN_TOKEN)";
    return;
  }
  std::string path = "/v1/codeq/admin/queues";
  if (!o_.layout.tenant.empty()) path += "?tenant=" + o_.layout.tenant;
  auto r = HttpCall(v_.server, "GET", path, v_.admin_token, "", v_.http_timeout_ms);
  if (r.status != 200) {
    chk.ok = false;
    chk.detail = "GET " + path + ": " + Short(r);
    return;
  }
  auto body = ParseJson(r.body);
  if (!body || !body->is_object() || !body->as_object().contains("queues") ||
      !body->as_object().at("queues").is_array()) {
    chk.ok = false;
    chk.detail = "GET " + path + ": unexpected body " + Short(r);
    return;
  }
  std::map<std::string, json::value> by_cmd;
  for (const auto& q : body->as_object().at("queues").as_array()) by_cmd[Lower(JStr(q, "command"))] = q;
  std::vector<std::string> bad;
  int checked = 0;
  for (const auto& [lc, e] : expected_) {
    auto it = by_cmd.find(lc);
    if (it == by_cmd.end()) {
      bad.push_back(e.dst_command + " is not listed by the server");
      continue;
    }
    ++checked;
    int64_t ready = JInt(it->second, "ready"), inprog = JInt(it->second, "inProgress");
    if (e.pending >= 0 && ready != e.pending && !(e.merge && ready >= e.pending)) {
      bad.push_back(e.dst_command + ": ready " + std::to_string(ready) + ", expected " + std::to_string(e.pending));
    }
    if (e.inprog >= 0 && inprog != e.inprog && !(e.merge && inprog >= e.inprog)) {
      bad.push_back(e.dst_command + ": inProgress " + std::to_string(inprog) + ", expected " + std::to_string(e.inprog));
    }
  }
  chk.ok = bad.empty();
  chk.detail = bad.empty() ? "the server reports the expected counts for " + std::to_string(checked) + " commands"
                           : JoinSample(bad, 5) + " (counts drift once unfrozen clients work on the queues)";
}

Status Verifier::Canary() {
  Check& chk = Add("canary task");
  const std::string cmd = v_.canary_command;
  const Layout& L = o_.layout;
  if (v_.producer_token.empty() || v_.worker_token.empty()) {
    chk.ok = false;
    chk.detail = "--canary needs --producer-token and --worker-token (or CODEQ_PRODUCER_TOKEN / CODEQ_WORKER_TOKEN)";
    return Status::Ok();
  }
  std::unordered_set<std::string> members_before;
  {
    auto m = c_.Call({"SMEMBERS", L.DstCommands()});
    if (!m.ok()) return m.status();
    for (const auto& x : m->elements) members_before.insert(x.str);
  }
  std::vector<std::string> created;
  std::string tenant;
  std::string step = "create";
  auto run = [&]() -> std::string {  // "" = success, else what failed
    json::object create{{"command", cmd}, {"payload", json::object{{"canary", true}}}, {"maxAttempts", 5}};
    auto r = HttpCall(v_.server, "POST", "/v1/codeq/tasks", v_.producer_token, json::serialize(create), v_.http_timeout_ms);
    if (r.status != 202 && r.status != 200) return "create: " + Short(r);
    auto t = ParseJson(r.body);
    std::string id = t ? JStr(*t, "id") : "";
    if (id.empty()) return "create: no id in " + Short(r);
    created.push_back(id);
    tenant = JStr(*t, "tenantId");
    auto claim = [&](int attempt_expected) -> std::string {
      json::object body{{"commands", json::array{json::value(cmd)}}, {"leaseSeconds", 60}, {"waitSeconds", 15}};
      for (int tries = 0; tries < 5; ++tries) {
        auto c = HttpCall(v_.server, "POST", "/v1/codeq/tasks/claim", v_.worker_token, json::serialize(body),
                          v_.http_timeout_ms);
        if (c.status != 200) return "claim #" + std::to_string(attempt_expected) + ": " + Short(c);
        auto ct = ParseJson(c.body);
        std::string got = ct ? JStr(*ct, "id") : "";
        if (got == id) return "";
        // A leftover canary of an earlier, interrupted verify: finish it and clean it up too.
        created.push_back(got);
        HttpCall(v_.server, "POST", "/v1/codeq/tasks/" + got + "/result", v_.worker_token,
                 R"({"status":"COMPLETED","result":{"canary":true}})", v_.http_timeout_ms);
      }
      return "claim #" + std::to_string(attempt_expected) + ": the canary task was not served";
    };
    if (auto e = claim(1); !e.empty()) return e;
    auto n = HttpCall(v_.server, "POST", "/v1/codeq/tasks/" + id + "/nack", v_.worker_token,
                      R"({"delaySeconds":1,"reason":"codeq migrate verify canary"})", v_.http_timeout_ms);
    auto nb = ParseJson(n.body);
    if (n.status != 200 || !nb || JStr(*nb, "status") != "requeued") return "nack: " + Short(n);
    if (auto e = claim(2); !e.empty()) return e;
    auto res = HttpCall(v_.server, "POST", "/v1/codeq/tasks/" + id + "/result", v_.worker_token,
                        R"({"status":"COMPLETED","result":{"canary":true}})", v_.http_timeout_ms);
    if (res.status != 200) return "result: " + Short(res);
    auto g = HttpCall(v_.server, "GET", "/v1/codeq/tasks/" + id, v_.producer_token, "", v_.http_timeout_ms);
    auto gb = ParseJson(g.body);
    if (g.status != 200 || !gb || JStr(*gb, "status") != "COMPLETED") return "get after completion: " + Short(g);
    if (JInt(*gb, "attempts", 0) < 2) return "the canary was delivered " + std::to_string(JInt(*gb, "attempts", 0)) + " times, expected 2";
    return "";
  };
  std::string failure = run();
  // Remove every trace of the canary (it must not show up in the operator's data).
  Layout tl = L;
  tl.tenant = tenant;
  std::vector<Argv> cleanup;
  for (const auto& id : created) {
    if (id.empty()) continue;
    cleanup.push_back({"HDEL", L.DstTasks(), id});
    cleanup.push_back({"ZREM", L.DstTtl(), id});
    cleanup.push_back({"HDEL", L.DstResults(), id});
    cleanup.push_back({"DEL", L.DstLease(id)});
  }
  Argv del = {"DEL", tl.DstInprog(cmd), tl.DstDelayed(cmd), tl.DstDlq(cmd)};
  for (int p = 0; p <= 9; ++p) del.push_back(tl.DstPending(cmd, p));
  cleanup.push_back(del);
  std::string member = tl.CommandsMember(cmd);
  if (!members_before.count(member)) cleanup.push_back({"SREM", L.DstCommands(), member});
  auto r = c_.PipelineChecked(cleanup);
  if (!r.ok()) return r.status();
  chk.ok = failure.empty();
  chk.detail = failure.empty() ? "created, claimed, nacked, re-claimed and completed a '" + cmd + "' task, then removed it"
                               : failure + " (the canary was removed)";
  return Status::Ok();
}

Result<VerifyReport> Verifier::Run() {
  if (progress_) progress_->Begin("verify", 0);
  if (auto s = LoadExpectations(); !s.ok()) return s;
  if (auto s = CheckTasks(); !s.ok()) return s;
  if (auto s = CheckQueues(); !s.ok()) return s;
  if (auto s = CheckLeases(); !s.ok()) return s;
  if (auto s = CheckV1Lists(); !s.ok()) return s;
  if (auto s = CheckCommands(); !s.ok()) return s;
  if (progress_) progress_->End();
  if (!v_.server.empty()) CheckServer();
  if (v_.canary) {
    if (v_.server.empty()) return InvalidArgument("--canary needs --server");
    if (auto s = Canary(); !s.ok()) return s;
  }
  return rep_;
}

}  // namespace

Result<VerifyReport> Verify(RedisClient& c, const Options& o, const VerifyOptions& v, Progress* progress) {
  Verifier ver(c, o, v, progress);
  return ver.Run();
}

std::string VerifyText(const VerifyReport& r) {
  std::ostringstream out;
  for (const auto& c : r.checks) {
    out << (c.ok ? (c.warning ? "[WARN] " : "[ OK ] ") : "[FAIL] ") << c.name << ": " << c.detail << "\n";
  }
  out << (r.ok() ? "Verification passed.\n" : "Verification FAILED.\n");
  return out.str();
}

json::object VerifyJson(const VerifyReport& r) {
  json::array checks;
  for (const auto& c : r.checks) {
    checks.push_back(json::object{{"name", c.name}, {"ok", c.ok}, {"warning", c.warning}, {"detail", c.detail}});
  }
  return {{"ok", r.ok()}, {"checks", std::move(checks)}};
}

}  // namespace codeq::migrate
