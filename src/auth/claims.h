// Validated token claims and the validator plug-in interface (SPEC §3.1).
#pragma once

#include <boost/json.hpp>

#include <cstdint>
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
  /// True when Validate(token) answers without waiting for the network (no JWKS fetch; a
  /// signature check of tens of µs is fine), so an I/O thread may call it inline. Default: always.
  virtual bool AnswersWithoutWaiting(std::string_view token) {
    (void)token;
    return true;
  }
};

}  // namespace codeq
