// Redis-only behaviour: exact keyspace (SPEC §4.1, D5, D6), what the scripts write, NOSCRIPT
// recovery, outages and restarts, AUTH/SELECT, and repairs of states only raw data can produce.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "contract_fixture.h"
#include "domain/keys.h"
#include "redis_backend.h"
#include "store/redis/lua_scripts.h"
#include "store/redis/redis_connection.h"
#include <hiredis/hiredis.h>
#include "support/free_port.h"

namespace codeq::contract {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class RedisStoreTest : public RedisStoreFixture {
 protected:
  Task NewTask(const std::string& command, const std::string& tenant = "", int priority = 0,
               int max_attempts = 5) {
    Task t;
    t.id = NewId();
    t.command = command;
    t.payload = R"({"path":"a/b","n":12345678901234})";
    t.priority = priority;
    t.status = "PENDING";
    t.max_attempts = max_attempts;
    t.tenant_id = tenant;
    Now now = RealNow();
    t.created_at = now.text;
    t.updated_at = now.text;
    return t;
  }

  Task Create(const std::string& command, const std::string& tenant = "", int priority = 0,
              int64_t delay = 0, const std::string& idem = "") {
    CreateTaskInput in;
    in.task = NewTask(command, tenant, priority);
    in.now = RealNow();
    in.visible_at_sec = in.now.seconds() + delay;
    in.idempotency_key = idem;
    auto r = Await(store_->CreateTask(in));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return in.task;
  }

  std::optional<Task> Claim(const std::string& worker, const std::string& tenant,
                            std::vector<std::string> cmds, int64_t lease = 30) {
    ClaimInput in;
    in.worker_id = worker;
    in.tenant = tenant;
    in.commands = std::move(cmds);
    in.lease_seconds = lease;
    in.now = RealNow();
    auto r = Await(store_->ClaimTask(in));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::nullopt;
  }

};

// Commands are formatted by FormatCommand, not by hiredis: the bytes must be hiredis' own, for
// empty, binary (CR, LF, NUL, '$', '*') and large arguments and for long argument lists.
TEST(RedisFormatCommand, MatchesHiredis) {
  std::string binary;
  for (int c = 0; c < 256; ++c) binary += static_cast<char>(c);
  std::vector<redis::Argv> cases = {
      {"PING"},
      {"SET", "k", ""},
      {"EVALSHA", "0123456789abcdef0123456789abcdef01234567", "2", "codeq:a", "codeq:b", binary, "\r\n$3\r\n*1"},
      {"SET", "big", std::string(1 << 20, 'x')},
  };
  redis::Argv many = {"RPUSH", "list"};
  for (int i = 0; i < 1500; ++i) many.push_back(std::to_string(i * 7919));
  cases.push_back(many);
  for (const redis::Argv& argv : cases) {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const std::string& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    char* expected = nullptr;
    const int n = redisFormatCommandArgv(&expected, static_cast<int>(argv.size()), ptrs.data(), lens.data());
    ASSERT_GT(n, 0);
    const std::string want(expected, static_cast<size_t>(n));
    free(expected);
    EXPECT_EQ(redis::FormatCommand(argv), want) << argv[0] << " with " << argv.size() << " arguments";
  }
}

TEST_F(RedisStoreTest, KeyspaceMatchesSpec) {
  const int64_t now = RealNow().seconds();
  Task t = Create("Render", "acme", 3, 0, "idem-1");
  EXPECT_EQ(keys::Pending("Render", "acme", 3), "codeq:q:render:acme:pending:3");
  EXPECT_EQ(Call({"LRANGE", "codeq:q:render:acme:pending:3", "0", "-1"}).elements.size(), 1u);
  EXPECT_EQ(Call({"HEXISTS", "codeq:tasks", t.id}).integer, 1);
  EXPECT_NEAR(std::stod(Call({"ZSCORE", "codeq:tasks:ttl", t.id}).str), now + 86400, 2);
  EXPECT_EQ(Call({"SISMEMBER", "codeq:commands", "acme|Render"}).integer, 1);
  EXPECT_EQ(Call({"GET", "codeq:idempo:acme:idem-1"}).str, t.id);
  EXPECT_NEAR(Call({"TTL", "codeq:idempo:acme:idem-1"}).integer, 86400, 2);

  Task u = Create("plain", "", 0, 0, "idem-2");
  EXPECT_EQ(Call({"LLEN", "codeq:q:plain:pending:0"}).integer, 1);
  EXPECT_EQ(Call({"GET", "codeq:idempo:idem-2"}).str, u.id);
  EXPECT_EQ(Call({"SISMEMBER", "codeq:commands", "|plain"}).integer, 1);

  Task d = Create("Later", "acme", 0, 3600);
  EXPECT_NEAR(std::stod(Call({"ZSCORE", "codeq:q:later:acme:delayed", d.id}).str), now + 3600, 2);
  EXPECT_NEAR(std::stod(Call({"ZSCORE", "codeq:tasks:ttl", d.id}).str), now + 3600 + 86400, 2);

  auto c = Claim("w1", "acme", {"render"}, 90);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(Call({"LLEN", "codeq:q:render:acme:pending:3"}).integer, 0);
  EXPECT_EQ(Call({"SISMEMBER", "codeq:q:render:acme:inprog", t.id}).integer, 1);
  EXPECT_EQ(Call({"TYPE", "codeq:q:render:acme:inprog"}).str, "set");
  EXPECT_EQ(Call({"GET", "codeq:lease:" + t.id}).str, "w1");
  EXPECT_NEAR(Call({"TTL", "codeq:lease:" + t.id}).integer, 90, 2);

  NackInput nk;
  nk.tenant = "acme";
  nk.task_id = t.id;
  nk.worker_id = "w1";
  nk.max_attempts_default = 1;
  nk.reason = "bad input";
  nk.now = RealNow();
  // maxAttempts 5 on the task: requeue into the delayed set with the explicit delay.
  nk.delay_seconds = 100;
  ASSERT_TRUE(Await(store_->Nack(nk)).ok());
  EXPECT_NEAR(std::stod(Call({"ZSCORE", "codeq:q:render:acme:delayed", t.id}).str), now + 100, 2);
  EXPECT_EQ(Call({"EXISTS", "codeq:lease:" + t.id}).integer, 0);
  EXPECT_EQ(Call({"SCARD", "codeq:q:render:acme:inprog"}).integer, 0);
}

TEST_F(RedisStoreTest, DeadLetterAndResultKeys) {
  CreateTaskInput in;
  in.task = NewTask("Dl", "acme", 0, 1);
  in.now = RealNow();
  in.visible_at_sec = in.now.seconds();
  ASSERT_TRUE(Await(store_->CreateTask(in)).ok());
  ASSERT_TRUE(Claim("w1", "acme", {"dl"}).has_value());
  NackInput nk;
  nk.tenant = "acme";
  nk.task_id = in.task.id;
  nk.worker_id = "w1";
  nk.now = RealNow();
  auto r = Await(store_->Nack(nk));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->dead_lettered);
  EXPECT_EQ(Call({"LRANGE", "codeq:q:dl:acme:dlq", "0", "-1"}).elements.at(0).str, in.task.id);
  auto result = boost::json::parse(Call({"HGET", "codeq:results", in.task.id}).str).as_object();
  EXPECT_EQ(result.at("status"), "FAILED");
  EXPECT_EQ(result.at("error"), "MAX_ATTEMPTS");
  EXPECT_EQ(result.at("taskId").as_string(), in.task.id);
  auto task = boost::json::parse(Call({"HGET", "codeq:tasks", in.task.id}).str).as_object();
  EXPECT_EQ(task.at("resultKey"), "codeq:results");
  EXPECT_FALSE(task.contains("workerId"));
  EXPECT_FALSE(task.contains("leaseUntil"));
}

TEST_F(RedisStoreTest, ScriptsWriteOmitEmptyJsonThatTheCodecReads) {
  Task t = Create("json", "", 0);
  auto c = Claim("w1", "", {"json"});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->payload, t.payload);  // payload text survives cjson's re-encoding exactly
  TaskRef ab{"", t.id, "w1", RealNow()};
  ASSERT_TRUE(Await(store_->Abandon(ab)).ok());
  std::string raw = Call({"HGET", "codeq:tasks", t.id}).str;
  auto obj = boost::json::parse(raw).as_object();
  EXPECT_FALSE(obj.contains("workerId")) << raw;
  EXPECT_FALSE(obj.contains("leaseUntil")) << raw;
  EXPECT_FALSE(obj.contains("error")) << raw;
  EXPECT_FALSE(obj.contains("priority")) << raw;  // 0 is omitted
  EXPECT_FALSE(obj.contains("tenantId")) << raw;
  EXPECT_EQ(obj.at("attempts").as_int64(), 1);
  EXPECT_EQ(obj.at("maxAttempts").as_int64(), 5);
  auto parsed = TaskFromJsonText(raw);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->payload, t.payload);
  EXPECT_EQ(parsed->status, "PENDING");
}

// Each script carries only the prelude helpers it uses (lua_scripts.cpp, ScriptSource): a helper a
// script calls but does not define would fail at run time, in Redis, on that path only. Checked
// for every script and every helper: used (as a whole name, outside comments) => defined before
// its first use; and a few that must be left out are.
TEST(RedisScripts, EachScriptDefinesEveryHelperItUsesAndTheHotOnesLeaveOutTheRest) {
  const std::vector<std::string> helpers = {
      "TASKS",       "TTL",         "RESULTS",     "RETENTION",   "qprefix",       "clamp_priority",
      "TIER_SUFFIX", "tier_key",    "pending_key", "tier_keys",   "inprog_key",    "delayed_key",
      "dlq_key",     "lease_key",   "str",         "num",         "load_task",     "save_task",
      "ready_depth", "ready_tiers", "promote_due", "OUTBOX",      "OUTBOX_DATA",   "outbox_add",
      "SUBS",        "subs_key",    "subs_last_key", "check_owned", "nack_apply"};
  auto strip_comments = [](std::string_view src) {
    std::string out;
    for (size_t at = 0; at < src.size();) {
      size_t end = src.find('\n', at);
      if (end == std::string_view::npos) end = src.size();
      std::string_view line = src.substr(at, end - at);
      out += line.substr(0, line.find("--"));
      out += '\n';
      at = end + 1;
    }
    return out;
  };
  std::map<std::string, std::set<std::string>> defined_by_script;
  for (size_t i = 0; i < static_cast<size_t>(redis::ScriptId::kCount); ++i) {
    const auto id = static_cast<redis::ScriptId>(i);
    const std::string name(redis::ScriptName(id));
    const std::string code = strip_comments(redis::ScriptSource(id));
    for (const auto& h : helpers) {
      const std::regex word("(^|[^A-Za-z0-9_])" + h + "([^A-Za-z0-9_]|$)");
      const std::regex definition("local (function )?" + h + "[ (]");
      std::smatch use, def;
      const bool used = std::regex_search(code, use, word);
      const bool has_def = std::regex_search(code, def, definition);
      if (has_def) defined_by_script[name].insert(h);
      if (!used) continue;
      ASSERT_TRUE(has_def) << name << " uses " << h << " without defining it";
      EXPECT_LE(def.position(0), use.position(0)) << name << " uses " << h << " before defining it";
    }
  }
  // Left out where unused: the hot scripts carry none of the nack, outbox or subscription helpers.
  for (const char* hot : {"create", "claim", "submit_result"}) {
    for (const char* unused : {"nack_apply", "check_owned", "SUBS", "subs_key", "ready_depth"}) {
      EXPECT_EQ(defined_by_script[hot].count(unused), 0u) << hot << " defines " << unused;
    }
  }
  EXPECT_EQ(defined_by_script["create"].count("load_task"), 0u);
  EXPECT_EQ(defined_by_script["claim"].count("promote_due"), 1u);
  EXPECT_EQ(defined_by_script["nack"].count("outbox_add"), 1u);  // through nack_apply
  EXPECT_EQ(defined_by_script["outbox_finish"].size(), 2u);       // OUTBOX and OUTBOX_DATA
}

TEST_F(RedisStoreTest, ScriptFlushIsRecoveredTransparently) {
  Create("sf");
  ASSERT_EQ(Call({"SCRIPT", "FLUSH"}).str, "OK");
  auto c = Claim("w1", "", {"sf"});
  ASSERT_TRUE(c.has_value());
  Call({"SCRIPT", "FLUSH"});
  HeartbeatInput hb{"", c->id, "w1", 60, RealNow()};
  EXPECT_TRUE(Await(store_->Heartbeat(hb)).ok());
  Call({"SCRIPT", "FLUSH"});
  SubmitResultInput res;
  res.task_id = c->id;
  res.worker_id = "w1";
  res.result.task_id = c->id;
  res.result.status = "COMPLETED";
  res.result.result = boost::json::object{{"x", 1}};
  res.now = RealNow();
  res.result.completed_at = res.now.text;
  EXPECT_TRUE(Await(store_->SubmitResult(res)).ok());
  Call({"SCRIPT", "FLUSH"});
  Create("sf");  // create after a flush as well
}

TEST_F(RedisStoreTest, ScriptRunAfterAFlushIsCachedAgainUnderTheSameSha) {
  // After NOSCRIPT the store runs the script by its source (EVAL, which cannot answer NOSCRIPT,
  // however often the cache is flushed); the server then holds it again under the SHA1 the store
  // keeps using, so the calls after it are EVALSHA hits again.
  const std::string sha =
      Call({"SCRIPT", "LOAD", std::string(redis::ScriptSource(redis::ScriptId::kCreate))}).str;
  ASSERT_EQ(sha.size(), 40u);
  Create("sf2");  // the store has loaded and cached the script
  ASSERT_EQ(Call({"SCRIPT", "FLUSH"}).str, "OK");
  ASSERT_EQ(Call({"SCRIPT", "EXISTS", sha}).elements.at(0).integer, 0);
  Create("sf2");
  EXPECT_EQ(Call({"SCRIPT", "EXISTS", sha}).elements.at(0).integer, 1);
  Create("sf2");
  EXPECT_EQ(Call({"LLEN", keys::Pending("sf2", "", 0)}).integer, 3);
}

// --- batch scripts (kCreateBatch, kSubmitResultBatch) ---

class RedisBatchTest : public RedisStoreTest {
 protected:
  /// Create inputs for `n` immediately visible tasks of `command`, each with `payload` when given.
  std::vector<CreateTaskInput> CreateInputs(const std::string& command, int n, const std::string& payload = "") {
    std::vector<CreateTaskInput> inputs(n);
    for (auto& in : inputs) {
      in.task = NewTask(command);
      if (!payload.empty()) in.task.payload = payload;
      in.now = RealNow();
      in.visible_at_sec = in.now.seconds();
    }
    return inputs;
  }
  /// Creates the inputs with CreateTasks; fails the test unless every one is created.
  void CreateAll(const std::vector<CreateTaskInput>& inputs) {
    auto outs = Await(store_->CreateTasks(inputs));
    ASSERT_EQ(outs.size(), inputs.size());
    for (const auto& o : outs) ASSERT_TRUE(o.ok()) << o.status().message();
  }
  /// COMPLETED results by worker "w" for `n` tasks of `command`, claimed here.
  std::vector<SubmitResultInput> ClaimForResults(const std::string& command, int n) {
    std::vector<SubmitResultInput> results;
    for (int i = 0; i < n; ++i) {
      auto t = Claim("w", "", {command});
      EXPECT_TRUE(t.has_value());
      if (!t) break;
      SubmitResultInput res;
      res.task_id = t->id;
      res.worker_id = "w";
      res.result.status = "COMPLETED";
      res.now = RealNow();
      results.push_back(res);
    }
    return results;
  }
  /// Expects the outcomes of three inputs: the first and last ok, the middle one Internal with a
  /// message naming `error`.
  template <typename T>
  static void ExpectOnlyMiddleFailed(const std::vector<Result<T>>& outs, const std::string& error) {
    ASSERT_EQ(outs.size(), 3u);
    ASSERT_TRUE(outs[0].ok()) << outs[0].status().message();
    ASSERT_TRUE(outs[2].ok()) << outs[2].status().message();
    EXPECT_EQ(outs[1].status().code(), StatusCode::kInternal);
    EXPECT_NE(outs[1].status().message().find(error), std::string::npos) << outs[1].status().message();
  }
  /// Calls of EVALSHA since the last CONFIG RESETSTAT.
  int64_t EvalshaCalls() {
    const std::string info = Call({"INFO", "commandstats"}).str;
    const auto at = info.find("cmdstat_evalsha:calls=");
    return at == std::string::npos ? 0 : std::stoll(info.substr(at + 22));
  }
};

TEST_F(RedisBatchTest, InputThatRaisesAnErrorAnswersOnlyThatInput) {
  // The idempotency key of the middle create names a hash, so its GET raises WRONGTYPE inside the
  // batch script: that input gets the error and nothing of it is written; its neighbours are
  // created as usual.
  auto inputs = CreateInputs("bad-item", 3);
  inputs[1].idempotency_key = "clash";
  ASSERT_EQ(Call({"HSET", keys::Idempotency("", "clash"), "f", "v"}).integer, 1);
  ExpectOnlyMiddleFailed(Await(store_->CreateTasks(inputs)), "WRONGTYPE");
  EXPECT_EQ(Call({"HEXISTS", "codeq:tasks", inputs[1].task.id}).integer, 0);
  EXPECT_EQ(Call({"LLEN", keys::Pending("bad-item", "", 0)}).integer, 2);
  EXPECT_EQ(Claim("w", "", {"bad-item"})->id, inputs[0].task.id);
  EXPECT_EQ(Claim("w", "", {"bad-item"})->id, inputs[2].task.id);

  // The same for a result: the in-progress set of the middle task's command is made a string,
  // so its SREM raises WRONGTYPE; the results before and after it are stored.
  CreateAll(CreateInputs("ok-cmd", 1));
  CreateAll(CreateInputs("broken-cmd", 1));
  CreateAll(CreateInputs("ok-cmd", 1));
  std::vector<SubmitResultInput> results = ClaimForResults("ok-cmd", 1);
  auto broken = ClaimForResults("broken-cmd", 1);
  auto last = ClaimForResults("ok-cmd", 1);
  ASSERT_EQ(results.size() + broken.size() + last.size(), 3u);
  results.push_back(broken[0]);
  results.push_back(last[0]);
  Call({"DEL", keys::InProgress("broken-cmd", "")});
  Call({"SET", keys::InProgress("broken-cmd", ""), "x"});
  ExpectOnlyMiddleFailed(Await(store_->SubmitResults(results)), "WRONGTYPE");
}

TEST_F(RedisBatchTest, ScriptsAreRunBySourceAfterAFlushAndCachedAgain) {
  // Both batch scripts are cached (a first round), then flushed: the next round gets NOSCRIPT for
  // each, runs it by EVAL, and each script is cached again under the SHA1 the store keeps using.
  std::vector<std::string> shas;
  for (auto id : {redis::ScriptId::kCreateBatch, redis::ScriptId::kSubmitResultBatch}) {
    shas.push_back(Call({"SCRIPT", "LOAD", std::string(redis::ScriptSource(id))}).str);
    ASSERT_EQ(shas.back().size(), 40u);
  }
  auto round = [&] {
    CreateAll(CreateInputs("batch-flush", 2));
    auto done = Await(store_->SubmitResults(ClaimForResults("batch-flush", 2)));
    ASSERT_EQ(done.size(), 2u);
    for (const auto& d : done) {
      ASSERT_TRUE(d.ok()) << d.status().message();
      EXPECT_EQ(d->status, "COMPLETED");
    }
  };
  round();
  ASSERT_EQ(Call({"SCRIPT", "FLUSH"}).str, "OK");
  for (const auto& sha : shas) ASSERT_EQ(Call({"SCRIPT", "EXISTS", sha}).elements.at(0).integer, 0);
  round();
  for (const auto& sha : shas) EXPECT_EQ(Call({"SCRIPT", "EXISTS", sha}).elements.at(0).integer, 1);
  EXPECT_EQ(Call({"HLEN", "codeq:results"}).integer, 4);
}

TEST_F(RedisBatchTest, LargeTasksSplitIntoCallsOfBoundedSize) {
  // Five tasks of ~700 kB each: creates are cut at 2 MiB of arguments, results at 2 MiB of
  // replies (each reply carries the task), so each batch takes two calls, and all five apply.
  const std::string payload = "\"" + std::string(700000, 'p') + "\"";
  auto inputs = CreateInputs("large", 5, payload);
  ASSERT_EQ(Call({"CONFIG", "RESETSTAT"}).str, "OK");
  CreateAll(inputs);
  EXPECT_EQ(EvalshaCalls(), 2);
  auto results = ClaimForResults("large", 5);
  ASSERT_EQ(results.size(), 5u);
  ASSERT_EQ(Call({"CONFIG", "RESETSTAT"}).str, "OK");
  auto done = Await(store_->SubmitResults(results));
  EXPECT_EQ(EvalshaCalls(), 2);
  ASSERT_EQ(done.size(), 5u);
  for (size_t i = 0; i < done.size(); ++i) {
    ASSERT_TRUE(done[i].ok()) << i << ": " << done[i].status().message();
    EXPECT_EQ(done[i]->id, results[i].task_id);
    EXPECT_EQ(done[i]->status, "COMPLETED");
    EXPECT_EQ(done[i]->payload.size(), payload.size());
  }
}

TEST_F(RedisStoreTest, ConcurrentCallsShareThePipelineAndEachGetsItsOwnReply) {
  // Creates, claims and results of 8 threads go through one pipeline thread: every caller must
  // get the reply of its own script, also when a SCRIPT FLUSH lands between pipelines.
  constexpr int kThreads = 8, kPerThread = 25;
  std::mutex mu;
  std::set<std::string> created, claimed;
  auto parallel = [](const std::function<void(int)>& body) {
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t) ts.emplace_back(body, t);
    for (auto& t : ts) t.join();
  };
  parallel([&](int t) {
    for (int i = 0; i < kPerThread; ++i) {
      Task task = Create("pipe", "", /*priority=*/t % 10);
      std::lock_guard lock(mu);
      created.insert(task.id);
    }
  });
  std::thread flusher([&] {
    for (int i = 0; i < 5; ++i) {
      server().Call({"SCRIPT", "FLUSH"});
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  parallel([&](int t) {
    const std::string worker = "w" + std::to_string(t);
    for (int i = 0; i < kPerThread; ++i) {
      auto c = Claim(worker, "", {"pipe"});
      ASSERT_TRUE(c.has_value());
      EXPECT_EQ(c->worker_id, worker);
      SubmitResultInput res;
      res.task_id = c->id;
      res.worker_id = worker;
      res.result.task_id = c->id;
      res.result.status = "COMPLETED";
      res.result.result = boost::json::object{{"by", worker}};
      res.now = RealNow();
      res.result.completed_at = res.now.text;
      auto done = Await(store_->SubmitResult(res));
      ASSERT_TRUE(done.ok()) << done.status().message();
      EXPECT_EQ(done->id, c->id);
      EXPECT_EQ(done->status, "COMPLETED");
      std::lock_guard lock(mu);
      EXPECT_TRUE(claimed.insert(c->id).second) << "claimed twice: " << c->id;
    }
  });
  flusher.join();
  EXPECT_EQ(created, claimed);
  EXPECT_FALSE(Claim("w", "", {"pipe"}).has_value());
}

TEST_F(RedisStoreTest, DuplicatePopKeepsLookingInTheSameTier) {  // D4
  Task a = Create("dup");
  Call({"LPUSH", "codeq:q:dup:pending:0", a.id});  // a stray duplicate entry
  Task b = Create("dup");
  // list (head..tail): b, a(dup), a
  EXPECT_EQ(Claim("w", "", {"dup"})->id, a.id);
  auto second = Claim("w", "", {"dup"});
  ASSERT_TRUE(second.has_value()) << "a duplicate made the tier look empty";
  EXPECT_EQ(second->id, b.id);
  EXPECT_EQ(Call({"LLEN", "codeq:q:dup:pending:0"}).integer, 0);
}

TEST_F(RedisStoreTest, ClaimSkipsIdsWhoseTaskIsMissing) {
  Call({"LPUSH", "codeq:q:ghost:pending:5", "no-such-task"});
  Task t = Create("ghost", "", 1);
  auto c = Claim("w", "", {"ghost"});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->id, t.id);
}

TEST_F(RedisStoreTest, RepairDropsStaleInProgressEntriesWithoutRequeueing) {  // D3
  Task t = Create("stale");
  auto c = Claim("w", "", {"stale"});
  ASSERT_TRUE(c.has_value());
  SubmitResultInput res;
  res.task_id = t.id;
  res.worker_id = "w";
  res.result.task_id = t.id;
  res.result.status = "COMPLETED";
  res.now = RealNow();
  ASSERT_TRUE(Await(store_->SubmitResult(res)).ok());
  // Simulate the RI bug: the finished task is still listed as in progress, without a lease.
  Call({"SADD", "codeq:q:stale:inprog", t.id, "missing-task-id"});

  RepairInput in;
  in.commands = {"stale"};
  in.backoff = [](int) { return int64_t{0}; };
  in.now = RealNow();
  auto r = Await(store_->RepairExpired(in));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->expired_commands.empty());
  EXPECT_EQ(Call({"SCARD", "codeq:q:stale:inprog"}).integer, 0);
  EXPECT_EQ(Call({"LLEN", "codeq:q:stale:pending:0"}).integer, 0);
  EXPECT_EQ(Call({"ZCARD", "codeq:q:stale:delayed"}).integer, 0);
  auto got = Await(store_->GetTask("", t.id));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, "COMPLETED");
}

TEST_F(RedisStoreTest, HeartbeatRecreatesAVanishedLease) {  // D10
  Create("hbl");
  auto c = Claim("w", "", {"hbl"}, 30);
  ASSERT_TRUE(c.has_value());
  Call({"DEL", "codeq:lease:" + c->id});
  HeartbeatInput hb{"", c->id, "w", 45, RealNow()};
  auto r = Await(store_->Heartbeat(hb));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Call({"GET", "codeq:lease:" + c->id}).str, "w");
  EXPECT_NEAR(Call({"TTL", "codeq:lease:" + c->id}).integer, 45, 2);
}

TEST_F(RedisStoreTest, ListCommandsRebuildsAMissingSet) {  // D5
  Create("Alpha", "acme");
  Create("beta", "acme", 0, 3600);
  Create("gamma", "");
  Call({"DEL", "codeq:commands"});
  auto r = Await(store_->ListCommands("acme"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, (std::vector<std::string>{"Alpha", "beta"}));
  EXPECT_EQ(Call({"SCARD", "codeq:commands"}).integer, 3);
}

TEST_F(RedisStoreTest, CleanupRemovesResultsAndLeases) {
  Task t = Create("clr");
  ASSERT_TRUE(Claim("w", "", {"clr"}).has_value());
  SubmitResultInput res;
  res.task_id = t.id;
  res.worker_id = "w";
  res.result.task_id = t.id;
  res.result.status = "FAILED";
  res.result.error = "x";
  res.now = RealNow();
  ASSERT_TRUE(Await(store_->SubmitResult(res)).ok());
  Call({"SET", "codeq:lease:" + t.id, "w"});  // a leftover lease
  CleanupInput in;
  in.before_sec = RealNow().seconds() + 2 * 86400;
  in.now = RealNow();
  auto n = Await(store_->Cleanup(in));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(Call({"HEXISTS", "codeq:results", t.id}).integer, 0);
  EXPECT_EQ(Call({"HEXISTS", "codeq:tasks", t.id}).integer, 0);
  EXPECT_EQ(Call({"EXISTS", "codeq:lease:" + t.id}).integer, 0);
  EXPECT_EQ(Call({"ZSCORE", "codeq:tasks:ttl", t.id}).nil, true);
}

// --- outages: each test owns its server, so stopping it does not disturb the others ----------

TEST(RedisStoreOutage, StoppedBackendIsUnavailableAndRecoversAfterRestart) {
  test::RedisServer server;
  ASSERT_TRUE(server.Start());
  auto store = RedisStore::Create(TestRedisOptions(server));
  CreateTaskInput in;
  in.task.id = NewId();
  in.task.command = "outage";
  in.task.payload = "1";
  in.task.status = "PENDING";
  in.now = RealNow();
  in.task.created_at = in.task.updated_at = in.now.text;
  in.visible_at_sec = in.now.seconds();
  ASSERT_TRUE(Await(store->CreateTask(in)).ok());

  server.Stop();
  auto start = steady_clock::now();
  auto down = Await(store->Ping());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(down.status().message(), "store unavailable");
  auto create = Await(store->CreateTask(in));
  EXPECT_EQ(create.status().code(), StatusCode::kUnavailable);
  ClaimInput claim;
  claim.worker_id = "w";
  claim.commands = {"outage"};
  claim.now = RealNow();
  EXPECT_EQ(Await(store->ClaimTask(claim)).status().code(), StatusCode::kUnavailable);
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(3));

  ASSERT_TRUE(server.Restart());  // same port, empty data set, no scripts loaded
  EXPECT_TRUE(Await(store->Ping()).ok());
  in.task.id = NewId();
  auto again = Await(store->CreateTask(in));
  ASSERT_TRUE(again.ok()) << again.status().message();
  claim.now = RealNow();
  auto claimed = Await(store->ClaimTask(claim));
  ASSERT_TRUE(claimed.ok()) << claimed.status().message();
  ASSERT_TRUE(claimed->has_value());
  EXPECT_EQ((*claimed)->id, in.task.id);
}

TEST(RedisStoreOutage, FrozenBackendTimesOut) {
  test::RedisServer server;
  ASSERT_TRUE(server.Start());
  RedisOptions o = TestRedisOptions(server);
  o.command_timeout_ms = 400;
  auto store = RedisStore::Create(o);
  ASSERT_TRUE(Await(store->Ping()).ok());

  ASSERT_TRUE(server.Pause());
  auto start = steady_clock::now();
  auto r = Await(store->Ping());
  auto elapsed = steady_clock::now() - start;
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_LT(elapsed, milliseconds(1500));
  EXPECT_GE(elapsed, milliseconds(300));
  ASSERT_TRUE(server.Resume());
  EXPECT_TRUE(Await(store->Ping()).ok());
  EXPECT_TRUE(Await(store->Stats("", "x")).ok());
}

// The blocking round trips run on the store's own threads: a single-threaded caller keeps serving
// its other work meanwhile, and the awaiting coroutine resumes on the caller's executor.
TEST(RedisStoreOutage, BlockingWorkDoesNotStallTheCallersExecutor) {
  test::RedisServer server;
  ASSERT_TRUE(server.Start());
  RedisOptions o = TestRedisOptions(server);
  o.command_timeout_ms = 400;
  auto store = RedisStore::Create(o);
  ASSERT_TRUE(Await(store->Ping()).ok());
  ASSERT_TRUE(server.Pause());

  boost::asio::io_context ctx;
  const auto caller_thread = std::this_thread::get_id();
  std::thread::id resumed_on;
  StatusCode code = StatusCode::kOk;
  std::optional<steady_clock::duration> timer_after;
  const auto start = steady_clock::now();
  boost::asio::co_spawn(
      ctx,
      [&]() -> boost::asio::awaitable<void> {
        auto r = co_await store->Ping();
        resumed_on = std::this_thread::get_id();
        code = r.status().code();
      },
      boost::asio::detached);
  boost::asio::steady_timer timer(ctx, milliseconds(50));
  timer.async_wait([&](const boost::system::error_code&) { timer_after = steady_clock::now() - start; });
  ctx.run();
  ASSERT_TRUE(server.Resume());

  EXPECT_EQ(code, StatusCode::kUnavailable);
  EXPECT_EQ(resumed_on, caller_thread);
  ASSERT_TRUE(timer_after.has_value());
  EXPECT_LT(*timer_after, milliseconds(300));
}

TEST(RedisStoreOutage, NeverStartedBackendIsUnavailable) {
  RedisOptions o;
  o.port = test::FreePort();
  auto store = RedisStore::Create(o);
  auto r = Await(store->Ping());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Await(store->GetTask("", "x")).status().code(), StatusCode::kUnavailable);
}

TEST(RedisStoreAuth, PasswordAndDatabaseAreUsed) {
  test::RedisServerOptions so;
  so.password = "s3cret";
  test::RedisServer server(so);
  ASSERT_TRUE(server.Start());
  RedisOptions o = TestRedisOptions(server);
  o.db = 3;
  auto store = RedisStore::Create(o);
  CreateTaskInput in;
  in.task.id = NewId();
  in.task.command = "authed";
  in.task.payload = "1";
  in.task.status = "PENDING";
  in.now = RealNow();
  in.task.created_at = in.task.updated_at = in.now.text;
  in.visible_at_sec = in.now.seconds();
  auto r = Await(store->CreateTask(in));
  ASSERT_TRUE(r.ok()) << r.status().message();

  test::RespClient c;
  ASSERT_TRUE(c.Connect(server.host(), server.port(), "s3cret"));
  EXPECT_EQ(c.Call({"HLEN", "codeq:tasks"})->integer, 0);  // db 0 untouched
  ASSERT_EQ(c.Call({"SELECT", "3"})->str, "OK");
  EXPECT_EQ(c.Call({"HLEN", "codeq:tasks"})->integer, 1);

  o.password = "wrong";
  auto bad = RedisStore::Create(o);
  EXPECT_EQ(Await(bad->Ping()).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace codeq::contract
