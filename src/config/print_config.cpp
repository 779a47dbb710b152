// PrintConfig: the effective configuration as YAML with secrets masked (`codeq serve --print-config`).
#include <boost/json/serialize.hpp>
#include <yaml-cpp/yaml.h>

#include "config/config_internal.h"
#include "domain/secret_mask.h"

namespace codeq {
namespace config_internal {

std::string MaskUrlUserinfo(std::string_view text) {
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return std::string(text);
  size_t start = scheme_end + 3;
  size_t authority_end = text.find_first_of("/?#", start);
  if (authority_end == std::string_view::npos) authority_end = text.size();
  size_t at = text.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
  if (at == std::string_view::npos || at < start) return std::string(text);
  std::string_view userinfo = text.substr(start, at - start);
  size_t colon = userinfo.find(':');
  std::string out(text.substr(0, start));
  if (colon != std::string_view::npos) out += userinfo.substr(0, colon + 1);
  out += kSecretMask;
  out += text.substr(at);
  return out;
}

}  // namespace config_internal

namespace {

constexpr const char* kMasked = kSecretMask.data();  // a literal: NUL-terminated

bool IsSecretMemberName(std::string_view name) {
  std::string n = config_internal::Lower(name);
  for (std::string_view word : {"token", "secret", "password", "apikey", "api_key", "api-key"}) {
    if (n.find(word) != std::string::npos) return true;
  }
  return false;
}

bool IsEmptyValue(const boost::json::value& v) {
  return v.is_null() || (v.is_string() && v.get_string().empty());
}

// Emits a JSON value as YAML. Strings are double-quoted so that LoadConfig reads them back as strings.
void EmitJson(YAML::Emitter& out, const boost::json::value& v, bool mask_strings) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out << YAML::Null;
      break;
    case boost::json::kind::bool_:
      out << v.get_bool();
      break;
    case boost::json::kind::string:
      out << YAML::DoubleQuoted
          << (mask_strings && !v.get_string().empty() ? std::string(kMasked)
                                                      : std::string(v.get_string()));
      break;
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      out << boost::json::serialize(v);
      break;
    case boost::json::kind::array:
      out << YAML::BeginSeq;
      for (const auto& item : v.get_array()) EmitJson(out, item, mask_strings);
      out << YAML::EndSeq;
      break;
    case boost::json::kind::object:
      out << YAML::BeginMap;
      for (const auto& member : v.get_object()) {
        out << YAML::Key << std::string(member.key()) << YAML::Value;
        if (IsSecretMemberName(member.key()) && !IsEmptyValue(member.value())) {
          out << YAML::DoubleQuoted << kMasked;  // whatever its type: never show it
        } else {
          EmitJson(out, member.value(), mask_strings);
        }
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace

std::string PrintConfig(const Config& config) {
  YAML::Emitter out;
  out << YAML::Comment("codeq effective configuration; secrets masked as ****") << YAML::Newline;
  out << YAML::BeginMap;
  for (const config_internal::Key& key : config_internal::Keys()) {
    out << YAML::Key << std::string(key.yaml) << YAML::Value;
    std::visit(
        [&](auto member) {
          const auto& value = config.*member;
          using T = std::remove_cvref_t<decltype(value)>;
          if constexpr (std::is_same_v<T, std::string>) {
            if (key.mask == config_internal::Mask::kSecret && !value.empty()) {
              out << YAML::DoubleQuoted << kMasked;
            } else {
              std::string shown = config_internal::MaskUrlUserinfo(value);
              // Control characters or edge spaces would not survive a plain scalar (a trailing
              // '\r' is read back as a line end): quote, so the printed config reads back equal.
              bool plain_unsafe = !shown.empty() && (shown.front() == ' ' || shown.back() == ' ');
              for (unsigned char c : shown) plain_unsafe = plain_unsafe || c < 0x20 || c == 0x7f;
              if (plain_unsafe) out << YAML::DoubleQuoted;
              out << shown;
            }
          } else if constexpr (std::is_same_v<T, boost::json::value>) {
            if (value.is_string()) {
              // A bare string config is the static provider's token itself (§3.3). LoadConfig
              // reads a scalar as JSON text, so print the JSON text of the (masked) string.
              boost::json::value shown(value.get_string().empty() ? "" : kMasked);
              out << YAML::SingleQuoted << boost::json::serialize(shown);
            } else {
              EmitJson(out, value, /*mask_strings=*/false);
            }
          } else {
            out << value;
          }
        },
        key.field);
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace codeq
