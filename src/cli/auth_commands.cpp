// `codeq init` and `codeq auth set|show|clear` (SPEC §9.1, §9.3): profiles in ~/.codeq/config.yaml.
#include <iostream>

#include "cli/cli_status.h"
#include "cli/client_commands.h"
#include "cli/output.h"
#include "cli/prompt.h"

namespace codeq::cli {
namespace json = boost::json;

namespace {


Result<ConfigFile> LoadFile(const ClientSettings& s) { return ConfigFile::Load(s.config_path); }

int RunInit(const ContextPtr& ctx, bool no_prompt) {
  auto s = ctx->Settings(true);
  if (!s.ok()) return ReportError(s.status());
  auto file = LoadFile(*s);
  if (!file.ok()) return ReportError(file.status());
  const GlobalFlags& f = ctx->flags;
  Profile p = file->Get(s->profile);

  // flag > answer (default: the profile's value, else the built-in default) > profile > default.
  auto ask = [&](const std::optional<std::string>& flag, std::string& field, const std::string& question,
                 const std::string& fallback, bool secret) {
    if (flag) {
      field = *flag;
      return;
    }
    std::string current = field.empty() ? fallback : field;
    if (!no_prompt) current = Prompt(question, current, secret ? MaskSecret(current) : "");
    field = current;
  };
  ask(f.base_url, p.base_url, "codeQ base URL", kDefaultBaseUrl, false);
  ask(f.iam_base_url, p.iam_base_url, "Identity service base URL", kDefaultIamBaseUrl, false);
  ask(f.iam_api_key, p.iam_api_key, "Identity service API key (optional)", "", true);
  ask(f.producer_token, p.producer_token, "Producer token (optional)", "", true);
  ask(f.worker_token, p.worker_token, "Worker token (optional)", "", true);
  if (f.admin_token) p.admin_token = *f.admin_token;
  if (f.admin) p.admin = *f.admin;
  if (p.login.url_template.empty()) p.login = DefaultLoginSettings();
  if (p.exchange.url_template.empty()) p.exchange = DefaultExchangeSettings();

  file->Put(s->profile, p);
  if (file->current_profile().empty() || s->profile_source == "--profile") file->set_current_profile(s->profile);
  if (auto st = file->Save(); !st.ok()) return ReportError(st);
  if (s->output == OutputMode::kJson) {
    PrintJson(json::object{{"profile", s->profile}, {"path", file->path()}, {"current", file->current_profile()}});
  } else {
    std::cout << "[OK] Initialized profile '" << s->profile << "' at " << file->path() << std::endl;
  }
  return kExitOk;
}

int RunSet(const ContextPtr& ctx) {
  const GlobalFlags& f = ctx->flags;
  if (!f.producer_token && !f.worker_token && !f.admin_token && !f.admin) {
    return ReportError(UsageError("provide --producer-token and/or --worker-token (or --admin-token, --admin)"));
  }
  auto s = ctx->Settings(true);
  if (!s.ok()) return ReportError(s.status());
  auto file = LoadFile(*s);
  if (!file.ok()) return ReportError(file.status());
  Profile p = file->Get(s->profile);
  if (f.producer_token) p.producer_token = *f.producer_token;
  if (f.worker_token) p.worker_token = *f.worker_token;
  if (f.admin_token) p.admin_token = *f.admin_token;
  if (f.admin) p.admin = *f.admin;
  // SPEC §9.3: exactly one token given → it is also the generic `token`.
  if (f.producer_token.has_value() != f.worker_token.has_value()) {
    p.token = f.producer_token ? *f.producer_token : *f.worker_token;
  }
  file->Put(s->profile, p);
  if (file->current_profile().empty()) file->set_current_profile(s->profile);
  if (auto st = file->Save(); !st.ok()) return ReportError(st);
  if (s->output == OutputMode::kJson) {
    PrintJson(json::object{{"profile", s->profile}, {"path", file->path()}});
  } else {
    std::cout << "[OK] Saved to profile '" << s->profile << "' in " << file->path() << std::endl;
  }
  return kExitOk;
}

int RunShow(const ContextPtr& ctx) {
  auto s = ctx->Settings();
  if (!s.ok()) return ReportError(s.status());
  const Profile& p = s->profile_data;
  const LoginSettings login = p.login.url_template.empty() ? DefaultLoginSettings() : p.login;
  const ExchangeSettings ex = p.exchange.url_template.empty() ? DefaultExchangeSettings() : p.exchange;
  auto entry = [](const Setting& v, bool secret) {
    return json::object{{"value", secret ? MaskSecret(v.value) : v.value}, {"source", v.source}};
  };
  if (s->output == OutputMode::kJson) {
    PrintJson(json::object{
        {"configPath", s->config_path},
        {"profile", json::object{{"value", s->profile}, {"source", s->profile_source}, {"exists", s->profile_exists}}},
        {"baseUrl", entry(s->base_url, false)},
        {"iamBaseUrl", entry(s->iam_base_url, false)},
        {"iamApiKey", entry(s->iam_api_key, true)},
        {"producerToken", entry(s->producer_token, true)},
        {"workerToken", entry(s->worker_token, true)},
        {"adminToken", entry(s->admin_token, true)},
        {"admin", json::object{{"value", s->admin}, {"source", s->admin_source}}},
        {"login", json::object{{"url", login.url_template}, {"tokenPath", login.token_path}}},
        {"exchange", json::object{{"url", ex.url_template}, {"tokenPath", ex.token_path}, {"audience", ex.audience}}}});
    return kExitOk;
  }
  auto with = [](const std::string& v, const std::string& source) {
    return source.empty() || source == "default" ? v : v + "   (" + source + ")";
  };
  PrintFields(std::cout,
              {{"profile", with(s->profile, s->profile_source) + (s->profile_exists ? "" : "   [not saved]")},
               {"config", s->config_path},
               {"baseUrl", with(s->base_url.value, s->base_url.source)},
               {"iamBaseUrl", with(s->iam_base_url.value, s->iam_base_url.source)},
               {"iamApiKey", with(MaskSecret(s->iam_api_key.value), s->iam_api_key.source)},
               {"producerToken", with(MaskSecret(s->producer_token.value), s->producer_token.source)},
               {"workerToken", with(MaskSecret(s->worker_token.value), s->worker_token.source)},
               {"adminToken", with(MaskSecret(s->admin_token.value), s->admin_token.source)},
               {"admin", with(s->admin ? "true" : "false", s->admin_source)},
               {"loginUrl", login.url_template},
               {"loginTokenPath", login.token_path},
               {"exchangeUrl", ex.url_template},
               {"exchangeTokenPath", ex.token_path},
               {"audience", ex.audience}});
  return kExitOk;
}

struct ClearOptions {
  bool producer = false, worker = false, all = false;
};

int RunClear(const ContextPtr& ctx, const ClearOptions& o) {
  auto s = ctx->Settings();
  if (!s.ok()) return ReportError(s.status());
  auto file = LoadFile(*s);
  if (!file.ok()) return ReportError(file.status());
  if (!file->Has(s->profile)) return ReportError(UsageError("profile '" + s->profile + "' does not exist"));
  Profile p = file->Get(s->profile);
  bool all = o.all || (!o.producer && !o.worker);
  if (all || o.producer) p.producer_token.clear();
  if (all || o.worker) p.worker_token.clear();
  if (all) p.admin_token.clear();
  p.token.clear();
  file->Put(s->profile, p);
  if (auto st = file->Save(); !st.ok()) return ReportError(st);
  std::string what = all ? "all tokens" : o.producer && o.worker ? "producer and worker tokens"
                                        : o.producer            ? "producer token"
                                                                : "worker token";
  if (s->output == OutputMode::kJson) {
    PrintJson(json::object{{"profile", s->profile}, {"cleared", what}});
  } else {
    std::cout << "[OK] Cleared " << what << " of profile '" << s->profile << "'" << std::endl;
  }
  return kExitOk;
}

}  // namespace

void RegisterAuthCommands(CLI::App& app, CommandRegistry& registry, const ContextPtr& ctx) {
  auto no_prompt = std::make_shared<bool>(false);
  CLI::App* init = AddClientCommand(
      app, "init",
      "Create or update a profile in ~/.codeq/config.yaml (flags given are answers; asks for the rest)",
      "  codeq init                                              # interactive\n"
      "  codeq init --no-prompt --profile staging --base-url https://codeq.staging.example.com\n"
      "  codeq init --no-prompt --producer-token \"$(codeq token mint --role producer)\"");
  init->add_flag("--no-prompt", *no_prompt, "do not ask; take flags, then the profile's values, then defaults");
  registry.Add(init, [ctx, no_prompt] { return RunInit(ctx, *no_prompt); });

  CLI::App* auth = AddClientCommand(app, "auth", "Tokens stored in the active profile",
                                    "  codeq auth login --email me@example.com\n  codeq auth show");
  auth->require_subcommand(1);

  CLI::App* set = AddClientCommand(
      *auth, "set",
      "Store tokens in the active profile (--producer-token, --worker-token, --admin-token, --admin/--no-admin); "
      "a single producer or worker token also becomes the generic `token`",
      "  codeq auth set --producer-token \"$PRODUCER_TOKEN\" --worker-token \"$WORKER_TOKEN\"\n"
      "  codeq --profile prod auth set --producer-token eyJ...");
  registry.Add(set, [ctx] { return RunSet(ctx); });

  CLI::App* show = AddClientCommand(
      *auth, "show", "Show the effective settings (tokens masked) and where each comes from",
      "  codeq auth show\n  CODEQ_PROFILE=staging codeq auth show --json");
  registry.Add(show, [ctx] { return RunShow(ctx); });

  auto co = std::make_shared<ClearOptions>();
  CLI::App* clear = AddClientCommand(*auth, "clear", "Remove tokens from the active profile (default: all)",
                                     "  codeq auth clear\n  codeq auth clear --worker");
  clear->add_flag("--producer", co->producer, "clear the producer token (and the generic token)");
  clear->add_flag("--worker", co->worker, "clear the worker token (and the generic token)");
  clear->add_flag("--all", co->all, "clear every token (the default)");
  registry.Add(clear, [ctx, co] { return RunClear(ctx, *co); });

  RegisterAuthLoginCommand(*auth, registry, ctx);
}

}  // namespace codeq::cli
