// RedisStore: the durable result-callback outbox, worker-availability subscriptions and
// on-demand promotion (SPEC §4.1, §6, D16). State changes are Lua scripts (lua_scripts.cpp);
// reads are plain commands.
#include <boost/json.hpp>
#include <map>
#include <set>

#include "domain/keys.h"
#include "domain/time_format.h"
#include "store/redis/redis_store.h"
#include "store/redis/redis_store_internal.h"

namespace codeq {

using redis::Argv;
using redis::Connection;
using redis::Reply;
using redis::ScriptId;
using redis::ScriptRunner;
using std::to_string;

namespace {

namespace json = boost::json;

// Key names (SPEC §4.1; the outbox is our addition). Mirrored by the Lua prelude.
constexpr std::string_view kSubs = "codeq:subs";
constexpr int kScanCount = 500;
constexpr int kCleanupPage = 1000;  // SPEC §6.2: LIMIT 0 1000 per zset

std::string SubsKey(std::string_view command) { return "codeq:subs:" + keys::LowerAscii(command); }
std::string SubsLastKey(std::string_view id) { return "codeq:subs:last:" + std::string(id); }
std::string SubsRrKey(std::string_view command, std::string_view group) {
  return "codeq:subs:rr:" + keys::LowerAscii(command) + ":" + std::string(group);
}

/// One command; an error reply becomes its Status. One round trip.
Result<Reply> Call(Connection& c, const Argv& argv) {
  auto r = c.Command(argv);
  if (!r.ok()) return r.status();
  if (r->is_error()) return redis::ErrorReplyStatus(*r);
  return r;
}

int64_t JsonInt(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return static_cast<int64_t>(v.get_uint64());
  if (v.is_double()) return static_cast<int64_t>(v.get_double());
  return 0;
}

std::string JsonString(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

/// An outbox entry from its data hash value ({"url","tenantId","command","attempts"}).
Result<OutboxEntry> ParseOutboxData(const std::string& id, const std::string& data, int64_t due_ms) {
  json::error_code ec;
  json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) return Internal("store error: unreadable outbox entry");
  const json::object& o = v.get_object();
  OutboxEntry e;
  e.task_id = id;
  e.url = JsonString(o, "url");
  e.tenant = JsonString(o, "tenantId");
  e.command = JsonString(o, "command");
  auto it = o.find("attempts");
  e.attempts = it == o.end() ? 0 : static_cast<int>(JsonInt(it->value()));
  e.due_ms = due_ms;
  return e;
}

/// A subscription record read back from the hash. nullopt when missing or unreadable.
std::optional<Subscription> ParseSub(const Reply& r) {
  if (!r.is_string()) return std::nullopt;
  auto s = SubscriptionFromJsonText(r.str);
  if (!s.ok()) return std::nullopt;
  return std::move(s).value();
}

/// The zsets that index `s` (one per distinct lower-cased event type).
std::vector<std::string> IndexKeys(const Subscription& s) {
  std::set<std::string> keys;
  for (const auto& e : s.event_types) keys.insert(SubsKey(e));
  return {keys.begin(), keys.end()};
}

/// Every record of `codeq:subs` (HSCAN): id -> raw JSON. O(subscriptions).
Result<std::map<std::string, std::string>> ScanSubs(Connection& c) {
  std::map<std::string, std::string> out;
  std::string cursor = "0";
  do {
    auto r = Call(c, {"HSCAN", std::string(kSubs), cursor, "COUNT", to_string(kScanCount)});
    if (!r.ok()) return r.status();
    if (!r->is_array() || r->elements.size() != 2) return Internal("store error: unexpected HSCAN reply");
    cursor = r->elements[0].str;
    const auto& kv = r->elements[1].elements;
    for (size_t i = 1; i < kv.size(); i += 2) out[kv[i - 1].str] = kv[i].str;
  } while (cursor != "0");
  return out;
}

/// Lower-cased commands known to the store (D5), from `codeq:commands` ("<tenant>|<command>").
Result<std::set<std::string>> KnownCommandsLower(Connection& c) {
  auto r = Call(c, {"SMEMBERS", std::string(keys::kCommands)});
  if (!r.ok()) return r.status();
  std::set<std::string> out;
  for (const Reply& m : r->elements) {
    auto bar = m.str.find('|');
    if (bar != std::string::npos) out.insert(keys::LowerAscii(m.str.substr(bar + 1)));
  }
  return out;
}

/// Runs a script whose reply is an integer (1 = applied).
Result<bool> RunFlag(ScriptRunner& scripts, Connection& c, ScriptId id, const std::vector<std::string>& args) {
  auto r = scripts.Run(c, id, args);
  if (!r.ok()) return r.status();
  return r->as_int() == 1;
}

// --- outbox ------------------------------------------------------------------------------------

Result<std::vector<OutboxEntry>> DoClaimCallbacks(ScriptRunner& scripts, Connection& c, int64_t now_ms,
                                                  int64_t lease_ms, int limit) {
  const int64_t until = now_ms + std::max<int64_t>(0, lease_ms);
  auto r = scripts.Run(c, ScriptId::kOutboxClaim,
                       {to_string(now_ms), to_string(until), to_string(std::max(1, limit))});
  if (!r.ok()) return r.status();
  std::vector<OutboxEntry> out;
  for (size_t i = 0; i + 1 < r->elements.size(); i += 2) {
    auto e = ParseOutboxData(r->elements[i].str, r->elements[i + 1].str, until);
    if (!e.ok()) return e.status();
    out.push_back(std::move(e).value());
  }
  return out;
}

// --- subscriptions -----------------------------------------------------------------------------

Result<std::vector<Subscription>> DoActiveSubs(Connection& c, const std::string& command, int64_t now_sec,
                                               int limit) {
  const std::string key = SubsKey(command);
  auto ids = Call(c, {"ZRANGEBYSCORE", key, to_string(now_sec), "+inf", "LIMIT", "0", to_string(std::max(1, limit))});
  if (!ids.ok()) return ids.status();
  std::vector<Subscription> out;
  if (ids->elements.empty()) return out;
  Argv hmget = {"HMGET", std::string(kSubs)};
  for (const Reply& id : ids->elements) hmget.push_back(id.str);
  auto records = Call(c, hmget);
  if (!records.ok()) return records.status();
  Argv zrem = {"ZREM", key};
  for (size_t i = 0; i < ids->elements.size() && i < records->elements.size(); ++i) {
    auto s = ParseSub(records->elements[i]);
    if (s && s->expires_at_sec >= now_sec) {
      out.push_back(std::move(*s));
    } else {
      zrem.push_back(ids->elements[i].str);  // missing or already expired (SPEC §6.2 step 1)
    }
  }
  if (zrem.size() > 2) {
    auto r = Call(c, zrem);
    if (!r.ok()) return r.status();
  }
  return out;
}

Result<std::vector<Subscription>> DoListSubs(Connection& c, int64_t now_sec, int limit) {
  auto all = ScanSubs(c);
  if (!all.ok()) return all.status();
  std::vector<Subscription> out;
  for (const auto& [id, text] : *all) {
    if (static_cast<int>(out.size()) >= limit) break;
    auto s = SubscriptionFromJsonText(text);
    if (s.ok() && s->expires_at_sec >= now_sec) out.push_back(std::move(s).value());
  }
  return out;
}

// SPEC §6.2 cleanup loop, over every indexed command (D5): (1) expired records are removed with
// their index entries; (2) index entries of expired score are then checked: a missing record is
// dropped, a stale score re-scored. Every change is a compare-and-set on the record text, so a
// concurrent renewal wins.
Result<int64_t> DoCleanupSubs(ScriptRunner& scripts, Connection& c, int64_t now_sec, int limit) {
  auto all = ScanSubs(c);
  if (!all.ok()) return all.status();
  auto zsets = KnownCommandsLower(c);
  if (!zsets.ok()) return zsets.status();
  std::set<std::string> index_keys;
  for (const auto& cmd : *zsets) index_keys.insert(SubsKey(cmd));

  std::map<std::string, Subscription> live;  // id -> parsed record (not removed)
  int64_t removed = 0;
  for (const auto& [id, text] : *all) {
    auto s = SubscriptionFromJsonText(text);
    if (!s.ok()) continue;  // unreadable: left for an operator
    std::vector<std::string> idx = IndexKeys(*s);
    index_keys.insert(idx.begin(), idx.end());
    if (s->expires_at_sec >= now_sec || removed >= limit) {
      live.emplace(id, std::move(s).value());
      continue;
    }
    std::vector<std::string> args = {id, text};
    args.insert(args.end(), idx.begin(), idx.end());
    auto done = RunFlag(scripts, c, ScriptId::kSubRemove, args);
    if (!done.ok()) return done.status();
    removed += *done ? 1 : 0;
  }

  for (const auto& key : index_keys) {
    auto ids = Call(c, {"ZRANGEBYSCORE", key, "-inf", "(" + to_string(now_sec), "LIMIT", "0", to_string(kCleanupPage)});
    if (!ids.ok()) return ids.status();
    for (const Reply& m : ids->elements) {
      auto it = live.find(m.str);
      std::vector<std::string> args;
      ScriptId op = ScriptId::kSubRemove;
      if (it == live.end()) {
        args = {m.str, "", key};  // the record is gone: drop the index entry (if still gone)
      } else if (it->second.expires_at_sec >= now_sec) {
        op = ScriptId::kSubRescore;
        args = {m.str, all->at(m.str), key, to_string(it->second.expires_at_sec)};
      } else {
        continue;  // expired but past this run's limit
      }
      auto done = RunFlag(scripts, c, op, args);
      if (!done.ok()) return done.status();
    }
  }
  return removed;
}

}  // namespace

// --- outbox ------------------------------------------------------------------------------------

Async<Result<std::vector<OutboxEntry>>> RedisStore::ClaimDueCallbacks(int64_t now_ms, int64_t lease_ms,
                                                                      int limit) {
  return Run<Result<std::vector<OutboxEntry>>>([this, now_ms, lease_ms, limit](Connection& c) {
    return DoClaimCallbacks(scripts_, c, now_ms, lease_ms, limit);
  });
}

Async<VoidResult> RedisStore::FinishCallback(std::string task_id) {
  return Run<VoidResult>([this, id = std::move(task_id)](Connection& c) -> VoidResult {
    auto r = scripts_.Run(c, ScriptId::kOutboxFinish, {id});
    if (!r.ok()) return r.status();
    return Unit{};
  });
}

Async<VoidResult> RedisStore::RetryCallback(std::string task_id, int attempts, int64_t due_ms) {
  return Run<VoidResult>([this, id = std::move(task_id), attempts, due_ms](Connection& c) -> VoidResult {
    auto r = scripts_.Run(c, ScriptId::kOutboxRetry, {id, to_string(attempts), to_string(due_ms)});
    if (!r.ok()) return r.status();
    return Unit{};
  });
}

// --- subscriptions -----------------------------------------------------------------------------

Async<VoidResult> RedisStore::CreateSubscription(Subscription sub) {
  return Run<VoidResult>([this, sub = std::move(sub)](Connection& c) -> VoidResult {
    std::vector<std::string> args = {sub.id, SubscriptionToJsonText(sub), to_string(sub.expires_at_sec)};
    args.insert(args.end(), sub.event_types.begin(), sub.event_types.end());
    auto r = scripts_.Run(c, ScriptId::kSubCreate, args);
    if (!r.ok()) return r.status();
    return Unit{};
  });
}

Async<Result<Subscription>> RedisStore::RenewSubscription(std::string tenant, std::string id,
                                                          int64_t expires_at_sec,
                                                          std::string expires_at_text) {
  return Run<Result<Subscription>>([this, tenant = std::move(tenant), id = std::move(id), expires_at_sec,
                                    text = std::move(expires_at_text)](Connection& c) -> Result<Subscription> {
    auto r = scripts_.Run(c, ScriptId::kSubRenew, {id, tenant, to_string(expires_at_sec), text});
    if (!r.ok()) return r.status();
    auto out = redis::ParseScriptReply(*r);
    if (!out.ok()) return out.status();
    if (out->word != "ok") return redis::StatusForWord(out->word, "not-found");
    auto s = SubscriptionFromJsonText(out->text);
    if (!s.ok()) return Internal("store error: unreadable subscription record");
    s->expires_at_sec = expires_at_sec;
    return s;
  });
}

Async<Result<std::vector<Subscription>>> RedisStore::ActiveSubscriptions(std::string command, int64_t now_sec,
                                                                         int limit) {
  return Run<Result<std::vector<Subscription>>>(
      [command = std::move(command), now_sec, limit](Connection& c) { return DoActiveSubs(c, command, now_sec, limit); });
}

Async<Result<std::vector<Subscription>>> RedisStore::ListSubscriptions(int64_t now_sec, int limit) {
  return Run<Result<std::vector<Subscription>>>(
      [now_sec, limit](Connection& c) { return DoListSubs(c, now_sec, limit); });
}

Async<Result<bool>> RedisStore::TryThrottle(std::string sub_id, int interval_seconds, int64_t now_ms) {
  return Run<Result<bool>>([id = std::move(sub_id), interval_seconds](Connection& c) -> Result<bool> {
    auto r = Call(c, {"SET", SubsLastKey(id), "1", "NX", "EX", to_string(std::max(1, interval_seconds))});
    if (!r.ok()) return r.status();
    return !r->is_nil();  // "OK" = set now; nil = a notification was sent within the interval
  });
}

Async<Result<int64_t>> RedisStore::NextRoundRobin(std::string command, std::string group_id) {
  return Run<Result<int64_t>>([key = SubsRrKey(command, group_id)](Connection& c) -> Result<int64_t> {
    auto r = Call(c, {"INCR", key});
    if (!r.ok()) return r.status();
    return static_cast<int64_t>(r->as_int());
  });
}

Async<Result<int64_t>> RedisStore::CleanupSubscriptions(int64_t now_sec, int limit) {
  return Run<Result<int64_t>>([this, now_sec, limit](Connection& c) {
    return DoCleanupSubs(scripts_, c, now_sec, limit > 0 ? limit : kCleanupPage);
  });
}

Async<Result<int64_t>> RedisStore::CountActiveSubscriptions(std::string command, int64_t now_sec) {
  return Run<Result<int64_t>>([key = SubsKey(command), now_sec](Connection& c) -> Result<int64_t> {
    auto r = Call(c, {"ZCOUNT", key, to_string(now_sec), "+inf"});
    if (!r.ok()) return r.status();
    return static_cast<int64_t>(r->as_int());
  });
}

// --- promotion ---------------------------------------------------------------------------------

Async<Result<Store::PromoteOutcome>> RedisStore::PromoteDue(std::string tenant, std::string command,
                                                            int64_t now_sec, int limit) {
  return Run<Result<PromoteOutcome>>([this, tenant = std::move(tenant), command = std::move(command), now_sec,
                                      limit](Connection& c) -> Result<PromoteOutcome> {
    auto r = scripts_.Run(c, ScriptId::kPromote,
                          {tenant, command, to_string(now_sec), FormatTimestamp(now_sec * 1000),
                           to_string(std::max(1, limit))});
    if (!r.ok()) return r.status();
    if (!r->is_array() || r->elements.size() != 2) return Internal("store error: unexpected promote reply");
    return PromoteOutcome{r->elements[0].as_int(), r->elements[1].as_int()};
  });
}

}  // namespace codeq
