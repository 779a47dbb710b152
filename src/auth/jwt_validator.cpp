// JWT (compact JWS, RSA PKCS#1 v1.5) validation per SPEC §3.2 + D13.
#include "auth/jwt_validator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "auth/base64url.h"
#include "auth/rsa_key.h"

namespace codeq {

namespace {

constexpr int64_t kMaxSkewSeconds = 365LL * 24 * 3600;

Status Reject(const char* reason) { return Unauthenticated(reason); }

/// Decodes one base64url segment holding a JSON object.
std::optional<boost::json::object> DecodeJsonObject(std::string_view segment) {
  auto bytes = Base64UrlDecode(segment);
  if (!bytes) return std::nullopt;
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(*bytes, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

/// A JWT NumericDate as whole epoch seconds. Fractions round toward the stricter side:
/// down for `exp` (round_up=false), up for `nbf`/`iat`. nullopt when not a finite number.
std::optional<int64_t> NumericDate(const boost::json::value& v, bool round_up) {
  constexpr auto kMax = std::numeric_limits<int64_t>::max();
  constexpr auto kMin = std::numeric_limits<int64_t>::min();
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return v.get_uint64() > static_cast<uint64_t>(kMax) ? kMax : static_cast<int64_t>(v.get_uint64());
  if (v.is_double()) {
    double d = v.get_double();
    if (!std::isfinite(d)) return std::nullopt;
    d = round_up ? std::ceil(d) : std::floor(d);
    if (d >= 9.2e18) return kMax;
    if (d <= -9.2e18) return kMin;
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

/// Reads an optional string claim into `out`; false when present but not a string.
bool OptionalString(const boost::json::object& obj, std::string_view name, std::string& out) {
  const boost::json::value* v = obj.if_contains(name);
  if (v == nullptr || v->is_null()) return true;
  if (!v->is_string()) return false;
  out.assign(v->get_string().data(), v->get_string().size());
  return true;
}

void SplitScopes(std::string_view text, std::vector<std::string>& out) {
  size_t i = 0;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) out.emplace_back(text.substr(start, i - start));
  }
}

}  // namespace

JwtValidator::JwtValidator(JwtValidatorOptions options, const Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      cache_(options_.jwks_url, options_.http_timeout_ms, clock, options_.jwks_refresh_interval_ms,
             options_.unknown_kid_refetch_interval_ms),
      tokens_(options_.token_cache_size) {
  options_.clock_skew_seconds = std::clamp<int64_t>(options_.clock_skew_seconds, 0, kMaxSkewSeconds);
  // Keep only the RSA PKCS#1 algorithms we can verify; anything else can never be accepted.
  std::erase_if(options_.algorithms, [](const std::string& a) { return DigestForJwsAlg(a) == nullptr; });
}

bool JwtValidator::AnswersWithoutWaiting(std::string_view token) {
  try {
    if (token.empty() || token.size() > kMaxTokenBytes) return true;
    if (tokens_.Contains(token, clock_.NowSeconds())) return true;
    auto header = DecodeJsonObject(token.substr(0, token.find('.')));
    if (!header) return true;  // rejected as "invalid token" without a key
    const boost::json::value* kid = header->if_contains("kid");
    if (kid == nullptr || !kid->is_string() || kid->get_string().empty()) return true;  // "missing key id"
    return cache_.HasKey(std::string_view(kid->get_string().data(), kid->get_string().size()));
  } catch (...) {
    return false;  // let the pool find out
  }
}

std::shared_ptr<const Claims> JwtValidator::CachedClaims(std::string_view token) {
  try {
    if (token.empty() || token.size() > kMaxTokenBytes) return nullptr;
    return tokens_.Get(token, clock_.NowSeconds());
  } catch (...) {
    return nullptr;  // ValidateShared decides
  }
}

Result<Claims> JwtValidator::Validate(std::string_view token) {
  Result<std::shared_ptr<const Claims>> shared = ValidateShared(token);
  if (!shared.ok()) return shared.status();
  return **shared;
}

Result<std::shared_ptr<const Claims>> JwtValidator::ValidateShared(std::string_view token) {
  try {
    if (token.empty() || token.size() > kMaxTokenBytes) return Reject("invalid token");
    const int64_t now = clock_.NowSeconds();
    if (std::shared_ptr<const Claims> hit = tokens_.Get(token, now)) return hit;
    Result<Claims> claims = ValidateImpl(token);
    if (!claims.ok()) return claims.status();
    auto shared = std::make_shared<const Claims>(std::move(*claims));
    // Valid while now - skew <= exp (the expiry rule of ValidateImpl); nbf and iat already passed
    // and only become easier to pass as time moves on.
    // Saturating: `exp` may be as large as INT64_MAX (a huge or clamped NumericDate).
    const int64_t skew = options_.clock_skew_seconds;
    const int64_t exp = shared->expires_at;
    tokens_.Put(token, shared, exp > std::numeric_limits<int64_t>::max() - skew ? exp : exp + skew);
    return shared;
  } catch (...) {  // e.g. allocation failure inside the JSON parser; never let it escape
    return Reject("invalid token");
  }
}

Result<Claims> JwtValidator::ValidateImpl(std::string_view token) {
  // 1. Shape: three non-empty dot-separated parts.
  if (token.empty() || token.size() > kMaxTokenBytes) return Reject("invalid token");
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Reject("invalid token");
  }
  std::string_view header_b64 = token.substr(0, dot1);
  std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view sig_b64 = token.substr(dot2 + 1);
  if (header_b64.empty() || payload_b64.empty() || sig_b64.empty()) return Reject("invalid token");

  // 2. Header.
  auto header = DecodeJsonObject(header_b64);
  if (!header) return Reject("invalid token");
  const boost::json::value* alg_v = header->if_contains("alg");
  if (alg_v == nullptr || !alg_v->is_string()) return Reject("unsupported algorithm");
  std::string_view alg(alg_v->get_string().data(), alg_v->get_string().size());
  if (std::find(options_.algorithms.begin(), options_.algorithms.end(), alg) == options_.algorithms.end()) {
    return Reject("unsupported algorithm");
  }
  const EVP_MD* md = DigestForJwsAlg(alg);
  if (md == nullptr) return Reject("unsupported algorithm");
  if (header->contains("crit")) return Reject("invalid token");  // no extensions understood
  const boost::json::value* kid_v = header->if_contains("kid");
  if (kid_v == nullptr || !kid_v->is_string() || kid_v->get_string().empty()) {
    return Reject("missing key id");
  }
  std::string_view kid(kid_v->get_string().data(), kid_v->get_string().size());

  auto payload = DecodeJsonObject(payload_b64);
  if (!payload) return Reject("invalid token");
  auto signature = Base64UrlDecode(sig_b64);
  if (!signature) return Reject("invalid token");

  // 3. Signature over the ASCII "header.payload" exactly as received.
  Result<PkeyPtr> key = cache_.GetKey(kid);
  if (!key.ok()) {
    return Reject(key.status().code() == StatusCode::kUnauthenticated ? "unknown key id" : "jwks unavailable");
  }
  if (!RsaPkcs1Verify(key->get(), md, token.substr(0, dot2), *signature)) {
    return Reject("invalid signature");
  }

  // 4. Time claims, with leeway.
  const int64_t now = clock_.NowSeconds();
  const int64_t skew = options_.clock_skew_seconds;
  Claims claims;
  const boost::json::value* exp_v = payload->if_contains("exp");
  if (exp_v == nullptr || exp_v->is_null()) return Reject("missing exp");
  auto exp = NumericDate(*exp_v, false);
  if (!exp) return Reject("invalid token");
  if (now - skew > *exp) return Reject("token expired");
  claims.expires_at = *exp;
  if (const boost::json::value* nbf_v = payload->if_contains("nbf")) {
    auto nbf = NumericDate(*nbf_v, true);
    if (!nbf) return Reject("invalid token");
    if (now + skew < *nbf) return Reject("token not yet valid");
  }
  if (const boost::json::value* iat_v = payload->if_contains("iat")) {
    auto iat = NumericDate(*iat_v, true);
    if (!iat) return Reject("invalid token");
    if (*iat > now + skew) return Reject("token issued in the future");
    claims.issued_at = *iat;
  }

  // 5. Issuer.
  const boost::json::value* iss_v = payload->if_contains("iss");
  if (options_.issuer.empty() || iss_v == nullptr || !iss_v->is_string() ||
      iss_v->get_string() != options_.issuer) {
    return Reject("invalid issuer");
  }
  claims.issuer = options_.issuer;

  // 6. Audience: a string or an array of strings that contains ours.
  const boost::json::value* aud_v = payload->if_contains("aud");
  if (aud_v == nullptr) return Reject("invalid audience");
  if (aud_v->is_string()) {
    claims.audience.emplace_back(aud_v->get_string().data(), aud_v->get_string().size());
  } else if (aud_v->is_array()) {
    for (const boost::json::value& a : aud_v->get_array()) {
      if (!a.is_string()) return Reject("invalid audience");
      claims.audience.emplace_back(a.get_string().data(), a.get_string().size());
    }
  } else {
    return Reject("invalid audience");
  }
  if (options_.audience.empty() ||
      std::find(claims.audience.begin(), claims.audience.end(), options_.audience) == claims.audience.end()) {
    return Reject("invalid audience");
  }

  // 7. Identity, scopes and event types.
  std::string scope;
  if (!OptionalString(*payload, "sub", claims.subject) || !OptionalString(*payload, "email", claims.email) ||
      !OptionalString(*payload, "scope", scope)) {
    return Reject("invalid claims");
  }
  SplitScopes(scope, claims.scopes);
  if (const boost::json::value* ev = payload->if_contains("eventTypes"); ev != nullptr && !ev->is_null()) {
    if (!ev->is_array()) return Reject("invalid claims");
    for (const boost::json::value& e : ev->get_array()) {
      if (!e.is_string()) return Reject("invalid claims");
      if (!e.get_string().empty()) claims.event_types.emplace_back(e.get_string().data(), e.get_string().size());
    }
  }
  claims.raw = std::move(*payload);
  return claims;
}

}  // namespace codeq
