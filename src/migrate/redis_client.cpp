#include "migrate/redis_client.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <utility>

namespace codeq::migrate {
namespace {

Reply Convert(const redisReply* r) {
  Reply out;
  if (r == nullptr) return out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
      break;
    default:
      break;
  }
  return out;
}

struct ReplyFree {
  void* r = nullptr;
  ~ReplyFree() {
    if (r != nullptr) freeReplyObject(r);
  }
};

timeval Tv(int ms) {
  if (ms <= 0) ms = 1;
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

// A write to a socket whose peer is gone must fail with EPIPE instead of killing the process:
// SIGPIPE is blocked in this thread for the duration of one call, and one raised meanwhile is
// consumed before unblocking.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SigpipeGuard() {
    sigset_t pending;
    sigemptyset(&pending);
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1 && !sigismember(&old_, SIGPIPE)) {
      timespec zero{};
      while (sigtimedwait(&set_, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t set_;
  sigset_t old_;
};

void AppendArgv(redisContext* c, const Argv& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAppendCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data());
}

std::string CommandName(const Argv& argv) { return argv.empty() ? std::string("?") : argv[0]; }

}  // namespace

long long Reply::as_int(long long fallback) const {
  if (type == Type::kInteger) return integer;
  if (is_string()) {
    long long v = 0;
    auto [p, ec] = std::from_chars(str.data(), str.data() + str.size(), v);
    if (ec == std::errc() && p == str.data() + str.size() && !str.empty()) return v;
  }
  return fallback;
}

RedisClient::RedisClient(RedisUrl url, int timeout_ms) : url_(std::move(url)), timeout_ms_(timeout_ms) {}

RedisClient::~RedisClient() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

std::string RedisClient::Describe() const {
  std::string h = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
  return h + ":" + std::to_string(url_.port) + "/" + std::to_string(url_.db);
}

Status RedisClient::Fail(const std::string& what) {
  std::string msg = "redis " + Describe() + ": " + what;
  if (ctx_ != nullptr && ctx_->err != 0) msg += ": " + std::string(ctx_->errstr);
  if (ctx_ != nullptr) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
  return Unavailable(msg);
}

Status RedisClient::EnsureConnected() {
  if (ctx_ != nullptr) return Status::Ok();
  ctx_ = redisConnectWithTimeout(url_.host.c_str(), url_.port, Tv(std::min(timeout_ms_, 5000)));
  if (ctx_ == nullptr) return Unavailable("redis: out of memory");
  if (ctx_->err != 0) return Fail("connect");
  if (redisSetTimeout(ctx_, Tv(timeout_ms_)) != REDIS_OK) return Fail("set timeout");
  redisEnableKeepAlive(ctx_);
  auto handshake = [&](const Argv& argv, const char* what) -> Status {
    AppendArgv(ctx_, argv);
    ReplyFree g;
    if (redisGetReply(ctx_, &g.r) != REDIS_OK || g.r == nullptr) return Fail(what);
    auto* r = static_cast<redisReply*>(g.r);
    if (r->type == REDIS_REPLY_ERROR) {
      std::string err(r->str, r->len);
      redisFree(ctx_);
      ctx_ = nullptr;
      return Unavailable("redis " + Describe() + ": " + what + " failed: " + err);
    }
    return Status::Ok();
  };
  if (!url_.password.empty()) {
    Argv auth = {"AUTH"};
    if (!url_.username.empty()) auth.push_back(url_.username);
    auth.push_back(url_.password);
    if (auto s = handshake(auth, "AUTH"); !s.ok()) return s;
  }
  if (url_.db != 0) {
    if (auto s = handshake({"SELECT", std::to_string(url_.db)}, "SELECT"); !s.ok()) return s;
  }
  return Status::Ok();
}

Status RedisClient::Connect() {
  SigpipeGuard guard;
  if (auto s = EnsureConnected(); !s.ok()) return s;
  AppendArgv(ctx_, {"PING"});
  ReplyFree g;
  if (redisGetReply(ctx_, &g.r) != REDIS_OK || g.r == nullptr) return Fail("PING");
  auto* r = static_cast<redisReply*>(g.r);
  if (r->type == REDIS_REPLY_ERROR) return Unavailable("redis " + Describe() + ": PING: " + std::string(r->str, r->len));
  return Status::Ok();
}

Result<Reply> RedisClient::Call(const Argv& argv) {
  auto r = Pipeline({argv});
  if (!r.ok()) return r.status();
  return std::move(r->front());
}

Result<std::vector<Reply>> RedisClient::Pipeline(const std::vector<Argv>& commands) {
  std::vector<Reply> out;
  if (commands.empty()) return out;
  SigpipeGuard guard;
  if (auto s = EnsureConnected(); !s.ok()) return s;
  for (const auto& argv : commands) AppendArgv(ctx_, argv);
  out.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    ReplyFree g;
    if (redisGetReply(ctx_, &g.r) != REDIS_OK || g.r == nullptr) return Fail(CommandName(commands[i]));
    out.push_back(Convert(static_cast<redisReply*>(g.r)));
  }
  return out;
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
  if (value.rfind("redis://", 0) == 0 || value.find("://") != std::string::npos) {
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
