// LoadConfig: sources and precedence, parsing rules, derivations and validation (SPEC §8, D14, D20).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "config/config.h"
#include "config/config_internal.h"
#include "config_test_util.h"

namespace codeq {
namespace {

using testing::MapEnv;
using testing::ProductionEnv;
using testing::TempFile;
using testing::WithConfig;

std::map<std::string, std::string> DevEnv(std::map<std::string, std::string> extra = {}) {
  extra.emplace("ENV", "dev");
  return extra;
}

Config MustLoad(const ConfigFlags& flags, std::map<std::string, std::string> env) {
  Result<Config> r = LoadConfig(flags, MapEnv(std::move(env)));
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r.value() : Config{};
}

Status LoadError(const ConfigFlags& flags, std::map<std::string, std::string> env) {
  Result<Config> r = LoadConfig(flags, MapEnv(std::move(env)));
  EXPECT_FALSE(r.ok());
  return r.status();
}

TEST(LoadConfigTest, DefaultsInDevMode) {
  Config c = MustLoad({}, DevEnv());
  Config d;
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.store, "embedded");
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.redis_addr, "localhost:6379");
  EXPECT_EQ(c.identity_service_url, "");  // D14
  EXPECT_EQ(c.identity_jwks_url, "");
  EXPECT_EQ(c.worker_audience, "codeq-worker");
  EXPECT_EQ(c.timezone, "UTC");  // D14
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.log_format, "json");
  EXPECT_EQ(c.default_lease_seconds, 300);
  EXPECT_EQ(c.requeue_inspect_limit, 200);
  EXPECT_EQ(c.max_attempts_default, 5);
  EXPECT_EQ(c.backoff_policy, "exp_full_jitter");
  EXPECT_EQ(c.max_body_bytes, 1048576);
  EXPECT_EQ(c.max_lease_seconds, 86400);
  EXPECT_EQ(c.durability, "sync");
  EXPECT_EQ(c.listen_address, "0.0.0.0");
  EXPECT_FALSE(c.allow_producer_as_worker);
  EXPECT_FALSE(c.tenant_fallback_to_subject);
  EXPECT_TRUE(c.producer_auth_config.is_null());
  EXPECT_TRUE(c.IsDevMode());
  EXPECT_FALSE(c.dev);
  EXPECT_EQ(d.env, "production");  // D14: the default is not dev
}

TEST(LoadConfigTest, NonDevDefaultsFailValidationWithAllMessages) {
  Status st = LoadError({}, {});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "config validation failed: workerJwksUrl is required in non-dev; workerIssuer is required "
            "in non-dev; identityJwksUrl is required in non-dev; webhookHmacSecret is required when "
            "webhooks are enabled");
}

TEST(LoadConfigTest, DevFlagSkipsNonDevRequirementsAndForcesEnv) {
  ConfigFlags flags;
  flags.dev = true;
  flags.env = "staging";  // --dev wins over --env
  Config c = MustLoad(flags, {{"ENV", "production"}});
  EXPECT_EQ(c.env, "dev");
  EXPECT_TRUE(c.dev);
  EXPECT_TRUE(c.IsDevMode());
}

TEST(LoadConfigTest, DevModeIsTrimmedAndCaseInsensitive) {
  Config c = MustLoad({}, {{"ENV", "  DeV "}});
  EXPECT_TRUE(c.IsDevMode());
  EXPECT_FALSE(c.dev);
  Config prod;
  prod.env = "development";
  EXPECT_FALSE(prod.IsDevMode());
}

TEST(LoadConfigTest, BlankHmacSecretCountsAsMissing) {
  auto env = ProductionEnv();
  env["WEBHOOK_HMAC_SECRET"] = "   ";
  EXPECT_EQ(LoadError({}, env).message(),
            "config validation failed: webhookHmacSecret is required when webhooks are enabled");
}

TEST(LoadConfigTest, ProductionConfigurationLoadsAndDerivesIdentity) {
  Config c = MustLoad({}, ProductionEnv());
  EXPECT_FALSE(c.IsDevMode());
  EXPECT_EQ(c.identity_jwks_url, "https://id.example.com/v1/.well-known/jwks.json");
  EXPECT_EQ(c.identity_issuer, "https://id.example.com");
  EXPECT_EQ(c.producer_auth_provider, "");  // auto-configuration is auth/'s job (§3.1)
}

TEST(LoadConfigTest, DerivationStripsTrailingSlashesAndKeepsExplicitValues) {
  Config c = MustLoad({}, DevEnv({{"IDENTITY_SERVICE_URL", "https://id.example.com/base//"}}));
  EXPECT_EQ(c.identity_jwks_url, "https://id.example.com/base/v1/.well-known/jwks.json");
  EXPECT_EQ(c.identity_issuer, "https://id.example.com/base");

  c = MustLoad({}, DevEnv({{"IDENTITY_SERVICE_URL", "https://id.example.com/"},
                           {"IDENTITY_JWKS_URL", "https://keys.example.com/jwks"},
                           {"IDENTITY_ISSUER", "issuer-x"}}));
  EXPECT_EQ(c.identity_jwks_url, "https://keys.example.com/jwks");
  EXPECT_EQ(c.identity_issuer, "issuer-x");
}

TEST(LoadConfigTest, NothingDerivedWithoutIdentityServiceUrl) {
  Config c = MustLoad({}, DevEnv());
  EXPECT_EQ(c.identity_jwks_url, "");
  EXPECT_EQ(c.identity_issuer, "");
}

TEST(LoadConfigTest, LayeringDefaultsYamlEnvFlags) {
  TempFile yaml(
      "port: 9000\n"
      "store: redis://yaml-host:6379\n"
      "dataDir: /yaml/data\n"
      "logLevel: debug\n"
      "maxBodyBytes: 2048\n"
      "backoffPolicy: linear\n"
      "env: dev\n");
  // YAML over defaults.
  Config c = MustLoad(WithConfig(yaml.path()), {});
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.store, "redis://yaml-host:6379");
  EXPECT_EQ(c.data_dir, "/yaml/data");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.max_body_bytes, 2048);
  EXPECT_EQ(c.backoff_policy, "linear");
  EXPECT_EQ(c.requeue_inspect_limit, 200);  // untouched default

  // Environment over YAML.
  std::map<std::string, std::string> env = {{"PORT", "9100"},
                                            {"STORE", "redis://env-host:6379"},
                                            {"DATA_DIR", "/env/data"},
                                            {"LOG_LEVEL", "warn"},
                                            {"MAX_BODY_BYTES", "4096"}};
  c = MustLoad(WithConfig(yaml.path()), env);
  EXPECT_EQ(c.port, 9100);
  EXPECT_EQ(c.store, "redis://env-host:6379");
  EXPECT_EQ(c.data_dir, "/env/data");
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_EQ(c.max_body_bytes, 4096);
  EXPECT_EQ(c.backoff_policy, "linear");  // only in YAML

  // Flags over environment.
  ConfigFlags flags = WithConfig(yaml.path());
  flags.port = 9200;
  flags.store = "embedded";
  flags.data_dir = "/flag/data";
  flags.log_level = "error";
  flags.max_body_bytes = 8192;
  flags.listen_address = "127.0.0.1";
  flags.durability = "async";
  flags.log_format = "text";
  c = MustLoad(flags, env);
  EXPECT_EQ(c.port, 9200);
  EXPECT_EQ(c.store, "embedded");
  EXPECT_EQ(c.data_dir, "/flag/data");
  EXPECT_EQ(c.log_level, "error");
  EXPECT_EQ(c.max_body_bytes, 8192);
  EXPECT_EQ(c.listen_address, "127.0.0.1");
  EXPECT_EQ(c.durability, "async");
  EXPECT_EQ(c.log_format, "text");
}

TEST(LoadConfigTest, EnvFlagOverridesYamlAndEnvVar) {
  TempFile yaml("env: production\n");
  ConfigFlags flags = WithConfig(yaml.path());
  flags.env = "dev";
  Config c = MustLoad(flags, {{"ENV", "staging"}});
  EXPECT_EQ(c.env, "dev");
}

TEST(LoadConfigTest, ConfigPathFromEnvironmentAndFlagPrecedence) {
  TempFile from_env("port: 7001\nenv: dev\n");
  TempFile from_flag("port: 7002\nenv: dev\n");
  EXPECT_EQ(MustLoad({}, {{"CODEQ_CONFIG_PATH", from_env.path()}}).port, 7001);
  EXPECT_EQ(MustLoad(WithConfig(from_flag.path()), {{"CODEQ_CONFIG_PATH", from_env.path()}}).port, 7002);
}

TEST(LoadConfigTest, MissingGivenFileIsAnError) {
  const std::string path = "/nonexistent/codeq/config.yaml";
  Status st = LoadError(WithConfig(path), DevEnv());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message().rfind("load config: ", 0), 0u) << st.message();
  EXPECT_NE(st.message().find(path), std::string::npos);

  st = LoadError({}, DevEnv({{"CODEQ_CONFIG_PATH", path}}));
  EXPECT_EQ(st.message().rfind("load config: ", 0), 0u) << st.message();
}

TEST(LoadConfigTest, DirectoryIsNotAConfigFile) {
  Status st = LoadError(WithConfig(std::filesystem::temp_directory_path().string()), DevEnv());
  EXPECT_EQ(st.message().rfind("load config: ", 0), 0u) << st.message();
}

TEST(LoadConfigTest, InvalidYamlIsAnError) {
  TempFile yaml("port: [8080\nstore: {\n");
  Status st = LoadError(WithConfig(yaml.path()), DevEnv());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message().rfind("load config: ", 0), 0u) << st.message();
  EXPECT_NE(st.message().find("invalid YAML"), std::string::npos) << st.message();
}

TEST(LoadConfigTest, YamlTypeMismatchIsAnError) {
  TempFile bad_int("port: eighty\n");
  EXPECT_EQ(LoadError(WithConfig(bad_int.path()), DevEnv()).message(),
            "load config: port: expected an integer");
  TempFile bad_bool("allowProducerAsWorker: maybe\n");
  EXPECT_EQ(LoadError(WithConfig(bad_bool.path()), DevEnv()).message(),
            "load config: allowProducerAsWorker: expected true or false");
  TempFile bad_string("store: [a, b]\n");
  EXPECT_EQ(LoadError(WithConfig(bad_string.path()), DevEnv()).message(),
            "load config: store: expected a string");
  TempFile not_a_map("- port\n- 8080\n");
  EXPECT_NE(LoadError(WithConfig(not_a_map.path()), DevEnv()).message().find("must be a mapping"),
            std::string::npos);
}

TEST(LoadConfigTest, EmptyYamlFileAndUnknownOrNullKeysAreFine) {
  TempFile empty("");
  EXPECT_EQ(MustLoad(WithConfig(empty.path()), DevEnv()).port, 8080);
  TempFile comments("# nothing here\n");
  EXPECT_EQ(MustLoad(WithConfig(comments.path()), DevEnv()).port, 8080);
  TempFile unknown("someFutureKey: 1\nport:\nlogLevel: debug\n");
  Config c = MustLoad(WithConfig(unknown.path()), DevEnv());
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.log_level, "debug");
}

TEST(LoadConfigTest, ProducerAuthConfigAsNestedYamlMapping) {
  TempFile yaml(
      "producerAuthProvider: static\n"
      "producerAuthConfig:\n"
      "  token: abc\n"
      "  subject: svc\n"
      "  scopes: [codeq:admin, codeq:claim]\n"
      "  raw:\n"
      "    role: ADMIN\n"
      "    tenantId: acme\n"
      "  clockSkew: 60\n"
      "  ratio: 1.5\n"
      "  quoted: \"60\"\n"
      "  enabled: true\n"
      "  nothing: ~\n");
  Config c = MustLoad(WithConfig(yaml.path()), DevEnv());
  EXPECT_EQ(c.producer_auth_provider, "static");
  EXPECT_EQ(c.producer_auth_config,
            boost::json::parse(R"({"token":"abc","subject":"svc","scopes":["codeq:admin","codeq:claim"],
                "raw":{"role":"ADMIN","tenantId":"acme"},"clockSkew":60,"ratio":1.5,"quoted":"60",
                "enabled":true,"nothing":null})"));
}

TEST(LoadConfigTest, AuthConfigAsJsonStringInYaml) {
  TempFile yaml(
      "workerAuthProvider: static\n"
      "workerAuthConfig: '{\"token\":\"w-tok\",\"eventTypes\":[\"*\"]}'\n"
      "producerAuthConfig: '\"bare-token\"'\n");
  Config c = MustLoad(WithConfig(yaml.path()), DevEnv());
  EXPECT_EQ(c.worker_auth_config, boost::json::parse(R"({"token":"w-tok","eventTypes":["*"]})"));
  EXPECT_EQ(c.producer_auth_config, boost::json::value("bare-token"));
}

TEST(LoadConfigTest, AuthConfigInvalidJsonIsAnError) {
  TempFile yaml("producerAuthConfig: '{\"token\": '\n");
  Status st = LoadError(WithConfig(yaml.path()), DevEnv());
  EXPECT_EQ(st.message().rfind("load config: producerAuthConfig is not valid JSON", 0), 0u)
      << st.message();
  st = LoadError({}, DevEnv({{"WORKER_AUTH_CONFIG", "{nope"}}));
  EXPECT_EQ(st.message().rfind("load config: WORKER_AUTH_CONFIG is not valid JSON", 0), 0u)
      << st.message();
}

TEST(LoadConfigTest, AuthConfigFromEnvOverridesYaml) {
  TempFile yaml("producerAuthConfig:\n  token: from-yaml\n");
  Config c = MustLoad(WithConfig(yaml.path()),
                      DevEnv({{"PRODUCER_AUTH_CONFIG", R"({"token":"from-env","subject":"s"})"}}));
  EXPECT_EQ(c.producer_auth_config, boost::json::parse(R"({"token":"from-env","subject":"s"})"));
}

TEST(LoadConfigTest, UnparsableIntegerEnvValuesAreIgnored) {
  TempFile yaml("port: 9000\nbackoffMaxSeconds: 100\nmaxBodyBytes: 5000\n");
  Config c = MustLoad(WithConfig(yaml.path()),
                      DevEnv({{"PORT", "abc"},
                              {"BACKOFF_MAX_SECONDS", "12x"},
                              {"MAX_BODY_BYTES", "99999999999999999999999"},
                              {"DEFAULT_LEASE_SECONDS", " 42 "}}));
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.backoff_max_seconds, 100);
  EXPECT_EQ(c.max_body_bytes, 5000);
  EXPECT_EQ(c.default_lease_seconds, 42);  // surrounding blanks are tolerated
}

TEST(LoadConfigTest, NonPositiveIntegersBecomeDefaults) {
  TempFile yaml("backoffBaseSeconds: -3\nrequeueInspectLimit: 0\nport: 9000\n");
  ConfigFlags flags = WithConfig(yaml.path());
  flags.max_body_bytes = 0;
  Config c = MustLoad(flags, DevEnv({{"PORT", "0"}, {"MAX_LEASE_SECONDS", "-1"}}));
  EXPECT_EQ(c.backoff_base_seconds, 5);
  EXPECT_EQ(c.requeue_inspect_limit, 200);
  EXPECT_EQ(c.port, 8080);  // §8.1: 0 cannot be configured; it means "default", not "YAML's value"
  EXPECT_EQ(c.max_lease_seconds, 86400);
  EXPECT_EQ(c.max_body_bytes, 1048576);
}

TEST(LoadConfigTest, EmptyStringsTakeNonEmptyDefaults) {
  TempFile yaml("workerAudience: ''\ntimezone: ''\nstore: ''\n");
  Config c = MustLoad(WithConfig(yaml.path()), DevEnv({{"LOCAL_ARTIFACTS_DIR", ""}}));
  EXPECT_EQ(c.worker_audience, "codeq-worker");
  EXPECT_EQ(c.timezone, "UTC");
  EXPECT_EQ(c.store, "embedded");
  EXPECT_EQ(c.local_artifacts_dir, "/tmp/codeq-artifacts");
}

TEST(LoadConfigTest, EmptyEnvValuesAreIgnored) {
  TempFile yaml("store: redis://yaml-host:6379\nallowProducerAsWorker: true\n");
  Config c = MustLoad(WithConfig(yaml.path()), DevEnv({{"STORE", ""}, {"ALLOW_PRODUCER_AS_WORKER", ""}}));
  EXPECT_EQ(c.store, "redis://yaml-host:6379");
  EXPECT_TRUE(c.allow_producer_as_worker);
}

TEST(LoadConfigTest, BoolEnvParsing) {
  for (const char* v : {"true", "TRUE", "True", "yes", "YES", "Yes", "1"}) {
    Config c = MustLoad({}, DevEnv({{"ALLOW_PRODUCER_AS_WORKER", v}, {"TENANT_FALLBACK_TO_SUBJECT", v}}));
    EXPECT_TRUE(c.allow_producer_as_worker) << v;
    EXPECT_TRUE(c.tenant_fallback_to_subject) << v;
  }
  TempFile yaml("allowProducerAsWorker: true\ntenantFallbackToSubject: yes\n");
  for (const char* v : {"false", "0", "no", "on", "y", "2", "enabled"}) {
    Config c = MustLoad(WithConfig(yaml.path()),
                        DevEnv({{"ALLOW_PRODUCER_AS_WORKER", v}, {"TENANT_FALLBACK_TO_SUBJECT", v}}));
    EXPECT_FALSE(c.allow_producer_as_worker) << v;
    EXPECT_FALSE(c.tenant_fallback_to_subject) << v;
  }
}

TEST(LoadConfigTest, YamlBools) {
  TempFile yaml("allowProducerAsWorker: yes\ntenantFallbackToSubject: True\n");
  Config c = MustLoad(WithConfig(yaml.path()), DevEnv());
  EXPECT_TRUE(c.allow_producer_as_worker);
  EXPECT_TRUE(c.tenant_fallback_to_subject);
}

TEST(LoadConfigTest, RedisPasswordFallsBackToKvrocksPassword) {
  EXPECT_EQ(MustLoad({}, DevEnv({{"KVROCKS_PASSWORD", "kv"}})).redis_password, "kv");
  EXPECT_EQ(MustLoad({}, DevEnv({{"KVROCKS_PASSWORD", "kv"}, {"REDIS_PASSWORD", "rd"}})).redis_password,
            "rd");
  EXPECT_EQ(MustLoad({}, DevEnv({{"KVROCKS_PASSWORD", "kv"}, {"REDIS_PASSWORD", ""}})).redis_password,
            "kv");
}

TEST(LoadConfigTest, LogLevelAndFormatAreCanonicalised) {
  Config c = MustLoad({}, DevEnv({{"LOG_LEVEL", " WARN "}, {"LOG_FORMAT", "Text"}}));
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_EQ(c.log_format, "text");
  c = MustLoad({}, DevEnv({{"LOG_LEVEL", "verbose"}, {"LOG_FORMAT", "xml"}}));
  EXPECT_EQ(c.log_level, "info");  // §8.2: unknown → info
  EXPECT_EQ(c.log_format, "json");
}

TEST(LoadConfigTest, UnknownBackoffPolicyIsKept) {
  EXPECT_EQ(MustLoad({}, DevEnv({{"BACKOFF_POLICY", "fibonacci"}})).backoff_policy, "fibonacci");
}

TEST(LoadConfigTest, StoreValidation) {
  EXPECT_EQ(MustLoad({}, DevEnv({{"STORE", "redis://:pw@db.internal:6380/2"}})).store,
            "redis://:pw@db.internal:6380/2");
  EXPECT_EQ(MustLoad({}, DevEnv({{"STORE", " Redis "}})).store, "redis");
  EXPECT_EQ(MustLoad({}, DevEnv({{"STORE", "EMBEDDED"}})).store, "embedded");

  EXPECT_EQ(LoadError({}, DevEnv({{"STORE", "rediss://db.internal:6380"}})).message(),
            "config validation failed: store: rediss:// (TLS) is not supported; use redis://");
  EXPECT_EQ(LoadError({}, DevEnv({{"STORE", "postgres://db"}})).message(),
            "config validation failed: store must be \"embedded\", \"redis\" or a redis:// URL");
  EXPECT_EQ(LoadError({}, DevEnv({{"STORE", "redis://:secretpw@db:99999"}})).message(),
            "config validation failed: store: redis URL port must be 1..65535");
  EXPECT_EQ(LoadError({}, DevEnv({{"STORE", "redis"}, {"REDIS_ADDR", "db:0"}})).message(),
            "config validation failed: redisAddr: redis URL port must be 1..65535");
}

TEST(LoadConfigTest, ValidationErrorsNeverEchoTheRedisPassword) {
  Status st = LoadError({}, DevEnv({{"STORE", "redis://:hunter2@db:1/x"}}));
  EXPECT_EQ(st.message().find("hunter2"), std::string::npos) << st.message();
}

TEST(LoadConfigTest, PortDurabilityAndWorkerJwksUrlValidatedEvenInDev) {
  ConfigFlags flags;
  flags.dev = true;
  flags.port = 70000;
  flags.durability = "fsync";
  Status st = LoadError(flags, {{"WORKER_JWKS_URL", "ftp://keys.example.com/jwks"}});
  EXPECT_EQ(st.message(),
            "config validation failed: port must be between 1 and 65535; durability must be sync or "
            "async; workerJwksUrl must be a valid http(s) URL");
  EXPECT_EQ(LoadError({}, DevEnv({{"WORKER_JWKS_URL", "https://"}})).message(),
            "config validation failed: workerJwksUrl must be a valid http(s) URL");
  EXPECT_EQ(MustLoad({}, DevEnv({{"DURABILITY", "ASYNC"}})).durability, "async");
}

TEST(LoadConfigTest, IoThreadsDefaultsToAutomaticAndIsBounded) {
  EXPECT_EQ(MustLoad({}, DevEnv({})).io_threads, 0);  // 0 = one per CPU, at least 2 (serve.cpp)
  EXPECT_EQ(MustLoad({}, DevEnv({{"IO_THREADS", "1"}})).io_threads, 1);
  EXPECT_EQ(MustLoad({}, DevEnv({{"IO_THREADS", "256"}})).io_threads, 256);
  EXPECT_EQ(LoadError({}, DevEnv({{"IO_THREADS", "257"}})).message(),
            "config validation failed: ioThreads must be at most 256");
}

// D20: every key has an environment variable, and each one reaches its member.
TEST(LoadConfigTest, EveryKeyHasAWorkingEnvVar) {
  const std::map<std::string, std::string> special = {
      {"STORE", "redis://h:1"},          {"DURABILITY", "async"},
      {"LOG_LEVEL", "debug"},            {"LOG_FORMAT", "text"},
      {"ENV", " DEV "},                  {"WORKER_JWKS_URL", "http://h/jwks"},
      {"PRODUCER_AUTH_CONFIG", "{}"},    {"WORKER_AUTH_CONFIG", "[]"},
      {"PORT", "81"},
  };
  const Config defaults;
  for (const auto& key : config_internal::Keys()) {
    const std::string name(key.env);
    std::map<std::string, std::string> env = {{"ENV", "dev"}};
    bool is_bool = std::holds_alternative<bool Config::*>(key.field);
    bool is_int = std::holds_alternative<int Config::*>(key.field) ||
                  std::holds_alternative<int64_t Config::*>(key.field);
    env[name] = special.count(name) ? special.at(name) : is_bool ? "true" : is_int ? "7" : "value-x";
    Result<Config> r = LoadConfig({}, MapEnv(env));
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().message();
    bool changed = std::visit([&](auto member) { return !(r.value().*member == defaults.*member); },
                              key.field);
    EXPECT_TRUE(changed) << name << " did not change " << key.yaml;
  }
}

}  // namespace
}  // namespace codeq
