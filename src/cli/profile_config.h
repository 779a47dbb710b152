// The CLI's profile file, `~/.codeq/config.yaml` or `$CODEQ_CONFIG_DIR/config.yaml` (SPEC §9.1):
// named profiles with a base URL, tokens and the identity-service login/exchange templates.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "domain/status.h"

namespace codeq::cli {

/// Ordered "Name: value" headers of a template.
using TemplateHeaders = std::vector<std::pair<std::string, std::string>>;

/// `auth.login` of a profile: the ID-token request (placeholders {{email}}, {{password}},
/// {{apiKey}}, {{iamBaseUrl}} in the URL, headers and body).
struct LoginSettings {
  std::string url_template, method, body_template, content_type, token_path;
  TemplateHeaders headers;
};

/// `auth.exchange` of a profile: the ID token → producer access token request.
struct ExchangeSettings {
  std::string url_template, method, content_type, token_path, audience, tenant_id;
  std::vector<std::string> scopes;
  TemplateHeaders headers;
};

/// One profile. Empty strings = not set.
struct Profile {
  std::string base_url, iam_base_url, iam_api_key;
  std::string token, producer_token, worker_token, admin_token;
  std::optional<bool> admin;
  LoginSettings login;
  ExchangeSettings exchange;
};

/// The parsed file. Keys this version does not know are kept when the file is saved again.
class ConfigFile {
 public:
  /// `<CODEQ_CONFIG_DIR>/config.yaml` when that variable is set, else `$HOME/.codeq/config.yaml`.
  static std::string PathFor(const EnvLookup& env);
  /// Reads `path`; a missing file is an empty configuration. UsageError (exit 2) when the file
  /// cannot be read or is not a YAML mapping of the documented shape.
  static Result<ConfigFile> Load(const std::string& path);

  const std::string& path() const { return path_; }
  /// `currentProfile`, "" when unset.
  std::string current_profile() const;
  void set_current_profile(const std::string& name);
  bool Has(const std::string& name) const;
  std::vector<std::string> Names() const;
  /// The profile, all empty when absent.
  Profile Get(const std::string& name) const;
  /// Writes every field of `p` into profile `name` (empty fields are removed), creating it if needed.
  void Put(const std::string& name, const Profile& p);
  /// Writes the file atomically (temporary file + rename): directory mode 0700, file mode 0600.
  /// RunError when it cannot be written.
  Status Save() const;

 private:
  std::string path_;
  YAML::Node root_;
};

/// The login template used when a profile has none (SPEC §9.3): POST
/// `{{iamBaseUrl}}/signInWithPassword?key={{apiKey}}`, JSON body with email and password, token at `idToken`.
LoginSettings DefaultLoginSettings();
/// The exchange template used when a profile has none: POST `{{iamBaseUrl}}/token/exchange?key={{apiKey}}`,
/// token at `accessToken`, audience `codeq-producer`.
ExchangeSettings DefaultExchangeSettings();

}  // namespace codeq::cli
