#include "migrate/client.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace codeq::migrate {
namespace {

RedisOptions ToOptions(const RedisUrl& url, int timeout_ms) {
  RedisOptions o;
  o.host = url.host;
  o.port = url.port;
  o.db = url.db;
  o.password = url.password;
  o.username = url.username;
  o.pool_size = 1;
  o.connect_timeout_ms = std::min(timeout_ms, 5000);
  o.command_timeout_ms = timeout_ms;
  return o;
}

std::string Where(const RedisUrl& url) {
  std::string h = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  return h + ":" + std::to_string(url.port) + "/" + std::to_string(url.db);
}

std::string CommandName(const Argv& argv) { return argv.empty() ? std::string("?") : argv[0]; }

}  // namespace

RedisClient::RedisClient(const RedisUrl& url, int timeout_ms)
    : where_(Where(url)), conn_(ToOptions(url, timeout_ms)) {}

Status RedisClient::Explain(const Status& s) const {
  if (s.code() != StatusCode::kUnavailable) return s;
  std::string detail = conn_.last_error();
  // The connection names its handshake steps "auth: <reply>" / "select: <reply>".
  for (const char* step : {"auth", "select"}) {
    const std::string prefix = std::string(step) + ": ";
    if (detail.rfind(prefix, 0) == 0) {
      std::string upper = step;
      for (char& ch : upper) ch = static_cast<char>(ch - 'a' + 'A');
      detail = upper + " failed: " + detail.substr(prefix.size());
      break;
    }
  }
  return Unavailable("redis " + where_ + ": " + detail);
}

Status RedisClient::Connect() {
  auto r = Call({"PING"});
  if (!r.ok()) return r.status();
  if (r->is_error()) return Unavailable("redis " + where_ + ": PING: " + r->str);
  return Status::Ok();
}

Result<Reply> RedisClient::Call(const Argv& argv) {
  auto r = conn_.Command(argv);
  if (!r.ok()) return Explain(r.status());
  return r;
}

Result<std::vector<Reply>> RedisClient::Pipeline(const std::vector<Argv>& commands) {
  auto r = conn_.Pipeline(commands);
  if (!r.ok()) return Explain(r.status());
  return r;
}

Result<Reply> RedisClient::Checked(const Argv& argv) {
  auto r = Call(argv);
  if (!r.ok()) return r.status();
  if (r->is_error()) return Internal("redis " + CommandName(argv) + ": " + r->str);
  return r;
}

Result<std::vector<Reply>> RedisClient::PipelineChecked(const std::vector<Argv>& commands) {
  auto r = Pipeline(commands);
  if (!r.ok()) return r.status();
  for (size_t i = 0; i < r->size(); ++i) {
    if ((*r)[i].is_error()) return Internal("redis " + CommandName(commands[i]) + ": " + (*r)[i].str);
  }
  return r;
}

Result<RedisUrl> ResolveRedisEndpoint(const std::string& flag_value, const std::string& password_flag) {
  std::string value = flag_value;
  std::string env_password;
  if (value.empty()) {
    if (const char* a = std::getenv("REDIS_ADDR"); a != nullptr && *a != '\0') value = a;
    if (const char* p = std::getenv("REDIS_PASSWORD"); p != nullptr && *p != '\0') {
      env_password = p;
    } else if (const char* k = std::getenv("KVROCKS_PASSWORD"); k != nullptr && *k != '\0') {
      env_password = k;
    }
  }
  if (value.empty()) value = "127.0.0.1:6379";
  RedisUrl url;
  if (value.find("://") != std::string::npos) {
    auto parsed = ParseRedisUrl(value);
    if (!parsed.ok()) return parsed.status();
    url = *parsed;
  } else {
    auto parsed = ParseRedisUrl("redis://" + value);
    if (!parsed.ok()) return InvalidArgument("invalid Redis address (expected host:port or redis://...)");
    url = *parsed;
  }
  if (!password_flag.empty()) {
    url.password = password_flag;
  } else if (url.password.empty()) {
    url.password = env_password;
  }
  return url;
}

}  // namespace codeq::migrate
