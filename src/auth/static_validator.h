// The `static` provider: one fixed development token (SPEC §3.3).
#pragma once

#include <boost/json.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "auth/claims.h"

namespace codeq {

/// Accepts exactly one configured token and returns the configured claims (no expiry).
/// Thread-safe (immutable after construction).
class StaticValidator : public TokenValidator {
 public:
  /// Builds from the provider config (SPEC §3.3): a JSON string (the token) or an object
  /// {"token" (required, trimmed), "subject" (default "static"), "email", "scopes": [string],
  /// "eventTypes": [string], "raw": {object}}. Start-up errors (InvalidArgument):
  /// null config → "static auth: missing config"; no/blank token → "static auth: token is required";
  /// any other type or a member of the wrong type → "static auth: invalid config".
  static Result<std::unique_ptr<StaticValidator>> Create(const boost::json::value& config);

  /// A validator for `token` returning `claims` (used by Create and tests). `token` is trimmed.
  StaticValidator(std::string token, Claims claims);

  /// The presented token, trimmed, must equal the configured one (constant-time compare);
  /// else Unauthenticated("invalid token"). Returns a copy of the configured claims.
  Result<Claims> Validate(std::string_view token) override;

 private:
  std::string token_;
  Claims claims_;
};

}  // namespace codeq
