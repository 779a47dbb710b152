// Shared fixture of the `codeq migrate` tests: one real redis-server per suite (KEYS disabled, so
// any use of it by the tool fails), a seeded legacy keyspace, and helpers to run the library or
// the real `codeq` binary.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "migrate/migrate.h"
#include "support/child_process.h"
#include "support/redis_server.h"

namespace codeq::migrate_test {

/// Shape of a seeded legacy keyspace.
struct SeedSpec {
  std::vector<std::string> commands = {"RENDER", "Thumbs", "mail.send"};
  int pending_per_command = 1000;
  int inprog_per_command = 40;
  int completed_per_command = 100;
  int pending_duplicates = 20;   // extra copies of IDs already in the pending list
  int inprog_duplicates = 10;    // extra copies in the in-progress list
  int inprog_without_lease = 5;
  int missing_tasks = 3;         // IDs in pending lists without a record
  int lease_ttl_seconds = 300;
  std::string prefix = "legacy";
};

/// What the seed wrote (per legacy command).
struct Seeded {
  int64_t tasks = 0;
  std::map<std::string, std::vector<std::string>> pending;  // the list as written (with duplicates)
  std::map<std::string, std::vector<std::string>> inprog;
  std::set<std::string> leased;                             // IDs with a lease
  std::map<std::string, int64_t> pending_unique, inprog_unique;
};

/// Result of running the codeq binary.
struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout + stderr
};

class MigrateTest : public ::testing::Test {
 public:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

 protected:
  void SetUp() override;  // FLUSHALL

  static test::RedisServer& redis() { return *redis_; }
  static std::string Url() { return redis_->url(); }

  /// A client for direct Redis access (pipelined seeding and inspection).
  static migrate::RedisClient& Db();
  /// Runs one command; fails the test on an I/O error.
  static migrate::Reply Cmd(const migrate::Argv& argv);
  static std::vector<std::string> List(const std::string& key);
  static std::set<std::string> Set(const std::string& key);
  static int64_t Int(const migrate::Argv& argv);
  static std::string Type(const std::string& key);
  static std::vector<std::string> ScanAll(const std::string& pattern);

  /// Writes a legacy keyspace per `spec`.
  static Seeded Seed(const SeedSpec& spec = {});
  /// A task record of the legacy scheduler.
  static std::string TaskJson(const std::string& id, const std::string& command, const std::string& status,
                              const std::string& worker = "");
  static std::string Id(const std::string& command, const std::string& kind, int i);

  /// Library options for this server with fast freeze checks.
  static migrate::Options Opts();
  /// RunMigration with no progress output.
  static Result<migrate::RunReport> RunLib(const migrate::Options& o);

  /// Runs `codeq migrate <args...> --redis <url>` and waits (at most `timeout_s`).
  static CliResult Cli(std::vector<std::string> args, int timeout_s = 120);
  /// Starts it without waiting (for kill tests).
  static std::unique_ptr<test::ChildProcess> CliStart(std::vector<std::string> args, const std::string& output_path);

  /// A snapshot of every key under `prefix:` (type + full content, TTLs rounded to seconds).
  static std::map<std::string, std::string> Dump(const std::string& prefix);

 private:
  static std::unique_ptr<test::RedisServer> redis_;
  static std::unique_ptr<migrate::RedisClient> db_;
};

}  // namespace codeq::migrate_test
