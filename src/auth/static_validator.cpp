// Static-token validator (SPEC §3.3).
#include "auth/static_validator.h"

#include <openssl/crypto.h>

#include "auth/ascii_text.h"
#include "domain/secret_mask.h"

namespace codeq {

namespace {

Status InvalidConfig() { return InvalidArgument("static auth: invalid config"); }

/// Reads an optional array-of-strings member; false when present with another type.
bool StringList(const boost::json::object& obj, std::string_view name, std::vector<std::string>& out) {
  const boost::json::value* v = obj.if_contains(name);
  if (v == nullptr || v->is_null()) return true;
  if (!v->is_array()) return false;
  for (const boost::json::value& item : v->get_array()) {
    if (!item.is_string()) return false;
    out.emplace_back(item.get_string().data(), item.get_string().size());
  }
  return true;
}

/// Reads an optional string member; false when present with another type.
bool OptionalString(const boost::json::object& obj, std::string_view name, std::string& out) {
  const boost::json::value* v = obj.if_contains(name);
  if (v == nullptr || v->is_null()) return true;
  if (!v->is_string()) return false;
  out.assign(v->get_string().data(), v->get_string().size());
  return true;
}

}  // namespace

StaticValidator::StaticValidator(std::string token, Claims claims)
    : token_(auth_text::Trim(token)), claims_(std::move(claims)) {}

Result<std::unique_ptr<StaticValidator>> StaticValidator::Create(const boost::json::value& config) {
  if (config.is_null()) return InvalidArgument("static auth: missing config");
  Claims claims;
  claims.subject = "static";
  std::string token;
  if (config.is_string()) {
    token.assign(config.get_string().data(), config.get_string().size());
  } else if (config.is_object()) {
    const boost::json::object& obj = config.get_object();
    if (const boost::json::value* t = obj.if_contains("token"); t != nullptr && !t->is_null()) {
      if (!t->is_string()) return InvalidConfig();
      token.assign(t->get_string().data(), t->get_string().size());
    }
    std::string subject;
    if (!OptionalString(obj, "subject", subject) || !OptionalString(obj, "email", claims.email) ||
        !StringList(obj, "scopes", claims.scopes) || !StringList(obj, "eventTypes", claims.event_types)) {
      return InvalidConfig();
    }
    if (!auth_text::Trim(subject).empty()) claims.subject = subject;
    if (const boost::json::value* raw = obj.if_contains("raw"); raw != nullptr && !raw->is_null()) {
      if (!raw->is_object()) return InvalidConfig();
      claims.raw = raw->get_object();
    }
  } else {
    return InvalidConfig();
  }
  if (auth_text::Trim(token).empty()) return InvalidArgument("static auth: token is required");
  // `codeq serve --print-config` masks the token as ****; a printed config loaded back must not
  // turn that guessable text into a working token.
  if (auth_text::Trim(token) == kSecretMask) {
    return InvalidArgument("static auth: the token is the mask **** printed by --print-config; set the real token");
  }
  return std::make_unique<StaticValidator>(std::move(token), std::move(claims));
}

Result<Claims> StaticValidator::Validate(std::string_view token) {
  std::string_view presented = auth_text::Trim(token);
  // CRYPTO_memcmp: the comparison time does not depend on where the first difference is.
  if (presented.size() != token_.size() ||
      CRYPTO_memcmp(presented.data(), token_.data(), token_.size()) != 0) {
    return Unauthenticated("invalid token");
  }
  return claims_;
}

}  // namespace codeq
