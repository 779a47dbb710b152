// `codeq auth login` (SPEC §9.3): an ID token from the identity service's login endpoint, exchanged
// for a producer access token. Templates, JSON token paths and the two HTTP calls; no I/O on the
// profile file (auth_login.cpp's command does that).
#pragma once

#include <boost/json.hpp>

#include <map>
#include <string>

#include "cli/http_client.h"
#include "cli/profile_config.h"
#include "domain/status.h"

namespace codeq::cli {

/// Placeholder values: email, password, apiKey, iamBaseUrl and (exchange only) idToken.
using TemplateValues = std::map<std::string, std::string>;

/// How substituted values are escaped.
enum class Escape {
  kNone,  // headers, other content types
  kUrl,   // URL templates: percent-encoded (iamBaseUrl is inserted as is)
  kJson,  // JSON bodies: escaped as the inside of a JSON string
  kForm,  // application/x-www-form-urlencoded bodies: percent-encoded
};

/// Replaces every {{name}} in `text`. UsageError for an unknown placeholder or an unclosed "{{".
Result<std::string> RenderTemplate(const std::string& text, const TemplateValues& values, Escape escape);

/// The escaping a body of `content_type` gets (json → kJson, x-www-form-urlencoded → kForm, else kNone).
Escape BodyEscapeFor(const std::string& content_type);

/// The string at a dot-separated path ("idToken", "data.tokens.0.access"; numeric parts index
/// arrays). nullopt when absent or not a string.
std::optional<std::string> StringAtPath(const boost::json::value& doc, const std::string& path);

/// Performs the login request and returns the ID token. RunError "login failed (<code>): <body>" on a
/// non-2xx answer, "login failed: <transport error>", or "login response has no string at '<path>'".
Result<std::string> Login(HttpClient& http, const LoginSettings& login, const TemplateValues& values,
                          int64_t timeout_ms);

/// Exchanges the ID token (values["idToken"]) for an access token: JSON body {"idToken", "audience",
/// "tenantId"?, "scopes"?}. RunError "token exchange failed (<code>): <body>" and the like.
Result<std::string> ExchangeToken(HttpClient& http, const ExchangeSettings& exchange, const TemplateValues& values,
                                  int64_t timeout_ms);

/// The profile name derived from an e-mail: lower case, '@' and '.' replaced by '_'.
std::string ProfileNameForEmail(const std::string& email);

}  // namespace codeq::cli
