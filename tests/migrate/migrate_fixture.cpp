#include "migrate_fixture.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#ifndef CODEQ_BINARY
#define CODEQ_BINARY "codeq"
#endif

namespace codeq::migrate_test {

std::unique_ptr<test::RedisServer> MigrateTest::redis_;
std::unique_ptr<migrate::RedisClient> MigrateTest::db_;

void MigrateTest::SetUpTestSuite() {
  test::RedisServerOptions o;
  // KEYS must never be used by the tool (SPEC §11.3.4): make it fail if it is.
  o.extra_args = {"--rename-command", "KEYS", ""};
  redis_ = std::make_unique<test::RedisServer>(o);
  ASSERT_TRUE(redis_->Start()) << redis_->Log();
  auto url = ParseRedisUrl(redis_->url());
  ASSERT_TRUE(url.ok());
  db_ = std::make_unique<migrate::RedisClient>(*url, 30000);
  ASSERT_TRUE(db_->Connect().ok());
}

void MigrateTest::TearDownTestSuite() {
  db_.reset();
  redis_.reset();
}

void MigrateTest::SetUp() {
  ASSERT_TRUE(redis_ && redis_->Running());
  ASSERT_TRUE(redis_->FlushAll());
}

migrate::RedisClient& MigrateTest::Db() { return *db_; }

migrate::Reply MigrateTest::Cmd(const migrate::Argv& argv) {
  auto r = db_->Call(argv);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : migrate::Reply{};
}

std::vector<std::string> MigrateTest::List(const std::string& key) {
  std::vector<std::string> out;
  for (const auto& e : Cmd({"LRANGE", key, "0", "-1"}).elements) out.push_back(e.str);
  return out;
}

std::set<std::string> MigrateTest::Set(const std::string& key) {
  std::set<std::string> out;
  for (const auto& e : Cmd({"SMEMBERS", key}).elements) out.insert(e.str);
  return out;
}

int64_t MigrateTest::Int(const migrate::Argv& argv) { return Cmd(argv).as_int(-999); }

std::string MigrateTest::Type(const std::string& key) { return Cmd({"TYPE", key}).str; }

std::vector<std::string> MigrateTest::ScanAll(const std::string& pattern) {
  std::vector<std::string> out;
  std::string cursor = "0";
  do {
    auto r = Cmd({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
    if (r.elements.size() != 2) break;
    cursor = r.elements[0].str;
    for (const auto& e : r.elements[1].elements) out.push_back(e.str);
  } while (cursor != "0");
  std::sort(out.begin(), out.end());
  return out;
}

std::string MigrateTest::Id(const std::string& command, const std::string& kind, int i) {
  // UUID-shaped, deterministic: the command and kind are folded into the first groups.
  unsigned h = 2166136261u;
  for (char c : command + "/" + kind) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%08x-0000-4000-8000-%012d", h, i);
  return buf;
}

std::string MigrateTest::TaskJson(const std::string& id, const std::string& command, const std::string& status,
                                  const std::string& worker) {
  std::string j = R"({"id":")" + id + R"(","command":")" + command + R"(","payload":"{\"n\":1}","status":")" + status +
                  R"(","maxAttempts":5)";
  if (!worker.empty()) j += R"(,"workerId":")" + worker + R"(","attempts":1)";
  j += R"(,"createdAt":"2026-01-10T10:00:00Z","updatedAt":"2026-01-10T10:00:00Z"})";
  return j;
}

Seeded MigrateTest::Seed(const SeedSpec& s) {
  Seeded out;
  const std::string P = s.prefix;
  std::vector<migrate::Argv> cmds;
  auto flush = [&](bool force) {
    if (cmds.size() >= 500 || (force && !cmds.empty())) {
      auto r = db_->PipelineChecked(cmds);
      EXPECT_TRUE(r.ok()) << r.status().message();
      cmds.clear();
    }
  };
  int score = 0;
  for (const auto& c : s.commands) {
    auto& pending = out.pending[c];
    auto& inprog = out.inprog[c];
    for (int i = 0; i < s.pending_per_command; ++i) {
      std::string id = Id(c, "p", i);
      cmds.push_back({"HSET", P + ":tasks", id, TaskJson(id, c, "PENDING")});
      cmds.push_back({"ZADD", P + ":tasks:ttl", std::to_string(1800000000 + score++), id});
      pending.push_back(id);
      flush(false);
    }
    for (int i = 0; i < s.missing_tasks; ++i) pending.push_back(Id(c, "missing", i));
    for (int i = 0; i < s.pending_duplicates && !pending.empty(); ++i) {
      pending.push_back(pending[static_cast<size_t>(i * 37) % static_cast<size_t>(s.pending_per_command)]);
    }
    for (int i = 0; i < s.inprog_per_command; ++i) {
      std::string id = Id(c, "i", i);
      cmds.push_back({"HSET", P + ":tasks", id, TaskJson(id, c, "IN_PROGRESS", "legacy-worker-1")});
      cmds.push_back({"ZADD", P + ":tasks:ttl", std::to_string(1800000000 + score++), id});
      inprog.push_back(id);
      if (i >= s.inprog_without_lease) {
        cmds.push_back({"SET", P + ":lease:" + id, "legacy-worker-1", "EX", std::to_string(s.lease_ttl_seconds)});
        out.leased.insert(id);
      }
      flush(false);
    }
    for (int i = 0; i < s.inprog_duplicates && s.inprog_per_command > 0; ++i) {
      inprog.push_back(inprog[static_cast<size_t>(i) % static_cast<size_t>(s.inprog_per_command)]);
    }
    for (int i = 0; i < s.completed_per_command; ++i) {
      std::string id = Id(c, "c", i);
      cmds.push_back({"HSET", P + ":tasks", id, TaskJson(id, c, "COMPLETED")});
      cmds.push_back({"ZADD", P + ":tasks:ttl", std::to_string(1800000000 + score++), id});
      flush(false);
    }
    for (size_t i = 0; i < pending.size(); i += 500) {
      migrate::Argv push = {"RPUSH", P + ":q:" + c + ":pending"};
      push.insert(push.end(), pending.begin() + static_cast<long>(i),
                  pending.begin() + static_cast<long>(std::min(pending.size(), i + 500)));
      cmds.push_back(push);
    }
    if (!inprog.empty()) {
      migrate::Argv push = {"RPUSH", P + ":q:" + c + ":inprog"};
      push.insert(push.end(), inprog.begin(), inprog.end());
      cmds.push_back(push);
    }
    flush(true);
    out.tasks += s.pending_per_command + s.inprog_per_command + s.completed_per_command;
    out.pending_unique[c] = static_cast<int64_t>(std::set<std::string>(pending.begin(), pending.end()).size());
    out.inprog_unique[c] = static_cast<int64_t>(std::set<std::string>(inprog.begin(), inprog.end()).size());
  }
  flush(true);
  return out;
}

migrate::Options MigrateTest::Opts() {
  migrate::Options o;
  o.freeze_check_ms = 50;
  return o;
}

Result<migrate::RunReport> MigrateTest::RunLib(const migrate::Options& o) {
  migrate::Progress progress(migrate::Progress::Style::kNone, std::cerr);
  std::ostringstream log;
  return migrate::RunMigration(*db_, o, progress, log);
}

namespace {

std::string TempFile() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "codeq-migrate-cli-XXXXXX").string();
  int fd = ::mkstemp(tmpl.data());
  if (fd >= 0) ::close(fd);
  return tmpl;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::unique_ptr<test::ChildProcess> MigrateTest::CliStart(std::vector<std::string> args, const std::string& output_path) {
  test::ChildOptions o;
  o.program = CODEQ_BINARY;
  o.args = {"migrate"};
  o.args.insert(o.args.end(), args.begin(), args.end());
  o.args.push_back("--redis");
  o.args.push_back(Url());
  o.unset_env = {"REDIS_ADDR", "REDIS_PASSWORD", "KVROCKS_PASSWORD", "CODEQ_ADMIN_TOKEN", "CODEQ_PRODUCER_TOKEN",
                 "CODEQ_WORKER_TOKEN"};
  o.output_path = output_path;
  std::string err;
  auto child = test::ChildProcess::Spawn(o, &err);
  EXPECT_TRUE(child != nullptr) << err;
  return child;
}

CliResult MigrateTest::Cli(std::vector<std::string> args, int timeout_s) {
  CliResult out;
  std::string path = TempFile();
  auto child = CliStart(std::move(args), path);
  if (!child) return out;
  auto code = child->Wait(std::chrono::seconds(timeout_s));
  if (!code) {
    child->Kill(std::chrono::seconds(1));
    out.output = "timed out\n";
  }
  out.exit_code = code ? *code : -1;
  out.output += ReadFile(path);
  std::filesystem::remove(path);
  return out;
}

std::map<std::string, std::string> MigrateTest::Dump(const std::string& prefix) {
  std::map<std::string, std::string> out;
  for (const auto& key : ScanAll(prefix + ":*")) {
    std::string type = Type(key);
    std::string v = type + ":";
    if (type == "hash") {
      auto r = Cmd({"HGETALL", key});
      std::vector<std::string> kv;
      for (size_t i = 0; i + 1 < r.elements.size(); i += 2) kv.push_back(r.elements[i].str + "=" + r.elements[i + 1].str);
      std::sort(kv.begin(), kv.end());
      for (const auto& x : kv) v += x + "\n";
    } else if (type == "list") {
      for (const auto& x : List(key)) v += x + "\n";
    } else if (type == "set") {
      for (const auto& x : Set(key)) v += x + "\n";
    } else if (type == "zset") {
      auto r = Cmd({"ZRANGE", key, "0", "-1", "WITHSCORES"});
      for (size_t i = 0; i + 1 < r.elements.size(); i += 2) v += r.elements[i].str + "@" + r.elements[i + 1].str + "\n";
    } else if (type == "string") {
      v += Cmd({"GET", key}).str + (Int({"PTTL", key}) > 0 ? " (expires)" : " (no expiry)");
    }
    out[key] = v;
  }
  return out;
}

}  // namespace codeq::migrate_test
