// `codeq token keygen|mint`: minted tokens are accepted by `codeq serve` (dev mode, and a production
// configuration pointed at the keygen JWKS); a token signed with another key is rejected.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "auth/base64url.h"
#include "cli/cli_fixture.h"
#include "cli/stub_http_server.h"
#include "support/child_process.h"
#include "support/free_port.h"

namespace codeq::clitest {
namespace {

using TokenCli = CliTest;
using namespace std::chrono_literals;

std::string Token(const CliResult& r) {
  std::string t = r.out;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t;
}

json::value Claims(const std::string& jwt) {
  size_t a = jwt.find('.'), b = jwt.rfind('.');
  auto text = Base64UrlDecode(jwt.substr(a + 1, b - a - 1));
  return text ? ParseJson(*text) : json::value();
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(TokenCli, MintedDevTokensAreAcceptedByTheDevServer) {
  // Default key location ./data/dev/signing-key.pem (relative to the working directory), as after
  // `codeq serve --dev` in the same directory.
  std::filesystem::create_directories(dir() + "/data/dev");
  std::filesystem::copy_file(server().signing_key_path(), dir() + "/data/dev/signing-key.pem");
  auto producer = Codeq({"token", "mint", "--role", "producer"});
  auto worker = Codeq({"token", "mint", "--role", "worker", "--events", Cmd() + "," + Cmd("2"), "--ttl", "10m"});
  auto admin = Codeq({"token", "mint", "--role", "admin"});
  ASSERT_EQ(producer.exit_code, 0) << producer.Describe();
  ASSERT_EQ(worker.exit_code, 0) << worker.Describe();
  ASSERT_EQ(admin.exit_code, 0) << admin.Describe();

  json::value wc = Claims(Token(worker));
  EXPECT_EQ(Str(wc, "iss"), "codeq-dev");
  EXPECT_EQ(Str(wc, "aud"), "codeq-worker");
  EXPECT_EQ(Str(wc, "sub"), "cli-worker");
  EXPECT_EQ(wc.at("eventTypes"), (json::array{Cmd(), Cmd("2")}));
  EXPECT_EQ(wc.at("exp").as_int64() - wc.at("iat").as_int64(), 600);
  EXPECT_NE(Str(wc, "scope").find("codeq:claim"), std::string::npos);
  json::value ac = Claims(Token(admin));
  EXPECT_EQ(Str(ac, "role"), "ADMIN");
  EXPECT_EQ(Str(ac, "aud"), "codeq-producer");

  EnvList env = {{"CODEQ_PRODUCER_TOKEN", Token(producer)},
                 {"CODEQ_WORKER_TOKEN", Token(worker)},
                 {"CODEQ_ADMIN_TOKEN", Token(admin)}};
  auto create = Codeq({"task", "create", "--event", Cmd(), "-q"}, env);
  ASSERT_EQ(create.exit_code, 0) << create.Describe();
  auto work = Codeq({"worker", "start", "--events", Cmd(), "--once", "--ack", "complete"}, env);
  ASSERT_EQ(work.exit_code, 0) << work.Describe();
  EXPECT_EQ(Str(GetTask(Token(create)), "status"), "COMPLETED");
  // Admin commands with the admin token and without the dev X-Role header.
  auto list = Codeq({"queue", "list", "--no-admin"}, env);
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  // The producer token alone is not admin without X-Role (403), but is with the dev header.
  auto denied = Codeq({"queue", "list", "--no-admin"}, {{"CODEQ_ADMIN_TOKEN", kUnset}, env[0]});
  EXPECT_EQ(denied.exit_code, 1) << denied.Describe();
  EXPECT_NE(denied.err.find("unauthorized. Admin only"), std::string::npos) << denied.Describe();
  EXPECT_EQ(Codeq({"queue", "list", "--admin"}, {{"CODEQ_ADMIN_TOKEN", kUnset}, env[0]}).exit_code, 0);
}

TEST_F(TokenCli, TokenFromAnotherKeyIsRejected) {
  auto keygen = Codeq({"token", "keygen", "--key", "other/signing-key.pem"});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.Describe();
  json::value k = ParseJson(keygen.out);
  EXPECT_EQ(Str(k, "jwks"), dir() + "/other/jwks.json");
  auto bad = Codeq({"token", "mint", "--role", "producer", "--key", "other/signing-key.pem"});
  ASSERT_EQ(bad.exit_code, 0) << bad.Describe();
  auto r = Codeq({"task", "create", "--event", Cmd()}, {{"CODEQ_PRODUCER_TOKEN", Token(bad)}});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("[ERROR] error (401)"), std::string::npos) << r.Describe();

  // keygen refuses to overwrite without --force; mint without a key is a configuration error.
  EXPECT_EQ(Codeq({"token", "keygen", "--key", "other/signing-key.pem"}).exit_code, 2);
  EXPECT_EQ(Codeq({"token", "keygen", "--key", "other/signing-key.pem", "--force"}).exit_code, 0);
  // A directory is never taken for (or replaced by) the key file, even with --force.
  for (const char* dir_arg : {"other", "other/"}) {
    auto d = Codeq({"token", "keygen", "--key", dir_arg, "--force"});
    EXPECT_EQ(d.exit_code, 2) << d.Describe();
    EXPECT_NE(d.err.find("is a directory: give the key file's path (e.g. " + dir() + "/other/signing-key.pem)"),
              std::string::npos)
        << d.Describe();
  }
  EXPECT_TRUE(std::filesystem::is_directory(dir() + "/other"));
  auto nokey = Codeq({"token", "mint", "--role", "producer"});
  EXPECT_EQ(nokey.exit_code, 2) << nokey.Describe();
  EXPECT_NE(nokey.err.find("not found"), std::string::npos) << nokey.Describe();
  EXPECT_EQ(Codeq({"token", "mint", "--role", "boss", "--key", "other/signing-key.pem"}).exit_code, 2);
}

TEST_F(TokenCli, ProductionServerAcceptsTokensOfTheKeygenJwks) {
  auto keygen = Codeq({"token", "keygen", "--key", "keys/signing-key.pem"});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.Describe();
  std::string jwks = ReadText(dir() + "/keys/jwks.json");
  struct stat st {};
  ASSERT_EQ(::stat((dir() + "/keys/signing-key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  StubHttpServer jwks_server([&](const StubRequest&) { return StubResponse{200, jwks}; });
  ASSERT_TRUE(jwks_server.Start());
  const std::string issuer = "https://issuer.test";
  std::unique_ptr<test::ChildProcess> serve;
  int port = 0;
  for (int attempt = 0; attempt < 3 && !serve; ++attempt) {
    port = test::FreePort();
    test::ChildOptions o;
    o.program = CodeqBinary();
    o.args = {"serve"};
    o.unset_env = {"ENV", "CODEQ_CONFIG_PATH", "PRODUCER_AUTH_PROVIDER", "WORKER_AUTH_PROVIDER", "PRODUCER_AUTH_CONFIG",
                   "WORKER_AUTH_CONFIG", "IDENTITY_SERVICE_URL"};
    o.env = {{"STORE", RedisUrl()},
             {"PORT", std::to_string(port)},
             {"LISTEN_ADDRESS", "127.0.0.1"},
             {"DATA_DIR", dir() + "/serve-data"},
             {"LOG_FORMAT", "text"},
             {"IDENTITY_JWKS_URL", jwks_server.url() + "/jwks.json"},
             {"IDENTITY_ISSUER", issuer},
             {"IDENTITY_AUDIENCE", "codeq-producer"},
             {"WORKER_JWKS_URL", jwks_server.url() + "/jwks.json"},
             {"WORKER_ISSUER", issuer},
             {"WEBHOOK_HMAC_SECRET", "test-secret"}};
    o.output_path = dir() + "/serve.log";
    serve = test::ChildProcess::Spawn(o);
    ASSERT_TRUE(serve);
    test::HttpClient probe("127.0.0.1", port, false, 1000ms);
    auto deadline = std::chrono::steady_clock::now() + 30s;
    bool healthy = false;
    while (!healthy && serve->Running() && std::chrono::steady_clock::now() < deadline) {
      healthy = probe.Request("GET", "/healthz").status == 200;
      if (!healthy) std::this_thread::sleep_for(50ms);
    }
    if (!healthy) serve.reset();
  }
  ASSERT_TRUE(serve) << ReadText(dir() + "/serve.log");

  auto mint = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"token", "mint", "--key", "keys/signing-key.pem", "--issuer", issuer});
    auto r = Codeq(args);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return Token(r);
  };
  EnvList env = {{"CODEQ_BASE_URL", "http://127.0.0.1:" + std::to_string(port)},
                 {"CODEQ_PRODUCER_TOKEN", mint({"--role", "producer", "--tenant", "acme"})},
                 {"CODEQ_WORKER_TOKEN", mint({"--role", "worker", "--tenant", "acme"})}};
  auto create = Codeq({"task", "create", "--event", Cmd(), "-q"}, env);
  ASSERT_EQ(create.exit_code, 0) << create.Describe() << ReadText(dir() + "/serve.log");
  auto work = Codeq({"worker", "start", "--events", Cmd(), "--once", "--ack", "complete"}, env);
  ASSERT_EQ(work.exit_code, 0) << work.Describe();
  auto get = Codeq({"task", "get", Token(create)}, env);
  ASSERT_EQ(get.exit_code, 0) << get.Describe();
  EXPECT_EQ(Str(ParseJson(get.out), "status"), "COMPLETED");
  EXPECT_EQ(Str(ParseJson(get.out), "tenantId"), "acme");

  // The dev server's key, another issuer, or a worker token as producer: rejected.
  auto dev = Codeq({"token", "mint", "--role", "producer", "--key", server().signing_key_path(), "--issuer", issuer});
  auto r = Codeq({"task", "create", "--event", Cmd()}, {env[0], {"CODEQ_PRODUCER_TOKEN", Token(dev)}});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("error (401)"), std::string::npos) << r.Describe();
  r = Codeq({"task", "create", "--event", Cmd()},
            {env[0], {"CODEQ_PRODUCER_TOKEN", Token(Codeq({"token", "mint", "--role", "producer", "--key",
                                                           "keys/signing-key.pem"}))}});  // issuer codeq-dev
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  serve->Kill(5s);
}

}  // namespace
}  // namespace codeq::clitest
