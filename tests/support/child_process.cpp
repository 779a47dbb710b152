#include "support/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

extern char** environ;

namespace codeq::test {
namespace {

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::unique_ptr<ChildProcess> ChildProcess::Spawn(const ChildOptions& options, std::string* error) {
  auto fail = [&](const std::string& what) -> std::unique_ptr<ChildProcess> {
    if (error != nullptr) *error = what;
    return nullptr;
  };

  // Everything the child needs is prepared here: after fork() only async-signal-safe calls.
  std::vector<std::string> argv_store = {options.program};
  argv_store.insert(argv_store.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& name : options.unset_env) env.erase(name);
  for (const auto& [k, v] : options.env) env[k] = v;
  std::vector<std::string> env_store;
  for (const auto& [k, v] : env) env_store.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  const char* out_path = options.output_path.empty() ? "/dev/null" : options.output_path.c_str();
  int out_fd = ::open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out_fd < 0) return fail(std::string("open ") + out_path + ": " + strerror(errno));
  int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int status_pipe[2];  // exec failure reporting: EOF = exec succeeded
  if (in_fd < 0 || ::pipe2(status_pipe, O_CLOEXEC) != 0) {
    ::close(out_fd);
    if (in_fd >= 0) ::close(in_fd);
    return fail("pipe: " + std::string(strerror(errno)));
  }
  const pid_t parent = ::getpid();
  const bool search_path = options.program.find('/') == std::string::npos;
  const char* dir = options.working_dir.empty() ? nullptr : options.working_dir.c_str();

  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out_fd);
    ::close(in_fd);
    ::close(status_pipe[0]);
    ::close(status_pipe[1]);
    return fail("fork: " + std::string(strerror(errno)));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    // Do not leak the test process's descriptors (sockets, files) into the child.
    ::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int err = 0;
    if (dir != nullptr && ::chdir(dir) != 0) {
      err = errno;
    } else {
      if (search_path) {
        ::execvpe(argv[0], argv.data(), envp.data());
      } else {
        ::execve(argv[0], argv.data(), envp.data());
      }
      err = errno;
    }
    ssize_t ignored = ::write(status_pipe[1], &err, sizeof(err));
    (void)ignored;
    ::_exit(127);
  }
  ::close(out_fd);
  ::close(in_fd);
  ::close(status_pipe[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(status_pipe[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  ::close(status_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    int st = 0;
    ::waitpid(pid, &st, 0);
    return fail("exec " + options.program + ": " + strerror(child_errno));
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, options.output_path));
}

ChildProcess::~ChildProcess() {
  if (Running()) Kill(std::chrono::seconds(2));
}

bool ChildProcess::Running() {
  if (exit_status_) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    exit_status_ = DecodeWaitStatus(st);
    return false;
  }
  return r == 0;
}

bool ChildProcess::Signal(int sig) {
  if (!Running()) return false;
  return ::kill(pid_, sig) == 0;
}

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_status_;
}

std::optional<int> ChildProcess::Kill(std::chrono::milliseconds grace) {
  if (!Running()) return exit_status_;
  ::kill(pid_, SIGTERM);
  ::kill(pid_, SIGCONT);  // a stopped process only acts on SIGTERM once continued
  if (auto st = Wait(grace)) return st;
  ::kill(pid_, SIGKILL);
  return Wait(std::chrono::seconds(10));
}

std::string ChildProcess::Output() const {
  if (output_path_.empty()) return "";
  std::ifstream in(output_path_, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace codeq::test
