#include "store/redis/redis_connection.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <cerrno>
#include <charconv>
#include <new>
#include <utility>

namespace codeq::redis {
namespace {

timeval ToTimeval(int ms) {
  if (ms <= 0) ms = 1;
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

// Frees a hiredis reply when leaving scope.
struct ReplyGuard {
  void* r = nullptr;
  ~ReplyGuard() {
    if (r != nullptr) freeReplyObject(r);
  }
};

// Queues `argv` in the context's output buffer (sent by the next redisGetReply).
// REDIS_ERR when memory runs out, as hiredis' own formatter answers (the caller reports Unavailable).
int AppendCommand(redisContext* c, const Argv& argv) {
  try {
    const std::string cmd = FormatCommand(argv);
    return redisAppendFormattedCommand(c, cmd.data(), cmd.size());
  } catch (const std::bad_alloc&) {
    return REDIS_ERR;
  }
}

// One blocking round trip; nullptr on an I/O failure (ctx->err is then set).
void* RoundTrip(redisContext* c, const Argv& argv) {
  void* reply = nullptr;
  if (AppendCommand(c, argv) != REDIS_OK || redisGetReply(c, &reply) != REDIS_OK) return nullptr;
  return reply;
}

// hiredis writes with write(2): a peer that closed the socket would raise SIGPIPE and kill the
// process. For the duration of one call SIGPIPE is blocked in this thread (the write then fails
// with EPIPE and the connection is dropped) and a SIGPIPE raised meanwhile is consumed.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    was_pending_ = Pending();
  }
  ~ScopedSigpipeBlock() {
    if (!was_pending_ && Pending()) {
      timespec zero{};
      while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  bool Pending() const {
    sigset_t pending;
    sigemptyset(&pending);
    return sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
  }
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

}  // namespace

std::string FormatCommand(const Argv& argv) {
  size_t size = 16;
  for (const std::string& a : argv) size += a.size() + 24;
  std::string out;
  out.reserve(size);
  char digits[24];
  auto header = [&](char kind, size_t n) {
    out += kind;
    out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
    out += "\r\n";
  };
  header('*', argv.size());
  for (const std::string& a : argv) {
    header('$', a.size());
    out += a;
    out += "\r\n";
  }
  return out;
}

Connection::Connection(RedisOptions opts) : opts_(std::move(opts)) {}

Connection::~Connection() { Disconnect(); }

void Connection::Disconnect() {
  if (ctx_ != nullptr) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
}

Status Connection::Fail(const std::string& what) {
  last_error_ = what;
  if (ctx_ != nullptr && ctx_->err != 0) last_error_ += std::string(": ") + ctx_->errstr;
  ++failures_;
  Disconnect();
  return Unavailable(kUnavailableText);
}

// A pooled socket whose peer has closed (server restart) reads as "readable" (EOF pending) while
// we expect no data at all; such a connection is replaced before use instead of failing the call.
bool Connection::IsStale() const {
  pollfd p{};
  p.fd = ctx_->fd;
  p.events = POLLIN;
  int n = ::poll(&p, 1, 0);
  return n != 0;  // readable, hung up, error, or poll failure
}

Status Connection::EnsureConnected() {
  if (ctx_ != nullptr && !IsStale()) return Status::Ok();
  Disconnect();
  ctx_ = redisConnectWithTimeout(opts_.host.c_str(), opts_.port, ToTimeval(opts_.connect_timeout_ms));
  if (ctx_ == nullptr) return Fail("connect: out of memory");
  if (ctx_->err != 0) return Fail("connect");
  if (redisSetTimeout(ctx_, ToTimeval(opts_.command_timeout_ms)) != REDIS_OK) return Fail("set timeout");
  redisEnableKeepAlive(ctx_);

  auto handshake = [&](const Argv& argv, const char* what) -> Status {
    ReplyGuard g{RoundTrip(ctx_, argv)};
    if (g.r == nullptr) return Fail(what);
    auto* r = static_cast<redisReply*>(g.r);
    if (r->type == REDIS_REPLY_ERROR) return Fail(std::string(what) + ": " + std::string(r->str, r->len));
    return Status::Ok();
  };
  if (!opts_.password.empty()) {
    Argv auth = {"AUTH"};
    if (!opts_.username.empty()) auth.push_back(opts_.username);
    auth.push_back(opts_.password);
    if (auto s = handshake(auth, "auth"); !s.ok()) return s;
  }
  if (opts_.db != 0) {
    if (auto s = handshake({"SELECT", std::to_string(opts_.db)}, "select"); !s.ok()) return s;
  }
  return Status::Ok();
}

Result<Reply> Connection::Command(const Argv& argv) {
  ScopedSigpipeBlock no_sigpipe;
  if (auto s = EnsureConnected(); !s.ok()) return s;
  ReplyGuard g{RoundTrip(ctx_, argv)};
  if (g.r == nullptr) return Fail(argv.empty() ? "command" : argv[0]);
  return ConvertReply(static_cast<redisReply*>(g.r));
}

Result<std::vector<Reply>> Connection::Pipeline(const std::vector<Argv>& commands) {
  std::vector<Reply> out;
  if (commands.empty()) return out;
  ScopedSigpipeBlock no_sigpipe;
  if (auto s = EnsureConnected(); !s.ok()) return s;
  for (const auto& argv : commands) {
    if (AppendCommand(ctx_, argv) != REDIS_OK) {
      return Fail("pipeline: append");
    }
  }
  out.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    ReplyGuard g;
    if (redisGetReply(ctx_, &g.r) != REDIS_OK || g.r == nullptr) return Fail("pipeline");
    out.push_back(ConvertReply(static_cast<redisReply*>(g.r)));
  }
  return out;
}

std::vector<Result<Reply>> Connection::PipelineEach(const std::vector<Argv>& commands) {
  std::vector<Result<Reply>> out;
  if (commands.empty()) return out;
  out.reserve(commands.size());
  ScopedSigpipeBlock no_sigpipe;
  Status failure = EnsureConnected();
  for (size_t i = 0; failure.ok() && i < commands.size(); ++i) {
    if (AppendCommand(ctx_, commands[i]) != REDIS_OK) {
      failure = Fail("pipeline: append");
    }
  }
  for (size_t i = 0; failure.ok() && i < commands.size(); ++i) {
    ReplyGuard g;
    if (redisGetReply(ctx_, &g.r) != REDIS_OK || g.r == nullptr) {
      failure = Fail("pipeline");
      break;
    }
    out.push_back(ConvertReply(static_cast<redisReply*>(g.r)));
  }
  while (out.size() < commands.size()) out.push_back(failure);
  return out;
}

}  // namespace codeq::redis
