// The server configuration (SPEC.md §8, decisions D1, D9, D14, D15, D20): one Config struct whose
// member initialisers are the defaults, loaded as defaults < YAML file < environment < flags.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "domain/status.h"

namespace CLI {
class App;
}

namespace codeq {

/// The server configuration: every key of SPEC §8.2 (camelCase YAML names in comments) plus D20's.
/// The member initialisers below are THE defaults table; config_keys.cpp maps each member to its YAML
/// key and environment variable(s). Integers are never ≤ 0 after LoadConfig (§8.1).
struct Config {
  int port = 8080;                                 // port / PORT
  std::string store = "embedded";                  // store / STORE: "embedded", "redis" (use redisAddr) or redis://[:password@]host:port[/db]
  std::string data_dir = "./data";                 // dataDir / DATA_DIR (embedded store)
  std::string redis_addr = "localhost:6379";       // redisAddr / REDIS_ADDR (used when store is "redis")
  std::string redis_password;                      // redisPassword / REDIS_PASSWORD, else KVROCKS_PASSWORD (secret)
  std::string identity_service_url;                // identityServiceUrl / IDENTITY_SERVICE_URL; default EMPTY (D14)
  std::string identity_service_api_key;            // identityServiceApiKey / IDENTITY_SERVICE_API_KEY (secret, unused)
  std::string identity_jwks_url;                   // identityJwksUrl / IDENTITY_JWKS_URL (derived, §8.2)
  std::string identity_issuer;                     // identityIssuer / IDENTITY_ISSUER (derived, §8.2)
  std::string identity_audience;                   // identityAudience / IDENTITY_AUDIENCE
  std::string producer_auth_provider;              // producerAuthProvider / PRODUCER_AUTH_PROVIDER (empty = auto, §3.1)
  boost::json::value producer_auth_config;         // producerAuthConfig / PRODUCER_AUTH_CONFIG (null = none)
  std::string worker_jwks_url;                     // workerJwksUrl / WORKER_JWKS_URL
  std::string worker_issuer;                       // workerIssuer / WORKER_ISSUER
  std::string worker_audience = "codeq-worker";    // workerAudience / WORKER_AUDIENCE
  std::string worker_auth_provider;                // workerAuthProvider / WORKER_AUTH_PROVIDER (empty = auto, §3.1)
  boost::json::value worker_auth_config;           // workerAuthConfig / WORKER_AUTH_CONFIG (null = none)
  int allowed_clock_skew_seconds = 60;             // allowedClockSkewSeconds / ALLOWED_CLOCK_SKEW_SECONDS
  bool allow_producer_as_worker = false;           // allowProducerAsWorker / ALLOW_PRODUCER_AS_WORKER
  bool tenant_fallback_to_subject = false;         // tenantFallbackToSubject / TENANT_FALLBACK_TO_SUBJECT (D1)
  std::string timezone = "UTC";                    // timezone / TIMEZONE (D14; unknown zone → UTC at start-up)
  std::string log_level = "info";                  // logLevel / LOG_LEVEL: debug|info|warn|error (unknown → info)
  std::string log_format = "json";                 // logFormat / LOG_FORMAT: json|text (unknown → json)
  std::string env = "production";                  // env / ENV (D14); "dev" = dev mode
  int default_lease_seconds = 300;                 // defaultLeaseSeconds / DEFAULT_LEASE_SECONDS
  int requeue_inspect_limit = 200;                 // requeueInspectLimit / REQUEUE_INSPECT_LIMIT
  int max_attempts_default = 5;                    // maxAttemptsDefault / MAX_ATTEMPTS_DEFAULT
  std::string backoff_policy = "exp_full_jitter";  // backoffPolicy / BACKOFF_POLICY (unknown = full jitter, §5)
  int backoff_base_seconds = 5;                    // backoffBaseSeconds / BACKOFF_BASE_SECONDS
  int backoff_max_seconds = 900;                   // backoffMaxSeconds / BACKOFF_MAX_SECONDS
  std::string local_artifacts_dir = "/tmp/codeq-artifacts";  // localArtifactsDir / LOCAL_ARTIFACTS_DIR
  std::string webhook_hmac_secret;                 // webhookHmacSecret / WEBHOOK_HMAC_SECRET (secret)
  int subscription_min_interval_seconds = 5;       // subscriptionMinIntervalSeconds / SUBSCRIPTION_MIN_INTERVAL_SECONDS
  int subscription_cleanup_interval_seconds = 60;  // subscriptionCleanupIntervalSeconds / SUBSCRIPTION_CLEANUP_INTERVAL_SECONDS
  int result_webhook_max_attempts = 5;             // resultWebhookMaxAttempts / RESULT_WEBHOOK_MAX_ATTEMPTS
  int result_webhook_base_backoff_seconds = 2;     // resultWebhookBaseBackoffSeconds / RESULT_WEBHOOK_BASE_BACKOFF_SECONDS
  int result_webhook_max_backoff_seconds = 60;     // resultWebhookMaxBackoffSeconds / RESULT_WEBHOOK_MAX_BACKOFF_SECONDS
  // Webhook safety and throughput (issue 5): comma/space-separated host names, "*.suffix",
  // IPs or CIDR networks; deny wins; an empty allow list allows every host not denied.
  std::string webhook_allowed_hosts;               // webhookAllowedHosts / WEBHOOK_ALLOWED_HOSTS
  std::string webhook_denied_hosts;                // webhookDeniedHosts / WEBHOOK_DENIED_HOSTS (added to the built-in link-local list; "none" drops it)
  int webhook_concurrency = 8;                     // webhookConcurrency / WEBHOOK_CONCURRENCY: POSTs in flight (1..256)
  int webhook_timeout_seconds = 10;                // webhookTimeoutSeconds / WEBHOOK_TIMEOUT_SECONDS (D16)
  int64_t max_body_bytes = 1048576;                // maxBodyBytes / MAX_BODY_BYTES (D9)
  int max_lease_seconds = 86400;                   // maxLeaseSeconds / MAX_LEASE_SECONDS (D15)
  std::string durability = "sync";                 // durability / DURABILITY: sync|async (embedded store)
  int64_t min_free_disk_bytes = int64_t{256} << 20; // minFreeDiskBytes / MIN_FREE_DISK_BYTES: embedded store's free-space guard
  std::string listen_address = "0.0.0.0";          // listenAddress / LISTEN_ADDRESS
  int max_connections = 10000;                     // maxConnections / MAX_CONNECTIONS: open HTTP connections; beyond → 503 and close
  int request_header_timeout_seconds = 5;          // requestHeaderTimeoutSeconds / REQUEST_HEADER_TIMEOUT_SECONDS (SPEC §8.4)
  int request_body_timeout_seconds = 30;           // requestBodyTimeoutSeconds / REQUEST_BODY_TIMEOUT_SECONDS: whole body after the headers
  int io_threads = 0;                              // ioThreads / IO_THREADS: threads serving HTTP (1..256); 0 = one per CPU, at least 2
  bool dev = false;                                // set by `codeq serve --dev` (forces env=dev); not a YAML/env key

  /// True when `env`, trimmed and lower-cased, equals "dev" (SPEC §8.3). Gates the X-Role fallback (D14).
  bool IsDevMode() const;
};

/// Which flags of `codeq serve` were given; filled by CLI11 (RegisterServeFlags). Unset = not given.
struct ConfigFlags {
  std::optional<std::string> config_path;  // --config
  std::optional<int> port;                 // --port
  std::optional<std::string> store;        // --store
  std::optional<std::string> data_dir;     // --data-dir
  std::optional<std::string> env;          // --env
  std::optional<std::string> log_level;    // --log-level
  std::optional<std::string> log_format;   // --log-format
  std::optional<std::string> durability;   // --durability
  std::optional<std::string> listen_address;  // --listen
  std::optional<int64_t> max_body_bytes;   // --max-body-bytes
  bool dev = false;                        // --dev: env=dev, non-dev validation skipped
  bool print_config = false;               // --print-config: print the effective config and exit
};

/// Registers the flags of ConfigFlags on the `serve` subcommand (--config, --port, --store, --data-dir,
/// --env, --log-level, --log-format, --durability, --listen, --max-body-bytes, --dev, --print-config),
/// each described with its environment variable and default. `flags` must outlive parsing.
void RegisterServeFlags(CLI::App& serve, ConfigFlags& flags);

/// Environment lookup by variable name; nullopt when unset. Tests inject a map.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// The process environment (getenv).
EnvLookup ProcessEnv();

/// Loads the configuration (SPEC §8.1): defaults < YAML file (flags.config_path, else env
/// CODEQ_CONFIG_PATH; no path → no file) < environment < flags; then derivations (§8.2: identityJwksUrl
/// and identityIssuer from identityServiceUrl, only when it is set) and validation (§8.3 plus store,
/// port, durability; the non-dev requirements are skipped in dev mode, which flags.dev forces).
/// Sources: empty environment values are ignored; integer env values that fail to parse are ignored;
/// any integer ≤ 0 becomes its default; empty strings with a non-empty default become that default;
/// bool env values: `true`/`yes` (any case) or `1` → true, any other non-empty value → false.
/// producerAuthConfig/workerAuthConfig: YAML nested mapping or a JSON string; env JSON text.
/// Errors: InvalidArgument("load config: ...") when a given file is missing/unreadable/invalid YAML, a
/// YAML value has the wrong type or an auth config is not valid JSON; InvalidArgument("config
/// validation failed: a; b; ...") when validation fails.
Result<Config> LoadConfig(const ConfigFlags& flags, const EnvLookup& env);

/// The effective configuration as YAML text using the SPEC key names (§8.2, plus D20's), in a form
/// LoadConfig reads back. Non-empty secrets are replaced by "****": redisPassword,
/// identityServiceApiKey, webhookHmacSecret, the password inside a redis:// store URL, and inside the
/// auth configs every member whose name contains token/secret/password/apikey (and a bare string
/// config, which the static provider reads as the token itself, §3.3).
std::string PrintConfig(const Config& config);

/// A Redis endpoint (SPEC D21 URL form).
struct RedisUrl {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string password;  // empty = no AUTH
  std::string username;  // ACL user of `redis://user:password@host`; empty = default user
};

/// Parses `redis://[[user]:password@]host[:port][/db]` (port default 6379, db default 0; userinfo
/// percent-decoded; IPv6 hosts in brackets). Errors (InvalidArgument): another scheme (rediss:// is
/// rejected as unsupported TLS), missing host, a port outside 1..65535, a db that is not a
/// non-negative integer, query or fragment present.
Result<RedisUrl> ParseRedisUrl(std::string_view url);

/// The Redis endpoint of a config whose store is not "embedded": the URL of `store`, or for
/// store "redis" the `redisAddr` (host:port) with `redisPassword`. A URL without a password also takes
/// `redisPassword`. Errors: InvalidArgument for the embedded store or an unparsable address.
Result<RedisUrl> RedisTarget(const Config& config);

}  // namespace codeq
