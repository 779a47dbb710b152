// PrintConfig: SPEC key names, secrets masked, and output that LoadConfig reads back.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/config_internal.h"
#include "config_test_util.h"

namespace codeq {
namespace {

using testing::MapEnv;
using testing::TempFile;
using testing::WithConfig;

TEST(PrintConfigTest, MasksEverySecret) {
  Config c;
  c.redis_password = "rp-SECRET1";
  c.identity_service_api_key = "ak-SECRET2";
  c.webhook_hmac_secret = "wh-SECRET3";
  c.store = "redis://user:pw-SECRET4@db.internal:6379/1";
  c.producer_auth_config = boost::json::parse(
      R"({"token":"tok-SECRET5","subject":"svc","raw":{"apiKey":"SECRET6","role":"ADMIN"},
          "clientSecret":"SECRET9","refresh_token":{"nested":"SECRET10"}})");
  c.worker_auth_config = boost::json::value("bare-SECRET7");  // static provider: the token itself
  c.identity_service_url = "https://u:SECRET8@id.example.com";
  const std::string text = PrintConfig(c);

  EXPECT_EQ(text.find("SECRET"), std::string::npos) << text;
  EXPECT_NE(text.find("\"****\""), std::string::npos) << text;
  // Non-secret parts stay visible.
  EXPECT_NE(text.find("redis://user:****@db.internal:6379/1"), std::string::npos) << text;
  EXPECT_NE(text.find("https://u:****@id.example.com"), std::string::npos) << text;
  EXPECT_NE(text.find("svc"), std::string::npos) << text;
  EXPECT_NE(text.find("ADMIN"), std::string::npos) << text;

  YAML::Node root = YAML::Load(text);
  EXPECT_EQ(root["redisPassword"].as<std::string>(), "****");
  EXPECT_EQ(root["identityServiceApiKey"].as<std::string>(), "****");
  EXPECT_EQ(root["webhookHmacSecret"].as<std::string>(), "****");
  EXPECT_EQ(root["workerAuthConfig"].as<std::string>(), "\"****\"");  // JSON text, as loaded
  EXPECT_EQ(root["producerAuthConfig"]["token"].as<std::string>(), "****");
  EXPECT_EQ(root["producerAuthConfig"]["raw"]["apiKey"].as<std::string>(), "****");
  EXPECT_EQ(root["producerAuthConfig"]["refresh_token"].as<std::string>(), "****");
}

TEST(PrintConfigTest, UsesSpecKeyNamesForEveryKey) {
  YAML::Node root = YAML::Load(PrintConfig(Config{}));
  ASSERT_TRUE(root.IsMap());
  for (const auto& key : config_internal::Keys()) {
    EXPECT_TRUE(root[std::string(key.yaml)].IsDefined()) << key.yaml;
  }
  EXPECT_EQ(root.size(), config_internal::Keys().size());
  EXPECT_EQ(root["port"].as<int>(), 8080);
  EXPECT_EQ(root["store"].as<std::string>(), "embedded");
  EXPECT_EQ(root["redisPassword"].as<std::string>(), "");  // empty secrets shown as empty
  EXPECT_TRUE(root["producerAuthConfig"].IsNull());
}

TEST(PrintConfigTest, MasksPasswordOnlyUrls) {
  Config c;
  c.store = "redis://:p4ss@127.0.0.1:6379";
  EXPECT_NE(PrintConfig(c).find("redis://:****@127.0.0.1:6379"), std::string::npos);
  EXPECT_EQ(config_internal::MaskUrlUserinfo("redis://onlyuser@h:1/2"), "redis://****@h:1/2");
  EXPECT_EQ(config_internal::MaskUrlUserinfo("https://h/path@x"), "https://h/path@x");
  EXPECT_EQ(config_internal::MaskUrlUserinfo("no url @ all"), "no url @ all");
}

// Without secrets, PrintConfig's output loads back to the same configuration.
TEST(PrintConfigTest, RoundTripsThroughLoadConfig) {
  Config c;
  c.port = 9123;
  c.store = "redis://db.internal:6380/3";
  c.data_dir = "/var/lib/codeq data";
  c.identity_service_url = "https://id.example.com";
  c.identity_jwks_url = "https://id.example.com/v1/.well-known/jwks.json";
  c.identity_issuer = "https://id.example.com";
  c.identity_audience = "codeq";
  c.producer_auth_provider = "jwks";
  c.producer_auth_config = boost::json::parse(
      R"({"jwksUrl":"https://k","audience":"60","clockSkew":60,"ratio":0.25,"on":true,
          "list":["a",1,null],"empty":{}})");
  c.worker_auth_provider = "static";
  c.worker_auth_config = boost::json::parse(R"({"subject":"w","eventTypes":["*"]})");
  c.worker_jwks_url = "http://keys.local/jwks";
  c.worker_issuer = "yes";  // a string that looks like a YAML bool
  c.allow_producer_as_worker = true;
  c.tenant_fallback_to_subject = true;
  c.timezone = "America/Sao_Paulo";
  c.log_level = "debug";
  c.log_format = "text";
  c.env = "dev";
  c.default_lease_seconds = 31;
  c.backoff_policy = "linear";
  c.local_artifacts_dir = "/tmp/a: b";
  c.result_webhook_max_backoff_seconds = 99;
  c.max_body_bytes = 5000000000;
  c.max_lease_seconds = 3600;
  c.durability = "async";
  c.listen_address = "::1";

  TempFile file(PrintConfig(c));
  Result<Config> r = LoadConfig(WithConfig(file.path()), MapEnv({}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  for (const auto& key : config_internal::Keys()) {
    bool same = std::visit([&](auto member) { return r.value().*member == c.*member; }, key.field);
    EXPECT_TRUE(same) << key.yaml;
  }
}

// A bare-string auth config (the static token) prints as the JSON text of "****", which loads back
// and prints the same; an empty one stays empty. (Found by the config fuzzer: "****" alone is not
// JSON, so the printed config did not load.)
TEST(PrintConfigTest, BareStringAuthConfigPrintsAsLoadableJsonText) {
  for (const char* token : {"tok-SECRET", ""}) {
    Config c;
    c.env = "dev";
    c.worker_auth_config = boost::json::value(token);
    const std::string printed = PrintConfig(c);
    EXPECT_EQ(printed.find("SECRET"), std::string::npos) << printed;
    TempFile file(printed);
    Result<Config> r = LoadConfig(WithConfig(file.path()), MapEnv({}));
    ASSERT_TRUE(r.ok()) << token << ": " << r.status().message() << "\n" << printed;
    ASSERT_TRUE(r.value().worker_auth_config.is_string()) << printed;
    EXPECT_EQ(r.value().worker_auth_config.get_string(), *token ? "****" : "");
    EXPECT_EQ(PrintConfig(r.value()), printed);
  }
}

}  // namespace
}  // namespace codeq
