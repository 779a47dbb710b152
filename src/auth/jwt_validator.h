// The `jwks` provider: RS256 JWT validation against a JWKS (SPEC §3.2 as amended by D13).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/claims.h"
#include "auth/jwks_cache.h"
#include "auth/token_cache.h"
#include "domain/clock.h"

namespace codeq {

/// Configuration of a JwtValidator (SPEC §3.2 config members; D13 defaults).
struct JwtValidatorOptions {
  std::string jwks_url, issuer, audience;
  int64_t clock_skew_seconds = 60;  // leeway on exp, nbf and a future iat; clamped to [0, 1 year]
  int64_t http_timeout_ms = 5000;   // JWKS fetch timeout
  std::vector<std::string> algorithms = {"RS256"};  // subset of RS256, RS384, RS512; others ignored
  int64_t jwks_refresh_interval_ms = 300000;         // D13: whole set refreshed every 5 min
  int64_t unknown_kid_refetch_interval_ms = 30000;   // D13: ≤ 1 unknown-kid refetch per 30 s
  size_t token_cache_size = 10000;  // verified tokens kept until exp + skew; 0 disables the cache
};

/// Largest accepted token, in bytes; longer tokens are rejected before any decoding.
inline constexpr size_t kMaxTokenBytes = 16 * 1024;

/// Validates compact-JWS RSA tokens (SPEC §3.2, D13):
/// 1. exactly three non-empty base64url parts, at most kMaxTokenBytes in all;
/// 2. header: JSON object, `alg` in the configured list (never `none`/HS*; the algorithm is never
///    taken from the token), `kid` a non-empty string, no `crit`;
/// 3. RSASSA-PKCS1-v1_5 signature verified with the JWKS key of that kid;
/// 4. `exp` required (now > exp + skew → expired); `nbf` if present (now + skew < nbf → not yet
///    valid); `iat` if present (iat > now + skew → rejected);
/// 5. `iss` equals the issuer exactly; 6. `aud` (string or array of strings) contains the audience;
/// 7. `sub`, `email`, `scope` strings and `eventTypes` an array of strings when present.
/// Failures are Unauthenticated with one of the fixed reasons: "invalid token",
/// "unsupported algorithm", "missing key id", "unknown key id", "jwks unavailable",
/// "invalid signature", "missing exp", "token expired", "token not yet valid",
/// "token issued in the future", "invalid issuer", "invalid audience", "invalid claims".
/// An empty configured issuer or audience rejects every token (fail closed).
/// No reason echoes token content; no exception escapes. Thread-safe; a call may block on a JWKS
/// fetch for up to http_timeout_ms.
/// A token that passed every check is remembered (TokenCache, keyed by its exact text) until
/// `exp + clock_skew_seconds`, so a repeated token costs a hash lookup instead of an RSA verify.
class JwtValidator : public TokenValidator {
 public:
  /// `clock` must outlive the validator. Does not fetch; call Prefetch() to load keys early.
  JwtValidator(JwtValidatorOptions options, const Clock& clock);

  Result<Claims> Validate(std::string_view token) override;
  /// Validate without copying: a cached token's Claims are the cache's own object.
  Result<std::shared_ptr<const Claims>> ValidateShared(std::string_view token) override;
  /// False only when validating `token` may wait for a JWKS fetch: it is not in the verified-token
  /// cache, its header names a `kid`, and the key set is not loaded or lacks that kid. A token
  /// rejected before any key is needed (malformed, no kid) answers at once too.
  bool AnswersWithoutWaiting(std::string_view token) override;
  /// A hit of the verified-token cache (valid until the token's exp plus the clock skew).
  std::shared_ptr<const Claims> CachedClaims(std::string_view token) override;

  /// Loads the JWKS now (start-up); the error says why it could not.
  Status Prefetch() { return cache_.Prefetch(); }

  /// The key cache (for tests and metrics: FetchCount, KeyCount).
  const JwksCache& cache() const { return cache_; }

  const JwtValidatorOptions& options() const { return options_; }

  /// The verified-token cache (for tests).
  const TokenCache& token_cache() const { return tokens_; }

 private:
  Result<Claims> ValidateImpl(std::string_view token);

  JwtValidatorOptions options_;
  const Clock& clock_;
  JwksCache cache_;
  TokenCache tokens_;
};

}  // namespace codeq
