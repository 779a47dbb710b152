#include "cli/cli_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

extern char** environ;

namespace codeq::clitest {
namespace fs = std::filesystem;

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Decode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string CliResult::Describe() const {
  return "exit " + std::to_string(exit_code) + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
}

std::unique_ptr<CliProcess> CliProcess::Start(const std::string& binary, const CliOptions& o) {
  std::unique_ptr<CliProcess> p(new CliProcess());
  std::string tmpl = (fs::temp_directory_path() / "codeq-cli-run-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return nullptr;
  p->dir_ = tmpl;
  {
    std::ofstream in(p->dir_ + "/stdin", std::ios::binary);
    in << o.stdin_text;
  }

  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& name : o.unset_env) env.erase(name);
  for (const auto& [k, v] : o.env) env[k] = v;
  std::vector<std::string> env_store;
  for (const auto& [k, v] : env) env_store.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_store{binary};
  argv_store.insert(argv_store.end(), o.args.begin(), o.args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, (p->dir_ + "/stdin").c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, (p->dir_ + "/stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, (p->dir_ + "/stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!o.working_dir.empty()) posix_spawn_file_actions_addchdir_np(&fa, o.working_dir.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  int rc = posix_spawn(&p->pid_, binary.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return nullptr;
  return p;
}

CliProcess::~CliProcess() {
  if (Running()) {
    ::kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(5));
  }
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

bool CliProcess::Signal(int sig) { return Running() && ::kill(pid_, sig) == 0; }

bool CliProcess::Running() {
  if (exit_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_ = Decode(status);
    return false;
  }
  return r == 0;
}

std::optional<int> CliProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_;
}

std::string CliProcess::Out() const { return ReadFile(dir_ + "/stdout"); }
std::string CliProcess::Err() const { return ReadFile(dir_ + "/stderr"); }

CliResult RunCli(const std::string& binary, const CliOptions& options) {
  CliResult r;
  auto p = CliProcess::Start(binary, options);
  if (!p) {
    r.err = "spawn failed";
    return r;
  }
  auto code = p->Wait(options.timeout);
  if (!code) {
    p->Signal(SIGKILL);
    p->Wait(std::chrono::seconds(5));
  }
  r.exit_code = code.value_or(-1);
  r.out = p->Out();
  r.err = p->Err();
  return r;
}

}  // namespace codeq::clitest
