// The Redis/KVRocks backend of the Store interface (SPEC §4 with decisions D2–D6, D10–D12).
//
// Design: a pool of synchronous hiredis connections used from a private thread pool of
// `pool_size` threads. Every Store method hops to that pool, runs its (blocking) round trips
// there and resumes on the awaiting coroutine's executor; the hot calls (create, claim, result)
// instead go to one pipeline thread that sends the calls queued meanwhile together
// (script_pipeline.h). Every state change is ONE Lua script
// (lua_scripts.h) run by EVALSHA, so it is atomic on the server (D3); a batch of creates or
// results is one call of a batch script that makes each change in turn; reads are plain commands,
// pipelined where there are several. Scripts compute key names from task data on the server,
// which is not Redis-Cluster-safe (standalone Redis and KVRocks only).
//
// Failure model: a connection that is refused, closed or times out is dropped and re-opened by the
// next call, so the store survives backend restarts without being re-created; such calls return
// Unavailable("store unavailable") and never block longer than connect + command timeouts.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/redis/connection_pool.h"
#include "store/redis/redis_options.h"
#include "store/redis/script_pipeline.h"
#include "store/redis/script_runner.h"
#include "store/store.h"

namespace codeq {

/// Store over Redis/KVRocks with the exact `codeq:` keyspace of SPEC §4.1 (plus D5's
/// `codeq:commands` and D6's per-tenant idempotency keys). Thread-safe.
class RedisStore final : public Store {
 public:
  /// Creates the store without contacting the backend: never fails, even when Redis is down
  /// (operations then return Unavailable until it answers). O(pool_size) threads started.
  static std::shared_ptr<RedisStore> Create(RedisOptions options);

  /// Waits for in-flight operations, then stops the threads and closes the connections.
  ~RedisStore() override;

  /// SPEC §2.3, §2.3.2, D5, D6, D12, D18. One script: O(1) + O(log N) zset adds.
  Async<Result<CreateOutcome>> CreateTask(CreateTaskInput in) override;
  /// The creates in input order, as consecutive CreateTask calls would make them, in one script
  /// call per 100 inputs (kCreateBatch; fewer for large tasks): a later input replays an earlier
  /// one's idempotency key. One outcome per input: CreateTask's, Internal/Unavailable for an
  /// input whose part of the script raised an error, and the call's error (Unavailable when
  /// the backend is down) for the inputs of a failed call and all after it. O(inputs) script work.
  Async<std::vector<Result<CreateOutcome>>> CreateTasks(std::vector<CreateTaskInput> inputs) override;
  /// SPEC §4.8 with D3, D4. One claim script call that makes up to max_tasks claims (one atomic
  /// unit), each one: promotion O(C × inspect_limit × log N), then the pops O(C × 10 + discarded
  /// duplicates).
  Async<Result<std::vector<Task>>> ClaimTasks(ClaimInput in, int max_tasks) override;
  /// SPEC §4.8 requeue_expired with D2, D3, D11: samples SRANDMEMBER inprog (inspect_limit per
  /// command), pipelines PTTL of the leases, then one script per expired candidate. O(C × L) reads.
  Async<Result<RepairOutcome>> RepairExpired(RepairInput in) override;
  /// SPEC §2.5, D10. One script, O(log N).
  Async<Result<Task>> Heartbeat(HeartbeatInput in) override;
  /// SPEC §2.6, D10. One script, O(log N).
  Async<Result<Task>> Abandon(TaskRef in) override;
  /// SPEC §2.7, §4.9, D2, D11. One read (delay computed in C++) + one checking script, O(log N).
  Async<Result<NackOutcome>> Nack(NackInput in) override;
  /// SPEC §2.8 step 7, D3, D11. One script, O(log N).
  Async<Result<Task>> SubmitResult(SubmitResultInput in) override;
  /// The results in input order, as consecutive SubmitResult calls would store them, in one script
  /// call per 100 inputs (kSubmitResultBatch; fewer for large tasks). One outcome per input:
  /// SubmitResult's (InvalidArgument for a bad status, without a call), Internal/Unavailable for
  /// an input whose part of the script raised an error, and the call's error for the inputs of a
  /// failed call and all after it. O(inputs × log N).
  Async<std::vector<Result<Task>>> SubmitResults(std::vector<SubmitResultInput> inputs) override;
  /// SPEC §2.9, D6. One HGET, O(1).
  Async<Result<Task>> GetTask(std::string tenant, std::string task_id) override;
  /// SPEC §2.10, D6. Two pipelined HGETs, O(1).
  Async<Result<TaskResult>> GetResult(std::string tenant, std::string task_id) override;
  /// D5: SMEMBERS codeq:commands filtered by "<tenant>|", sorted. When the set is missing it is
  /// rebuilt (best effort) by HSCAN of codeq:tasks, which knows each command's exact case.
  /// O(K log K) for K members; O(tasks) for a rebuild.
  Async<Result<std::vector<std::string>>> ListCommands(std::string tenant) override;
  /// SPEC §1.6, D7: 13 pipelined counters (LLEN ×10, ZCARD, SCARD, LLEN), O(1).
  Async<Result<QueueStats>> Stats(std::string tenant, std::string command) override;
  /// SPEC §4.10 with D12: pages through codeq:tasks:ttl up to `before_sec` and deletes matching
  /// tasks by script in batches. O(inspected × (LREM list lengths)).
  Async<Result<int64_t>> Cleanup(CleanupInput in) override;
  /// PING, O(1).
  Async<VoidResult> Ping() override;

  // --- outbox, subscriptions, promotion (redis_store_webhooks.cpp) ---
  /// SPEC §6.1, D16. One script: ZRANGEBYSCORE + ZADD per entry + HMGET, O(limit log N).
  Async<Result<std::vector<OutboxEntry>>> ClaimDueCallbacks(int64_t now_ms, int64_t lease_ms,
                                                            int limit) override;
  /// ZREM + HDEL in one MULTI/EXEC, O(log N).
  Async<VoidResult> FinishCallback(std::string task_id) override;
  /// One script (only when the entry exists), O(log N).
  Async<VoidResult> RetryCallback(std::string task_id, int attempts, int64_t due_ms) override;
  /// SPEC §2.11: HSET codeq:subs + ZADD per event type, one MULTI/EXEC. O(E log N).
  Async<VoidResult> CreateSubscription(Subscription sub) override;
  /// SPEC §2.12, D6: one script (check tenant, rewrite JSON, re-score). O(E log N).
  Async<Result<Subscription>> RenewSubscription(std::string tenant, std::string id,
                                                int64_t expires_at_sec,
                                                std::string expires_at_text) override;
  /// SPEC §6.2 step 1: ZRANGEBYSCORE + HMGET, then ZREM of dead entries. O(log N + limit).
  Async<Result<std::vector<Subscription>>> ActiveSubscriptions(std::string command, int64_t now_sec,
                                                               int limit) override;
  /// HSCAN codeq:subs. O(subscriptions).
  Async<Result<std::vector<Subscription>>> ListSubscriptions(int64_t now_sec, int limit) override;
  /// SET codeq:subs:last:<id> 1 NX EX interval. O(1).
  Async<Result<bool>> TryThrottle(std::string sub_id, int interval_seconds, int64_t now_ms) override;
  /// INCR codeq:subs:rr:<cmd lower>:<groupId>. O(1).
  Async<Result<int64_t>> NextRoundRobin(std::string command, std::string group_id) override;
  /// SPEC §6.2 cleanup loop over every zset codeq:subs:<cmd> (SCAN), one script per batch.
  /// O(zsets + removed × E log N).
  Async<Result<int64_t>> CleanupSubscriptions(int64_t now_sec, int limit) override;
  /// ZCOUNT codeq:subs:<cmd lower> now +inf. O(log N).
  Async<Result<int64_t>> CountActiveSubscriptions(std::string command, int64_t now_sec) override;
  /// SPEC §4.8 promotion for one queue: one script, O(limit log N).
  Async<Result<PromoteOutcome>> PromoteDue(std::string tenant, std::string command, int64_t now_sec,
                                           int limit) override;

 private:
  explicit RedisStore(RedisOptions options);

  /// Runs fn(connection) on the pool; R is a Result<...>. Exceptions become Internal.
  template <typename R, typename F>
  Async<R> Run(F fn);

  // Blocking implementations (run on the pool; one borrowed connection each).
  Result<RepairOutcome> DoRepair(redis::Connection& c, const RepairInput& in);
  Result<Task> DoHeartbeat(redis::Connection& c, const HeartbeatInput& in);
  Result<Task> DoAbandon(redis::Connection& c, const TaskRef& in);
  Result<NackOutcome> DoNack(redis::Connection& c, const NackInput& in);
  Result<Task> DoGetTask(redis::Connection& c, const std::string& tenant, const std::string& id);
  Result<TaskResult> DoGetResult(redis::Connection& c, const std::string& tenant,
                                 const std::string& id);
  Result<std::vector<std::string>> DoListCommands(redis::Connection& c, const std::string& tenant);
  Result<QueueStats> DoStats(redis::Connection& c, const std::string& tenant,
                             const std::string& command);
  Result<int64_t> DoCleanup(redis::Connection& c, const CleanupInput& in);
  Result<bool> RebuildCommands(redis::Connection& c);

  RedisOptions options_;
  redis::ConnectionPool connections_;
  redis::ScriptRunner scripts_;
  boost::asio::thread_pool pool_;
  // Create, claim and result: pipelined with the concurrent calls of other requests. Destroyed
  // first (declared last): it still uses connections_ and scripts_ while it finishes.
  std::unique_ptr<redis::ScriptPipeline> pipeline_;
};

}  // namespace codeq
