// Profiles (~/.codeq/config.yaml), environment overrides and global flags resolve in the documented
// order: flag > CODEQ_* variable > active profile > default (SPEC §9.1); init and auth set/show/clear.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli_fixture.h"

namespace codeq::clitest {
namespace {

using ProfileCli = CliTest;

constexpr const char* kTwoProfiles =
    "currentProfile: alpha\n"
    "profiles:\n"
    "  alpha:\n"
    "    baseUrl: http://alpha.example:1111\n"
    "    producerToken: alpha-producer-token\n"
    "    token: alpha-generic-token\n"
    "  beta:\n"
    "    baseUrl: http://beta.example:2222/\n"
    "    token: beta-generic-token-xyz\n"
    "    admin: false\n";

json::value Show(CliResult r) { return ParseJson(r.out); }
std::string Value(const json::value& show, const char* key) { return Str(show.at(key), "value"); }
std::string Source(const json::value& show, const char* key) { return Str(show.at(key), "source"); }

TEST_F(ProfileCli, ResolutionOrder) {
  std::filesystem::create_directories(dir() + "/.codeq");
  WriteFile(".codeq/config.yaml", kTwoProfiles);
  auto show = [&](std::vector<std::string> args, EnvList env = {}) {
    args.insert(args.begin(), {"auth", "show", "--json"});
    auto r = Codeq(args, env, "", /*with_defaults=*/false);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return Show(r);
  };

  // currentProfile.
  json::value s = show({});
  EXPECT_EQ(Value(s, "profile"), "alpha");
  EXPECT_EQ(Source(s, "profile"), "currentProfile");
  EXPECT_EQ(Value(s, "baseUrl"), "http://alpha.example:1111");
  EXPECT_EQ(Source(s, "baseUrl"), "profile 'alpha'");
  EXPECT_EQ(Value(s, "producerToken"), "alph...oken");  // producerToken beats token, masked
  EXPECT_EQ(Source(s, "producerToken"), "profile 'alpha' producerToken");
  EXPECT_EQ(Source(s, "workerToken"), "profile 'alpha' token");  // no workerToken → token
  EXPECT_EQ(s.at("admin").at("value").as_bool(), false);          // host is not localhost

  // CODEQ_PROFILE beats currentProfile; --profile beats CODEQ_PROFILE.
  s = show({}, {{"CODEQ_PROFILE", "beta"}});
  EXPECT_EQ(Value(s, "profile"), "beta");
  EXPECT_EQ(Value(s, "baseUrl"), "http://beta.example:2222");  // trailing '/' removed
  EXPECT_EQ(Source(s, "producerToken"), "profile 'beta' token");
  EXPECT_EQ(Source(s, "admin"), "profile 'beta'");
  s = show({"--profile", "alpha"}, {{"CODEQ_PROFILE", "beta"}});
  EXPECT_EQ(Value(s, "profile"), "alpha");
  EXPECT_EQ(Source(s, "profile"), "--profile");

  // CODEQ_* variables beat the profile; flags beat the variables (before or after the command).
  s = show({}, {{"CODEQ_BASE_URL", "http://env.example:3333"},
                {"CODEQ_PRODUCER_TOKEN", "env-producer-token"},
                {"CODEQ_ADMIN", "yes"}});
  EXPECT_EQ(Value(s, "baseUrl"), "http://env.example:3333");
  EXPECT_EQ(Source(s, "baseUrl"), "CODEQ_BASE_URL");
  EXPECT_EQ(Source(s, "producerToken"), "CODEQ_PRODUCER_TOKEN");
  EXPECT_EQ(s.at("admin").at("value").as_bool(), true);
  auto r = Codeq({"--base-url", "http://flag.example:4444", "auth", "show", "--json", "--producer-token",
                  "flag-producer-token", "--no-admin"},
                 {{"CODEQ_BASE_URL", "http://env.example:3333"}, {"CODEQ_ADMIN", "1"}}, "", false);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  s = Show(r);
  EXPECT_EQ(Value(s, "baseUrl"), "http://flag.example:4444");
  EXPECT_EQ(Source(s, "baseUrl"), "--base-url");
  EXPECT_EQ(Source(s, "producerToken"), "--producer-token");
  EXPECT_EQ(s.at("admin").at("value").as_bool(), false);

  // Defaults when nothing is configured anywhere.
  std::filesystem::remove(dir() + "/.codeq/config.yaml");
  s = show({});
  EXPECT_EQ(Value(s, "profile"), "default");
  EXPECT_EQ(Value(s, "baseUrl"), "http://localhost:8080");
  EXPECT_EQ(Value(s, "producerToken"), "<unset>");
  EXPECT_EQ(s.at("admin").at("value").as_bool(), true);  // localhost

  // A profile chosen explicitly must exist.
  r = Codeq({"auth", "show"}, {{"CODEQ_PROFILE", "missing"}}, "", false);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_NE(r.err.find("profile 'missing'"), std::string::npos) << r.Describe();
}

TEST_F(ProfileCli, ProfileTokensAreUsedForRequests) {
  // The base URL and token come from the profile file alone; a flag then overrides the token.
  std::filesystem::create_directories(dir() + "/.codeq");
  WriteFile(".codeq/config.yaml", "currentProfile: dev\nprofiles:\n  dev:\n    baseUrl: " + BaseUrl() +
                                      "\n    producerToken: " + server().producer_token() + "\n");
  auto r = Codeq({"task", "create", "--event", Cmd(), "-q"}, {}, "", false);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Codeq({"task", "create", "--event", Cmd(), "-q", "--producer-token", "bad"}, {}, "", false);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  r = Codeq({"task", "create", "--event", Cmd(), "-q"}, {{"CODEQ_PRODUCER_TOKEN", "bad"}}, "", false);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
}

TEST_F(ProfileCli, InitSetShowClear) {
  // CODEQ_CONFIG_DIR moves the file.
  std::string cfg_dir = dir() + "/cfg";
  EnvList env = {{"CODEQ_CONFIG_DIR", cfg_dir}};
  auto r = Codeq({"init", "--no-prompt", "--base-url", BaseUrl(), "--producer-token", "pppppppppppp"}, env, "", false);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::string path = cfg_dir + "/config.yaml";
  ASSERT_TRUE(std::filesystem::exists(path));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(cfg_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find("currentProfile: default"), std::string::npos) << ss.str();
  EXPECT_NE(ss.str().find("signInWithPassword"), std::string::npos) << ss.str();  // default templates filled

  // Interactive init of a second profile: answers on stdin, empty answers keep the defaults.
  r = Codeq({"--profile", "second", "init"}, env, "http://second.example:9\n\nkey-123\n\nwwwwwwwwwwww\n", false);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.err.find("codeQ base URL"), std::string::npos) << r.Describe();
  auto s = ParseJson(Codeq({"auth", "show", "--json"}, env, "", false).out);
  EXPECT_EQ(Value(s, "profile"), "second");  // --profile makes it current
  EXPECT_EQ(Value(s, "baseUrl"), "http://second.example:9");
  EXPECT_EQ(Value(s, "iamApiKey"), "****");
  EXPECT_EQ(Value(s, "workerToken"), "wwww...wwww");
  EXPECT_EQ(Value(s, "iamBaseUrl"), "https://api.storifly.ai/v1/accounts");

  // auth set needs a token; a single one also becomes the generic token.
  r = Codeq({"auth", "set"}, env, "", false);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_NE(r.err.find("provide --producer-token and/or --worker-token"), std::string::npos) << r.Describe();
  r = Codeq({"--profile", "default", "auth", "set", "--worker-token", "generic-worker-token"}, env, "", false);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  s = ParseJson(Codeq({"--profile", "default", "auth", "show", "--json"}, env, "", false).out);
  EXPECT_EQ(Value(s, "producerToken"), "pppp...pppp");
  EXPECT_EQ(Source(s, "workerToken"), "profile 'default' workerToken");

  // auth clear --worker clears the worker and generic tokens; no flag clears all.
  r = Codeq({"--profile", "default", "auth", "clear", "--worker"}, env, "", false);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  s = ParseJson(Codeq({"--profile", "default", "auth", "show", "--json"}, env, "", false).out);
  EXPECT_EQ(Value(s, "workerToken"), "<unset>");
  EXPECT_EQ(Value(s, "producerToken"), "pppp...pppp");
  r = Codeq({"--profile", "default", "auth", "clear"}, env, "", false);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  s = ParseJson(Codeq({"--profile", "default", "auth", "show", "--json"}, env, "", false).out);
  EXPECT_EQ(Value(s, "producerToken"), "<unset>");

  // auth show on a terminal-style output masks tokens.
  auto table = Codeq({"auth", "show", "--table"}, env, "", false);
  ASSERT_EQ(table.exit_code, 0) << table.Describe();
  EXPECT_EQ(table.out.find("wwwwwwwwwwww"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("wwww...wwww"), std::string::npos) << table.out;
}

TEST_F(ProfileCli, BrokenConfigFileIsAConfigurationError) {
  std::filesystem::create_directories(dir() + "/.codeq");
  WriteFile(".codeq/config.yaml", "profiles: [1, 2\n");
  auto r = Codeq({"auth", "show"}, {}, "", false);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_NE(r.err.find("config.yaml"), std::string::npos) << r.Describe();
  WriteFile(".codeq/config.yaml", "profiles:\n  x:\n    admin: maybe\n");
  r = Codeq({"auth", "show"}, {}, "", false);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  // A directory where the file should be: a configuration error too (it ended in terminate).
  std::filesystem::remove(dir() + "/.codeq/config.yaml");
  std::filesystem::create_directories(dir() + "/.codeq/config.yaml");
  for (const auto& args : std::vector<std::vector<std::string>>{{"auth", "show"}, {"task", "get", "x"}}) {
    r = Codeq(args, {}, "", false);
    EXPECT_EQ(r.exit_code, 2) << r.Describe();
    EXPECT_NE(r.err.find("config.yaml: is a directory"), std::string::npos) << r.Describe();
  }
}

}  // namespace
}  // namespace codeq::clitest
