// RegisterServeFlags: the `codeq serve` flags reach ConfigFlags and, through LoadConfig, Config.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include "config/config.h"
#include "config_test_util.h"

namespace codeq {
namespace {

void Parse(CLI::App& app, std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());  // CLI11 takes them in reverse order
  app.parse(args);
}

TEST(ServeFlagsTest, NothingGivenLeavesEverythingUnset) {
  CLI::App app;
  ConfigFlags flags;
  RegisterServeFlags(app, flags);
  Parse(app, {});
  EXPECT_FALSE(flags.config_path || flags.port || flags.store || flags.data_dir || flags.env ||
               flags.log_level || flags.log_format || flags.durability || flags.listen_address ||
               flags.max_body_bytes);
  EXPECT_FALSE(flags.dev);
  EXPECT_FALSE(flags.print_config);
}

TEST(ServeFlagsTest, AllFlagsParse) {
  CLI::App app;
  ConfigFlags flags;
  RegisterServeFlags(app, flags);
  Parse(app, {"--config", "/etc/codeq.yaml", "--port", "9000", "--store", "redis://h:1", "--data-dir",
              "/d", "--env", "staging", "--log-level", "debug", "--log-format", "text", "--durability",
              "async", "--listen", "127.0.0.1", "--max-body-bytes", "5000000000", "--dev",
              "--print-config"});
  EXPECT_EQ(flags.config_path, "/etc/codeq.yaml");
  EXPECT_EQ(flags.port, 9000);
  EXPECT_EQ(flags.store, "redis://h:1");
  EXPECT_EQ(flags.data_dir, "/d");
  EXPECT_EQ(flags.env, "staging");
  EXPECT_EQ(flags.log_level, "debug");
  EXPECT_EQ(flags.log_format, "text");
  EXPECT_EQ(flags.durability, "async");
  EXPECT_EQ(flags.listen_address, "127.0.0.1");
  EXPECT_EQ(flags.max_body_bytes, 5000000000);
  EXPECT_TRUE(flags.dev);
  EXPECT_TRUE(flags.print_config);
}

TEST(ServeFlagsTest, RejectsBadValues) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--port", "eighty"},
                                        {"--durability", "fsync"},
                                        {"--log-format", "xml"}}) {
    CLI::App app;
    ConfigFlags flags;
    RegisterServeFlags(app, flags);
    EXPECT_THROW(Parse(app, args), CLI::ParseError) << args[0];
  }
}

TEST(ServeFlagsTest, HelpNamesEnvVarsAndDefaults) {
  CLI::App app;
  ConfigFlags flags;
  RegisterServeFlags(app, flags);
  std::string help = app.help();
  for (const char* s : {"CODEQ_CONFIG_PATH", "PORT", "8080", "STORE", "embedded", "DATA_DIR", "./data",
                        "ENV", "production", "LOG_LEVEL", "LOG_FORMAT", "DURABILITY", "LISTEN_ADDRESS",
                        "0.0.0.0", "MAX_BODY_BYTES", "1048576", "--dev", "--print-config"}) {
    EXPECT_NE(help.find(s), std::string::npos) << s;
  }
}

TEST(ServeFlagsTest, FlagsFeedLoadConfig) {
  CLI::App app;
  ConfigFlags flags;
  RegisterServeFlags(app, flags);
  Parse(app, {"--dev", "--port", "9999", "--listen", "127.0.0.1"});
  Result<Config> c = LoadConfig(flags, testing::MapEnv({{"PORT", "1234"}}));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->port, 9999);
  EXPECT_EQ(c->listen_address, "127.0.0.1");
  EXPECT_TRUE(c->IsDevMode());
}

}  // namespace
}  // namespace codeq
