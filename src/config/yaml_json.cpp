// YAML → JSON conversion for the nested-mapping form of producerAuthConfig/workerAuthConfig (§8.2).
#include <charconv>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "config/config_internal.h"

namespace codeq::config_internal {
namespace {

// A plain (unquoted) scalar typed as YAML 1.2's core schema would: null, bool, int, float, else string.
boost::json::value PlainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  const char* b = s.data();
  const char* e = b + s.size();
  int64_t i = 0;
  if (auto [p, ec] = std::from_chars(b, e, i); ec == std::errc() && p == e) return i;
  // Only digit-like text may become a double (from_chars would also take "inf"/"nan").
  if (s.find_first_not_of("0123456789+-.eE") == std::string::npos) {
    double d = 0;
    if (auto [p, ec] = std::from_chars(b, e, d); ec == std::errc() && p == e) return d;
  }
  return boost::json::string(s);
}

}  // namespace

Result<boost::json::value> YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return boost::json::value(nullptr);
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted scalars "!" and plain ones "?".
      if (node.Tag() == "!") return boost::json::value(boost::json::string(node.Scalar()));
      return PlainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      boost::json::array arr;
      for (const YAML::Node& item : node) {
        auto v = YamlToJson(item);
        if (!v.ok()) return v;
        arr.push_back(std::move(v).value());
      }
      return boost::json::value(std::move(arr));
    }
    case YAML::NodeType::Map: {
      boost::json::object obj;
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) return InvalidArgument("mapping keys must be scalars");
        auto v = YamlToJson(kv.second);
        if (!v.ok()) return v;
        obj[kv.first.Scalar()] = std::move(v).value();
      }
      return boost::json::value(std::move(obj));
    }
  }
  return InvalidArgument("unsupported YAML node");
}

}  // namespace codeq::config_internal
