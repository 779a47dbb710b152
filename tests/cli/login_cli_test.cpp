// `codeq auth login` against a local stand-in for the identity service (SPEC §9.3): login → ID
// token → exchange → producer token stored in the profile, with configurable templates and paths.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli_fixture.h"
#include "cli/stub_http_server.h"

namespace codeq::clitest {
namespace {

using LoginCli = CliTest;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The identity service: default RI endpoints plus a custom-shaped pair.
StubResponse Identity(const StubRequest& r, const std::string& access_token) {
  json::value body = ParseJson(r.body);
  if (r.target == "/v1/accounts/signInWithPassword?key=api-key-1") {
    if (Str(body, "email") != "Ann.Lee@Example.com" || Str(body, "password") != "p\"w d") {
      return {401, R"({"error":"INVALID_PASSWORD"})"};
    }
    return {200, R"({"idToken":"id-token-123","refreshToken":"r"})"};
  }
  if (r.target == "/v1/accounts/token/exchange?key=api-key-1") {
    if (Str(body, "idToken") != "id-token-123") return {403, R"({"error":"bad id token"})"};
    return {200, R"({"accessToken":")" + access_token + R"(","expiresIn":3600})"};
  }
  if (r.target == "/custom/login" && r.Header("X-Client") == "cli") {
    // form-encoded body from --payload with --content-type
    if (r.body != "user=ann%40example.com&pass=secret") return {400, "bad form: " + r.body};
    return {200, R"({"data":{"tokens":[{"id":"custom-id"}]}})"};
  }
  if (r.target == "/custom/exchange" && r.Header("Authorization") == "Bearer custom-id") {
    return {200, R"({"result":{"access":"custom-access"}})"};
  }
  return {404, R"({"error":"no route )" + r.target + R"("})"};
}

TEST_F(LoginCli, LoginAndExchangeStoreAProducerTokenTheServerAccepts) {
  std::string access = server().producer_token();  // the "access token" is a real dev producer token
  StubHttpServer iam([&](const StubRequest& r) { return Identity(r, access); });
  ASSERT_TRUE(iam.Start());
  EnvList env = {{"CODEQ_IAM_BASE_URL", iam.url() + "/v1/accounts"},
                 {"CODEQ_IAM_API_KEY", "api-key-1"},
                 {"CODEQ_BASE_URL", BaseUrl()}};
  auto r = Codeq({"auth", "login", "--email", "Ann.Lee@Example.com", "--password", "p\"w d", "--no-prompt",
                  "--tenant-id", "acme", "--scope", "codeq:admin", "--scope", "x:y"},
                 env, "", false);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  json::value out = ParseJson(r.out);
  EXPECT_EQ(Str(out, "profile"), "ann_lee_example_com");

  auto reqs = iam.Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].Header("Content-Type"), "application/json");
  json::value exchange = ParseJson(reqs[1].body);
  EXPECT_EQ(Str(exchange, "idToken"), "id-token-123");
  EXPECT_EQ(Str(exchange, "audience"), "codeq-producer");
  EXPECT_EQ(Str(exchange, "tenantId"), "acme");
  EXPECT_EQ(exchange.at("scopes"), (json::array{"codeq:admin", "x:y"}));

  // The profile (named after the e-mail) is current and holds the token: requests work with no env token.
  std::string yaml = ReadText(dir() + "/.codeq/config.yaml");
  EXPECT_NE(yaml.find("currentProfile: ann_lee_example_com"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find(access), std::string::npos);
  EXPECT_EQ(yaml.find("p\"w d"), std::string::npos) << "the password must not be stored";
  auto create = Codeq({"task", "create", "--event", Cmd(), "-q"}, {{"CODEQ_BASE_URL", BaseUrl()}}, "", false);
  EXPECT_EQ(create.exit_code, 0) << create.Describe();
}

TEST_F(LoginCli, FailuresShowTheServiceAnswer) {
  StubHttpServer iam([&](const StubRequest& r) { return Identity(r, "unused"); });
  ASSERT_TRUE(iam.Start());
  EnvList env = {{"CODEQ_IAM_BASE_URL", iam.url() + "/v1/accounts"}, {"CODEQ_IAM_API_KEY", "api-key-1"}};
  auto r = Codeq({"auth", "login", "--email", "Ann.Lee@Example.com", "--password", "wrong", "--no-prompt"}, env, "",
                 false);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find(R"(login failed (401): {"error":"INVALID_PASSWORD"})"), std::string::npos) << r.Describe();
  EXPECT_FALSE(std::filesystem::exists(dir() + "/.codeq/config.yaml"));

  // Exchange refused.
  r = Codeq({"auth", "login", "--email", "Ann.Lee@Example.com", "--password", "p\"w d", "--no-prompt",
             "--exchange-url", "{{iamBaseUrl}}/token/exchange?key=other"},
            env, "", false);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("token exchange failed (404)"), std::string::npos) << r.Describe();

  // Wrong token path.
  r = Codeq({"auth", "login", "--email", "Ann.Lee@Example.com", "--password", "p\"w d", "--no-prompt",
             "--token-path", "data.idToken"},
            env, "", false);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("login response has no string at 'data.idToken'"), std::string::npos) << r.Describe();

  // Missing credentials with --no-prompt, unknown placeholders: usage errors.
  EXPECT_EQ(Codeq({"auth", "login", "--no-prompt"}, env, "", false).exit_code, 2);
  r = Codeq({"auth", "login", "--email", "a@b.c", "--password", "x", "--no-prompt", "--login-url", "{{nope}}/x"}, env,
            "", false);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_NE(r.err.find("unknown placeholder {{nope}}"), std::string::npos) << r.Describe();
  // Identity service down.
  r = Codeq({"auth", "login", "--email", "a@b.c", "--password", "x", "--no-prompt", "--iam-base-url",
             "http://127.0.0.1:1"},
            env, "", false);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("login failed: http://127.0.0.1:1/signInWithPassword"), std::string::npos) << r.Describe();
}

TEST_F(LoginCli, CustomTemplatesPathsAndPrompts) {
  StubHttpServer iam([&](const StubRequest& r) { return Identity(r, "unused"); });
  ASSERT_TRUE(iam.Start());
  // E-mail and password from stdin (prompts), form body, nested token paths, templated exchange header.
  auto r = Codeq({"--profile", "custom", "auth", "login", "--login-url", iam.url() + "/custom/login", "--content-type",
                  "application/x-www-form-urlencoded", "--payload", "user={{email}}&pass={{password}}", "--header",
                  "X-Client: cli", "--token-path", "data.tokens.0.id", "--exchange-url",
                  iam.url() + "/custom/exchange", "--exchange-header", "Authorization: Bearer {{idToken}}",
                  "--exchange-token-path", "result.access", "--print-token"},
                 {}, "ann@example.com\nsecret\n", false);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "custom-access\n");
  EXPECT_NE(r.err.find("Password"), std::string::npos);

  // The effective templates were saved (--save is the default): a second login needs only the credentials.
  r = Codeq({"--profile", "custom", "auth", "login", "--email", "ann@example.com", "--password", "secret",
             "--no-prompt", "--print-token"},
            {}, "", false);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "custom-access\n");
  auto s = ParseJson(Codeq({"--profile", "custom", "auth", "show", "--json"}, {}, "", false).out);
  EXPECT_EQ(Str(s.at("login"), "tokenPath"), "data.tokens.0.id");
  EXPECT_EQ(Str(s.at("exchange"), "url"), iam.url() + "/custom/exchange");

  // --no-exchange stores the ID token itself.
  r = Codeq({"--profile", "custom", "auth", "login", "--email", "ann@example.com", "--password", "secret",
             "--no-prompt", "--no-exchange", "--print-token"},
            {}, "", false);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "custom-id\n");
}

}  // namespace
}  // namespace codeq::clitest
