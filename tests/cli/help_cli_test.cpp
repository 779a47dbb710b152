// Every client command answers --help with its usage and at least one example.
#include "cli/cli_fixture.h"

namespace codeq::clitest {
namespace {

using HelpCli = CliTest;

TEST_F(HelpCli, EveryCommandHasHelpWithAnExample) {
  const std::vector<std::vector<std::string>> commands = {
      {"task"},          {"task", "create"},  {"task", "get"},      {"task", "result"},    {"worker"},
      {"worker", "start"}, {"queue"},          {"queue", "list"},    {"queue", "inspect"},  {"admin"},
      {"admin", "cleanup"}, {"init"},          {"auth"},             {"auth", "set"},       {"auth", "show"},
      {"auth", "clear"},  {"auth", "login"},   {"token"},            {"token", "keygen"},   {"token", "mint"}};
  for (auto args : commands) {
    std::string name;
    for (const auto& a : args) name += a + " ";
    args.push_back("--help");
    auto r = Codeq(args);
    EXPECT_EQ(r.exit_code, 0) << name << r.Describe();
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << name << r.out;
    EXPECT_NE(r.out.find("Example"), std::string::npos) << name << r.out;
    EXPECT_NE(r.out.find("  codeq "), std::string::npos) << name << r.out;
  }
  auto top = Codeq({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  for (const char* flag : {"--base-url", "--producer-token", "--worker-token", "--profile", "--json"}) {
    EXPECT_NE(top.out.find(flag), std::string::npos) << flag;
  }
  // --admin and --no-admin each get a line of their own (no CLI11 "{false}" default marker).
  EXPECT_NE(top.out.find("  --no-admin "), std::string::npos) << top.out;
  EXPECT_EQ(top.out.find("{false}"), std::string::npos) << top.out;
  // A group without its subcommand is a usage error.
  EXPECT_EQ(Codeq({"task"}).exit_code, 2);
}

// Flag mistakes are usage errors (exit 2) with the CLI's "[ERROR] " prefix and a plain reason.
// --print-config runs every check a start runs: an invalid webhook host list printed before.
TEST_F(HelpCli, PrintConfigRefusesAnInvalidConfiguration) {
  for (const char* var : {"WEBHOOK_DENIED_HOSTS", "WEBHOOK_ALLOWED_HOSTS"}) {
    auto r = Codeq({"serve", "--dev", "--print-config"}, {{var, "10.0.0.0/99"}});
    EXPECT_EQ(r.exit_code, 2) << r.Describe();
    EXPECT_NE(r.err.find("[ERROR] invalid config: config validation failed"), std::string::npos) << r.Describe();
    EXPECT_NE(r.err.find("10.0.0.0/99"), std::string::npos) << r.Describe();
    EXPECT_TRUE(r.out.empty()) << r.Describe();
  }
  auto ok = Codeq({"serve", "--dev", "--print-config"}, {{"WEBHOOK_DENIED_HOSTS", "10.0.0.0/8"}});
  EXPECT_EQ(ok.exit_code, 0) << ok.Describe();
}

// An unusable --redis URL is a usage error (2); a server that cannot be reached is not (1).
TEST_F(HelpCli, MigrateTellsABadRedisUrlFromAnUnreachableServer) {
  auto bad = Codeq({"migrate", "plan", "--redis", "redis://127.0.0.1:99999", "--no-progress"});
  EXPECT_EQ(bad.exit_code, 2) << bad.Describe();
  EXPECT_EQ(bad.err, "[ERROR] redis URL port must be 1..65535\n") << bad.Describe();
  auto down = Codeq({"migrate", "plan", "--redis", "redis://127.0.0.1:1", "--no-progress"});
  EXPECT_EQ(down.exit_code, 1) << down.Describe();
  EXPECT_NE(down.err.find("Connection refused"), std::string::npos) << down.Describe();
}

TEST_F(HelpCli, BadFlagValuesAreUsageErrorsWithPlainMessages) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"worker", "start", "--events", "x", "--lease", "0"}, "[ERROR] --lease: must be greater than 0"},
      {{"token", "mint", "--role", "worker", "--ttl", "0"}, "[ERROR] --ttl: must be greater than 0"},
      {{"admin", "cleanup", "--limit", "-3"}, "[ERROR] --limit: must not be negative"},
      {{"worker", "start", "--events", "x", "--grace", "-1"}, "[ERROR] --grace: must not be negative"},
      {{"token", "mint", "--role", "worker", "--sub", ""}, "[ERROR] --sub: must not be empty"},
      {{"task", "create"}, "[ERROR] --event is required"},
      // An empty id or name would turn into another request (GET /tasks/ is the list route).
      {{"task", "get", ""}, "[ERROR] id: must not be empty"},
      {{"task", "result", ""}, "[ERROR] id: must not be empty"},
      {{"queue", "inspect", ""}, "[ERROR] event: must not be empty"},
      {{"task", "create", "--event", "x", "--delay", "-5"}, "[ERROR] --delay: must not be negative"},
      {{"token", "mint", "--role", "worker", "--events", ""}, "[ERROR] --events: must not be empty"},
      {{"worker", "start", "--events", ""}, "[ERROR] --events: must not be empty"},
      {{"worker", "start", "--events", ",", "--once"}, "[ERROR] --events: must not be empty"},
      {{"token", "mint", "--role", "worker", "--scopes", ","}, "[ERROR] --scopes: must not be empty"},
      {{"queue", "list", "--admin=maybe"}, "[ERROR] --admin: must be true or false"},
      {{"queue", "list", "--admin=99999999999999999999"}, "[ERROR] --admin: must be true or false"},
  };
  for (const auto& [args, message] : cases) {
    auto r = Codeq(args);
    EXPECT_EQ(r.exit_code, 2) << r.Describe();
    EXPECT_EQ(r.err.rfind(message, 0), 0u) << r.Describe();
    EXPECT_NE(r.err.find("Run with --help"), std::string::npos) << r.Describe();
  }
}

}  // namespace
}  // namespace codeq::clitest
