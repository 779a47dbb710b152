// Authentication middleware: bearer header → validated claims → Principal (SPEC §2.2, §3.4–3.5, D1, D14).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/claims.h"
#include "auth/principal.h"
#include "domain/status.h"

namespace codeq {

/// Middleware settings (SPEC §8.2 names in comments).
struct AuthOptions {
  bool dev_mode = false;                    // env == "dev": honour X-Role (D14)
  bool allow_producer_as_worker = false;    // allowProducerAsWorker (§3.4 worker step 2)
  bool tenant_fallback_to_subject = false;  // tenantFallbackToSubject (D1)
  std::string worker_audience = "codeq-worker";  // workerAudience, used in synthetic worker claims
};

/// The six worker scopes granted to a producer token used as a worker (§3.4 step 2).
inline constexpr std::string_view kWorkerScopes[] = {"codeq:claim",  "codeq:heartbeat", "codeq:abandon",
                                                     "codeq:nack",   "codeq:result",    "codeq:subscribe"};

/// The scope that makes a producer an admin (§3.4).
inline constexpr std::string_view kAdminScope = "codeq:admin";

/// Extracts the token from an `Authorization` header value (§2.2): blank → 401
/// "missing Authorization header"; not `<scheme> <token>` with scheme "Bearer" (any case), one
/// space, and a non-empty token without whitespace → 401 "invalid Authorization format".
/// The result points into `authorization`.
Result<std::string_view> ParseBearerToken(std::string_view authorization);

/// True when `tenant` matches [A-Za-z0-9._-]{1,64} (D1).
bool IsValidTenant(std::string_view tenant);

/// Resolves the tenant (§3.5 as amended by D1): the first of raw `tenantId`, `tenant_id`,
/// `organizationId`, `organization_id` that is a string (trimmed; the search stops there even if it
/// is blank); none/blank → "" unless `fallback_to_subject` (then the trimmed subject). A non-empty
/// result failing IsValidTenant → 401 "invalid tenant".
Result<std::string> ResolveTenant(const Claims& claims, bool fallback_to_subject);

/// The endpoint groups of §3.4.
enum class AuthGroup { kProducer, kWorker, kAny };

/// Turns `Authorization` headers into Principals for the three endpoint groups (§3.4).
/// Errors are Statuses carrying SPEC §2.2's literal texts: kInternal when the group's validator is
/// missing, kUnauthenticated (401) for authentication failures, kForbidden (403) for scope/admin
/// denials. Thread-safe when the validators are.
class Authenticator {
 public:
  /// Either validator may be null (that side's endpoints then answer 500).
  Authenticator(AuthOptions options, std::shared_ptr<TokenValidator> producer,
                std::shared_ptr<TokenValidator> worker);

  /// Producer group (endpoints 1, 11-13). x_role = the X-Role header (honoured only in dev mode).
  /// Errors: Internal("producer validator not configured"), 401 header errors, 401 validator
  /// reason, 401 "invalid tenant".
  Result<Principal> AuthenticateProducer(std::string_view authorization, std::string_view x_role) const;

  /// Worker group (2-8): worker validator (valid, non-empty eventTypes, some scope), else with
  /// allow_producer_as_worker a producer token with synthetic worker claims, else 401 with the
  /// worker failure text ("missing eventTypes", "missing scope", or the validator's reason).
  /// Then a non-empty `required_scope` the token lacks → Forbidden("missing scope").
  /// Also Internal("worker validator not configured"), 401 header errors, 401 "invalid tenant".
  Result<Principal> AuthenticateWorker(std::string_view authorization, std::string_view required_scope) const;

  /// Any-auth group (9-10): worker validator first (valid and non-empty eventTypes; scopes not
  /// required), else producer (with x_role as in AuthenticateProducer), else 401 "invalid token".
  /// Internal("auth validators not configured") when neither exists; 401 header errors first.
  Result<Principal> AuthenticateAny(std::string_view authorization, std::string_view x_role) const;

  /// Whether authenticating `authorization` for `group` answers without waiting for the network:
  /// every validator the group may run (TokenValidator::AnswersWithoutWaiting) can answer from
  /// its caches, or the header is rejected before any validator runs. Otherwise the call may wait
  /// for a JWKS fetch (up to its HTTP timeout), which an I/O thread must not do inline (api::Api
  /// runs it on a separate pool). O(token length).
  bool AnswersWithoutWaiting(std::string_view authorization, AuthGroup group) const;

  /// The common case in one step: when the token is in the verified-token cache of the validator
  /// the group runs first (TokenValidator::CachedClaims) and that validator decides, the outcome
  /// of AuthenticateProducer / AuthenticateWorker (with `required_scope`) / AuthenticateAny for
  /// `group`, from those claims: one header parse and one cache lookup instead of
  /// AnswersWithoutWaiting's plus the call's. std::nullopt otherwise (not cached, a malformed
  /// header, a worker token the group would reject and hand to the producer validator): the
  /// caller then goes the usual way, with the same outcome it would have had. O(token length).
  std::optional<Result<Principal>> AuthenticateCached(std::string_view authorization, AuthGroup group,
                                                      std::string_view required_scope,
                                                      std::string_view x_role) const;

  /// Admin check (§3.4, 403 per its recommendation): Forbidden("unauthorized. Admin only") unless
  /// p.is_admin.
  static Status RequireAdmin(const Principal& p);

  const AuthOptions& options() const { return options_; }

 private:
  /// Principal of a producer token: role with the dev X-Role fallback, is_admin, tenant.
  Result<Principal> ProducerPrincipal(const Claims& claims, std::string_view x_role) const;
  /// Principal of (possibly synthetic) worker claims: role without X-Role, never admin, tenant.
  Result<Principal> WorkerPrincipal(const Claims& claims) const;
  /// WorkerPrincipal, then a non-empty `required_scope` the token lacks → Forbidden("missing scope").
  Result<Principal> WorkerEndpointPrincipal(const Claims& claims, std::string_view required_scope) const;
  /// Runs the worker validator plus the eventTypes/scope requirements of §3.4 step 1.
  Result<std::shared_ptr<const Claims>> ValidateWorkerToken(std::string_view token) const;

  AuthOptions options_;
  std::shared_ptr<TokenValidator> producer_;
  std::shared_ptr<TokenValidator> worker_;
};

}  // namespace codeq
