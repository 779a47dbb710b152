// Authentication middleware (SPEC §2.2, §3.4–3.5, D1, D14).
#include "auth/authenticator.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "auth/ascii_text.h"

namespace codeq {

namespace {

/// A validator's failure as a 401 with its reason (a validator should already use that code).
Status AsUnauthenticated(const Status& s) {
  return Unauthenticated(s.message().empty() ? std::string("invalid token") : s.message());
}

/// Upper-cased trimmed raw `role` string claim, "" when absent or not a string.
std::string RawRole(const Claims& claims) {
  const boost::json::value* v = claims.raw.if_contains("role");
  if (v == nullptr || !v->is_string()) return {};
  const boost::json::string& s = v->get_string();
  return auth_text::ToUpper(auth_text::Trim(std::string_view(s.data(), s.size())));
}

/// Fields shared by both sides: identity, scopes, event types, worker group, tenant.
Result<Principal> BasePrincipal(const Claims& claims, bool fallback_to_subject) {
  Result<std::string> tenant = ResolveTenant(claims, fallback_to_subject);
  if (!tenant.ok()) return tenant.status();
  Principal p;
  p.subject = claims.subject;
  p.email = claims.email;
  p.scopes = claims.scopes;
  p.event_types = claims.event_types;
  p.tenant = std::move(tenant).value();
  if (const boost::json::value* g = claims.raw.if_contains("workerGroup"); g != nullptr && g->is_string()) {
    p.worker_group.assign(g->get_string().data(), g->get_string().size());
  }
  return p;
}

// True when a byte of `s` is <= ' ', as every ASCII space character is: a prefilter, so the usual
// token (no such byte) costs a few instructions per eight bytes instead of per byte. A JWT is often
// 1 KB, and every request parses its Authorization header. Eight bytes at a time with the classic
// "has a byte less than n" word test, exact for n <= 128: (w - 0x01..01 * n) & ~w & 0x80..80.
bool HasByteUpToSpace(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighBits = 0x8080808080808080ull;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (((w - kOnes * (' ' + 1)) & ~w & kHighBits) != 0) return true;
  }
  for (; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) <= ' ') return true;
  }
  return false;
}

}  // namespace

Result<std::string_view> ParseBearerToken(std::string_view authorization) {
  std::string_view header = auth_text::Trim(authorization);
  if (header.empty()) return Unauthenticated("missing Authorization header");
  size_t space = header.find(' ');
  if (space == std::string_view::npos || !auth_text::EqualsIgnoreCase(header.substr(0, space), "bearer")) {
    return Unauthenticated("invalid Authorization format");
  }
  std::string_view token = header.substr(space + 1);
  if (token.empty()) return Unauthenticated("invalid Authorization format");
  if (HasByteUpToSpace(token) && std::any_of(token.begin(), token.end(), auth_text::IsSpace)) {
    return Unauthenticated("invalid Authorization format");
  }
  return token;
}

bool IsValidTenant(std::string_view tenant) {
  if (tenant.empty() || tenant.size() > 64) return false;
  for (char c : tenant) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<std::string> ResolveTenant(const Claims& claims, bool fallback_to_subject) {
  std::string tenant;
  for (std::string_view name : {"tenantId", "tenant_id", "organizationId", "organization_id"}) {
    const boost::json::value* v = claims.raw.if_contains(name);
    if (v == nullptr || !v->is_string()) continue;
    tenant = auth_text::Trim(std::string_view(v->get_string().data(), v->get_string().size()));
    break;  // the first string-valued claim decides, even when blank
  }
  if (tenant.empty() && fallback_to_subject) tenant = auth_text::Trim(claims.subject);
  if (!tenant.empty() && !IsValidTenant(tenant)) return Unauthenticated("invalid tenant");
  return tenant;
}

Authenticator::Authenticator(AuthOptions options, std::shared_ptr<TokenValidator> producer,
                             std::shared_ptr<TokenValidator> worker)
    : options_(std::move(options)), producer_(std::move(producer)), worker_(std::move(worker)) {}

Result<Principal> Authenticator::ProducerPrincipal(const Claims& claims, std::string_view x_role) const {
  Result<Principal> p = BasePrincipal(claims, options_.tenant_fallback_to_subject);
  if (!p.ok()) return p;
  std::string raw_role = RawRole(claims);
  p->role = raw_role;
  if (p->role.empty() && options_.dev_mode) p->role = auth_text::ToUpper(auth_text::Trim(x_role));
  if (p->role.empty()) p->role = "USER";
  // p->role already includes the raw role and, in dev mode only, the X-Role fallback.
  p->is_admin = p->HasScope(kAdminScope) || raw_role == "ADMIN" || p->role == "ADMIN";
  return p;
}

Result<Principal> Authenticator::WorkerPrincipal(const Claims& claims) const {
  Result<Principal> p = BasePrincipal(claims, options_.tenant_fallback_to_subject);
  if (!p.ok()) return p;
  p->role = RawRole(claims);
  if (p->role.empty()) p->role = "USER";
  p->is_admin = false;  // worker tokens are never considered for admin (§3.4)
  return p;
}

bool Authenticator::AnswersWithoutWaiting(std::string_view authorization, AuthGroup group) const {
  Result<std::string_view> token = ParseBearerToken(authorization);
  if (!token.ok()) return true;
  // Every validator the group may run must answer without waiting: the worker endpoints fall back
  // to the producer validator (allowProducerAsWorker), and so does the any-auth group.
  auto quick = [&](const std::shared_ptr<TokenValidator>& v) { return !v || v->AnswersWithoutWaiting(*token); };
  switch (group) {
    case AuthGroup::kProducer:
      return quick(producer_);
    case AuthGroup::kWorker:
      return quick(worker_) && (!options_.allow_producer_as_worker || quick(producer_));
    case AuthGroup::kAny:
      break;
  }
  return quick(worker_) && quick(producer_);
}

std::optional<Result<Principal>> Authenticator::AuthenticateCached(std::string_view authorization, AuthGroup group,
                                                                   std::string_view required_scope,
                                                                   std::string_view x_role) const {
  // The same validator, checks and order as the Authenticate* call of `group`, for a token whose
  // claims that call would take from the same cache; anything else is left to that call.
  const std::shared_ptr<TokenValidator>& first = group == AuthGroup::kProducer ? producer_ : worker_;
  if (!first) return std::nullopt;
  Result<std::string_view> token = ParseBearerToken(authorization);
  if (!token.ok()) return std::nullopt;
  std::shared_ptr<const Claims> claims = first->CachedClaims(*token);
  if (!claims) return std::nullopt;
  switch (group) {
    case AuthGroup::kProducer:
      return ProducerPrincipal(*claims, x_role);
    case AuthGroup::kWorker: {
      // ValidateWorkerToken's requirements; a token failing them may still pass as a producer's.
      if (claims->event_types.empty() || claims->scopes.empty()) return std::nullopt;
      return WorkerEndpointPrincipal(*claims, required_scope);
    }
    case AuthGroup::kAny:
      break;
  }
  if (claims->event_types.empty()) return std::nullopt;  // AuthenticateAny tries the producer then
  return WorkerPrincipal(*claims);
}

Result<std::shared_ptr<const Claims>> Authenticator::ValidateWorkerToken(std::string_view token) const {
  Result<std::shared_ptr<const Claims>> claims = worker_->ValidateShared(token);
  if (!claims.ok()) return AsUnauthenticated(claims.status());
  if ((*claims)->event_types.empty()) return Unauthenticated("missing eventTypes");
  if ((*claims)->scopes.empty()) return Unauthenticated("missing scope");
  return claims;
}

Result<Principal> Authenticator::AuthenticateProducer(std::string_view authorization,
                                                      std::string_view x_role) const {
  if (!producer_) return Internal("producer validator not configured");
  Result<std::string_view> token = ParseBearerToken(authorization);
  if (!token.ok()) return token.status();
  Result<std::shared_ptr<const Claims>> claims = producer_->ValidateShared(*token);
  if (!claims.ok()) return AsUnauthenticated(claims.status());
  return ProducerPrincipal(**claims, x_role);
}

Result<Principal> Authenticator::AuthenticateWorker(std::string_view authorization,
                                                    std::string_view required_scope) const {
  if (!worker_) return Internal("worker validator not configured");
  Result<std::string_view> token = ParseBearerToken(authorization);
  if (!token.ok()) return token.status();

  Result<std::shared_ptr<const Claims>> claims = ValidateWorkerToken(*token);
  if (!claims.ok() && options_.allow_producer_as_worker && producer_) {
    Result<std::shared_ptr<const Claims>> producer_claims = producer_->ValidateShared(*token);
    if (producer_claims.ok()) {
      const Claims& from = **producer_claims;
      auto synthetic = std::make_shared<Claims>();
      synthetic->subject = from.subject;
      synthetic->email = from.email;
      synthetic->issuer = from.issuer;
      synthetic->expires_at = from.expires_at;
      synthetic->issued_at = from.issued_at;
      synthetic->raw = from.raw;
      synthetic->audience = {options_.worker_audience};
      synthetic->scopes.assign(std::begin(kWorkerScopes), std::end(kWorkerScopes));
      synthetic->event_types = {"*"};
      claims = std::shared_ptr<const Claims>(std::move(synthetic));
    }
  }
  if (!claims.ok()) return claims.status();  // the worker failure text (§3.4 step 3)

  return WorkerEndpointPrincipal(**claims, required_scope);
}

Result<Principal> Authenticator::WorkerEndpointPrincipal(const Claims& claims, std::string_view required_scope) const {
  Result<Principal> p = WorkerPrincipal(claims);
  if (!p.ok()) return p;
  if (!required_scope.empty() && !p->HasScope(required_scope)) return Forbidden("missing scope");
  return p;
}

Result<Principal> Authenticator::AuthenticateAny(std::string_view authorization, std::string_view x_role) const {
  if (!worker_ && !producer_) return Internal("auth validators not configured");
  Result<std::string_view> token = ParseBearerToken(authorization);
  if (!token.ok()) return token.status();
  if (worker_) {
    Result<std::shared_ptr<const Claims>> claims = worker_->ValidateShared(*token);
    if (claims.ok() && !(*claims)->event_types.empty()) return WorkerPrincipal(**claims);
  }
  if (producer_) {
    Result<std::shared_ptr<const Claims>> claims = producer_->ValidateShared(*token);
    if (claims.ok()) return ProducerPrincipal(**claims, x_role);
  }
  return Unauthenticated("invalid token");
}

Status Authenticator::RequireAdmin(const Principal& p) {
  return p.is_admin ? Status::Ok() : Forbidden("unauthorized. Admin only");
}

}  // namespace codeq
