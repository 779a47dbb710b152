// The server-side Lua scripts of the Redis backend: one script per atomic state change (SPEC D3),
// and batch scripts that make many creates or results, each its own change, in one call.
//
// Every script is the part of the shared prelude it uses (key-name helpers mirroring
// domain/keys.h, task load/save with cjson, the nack transition; each helper is a new closure per
// call, so a script carries only its own), the step function it shares with its batch form
// (create, result) and its body. Numbers that go into Redis commands (scores, limits) come from
// C++ as text where the script does not compute them: Redis formats a Lua number with printf.
// Scripts compute queue key names from the stored task's command and tenant inside the script, so
// they touch keys that are not declared in KEYS: this is fine for standalone Redis and KVRocks
// but NOT Redis-Cluster-safe (a cluster deployment would need hash-tagged keys, i.e. a keyspace
// change).
//
// Conventions: times come from C++ as ARGV (never Redis TIME), every script returns an array whose
// first element is a status word ("ok", "replay", "claimed", "empty", "requeued", "dlq",
// "not_found", "not_owner", "not_in_progress", "changed", "conflict", "alive", "stale") followed by
// the task JSON where relevant. All checks run before the first write, so a script never leaves a
// half-applied change behind.
#pragma once

#include <cstddef>
#include <string_view>

namespace codeq::redis {

/// The scripts, by purpose. The ARGV layout of each is documented at its source in lua_scripts.cpp.
enum class ScriptId : size_t {
  kCreate,        // SPEC §2.3 + §2.3.2, D5, D6, D12
  kCreateBatch,   // kCreate for many tasks, in order, in one call (issue 7)
  kClaim,         // SPEC §4.8 with D3, D4 (promotion + pop + lease + task update)
  kHeartbeat,     // SPEC §2.5, D10
  kAbandon,       // SPEC §2.6, D10
  kNack,          // SPEC §2.7, §4.9 with D2, D11
  kRepairOne,     // SPEC §4.8 requeue_expired for one id, with D2, D3, D11
  kSubmitResult,  // SPEC §2.8 step 7, D3, D11
  kSubmitResultBatch,  // kSubmitResult for many tasks, in order, in one call (issue 7)
  kCleanup,       // SPEC §4.10 with D12, for a batch of ids
  kPromote,       // SPEC §4.8 promotion of one queue (PromoteDue), D16
  kOutboxClaim,   // SPEC §6.1, D16: lease the due result callbacks
  kOutboxFinish,  // remove an outbox entry
  kOutboxRetry,   // record a failed delivery attempt
  kSubCreate,     // SPEC §2.11 (record + per-command expiry index)
  kSubRenew,      // SPEC §2.12 with D6
  kSubRemove,     // SPEC §6.2 cleanup: compare-and-delete one subscription
  kSubRescore,    // SPEC §6.2 cleanup: compare-and-fix a stale index score
  kCount,
};

/// The full source (the prelude helpers it uses, its step function, its body) of a script. O(1);
/// the texts are built once.
std::string_view ScriptSource(ScriptId id);

/// A short name for diagnostics ("create", "claim", ...). O(1).
std::string_view ScriptName(ScriptId id);

}  // namespace codeq::redis
