#include "store/redis/lua_scripts.h"

#include <array>
#include <iterator>
#include <string>

namespace codeq::redis {
namespace {

// Shared helpers (SPEC §4.1 key names mirroring domain/keys.h, D5, D6; a contract test checks
// that both produce the same names). A script includes only the pieces it uses (ScriptSource):
// every `local function` of a script is a new closure each time the script runs, and the whole
// set cost ~2.3 µs per call (redis-benchmark of an empty body with and without it). Each piece
// defines the one local it is named after; pieces come in this order, so a piece may use the
// pieces above it.
struct Piece {
  std::string_view name;
  std::string_view text;
};
constexpr Piece kPrelude[] = {
    {"TASKS", "local TASKS = 'codeq:tasks'\n"},
    {"TTL", "local TTL = 'codeq:tasks:ttl'\n"},
    {"RESULTS", "local RESULTS = 'codeq:results'\n"},
    {"RETENTION", "local RETENTION = 86400\n"},
    {"qprefix", R"lua(
-- codeq:q:<cmd>{T}: <cmd> is ASCII lower-cased (Redis runs Lua in the C locale), {T} = ':'..tenant.
local function qprefix(cmd, tenant)
  local p = 'codeq:q:' .. string.lower(cmd)
  if tenant ~= '' then p = p .. ':' .. tenant end
  return p
end
)lua"},
    {"clamp_priority", R"lua(
-- An integer tier 0..9 from a priority (number or text; anything else, NaN included, is 0).
local function clamp_priority(p)
  p = math.floor(tonumber(p) or 0)
  if p ~= p or p < 0 then return 0 end
  if p > 9 then return 9 end
  return p
end
)lua"},
    {"TIER_SUFFIX", R"lua(
-- The tier part of a pending key, by tier + 1: concatenating the number would format it with
-- printf each time.
local TIER_SUFFIX = {':pending:0', ':pending:1', ':pending:2', ':pending:3', ':pending:4', ':pending:5',
                     ':pending:6', ':pending:7', ':pending:8', ':pending:9'}
)lua"},
    {"tier_key", R"lua(
-- The pending-tier key for a queue prefix `q` (qprefix) and an integer tier 0..9. Scripts that
-- visit many tiers compute `q` once and call this (string.lower and the clamp cost ~0.5 µs a key).
local function tier_key(q, p) return q .. TIER_SUFFIX[p + 1] end
)lua"},
    {"pending_key", R"lua(
local function pending_key(cmd, tenant, p) return tier_key(qprefix(cmd, tenant), clamp_priority(p)) end
)lua"},
    {"tier_keys", R"lua(
-- The 10 pending-tier keys of one queue, tier 0 first.
local function tier_keys(cmd, tenant)
  local q, keys = qprefix(cmd, tenant), {}
  for p = 0, 9 do keys[p + 1] = tier_key(q, p) end
  return keys
end
)lua"},
    {"inprog_key", "local function inprog_key(cmd, tenant) return qprefix(cmd, tenant) .. ':inprog' end\n"},
    {"delayed_key", "local function delayed_key(cmd, tenant) return qprefix(cmd, tenant) .. ':delayed' end\n"},
    {"dlq_key", "local function dlq_key(cmd, tenant) return qprefix(cmd, tenant) .. ':dlq' end\n"},
    {"lease_key", "local function lease_key(id) return 'codeq:lease:' .. id end\n"},
    {"str", "local function str(v) if type(v) == 'string' then return v end return '' end\n"},
    {"num", "local function num(v) return tonumber(v) or 0 end\n"},
    {"load_task", R"lua(
-- The decoded task, or nil when missing or unreadable (not an object, no command).
local function load_task(id)
  local raw = redis.call('HGET', TASKS, id)
  if not raw then return nil end
  local ok, t = pcall(cjson.decode, raw)
  if not ok or type(t) ~= 'table' or type(t.command) ~= 'string' then return nil end
  return t
end
)lua"},
    {"save_task", R"lua(
-- Writes the task (cjson re-encodes it; omit-empty members are set to nil, never '' or 0) and its
-- retention deadline (SPEC §4.6; epoch s, a number or the text of one). Returns the stored text.
local function save_task(id, t, retention_at)
  local text = cjson.encode(t)
  redis.call('HSET', TASKS, id, text)
  redis.call('ZADD', TTL, retention_at, id)
  return text
end
)lua"},
    {"ready_depth", R"lua(
-- Sum of the 10 ready tiers of one queue (SPEC §6.2, D16). O(1) per tier.
local function ready_depth(cmd, tenant)
  local n = 0
  for _, key in ipairs(tier_keys(cmd, tenant)) do n = n + redis.call('LLEN', key) end
  return n
end
)lua"},
    {"ready_tiers", R"lua(
-- Number of non-empty ready tiers of one queue, in one call: a lower bound of its ready depth
-- that is 1 exactly when the depth is 1.
local function ready_tiers(cmd, tenant)
  return redis.call('EXISTS', unpack(tier_keys(cmd, tenant)))
end
)lua"},
    {"promote_due", R"lua(
-- Promotes up to `limit` due delayed ids of one queue into the pending tier of the task's
-- priority and own tenant (SPEC §4.8). `now` is epoch seconds and `now_s` its ARGV text (Redis
-- formats a number argument with printf), `limit` the ARGV text of an integer. Ids whose task is
-- missing, unreadable or no longer PENDING are only removed from the delayed set. Returns the
-- number of tasks moved and the number of due ids it found (fewer than `limit`: no due id is left
-- at `now`). O(limit log N).
local function promote_due(cmd, tenant, now, now_s, now_text, limit)
  local dkey = delayed_key(cmd, tenant)
  local due = redis.call('ZRANGEBYSCORE', dkey, '-inf', now_s, 'LIMIT', '0', limit)
  local moved = 0
  for _, id in ipairs(due) do
    redis.call('ZREM', dkey, id)
    local t = load_task(id)
    if t and t.status == 'PENDING' then
      redis.call('LPUSH', pending_key(t.command, str(t.tenantId), t.priority), id)
      t.workerId = nil
      t.leaseUntil = nil
      t.updatedAt = now_text
      save_task(id, t, now + RETENTION)
      moved = moved + 1
    end
  end
  return moved, #due
end
)lua"},
    {"OUTBOX", R"lua(
-- Durable result-callback outbox (SPEC §6.1, D11, D16; our addition to §4.1): an index by due
-- time and the entries' data.
local OUTBOX = 'codeq:webhooks:outbox'
)lua"},
    {"OUTBOX_DATA", "local OUTBOX_DATA = 'codeq:webhooks:outbox:data'\n"},
    {"outbox_add", R"lua(
-- Written with the terminal transition of a task that has a webhook, due at once (now_ms).
local function outbox_add(id, t, now_ms)
  local url = str(t.webhook)
  if url == '' then return end
  redis.call('ZADD', OUTBOX, now_ms, id)
  redis.call('HSET', OUTBOX_DATA, id,
             cjson.encode({url = url, tenantId = str(t.tenantId), command = t.command, attempts = 0}))
end
)lua"},
    {"SUBS", R"lua(
-- Subscriptions (SPEC §4.1): record hash, per-command expiry index, throttle key.
local SUBS = 'codeq:subs'
)lua"},
    {"subs_key", "local function subs_key(cmd) return 'codeq:subs:' .. string.lower(cmd) end\n"},
    {"subs_last_key", "local function subs_last_key(id) return 'codeq:subs:last:' .. id end\n"},
    {"check_owned", R"lua(
-- Checks of heartbeat, abandon and nack, in SPEC order (D6, D10): unknown or another tenant's
-- task, then ownership, then status.
local function check_owned(t, tenant, worker)
  if not t or str(t.tenantId) ~= tenant then return 'not_found' end
  if str(t.workerId) ~= worker then return 'not_owner' end
  if t.status ~= 'IN_PROGRESS' then return 'not_in_progress' end
  return nil
end
)lua"},
    {"nack_apply", R"lua(
-- The nack transition of SPEC §4.9 with D2 (attempts are not incremented here: the claim counted
-- the delivery) and D11 (dead-lettering also stores a FAILED result record).
local function nack_apply(id, t, delay, reason, max_default, now, now_text, failed_result, now_ms)
  local max_attempts = num(t.maxAttempts)
  if max_attempts <= 0 then max_attempts = max_default end
  if max_attempts <= 0 then max_attempts = 1 end
  local cmd, tenant = t.command, str(t.tenantId)
  redis.call('SREM', inprog_key(cmd, tenant), id)
  redis.call('DEL', lease_key(id))
  t.workerId = nil
  t.leaseUntil = nil
  t.updatedAt = now_text
  if num(t.attempts) >= max_attempts then
    t.status = 'FAILED'
    t.error = reason
    t.resultKey = RESULTS
    redis.call('LPUSH', dlq_key(cmd, tenant), id)
    redis.call('HSET', RESULTS, id, failed_result)
    outbox_add(id, t, now_ms)
    return {'dlq', save_task(id, t, now + RETENTION)}
  end
  if delay < 0 then delay = 0 end
  t.status = 'PENDING'
  t.error = nil
  redis.call('ZADD', delayed_key(cmd, tenant), now + delay, id)
  return {'requeued', save_task(id, t, now + delay + RETENTION)}
end
)lua"},
};

// One create (SPEC §2.3 + §2.3.2, D5, D6, D12), prepended to kCreate and kCreateBatch. Its ARGV
// are ARGV[o + 1] .. ARGV[o + 10]: 1 id, 2 task JSON (C++ codec), 3 tenant, 4 command, 5 priority,
// 6 visible-at (epoch s), 7 now (epoch s), 8 idempotency key name ('' = none), 9 idempotency TTL
// (s), 10 retention deadline (epoch s: the later of visible-at and now, + 24 h). Returns
// {'created', ready depth after the push ('0' when delayed)} | {'replay', task JSON} |
// {'conflict'} (key owned by another tenant's task).
constexpr std::string_view kCreateFn = R"lua(
local CREATE_ARGS = 10
local function create_task(o)
  local id, text, tenant, command = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
  local visible, now = tonumber(ARGV[o + 6]), tonumber(ARGV[o + 7])
  local idem = ARGV[o + 8]
  if idem ~= '' then
    local existing = redis.call('GET', idem)
    if existing then
      local raw = redis.call('HGET', TASKS, existing)
      if raw then
        local ok, t = pcall(cjson.decode, raw)
        if ok and type(t) == 'table' and str(t.tenantId) == tenant then return {'replay', raw} end
        return {'conflict'}
      end
      -- the key outlived its task: take it over
    end
    redis.call('SET', idem, id, 'EX', ARGV[o + 9])
  end
  redis.call('HSET', TASKS, id, text)
  local depth = 0
  if visible > now then
    redis.call('ZADD', delayed_key(command, tenant), visible, id)
    redis.call('ZADD', TTL, ARGV[o + 10], id)
  else
    local tier_depth = redis.call('LPUSH', pending_key(command, tenant, ARGV[o + 5]), id)
    redis.call('ZADD', TTL, ARGV[o + 10], id)
    -- Only a depth of 1 matters (the queue went from empty to ready: SPEC §6.2, D16). A tier that
    -- already held tasks answers "more than 1" without reading the other nine; an empty one counts
    -- the non-empty tiers with one EXISTS (an empty list is no key): 1 = only this task's tier.
    depth = tier_depth > 1 and tier_depth or ready_tiers(command, tenant)
  end
  redis.call('SADD', 'codeq:commands', tenant .. '|' .. command)
  return {'created', tostring(depth)}
end
)lua";

// Runs `fn(o)` for every group of `stride` ARGV in order and returns their replies in one array.
// A group that raises an error (a bug, or a command refused such as WRONGTYPE) answers
// {'error', message} where its own script would have failed with that error, and the groups
// after it still run. (Redis's `pcall` hands the message over as a string, on Redis 6 and 7; the
// table form is a fallback.) The loop stops early, after the group that brings the text of the
// replies (task JSON, payload included) to BATCH_REPLY_BYTES: the caller sends the remaining
// groups in another call, so one call's decoding and encoding stays bounded. At least one group
// runs. Prepended to the batch scripts.
constexpr std::string_view kBatchFn = R"lua(
local BATCH_REPLY_BYTES = 2097152
local function run_batch(fn, stride)
  local out, bytes = {}, 0
  for o = 0, #ARGV - stride, stride do
    local ok, reply = pcall(fn, o)
    if not ok then
      if type(reply) == 'table' then reply = reply.err or 'script error' end
      reply = {'error', tostring(reply)}
    end
    out[#out + 1] = reply
    if type(reply[2]) == 'string' then bytes = bytes + #reply[2] end
    if bytes >= BATCH_REPLY_BYTES then break end
  end
  return out
end
)lua";

// ARGV: one create, as kCreateFn. Returns create_task's reply.
constexpr std::string_view kCreate = R"lua(
return create_task(0)
)lua";

// ARGV: creates of 10 ARGV each (kCreateFn), run in ARGV order: a later create sees the earlier
// ones (an idempotency key set by one is replayed by the next). Returns one reply per create
// made, in order: all of them, or fewer when the replies reached run_batch's byte bound.
constexpr std::string_view kCreateBatch = R"lua(
return run_batch(create_task, CREATE_ARGS)
)lua";

// ARGV: 1 worker, 2 tenant, 3 lease seconds, 4 now (epoch s), 5 now text, 6 leaseUntil text,
//       7 promotion limit per command, 8 claims wanted (>= 1), 9 retention deadline (epoch s:
//       now + 24 h), 10.. commands in preference order.
// Up to ARGV[8] claims, each exactly as a claim of its own would make it, promotion included (the
// script is atomic, so they see no other change in between).
// Returns {'claimed', task JSON, ...} (1 to ARGV[8] tasks in claim order) | {'empty'}.
constexpr std::string_view kClaim = R"lua(
local worker, tenant = ARGV[1], ARGV[2]
local lease, now, now_text, lease_until = ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6]
local limit, wanted, retention_at = tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9]
local commands, prefixes = {}, {}
for i = 10, #ARGV do
  commands[#commands + 1] = ARGV[i]
  prefixes[#prefixes + 1] = qprefix(ARGV[i], tenant)
end

-- One claim: promotes due delayed tasks of the commands, then D4: priority beats command order.
-- A popped id whose task is missing, not PENDING (a duplicate entry of a task that was already
-- claimed or finished) or of another tenant is discarded and the search goes on in the same
-- tier. Tiers above `top` are known to be empty unless this promotion moved something.
-- When tiers `top`..1 of every command are all empty (the common case: priority 0 is the
-- default), one EXISTS over them (an empty list is no key) replaces their RPOPs: one call
-- instead of up to 9 per command. Keys go 200 to a call (unpack's stack is bounded; a claim may
-- name thousands of commands), stopping at the first call that finds one.
local function upper_tiers_empty(top)
  local keys = {}
  for p = top, 1, -1 do
    for _, q in ipairs(prefixes) do
      keys[#keys + 1] = tier_key(q, p)
      if #keys == 200 then
        if redis.call('EXISTS', unpack(keys)) > 0 then return false end
        keys = {}
      end
    end
  end
  return #keys == 0 or redis.call('EXISTS', unpack(keys)) == 0
end

-- drained[i]: command i has no due delayed id left. `now` is fixed for the script and a claim
-- adds nothing to a delayed set, so its later claims would find none: they skip the promotion.
local drained = {}
local function claim_one(top)
  local moved = 0
  for i, cmd in ipairs(commands) do
    if not drained[i] then
      local m, found = promote_due(cmd, tenant, now, ARGV[4], now_text, ARGV[7])
      moved = moved + m
      drained[i] = found < limit
    end
  end
  if moved > 0 then top = 9 end
  if top > 0 and upper_tiers_empty(top) then top = 0 end
  for p = top, 0, -1 do
    for _, q in ipairs(prefixes) do
      local pkey = tier_key(q, p)
      while true do
        local id = redis.call('RPOP', pkey)
        if not id then break end
        local t = load_task(id)
        if t and t.status == 'PENDING' and str(t.tenantId) == tenant then
          redis.call('SADD', inprog_key(t.command, tenant), id)
          redis.call('SET', lease_key(id), worker, 'EX', lease)
          t.status = 'IN_PROGRESS'
          t.workerId = worker
          t.leaseUntil = lease_until
          t.attempts = num(t.attempts) + 1
          t.updatedAt = now_text
          return save_task(id, t, retention_at), p
        end
      end
    end
  end
  return nil, 0
end

local out, top = {'claimed'}, 9
while #out <= wanted do
  local text
  text, top = claim_one(top)
  if not text then break end
  out[#out + 1] = text
end
if #out == 1 then return {'empty'} end
return out
)lua";

// ARGV: 1 id, 2 tenant, 3 worker, 4 extend seconds, 5 now (epoch s), 6 now text, 7 leaseUntil text.
// Returns {'ok', task JSON} | {error word}.
constexpr std::string_view kHeartbeat = R"lua(
local id, tenant, worker, extend = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, now_text, lease_until = tonumber(ARGV[5]), ARGV[6], ARGV[7]
local t = load_task(id)
local err = check_owned(t, tenant, worker)
if err then return {err} end
local lkey = lease_key(id)
if redis.call('EXPIRE', lkey, extend) == 0 then
  -- D10: the lease vanished while the task is still IN_PROGRESS and owned by the caller:
  -- re-create it, and make sure the id is tracked so a later expiry is still repaired.
  redis.call('SADD', inprog_key(t.command, tenant), id)
  redis.call('SET', lkey, worker, 'EX', extend)
end
t.leaseUntil = lease_until
t.updatedAt = now_text
return {'ok', save_task(id, t, now + RETENTION)}
)lua";

// ARGV: 1 id, 2 tenant, 3 worker, 4 now (epoch s), 5 now text.
// Returns {'ok', task JSON} | {error word}.
constexpr std::string_view kAbandon = R"lua(
local id, tenant, worker = ARGV[1], ARGV[2], ARGV[3]
local now, now_text = tonumber(ARGV[4]), ARGV[5]
local t = load_task(id)
local err = check_owned(t, tenant, worker)
if err then return {err} end
redis.call('SREM', inprog_key(t.command, tenant), id)
redis.call('DEL', lease_key(id))
redis.call('LPUSH', pending_key(t.command, tenant, t.priority), id)
t.status = 'PENDING'
t.workerId = nil
t.leaseUntil = nil
t.updatedAt = now_text
return {'ok', save_task(id, t, now + RETENTION)}
)lua";

// ARGV: 1 id, 2 tenant, 3 worker, 4 attempts the caller computed the delay from, 5 delay (s),
//       6 now (epoch s), 7 now text, 8 reason (non-empty), 9 maxAttempts default,
//       10 FAILED result record JSON (stored on dead-lettering), 11 now (epoch ms, outbox due).
// Returns {'requeued'|'dlq', task JSON} | {'changed'} (attempts moved: recompute) | {error word}.
constexpr std::string_view kNack = R"lua(
local id, tenant, worker = ARGV[1], ARGV[2], ARGV[3]
local t = load_task(id)
local err = check_owned(t, tenant, worker)
if err then return {err} end
if num(t.attempts) ~= tonumber(ARGV[4]) then return {'changed'} end
return nack_apply(id, t, tonumber(ARGV[5]), ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[6]), ARGV[7], ARGV[10],
                  tonumber(ARGV[11]))
)lua";

// ARGV: 1 id, 2 the in-progress set it was sampled from, 3 attempts the caller saw, 4 delay (s),
//       5 now (epoch s), 6 now text, 7 reason, 8 maxAttempts default, 9 FAILED result record JSON,
//       10 now (epoch ms, outbox due).
// Returns {'requeued'|'dlq', task JSON} | {'alive'} (lease present again) | {'stale'} (entry
// removed) | {'changed'}.
constexpr std::string_view kRepairOne = R"lua(
local id, sampled = ARGV[1], ARGV[2]
if redis.call('PTTL', lease_key(id)) > 0 then return {'alive'} end
local t = load_task(id)
if not t or t.status ~= 'IN_PROGRESS' then
  -- D3: the task is gone, finished or already requeued: drop the stale entry, never requeue.
  redis.call('SREM', sampled, id)
  return {'stale'}
end
if num(t.attempts) ~= tonumber(ARGV[3]) then return {'changed'} end
redis.call('SREM', sampled, id)
return nack_apply(id, t, tonumber(ARGV[4]), ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[5]), ARGV[6], ARGV[9],
                  tonumber(ARGV[10]))
)lua";

// One result (SPEC §2.8 step 7, D3, D11), prepended to kSubmitResult and kSubmitResultBatch. Its
// ARGV are ARGV[o + 1] .. ARGV[o + 10]: 1 id, 2 tenant, 3 worker, 4 status (COMPLETED|FAILED),
// 5 result record JSON, 6 result error text, 7 now (epoch s), 8 now text, 9 now (epoch ms,
// outbox due), 10 retention deadline (epoch s: now + 24 h). Returns {'ok', task JSON} | {error word}.
constexpr std::string_view kSubmitResultFn = R"lua(
local RESULT_ARGS = 10
local function submit_result(o)
  local id, tenant, worker, status = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
  local now_text = ARGV[o + 8]
  local t = load_task(id)
  if not t or str(t.tenantId) ~= tenant then return {'not_found'} end
  local owner = str(t.workerId)
  if owner ~= '' and worker ~= '' and owner ~= worker then return {'not_owner'} end
  if t.status ~= 'IN_PROGRESS' then return {'not_in_progress'} end
  redis.call('HSET', RESULTS, id, ARGV[o + 5])
  redis.call('SREM', inprog_key(t.command, tenant), id)
  redis.call('DEL', lease_key(id))
  t.status = status
  t.resultKey = RESULTS
  t.workerId = nil
  t.leaseUntil = nil
  t.updatedAt = now_text
  if status == 'FAILED' and ARGV[o + 6] ~= '' then t.error = ARGV[o + 6] end
  outbox_add(id, t, tonumber(ARGV[o + 9]))
  return {'ok', save_task(id, t, ARGV[o + 10])}
end
)lua";

// ARGV: one result, as kSubmitResultFn. Returns submit_result's reply.
constexpr std::string_view kSubmitResult = R"lua(
return submit_result(0)
)lua";

// ARGV: results of 10 ARGV each (kSubmitResultFn), run in ARGV order. Returns one reply per result
// stored, in order: all of them, or fewer when the replies reached run_batch's byte bound.
constexpr std::string_view kSubmitResultBatch = R"lua(
return run_batch(submit_result, RESULT_ARGS)
)lua";

// ARGV: 1 before (epoch s), 2 include active ('1'|'0'), 3 tenant filter ('*' any, '=' only ARGV[4]),
//       4 tenant, 5 max deletions, 6.. candidate ids (from ZRANGEBYSCORE codeq:tasks:ttl).
// Returns {deleted, skipped}: skipped counts ids that stay in the window (kept by the filters).
constexpr std::string_view kCleanup = R"lua(
local before = tonumber(ARGV[1])
local include_active = ARGV[2] == '1'
local any_tenant = ARGV[3] == '*'
local tenant = ARGV[4]
local max_delete = tonumber(ARGV[5])
local deleted, skipped = 0, 0
for i = 6, #ARGV do
  local id = ARGV[i]
  local score = tonumber(redis.call('ZSCORE', TTL, id))
  if score and score <= before then
    local take = false
    local t = nil
    if deleted < max_delete then
      t = load_task(id)
      if t then
        take = (any_tenant or str(t.tenantId) == tenant) and
               (include_active or t.status == 'COMPLETED' or t.status == 'FAILED')
      else
        take = any_tenant  -- index entry of a missing/unreadable task: tenant unknown
      end
    end
    if take then
      redis.call('HDEL', TASKS, id)
      redis.call('ZREM', TTL, id)
      redis.call('HDEL', RESULTS, id)
      redis.call('DEL', lease_key(id))
      if t then
        local cmd, ten = t.command, str(t.tenantId)
        redis.call('LREM', pending_key(cmd, ten, t.priority), 0, id)
        redis.call('SREM', inprog_key(cmd, ten), id)
        redis.call('ZREM', delayed_key(cmd, ten), id)
        redis.call('LREM', dlq_key(cmd, ten), 0, id)
      end
      deleted = deleted + 1
    else
      skipped = skipped + 1
    end
  end
end
return {deleted, skipped}
)lua";

// ARGV: 1 tenant, 2 command, 3 now (epoch s), 4 now text, 5 limit.
// Returns {moved, ready depth after}. Wakes nothing: the caller decides whom to notify.
constexpr std::string_view kPromote = R"lua(
local tenant, cmd = ARGV[1], ARGV[2]
local moved = promote_due(cmd, tenant, tonumber(ARGV[3]), ARGV[3], ARGV[4], ARGV[5])
return {moved, ready_depth(cmd, tenant)}
)lua";

// ARGV: 1 now (epoch ms), 2 lease end (epoch ms), 3 limit.
// Returns {id1, data1, id2, data2, ...}: the due entries, oldest first, each re-scored to the lease
// end. An index entry without data is dropped.
constexpr std::string_view kOutboxClaim = R"lua(
local due = redis.call('ZRANGEBYSCORE', OUTBOX, '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(due) do
  local data = redis.call('HGET', OUTBOX_DATA, id)
  if data then
    redis.call('ZADD', OUTBOX, ARGV[2], id)
    out[#out + 1] = id
    out[#out + 1] = data
  else
    redis.call('ZREM', OUTBOX, id)
  end
end
return out
)lua";

// ARGV: 1 task id. Removes the outbox entry. Returns 1.
constexpr std::string_view kOutboxFinish = R"lua(
redis.call('ZREM', OUTBOX, ARGV[1])
redis.call('HDEL', OUTBOX_DATA, ARGV[1])
return 1
)lua";

// ARGV: 1 task id, 2 attempts made, 3 next due (epoch ms). Returns 1, or 0 when the entry is gone.
constexpr std::string_view kOutboxRetry = R"lua(
local raw = redis.call('HGET', OUTBOX_DATA, ARGV[1])
if not raw then return 0 end
local ok, e = pcall(cjson.decode, raw)
if not ok or type(e) ~= 'table' then e = {} end
e.attempts = tonumber(ARGV[2])
redis.call('HSET', OUTBOX_DATA, ARGV[1], cjson.encode(e))
redis.call('ZADD', OUTBOX, ARGV[3], ARGV[1])
return 1
)lua";

// ARGV: 1 id, 2 subscription JSON, 3 expiry (epoch s), 4.. event types (any case).
// Returns {'ok'}.
constexpr std::string_view kSubCreate = R"lua(
redis.call('HSET', SUBS, ARGV[1], ARGV[2])
for i = 4, #ARGV do redis.call('ZADD', subs_key(ARGV[i]), ARGV[3], ARGV[1]) end
return {'ok'}
)lua";

// ARGV: 1 id, 2 tenant, 3 new expiry (epoch s), 4 new expiresAt text.
// Returns {'ok', subscription JSON} | {'not_found'} (unknown, unreadable or another tenant's, D6).
constexpr std::string_view kSubRenew = R"lua(
local raw = redis.call('HGET', SUBS, ARGV[1])
if not raw then return {'not_found'} end
local ok, s = pcall(cjson.decode, raw)
if not ok or type(s) ~= 'table' or str(s.tenantId) ~= ARGV[2] then return {'not_found'} end
s.expiresAt = ARGV[4]
local text = cjson.encode(s)
redis.call('HSET', SUBS, ARGV[1], text)
if type(s.eventTypes) == 'table' then
  for _, cmd in ipairs(s.eventTypes) do redis.call('ZADD', subs_key(cmd), ARGV[3], ARGV[1]) end
end
return {'ok', text}
)lua";

// Compare-and-delete for the cleanup loop (SPEC §6.2): ARGV 1 id, 2 the record JSON the caller saw
// ('' = it saw none), 3.. index zsets to remove the id from. A record changed since (renewed) is
// left alone. Returns 1 when removed, else 0.
constexpr std::string_view kSubRemove = R"lua(
local raw = redis.call('HGET', SUBS, ARGV[1]) or ''
if raw ~= ARGV[2] then return 0 end
for i = 3, #ARGV do redis.call('ZREM', ARGV[i], ARGV[1]) end
redis.call('HDEL', SUBS, ARGV[1])
redis.call('DEL', subs_last_key(ARGV[1]))
return 1
)lua";

// Compare-and-rescore for a stale index score: ARGV 1 id, 2 the record JSON the caller saw,
// 3 zset, 4 true expiry (epoch s). Returns 1 when re-scored, else 0.
constexpr std::string_view kSubRescore = R"lua(
if redis.call('HGET', SUBS, ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZADD', ARGV[3], ARGV[4], ARGV[1])
return 1
)lua";

/// One script: "-- codeq:<name>", the prelude pieces it uses, the step function it runs
/// (kCreateFn, kSubmitResultFn or ""), the batch loop (kBatchFn or "") and its body.
struct Entry {
  std::string_view name;
  std::string_view step_fn;
  std::string_view batch_fn;
  std::string_view body;
};

constexpr std::array<Entry, static_cast<size_t>(ScriptId::kCount)> kScripts = {{
    {"create", kCreateFn, "", kCreate},
    {"create_batch", kCreateFn, kBatchFn, kCreateBatch},
    {"claim", "", "", kClaim},
    {"heartbeat", "", "", kHeartbeat},
    {"abandon", "", "", kAbandon},
    {"nack", "", "", kNack},
    {"repair_one", "", "", kRepairOne},
    {"submit_result", kSubmitResultFn, "", kSubmitResult},
    {"submit_result_batch", kSubmitResultFn, kBatchFn, kSubmitResultBatch},
    {"cleanup", "", "", kCleanup},
    {"promote", "", "", kPromote},
    {"outbox_claim", "", "", kOutboxClaim},
    {"outbox_finish", "", "", kOutboxFinish},
    {"outbox_retry", "", "", kOutboxRetry},
    {"sub_create", "", "", kSubCreate},
    {"sub_renew", "", "", kSubRenew},
    {"sub_remove", "", "", kSubRemove},
    {"sub_rescore", "", "", kSubRescore},
}};

// Whether `name` occurs in `code` as a whole Lua name (not inside a longer one), outside `--`
// comments. O(size of code).
bool UsesName(std::string_view code, std::string_view name) {
  auto is_name_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  for (size_t line_start = 0; line_start < code.size();) {
    size_t line_end = code.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = code.size();
    std::string_view line = code.substr(line_start, line_end - line_start);
    line = line.substr(0, line.find("--"));
    for (size_t at = line.find(name); at != std::string_view::npos; at = line.find(name, at + 1)) {
      const size_t end = at + name.size();
      if ((at == 0 || !is_name_char(line[at - 1])) && (end == line.size() || !is_name_char(line[end]))) return true;
    }
    line_start = line_end + 1;
  }
  return false;
}

// The prelude pieces that `code` uses, directly or through other pieces, in prelude order.
std::string PreludeFor(std::string_view code) {
  constexpr size_t kPieces = std::size(kPrelude);
  std::array<bool, kPieces> used{};
  // A piece uses only pieces above it, so one pass from the bottom up finds them all.
  for (size_t i = kPieces; i-- > 0;) {
    bool needed = UsesName(code, kPrelude[i].name);
    for (size_t j = i + 1; j < kPieces && !needed; ++j) needed = used[j] && UsesName(kPrelude[j].text, kPrelude[i].name);
    used[i] = needed;
  }
  std::string out;
  for (size_t i = 0; i < kPieces; ++i) {
    if (used[i]) out += kPrelude[i].text;
  }
  return out;
}

}  // namespace

std::string_view ScriptSource(ScriptId id) {
  static const std::array<std::string, static_cast<size_t>(ScriptId::kCount)> sources = [] {
    std::array<std::string, static_cast<size_t>(ScriptId::kCount)> out;
    for (size_t i = 0; i < out.size(); ++i) {
      const Entry& e = kScripts[i];
      const std::string own = std::string(e.step_fn) + std::string(e.batch_fn) + std::string(e.body);
      out[i] = "-- codeq:" + std::string(e.name) + "\n" + PreludeFor(own) + own;
    }
    return out;
  }();
  return sources[static_cast<size_t>(id)];
}

std::string_view ScriptName(ScriptId id) { return kScripts[static_cast<size_t>(id)].name; }

}  // namespace codeq::redis
