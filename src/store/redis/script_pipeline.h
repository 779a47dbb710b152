// Pipelined script calls: the hot Redis operations (create, claim, result) of every request share
// round trips (issue 7; docs/performance.md).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>
#include <vector>

#include "domain/status.h"
#include "domain/drain_queue.h"
#include "store/redis/connection_pool.h"
#include "store/redis/redis_reply.h"
#include "store/redis/script_runner.h"

namespace codeq::redis {

/// Runs script calls of many concurrent callers on one thread and one connection: the calls that
/// queued up while the previous round trip was in flight are sent together as one pipeline
/// (EVALSHA each, at most kMaxPipeline), then their replies are read in order. Every call is still
/// one atomic script (SPEC D3); only the network round trip and the thread hand-offs are shared.
/// A NOSCRIPT reply (flushed or restarted backend) is retried alone through ScriptRunner::Run,
/// which loads the script. An I/O failure answers Unavailable only to the calls whose reply had
/// not arrived (as a failed single call would); replies already read are delivered, and the calls
/// that queued up meanwhile get Unavailable at once, unsent, so no answer waits out two timeouts.
/// Calls queued behind a slow but successful round trip wait for it. Thread-safe.
class ScriptPipeline {
 public:
  static constexpr size_t kMaxPipeline = 128;

  /// Starts the pipeline thread. `connections` and `scripts` must outlive this object.
  ScriptPipeline(ConnectionPool& connections, ScriptRunner& scripts);
  /// Finishes what was queued, then joins the thread.
  ~ScriptPipeline();
  ScriptPipeline(const ScriptPipeline&) = delete;
  ScriptPipeline& operator=(const ScriptPipeline&) = delete;

  /// Runs script `id` with ARGV `args`; resumes on the awaiting coroutine's executor with the
  /// reply (never an error reply: those become Status as in ScriptRunner::Run). O(size of args)
  /// plus a share of one round trip.
  boost::asio::awaitable<Result<Reply>> Run(ScriptId id, std::vector<std::string> args);

 private:
  struct Call {
    ScriptId id;
    std::vector<std::string> args;
    std::function<void(Result<Reply>)> done;  // resumes the caller on its executor
  };
  void Submit(Call call);
  void Drain();
  /// One pipeline for `calls` over `conn`: one result per call, in order. Sets *io_failed when
  /// the backend did not answer (I/O failure, not an error reply).
  std::vector<Result<Reply>> Execute(Connection& conn, std::vector<Call>& calls, bool* io_failed);

  ConnectionPool& connections_;
  ScriptRunner& scripts_;
  DrainQueue<Call> queue_;
  boost::asio::thread_pool thread_{1};
};

}  // namespace codeq::redis
