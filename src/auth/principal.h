// The authenticated caller as seen by handlers (SPEC §3.4–3.6).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace codeq {

/// Who is calling, resolved from validated claims by the Authenticator.
struct Principal {
  std::string subject;       // token `sub`; task ownership compares it with workerId (§3.6)
  std::string email;
  std::string role;          // upper-cased; "USER" when no role claim (and no dev X-Role)
  std::string tenant;        // D1: explicit tenant claim, validated; "" = unscoped keys
  std::string worker_group;  // raw string claim `workerGroup`, "" when absent
  std::vector<std::string> scopes, event_types;
  bool is_admin = false;  // producer side only: scope codeq:admin, raw role ADMIN (case-insens.), or dev X-Role ADMIN

  /// True when `scope` is one of the token's scopes (exact match).
  bool HasScope(std::string_view scope) const;
  /// True when the token's eventTypes contain `cmd` (case-sensitive) or the wildcard "*".
  bool AllowsEvent(std::string_view cmd) const;
  /// True when the token's eventTypes contain the wildcard "*".
  bool HasWildcard() const;
};

}  // namespace codeq
