#include "api/json_body.h"

#include <boost/url/parse.hpp>

#include <cmath>

namespace codeq::api {
namespace json = boost::json;

namespace {

/// False when `v` holds a non-finite number anywhere: Boost.JSON reads a number beyond the double
/// range (1e400) as ±infinity, which serializes as `Infinity`, not JSON. O(size); the parser has
/// already bounded the depth.
bool AllNumbersFinite(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return std::isfinite(v.get_double());
    case json::kind::array:
      for (const auto& e : v.get_array()) {
        if (!AllNumbersFinite(e)) return false;
      }
      return true;
    case json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (!AllNumbersFinite(kv.value())) return false;
      }
      return true;
    default:
      return true;
  }
}

}  // namespace

Result<json::object> ParseObjectBody(std::string_view body, bool empty_is_object,
                                     std::string_view error_text) {
  std::string_view trimmed = body;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.remove_prefix(1);
  if (trimmed.empty()) {
    if (empty_is_object) return json::object{};
    return InvalidArgument(std::string(error_text));
  }
  json::parse_options opts;
  opts.max_depth = 64;
  json::error_code ec;
  json::value v = json::parse(body, ec, json::storage_ptr(), opts);
  if (ec || !v.is_object() || !AllNumbersFinite(v)) return InvalidArgument(std::string(error_text));
  return std::move(v.as_object());
}

bool ReadInt(const json::object& o, std::string_view key, std::optional<int64_t>& out) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return true;
  if (it->value().is_int64()) {
    out = it->value().get_int64();
    return true;
  }
  if (it->value().is_uint64()) {  // beyond int64: saturate, every caller clamps anyway
    out = INT64_MAX;
    return true;
  }
  return false;
}

bool ReadString(const json::object& o, std::string_view key, std::optional<std::string>& out) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return true;
  if (!it->value().is_string()) return false;
  out = std::string(it->value().get_string());
  return true;
}

bool ReadBool(const json::object& o, std::string_view key, std::optional<bool>& out) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return true;
  if (!it->value().is_bool()) return false;
  out = it->value().get_bool();
  return true;
}

bool ReadStringArray(const json::object& o, std::string_view key,
                     std::optional<std::vector<std::string>>& out) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return true;
  if (!it->value().is_array()) return false;
  std::vector<std::string> v;
  for (const auto& e : it->value().get_array()) {
    if (!e.is_string()) return false;
    v.emplace_back(e.get_string());
  }
  out = std::move(v);
  return true;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool IsValidCommand(std::string_view c) {
  if (c.empty() || c.size() > 128) return false;
  for (unsigned char ch : c) {
    if (!(std::isalnum(ch) || ch == '.' || ch == '_' || ch == '-')) return false;
  }
  return true;
}

bool IsHttpUrl(std::string_view url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) return false;
  auto scheme = u->scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) return false;
  return u->has_authority() && !u->host().empty();
}

}  // namespace codeq::api
