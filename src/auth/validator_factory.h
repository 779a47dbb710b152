// Building validators from provider name + JSON config (SPEC §3.1–3.3).
#pragma once

#include <boost/json.hpp>

#include <memory>
#include <optional>
#include <string_view>

#include "auth/claims.h"
#include "auth/jwt_validator.h"
#include "domain/clock.h"

namespace codeq {

/// Parses a duration config value into nanoseconds (SPEC §3.2 recommendation): a non-negative
/// JSON integer is a count of nanoseconds (RI form); a string is a Go-style duration such as
/// "60s", "5s", "1m30s", "250ms", "1.5h" (units ns, us, µs, ms, s, m, h). nullopt otherwise.
std::optional<int64_t> ParseDurationNanos(const boost::json::value& v);

/// Reads the `jwks` provider config (SPEC §3.2): members jwksUrl, issuer, audience (required),
/// clockSkew (default 60 s), httpTimeout (default 5 s), and optionally algorithms (array of
/// "RS256"/"RS384"/"RS512", default ["RS256"]). Member names match case-insensitively (as RI's
/// JSON decoding does). Start-up errors (InvalidArgument): "jwksURL is required",
/// "issuer is required", "audience is required", "jwks auth: invalid config" (wrong types,
/// bad durations), "jwks auth: unsupported algorithm".
Result<JwtValidatorOptions> ParseJwtValidatorOptions(const boost::json::value& config);

/// Builds the validator for `provider` (trimmed, case-insensitive): "jwks" → JwtValidator,
/// "static" → StaticValidator, "" → null (that side has no validator). Errors: the provider's
/// start-up error, or InvalidArgument("unknown auth provider type: <name>"). `clock` must outlive
/// the validator. Does not fetch the JWKS (see JwtValidator::Prefetch).
Result<std::shared_ptr<TokenValidator>> MakeTokenValidator(std::string_view provider,
                                                           const boost::json::value& config,
                                                           const Clock& clock);

}  // namespace codeq
