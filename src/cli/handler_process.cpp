#include "cli/handler_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

extern char** environ;

namespace codeq::cli {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kStderrTail = 4096;

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

bool MakePipe(Fd& read_end, Fd& write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return false;
  read_end.fd = p[0];
  write_end.fd = p[1];
  return true;
}

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// The environment for the child: ours with `extra` added or replaced.
std::vector<std::string> ChildEnv(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::map<std::string, std::string> replaced;
  for (const auto& [k, v] : extra) replaced[k] = v;
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    if (replaced.count(name) == 0) out.push_back(std::move(entry));
  }
  for (const auto& [k, v] : replaced) out.push_back(k + "=" + v);
  return out;
}

// Reads what is available from `fd` (non-blocking). Returns false at EOF or on error.
bool ReadSome(int fd, const std::function<void(const char*, size_t)>& sink) {
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      sink(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;  // EOF or error
  }
}

void WriteAllToStderr(const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(STDERR_FILENO, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    data += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

HandlerRun RunHandler(const HandlerSpec& spec, const HandlerHooks& hooks) {
  HandlerRun run;
  auto start = Clock::now();
  Fd in_r, in_w, out_r, out_w, err_r, err_w;
  if (!MakePipe(in_r, in_w) || !MakePipe(out_r, out_w) || !MakePipe(err_r, err_w)) {
    run.error = std::string("pipe: ") + std::strerror(errno);
    return run;
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_r.fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_w.fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_w.fd, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::vector<std::string> env = ChildEnv(spec.env);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", command = spec.command;
  char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};

  pid_t pid = -1;
  int rc = posix_spawn(&pid, sh.c_str(), &actions, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    run.error = std::string("spawn /bin/sh: ") + std::strerror(rc);
    return run;
  }
  in_r.Close();
  out_w.Close();
  err_w.Close();
  SetNonBlocking(in_w.fd);
  SetNonBlocking(out_r.fd);
  SetNonBlocking(err_r.fd);
  // <sys/pidfd.h> of glibc 2.36 lacks extern "C", so call the system call directly (Linux ≥ 5.3;
  // without it, exits are noticed by polling waitpid).
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));

  size_t written = 0;
  if (spec.stdin_data.empty()) in_w.Close();
  auto out_sink = [&](const char* d, size_t n) {
    size_t room = spec.max_stdout_bytes - std::min(spec.max_stdout_bytes, run.stdout_text.size());
    if (n > room) run.stdout_truncated = true;
    run.stdout_text.append(d, std::min(n, room));
  };
  auto err_sink = [&](const char* d, size_t n) {
    WriteAllToStderr(d, n);
    run.stderr_tail.append(d, n);
    if (run.stderr_tail.size() > kStderrTail) run.stderr_tail.erase(0, run.stderr_tail.size() - kStderrTail);
  };

  auto next_tick = hooks.tick.count() > 0 ? start + hooks.tick : Clock::time_point::max();
  auto deadline = spec.timeout.count() > 0 ? start + spec.timeout : Clock::time_point::max();
  int status = 0;
  bool exited = false;
  HandlerRun::End kill_reason = HandlerRun::End::kExited;

  while (!exited) {
    auto now = Clock::now();
    if (kill_reason == HandlerRun::End::kExited) {
      if (now >= deadline) {
        kill_reason = HandlerRun::End::kTimedOut;
      } else if (hooks.should_kill && hooks.should_kill()) {
        kill_reason = HandlerRun::End::kKilled;
      }
      if (kill_reason != HandlerRun::End::kExited) {
        ::kill(-pid, SIGTERM);
        deadline = now + std::chrono::seconds(2);  // then SIGKILL
      }
    } else if (now >= deadline) {
      ::kill(-pid, SIGKILL);
      deadline = Clock::time_point::max();
    }
    if (now >= next_tick && kill_reason == HandlerRun::End::kExited) {
      if (hooks.on_tick) hooks.on_tick();
      next_tick = Clock::now() + hooks.tick;
      continue;
    }

    pollfd fds[4];
    int n = 0;
    int i_in = -1, i_out = -1, i_err = -1, i_pid = -1;
    if (in_w.fd >= 0) fds[i_in = n++] = {in_w.fd, POLLOUT, 0};
    if (out_r.fd >= 0) fds[i_out = n++] = {out_r.fd, POLLIN, 0};
    if (err_r.fd >= 0) fds[i_err = n++] = {err_r.fd, POLLIN, 0};
    if (pidfd.fd >= 0) fds[i_pid = n++] = {pidfd.fd, POLLIN, 0};
    auto wake = std::min({next_tick, deadline, Clock::now() + std::chrono::milliseconds(100)});
    auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now()).count();
    int ready = ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::max<int64_t>(0, wait_ms)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) {
      if (pidfd.fd < 0 && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
      continue;
    }
    if (i_in >= 0 && fds[i_in].revents != 0) {
      ssize_t w = ::write(in_w.fd, spec.stdin_data.data() + written, spec.stdin_data.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == spec.stdin_data.size()) in_w.Close();
    }
    if (i_out >= 0 && fds[i_out].revents != 0 && !ReadSome(out_r.fd, out_sink)) out_r.Close();
    if (i_err >= 0 && fds[i_err].revents != 0 && !ReadSome(err_r.fd, err_sink)) err_r.Close();
    if (i_pid >= 0 && fds[i_pid].revents != 0) {
      if (::waitpid(pid, &status, 0) == pid) exited = true;
    }
  }
  if (!exited) ::waitpid(pid, &status, 0);
  // Output still buffered in the pipes (a grandchild may keep them open: take what is there).
  if (out_r.fd >= 0) ReadSome(out_r.fd, out_sink);
  if (err_r.fd >= 0) ReadSome(err_r.fd, err_sink);

  run.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  if (kill_reason != HandlerRun::End::kExited) {
    run.end = kill_reason;
  } else if (WIFEXITED(status)) {
    run.end = HandlerRun::End::kExited;
    run.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    run.end = HandlerRun::End::kSignaled;
    run.signal = WTERMSIG(status);
  }
  return run;
}

}  // namespace codeq::cli
