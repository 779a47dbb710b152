// The configuration key table (SPEC §8.2, D20): YAML name, environment variable, Config member.
// Defaults live in Config's member initialisers (config.h), not here.
#include <array>

#include "config/config_internal.h"

namespace codeq::config_internal {
namespace {

using C = Config;

const std::array kKeys = {
    // SPEC §8.2, in its order.
    Key{"port", "PORT", "", &C::port},
    Key{"redisAddr", "REDIS_ADDR", "", &C::redis_addr},
    Key{"redisPassword", "REDIS_PASSWORD", "KVROCKS_PASSWORD", &C::redis_password, Mask::kSecret},
    Key{"identityServiceUrl", "IDENTITY_SERVICE_URL", "", &C::identity_service_url},
    Key{"identityServiceApiKey", "IDENTITY_SERVICE_API_KEY", "", &C::identity_service_api_key, Mask::kSecret},
    Key{"identityJwksUrl", "IDENTITY_JWKS_URL", "", &C::identity_jwks_url},
    Key{"identityIssuer", "IDENTITY_ISSUER", "", &C::identity_issuer},
    Key{"identityAudience", "IDENTITY_AUDIENCE", "", &C::identity_audience},
    Key{"producerAuthProvider", "PRODUCER_AUTH_PROVIDER", "", &C::producer_auth_provider},
    Key{"producerAuthConfig", "PRODUCER_AUTH_CONFIG", "", &C::producer_auth_config, Mask::kAuthConfig},
    Key{"workerJwksUrl", "WORKER_JWKS_URL", "", &C::worker_jwks_url},
    Key{"workerIssuer", "WORKER_ISSUER", "", &C::worker_issuer},
    Key{"workerAudience", "WORKER_AUDIENCE", "", &C::worker_audience},
    Key{"workerAuthProvider", "WORKER_AUTH_PROVIDER", "", &C::worker_auth_provider},
    Key{"workerAuthConfig", "WORKER_AUTH_CONFIG", "", &C::worker_auth_config, Mask::kAuthConfig},
    Key{"allowedClockSkewSeconds", "ALLOWED_CLOCK_SKEW_SECONDS", "", &C::allowed_clock_skew_seconds},
    Key{"allowProducerAsWorker", "ALLOW_PRODUCER_AS_WORKER", "", &C::allow_producer_as_worker},
    Key{"timezone", "TIMEZONE", "", &C::timezone},
    Key{"logLevel", "LOG_LEVEL", "", &C::log_level},
    Key{"logFormat", "LOG_FORMAT", "", &C::log_format},
    Key{"env", "ENV", "", &C::env},
    Key{"defaultLeaseSeconds", "DEFAULT_LEASE_SECONDS", "", &C::default_lease_seconds},
    Key{"requeueInspectLimit", "REQUEUE_INSPECT_LIMIT", "", &C::requeue_inspect_limit},
    Key{"maxAttemptsDefault", "MAX_ATTEMPTS_DEFAULT", "", &C::max_attempts_default},
    Key{"backoffPolicy", "BACKOFF_POLICY", "", &C::backoff_policy},
    Key{"backoffBaseSeconds", "BACKOFF_BASE_SECONDS", "", &C::backoff_base_seconds},
    Key{"backoffMaxSeconds", "BACKOFF_MAX_SECONDS", "", &C::backoff_max_seconds},
    Key{"localArtifactsDir", "LOCAL_ARTIFACTS_DIR", "", &C::local_artifacts_dir},
    Key{"webhookHmacSecret", "WEBHOOK_HMAC_SECRET", "", &C::webhook_hmac_secret, Mask::kSecret},
    Key{"subscriptionMinIntervalSeconds", "SUBSCRIPTION_MIN_INTERVAL_SECONDS", "",
        &C::subscription_min_interval_seconds},
    Key{"subscriptionCleanupIntervalSeconds", "SUBSCRIPTION_CLEANUP_INTERVAL_SECONDS", "",
        &C::subscription_cleanup_interval_seconds},
    Key{"resultWebhookMaxAttempts", "RESULT_WEBHOOK_MAX_ATTEMPTS", "", &C::result_webhook_max_attempts},
    Key{"resultWebhookBaseBackoffSeconds", "RESULT_WEBHOOK_BASE_BACKOFF_SECONDS", "",
        &C::result_webhook_base_backoff_seconds},
    Key{"resultWebhookMaxBackoffSeconds", "RESULT_WEBHOOK_MAX_BACKOFF_SECONDS", "",
        &C::result_webhook_max_backoff_seconds},
    // D1, D9, D15, D20 and this implementation's additions.
    Key{"tenantFallbackToSubject", "TENANT_FALLBACK_TO_SUBJECT", "", &C::tenant_fallback_to_subject},
    Key{"store", "STORE", "", &C::store},
    Key{"dataDir", "DATA_DIR", "", &C::data_dir},
    Key{"durability", "DURABILITY", "", &C::durability},
    Key{"minFreeDiskBytes", "MIN_FREE_DISK_BYTES", "", &C::min_free_disk_bytes},
    Key{"listenAddress", "LISTEN_ADDRESS", "", &C::listen_address},
    Key{"maxBodyBytes", "MAX_BODY_BYTES", "", &C::max_body_bytes},
    Key{"maxLeaseSeconds", "MAX_LEASE_SECONDS", "", &C::max_lease_seconds},
    Key{"webhookAllowedHosts", "WEBHOOK_ALLOWED_HOSTS", "", &C::webhook_allowed_hosts},
    Key{"webhookDeniedHosts", "WEBHOOK_DENIED_HOSTS", "", &C::webhook_denied_hosts},
    Key{"webhookConcurrency", "WEBHOOK_CONCURRENCY", "", &C::webhook_concurrency},
    Key{"webhookTimeoutSeconds", "WEBHOOK_TIMEOUT_SECONDS", "", &C::webhook_timeout_seconds},
    // HTTP limits against slow or too many clients (issue 8, docs/security.md).
    Key{"maxConnections", "MAX_CONNECTIONS", "", &C::max_connections},
    Key{"requestHeaderTimeoutSeconds", "REQUEST_HEADER_TIMEOUT_SECONDS", "", &C::request_header_timeout_seconds},
    Key{"requestBodyTimeoutSeconds", "REQUEST_BODY_TIMEOUT_SECONDS", "", &C::request_body_timeout_seconds},
    // Threads running the HTTP server (issue 7, docs/performance.md).
    Key{"ioThreads", "IO_THREADS", "", &C::io_threads},
};

}  // namespace

std::span<const Key> Keys() { return kKeys; }

}  // namespace codeq::config_internal
