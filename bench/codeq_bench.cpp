// codeq-bench: an HTTP load generator for a running `codeq serve` (issue 7). Not part of CI.
//
// N producers create tasks and M workers claim them (long poll) and submit results, each over its
// own keep-alive connection. Producers and workers are coroutines on one io_context (epoll, like
// wrk), run by --threads threads, so the generator's own cost stays small. Prints created/s, full cycles/s (create → claim
// → result) and claim and end-to-end latency percentiles, plus one machine-readable RESULT line.
//
// Usage: codeq-bench --port P [--host H] --producer-token T --worker-token T | --token-dir DIR
//        [--scenario sustained|burst|prefill|workers|priorities|delayed|batch]
//        [--tasks N] [--producers N] [--workers M] [--batch B] [--command C] [--wait S]
//        [--rate R]   (R created/s in total: paced producers, for latency at a given load)
//        [--threads T] (io threads of the generator; default 1)
//
// Scenarios (defaults in brackets):
//   sustained   producers and workers run together [tasks 20000, producers 4, workers 8]
//   burst       workers wait (long poll), then 10000 tasks are created at once
//   prefill     100000 tasks are created first, then the workers drain them
//   workers     500 workers long-poll while producers create
//   priorities  like sustained, priorities spread uniformly over 0..9
//   delayed     like sustained, half of the tasks with delaySeconds=1
//   batch       create via /tasks/batch, claim with maxTasks, submit via /results/batch [batch 100]
//
// End-to-end latency uses a CLOCK_MONOTONIC stamp carried in the payload, so producer and worker
// must run on the same machine (they do: one process). "claim service" (single-task scenarios)
// is a claim's time from the later of its start and its task's create request: the claim's own
// cost, without a long poll waiting for work to exist (what --rate at half of peak measures).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

int64_t MonoNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
}

struct Options {
  std::string host = "127.0.0.1", port = "8080";
  std::string producer_token, worker_token;
  std::string scenario = "sustained";
  int64_t tasks = -1;
  int producers = -1, workers = -1, batch = 100, wait = 5;
  double rate = 0;  // total creates/s, 0 = unpaced
  int threads = 1;  // io threads of the generator
  std::string command = "bench";
};

/// One keep-alive HTTP/1.1 connection driven by coroutines on the shared io_context;
/// reconnects once on a transport error. Requests are written as pre-rendered text (the head up
/// to Content-Length is built once per target and token) instead of through Beast's serializer,
/// which cost the generator about a third of its instructions; answers are read with Beast.
class Conn {
 public:
  Conn(asio::any_io_executor ex, const Options& o) : o_(o), socket_(ex) {}

  /// POST `target` with `body`; returns the status (0 on transport error) and fills `out`.
  asio::awaitable<int> Post(const std::string& target, const std::string& token, const std::string& body,
                            std::string& out) {
    if (target != head_target_ || &token != head_token_) {
      head_target_ = target;
      head_token_ = &token;
      head_ = "POST " + target + " HTTP/1.1\r\nHost: " + o_.host + "\r\nAuthorization: Bearer " + token +
              "\r\nContent-Type: application/json\r\nContent-Length: ";
    }
    request_.assign(head_).append(std::to_string(body.size())).append("\r\n\r\n").append(body);
    for (int attempt = 0; attempt < 2; ++attempt) {
      beast::error_code ec;
      if (!socket_.is_open()) {
        tcp::resolver resolver(socket_.get_executor());
        auto eps = co_await resolver.async_resolve(o_.host, o_.port, asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) co_await asio::async_connect(socket_, eps, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
          Close();
          continue;
        }
        socket_.set_option(tcp::no_delay(true), ec);
      }
      co_await asio::async_write(socket_, asio::buffer(request_), asio::redirect_error(asio::use_awaitable, ec));
      bhttp::response<bhttp::string_body> res;
      if (!ec) co_await bhttp::async_read(socket_, buffer_, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        Close();
        continue;
      }
      out = std::move(res.body());
      if (!res.keep_alive()) Close();
      co_return static_cast<int>(res.result_int());
    }
    co_return 0;
  }

 private:
  void Close() {
    beast::error_code ec;
    socket_.close(ec);
    buffer_.clear();
  }
  const Options& o_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::string head_target_;
  const std::string* head_token_ = nullptr;
  std::string head_;     // request line and headers up to "Content-Length: "
  std::string request_;  // the request being sent
};

/// Latency samples in microseconds, merged from per-thread vectors.
struct Samples {
  std::mutex mu;
  std::vector<int64_t> all;
  void Merge(std::vector<int64_t>& v) {
    std::lock_guard lock(mu);
    all.insert(all.end(), v.begin(), v.end());
    v.clear();
  }
  std::string Summary() {
    if (all.empty()) return "n/a";
    std::sort(all.begin(), all.end());
    auto pct = [&](double p) {
      size_t i = std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())));
      return all[i] / 1000.0;
    };
    char buf[200];
    std::snprintf(buf, sizeof buf, "p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms (n=%zu)", pct(0.5), pct(0.9),
                  pct(0.99), all.back() / 1000.0, all.size());
    return buf;
  }
  double Pct(double p) {
    if (all.empty()) return 0;
    std::sort(all.begin(), all.end());
    return all[std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())))] / 1000.0;
  }
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

constexpr const char* kResultBody = R"({"status":"COMPLETED","result":{"ok":true}})";

/// Suspends the calling coroutine for `ns` nanoseconds on `timer`.
asio::awaitable<void> Sleep(asio::steady_timer& timer, int64_t ns) {
  timer.expires_after(std::chrono::nanoseconds(ns));
  beast::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

struct Run {
  Options o;
  std::atomic<int64_t> to_create{0};   // tickets handed out to producers
  std::atomic<int64_t> created{0};
  std::atomic<int64_t> completed{0};
  std::atomic<int64_t> errors{0};
  std::atomic<int> producers_done{0};
  std::atomic<bool> producers_go{true};
  std::atomic<bool> workers_go{true};
  std::atomic<bool> stop{false};
  int64_t create_start_ns = 0;
  std::atomic<int64_t> create_end_ns{0};
  std::atomic<int64_t> finished_ns{0};  // when the last task completed (idle long polls excluded)
  Samples claim_lat, e2e_lat, service_lat;
  std::vector<std::vector<int64_t>> claim_by_worker, e2e_by_worker, service_by_worker;  // per worker, merged at the end

  json::object TaskBody(std::mt19937& rng, int64_t i) const {
    json::object t{{"command", o.command}, {"payload", json::object{{"t", MonoNs()}, {"i", i}}}};
    if (o.scenario == "priorities") t["priority"] = static_cast<int>(rng() % 10);
    if (o.scenario == "delayed" && (i % 2) == 1) t["delaySeconds"] = 1;
    return t;
  }

  asio::awaitable<void> Producer(int index) {
    Conn conn(co_await asio::this_coro::executor, o);
    asio::steady_timer pause(co_await asio::this_coro::executor);
    std::mt19937 rng(index);
    std::string out;
    const int per_request = o.scenario == "batch" ? o.batch : 1;
    // Paced mode: each producer owns rate / producers of the total rate.
    const double interval_ns = o.rate > 0 ? 1e9 * o.producers * per_request / o.rate : 0;
    int64_t next_ns = MonoNs();
    while (!producers_go.load()) co_await Sleep(pause, 1000000);
    for (;;) {
      int64_t first = to_create.fetch_add(per_request);
      if (first >= o.tasks) break;
      int n = static_cast<int>(std::min<int64_t>(per_request, o.tasks - first));
      if (interval_ns > 0) {
        next_ns += static_cast<int64_t>(interval_ns);
        int64_t now = MonoNs();
        if (next_ns > now) co_await Sleep(pause, next_ns - now);
      }
      int status;
      if (per_request == 1) {
        std::string body = json::serialize(TaskBody(rng, first));
        status = co_await conn.Post("/v1/codeq/tasks", o.producer_token, body, out);
        if (status == 202 || status == 200) {
          created.fetch_add(1);
        } else {
          errors.fetch_add(1);
        }
      } else {
        json::array tasks;
        for (int k = 0; k < n; ++k) tasks.push_back(TaskBody(rng, first + k));
        json::object wrapper;
        wrapper["tasks"] = std::move(tasks);
        std::string body = json::serialize(wrapper);
        status = co_await conn.Post("/v1/codeq/tasks/batch", o.producer_token, body, out);
        if (status == 200) {
          created.fetch_add(n);  // items are checked cheaply: count the 202s
        } else {
          errors.fetch_add(n);
        }
      }
    }
    int64_t now = MonoNs(), prev = create_end_ns.load();
    while (now > prev && !create_end_ns.compare_exchange_weak(prev, now)) {
    }
    producers_done.fetch_add(1);
  }

  asio::awaitable<void> Worker(int index) {
    Conn conn(co_await asio::this_coro::executor, o);
    asio::steady_timer pause(co_await asio::this_coro::executor);
    std::string out;
    std::vector<int64_t>& claim_local = claim_by_worker[index];
    std::vector<int64_t>& e2e_local = e2e_by_worker[index];
    std::vector<int64_t>& service_local = service_by_worker[index];
    const bool batch = o.scenario == "batch";
    json::object claim_body{{"commands", json::array{json::value(o.command)}}, {"waitSeconds", o.wait}};
    if (batch) claim_body["maxTasks"] = o.batch;
    const std::string claim_text = json::serialize(claim_body);
    while (!workers_go.load()) co_await Sleep(pause, 1000000);
    while (!stop.load()) {
      int64_t t0 = MonoNs();
      int status = co_await conn.Post("/v1/codeq/tasks/claim", o.worker_token, claim_text, out);
      int64_t t1 = MonoNs();
      if (status == 204) continue;
      if (status != 200) {
        errors.fetch_add(1);
        co_await Sleep(pause, 10000000);
        continue;
      }
      claim_local.push_back((t1 - t0) / 1000);
      json::value v = json::parse(out);
      std::vector<json::object> tasks;
      if (batch) {
        for (auto& t : v.at("tasks").as_array()) tasks.push_back(std::move(t.as_object()));
      } else {
        tasks.push_back(std::move(v.as_object()));
      }
      json::array results;
      for (const auto& t : tasks) {
        std::string id(t.at("id").as_string());
        if (!batch) {
          const std::string target = "/v1/codeq/tasks/" + id + "/result";
          status = co_await conn.Post(target, o.worker_token, kResultBody, out);
          if (status != 200) errors.fetch_add(1);
        } else {
          results.push_back(json::object{{"id", id}, {"status", "COMPLETED"}, {"result", json::object{{"ok", true}}}});
        }
      }
      if (batch) {
        json::object wrapper;
        wrapper["results"] = std::move(results);
        std::string body = json::serialize(wrapper);
        status = co_await conn.Post("/v1/codeq/tasks/results/batch", o.worker_token, body, out);
        if (status != 200) errors.fetch_add(static_cast<int64_t>(tasks.size()));
      }
      int64_t done_ns = MonoNs();
      for (const auto& t : tasks) {
        json::value payload = json::parse(t.at("payload").as_string());
        const int64_t created_ns = payload.at("t").to_number<int64_t>();
        e2e_local.push_back((done_ns - created_ns) / 1000);
        // Claim service time: from the later of the claim's start and the task's create request,
        // so a long poll waiting for work to exist does not count (single-task mode).
        if (!batch) service_local.push_back((t1 - std::max(t0, created_ns)) / 1000);
      }
      if (completed.fetch_add(static_cast<int64_t>(tasks.size())) + static_cast<int64_t>(tasks.size()) >= o.tasks) {
        int64_t expected = 0;
        finished_ns.compare_exchange_strong(expected, MonoNs());
        stop.store(true);
      }
    }
  }
};

int Usage() {
  std::cerr << "usage: codeq-bench --port P [--host H] (--producer-token T --worker-token T | --token-dir DIR)\n"
               "       [--scenario sustained|burst|prefill|workers|priorities|delayed|batch] [--tasks N]\n"
               "       [--producers N] [--workers M] [--batch B] [--command C] [--wait S] [--rate R]\n"
               "       [--threads T]   (io threads of the generator, default 1)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Run run;
  Options& o = run.o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::exit(Usage());
      }
      return argv[++i];
    };
    if (a == "--host") o.host = next();
    else if (a == "--port") o.port = next();
    else if (a == "--producer-token") o.producer_token = next();
    else if (a == "--worker-token") o.worker_token = next();
    else if (a == "--token-dir") {
      std::string d = next();
      o.producer_token = ReadFile(d + "/producer.token");
      o.worker_token = ReadFile(d + "/worker.token");
    } else if (a == "--scenario") o.scenario = next();
    else if (a == "--tasks") o.tasks = std::stoll(next());
    else if (a == "--producers") o.producers = std::stoi(next());
    else if (a == "--workers") o.workers = std::stoi(next());
    else if (a == "--batch") o.batch = std::stoi(next());
    else if (a == "--command") o.command = next();
    else if (a == "--wait") o.wait = std::stoi(next());
    else if (a == "--rate") o.rate = std::stod(next());
    else if (a == "--threads") o.threads = std::max(1, std::stoi(next()));
    else return Usage();
  }
  if (o.producer_token.empty() || o.worker_token.empty()) return Usage();
  const std::string& s = o.scenario;
  if (s != "sustained" && s != "burst" && s != "prefill" && s != "workers" && s != "priorities" &&
      s != "delayed" && s != "batch") {
    return Usage();
  }
  if (o.tasks < 0) o.tasks = s == "burst" ? 10000 : s == "prefill" ? 100000 : 20000;
  if (o.producers < 0) o.producers = 4;
  if (o.workers < 0) o.workers = s == "workers" ? 500 : 8;
  if (o.batch < 1 || o.batch > 1000) o.batch = 100;

  // burst: workers long-poll first; prefill: producers first, workers after.
  run.producers_go = s != "burst";
  run.workers_go = s != "prefill";
  run.claim_by_worker.resize(o.workers);
  run.e2e_by_worker.resize(o.workers);
  run.service_by_worker.resize(o.workers);
  // Every connection is a coroutine on one io_context, run by --threads threads (epoll-driven,
  // like wrk), so the generator costs little next to the server it measures.
  asio::io_context ioc;
  auto guard = asio::make_work_guard(ioc);
  std::vector<std::thread> io_threads;
  for (int i = 0; i < o.threads; ++i) io_threads.emplace_back([&ioc] { ioc.run(); });
  // A coroutine that dies (an unexpected answer) stops the run loudly instead of hanging it.
  auto on_exit = [&run](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, "codeq-bench: a connection failed: %s\n", x.what());
    }
    run.errors.fetch_add(1);
    run.producers_done.store(1 << 30);
    run.stop.store(true);
  };
  // With one thread every coroutine is already serialized: strands only cost.
  auto executor = [&]() -> asio::any_io_executor {
    if (o.threads == 1) return ioc.get_executor();
    return asio::make_strand(ioc);
  };
  for (int i = 0; i < o.workers; ++i) asio::co_spawn(executor(), run.Worker(i), on_exit);
  if (s == "burst") std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto start = SteadyClock::now();
  run.create_start_ns = MonoNs();
  for (int i = 0; i < o.producers; ++i) asio::co_spawn(executor(), run.Producer(i), on_exit);
  run.producers_go = true;
  while (run.producers_done.load() < o.producers) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  double create_secs = (run.create_end_ns.load() - run.create_start_ns) / 1e9;
  auto drain_start = SteadyClock::now();
  run.workers_go = true;
  if (run.created.load() < o.tasks) run.stop = run.completed.load() >= run.created.load();
  // Workers stop when every task is complete; bail out if creates failed and nothing is left.
  while (!run.stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (run.completed.load() >= run.created.load() && run.created.load() < o.tasks) run.stop = true;
  }
  // The clock stops at the last completion: workers still parked in a long poll (up to --wait
  // seconds) must not count; they are abandoned with the io_context.
  int64_t end_ns = run.finished_ns.load() != 0 ? run.finished_ns.load() : MonoNs();
  ioc.stop();
  for (auto& t : io_threads) t.join();
  for (auto& v : run.claim_by_worker) run.claim_lat.Merge(v);
  for (auto& v : run.e2e_by_worker) run.e2e_lat.Merge(v);
  for (auto& v : run.service_by_worker) run.service_lat.Merge(v);
  int64_t begin_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         (s == "prefill" ? drain_start : start).time_since_epoch()).count();
  double total_secs = (end_ns - begin_ns) / 1e9;

  double created_per_s = run.created.load() / std::max(create_secs, 1e-9);
  double cycles_per_s = run.completed.load() / std::max(total_secs, 1e-9);
  std::printf("scenario=%s tasks=%lld producers=%d workers=%d%s\n", s.c_str(), static_cast<long long>(o.tasks),
              o.producers, o.workers, s == "batch" ? (" batch=" + std::to_string(o.batch)).c_str() : "");
  std::printf("created:   %lld in %.2fs = %.0f/s\n", static_cast<long long>(run.created.load()), create_secs,
              created_per_s);
  std::printf("completed: %lld in %.2fs = %.0f cycles/s%s\n", static_cast<long long>(run.completed.load()),
              total_secs, cycles_per_s, s == "prefill" ? " (drain only)" : "");
  std::printf("errors:    %lld\n", static_cast<long long>(run.errors.load()));
  std::printf("claim latency: %s\n", run.claim_lat.Summary().c_str());
  std::printf("claim service: %s (without long-poll waiting for work to exist)\n", run.service_lat.Summary().c_str());
  std::printf("end-to-end:    %s\n", run.e2e_lat.Summary().c_str());
  std::printf("RESULT scenario=%s created_per_s=%.0f cycles_per_s=%.0f claim_p50_ms=%.3f claim_p99_ms=%.3f "
              "claim_service_p99_ms=%.3f e2e_p50_ms=%.3f e2e_p99_ms=%.3f errors=%lld\n",
              s.c_str(), created_per_s, cycles_per_s, run.claim_lat.Pct(0.5), run.claim_lat.Pct(0.99),
              run.service_lat.Pct(0.99), run.e2e_lat.Pct(0.5), run.e2e_lat.Pct(0.99),
              static_cast<long long>(run.errors.load()));
  return run.errors.load() == 0 ? 0 : 1;
}
