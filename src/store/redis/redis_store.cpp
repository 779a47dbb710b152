// RedisStore: construction, the pool hop, script-reply helpers and the read-only operations.
#include "store/redis/redis_store.h"

#include <algorithm>

#include "domain/keys.h"
#include "domain/time_format.h"
#include "store/redis/redis_store_internal.h"

namespace codeq {

using redis::Argv;
using redis::Connection;
using redis::Reply;

namespace redis {

Result<ScriptOutcome> ParseScriptReply(const Reply& reply) {
  if (!reply.is_array() || reply.elements.empty() || !reply.elements[0].is_string()) {
    return Internal("store error: unexpected script reply");
  }
  ScriptOutcome out;
  out.word = reply.elements[0].str;
  if (reply.elements.size() > 1 && reply.elements[1].is_string()) out.text = reply.elements[1].str;
  return out;
}

Result<Task> ParseStoredTask(std::string_view text) {
  auto t = TaskFromJsonText(text);
  if (!t.ok()) return Internal("store error: unreadable task record");
  return t;
}

Status StatusForWord(std::string_view word, std::string_view not_found_text) {
  if (word == "not_found") return NotFound(std::string(not_found_text));
  if (word == "not_owner") return Forbidden("not-owner");
  if (word == "not_in_progress") return Conflict("not-in-progress");
  return Internal("store error: unexpected script outcome '" + std::string(word) + "'");
}

std::string LeaseUntilText(int64_t now_sec, int64_t seconds) {
  return FormatUtcSeconds(now_sec + seconds);
}

}  // namespace redis

std::shared_ptr<RedisStore> RedisStore::Create(RedisOptions options) {
  return std::shared_ptr<RedisStore>(new RedisStore(std::move(options)));
}

RedisStore::RedisStore(RedisOptions options)
    : options_(std::move(options)),
      connections_(options_),
      pool_(static_cast<size_t>(std::max(1, options_.pool_size))),
      pipeline_(std::make_unique<redis::ScriptPipeline>(connections_, scripts_)) {}

RedisStore::~RedisStore() {
  pipeline_.reset();
  pool_.join();
}

// --- GetTask -----------------------------------------------------------------------------------

Async<Result<Task>> RedisStore::GetTask(std::string tenant, std::string task_id) {
  return Run<Result<Task>>([this, tenant = std::move(tenant), id = std::move(task_id)](Connection& c) {
    return DoGetTask(c, tenant, id);
  });
}

Result<Task> RedisStore::DoGetTask(Connection& c, const std::string& tenant, const std::string& id) {
  auto r = c.Command({"HGET", std::string(keys::kTasks), id});
  if (!r.ok()) return r.status();
  if (r->is_error()) return redis::ErrorReplyStatus(*r);
  if (!r->is_string()) return NotFound("not found");
  auto t = TaskFromJsonText(r->str);
  if (!t.ok() || t->tenant_id != tenant) return NotFound("not found");  // D6
  return t;
}

// --- GetResult ---------------------------------------------------------------------------------

Async<Result<TaskResult>> RedisStore::GetResult(std::string tenant, std::string task_id) {
  return Run<Result<TaskResult>>(
      [this, tenant = std::move(tenant), id = std::move(task_id)](Connection& c) {
        return DoGetResult(c, tenant, id);
      });
}

Result<TaskResult> RedisStore::DoGetResult(Connection& c, const std::string& tenant,
                                           const std::string& id) {
  auto r = c.Pipeline({{"HGET", std::string(keys::kTasks), id}, {"HGET", std::string(keys::kResults), id}});
  if (!r.ok()) return r.status();
  const Reply& task = (*r)[0];
  const Reply& result = (*r)[1];
  if (task.is_error()) return redis::ErrorReplyStatus(task);
  if (result.is_error()) return redis::ErrorReplyStatus(result);
  if (!task.is_string()) return NotFound("task not found");
  auto t = TaskFromJsonText(task.str);
  if (!t.ok() || t->tenant_id != tenant) return NotFound("task not found");  // D6
  if (!result.is_string()) return NotFound("result not found");
  auto res = TaskResultFromJsonText(result.str);
  if (!res.ok()) return NotFound("result not found");
  return res;
}

// --- Stats -------------------------------------------------------------------------------------

Async<Result<QueueStats>> RedisStore::Stats(std::string tenant, std::string command) {
  return Run<Result<QueueStats>>(
      [this, tenant = std::move(tenant), command = std::move(command)](Connection& c) {
        return DoStats(c, tenant, command);
      });
}

Result<QueueStats> RedisStore::DoStats(Connection& c, const std::string& tenant,
                                       const std::string& command) {
  std::vector<Argv> cmds;
  for (int p = 9; p >= 0; --p) cmds.push_back({"LLEN", keys::Pending(command, tenant, p)});
  cmds.push_back({"ZCARD", keys::Delayed(command, tenant)});
  cmds.push_back({"SCARD", keys::InProgress(command, tenant)});
  cmds.push_back({"LLEN", keys::Dlq(command, tenant)});
  auto r = c.Pipeline(cmds);
  if (!r.ok()) return r.status();
  for (const Reply& x : *r) {
    if (x.is_error()) return redis::ErrorReplyStatus(x);
  }
  QueueStats s;
  s.command = command;
  for (int i = 0; i < 10; ++i) s.ready += (*r)[i].as_int();
  s.delayed = (*r)[10].as_int();
  s.in_progress = (*r)[11].as_int();
  s.dlq = (*r)[12].as_int();
  return s;
}

// --- Ping --------------------------------------------------------------------------------------

Async<VoidResult> RedisStore::Ping() {
  return Run<VoidResult>([](Connection& c) -> VoidResult {
    auto r = c.Command({"PING"});
    if (!r.ok()) return r.status();
    if (r->is_error()) return redis::ErrorReplyStatus(*r);
    return Unit{};
  });
}

}  // namespace codeq
