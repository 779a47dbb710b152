// RedisStore: lease-expiry repair, cleanup and the known-commands set (SPEC §4.8, §4.10, D5, D12).
#include <algorithm>
#include <set>

#include "domain/keys.h"
#include "store/redis/redis_store.h"
#include "store/redis/redis_store_internal.h"

namespace codeq {

using redis::Argv;
using redis::Connection;
using redis::Reply;
using redis::ScriptId;
using std::to_string;

namespace {

constexpr const char* kLeaseExpiredReason = "LEASE_EXPIRED";
constexpr int kCleanupBatch = 200;
constexpr int kScanCount = 500;

// attempts of a readable IN_PROGRESS task, or -1 (the script then only drops a stale entry).
int InProgressAttempts(const Reply& task_json) {
  if (!task_json.is_string()) return -1;
  auto t = TaskFromJsonText(task_json.str);
  if (!t.ok() || t->status != kInProgress) return -1;
  return t->attempts;
}

}  // namespace

// --- RepairExpired -----------------------------------------------------------------------------

Async<Result<RepairOutcome>> RedisStore::RepairExpired(RepairInput in) {
  return Run<Result<RepairOutcome>>(
      [this, in = std::move(in)](Connection& c) { return DoRepair(c, in); });
}

// Three pipelined reads (sample, lease TTLs, task records) find the candidates; each candidate is
// then re-checked and transitioned atomically by the repair script, which is the only place that
// decides (the reads may be stale by then).
Result<RepairOutcome> RedisStore::DoRepair(Connection& c, const RepairInput& in) {
  RepairOutcome out;
  const int limit = std::max(1, in.inspect_limit);

  std::vector<std::pair<std::string, std::string>> sets;  // (command as given, in-progress key)
  for (const auto& cmd : in.commands) {
    std::string key = keys::InProgress(cmd, in.tenant);
    bool seen = std::any_of(sets.begin(), sets.end(), [&](const auto& s) { return s.second == key; });
    if (!seen) sets.emplace_back(cmd, std::move(key));
  }
  if (sets.empty()) return out;

  std::vector<Argv> sample;
  for (const auto& s : sets) sample.push_back({"SRANDMEMBER", s.second, to_string(limit)});
  auto sampled = c.Pipeline(sample);
  if (!sampled.ok()) return sampled.status();

  struct Candidate {
    size_t set;
    std::string id;
  };
  std::vector<Candidate> members;
  for (size_t i = 0; i < sampled->size(); ++i) {
    const Reply& r = (*sampled)[i];
    if (r.is_error()) return redis::ErrorReplyStatus(r);
    for (const Reply& e : r.elements) {
      if (e.is_string()) members.push_back({i, e.str});
    }
  }
  if (members.empty()) return out;

  std::vector<Argv> ttls;
  for (const auto& m : members) ttls.push_back({"PTTL", keys::Lease(m.id)});
  auto ttl_replies = c.Pipeline(ttls);
  if (!ttl_replies.ok()) return ttl_replies.status();
  std::vector<Candidate> expired;  // -2: no lease key, -1: a lease without expiry (SPEC: ttl <= 0)
  for (size_t i = 0; i < members.size(); ++i) {
    const Reply& r = (*ttl_replies)[i];
    if (r.is_error()) return redis::ErrorReplyStatus(r);
    if (r.as_int(1) < 0) expired.push_back(members[i]);
  }
  if (expired.empty()) return out;

  std::vector<Argv> reads;
  for (const auto& e : expired) reads.push_back({"HGET", std::string(keys::kTasks), e.id});
  auto tasks = c.Pipeline(reads);
  if (!tasks.ok()) return tasks.status();

  for (size_t i = 0; i < expired.size(); ++i) {
    const Candidate& cand = expired[i];
    if ((*tasks)[i].is_error()) return redis::ErrorReplyStatus((*tasks)[i]);
    int attempts = InProgressAttempts((*tasks)[i]);
    TaskResult failed;
    failed.task_id = cand.id;
    failed.status = std::string(kFailed);
    failed.error = kLeaseExpiredReason;
    failed.completed_at = in.now.text;
    const std::string failed_json = TaskResultToJsonText(failed);
    for (int round = 0; round < 3; ++round) {
      int64_t delay = (attempts >= 0 && in.backoff) ? std::max<int64_t>(0, in.backoff(attempts)) : 0;
      auto r = scripts_.Run(c, ScriptId::kRepairOne,
                            {cand.id, sets[cand.set].second, to_string(attempts), to_string(delay),
                             to_string(in.now.seconds()), in.now.text, kLeaseExpiredReason,
                             to_string(in.max_attempts_default), failed_json, to_string(in.now.ms)});
      if (!r.ok()) return r.status();
      auto word = redis::ParseScriptReply(*r);
      if (!word.ok()) return word.status();
      if (word->word == "changed") {  // attempts moved since the read: recompute the backoff
        auto again = c.Command({"HGET", std::string(keys::kTasks), cand.id});
        if (!again.ok()) return again.status();
        attempts = InProgressAttempts(*again);
        continue;
      }
      if (word->word == "requeued" || word->word == "dlq") {
        out.expired_commands.push_back(sets[cand.set].first);
        if (word->word == "dlq") {
          auto t = redis::ParseStoredTask(word->text);
          if (!t.ok()) return t.status();
          out.dead_lettered.push_back(std::move(t).value());
        }
      }
      break;  // requeued, dlq, alive (lease is back) or stale (entry removed)
    }
  }
  return out;
}

// --- Cleanup -----------------------------------------------------------------------------------

Async<Result<int64_t>> RedisStore::Cleanup(CleanupInput in) {
  return Run<Result<int64_t>>([this, in = std::move(in)](Connection& c) { return DoCleanup(c, in); });
}

// Pages through the retention index in score order. Deleted ids leave the index, kept ones (by
// the status/tenant filters) stay, so the next page starts after the kept ones: a window full of
// live tasks does not hide older terminal ones behind it.
Result<int64_t> RedisStore::DoCleanup(Connection& c, const CleanupInput& in) {
  const int64_t limit = in.limit > 0 ? in.limit : 1000;
  int64_t deleted = 0;
  int64_t offset = 0;
  while (deleted < limit) {
    auto page = c.Command({"ZRANGEBYSCORE", std::string(keys::kTasksTtl), "-inf",
                           to_string(in.before_sec), "LIMIT", to_string(offset),
                           to_string(kCleanupBatch)});
    if (!page.ok()) return page.status();
    if (page->is_error()) return redis::ErrorReplyStatus(*page);
    if (page->elements.empty()) break;
    std::vector<std::string> args = {to_string(in.before_sec), in.include_active ? "1" : "0",
                                     in.tenant ? "=" : "*", in.tenant.value_or(""),
                                     to_string(limit - deleted)};
    for (const Reply& e : page->elements) {
      if (e.is_string()) args.push_back(e.str);
    }
    auto r = scripts_.Run(c, ScriptId::kCleanup, args);
    if (!r.ok()) return r.status();
    if (!r->is_array() || r->elements.size() != 2) return Internal("store error: unexpected cleanup reply");
    deleted += r->elements[0].as_int();
    offset += r->elements[1].as_int();
    if (page->elements.size() < static_cast<size_t>(kCleanupBatch)) break;
  }
  return deleted;
}

// --- ListCommands ------------------------------------------------------------------------------

Async<Result<std::vector<std::string>>> RedisStore::ListCommands(std::string tenant) {
  return Run<Result<std::vector<std::string>>>(
      [this, tenant = std::move(tenant)](Connection& c) { return DoListCommands(c, tenant); });
}

Result<std::vector<std::string>> RedisStore::DoListCommands(Connection& c, const std::string& tenant) {
  auto members = c.Command({"SMEMBERS", std::string(keys::kCommands)});
  if (!members.ok()) return members.status();
  if (members->is_error()) return redis::ErrorReplyStatus(*members);
  if (members->elements.empty()) {  // missing (e.g. data written by the RI): rebuild, then re-read
    auto rebuilt = RebuildCommands(c);
    if (!rebuilt.ok()) return rebuilt.status();
    if (*rebuilt) {
      members = c.Command({"SMEMBERS", std::string(keys::kCommands)});
      if (!members.ok()) return members.status();
      if (members->is_error()) return redis::ErrorReplyStatus(*members);
    }
  }
  const std::string prefix = keys::CommandsMember(tenant, "");
  std::set<std::string> out;
  for (const Reply& m : members->elements) {
    if (m.is_string() && m.str.size() > prefix.size() && m.str.compare(0, prefix.size(), prefix) == 0) {
      out.insert(m.str.substr(prefix.size()));
    }
  }
  return std::vector<std::string>(out.begin(), out.end());
}

// D5 rebuild, best effort: HSCAN the task records (which carry the command's exact case and the
// tenant) and SADD their "<tenant>|<command>" members. Queue keys alone cannot be used: they hold
// the lower-cased command. Tasks already deleted by cleanup are not recovered, which is fine
// because the set only needs commands that still have work or records. Returns whether any
// member was added. O(number of tasks).
Result<bool> RedisStore::RebuildCommands(Connection& c) {
  std::set<std::string> found;
  std::string cursor = "0";
  do {
    auto r = c.Command({"HSCAN", std::string(keys::kTasks), cursor, "COUNT", to_string(kScanCount)});
    if (!r.ok()) return r.status();
    if (r->is_error()) return redis::ErrorReplyStatus(*r);
    if (!r->is_array() || r->elements.size() != 2) return Internal("store error: unexpected HSCAN reply");
    cursor = r->elements[0].str;
    const auto& kv = r->elements[1].elements;
    for (size_t i = 1; i < kv.size(); i += 2) {
      auto t = TaskFromJsonText(kv[i].str);
      if (t.ok() && !t->command.empty()) found.insert(keys::CommandsMember(t->tenant_id, t->command));
    }
  } while (cursor != "0");
  if (found.empty()) return false;
  Argv sadd = {"SADD", std::string(keys::kCommands)};
  sadd.insert(sadd.end(), found.begin(), found.end());
  auto r = c.Command(sadd);
  if (!r.ok()) return r.status();
  if (r->is_error()) return redis::ErrorReplyStatus(*r);
  return true;
}

}  // namespace codeq
