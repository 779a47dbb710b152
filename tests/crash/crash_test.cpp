// Crash test of the embedded store behind the real `codeq serve` binary: under a load of
// concurrent creates, claims, results and nacks the server is killed with SIGKILL at random
// moments and restarted, ten times (CODEQ_CRASH_ROUNDS=<n> for more; scripts/crash-soak.sh).
// Afterwards every task acknowledged to a client must exist exactly once, in a state consistent
// with what clients were told, and every non-terminal task must be claimable once its lease or
// delay has passed. A second test checks that a damaged data
// directory makes `codeq serve` refuse to start.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/codeq_server.h"
#include "support/http_client.h"

namespace codeq::test {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

HttpHeaders Auth(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The pid of our own child running `codeq serve ... --data-dir <data_dir> ...` (CodeqServer does
// not expose it). 0 when not found.
pid_t FindServerPid(const std::string& data_dir) {
  const pid_t self = ::getpid();
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = ReadFile(entry.path().string() + "/stat");
    auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(close_paren + 1));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid != self || state == "Z") continue;
    std::string cmdline = ReadFile(entry.path().string() + "/cmdline");
    std::vector<std::string> args;
    std::string cur;
    for (char c : cmdline) {
      if (c == '\0') {
        args.push_back(cur);
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == "--data-dir" && args[i + 1] == data_dir) return static_cast<pid_t>(std::stoi(name));
    }
  }
  return 0;
}

// The "m" marker of a task's payload (stored as JSON text; an object is accepted too).
std::string MarkerOf(const json::value& task) {
  if (!task.is_object() || !task.as_object().contains("payload")) return "";
  const auto& p = task.at("payload");
  if (p.is_string()) {
    auto parsed = ParseJson(std::string(p.as_string()));
    return parsed ? JsonString(*parsed, "m") : "";
  }
  return JsonString(p, "m");
}

// A positive integer from environment variable `name`, else `fallback`.
int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  return (*end == '\0' && n > 0 && n < 100000) ? static_cast<int>(n) : fallback;
}

// Everything clients were told, across all rounds.
struct Ledger {
  std::mutex mu;
  std::map<std::string, std::string> acked;      // id (202) -> payload marker
  std::set<std::string> uncertain_creates;       // markers of creates without an answer
  std::set<std::string> completed;               // ids whose result got 200
  std::set<std::string> result_uncertain;        // ids whose result got no answer
  std::vector<std::string> unexpected;           // responses no client should have seen
  int64_t claims = 0, results = 0, nacks = 0, refused = 0;
};

struct RoundContext {
  int port;
  std::string producer, worker, command;
  std::atomic<bool>* stop;
  Ledger* ledger;
};

void LoadThread(const RoundContext& ctx, int round, int thread_no, uint32_t seed) {
  std::mt19937 rng(seed);
  HttpClient client("127.0.0.1", ctx.port, /*keep_alive=*/true, std::chrono::seconds(5));
  int seq = 0;
  auto note_unexpected = [&](const std::string& what, const HttpResponse& r) {
    std::lock_guard<std::mutex> lock(ctx.ledger->mu);
    ctx.ledger->unexpected.push_back(what + " -> " + r.Describe());
  };
  while (!ctx.stop->load()) {
    const int op = static_cast<int>(rng() % 100);
    if (op < 40) {
      const std::string marker = "r" + std::to_string(round) + "-t" + std::to_string(thread_no) + "-" +
                                 std::to_string(seq++);
      json::object body{{"command", ctx.command}, {"payload", json::object{{"m", marker}}}, {"maxAttempts", 1000}};
      auto r = client.Request("POST", "/v1/codeq/tasks", Auth(ctx.producer), json::serialize(body));
      std::lock_guard<std::mutex> lock(ctx.ledger->mu);
      if (r.status == 202) {
        const std::string id = JsonString(r.Json(), "id");
        if (id.empty() || !ctx.ledger->acked.emplace(id, marker).second) {
          ctx.ledger->unexpected.push_back("create returned a missing or repeated id: " + r.Describe());
        }
      } else if (r.status == 0) {
        ctx.ledger->uncertain_creates.insert(marker);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the server is gone: do not spin
      } else {
        ctx.ledger->unexpected.push_back("create -> " + r.Describe());
      }
      continue;
    }
    json::object claim{{"commands", json::array{json::value(ctx.command)}}, {"leaseSeconds", 1}, {"waitSeconds", 0}};
    auto c = client.Request("POST", "/v1/codeq/tasks/claim", Auth(ctx.worker), json::serialize(claim));
    if (c.status == 204 || c.status == 0) continue;
    if (c.status != 200) {
      note_unexpected("claim", c);
      continue;
    }
    const std::string id = JsonString(c.Json(), "id");
    {
      std::lock_guard<std::mutex> lock(ctx.ledger->mu);
      ++ctx.ledger->claims;
    }
    const int what = static_cast<int>(rng() % 100);
    if (what < 50) {
      json::object res{{"status", "COMPLETED"}, {"result", json::object{{"id", id}}}};
      auto r = client.Request("POST", "/v1/codeq/tasks/" + id + "/result", Auth(ctx.worker), json::serialize(res));
      std::lock_guard<std::mutex> lock(ctx.ledger->mu);
      if (r.status == 200) {
        ++ctx.ledger->results;
        ctx.ledger->completed.insert(id);
      } else if (r.status == 0) {
        ctx.ledger->result_uncertain.insert(id);
      } else if (r.status == 409) {
        ++ctx.ledger->refused;  // the 1 s lease ran out and another thread took the task
      } else {
        ctx.ledger->unexpected.push_back("result " + id + " -> " + r.Describe());
      }
    } else if (what < 80) {
      auto r = client.Request("POST", "/v1/codeq/tasks/" + id + "/nack", Auth(ctx.worker),
                              json::serialize(json::object{{"delaySeconds", 0}}));
      std::lock_guard<std::mutex> lock(ctx.ledger->mu);
      if (r.status == 200) {
        ++ctx.ledger->nacks;
      } else if (r.status == 409) {
        ++ctx.ledger->refused;
      } else if (r.status != 0) {
        ctx.ledger->unexpected.push_back("nack " + id + " -> " + r.Describe());
      }
    }
    // else: abandon the task; its lease expires after 1 s.
  }
}

TEST(CrashTest, KillNineUnderLoadNeverLosesAcknowledgedWork) {
  const auto test_start = Clock::now();
  CodeqServerOptions options;
  options.store_url = "embedded";
  CodeqServer server(options);
  std::random_device rd;
  const uint32_t base_seed = rd();
  std::mt19937 rng(base_seed);
  SCOPED_TRACE("seed " + std::to_string(base_seed) + ", dir " + server.dir());
  const std::string command = "crash_" + std::to_string(base_seed % 1000000);
  Ledger ledger;
  // CODEQ_CRASH_ROUNDS raises the number of kill -9 rounds (scripts/crash-soak.sh); default 10.
  const int kRounds = EnvInt("CODEQ_CRASH_ROUNDS", 10);
  constexpr int kThreads = 4;

  for (int round = 0; round < kRounds; ++round) {
    std::string error;
    ASSERT_TRUE(server.Start(&error)) << "round " << round << ": " << error;
    std::atomic<bool> stop{false};
    RoundContext ctx{server.port(), server.producer_token(), server.worker_token(), command, &stop, &ledger};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back(LoadThread, std::cref(ctx), round, t, rng());
    const int run_ms = 300 + static_cast<int>(rng() % 1201);
    std::this_thread::sleep_for(std::chrono::milliseconds(run_ms));
    const pid_t pid = FindServerPid(server.data_dir());
    ASSERT_NE(pid, 0) << "cannot find the server process";
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    // Clients keep going against the dead server for a moment (transport errors only).
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop = true;
    for (auto& th : threads) th.join();
    // Running() reaps the killed child (CodeqServer does not report a reaped child's status).
    const auto reap_deadline = Clock::now() + std::chrono::seconds(5);
    while (server.Running() && Clock::now() < reap_deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_FALSE(server.Running()) << "round " << round << ": SIGKILLed server still running";
  }

  {
    std::lock_guard<std::mutex> lock(ledger.mu);
    EXPECT_TRUE(ledger.unexpected.empty()) << ledger.unexpected.size() << " unexpected answers, first: "
                                           << ledger.unexpected.front();
    ASSERT_GT(ledger.acked.size(), 0u);
    ASSERT_GT(ledger.completed.size(), 0u);
    std::printf("[crash] %d rounds of kill -9: %zu acked creates, %zu uncertain creates, %lld claims, %zu results acked "
                "(%zu uncertain), %lld nacks, %lld refused (409)\n",
                kRounds, ledger.acked.size(), ledger.uncertain_creates.size(), static_cast<long long>(ledger.claims),
                ledger.completed.size(), ledger.result_uncertain.size(), static_cast<long long>(ledger.nacks),
                static_cast<long long>(ledger.refused));
  }

  std::string error;
  ASSERT_TRUE(server.Start(&error)) << "final start: " << error;
  HttpClient client("127.0.0.1", server.port(), /*keep_alive=*/true, std::chrono::seconds(20));
  const auto producer = Auth(server.producer_token());
  const auto worker = Auth(server.worker_token());

  // Every acknowledged task exists; every acknowledged result is there.
  std::set<std::string> expect_claimable;
  int missing = 0, bad_state = 0;
  for (const auto& [id, marker] : ledger.acked) {
    auto r = client.Request("GET", "/v1/codeq/tasks/" + id, producer);
    if (r.status != 200) {
      if (++missing <= 5) ADD_FAILURE() << "acknowledged task " << id << " (" << marker << ") lost: " << r.Describe();
      continue;
    }
    const auto task = r.Json();
    const std::string st = JsonString(task, "status");
    EXPECT_EQ(JsonString(task, "id"), id);
    EXPECT_EQ(MarkerOf(task), marker) << id << ": " << r.body;
    if (ledger.completed.count(id) != 0) {
      if (st != "COMPLETED" && ++bad_state <= 5) ADD_FAILURE() << "result of " << id << " was answered 200 but: " << r.body;
      auto res = client.Request("GET", "/v1/codeq/tasks/" + id + "/result", producer);
      EXPECT_EQ(res.status, 200) << id << ": " << res.Describe();
      if (res.status == 200) {
        const auto v = res.Json();
        ASSERT_TRUE(v.is_object() && v.as_object().contains("result")) << res.body;
        EXPECT_EQ(JsonString(v.at("result"), "taskId"), id) << res.body;
        EXPECT_EQ(JsonString(v.at("result"), "status"), "COMPLETED") << res.body;
        EXPECT_NE(res.body.find(id), std::string::npos) << res.body;
      }
    } else if (st == "COMPLETED") {
      // Only a result whose answer was lost in the crash may have landed unacknowledged.
      if (ledger.result_uncertain.count(id) == 0 && ++bad_state <= 5) {
        ADD_FAILURE() << id << " is COMPLETED although no result for it was acknowledged or in flight: " << r.body;
      }
    } else if (st == "PENDING" || st == "IN_PROGRESS") {
      expect_claimable.insert(id);
    } else {
      if (++bad_state <= 5) ADD_FAILURE() << id << " in unexpected state: " << r.body;
    }
  }
  EXPECT_EQ(missing, 0) << "acknowledged tasks lost";
  EXPECT_EQ(bad_state, 0) << "tasks in a state inconsistent with what clients were told";

  // Leases (1 s) and nack backoff (1 s) have passed by the time we drain; wait to be sure.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  std::map<std::string, int> drained;
  std::set<std::string> drained_unacked;
  int empty_in_a_row = 0;
  // 60 s for the default 10 rounds; more rounds leave more work to drain.
  const auto drain_deadline = Clock::now() + std::chrono::seconds(60) * std::max(1, kRounds / 10);
  json::object claim{{"commands", json::array{json::value(command)}}, {"leaseSeconds", 30}, {"waitSeconds", 2}};
  const std::string claim_body = json::serialize(claim);
  while (empty_in_a_row < 2 && Clock::now() < drain_deadline) {
    auto c = client.Request("POST", "/v1/codeq/tasks/claim", worker, claim_body);
    if (c.status == 204) {
      ++empty_in_a_row;
      continue;
    }
    ASSERT_EQ(c.status, 200) << c.Describe();
    empty_in_a_row = 0;
    const auto task = c.Json();
    const std::string id = JsonString(task, "id");
    if (++drained[id] == 2) ADD_FAILURE() << id << " claimed twice during the drain (lease 30 s)";
    if (ledger.acked.count(id) == 0) {
      const std::string marker = MarkerOf(task);
      EXPECT_EQ(ledger.uncertain_creates.count(marker), 1u)
          << "claimed a task nobody created (or whose create was refused): " << c.body;
      drained_unacked.insert(id);
    } else {
      EXPECT_EQ(expect_claimable.count(id), 1u) << "claimed " << id << ", which is COMPLETED: " << c.body;
    }
  }
  EXPECT_EQ(empty_in_a_row, 2) << "drain did not finish in time";
  int never_claimed = 0;
  for (const auto& id : expect_claimable) {
    if (drained.count(id) == 0 && ++never_claimed <= 5) {
      ADD_FAILURE() << "acknowledged non-terminal task " << id << " was never claimable: "
                    << client.Request("GET", "/v1/codeq/tasks/" + id, producer).body;
    }
  }
  EXPECT_EQ(never_claimed, 0);

  auto stats = client.Request("GET", "/v1/codeq/admin/queues/" + command, Auth(server.admin_token()));
  ASSERT_EQ(stats.status, 200) << stats.Describe();
  EXPECT_EQ(JsonInt(stats.Json(), "ready"), 0) << stats.body;
  EXPECT_EQ(JsonInt(stats.Json(), "delayed"), 0) << stats.body;
  EXPECT_EQ(JsonInt(stats.Json(), "inProgress"), static_cast<int64_t>(drained.size())) << stats.body;
  EXPECT_EQ(JsonInt(stats.Json(), "dlq"), 0) << stats.body;
  std::printf("[crash] drained %zu tasks (%zu from unacknowledged creates), %zu acked completed, total %lld ms\n",
              drained.size(), drained_unacked.size(), ledger.completed.size(),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - test_start).count()));
  if (HasFailure()) std::printf("--- codeq log tail ---\n%s\n", server.LogTail(6000).c_str());
}

TEST(CrashTest, DamagedDataDirectoryRefusesToStart) {
  CodeqServerOptions options;
  options.store_url = "embedded";
  options.start_timeout_ms = 8000;
  CodeqServer server(options);
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  {
    HttpClient client("127.0.0.1", server.port(), true);
    for (int i = 0; i < 50; ++i) {
      json::object body{{"command", "crash_damaged"}, {"payload", json::object{{"i", i}}}};
      auto r = client.Request("POST", "/v1/codeq/tasks", Auth(server.producer_token()), json::serialize(body));
      ASSERT_EQ(r.status, 202) << r.Describe();
    }
  }
  auto status = server.Stop();
  ASSERT_TRUE(status.has_value());
  ASSERT_EQ(*status, 0) << "clean stop failed:\n" << server.LogTail();

  // Truncate the newest table file to half its size (the clean stop flushes the memtable).
  const fs::path db = fs::path(server.data_dir()) / "db";
  fs::path newest;
  fs::file_time_type newest_time{};
  for (const auto& e : fs::directory_iterator(db)) {
    if (e.path().extension() != ".sst") continue;
    auto t = fs::last_write_time(e.path());
    if (newest.empty() || t > newest_time) {
      newest = e.path();
      newest_time = t;
    }
  }
  if (newest.empty()) {  // no table file: damage the manifest instead
    for (const auto& e : fs::directory_iterator(db)) {
      if (e.path().filename().string().rfind("MANIFEST-", 0) == 0) newest = e.path();
    }
  }
  ASSERT_FALSE(newest.empty()) << "nothing to damage under " << db;
  const auto size = fs::file_size(newest);
  ASSERT_GT(size, 16u);
  fs::resize_file(newest, size / 2);

  ChildOptions o;
  o.program = DefaultCodeqBinary();
  o.args = {"serve", "--dev", "--store", "embedded", "--port", std::to_string(server.port()),
            "--data-dir", server.data_dir(), "--listen", "127.0.0.1"};
  o.output_path = server.dir() + "/damaged.log";
  std::string spawn_error;
  auto child = ChildProcess::Spawn(o, &spawn_error);
  ASSERT_TRUE(child) << spawn_error;
  HttpClient probe("127.0.0.1", server.port(), false, std::chrono::milliseconds(500));
  std::optional<int> exit_code;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < deadline) {
    auto r = probe.Request("GET", "/healthz");
    EXPECT_NE(r.status, 200) << "a damaged data directory was served";
    exit_code = child->Wait(std::chrono::milliseconds(50));
    if (exit_code) break;
  }
  if (!exit_code) child->Kill();
  ASSERT_TRUE(exit_code.has_value()) << "codeq kept running on a damaged data directory:\n" << child->Output();
  EXPECT_NE(*exit_code, 0) << child->Output();
  const std::string out = child->Output();
  EXPECT_TRUE(out.find("damaged") != std::string::npos || out.find(newest.filename().string()) != std::string::npos)
      << "damaged " << newest << ", output:\n" << out;
}

}  // namespace
}  // namespace codeq::test
