#include "cli/cli_fixture.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace codeq::clitest {
namespace fs = std::filesystem;

namespace {

// The suite-wide redis + codeq, started once before the first test.
class Environment : public ::testing::Environment {
 public:
  void SetUp() override {
    redis = std::make_unique<test::RedisServer>();
    if (!redis->Start()) {
      std::string log = redis->Log();
      redis.reset();
      FAIL() << "redis-server did not start: " << log;
    }
    test::CodeqServerOptions o;
    o.store_url = redis->url();
    server = std::make_unique<test::CodeqServer>(o);
    std::string error;
    if (!server->Start(&error)) {
      server.reset();
      FAIL() << "codeq serve did not start: " << error;
    }
  }
  void TearDown() override {
    server.reset();
    redis.reset();
  }
  std::unique_ptr<test::RedisServer> redis;
  std::unique_ptr<test::CodeqServer> server;
};

Environment* g_env = static_cast<Environment*>(::testing::AddGlobalTestEnvironment(new Environment));

// Counts test runs, so command names stay unique under --gtest_repeat (the server is shared).
int g_run = 0;

}  // namespace

std::string CodeqBinary() { return test::DefaultCodeqBinary(); }

test::CodeqServer& CliTest::server() { return *g_env->server; }

std::string CliTest::BaseUrl() { return "http://127.0.0.1:" + std::to_string(g_env->server->port()); }

std::string CliTest::RedisUrl() { return g_env->redis->url(); }

void CliTest::SetUp() {
  if (!g_env->server) GTEST_SKIP() << "environment failed to start";
  if (!g_env->server->Running()) {
    std::string error;
    ASSERT_TRUE(g_env->server->Start(&error)) << "codeq could not be restarted: " << error;
  }
  ++g_run;
  std::string tmpl = (fs::temp_directory_path() / "codeq-cli-test-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  dir_ = tmpl;
}

void CliTest::TearDown() {
  if (g_env->server && !g_env->server->Running()) {
    ADD_FAILURE() << "codeq serve CRASHED during this test:\n" << g_env->server->LogTail(3000);
  } else if (HasFailure() && g_env->server) {
    std::cerr << "---- codeq serve log (tail) ----\n" << g_env->server->LogTail(2000) << "\n----\n";
  }
  std::error_code ec;
  if (!dir_.empty() && ::getenv("CODEQ_IT_KEEP_TEMP") == nullptr) fs::remove_all(dir_, ec);
}

CliOptions CliTest::Options(const std::vector<std::string>& args, const EnvList& env, bool with_defaults) const {
  CliOptions o;
  o.args = args;
  o.working_dir = dir_;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv(*e);
    if (kv.rfind("CODEQ_", 0) == 0) o.unset_env.push_back(kv.substr(0, kv.find('=')));
  }
  o.env = {{"HOME", dir_}};
  if (with_defaults) {
    o.env.emplace_back("CODEQ_BASE_URL", BaseUrl());
    o.env.emplace_back("CODEQ_PRODUCER_TOKEN", server().producer_token());
    o.env.emplace_back("CODEQ_WORKER_TOKEN", server().worker_token());
    o.env.emplace_back("CODEQ_ADMIN_TOKEN", server().admin_token());
  }
  for (const auto& [k, v] : env) {
    o.env.erase(std::remove_if(o.env.begin(), o.env.end(), [&](const auto& kv) { return kv.first == k; }),
                o.env.end());
    if (v == kUnset) {
      o.unset_env.push_back(k);
    } else {
      o.env.emplace_back(k, v);
    }
  }
  return o;
}

CliResult CliTest::Codeq(const std::vector<std::string>& args, const EnvList& env, const std::string& stdin_text,
                         bool with_defaults) {
  CliOptions o = Options(args, env, with_defaults);
  o.stdin_text = stdin_text;
  return RunCli(CodeqBinary(), o);
}

std::unique_ptr<CliProcess> CliTest::StartCodeq(const std::vector<std::string>& args, const EnvList& env) {
  return CliProcess::Start(CodeqBinary(), Options(args, env, true));
}

std::string CliTest::Cmd(const std::string& suffix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "_" + info->name() : "cmd";
  for (char& c : name) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return name + "_" + std::to_string(g_run) + (suffix.empty() ? "" : "-" + suffix);
}

std::string CliTest::WriteFile(const std::string& name, const std::string& text) {
  std::string path = dir_ + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string CliTest::WriteScript(const std::string& name, const std::string& text) {
  std::string path = WriteFile(name, text);
  ::chmod(path.c_str(), 0755);
  return path;
}

test::HttpResponse CliTest::Http(const std::string& method, const std::string& path, const std::string& token,
                                 const std::string& body) {
  test::HttpClient client("127.0.0.1", server().port());
  test::HttpHeaders h;
  if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
  return client.Request(method, path, h, body);
}

json::value CliTest::GetTask(const std::string& id) {
  auto r = Http("GET", "/v1/codeq/tasks/" + id, server().producer_token());
  return r.status == 200 ? r.Json() : json::value();
}

std::string CliTest::CreateTask(const std::string& command, const std::string& payload) {
  auto r = Http("POST", "/v1/codeq/tasks", server().producer_token(),
                R"({"command":")" + command + R"(","payload":)" + payload + "}");
  EXPECT_EQ(r.status, 202) << r.Describe();
  return Str(r.Json(), "id");
}

json::value ParseJson(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value() : v;
}

std::vector<json::value> JsonLines(const std::string& text) {
  std::vector<json::value> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    json::value v = ParseJson(line);
    if (!v.is_null()) out.push_back(std::move(v));
  }
  return out;
}

std::string Str(const json::value& v, const char* key) {
  if (!v.is_object()) return "";
  const json::value* m = v.get_object().if_contains(key);
  return m != nullptr && m->is_string() ? std::string(m->get_string()) : "";
}

}  // namespace codeq::clitest
