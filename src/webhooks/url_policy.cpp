#include "webhooks/url_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>
#include <cstring>

namespace codeq::webhooks {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::array<uint8_t, 16> MappedV4(const in_addr& a) {
  std::array<uint8_t, 16> out{};
  out[10] = out[11] = 0xff;
  std::memcpy(out.data() + 12, &a, 4);
  return out;
}

std::optional<std::array<uint8_t, 16>> FromSockaddr(const sockaddr* addr) {
  if (addr == nullptr) return std::nullopt;
  if (addr->sa_family == AF_INET) return MappedV4(reinterpret_cast<const sockaddr_in*>(addr)->sin_addr);
  if (addr->sa_family == AF_INET6) {
    std::array<uint8_t, 16> out{};
    std::memcpy(out.data(), &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, 16);
    return out;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::array<uint8_t, 16>> ParseIp(std::string_view text) {
  std::string s(text);
  in_addr v4{};
  // inet_aton also reads the legacy forms resolvers accept ("127.1", "2130706433", "0x7f000001"),
  // so they cannot slip past a denied network as "host names".
  if (inet_aton(s.c_str(), &v4) != 0) return MappedV4(v4);
  std::array<uint8_t, 16> v6{};
  if (inet_pton(AF_INET6, s.c_str(), v6.data()) == 1) return v6;
  return std::nullopt;
}

bool IpNetwork::Contains(const std::array<uint8_t, 16>& ip) const {
  int bits = prefix_bits;
  for (size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((ip[i] & mask) != (addr[i] & mask)) return false;
  }
  return true;
}

Result<UrlTarget> ParseHttpUrl(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return InvalidArgument("not an absolute URL");
  UrlTarget t;
  t.scheme = Lower(parsed->scheme());
  if (t.scheme != "http" && t.scheme != "https") return InvalidArgument("scheme must be http or https");
  if (parsed->host_type() == boost::urls::host_type::ipv6) {
    t.host = Lower(parsed->host_address());
  } else {
    t.host = Lower(parsed->encoded_host());
  }
  if (t.host.empty()) return InvalidArgument("missing host");
  if (parsed->has_port()) {
    std::string_view port = parsed->port();
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) {
      return InvalidArgument("invalid port");
    }
    int number = std::stoi(std::string(port));
    if (number < 1 || number > 65535) return InvalidArgument("invalid port");
    t.port = static_cast<uint16_t>(number);
  } else {
    t.port = t.scheme == "https" ? 443 : 80;
  }
  return t;
}

bool UrlPolicy::Rules::MatchesName(std::string_view host) const {
  for (const auto& n : names) {
    if (n == host) return true;
  }
  for (const auto& suffix : suffixes) {
    if (host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix) return true;
  }
  return false;
}

namespace {

// The IPv4 address an IPv6 address carries, as ::ffff:a.b.c.d, for the forms that can reach that
// IPv4 host. In the last 4 bytes: IPv4-compatible ::a.b.c.d (RFC 4291 §2.5.5.1, not :: or ::1),
// IPv4-translated ::ffff:0:a.b.c.d (RFC 2765), NAT64 64:ff9b::/96 (RFC 6052) and the local-use
// NAT64 prefix 64:ff9b:1::/48 (RFC 8215, with the usual /96 embedding). In bytes 2..5: 6to4
// 2002:aabb:ccdd::/48 (RFC 3056). nullopt for any other address.
std::optional<std::array<uint8_t, 16>> EmbeddedIpv4(const std::array<uint8_t, 16>& ip) {
  static constexpr std::array<uint8_t, 12> kCompatible{};
  static constexpr std::array<uint8_t, 12> kTranslated{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
  static constexpr std::array<uint8_t, 12> kNat64{0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  static constexpr std::array<uint8_t, 6> kNat64Local{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01};
  auto starts_with = [&](const auto& prefix) { return std::equal(prefix.begin(), prefix.end(), ip.begin()); };
  std::array<uint8_t, 16> v4{};
  v4[10] = v4[11] = 0xff;
  if (ip[0] == 0x20 && ip[1] == 0x02) {  // 6to4
    std::copy(ip.begin() + 2, ip.begin() + 6, v4.begin() + 12);
    return v4;
  }
  const bool compatible = starts_with(kCompatible) && (ip[12] | ip[13] | ip[14]) != 0;  // not :: or ::1
  if (!compatible && !starts_with(kTranslated) && !starts_with(kNat64) && !starts_with(kNat64Local)) {
    return std::nullopt;
  }
  std::copy(ip.begin() + 12, ip.end(), v4.begin() + 12);
  return v4;
}

}  // namespace

bool UrlPolicy::Rules::MatchesIp(const std::array<uint8_t, 16>& ip) const {
  auto matches = [&](const std::array<uint8_t, 16>& a) {
    return std::any_of(networks.begin(), networks.end(), [&](const IpNetwork& n) { return n.Contains(a); });
  };
  if (matches(ip)) return true;
  auto v4 = EmbeddedIpv4(ip);
  return v4 && matches(*v4);
}

Result<UrlPolicy::Rules> UrlPolicy::ParseRules(std::string_view list) {
  Rules rules;
  size_t i = 0;
  while (i < list.size()) {
    auto is_sep = [](char c) { return c == ',' || std::isspace(static_cast<unsigned char>(c)); };
    while (i < list.size() && is_sep(list[i])) ++i;
    size_t start = i;
    while (i < list.size() && !is_sep(list[i])) ++i;
    if (start == i) break;
    std::string entry = Lower(list.substr(start, i - start));
    std::string_view addr_part = entry;
    int prefix = -1;
    if (auto slash = entry.find('/'); slash != std::string::npos) {
      addr_part = std::string_view(entry).substr(0, slash);
      std::string bits = entry.substr(slash + 1);
      if (bits.empty() || bits.size() > 3 || !std::all_of(bits.begin(), bits.end(), ::isdigit)) {
        return InvalidArgument("invalid network '" + entry + "'");
      }
      prefix = std::stoi(bits);
    }
    auto ip = ParseIp(addr_part);
    if (ip) {
      bool v4 = addr_part.find(':') == std::string_view::npos;
      int max_bits = v4 ? 32 : 128;
      if (prefix < 0) prefix = max_bits;
      if (prefix > max_bits) return InvalidArgument("invalid network '" + entry + "'");
      rules.networks.push_back(IpNetwork{*ip, v4 ? prefix + 96 : prefix});
    } else if (prefix >= 0) {
      return InvalidArgument("invalid network '" + entry + "'");
    } else if (entry.rfind("*.", 0) == 0 && entry.size() > 2) {
      rules.suffixes.push_back(entry.substr(1));
    } else if (entry.find_first_of("*/@:") == std::string::npos) {
      rules.names.push_back(entry);
    } else {
      return InvalidArgument("invalid host entry '" + entry + "'");
    }
  }
  return rules;
}

Result<UrlPolicy> UrlPolicy::Make(std::string_view allowed, std::string_view denied) {
  auto allow = ParseRules(allowed);
  if (!allow.ok()) return InvalidArgument("webhookAllowedHosts: " + allow.status().message());
  auto deny = ParseRules(denied);
  if (!deny.ok()) return InvalidArgument("webhookDeniedHosts: " + deny.status().message());
  UrlPolicy p;
  p.allow_ = std::move(*allow);
  p.deny_ = std::move(*deny);
  return p;
}

Status UrlPolicy::CheckUrl(std::string_view url) const {
  auto target = ParseHttpUrl(url);
  if (!target.ok()) return InvalidArgument("invalid");
  auto ip = ParseIp(target->host);
  bool denied = ip ? deny_.MatchesIp(*ip) : deny_.MatchesName(target->host);
  if (denied) return InvalidArgument("denied");
  if (!allow_.empty()) {
    bool allowed = ip ? allow_.MatchesIp(*ip) : allow_.MatchesName(target->host);
    // A host name may still resolve into an allowed network: decided at delivery time.
    if (!allowed && (ip || allow_.networks.empty())) return InvalidArgument("denied");
  }
  return Status::Ok();
}

bool UrlPolicy::AllowsAddress(std::string_view host, const sockaddr* addr) const {
  auto ip = FromSockaddr(addr);
  if (!ip) return false;
  if (deny_.MatchesIp(*ip) || deny_.MatchesName(host)) return false;
  if (allow_.empty()) return true;
  return allow_.MatchesName(host) || allow_.MatchesIp(*ip);
}

}  // namespace codeq::webhooks
