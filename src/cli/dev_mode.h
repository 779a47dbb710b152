// Development mode of `codeq serve --dev` (D14): local keys, a JWKS file, ready-made tokens.
#pragma once

#include <memory>
#include <string>

#include "auth/claims.h"
#include "config/config.h"
#include "domain/clock.h"

namespace codeq::cli {

/// What dev mode set up: the validators and the minted tokens.
struct DevSetup {
  std::shared_ptr<TokenValidator> producer, worker;
  std::string producer_token, worker_token, admin_token;
  std::string jwks_path, tokens_dir;
};

/// Creates (or reuses) `<dataDir>/dev/signing-key.pem`, writes `<dataDir>/dev/jwks.json`, builds
/// JWKS validators on it (issuer "codeq-dev", audiences "codeq-producer"/"codeq-worker") and mints
/// producer, worker and admin tokens valid for 30 days, also written to `<dataDir>/dev/*.token`.
Result<DevSetup> SetUpDevMode(const Config& config, const Clock& clock);

}  // namespace codeq::cli
