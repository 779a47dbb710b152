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

Result<Reply> ScriptRunner::Run(Connection& conn, ScriptId id, const std::vector<std::string>& args) {
  std::string sha = CachedSha(id);
  for (int round = 0; round < 2; ++round) {
    if (sha.empty()) {
      auto loaded = Load(conn, id);
      if (!loaded.ok()) return loaded.status();
      sha = *loaded;
    }
    Argv argv;
    argv.reserve(args.size() + 3);
    argv.push_back("EVALSHA");
    argv.push_back(sha);
    argv.push_back("0");
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = conn.Command(argv);
    if (!r.ok()) return r.status();
    if (r->error_starts_with("NOSCRIPT")) {
      sha.clear();  // flushed or restarted backend: load again and retry once
      continue;
    }
    if (r->is_error()) return ErrorReplyStatus(*r);
    return r;
  }
  return Unavailable(kUnavailableText);
}

}  // namespace codeq::redis
