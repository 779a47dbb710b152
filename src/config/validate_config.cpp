// Configuration validation: SPEC §8.3 plus this implementation's store, port and durability checks.
#include <string>
#include <vector>

#include <boost/url/parse.hpp>

#include "config/config_internal.h"

namespace codeq::config_internal {
namespace {

bool IsHttpUrlWithHost(std::string_view text) {
  auto u = boost::urls::parse_uri(text);
  if (!u) return false;
  std::string scheme = Lower(u->scheme());
  return (scheme == "http" || scheme == "https") && !u->host().empty();
}

// The store must be "embedded", "redis" (then redisAddr is used) or a parsable redis:// URL.
void ValidateStore(const Config& cfg, std::vector<std::string>& errors) {
  if (cfg.store == "embedded") return;
  if (cfg.store == "redis") {
    if (auto r = RedisTarget(cfg); !r.ok()) errors.push_back("redisAddr: " + r.status().message());
    return;
  }
  std::string lower = Lower(cfg.store);
  if (lower.starts_with("rediss://")) {
    errors.push_back("store: rediss:// (TLS) is not supported; use redis://");
  } else if (lower.starts_with("redis://")) {
    if (auto r = ParseRedisUrl(cfg.store); !r.ok()) errors.push_back("store: " + r.status().message());
  } else {
    errors.push_back("store must be \"embedded\", \"redis\" or a redis:// URL");
  }
}

}  // namespace

Status Validate(const Config& cfg) {
  std::vector<std::string> errors;
  const bool dev = cfg.IsDevMode();

  if (cfg.port < 1 || cfg.port > 65535) errors.push_back("port must be between 1 and 65535");
  ValidateStore(cfg, errors);
  if (cfg.durability != "sync" && cfg.durability != "async") {
    errors.push_back("durability must be sync or async");
  }

  // SPEC §8.3, in its order.
  if (!dev && cfg.worker_jwks_url.empty()) errors.push_back("workerJwksUrl is required in non-dev");
  if (!cfg.worker_jwks_url.empty() && !IsHttpUrlWithHost(cfg.worker_jwks_url)) {
    errors.push_back("workerJwksUrl must be a valid http(s) URL");
  }
  if (!dev && cfg.worker_issuer.empty()) errors.push_back("workerIssuer is required in non-dev");
  if (cfg.worker_audience.empty()) errors.push_back("workerAudience is required");
  if (!dev && cfg.identity_jwks_url.empty()) errors.push_back("identityJwksUrl is required in non-dev");
  if (cfg.webhook_concurrency > 256) errors.push_back("webhookConcurrency must be at most 256");
  if (cfg.io_threads > 256) errors.push_back("ioThreads must be at most 256");
  if (cfg.webhook_timeout_seconds > 300) errors.push_back("webhookTimeoutSeconds must be at most 300");
  if (!dev && Trim(cfg.webhook_hmac_secret).empty()) {
    errors.push_back("webhookHmacSecret is required when webhooks are enabled");
  }

  if (errors.empty()) return Status::Ok();
  std::string msg = "config validation failed: ";
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i > 0) msg += "; ";
    msg += errors[i];
  }
  return InvalidArgument(std::move(msg));
}

}  // namespace codeq::config_internal
