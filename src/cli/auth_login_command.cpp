// `codeq auth login` (SPEC §9.3): flags, prompts and the profile update around auth_login.h.
#include <strings.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli/auth_login.h"
#include "cli/cli_status.h"
#include "cli/client_commands.h"
#include "cli/output.h"
#include "cli/prompt.h"
#include "domain/file_text.h"

namespace codeq::cli {
namespace json = boost::json;

namespace {

struct LoginOptions {
  std::string email, password;
  std::optional<std::string> login_url, method, content_type, payload, payload_file, token_path;
  std::optional<std::string> exchange_url, exchange_method, exchange_content_type, exchange_token_path;
  std::optional<std::string> audience, tenant_id;
  std::vector<std::string> headers, exchange_headers, scopes;
  bool no_exchange = false, save = true, no_prompt = false, print_token = false;
};

// "Name: value" flags override the template's headers of the same name (case-insensitive).
Status MergeHeaders(TemplateHeaders& headers, const std::vector<std::string>& flags, const char* flag) {
  for (const auto& h : flags) {
    size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      return UsageError(std::string(flag) + " must look like 'Name: value', not '" + h + "'");
    }
    std::string name = h.substr(0, colon);
    std::string value = h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    auto same = [&](const auto& kv) { return strcasecmp(kv.first.c_str(), name.c_str()) == 0; };
    headers.erase(std::remove_if(headers.begin(), headers.end(), same), headers.end());
    headers.emplace_back(name, value);
  }
  return Status::Ok();
}

void Override(std::string& field, const std::optional<std::string>& flag) {
  if (flag) field = *flag;
}

bool FromFlagOrEnv(const Setting& s) { return s.source.rfind("--", 0) == 0 || s.source.rfind("CODEQ_", 0) == 0; }

int RunLogin(const ContextPtr& ctx, const LoginOptions& o) {
  auto s = ctx->Settings(true);
  if (!s.ok()) return ReportError(s.status());
  std::string email = o.email, password = o.password;
  if (email.empty()) {
    if (o.no_prompt) return ReportError(UsageError("--email is required with --no-prompt"));
    email = Prompt("E-mail", "");
    if (email.empty()) return ReportError(UsageError("an e-mail is required"));
  }
  if (password.empty()) {
    if (o.no_prompt) return ReportError(UsageError("--password is required with --no-prompt"));
    password = PromptSecret("Password");
  }

  bool explicit_profile = s->profile_source == "--profile" || s->profile_source == "CODEQ_PROFILE";
  std::string target = explicit_profile ? s->profile : ProfileNameForEmail(email);
  auto file = ConfigFile::Load(s->config_path);
  if (!file.ok()) return ReportError(file.status());
  // A new profile starts from the active one (base URL, identity service, templates).
  Profile p = file->Has(target) ? file->Get(target) : s->profile_data;

  LoginSettings login = p.login.url_template.empty() ? DefaultLoginSettings() : p.login;
  Override(login.url_template, o.login_url);
  Override(login.method, o.method);
  Override(login.content_type, o.content_type);
  Override(login.token_path, o.token_path);
  if (o.payload) {
    login.body_template = *o.payload;
  } else if (o.payload_file) {
    auto read = ReadFileText(*o.payload_file);
    if (!read.ok()) return ReportError(UsageError("cannot read --payload-file " + read.status().message()));
    login.body_template = std::move(*read);
  }
  if (auto st = MergeHeaders(login.headers, o.headers, "--header"); !st.ok()) return ReportError(st);

  ExchangeSettings ex = p.exchange.url_template.empty() ? DefaultExchangeSettings() : p.exchange;
  Override(ex.url_template, o.exchange_url);
  Override(ex.method, o.exchange_method);
  Override(ex.content_type, o.exchange_content_type);
  Override(ex.token_path, o.exchange_token_path);
  Override(ex.audience, o.audience);
  Override(ex.tenant_id, o.tenant_id);
  if (!o.scopes.empty()) ex.scopes = o.scopes;
  if (auto st = MergeHeaders(ex.headers, o.exchange_headers, "--exchange-header"); !st.ok()) return ReportError(st);

  std::string iam = FromFlagOrEnv(s->iam_base_url) || p.iam_base_url.empty() ? s->iam_base_url.value : p.iam_base_url;
  std::string api_key = FromFlagOrEnv(s->iam_api_key) || p.iam_api_key.empty() ? s->iam_api_key.value : p.iam_api_key;
  TemplateValues values{{"email", email}, {"password", password}, {"apiKey", api_key}, {"iamBaseUrl", iam}};

  HttpClient http;
  int64_t timeout_ms = int64_t{s->timeout_seconds} * 1000;
  auto id_token = Login(http, login, values, timeout_ms);
  if (!id_token.ok()) return ReportError(id_token.status());
  std::string token = *id_token;
  if (!o.no_exchange) {
    values["idToken"] = *id_token;
    auto access = ExchangeToken(http, ex, values, timeout_ms);
    if (!access.ok()) return ReportError(access.status());
    token = *access;
  }

  p.token = token;
  p.producer_token = token;
  if (ctx->flags.base_url) p.base_url = *ctx->flags.base_url;
  if (o.save) {
    p.login = login;
    p.exchange = ex;
    p.iam_base_url = iam;
    p.iam_api_key = api_key;
  }
  file->Put(target, p);
  file->set_current_profile(target);
  if (auto st = file->Save(); !st.ok()) return ReportError(st);

  if (o.print_token) {
    std::cout << token << std::endl;
  } else if (s->output == OutputMode::kJson) {
    PrintJson(json::object{{"profile", target}, {"email", email}, {"exchanged", !o.no_exchange}, {"path", file->path()}});
  } else {
    std::cout << "[OK] Logged in as " << email << "; " << (o.no_exchange ? "ID" : "producer") << " token saved to profile '"
              << target << "' (" << file->path() << ")" << std::endl;
  }
  return kExitOk;
}

}  // namespace

void RegisterAuthLoginCommand(CLI::App& auth, CommandRegistry& registry, const ContextPtr& ctx) {
  auto o = std::make_shared<LoginOptions>();
  CLI::App* login = AddClientCommand(
      auth, "login",
      "Log in to the identity service and store a producer token: POST the login template (placeholders "
      "{{email}}, {{password}}, {{apiKey}}, {{iamBaseUrl}}), take the ID token at --token-path, exchange it for an "
      "access token (unless --no-exchange; the exchange templates may also use {{idToken}}). The profile is "
      "--profile/CODEQ_PROFILE, else one named after the e-mail; it becomes the current profile",
      "  codeq auth login --email me@example.com                      # asks for the password\n"
      "  codeq --iam-base-url https://id.example.com/v1/accounts --iam-api-key KEY auth login --email me@example.com\n"
      "  codeq auth login --email me@example.com --login-url 'https://id.example.com/login' \\\n"
      "      --payload '{\"user\":\"{{email}}\",\"pass\":\"{{password}}\"}' --token-path data.idToken \\\n"
      "      --exchange-url 'https://id.example.com/exchange' --exchange-token-path data.accessToken --scope codeq:admin");
  login->add_option("--email", o->email, "account e-mail (asked when missing)")->type_name("EMAIL");
  login->add_option("--password", o->password, "password (asked with echo off when missing; avoid on shared machines)")
      ->type_name("PASSWORD");
  auto opt = [&](const char* name, std::optional<std::string>& target, const char* help, const char* type) {
    login->add_option_function<std::string>(name, [&target](const std::string& v) { target = v; }, help)->type_name(type);
  };
  opt("--login-url", o->login_url, "login URL template (default {{iamBaseUrl}}/signInWithPassword?key={{apiKey}})", "URL");
  opt("--method", o->method, "login HTTP method (default POST)", "METHOD");
  opt("--content-type", o->content_type, "login body content type (default application/json)", "TYPE");
  opt("--payload", o->payload, "login body template (default {\"email\":\"{{email}}\",\"password\":\"{{password}}\"})",
      "TEMPLATE");
  opt("--payload-file", o->payload_file, "read the login body template from a file", "FILE");
  opt("--token-path", o->token_path, "dot path of the ID token in the login response (default idToken)", "PATH");
  login->add_option("--header", o->headers, "extra login header 'Name: value' (repeatable)")->type_name("HEADER");
  opt("--exchange-url", o->exchange_url, "exchange URL template (default {{iamBaseUrl}}/token/exchange?key={{apiKey}})",
      "URL");
  opt("--exchange-method", o->exchange_method, "exchange HTTP method (default POST)", "METHOD");
  opt("--exchange-content-type", o->exchange_content_type, "exchange content type (default application/json)", "TYPE");
  opt("--exchange-token-path", o->exchange_token_path,
      "dot path of the access token in the exchange response (default accessToken)", "PATH");
  opt("--audience", o->audience, "audience requested in the exchange (default codeq-producer)", "AUD");
  opt("--tenant-id", o->tenant_id, "tenant requested in the exchange", "TENANT");
  login->add_option("--scope", o->scopes, "scope requested in the exchange (repeatable)")->type_name("SCOPE");
  login->add_option("--exchange-header", o->exchange_headers, "extra exchange header 'Name: value' (repeatable)")
      ->type_name("HEADER");
  login->add_flag("--no-exchange", o->no_exchange, "store the ID token itself");
  login->add_flag("--save,!--no-save", o->save,
                  "store the effective login/exchange settings in the profile (default on)");
  login->add_flag("--no-prompt", o->no_prompt, "never ask; missing --email/--password is an error");
  login->add_flag("--print-token", o->print_token, "print the token on stdout instead of the summary (for scripts)");
  registry.Add(login, [ctx, o] { return RunLogin(ctx, *o); });
}

}  // namespace codeq::cli
