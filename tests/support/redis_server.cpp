#include "support/redis_server.h"

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "support/free_port.h"

namespace codeq::test {

RedisServer::RedisServer(RedisServerOptions options) : options_(std::move(options)) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "codeq-redis-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
}

RedisServer::~RedisServer() {
  Stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string RedisServer::url() const {
  std::string auth = options_.password.empty() ? "" : ":" + options_.password + "@";
  return "redis://" + auth + host_ + ":" + std::to_string(port_);
}

std::string RedisServer::Log() const { return child_ ? child_->Output() : ""; }

bool RedisServer::Start() {
  if (child_ && child_->Running()) return true;
  if (port_ != 0) return StartOnce();  // restart: keep the address
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreePort();
    if (port_ == 0) continue;
    if (StartOnce()) return true;
  }
  return false;
}

bool RedisServer::StartOnce() {
  if (dir_.empty()) return false;
  ChildOptions o;
  o.program = options_.binary;
  o.args = {"--port", std::to_string(port_), "--bind", host_, "--dir", dir_, "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no", "--logfile", ""};
  if (!options_.password.empty()) {
    o.args.push_back("--requirepass");
    o.args.push_back(options_.password);
  }
  o.args.insert(o.args.end(), options_.extra_args.begin(), options_.extra_args.end());
  o.output_path = dir_ + "/redis.log";
  o.working_dir = dir_;
  child_ = ChildProcess::Spawn(o);
  if (!child_) return false;
  if (WaitReady()) return true;
  child_->Kill(std::chrono::seconds(2));
  return false;
}

bool RedisServer::WaitReady() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.start_timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!child_->Running()) return false;  // e.g. port taken
    auto r = Call({"PING"}, 500);
    if (r && r->type == '+' && r->str == "PONG") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void RedisServer::Stop() {
  if (child_) child_->Kill(std::chrono::seconds(5));
}

void RedisServer::Kill() {
  if (child_ && child_->Running()) {
    child_->Signal(SIGKILL);
    child_->Wait(std::chrono::seconds(10));
  }
}

bool RedisServer::Pause() { return child_ && child_->Signal(SIGSTOP); }
bool RedisServer::Resume() { return child_ && child_->Signal(SIGCONT); }

bool RedisServer::Restart() {
  Stop();
  return Start();
}

bool RedisServer::Running() { return child_ && child_->Running(); }

std::optional<RespValue> RedisServer::Call(const std::vector<std::string>& args, int timeout_ms) const {
  return RespCall(host_, port_, args, options_.password, timeout_ms);
}

bool RedisServer::FlushAll() const {
  auto r = Call({"FLUSHALL"});
  return r && r->type == '+';
}

}  // namespace codeq::test
