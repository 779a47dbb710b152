// Which webhook and callback URLs codeQ may call (issue 5 safety rules): http/https only, and a
// configurable allow/deny list of host names and IP networks, checked against the URL at create
// time and against every resolved address at delivery time (so DNS cannot smuggle a denied
// address in).
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.h"

namespace codeq::webhooks {

/// A parsed http/https URL target.
struct UrlTarget {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; IPv6 without brackets
  uint16_t port = 0;   // explicit or the scheme default (80/443)
};

/// Parses an absolute http/https URL with a non-empty host (Boost.URL). Errors: InvalidArgument.
Result<UrlTarget> ParseHttpUrl(std::string_view url);

/// One IP network (CIDR), IPv4 or IPv6; IPv4-mapped IPv6 addresses match IPv4 networks.
struct IpNetwork {
  std::array<uint8_t, 16> addr{};  // IPv4 stored as ::ffff:a.b.c.d
  int prefix_bits = 128;           // over the 128-bit form
  bool Contains(const std::array<uint8_t, 16>& ip) const;
};

/// Allow/deny rules. Each entry is a host name ("hooks.example.com"), a wildcard suffix
/// ("*.example.com": any subdomain, not the apex), an IP literal or a CIDR network ("10.0.0.0/8",
/// "fd00::/8"). Deny wins over allow; an empty allow list allows every host not denied.
class UrlPolicy {
 public:
  /// Builds a policy from comma/whitespace-separated lists (config webhookAllowedHosts /
  /// webhookDeniedHosts). Errors: InvalidArgument naming a malformed entry (bad CIDR prefix…).
  static Result<UrlPolicy> Make(std::string_view allowed, std::string_view denied);

  /// Create-time check of a webhook/callbackUrl (SPEC §2.3, §2.11): InvalidArgument("invalid")
  /// when not an http/https URL with a host, InvalidArgument("denied") when the host name or IP
  /// literal is denied or not allowed. Does not resolve names (no DNS on the request path).
  Status CheckUrl(std::string_view url) const;

  /// Delivery-time check of one resolved address for `host` (the URL's host name). True when
  /// allowed: not in a denied network, and — when the allow list is not empty — the host name or
  /// the address is allowed.
  bool AllowsAddress(std::string_view host, const sockaddr* addr) const;

 private:
  struct Rules {
    std::vector<std::string> names;     // exact, lower case
    std::vector<std::string> suffixes;  // ".example.com" from "*.example.com"
    std::vector<IpNetwork> networks;
    bool empty() const { return names.empty() && suffixes.empty() && networks.empty(); }
    bool MatchesName(std::string_view host) const;
    bool MatchesIp(const std::array<uint8_t, 16>& ip) const;
  };
  static Result<Rules> ParseRules(std::string_view list);
  Rules allow_, deny_;
};

/// The 16-byte form of an IP literal (IPv4 → ::ffff:a.b.c.d); nullopt when `text` is not one.
std::optional<std::array<uint8_t, 16>> ParseIp(std::string_view text);

}  // namespace codeq::webhooks
