// Private to config/: the key table (YAML name, env var, member) that loading and printing share,
// plus small helpers. Not for use outside src/config/ and its tests.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include <boost/json/value.hpp>
#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "domain/status.h"

namespace codeq::config_internal {

/// The Config member a key is stored in.
using Field = std::variant<int Config::*, int64_t Config::*, std::string Config::*, bool Config::*,
                           boost::json::value Config::*>;

/// How PrintConfig shows a value.
enum class Mask {
  kNone,        // printed as is (URL userinfo passwords are still masked)
  kSecret,      // "****" when non-empty
  kAuthConfig,  // JSON: token/secret/password/api-key members masked
};

/// One configuration key (SPEC §8.2 + D20). Defaults are NOT here: they are Config's initialisers.
struct Key {
  std::string_view yaml;     // camelCase YAML key
  std::string_view env;      // environment variable
  std::string_view alt_env;  // fallback variable read when `env` is unset/empty (KVROCKS_PASSWORD), or ""
  Field field;
  Mask mask = Mask::kNone;
};

/// Every key, in SPEC §8.2 order followed by the D20/implementation additions.
std::span<const Key> Keys();

/// Validation of SPEC §8.3 plus store, port and durability. Errors are joined as
/// "config validation failed: a; b"; the non-dev requirements are skipped when config.IsDevMode().
Status Validate(const Config& config);

/// A YAML node as JSON: mappings → objects, sequences → arrays, quoted scalars → strings, plain
/// scalars → null/bool/integer/double when they read as such, else strings.
Result<boost::json::value> YamlToJson(const YAML::Node& node);

/// `text` with the password of any `scheme://user:password@host` userinfo replaced by "****" (the
/// whole userinfo when it has no ':').
std::string MaskUrlUserinfo(std::string_view text);

std::string Trim(std::string_view s);
std::string Lower(std::string_view s);

}  // namespace codeq::config_internal
