#include "api/json_body.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cmath>
#include <optional>

namespace codeq::api {
namespace json = boost::json;

namespace {

/// False when `v` holds a non-finite number anywhere: Boost.JSON reads a number beyond the double
/// range (1e400) as ±infinity, which serializes as `Infinity`, not JSON. O(size); the parser has
/// already bounded the depth.
/// Also sets `big_integral` when a double is a whole number beyond the 64-bit integer range: it may
/// come from an integer literal Boost.JSON could not hold exactly (see HasOversizedIntegerLiteral).
bool AllNumbersFinite(const json::value& v, bool& big_integral) {
  switch (v.kind()) {
    case json::kind::double_: {
      const double d = v.get_double();
      if (std::isfinite(d) && std::fabs(d) >= 9223372036854775808.0 && d == std::trunc(d)) big_integral = true;
      return std::isfinite(d);
    }
    case json::kind::array:
      for (const auto& e : v.get_array()) {
        if (!AllNumbersFinite(e, big_integral)) return false;
      }
      return true;
    case json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (!AllNumbersFinite(kv.value(), big_integral)) return false;
      }
      return true;
    default:
      return true;
  }
}

/// A boost::json::basic_parser handler that only looks at number literals: `found` turns true for
/// a literal without fraction or exponent that the parser had to read as a double (it did not fit
/// int64/uint64), i.e. an integer that cannot be kept exactly (SPEC D17).
/// With a non-empty `entries_of`, it also tells apart the entries of the top-level array member
/// of that name (the last one, as the parsed object keeps the last of duplicate keys):
/// `bad_entries` gets the index of each entry holding such a literal, `found` is then only set by
/// literals outside that array.
struct OversizedIntegerFinder {
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;
  bool found = false;
  std::string number;  // the parts of a number split across writes (not with one write)
  std::string_view entries_of;
  std::vector<size_t> bad_entries;
  int depth = 0;             // containers open around the current value
  std::string key;           // the latest key of the top-level object (parts joined)
  bool key_complete = true;  // the next key part starts a new key
  bool in_entries = false;   // inside the `entries_of` array
  size_t entries_seen = 0;   // entries of that array begun so far

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) {
    Value();
    if (depth == 1 && !entries_of.empty() && key == entries_of) {
      in_entries = true;
      entries_seen = 0;
      bad_entries.clear();
    }
    ++depth;
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) {
    if (--depth == 1) in_entries = false;
    return true;
  }
  bool on_object_begin(json::error_code&) {
    Value();
    ++depth;
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    --depth;
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return Value(); }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    KeyPart(s);
    key_complete = false;
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    KeyPart(s);
    key_complete = true;
    return true;
  }
  void KeyPart(json::string_view s) {
    if (depth != 1) return;
    if (key_complete) key.clear();
    key.append(s.data(), s.size());
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t, json::string_view, json::error_code&) { return Value() && Reset(); }
  bool on_uint64(uint64_t, json::string_view, json::error_code&) { return Value() && Reset(); }
  bool on_double(double, json::string_view s, json::error_code&) {
    Value();
    number.append(s.data(), s.size());
    if (number.find_first_of(".eE") == std::string::npos) {
      if (!in_entries) {
        found = true;
      } else if (bad_entries.empty() || bad_entries.back() != entries_seen - 1) {
        bad_entries.push_back(entries_seen - 1);
      }
    }
    return Reset();
  }
  bool on_bool(bool, json::error_code&) { return Value(); }
  bool on_null(json::error_code&) { return Value(); }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
  // A value starts at the current depth: directly in the entries array, it begins an entry.
  bool Value() {
    if (in_entries && depth == 2) ++entries_seen;
    return true;
  }
  bool Reset() {
    number.clear();
    return true;
  }
};

/// Runs the finder over `body` (already parsed successfully). A second pass over the text, run
/// only when the parsed value shows a candidate. O(size).
OversizedIntegerFinder FindOversizedIntegers(std::string_view body, const json::parse_options& opts,
                                             std::string_view entries_of = {}) {
  json::basic_parser<OversizedIntegerFinder> p(opts);
  p.handler().entries_of = entries_of;
  json::error_code ec;
  p.write_some(false, body.data(), body.size(), ec);
  if (ec) return {};
  return std::move(p.handler());
}

/// Whether `body` (already parsed successfully) has an integer literal beyond the 64-bit range.
bool HasOversizedIntegerLiteral(std::string_view body, const json::parse_options& opts) {
  return FindOversizedIntegers(body, opts).found;
}

/// Containers nested in `v`, `v` included (a scalar is 0, `{}` is 1). Stops counting past `limit`.
int Depth(const json::value& v, int limit) {
  if (limit < 0) return 0;
  int inner = 0;
  if (v.is_array()) {
    for (const auto& e : v.get_array()) inner = std::max(inner, Depth(e, limit - 1));
  } else if (v.is_object()) {
    for (const auto& kv : v.get_object()) inner = std::max(inner, Depth(kv.value(), limit - 1));
  } else {
    return 0;
  }
  return inner + 1;
}

constexpr int kMaxDepth = 64;
constexpr int kMaxBatchParseDepth = 1024;

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
  opts.max_depth = kMaxDepth;
  json::error_code ec;
  json::value v = json::parse(body, ec, json::storage_ptr(), opts);
  bool big_integral = false;
  if (ec || !v.is_object()) return InvalidArgument(std::string(error_text));
  const bool finite = AllNumbersFinite(v, big_integral);
  // SPEC D17 keeps integers exactly; one that does not fit 64 bits could only be rounded (and one
  // beyond the double range would become infinity).
  if ((big_integral || !finite) && HasOversizedIntegerLiteral(body, opts)) {
    return InvalidArgument(std::string(error_text) + ": integer out of range (at most 64 bits)");
  }
  if (!finite) return InvalidArgument(std::string(error_text));
  return std::move(v.as_object());
}

Result<BatchBody> ParseBatchBody(std::string_view body, std::string_view entries_of, std::string_view error_text) {
  std::string_view trimmed = body;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.remove_prefix(1);
  if (trimmed.empty()) return InvalidArgument(std::string(error_text));
  // Deeper than a single body, so that an entry nested too deep is that entry's error (up to this
  // bound, which fails the whole request; it keeps the recursion of the checks below bounded).
  json::parse_options opts;
  opts.max_depth = kMaxBatchParseDepth;
  json::error_code ec;
  json::value v = json::parse(body, ec, json::storage_ptr(), opts);
  if (ec || !v.is_object()) return InvalidArgument(std::string(error_text));
  BatchBody out;
  out.body = std::move(v.as_object());
  const std::string out_of_range = std::string(error_text) + ": integer out of range (at most 64 bits)";
  // Everything but the entries, under the rules of a single body.
  bool outside_big = false, outside_finite = true;
  for (const auto& kv : out.body) {
    const bool entries = kv.key() == entries_of && kv.value().is_array();
    if (!entries && Depth(kv.value(), kMaxDepth) + 1 > kMaxDepth) return InvalidArgument(std::string(error_text));
    if (!entries && !AllNumbersFinite(kv.value(), outside_big)) outside_finite = false;
  }
  std::optional<OversizedIntegerFinder> finder;
  auto find = [&]() -> const OversizedIntegerFinder& {
    if (!finder) finder = FindOversizedIntegers(body, opts, entries_of);
    return *finder;
  };
  if ((outside_big || !outside_finite) && find().found) return InvalidArgument(out_of_range);
  if (!outside_finite) return InvalidArgument(std::string(error_text));
  // Each entry under the rules of a single body of its own: one that breaks them has its error.
  const json::value* entries = out.body.if_contains(entries_of);
  if (entries == nullptr || !entries->is_array()) return out;
  const json::array& a = entries->get_array();
  out.entry_errors.resize(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (Depth(a[i], kMaxDepth) > kMaxDepth) {
      out.entry_errors[i] = InvalidArgument(std::string(error_text));
      continue;
    }
    bool big = false;
    const bool finite = AllNumbersFinite(a[i], big);
    if ((big || !finite) && std::binary_search(find().bad_entries.begin(), find().bad_entries.end(), i)) {
      out.entry_errors[i] = InvalidArgument(out_of_range);
    } else if (!finite) {
      out.entry_errors[i] = InvalidArgument(std::string(error_text));
    }
  }
  return out;
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
