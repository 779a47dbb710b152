// LoadConfig: defaults < YAML file < environment < flags, then normalisation, derivation and
// validation (SPEC §8.1–8.3, D14, D20).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include <boost/json/parse.hpp>

#include "config/config.h"
#include "config/config_internal.h"
#include "domain/file_text.h"

namespace codeq {

using config_internal::Field;
using config_internal::Key;
using config_internal::Keys;
using config_internal::Lower;
using config_internal::Trim;

bool Config::IsDevMode() const { return Lower(Trim(env)) == "dev"; }

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

namespace config_internal {

std::string Trim(std::string_view s) {
  auto is_space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace config_internal

namespace {

// Whole-text integer parse; nullopt on any junk or overflow.
template <typename Int>
std::optional<Int> ParseInt(std::string_view text) {
  Int v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

Status LoadError(std::string_view what) { return InvalidArgument("load config: " + std::string(what)); }

// SPEC §8.2: `true`/`yes` in any case, or `1` → true; any other (non-empty) value → false.
bool ParseEnvBool(std::string_view text) {
  std::string v = Lower(Trim(text));
  return v == "true" || v == "yes" || v == "1";
}

Result<boost::json::value> ParseJsonText(std::string_view text, std::string_view what) {
  std::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) return LoadError(std::string(what) + " is not valid JSON: " + ec.message());
  return v;
}

// Applies one YAML value to its member. Null values leave the member alone.
Status ApplyYamlValue(const Key& key, const YAML::Node& node, Config& cfg) {
  if (node.IsNull()) return Status::Ok();
  const std::string name(key.yaml);
  auto scalar = [&]() -> std::optional<std::string> {
    if (!node.IsScalar()) return std::nullopt;
    return node.Scalar();
  };
  return std::visit(
      [&](auto member) -> Status {
        using T = std::remove_reference_t<decltype(cfg.*member)>;
        if constexpr (std::is_same_v<T, std::string>) {
          auto s = scalar();
          if (!s) return LoadError(name + ": expected a string");
          cfg.*member = *s;
        } else if constexpr (std::is_same_v<T, bool>) {
          bool b = false;
          if (!node.IsScalar() || !YAML::convert<bool>::decode(node, b)) {
            return LoadError(name + ": expected true or false");
          }
          cfg.*member = b;
        } else if constexpr (std::is_same_v<T, boost::json::value>) {
          // SPEC §8.2 recommendation: a nested mapping, or a JSON string.
          if (node.IsScalar()) {
            auto v = ParseJsonText(node.Scalar(), name);
            if (!v.ok()) return v.status();
            cfg.*member = std::move(v).value();
          } else {
            auto v = config_internal::YamlToJson(node);
            if (!v.ok()) return LoadError(name + ": " + v.status().message());
            cfg.*member = std::move(v).value();
          }
        } else {
          auto s = scalar();
          std::optional<T> v = s ? ParseInt<T>(Trim(*s)) : std::nullopt;
          if (!v) return LoadError(name + ": expected an integer");
          cfg.*member = *v;
        }
        return Status::Ok();
      },
      key.field);
}

Status ApplyYamlFile(const std::string& path, Config& cfg) {
  auto read = ReadFileText(path);
  if (!read.ok()) return LoadError(read.status().message());
  const std::string& text = *read;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return LoadError(path + ": invalid YAML: " + e.what());
  }
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap()) return LoadError(path + ": the top level must be a mapping");
  for (const Key& key : Keys()) {
    // operator[] on a const node does not insert; unknown YAML keys are ignored.
    const YAML::Node& const_root = root;
    YAML::Node node = const_root[std::string(key.yaml)];
    if (!node.IsDefined()) continue;
    Status st = ApplyYamlValue(key, node, cfg);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

Status ApplyEnv(const EnvLookup& env, Config& cfg) {
  for (const Key& key : Keys()) {
    std::optional<std::string> value = env(std::string(key.env));
    if ((!value || value->empty()) && !key.alt_env.empty()) value = env(std::string(key.alt_env));
    if (!value || value->empty()) continue;
    const std::string& text = *value;
    Status st = std::visit(
        [&](auto member) -> Status {
          using T = std::remove_reference_t<decltype(cfg.*member)>;
          if constexpr (std::is_same_v<T, std::string>) {
            cfg.*member = text;
          } else if constexpr (std::is_same_v<T, bool>) {
            cfg.*member = ParseEnvBool(text);
          } else if constexpr (std::is_same_v<T, boost::json::value>) {
            auto v = ParseJsonText(text, key.env);
            if (!v.ok()) return v.status();
            cfg.*member = std::move(v).value();
          } else if (auto v = ParseInt<T>(Trim(text))) {
            cfg.*member = *v;  // unparsable integers are ignored (§8.1)
          }
          return Status::Ok();
        },
        key.field);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

void ApplyFlags(const ConfigFlags& f, Config& cfg) {
  if (f.port) cfg.port = *f.port;
  if (f.store) cfg.store = *f.store;
  if (f.data_dir) cfg.data_dir = *f.data_dir;
  if (f.env) cfg.env = *f.env;
  if (f.log_level) cfg.log_level = *f.log_level;
  if (f.log_format) cfg.log_format = *f.log_format;
  if (f.durability) cfg.durability = *f.durability;
  if (f.listen_address) cfg.listen_address = *f.listen_address;
  if (f.max_body_bytes) cfg.max_body_bytes = *f.max_body_bytes;
  if (f.dev) {
    cfg.dev = true;
    cfg.env = "dev";
  }
}

// §8.1 "defaults fill remaining zero values": integers ≤ 0 and empty strings whose default is
// non-empty take the default; enumerations are canonicalised.
void Normalise(Config& cfg) {
  static const Config kDefaults;
  for (const Key& key : Keys()) {
    std::visit(
        [&](auto member) {
          using T = std::remove_reference_t<decltype(cfg.*member)>;
          if constexpr (std::is_same_v<T, std::string>) {
            if ((cfg.*member).empty()) cfg.*member = kDefaults.*member;
          } else if constexpr (std::is_same_v<T, int> || std::is_same_v<T, int64_t>) {
            if (cfg.*member <= 0) cfg.*member = kDefaults.*member;
          }
        },
        key.field);
  }
  cfg.log_level = Lower(Trim(cfg.log_level));
  if (cfg.log_level == "warning") cfg.log_level = "warn";
  if (cfg.log_level != "debug" && cfg.log_level != "info" && cfg.log_level != "warn" &&
      cfg.log_level != "error") {
    cfg.log_level = kDefaults.log_level;  // §8.2: unknown → info
  }
  cfg.log_format = Lower(Trim(cfg.log_format));
  if (cfg.log_format != "json" && cfg.log_format != "text") cfg.log_format = kDefaults.log_format;
  cfg.durability = Lower(Trim(cfg.durability));
  cfg.store = Trim(cfg.store);
  if (std::string s = Lower(cfg.store); s == "embedded" || s == "redis") cfg.store = s;
}

// §8.2: identityJwksUrl and identityIssuer default from identityServiceUrl when it is set (D14: it
// has no default, so nothing is derived otherwise).
void Derive(Config& cfg) {
  std::string base = Trim(cfg.identity_service_url);
  if (base.empty()) return;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (cfg.identity_jwks_url.empty()) cfg.identity_jwks_url = base + "/v1/.well-known/jwks.json";
  if (cfg.identity_issuer.empty()) cfg.identity_issuer = base;
}

}  // namespace

Result<Config> LoadConfig(const ConfigFlags& flags, const EnvLookup& env) {
  Config cfg;
  std::optional<std::string> path = flags.config_path;
  if (!path || path->empty()) path = env("CODEQ_CONFIG_PATH");
  if (path && !path->empty()) {
    if (Status st = ApplyYamlFile(*path, cfg); !st.ok()) return st;
  }
  if (Status st = ApplyEnv(env, cfg); !st.ok()) return st;
  ApplyFlags(flags, cfg);
  Normalise(cfg);
  Derive(cfg);
  if (Status st = config_internal::Validate(cfg); !st.ok()) return st;
  return cfg;
}

}  // namespace codeq
