// Private helpers shared by the redis_store*.cpp files (not part of the public API).
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include "domain/task.h"
#include "store/redis/redis_reply.h"
#include "store/redis/redis_store.h"
#include "domain/run_on_pool.h"

namespace codeq {

template <typename R, typename F>
Async<R> RedisStore::Run(F fn) {
  return RunOnPool<R>(pool_, [this, fn = std::move(fn)]() mutable -> R {
    auto conn = connections_.Acquire();
    try {
      return fn(*conn);
    } catch (const std::exception& e) {
      conn->Disconnect();  // its protocol state is unknown after an exception
      return Internal(std::string("store error: ") + e.what());
    }
  });
}

namespace redis {

/// A script's answer: its status word and the optional task (or other) JSON text that follows.
struct ScriptOutcome {
  std::string word;
  std::string text;
};

/// Splits a script reply {word[, text]}. Internal when the shape is unexpected. O(size).
Result<ScriptOutcome> ParseScriptReply(const Reply& reply);

/// Decodes task JSON written by a script; Internal when unreadable. O(size).
Result<Task> ParseStoredTask(std::string_view text);

/// The Status of an error word of the scripts: not_found → NotFound(not_found_text),
/// not_owner → Forbidden("not-owner"), not_in_progress → Conflict("not-in-progress"),
/// anything else → Internal. O(1).
Status StatusForWord(std::string_view word, std::string_view not_found_text);

/// `FormatUtcSeconds(now_sec + seconds)`: the advisory leaseUntil text (SPEC §1.3).
std::string LeaseUntilText(int64_t now_sec, int64_t seconds);

}  // namespace redis
}  // namespace codeq
