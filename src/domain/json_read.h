// Small readers and writers for optional members of stored JSON records (task, result and
// subscription codecs). Internal to domain/.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace codeq::json_read {

/// Sets member `k` to `v` unless `v` is empty (absent = "" on read). O(size).
void PutNonEmpty(boost::json::object& o, std::string_view k, const std::string& v);

/// Optional string member: absent or null -> `out` unchanged, true; a string -> copied, true;
/// any other type -> false. O(size).
bool GetString(const boost::json::object& o, std::string_view k, std::string& out);

/// An integral JSON number as an int: int64/uint64 values and integral doubles (other
/// implementations and Lua's cjson may write them), saturating beyond int's range. False, with
/// `out` unchanged, for any other type and for fractional or non-finite doubles. O(1).
bool ToInt(const boost::json::value& v, int& out);

/// Optional integer member: absent or null -> `out` unchanged, true. Accepts integral doubles
/// (other implementations and Lua's cjson may write them); values beyond int's range saturate.
/// Any other type or a fractional / non-finite double -> false. O(1).
bool GetInt(const boost::json::object& o, std::string_view k, int& out);

}  // namespace codeq::json_read
