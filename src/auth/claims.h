// Validated token claims and the validator plug-in interface (SPEC §3.1).
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.h"

namespace codeq {

/// Claims of a validated token (SPEC §3.1).
struct Claims {
  std::string subject, email, issuer;
  std::vector<std::string> audience;
  int64_t expires_at = 0;  // epoch seconds, 0 = none
  int64_t issued_at = 0;   // epoch seconds, 0 = none
  std::vector<std::string> scopes;       // from the space-separated `scope` claim
  std::vector<std::string> event_types;  // from the `eventTypes` array claim
  boost::json::object raw;               // every claim
};

/// Turns a bearer token into Claims, or Unauthenticated(reason). Thread-safe.
/// The reason is a short fixed text that never contains any part of the token (SPEC D13).
class TokenValidator {
 public:
  virtual ~TokenValidator() = default;
  virtual Result<Claims> Validate(std::string_view token) = 0;
  /// Validate, with the Claims shared instead of copied: a validator that caches verified tokens
  /// returns its cached object, so a request with a known token copies no claims. The object
  /// never changes. Default: Validate's result, moved into a new shared object.
  virtual Result<std::shared_ptr<const Claims>> ValidateShared(std::string_view token) {
    Result<Claims> claims = Validate(token);
    if (!claims.ok()) return claims.status();
    return std::make_shared<const Claims>(std::move(*claims));
  }
  /// True when Validate(token) answers without waiting for the network (no JWKS fetch; a
  /// signature check of tens of µs is fine), so an I/O thread may call it inline. Default: always.
  virtual bool AnswersWithoutWaiting(std::string_view token) {
    (void)token;
    return true;
  }
  /// The claims of `token` when it was verified earlier and is still valid, looked up without any
  /// other work (no parsing, no signature check, no waiting): then ValidateShared(token) would
  /// answer with this very object. nullptr when not known that way; ValidateShared decides then.
  /// Default: nullptr (no cache).
  virtual std::shared_ptr<const Claims> CachedClaims(std::string_view token) {
    (void)token;
    return nullptr;
  }
};

}  // namespace codeq
