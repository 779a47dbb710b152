#include "domain/json_read.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace codeq::json_read {
namespace json = boost::json;

void PutNonEmpty(json::object& o, std::string_view k, const std::string& v) {
  if (!v.empty()) o[k] = v;
}

bool GetString(const json::object& o, std::string_view k, std::string& out) {
  auto it = o.find(k);
  if (it == o.end() || it->value().is_null()) return true;
  if (!it->value().is_string()) return false;
  out = std::string(it->value().get_string());
  return true;
}

bool ToInt(const json::value& v, int& out) {
  constexpr int kMin = std::numeric_limits<int>::min();
  constexpr int kMax = std::numeric_limits<int>::max();
  if (v.is_int64()) {
    out = static_cast<int>(std::clamp<int64_t>(v.get_int64(), kMin, kMax));
    return true;
  }
  if (v.is_uint64()) {
    out = v.get_uint64() > static_cast<uint64_t>(kMax) ? kMax : static_cast<int>(v.get_uint64());
    return true;
  }
  // A double beyond int64 used to be converted with undefined behaviour (found by fuzzing).
  if (v.is_double() && std::isfinite(v.get_double()) && v.get_double() == std::trunc(v.get_double())) {
    out = static_cast<int>(std::clamp<double>(v.get_double(), kMin, kMax));
    return true;
  }
  return false;
}

bool GetInt(const json::object& o, std::string_view k, int& out) {
  auto it = o.find(k);
  if (it == o.end() || it->value().is_null()) return true;
  return ToInt(it->value(), out);
}

}  // namespace codeq::json_read
