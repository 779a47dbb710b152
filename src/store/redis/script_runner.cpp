#include "store/redis/script_runner.h"

#include <string_view>

namespace codeq::redis {

Status ErrorReplyStatus(const Reply& reply) {
  static constexpr std::string_view kTransient[] = {
      "LOADING", "BUSY", "MASTERDOWN", "READONLY", "NOAUTH", "WRONGPASS", "OOM", "TRYAGAIN",
      "CLUSTERDOWN", "NOREPLICAS", "MISCONF", "NOPERM"};
  for (auto prefix : kTransient) {
    if (reply.error_starts_with(prefix)) return Unavailable(kUnavailableText);
  }
  return Internal("store error: " + reply.str);
}

std::string ScriptRunner::CachedSha(ScriptId id) {
  std::lock_guard<std::mutex> lock(mu_);
  return sha_[static_cast<size_t>(id)];
}

Result<std::string> ScriptRunner::Load(Connection& conn, ScriptId id) {
  auto r = conn.Command({"SCRIPT", "LOAD", std::string(ScriptSource(id))});
  if (!r.ok()) return r.status();
  if (r->is_error()) return ErrorReplyStatus(*r);
  if (!r->is_string()) return Internal("store error: unexpected SCRIPT LOAD reply");
  std::lock_guard<std::mutex> lock(mu_);
  sha_[static_cast<size_t>(id)] = r->str;
  return r->str;
}

Argv ScriptCommand(std::string_view verb, std::string sha_or_source, const std::vector<std::string>& args) {
  Argv argv;
  argv.reserve(args.size() + 3);
  argv.emplace_back(verb);
  argv.push_back(std::move(sha_or_source));
  argv.push_back("0");
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Result<Reply> ScriptRunner::RunBySource(Connection& conn, ScriptId id, const std::vector<std::string>& args) {
  auto r = conn.Command(ScriptCommand("EVAL", std::string(ScriptSource(id)), args));
  if (!r.ok()) return r.status();
  if (r->is_error()) return ErrorReplyStatus(*r);
  return r;
}

Result<Reply> ScriptRunner::Run(Connection& conn, ScriptId id, const std::vector<std::string>& args) {
  std::string sha = CachedSha(id);
  if (sha.empty()) {
    auto loaded = Load(conn, id);
    if (!loaded.ok()) return loaded.status();
    sha = *loaded;
  }
  // EVALSHA first (the source is sent only once per script); after NOSCRIPT (SCRIPT FLUSH, a
  // backend restart or a fail-over), EVAL with the source. EVAL cannot answer NOSCRIPT, so a flush
  // that lands between a reload and its EVALSHA cannot fail the call; and the server caches the
  // script again under the same SHA1 (the SHA1 of the source), so the cached one stays right.
  auto r = conn.Command(ScriptCommand("EVALSHA", std::move(sha), args));
  if (!r.ok()) return r.status();
  if (r->error_starts_with("NOSCRIPT")) return RunBySource(conn, id, args);
  if (r->is_error()) return ErrorReplyStatus(*r);
  return r;
}

}  // namespace codeq::redis
