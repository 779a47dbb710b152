// Runs the Lua scripts by EVALSHA, loading them on first use, and by EVAL after NOSCRIPT (SPEC D3).
#pragma once

#include <array>
#include <mutex>
#include <string>
#include <vector>

#include "domain/status.h"
#include "store/redis/lua_scripts.h"
#include "store/redis/redis_connection.h"

namespace codeq::redis {

/// Caches the SHA1 of every script (as returned by SCRIPT LOAD) and runs scripts with EVALSHA.
/// A NOSCRIPT reply (after SCRIPT FLUSH, a backend restart or a fail-over) is answered by running
/// the same call once more with EVAL and the script's source, which also puts the script back in
/// the server's cache: transparent to the caller, even when flushes keep coming. Thread-safe;
/// connections are supplied by the caller.
class ScriptRunner {
 public:
  /// Runs a script with no KEYS and the given ARGV. One round trip normally (two on the first use
  /// of a script: SCRIPT LOAD), two after a NOSCRIPT. Errors: Unavailable for I/O failures and
  /// "server busy" replies (LOADING, BUSY, MASTERDOWN, READONLY, NOAUTH, OOM ...); Internal for
  /// script runtime errors (a bug).
  Result<Reply> Run(Connection& conn, ScriptId id, const std::vector<std::string>& args);

  /// Runs a script by EVAL with its source: for a call whose EVALSHA has just answered NOSCRIPT
  /// (EVAL cannot answer it, and it caches the script again under the same SHA1). One round trip.
  /// Errors as Run.
  Result<Reply> RunBySource(Connection& conn, ScriptId id, const std::vector<std::string>& args);

  /// SCRIPT LOAD of script `id` over `conn`; caches and returns its SHA1. Errors as Run. One
  /// round trip.
  Result<std::string> Load(Connection& conn, ScriptId id);
  /// The cached SHA1 of script `id`, "" until loaded. O(1).
  std::string CachedSha(ScriptId id);

 private:
  std::mutex mu_;
  std::array<std::string, static_cast<size_t>(ScriptId::kCount)> sha_;
};

/// The command that runs a script with no KEYS: {verb, sha1 or source, "0", args...}, where verb
/// is "EVALSHA" (with the SHA1) or "EVAL" (with the source). O(size of args).
Argv ScriptCommand(std::string_view verb, std::string sha_or_source, const std::vector<std::string>& args);

/// Maps an error reply of the server to a Status: Unavailable for transient conditions of the
/// backend (SPEC D8), Internal otherwise. O(length of the message).
Status ErrorReplyStatus(const Reply& reply);

}  // namespace codeq::redis
