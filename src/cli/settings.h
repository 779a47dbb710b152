// Global flags of the client commands and how each setting is resolved (SPEC §9.1–9.2):
// flag > CODEQ_* environment variable > active profile > built-in default.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "cli/profile_config.h"
#include "config/config.h"
#include "domain/status.h"

namespace codeq::cli {

/// Built-in defaults of SPEC §9.1.
inline constexpr const char* kDefaultBaseUrl = "http://localhost:8080";
inline constexpr const char* kDefaultIamBaseUrl = "https://api.storifly.ai/v1/accounts";

/// The global flags, filled by CLI11. Unset = not given.
struct GlobalFlags {
  std::optional<std::string> base_url, producer_token, worker_token, admin_token, profile;
  std::optional<std::string> iam_base_url, iam_api_key;
  std::optional<bool> admin;
  bool json = false;   // --json: JSON output even on a terminal
  bool table = false;  // --table: readable output even when piped
  int timeout_seconds = 30;
};

/// One resolved value and where it came from: "--base-url", "CODEQ_BASE_URL", "profile 'dev'",
/// "default" (or "" when unset everywhere).
struct Setting {
  std::string value;
  std::string source;
};

enum class OutputMode { kTable, kJson };

/// Everything a client command needs to talk to the server, resolved once per run.
struct ClientSettings {
  std::string config_path;
  std::string profile;         // the active profile's name
  std::string profile_source;  // "--profile", "CODEQ_PROFILE", "currentProfile" or "default"
  bool profile_exists = false;
  Profile profile_data;        // the active profile as stored (empty when it does not exist)
  Setting base_url;            // trailing '/' removed
  Setting producer_token;      // producer token, else the profile's generic `token`
  Setting worker_token;        // worker token, else the profile's generic `token`
  Setting admin_token;         // admin token (optional; admin commands fall back to the producer token)
  Setting iam_base_url, iam_api_key;
  bool admin = false;          // send X-Role: ADMIN (honoured by dev servers only)
  std::string admin_source;
  int timeout_seconds = 30;
  OutputMode output = OutputMode::kTable;
  bool json_explicit = false;  // --json was given (commands whose default output is raw text use it)
};

/// Adds the global flags to the top-level app (`codeq --base-url ... task get ID`); subcommands
/// that enable fallthrough accept them after the subcommand name too.
void AddGlobalFlags(CLI::App& app, GlobalFlags& flags);

/// The footer every client command shows under --help: its examples plus the global-flag hint.
std::string HelpFooter(const std::string& examples);

/// Resolves the settings. `allow_missing_profile`: a profile chosen by --profile/CODEQ_PROFILE that is
/// not in the file is fine (init, auth set/login create it); otherwise it is a UsageError.
/// UsageError too for an unreadable config file or an invalid base URL.
Result<ClientSettings> ResolveSettings(const GlobalFlags& flags, const EnvLookup& env, bool allow_missing_profile);

/// "1", "true", "yes" (any case) → true; "0", "false", "no", "" → false; nullopt otherwise.
std::optional<bool> ParseBool(const std::string& text);

/// Shows a secret as "abcd...wxyz" (≤ 8 characters → "****", empty → "<unset>").
std::string MaskSecret(const std::string& secret);

/// Adds CLI11's unit transform to a duration option: integer seconds, or with a unit s, m, h, d
/// ("90", "90s", "5m", "2h", "1d").
CLI::Option* AsDuration(CLI::Option* opt);

/// Checks of whole-number options with plain messages ("--lease: must be greater than 0", "must
/// not be negative", "'x' is not a whole number"); CLI11's PositiveNumber/NonNegativeNumber print
/// "not in range 0.000000 to <300 digits>". Run after AsDuration's transform (on seconds).
CLI::Validator PositiveInteger();
CLI::Validator NonNegativeInteger();

/// Refuses an empty value ("--sub: must not be empty"). For ids and names that an empty string
/// would turn into another request.
CLI::Validator NonEmpty();

/// Adds a comma-separated list option to `cmd` that fills `out`: "--events a,b", repeatable
/// ("--events a --events b"). Empty pieces are dropped ("a,,b" is {a, b}); an argument that names
/// nothing ("" or ",") is a usage error ("--events: must not be empty"). Each argument is taken
/// whole: CLI11's own delimiter splitting lets "--events ," swallow the flags after it.
/// `out` must outlive parsing.
CLI::Option* AddListOption(CLI::App* cmd, const std::string& name, std::vector<std::string>& out,
                           const std::string& help);

}  // namespace codeq::cli
