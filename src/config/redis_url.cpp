// redis:// URL parsing (SPEC D21 form) with Boost.URL, and the store's Redis endpoint.
#include <charconv>

#include <boost/url/parse.hpp>

#include "config/config.h"
#include "config/config_internal.h"

namespace codeq {
namespace {

std::optional<int> ParseNonNegative(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

// Error messages never quote the URL: it may carry a password.
Result<RedisUrl> ParseRedisUrl(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return InvalidArgument("invalid redis URL (expected redis://[:password@]host:port[/db])");
  const boost::urls::url_view& u = *parsed;
  std::string scheme = config_internal::Lower(u.scheme());
  if (scheme == "rediss") return InvalidArgument("rediss:// (TLS) is not supported; use redis://");
  if (scheme != "redis") return InvalidArgument("redis URL must start with redis://");
  if (!u.has_authority() || u.encoded_host().empty()) return InvalidArgument("redis URL has no host");
  if (u.has_query() || u.has_fragment()) {
    return InvalidArgument("redis URL must not have a query or fragment");
  }

  RedisUrl out;
  out.host = u.host_address();  // IPv6 without brackets, percent-decoded
  if (u.has_port()) {
    std::optional<int> port = ParseNonNegative(u.port());
    if (!port || *port < 1 || *port > 65535) return InvalidArgument("redis URL port must be 1..65535");
    out.port = *port;
  }
  if (u.has_userinfo()) {
    out.username = u.user();
    if (u.has_password()) out.password = u.password();
  }
  std::string path = u.path();
  if (!path.empty() && path != "/") {
    std::optional<int> db = path.front() == '/' ? ParseNonNegative(std::string_view(path).substr(1))
                                                : std::nullopt;
    if (!db) return InvalidArgument("redis URL db must be a non-negative integer");
    out.db = *db;
  }
  return out;
}

Result<RedisUrl> RedisTarget(const Config& config) {
  std::string store = config_internal::Lower(config_internal::Trim(config.store));
  if (store == "embedded") return InvalidArgument("store is embedded, not redis");
  std::string url = config_internal::Trim(store == "redis" ? config.redis_addr : config.store);
  if (store == "redis" && !config_internal::Lower(url).starts_with("redis://")) url = "redis://" + url;
  Result<RedisUrl> r = ParseRedisUrl(url);
  if (r.ok() && r->password.empty()) r->password = config.redis_password;
  return r;
}

}  // namespace codeq
