// Store faults under load (D8, issue 8): producers and workers keep running while redis-server is
// frozen (SIGSTOP), killed (SIGKILL) and stopped (SIGTERM), then brought back. Every request
// answers within 3 s (503 {"error":"store unavailable"} while the store is away), service
// resumes by itself, and afterwards nothing acknowledged is lost or duplicated: every task whose
// create was acknowledged exists once and ends COMPLETED, nothing stays IN_PROGRESS. Redis runs
// with AOF `appendfsync always`, so what it acknowledged survives its own crash.
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "integration/it_fixture.h"

namespace codeq::it {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int64_t kMaxAnswerMs = 3000;  // per request, outage or not (command timeout is 2 s)
constexpr int kProducers = 3;
constexpr int kWorkers = 3;

/// The phases of the run. A request counts in the phase it started in or, when it started healthy,
/// in the outage phase it was answered in (a request in flight when Redis froze is answered 503
/// during the freeze; on a slow, e.g. sanitizer, build it may be the only one of that phase).
enum Phase : int { kHealthy = 0, kFrozen, kKilled, kStopped, kPhases };
const char* const kPhaseNames[kPhases] = {"healthy", "frozen (SIGSTOP)", "killed (SIGKILL)", "stopped (SIGTERM)"};

/// What clients were told, shared by the load threads.
struct Ledger {
  std::mutex mu;
  std::map<std::string, std::string> acked;  // idempotency key (= payload marker) → task id
  std::set<std::string> completed;           // ids whose result was answered 200
  std::vector<std::string> unexpected;       // answers no client should see
  int64_t max_ms[kPhases] = {0, 0, 0, 0};    // slowest answer per phase
  int64_t count[kPhases] = {0, 0, 0, 0};
  int64_t unavailable[kPhases] = {0, 0, 0, 0};  // 503s per phase
  std::vector<std::pair<Clock::time_point, int>> create_results;  // (when answered, status)

  void Note(Phase started, Phase answered, const HttpResponse& r, const std::string& what) {
    const Phase phase = started != kHealthy ? started : answered;
    std::lock_guard lock(mu);
    max_ms[phase] = std::max<int64_t>(max_ms[phase], r.elapsed.count());
    ++count[phase];
    if (r.status == 503) {
      ++unavailable[phase];
      if (r.Json() != json::parse(R"({"error":"store unavailable"})") || r.Header("Retry-After") != "1") {
        unexpected.push_back(what + ": 503 without the D8 body/Retry-After: " + r.Describe());
      }
    }
    if (r.status == 0 || r.status == 500) unexpected.push_back(what + " -> " + r.Describe());
    if (r.elapsed.count() > kMaxAnswerMs) {
      unexpected.push_back(what + " took " + std::to_string(r.elapsed.count()) + " ms in phase " +
                           kPhaseNames[phase] + " -> " + r.Describe());
    }
  }
};

class Faults : public IntegrationTest {
 public:
  static void SetUpTestSuite() {
    StartEnvironment({}, true, {"--appendonly", "yes", "--appendfsync", "always"});
  }

 protected:
  void TearDown() override {
    if (redis_) {
      redis_->Resume();
      if (!redis_->Running()) EXPECT_TRUE(redis_->Start()) << redis_->Log();
    }
    IntegrationTest::TearDown();
  }
};

struct LoadContext {
  int port;
  std::string producer, worker, command;
  std::atomic<bool>* stop_producers;
  std::atomic<bool>* stop_workers;
  std::atomic<int>* phase;
  Ledger* ledger;
};

// Creates tasks with an idempotency key; a create without a 202/200 answer is retried with the
// same key until it gets one (so each key must end up as exactly one task).
void ProducerLoop(const LoadContext& ctx, int no) {
  HttpClient client("127.0.0.1", ctx.port, false, std::chrono::seconds(10));
  for (int seq = 0; !ctx.stop_producers->load(); ++seq) {
    const std::string key = "p" + std::to_string(no) + "-" + std::to_string(seq);
    const std::string body = json::serialize(json::object{
        {"command", ctx.command}, {"payload", json::object{{"m", key}}}, {"idempotencyKey", key}, {"maxAttempts", 1000}});
    for (int attempt = 0; attempt < 200 && !ctx.stop_producers->load(); ++attempt) {
      const Phase phase = static_cast<Phase>(ctx.phase->load());
      auto r = client.Request("POST", "/v1/codeq/tasks", Auth(ctx.producer), body);
      ctx.ledger->Note(phase, static_cast<Phase>(ctx.phase->load()), r, "create " + key);
      {
        std::lock_guard lock(ctx.ledger->mu);
        ctx.ledger->create_results.emplace_back(Clock::now(), r.status);
      }
      if (r.status == 202 || r.status == 200) {
        const std::string id = JsonString(r.Json(), "id");
        std::lock_guard lock(ctx.ledger->mu);
        auto [it, fresh] = ctx.ledger->acked.emplace(key, id);
        if (!fresh || id.empty()) ctx.ledger->unexpected.push_back("key " + key + " acknowledged twice: " + r.Describe());
        break;
      }
      if (r.status != 503 && r.status != 0) {
        std::lock_guard lock(ctx.ledger->mu);
        ctx.ledger->unexpected.push_back("create " + key + " -> " + r.Describe());
        break;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    std::this_thread::sleep_for(milliseconds(10));  // a steady load the workers can keep up with
  }
}

// Claims (no long poll, so every answer is bounded by the store timeout) and completes.
void WorkerLoop(const LoadContext& ctx) {
  HttpClient client("127.0.0.1", ctx.port, false, std::chrono::seconds(10));
  const std::string claim =
      json::serialize(json::object{{"commands", json::array{json::value(ctx.command)}}, {"leaseSeconds", 3}});
  const std::string done = json::serialize(json::object{{"status", "COMPLETED"}, {"result", json::object{}}});
  while (!ctx.stop_workers->load()) {
    Phase phase = static_cast<Phase>(ctx.phase->load());
    auto c = client.Request("POST", "/v1/codeq/tasks/claim", Auth(ctx.worker), claim);
    ctx.ledger->Note(phase, static_cast<Phase>(ctx.phase->load()), c, "claim");
    if (c.status != 200) {
      if (c.status != 204 && c.status != 503) {
        std::lock_guard lock(ctx.ledger->mu);
        ctx.ledger->unexpected.push_back("claim -> " + c.Describe());
      }
      std::this_thread::sleep_for(milliseconds(c.status == 204 ? 50 : 100));
      continue;
    }
    const std::string id = JsonString(c.Json(), "id");
    phase = static_cast<Phase>(ctx.phase->load());
    auto r = client.Request("POST", "/v1/codeq/tasks/" + id + "/result", Auth(ctx.worker), done);
    ctx.ledger->Note(phase, static_cast<Phase>(ctx.phase->load()), r, "result " + id);
    std::lock_guard lock(ctx.ledger->mu);
    if (r.status == 200) {
      ctx.ledger->completed.insert(id);
    } else if (r.status != 503 && r.status != 409) {
      // 503: the lease runs out and the task is claimed again; 409: that already happened.
      ctx.ledger->unexpected.push_back("result " + id + " -> " + r.Describe());
    }
  }
}

TEST_F(Faults, RedisFrozenKilledAndStoppedUnderLoadLosesNothing) {
  if (EmbeddedBackend()) GTEST_SKIP() << "stops the Redis backend (the embedded store: tests/crash)";
  const auto test_start = Clock::now();
  const std::string cmd = Cmd();
  std::atomic<bool> stop_producers{false}, stop_workers{false};
  std::atomic<int> phase{kHealthy};
  Ledger ledger;
  LoadContext ctx{codeq().port(), Producer(), Worker(), cmd, &stop_producers, &stop_workers, &phase, &ledger};
  std::vector<std::thread> threads;
  for (int i = 0; i < kProducers; ++i) threads.emplace_back(ProducerLoop, std::cref(ctx), i);
  for (int i = 0; i < kWorkers; ++i) threads.emplace_back(WorkerLoop, std::cref(ctx));

  // Each outage: take the store away for `down`, bring it back, and measure how long until a
  // create is acknowledged again.
  std::vector<std::pair<std::string, int64_t>> recoveries;
  auto outage = [&](Phase p, auto take_away, auto bring_back, milliseconds down) {
    std::this_thread::sleep_for(milliseconds(2000));
    phase = p;
    take_away();
    std::this_thread::sleep_for(down);
    bring_back();
    const auto back = Clock::now();
    phase = kHealthy;
    int64_t took = -1;
    while (took < 0 && Clock::now() - back < milliseconds(10000)) {
      std::this_thread::sleep_for(milliseconds(50));
      std::lock_guard lock(ledger.mu);
      for (auto it = ledger.create_results.rbegin(); it != ledger.create_results.rend() && it->first > back; ++it) {
        if (it->second == 202) took = std::chrono::duration_cast<milliseconds>(it->first - back).count();
      }
    }
    recoveries.emplace_back(kPhaseNames[p], took);
  };
  outage(kFrozen, [&] { ASSERT_TRUE(redis().Pause()); }, [&] { ASSERT_TRUE(redis().Resume()); }, milliseconds(3000));
  outage(kKilled, [&] { redis().Kill(); }, [&] { ASSERT_TRUE(redis().Start()) << redis().Log(); }, milliseconds(3000));
  outage(kStopped, [&] { redis().Stop(); }, [&] { ASSERT_TRUE(redis().Start()) << redis().Log(); }, milliseconds(2000));
  std::this_thread::sleep_for(milliseconds(2000));
  stop_producers = true;

  // Drain: workers run until nothing is ready, delayed or in progress (leases are 3 s).
  const auto drain_start = Clock::now();
  json::value stats;
  while (Clock::now() - drain_start < milliseconds(20000)) {
    std::this_thread::sleep_for(milliseconds(500));
    auto s = Get("/v1/codeq/admin/queues/" + cmd, Admin());
    stats = s.Json();
    if (s.status == 200 && JsonInt(stats, "ready") == 0 && JsonInt(stats, "delayed") == 0 &&
        JsonInt(stats, "inProgress") == 0) {
      break;
    }
  }
  stop_workers = true;
  for (auto& t : threads) t.join();

  std::lock_guard lock(ledger.mu);
  for (int p = 0; p < kPhases; ++p) {
    std::printf("[faults] %-18s %5lld requests, %4lld answered 503, slowest answer %lld ms\n", kPhaseNames[p],
                static_cast<long long>(ledger.count[p]), static_cast<long long>(ledger.unavailable[p]),
                static_cast<long long>(ledger.max_ms[p]));
  }
  for (const auto& [what, ms] : recoveries) {
    std::printf("[faults] first acknowledged create %lld ms after the end of %s\n", static_cast<long long>(ms),
                what.c_str());
    EXPECT_GE(ms, 0) << "no recovery after " << what;
    EXPECT_LE(ms, 5000) << "slow recovery after " << what;
  }
  for (int p = kFrozen; p < kPhases; ++p) {
    EXPECT_GT(ledger.unavailable[p], 0) << "no 503 seen while " << kPhaseNames[p];
    EXPECT_LE(ledger.max_ms[p], kMaxAnswerMs) << kPhaseNames[p];
  }
  EXPECT_TRUE(ledger.unexpected.empty()) << ledger.unexpected.size() << " unexpected answers, first: "
                                         << (ledger.unexpected.empty() ? "" : ledger.unexpected.front());
  EXPECT_EQ(JsonInt(stats, "ready"), 0) << json::serialize(stats);
  EXPECT_EQ(JsonInt(stats, "delayed"), 0) << json::serialize(stats);
  EXPECT_EQ(JsonInt(stats, "inProgress"), 0) << "left IN_PROGRESS past its lease: " << json::serialize(stats);
  EXPECT_EQ(JsonInt(stats, "dlq"), 0) << json::serialize(stats);

  // Conservation: every acknowledged key is one distinct task, present and COMPLETED.
  ASSERT_GT(ledger.acked.size(), 0u);
  std::set<std::string> ids;
  int missing = 0, not_completed = 0;
  auto client = codeq().NewClient(true);
  for (const auto& [key, id] : ledger.acked) {
    EXPECT_TRUE(ids.insert(id).second) << "two keys share task " << id;
    auto r = client->Request("GET", TaskPath(id), Auth(Producer()));
    if (r.status != 200) {
      if (++missing <= 5) ADD_FAILURE() << "acknowledged task " << id << " (" << key << ") lost: " << r.Describe();
      continue;
    }
    auto payload = test::ParseJson(JsonString(r.Json(), "payload"));
    EXPECT_EQ(payload ? JsonString(*payload, "m") : "", key) << r.body;
    if (JsonString(r.Json(), "status") != "COMPLETED" && ++not_completed <= 5) {
      ADD_FAILURE() << "task " << id << " did not complete: " << r.body;
    }
  }
  EXPECT_EQ(missing, 0) << "acknowledged tasks lost";
  EXPECT_EQ(not_completed, 0);
  std::printf("[faults] %zu acknowledged creates, all present once and COMPLETED: %s; %zu results acknowledged; "
              "total %lld ms\n",
              ledger.acked.size(), missing == 0 && not_completed == 0 ? "yes" : "NO", ledger.completed.size(),
              static_cast<long long>(MsSince(test_start)));
}

}  // namespace
}  // namespace codeq::it
