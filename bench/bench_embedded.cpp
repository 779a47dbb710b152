// bench_embedded: figures of the embedded store (not part of CI; build with
// `cmake --build <dir> --target bench_embedded`).
//
//   1. creates N pending tasks with ~100-byte payloads (sync=true, group commit) → creates/s
//   2. RSS with N pending tasks (VmRSS of /proc/self/status)
//   3. close, reopen (recovery of N tasks) → reopen time, RSS after reopen
//   4. full cycles create → claim → result → cycles/s (sync=true)
//   5. the same creates/s and cycles/s with sync=false, and the process CPU per async cycle
//
// Usage: bench_embedded [--tasks N] [--cycles M] [--concurrency C] [--async-tasks K] [--dir D] [--keep]
//                       [--async-only]   (step 5 only)
//        bench_embedded --reopen <data dir>   (time the recovery of an existing directory)
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "domain/time_format.h"
#include "store/embedded/embedded_store.h"

namespace {

using namespace codeq;
using Steady = std::chrono::steady_clock;

struct Args {
  int64_t tasks = 1'000'000;
  int64_t async_tasks = 200'000;
  int64_t cycles = 20'000;
  int concurrency = 128;
  std::string dir;
  bool keep = false;
  bool async_only = false;  // skip the sync half (steps 1-4)
  std::string reopen;  // only time the recovery of an existing data directory
};

double Seconds(Steady::time_point a, Steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// CPU time (user + system) of the whole process so far, in seconds.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

long RssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

Now NowValue() {
  Now n;
  n.ms = SystemClock().NowMs();
  n.text = FormatTimestamp(n.ms);
  return n;
}

std::string NewUuid() {
  thread_local boost::uuids::random_generator gen;
  return boost::uuids::to_string(gen());
}

// A payload whose compact JSON text is 100 bytes.
const std::string& Payload() {
  static const std::string p = [] {
    std::string s = R"({"data":")";
    s += std::string(100 - s.size() - 2, 'x');
    s += R"("})";
    return s;
  }();
  return p;
}

CreateTaskInput NewTask(const std::string& command, int priority) {
  CreateTaskInput in;
  in.now = NowValue();
  Task& t = in.task;
  t.id = NewUuid();
  t.command = command;
  t.payload = Payload();
  t.priority = priority;
  t.status = "PENDING";
  t.max_attempts = 5;
  t.created_at = t.updated_at = in.now.text;
  in.visible_at_sec = in.now.seconds();
  return in;
}

std::shared_ptr<EmbeddedStore> OpenOrDie(const std::string& dir, bool sync) {
  EmbeddedOptions o;
  o.data_dir = dir;
  o.sync = sync;
  auto s = EmbeddedStore::Open(o);
  if (!s.ok()) {
    std::fprintf(stderr, "open failed: %s\n", s.status().message().c_str());
    std::exit(1);
  }
  return *s;
}

boost::asio::awaitable<void> CreateWorker(EmbeddedStore& store, int64_t count, std::string command) {
  for (int64_t i = 0; i < count; ++i) {
    CreateTaskInput in = NewTask(command, static_cast<int>(i % 10));
    auto r = co_await store.CreateTask(std::move(in));
    if (!r.ok()) {
      std::fprintf(stderr, "create failed: %s\n", r.status().message().c_str());
      std::exit(1);
    }
  }
}

boost::asio::awaitable<void> CycleWorker(EmbeddedStore& store, int64_t count, std::string worker) {
  for (int64_t i = 0; i < count; ++i) {
    CreateTaskInput in = NewTask("cycle", 0);
    auto created = co_await store.CreateTask(std::move(in));
    if (!created.ok()) std::exit(1);
    ClaimInput claim;
    claim.worker_id = worker;
    claim.commands = {"cycle"};
    claim.lease_seconds = 60;
    claim.now = NowValue();
    auto claimed = co_await store.ClaimTask(std::move(claim));
    if (!claimed.ok() || !claimed->has_value()) {
      std::fprintf(stderr, "claim failed\n");
      std::exit(1);
    }
    SubmitResultInput res;
    res.task_id = (*claimed)->id;
    res.worker_id = worker;
    res.now = NowValue();
    res.result.task_id = res.task_id;
    res.result.status = "COMPLETED";
    res.result.result = boost::json::object{{"ok", true}};
    res.result.completed_at = res.now.text;
    auto done = co_await store.SubmitResult(std::move(res));
    if (!done.ok()) {
      std::fprintf(stderr, "result failed: %s\n", done.status().message().c_str());
      std::exit(1);
    }
  }
}

// `concurrency` coroutines on one io_context thread (the store's pool does the blocking work).
double CreateMany(EmbeddedStore& store, int64_t n, int concurrency, const std::string& command) {
  auto start = Steady::now();
  boost::asio::io_context ctx;
  for (int w = 0; w < concurrency; ++w) {
    int64_t mine = n / concurrency + (w < n % concurrency ? 1 : 0);
    boost::asio::co_spawn(ctx, CreateWorker(store, mine, command), boost::asio::detached);
  }
  ctx.run();
  return n / Seconds(start, Steady::now());
}

double Cycles(EmbeddedStore& store, int64_t n, int concurrency) {
  auto start = Steady::now();
  boost::asio::io_context ctx;
  const int64_t per = n / concurrency;
  for (int w = 0; w < concurrency; ++w) {
    boost::asio::co_spawn(ctx, CycleWorker(store, per, "worker-" + std::to_string(w)), boost::asio::detached);
  }
  ctx.run();
  return (per * concurrency) / Seconds(start, Steady::now());
}

boost::asio::awaitable<void> ReadyOf(EmbeddedStore& store, std::string command, int64_t* ready) {
  auto s = co_await store.Stats("", std::move(command));
  if (s.ok()) *ready = s->ready;
}

int64_t Ready(EmbeddedStore& store, const std::string& command) {
  boost::asio::io_context ctx;
  int64_t ready = -1;
  boost::asio::co_spawn(ctx, ReadyOf(store, command, &ready), boost::asio::detached);
  ctx.run();
  return ready;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (k == "--tasks") a.tasks = std::stoll(next());
    else if (k == "--async-tasks") a.async_tasks = std::stoll(next());
    else if (k == "--cycles") a.cycles = std::stoll(next());
    else if (k == "--concurrency") a.concurrency = std::stoi(next());
    else if (k == "--dir") a.dir = next();
    else if (k == "--keep") a.keep = true;
    else if (k == "--async-only") a.async_only = true;
    else if (k == "--reopen") a.reopen = next();
    else {
      std::fprintf(stderr, "usage: bench_embedded [--tasks N] [--async-tasks K] [--cycles M] [--concurrency C] [--dir D] [--keep] [--async-only] | --reopen DIR\n");
      return 2;
    }
  }
  if (!a.reopen.empty()) {
    auto t0 = Steady::now();
    auto store = OpenOrDie(a.reopen, true);
    double secs = Seconds(t0, Steady::now());
    std::printf("reopen %s: %.2f s, ready(bench)=%lld, RSS %.1f MB\n", a.reopen.c_str(), secs,
                static_cast<long long>(Ready(*store, "bench")), RssKb() / 1024.0);
    return 0;
  }
  if (a.dir.empty()) a.dir = "/tmp/codeq-bench-" + std::to_string(::getpid());
  std::filesystem::remove_all(a.dir);
  const std::string sync_dir = a.dir + "/sync", async_dir = a.dir + "/async";
  std::printf("bench_embedded: %lld pending tasks, payload %zu bytes, concurrency %d, dir %s\n",
              static_cast<long long>(a.tasks), Payload().size(), a.concurrency, a.dir.c_str());
  std::printf("RSS at start: %.1f MB\n", RssKb() / 1024.0);

  if (!a.async_only) {
    auto store = OpenOrDie(sync_dir, true);
    double rate = CreateMany(*store, a.tasks, a.concurrency, "bench");
    std::printf("[sync]  creates/s: %.0f  (%lld tasks, %llu WAL fsyncs)\n", rate,
                static_cast<long long>(a.tasks), static_cast<unsigned long long>(store->WalSyncCount()));
    std::printf("RSS with %lld pending tasks: %.1f MB\n", static_cast<long long>(a.tasks), RssKb() / 1024.0);
    auto t0 = Steady::now();
    store.reset();
    std::printf("close (flush): %.2f s\n", Seconds(t0, Steady::now()));
  }
  if (!a.async_only) {
    std::printf("RSS after close: %.1f MB\n", RssKb() / 1024.0);
    auto t0 = Steady::now();
    auto store = OpenOrDie(sync_dir, true);
    double secs = Seconds(t0, Steady::now());
    int64_t ready = Ready(*store, "bench");
    std::printf("reopen (recovery of %lld tasks): %.2f s, ready=%lld, RSS after reopen: %.1f MB\n",
                static_cast<long long>(a.tasks), secs, static_cast<long long>(ready), RssKb() / 1024.0);
    if (ready != a.tasks) std::printf("!! ready count mismatch\n");
    double cycles = Cycles(*store, a.cycles, a.concurrency);
    std::printf("[sync]  cycles/s (create→claim→result): %.0f  (%lld cycles, %llu WAL fsyncs total)\n", cycles,
                static_cast<long long>(a.cycles), static_cast<unsigned long long>(store->WalSyncCount()));
  }
  {
    auto store = OpenOrDie(async_dir, false);
    double rate = CreateMany(*store, a.async_tasks, a.concurrency, "bench");
    std::printf("[async] creates/s: %.0f  (%lld tasks)\n", rate, static_cast<long long>(a.async_tasks));
    const double cpu0 = CpuSeconds();
    double cycles = Cycles(*store, a.cycles, a.concurrency);
    const double cpu_us = (CpuSeconds() - cpu0) * 1e6 / static_cast<double>(a.cycles);
    std::printf("[async] cycles/s (create→claim→result): %.0f  (%lld cycles, %.1f us of CPU per cycle)\n",
                cycles, static_cast<long long>(a.cycles), cpu_us);
  }
  if (!a.keep) std::filesystem::remove_all(a.dir);
  return 0;
}
