#include "contract_fixture.h"

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "domain/clock.h"
#include "domain/time_format.h"

namespace codeq::contract {

std::string NewId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

Now RealNow() {
  Now n;
  n.ms = SystemClock().NowMs();
  n.text = FormatTimestamp(n.ms);
  return n;
}

Now NowPlus(int64_t seconds) {
  Now n = RealNow();
  n.ms += seconds * 1000;
  n.text = FormatTimestamp(n.ms);
  return n;
}

void SleepToStartOfNextSecond() {
  const int64_t ms = SystemClock().NowMs();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000 - ms % 1000 + 5));
}

void StoreContract::SetUp() {
  backend_ = GetParam().make();
  ASSERT_NE(backend_, nullptr) << "backend " << GetParam().name << " did not start";
}

void StoreContract::TearDown() { backend_.reset(); }

Task StoreContract::MakeTask(const std::string& command, const std::string& tenant, int priority,
                             int max_attempts) {
  Now now = RealNow();
  Task t;
  t.id = NewId();
  t.command = command;
  t.payload = R"({"n":1})";
  t.priority = priority;
  t.status = std::string(kPending);
  t.max_attempts = max_attempts;
  t.tenant_id = tenant;
  t.created_at = now.text;
  t.updated_at = now.text;
  return t;
}

Task StoreContract::Create(const std::string& command, const std::string& tenant, int priority,
                           int max_attempts, int64_t delay_seconds) {
  CreateTaskInput in;
  in.task = MakeTask(command, tenant, priority, max_attempts);
  in.now = RealNow();
  in.visible_at_sec = in.now.seconds() + delay_seconds;
  auto r = Await(store().CreateTask(in));
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return in.task;
  EXPECT_FALSE(r->replayed);
  return r->task;
}

Result<std::optional<Task>> StoreContract::Claim(const std::string& worker, const std::string& tenant,
                                                 std::vector<std::string> commands,
                                                 int64_t lease_seconds) {
  ClaimInput in;
  in.worker_id = worker;
  in.tenant = tenant;
  in.commands = std::move(commands);
  in.lease_seconds = lease_seconds;
  in.now = RealNow();
  return Await(store().ClaimTask(in));
}

Task StoreContract::ClaimOne(const std::string& worker, const std::string& tenant,
                             std::vector<std::string> commands, int64_t lease_seconds) {
  auto r = Claim(worker, tenant, std::move(commands), lease_seconds);
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return Task{};
  EXPECT_TRUE(r->has_value()) << "nothing claimable";
  if (!r->has_value()) return Task{};
  return **r;
}

Result<RepairOutcome> StoreContract::Repair(const std::string& tenant, std::vector<std::string> commands,
                                            int64_t backoff_seconds, int max_attempts_default) {
  RepairInput in;
  in.tenant = tenant;
  in.commands = std::move(commands);
  in.max_attempts_default = max_attempts_default;
  in.backoff = [backoff_seconds](int) { return backoff_seconds; };
  in.now = RealNow();
  return Await(store().RepairExpired(in));
}

Result<NackOutcome> StoreContract::Nack(const std::string& tenant, const std::string& id,
                                        const std::string& worker, int64_t delay_seconds,
                                        std::string reason) {
  NackInput in;
  in.tenant = tenant;
  in.task_id = id;
  in.worker_id = worker;
  in.delay_seconds = delay_seconds;
  in.max_delay_seconds = 900;
  in.backoff = [](int) { return int64_t{0}; };
  in.reason = std::move(reason);
  in.now = RealNow();
  return Await(store().Nack(in));
}

SubmitResultInput StoreContract::ResultFor(const std::string& tenant, const std::string& id,
                                           const std::string& worker, const std::string& status,
                                           const std::string& error) {
  SubmitResultInput in;
  in.tenant = tenant;
  in.task_id = id;
  in.worker_id = worker;
  in.now = RealNow();
  in.result.task_id = id;
  in.result.status = status;
  if (status == "COMPLETED") in.result.result = boost::json::object{{"ok", true}};
  in.result.error = error;
  in.result.completed_at = in.now.text;
  return in;
}

Result<Task> StoreContract::Complete(const std::string& tenant, const std::string& id,
                                     const std::string& worker, const std::string& status,
                                     const std::string& error) {
  return Await(store().SubmitResult(ResultFor(tenant, id, worker, status, error)));
}

CreateOutcome StoreContract::CreateWith(const std::string& command, const std::string& tenant,
                                        int64_t delay_seconds, const std::string& webhook,
                                        const std::string& idempotency_key, int max_attempts) {
  CreateTaskInput in;
  in.task = MakeTask(command, tenant, 0, max_attempts);
  in.task.webhook = webhook;
  in.idempotency_key = idempotency_key;
  in.now = RealNow();
  in.visible_at_sec = in.now.seconds() + delay_seconds;
  auto r = Await(store().CreateTask(in));
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return CreateOutcome{in.task};
  return *r;
}

Task StoreContract::ClaimedWithWebhook(const std::string& command, const std::string& tenant,
                                       int max_attempts, int64_t lease_seconds) {
  CreateWith(command, tenant, 0, kTestWebhook, "", max_attempts);
  return ClaimOne("w", tenant, {command}, lease_seconds);
}

std::vector<OutboxEntry> StoreContract::ClaimCallbacks(int64_t now_ms, int64_t lease_ms, int limit) {
  auto r = Await(store().ClaimDueCallbacks(now_ms, lease_ms, limit));
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return {};
  return *r;
}

Subscription StoreContract::MakeSubscription(std::vector<std::string> event_types, int64_t expires_at_sec,
                                             const std::string& tenant) {
  Subscription s;
  s.id = NewId();
  s.callback_url = "https://worker.example/ready";
  s.event_types = std::move(event_types);
  s.min_interval_seconds = 5;
  s.expires_at_sec = expires_at_sec;
  s.expires_at = FormatTimestamp(expires_at_sec * 1000);
  s.created_at = RealNow().text;
  s.tenant_id = tenant;
  return s;
}

void StoreContract::CreateSubscription(const Subscription& s) {
  auto r = Await(store().CreateSubscription(s));
  EXPECT_TRUE(r.ok()) << r.status().message();
}

std::vector<std::string> StoreContract::ActiveIds(const std::string& command, int64_t now_sec, int limit) {
  auto r = Await(store().ActiveSubscriptions(command, now_sec, limit));
  EXPECT_TRUE(r.ok()) << r.status().message();
  std::vector<std::string> ids;
  if (r.ok()) {
    for (const auto& s : *r) ids.push_back(s.id);
  }
  return ids;
}

}  // namespace codeq::contract
