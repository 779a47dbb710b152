// Provider config parsing and validator construction (SPEC §3.1–3.3).
#include "auth/validator_factory.h"

#include <cmath>
#include <limits>

#include "auth/ascii_text.h"
#include "auth/rsa_key.h"
#include "auth/static_validator.h"

namespace codeq {

namespace {

constexpr int64_t kNanosPerMs = 1'000'000;
constexpr int64_t kNanosPerSecond = 1'000'000'000;

/// Member `name` of `obj`, matched ASCII case-insensitively; an exact match wins.
const boost::json::value* FindMember(const boost::json::object& obj, std::string_view name) {
  if (const boost::json::value* v = obj.if_contains(name)) return v;
  for (const auto& kv : obj) {
    if (auth_text::EqualsIgnoreCase(std::string_view(kv.key().data(), kv.key().size()), name)) return &kv.value();
  }
  return nullptr;
}

/// Nanoseconds per unit of a Go duration unit, 0 when unknown.
double UnitNanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  if (unit == "m") return 60e9;
  if (unit == "h") return 3600e9;
  return 0;
}

std::optional<int64_t> ParseGoDuration(std::string_view s) {
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  double total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    std::string_view number = s.substr(start, i - start);
    if (number.empty() || number == "." || number.find('.') != number.rfind('.')) return std::nullopt;
    size_t unit_start = i;
    while (i < s.size() && !((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    double per_unit = UnitNanos(s.substr(unit_start, i - unit_start));
    if (per_unit == 0) return std::nullopt;
    double value = 0, scale = 1;
    bool fraction = false;
    for (char c : number) {
      if (c == '.') { fraction = true; continue; }
      if (fraction) { scale /= 10; value += (c - '0') * scale; }
      else value = value * 10 + (c - '0');
    }
    total += value * per_unit;
    if (total > 9e18) return std::nullopt;
  }
  return static_cast<int64_t>(std::llround(total));
}

}  // namespace

std::optional<int64_t> ParseDurationNanos(const boost::json::value& v) {
  if (v.is_int64()) return v.get_int64() >= 0 ? std::optional<int64_t>(v.get_int64()) : std::nullopt;
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_string()) {
    return ParseGoDuration(auth_text::Trim(std::string_view(v.get_string().data(), v.get_string().size())));
  }
  return std::nullopt;
}

Result<JwtValidatorOptions> ParseJwtValidatorOptions(const boost::json::value& config) {
  const Status invalid = InvalidArgument("jwks auth: invalid config");
  if (config.is_null()) return InvalidArgument("jwksURL is required");
  if (!config.is_object()) return invalid;
  const boost::json::object& obj = config.get_object();
  JwtValidatorOptions opts;

  struct Required {
    const char* name;
    std::string* out;
    const char* error;
  };
  for (const Required& r : {Required{"jwksUrl", &opts.jwks_url, "jwksURL is required"},
                            Required{"issuer", &opts.issuer, "issuer is required"},
                            Required{"audience", &opts.audience, "audience is required"}}) {
    const boost::json::value* v = FindMember(obj, r.name);
    if (v != nullptr && !v->is_null() && !v->is_string()) return invalid;
    if (v != nullptr && v->is_string()) {
      *r.out = std::string(auth_text::Trim(std::string_view(v->get_string().data(), v->get_string().size())));
    }
    if (r.out->empty()) return InvalidArgument(r.error);
  }
  if (const boost::json::value* v = FindMember(obj, "clockSkew"); v != nullptr && !v->is_null()) {
    auto ns = ParseDurationNanos(*v);
    if (!ns) return invalid;
    opts.clock_skew_seconds = *ns / kNanosPerSecond;
  }
  if (const boost::json::value* v = FindMember(obj, "httpTimeout"); v != nullptr && !v->is_null()) {
    auto ns = ParseDurationNanos(*v);
    if (!ns) return invalid;
    if (*ns > 0) opts.http_timeout_ms = std::max<int64_t>(1, *ns / kNanosPerMs);
  }
  if (const boost::json::value* v = FindMember(obj, "algorithms"); v != nullptr && !v->is_null()) {
    if (!v->is_array() || v->get_array().empty()) return invalid;
    opts.algorithms.clear();
    for (const boost::json::value& a : v->get_array()) {
      if (!a.is_string()) return invalid;
      std::string alg(a.get_string().data(), a.get_string().size());
      if (DigestForJwsAlg(alg) == nullptr) return InvalidArgument("jwks auth: unsupported algorithm");
      opts.algorithms.push_back(std::move(alg));
    }
  }
  return opts;
}

Result<std::shared_ptr<TokenValidator>> MakeTokenValidator(std::string_view provider,
                                                           const boost::json::value& config,
                                                           const Clock& clock) {
  std::string_view name = auth_text::Trim(provider);
  if (name.empty()) return std::shared_ptr<TokenValidator>();
  if (auth_text::EqualsIgnoreCase(name, "jwks")) {
    auto opts = ParseJwtValidatorOptions(config);
    if (!opts.ok()) return opts.status();
    return std::shared_ptr<TokenValidator>(std::make_shared<JwtValidator>(std::move(opts).value(), clock));
  }
  if (auth_text::EqualsIgnoreCase(name, "static")) {
    auto v = StaticValidator::Create(config);
    if (!v.ok()) return v.status();
    return std::shared_ptr<TokenValidator>(std::move(v).value());
  }
  return InvalidArgument("unknown auth provider type: " + std::string(name));
}

}  // namespace codeq
