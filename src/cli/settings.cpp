#include "cli/settings.h"

#include <unistd.h>

#include <algorithm>
#include <boost/algorithm/string/classification.hpp>
#include <boost/algorithm/string/split.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <charconv>
#include <map>

#include "cli/cli_status.h"

namespace codeq::cli {

namespace {


std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// flag > env > profile values (first non-empty) > default.
Setting Pick(const std::optional<std::string>& flag, const char* flag_name, const EnvLookup& env,
             const char* env_name, const std::vector<std::pair<std::string, std::string>>& profile_values,
             const std::string& default_value) {
  if (flag && !flag->empty()) return {*flag, flag_name};
  if (auto v = env(env_name); v && !v->empty()) return {*v, env_name};
  for (const auto& [value, source] : profile_values) {
    if (!value.empty()) return {value, source};
  }
  if (!default_value.empty()) return {default_value, "default"};
  return {};
}

}  // namespace

void AddGlobalFlags(CLI::App& app, GlobalFlags& f) {
  const char* group = "Client global flags";
  auto opt = [&](const char* name, std::optional<std::string>& target, const std::string& help) {
    return app
        .add_option_function<std::string>(
            name, [&target](const std::string& v) { target = v; }, help)
        ->group(group);
  };
  opt("--base-url", f.base_url, "codeQ server URL (env CODEQ_BASE_URL; default http://localhost:8080)")
      ->type_name("URL");
  opt("--producer-token", f.producer_token,
      "producer bearer token (env CODEQ_PRODUCER_TOKEN; profile producerToken, else token)")
      ->type_name("TOKEN");
  opt("--worker-token", f.worker_token,
      "worker bearer token (env CODEQ_WORKER_TOKEN; profile workerToken, else token)")
      ->type_name("TOKEN");
  opt("--admin-token", f.admin_token,
      "token for queue/admin commands (env CODEQ_ADMIN_TOKEN; profile adminToken; default: the producer token)")
      ->type_name("TOKEN");
  opt("--profile", f.profile, "profile of ~/.codeq/config.yaml to use (env CODEQ_PROFILE; default: currentProfile, else 'default')")
      ->type_name("NAME");
  opt("--iam-base-url", f.iam_base_url, "identity service base URL (env CODEQ_IAM_BASE_URL)")->type_name("URL");
  opt("--iam-api-key", f.iam_api_key, "identity service API key (env CODEQ_IAM_API_KEY)")->type_name("KEY");
  // Two flags rather than CLI11's "--admin,!--no-admin", whose help line reads "--admin,--no-admin{false}".
  // CLI11 runs flag callbacks in definition order, so --no-admin wins when both are given.
  // --admin=false still turns the header off (a flag function gets the value as a count ≤ 0).
  // CLI11 passes a value it cannot read as a boolean on unchanged and its count conversion then
  // throws, so anything but a whole number is refused here first (--admin=maybe: usage error).
  app.add_flag_function(
         "--admin", [&f](int64_t n) { f.admin = n > 0; },
         "send X-Role: ADMIN (honoured by dev servers only; env CODEQ_ADMIN; default on for localhost)")
      ->check(CLI::Validator(
          [](std::string& v) {
            try {
              (void)CLI::detail::to_flag_value(v);  // the conversion the flag function runs later
              return std::string();
            } catch (const std::exception&) {  // invalid_argument, out_of_range
              return std::string("must be true or false");
            }
          },
          "", "BOOL"))
      ->group(group);
  app.add_flag_callback("--no-admin", [&f] { f.admin = false; },
                        "do not send X-Role: ADMIN (wins over --admin)")
      ->group(group);
  app.add_flag("--json", f.json, "print JSON (the default when stdout is not a terminal)")->group(group);
  app.add_flag("--table", f.table, "print readable text even when stdout is not a terminal")->group(group);
  app.add_option("--timeout", f.timeout_seconds, "HTTP timeout in seconds (default 30)")
      ->group(group)
      ->type_name("S")
      ->check(PositiveInteger());
}

std::string HelpFooter(const std::string& examples) {
  return "Example" + std::string(examples.find('\n') == std::string::npos ? "" : "s") + ":\n" + examples +
         "\n\nGlobal flags (accepted before or after the command; see `codeq --help`): --base-url, "
         "--producer-token, --worker-token, --admin-token, --profile, --admin/--no-admin, --json, --table, "
         "--timeout.\nExit codes: 0 success, 1 error, 2 configuration or usage error.";
}

std::optional<bool> ParseBool(const std::string& text) {
  std::string t = Lower(text);
  if (t == "1" || t == "true" || t == "yes" || t == "on") return true;
  if (t.empty() || t == "0" || t == "false" || t == "no" || t == "off") return false;
  return std::nullopt;
}

std::string MaskSecret(const std::string& secret) {
  if (secret.empty()) return "<unset>";
  if (secret.size() <= 8) return "****";
  return secret.substr(0, 4) + "..." + secret.substr(secret.size() - 4);
}

CLI::Option* AsDuration(CLI::Option* opt) {
  static const std::map<std::string, int64_t> kUnits{{"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
  CLI::Validator unit = CLI::AsNumberWithUnit(kUnits, CLI::AsNumberWithUnit::CASE_INSENSITIVE, "DURATION");
  unit.description("");
  return opt->transform(unit);
}

namespace {

// A whole-number check: "" when `text` is an integer at least `min`, else the message.
CLI::Validator IntegerAtLeast(int64_t min, std::string name, std::string message) {
  CLI::Validator v(
      [min, message](std::string& text) -> std::string {
        int64_t n = 0;
        const char* begin = text.data() + (text.size() > 1 && text[0] == '+' ? 1 : 0);
        const char* end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(begin, end, n);
        if (ec == std::errc::result_out_of_range) return "'" + text + "' is too large";
        if (ec != std::errc() || ptr != end) return "'" + text + "' is not a whole number";
        return n < min ? message : std::string();
      },
      "", std::move(name));
  return v;
}

}  // namespace

CLI::Validator PositiveInteger() { return IntegerAtLeast(1, "POSITIVE", "must be greater than 0"); }

CLI::Validator NonNegativeInteger() { return IntegerAtLeast(0, "NONNEGATIVE", "must not be negative"); }

namespace {

// The non-empty comma-separated pieces of `text`.
std::vector<std::string> ListPieces(const std::string& text) {
  std::vector<std::string> out;
  boost::algorithm::split(out, text, boost::algorithm::is_any_of(","));
  std::erase_if(out, [](const std::string& piece) { return piece.empty(); });
  return out;
}

}  // namespace

CLI::Option* AddListOption(CLI::App* cmd, const std::string& name, std::vector<std::string>& out,
                           const std::string& help) {
  return cmd
      ->add_option_function<std::vector<std::string>>(
          name,
          [&out](const std::vector<std::string>& args) {
            out.clear();
            for (const auto& arg : args) {
              for (auto& piece : ListPieces(arg)) out.push_back(std::move(piece));
            }
          },
          help)
      ->check(CLI::Validator(
          [](std::string& v) { return ListPieces(v).empty() ? std::string("must not be empty") : std::string(); },
          "", "LIST"));
}

CLI::Validator NonEmpty() {
  return CLI::Validator([](std::string& v) { return v.empty() ? std::string("must not be empty") : std::string(); },
                        "", "NONEMPTY");
}

Result<ClientSettings> ResolveSettings(const GlobalFlags& flags, const EnvLookup& env, bool allow_missing_profile) {
  ClientSettings s;
  s.config_path = ConfigFile::PathFor(env);
  auto file = ConfigFile::Load(s.config_path);
  if (!file.ok()) return file.status();

  if (flags.profile && !flags.profile->empty()) {
    s.profile = *flags.profile;
    s.profile_source = "--profile";
  } else if (auto p = env("CODEQ_PROFILE"); p && !p->empty()) {
    s.profile = *p;
    s.profile_source = "CODEQ_PROFILE";
  } else if (!file->current_profile().empty()) {
    s.profile = file->current_profile();
    s.profile_source = "currentProfile";
  } else {
    s.profile = "default";
    s.profile_source = "default";
  }
  s.profile_exists = file->Has(s.profile);
  if (!s.profile_exists && s.profile_source != "default" && !allow_missing_profile) {
    return UsageError("profile '" + s.profile + "' (from " + s.profile_source + ") not found in " + s.config_path +
                      " (run `codeq init --profile " + s.profile + "`)");
  }
  s.profile_data = file->Get(s.profile);
  const Profile& p = s.profile_data;
  const std::string from = "profile '" + s.profile + "'";

  s.base_url = Pick(flags.base_url, "--base-url", env, "CODEQ_BASE_URL", {{p.base_url, from}}, kDefaultBaseUrl);
  while (s.base_url.value.size() > 1 && s.base_url.value.back() == '/') s.base_url.value.pop_back();
  auto url = boost::urls::parse_uri(s.base_url.value);
  std::string scheme = url ? Lower(std::string(url->scheme())) : "";
  if (!url || (scheme != "http" && scheme != "https") || url->host().empty()) {
    return UsageError("invalid base URL '" + s.base_url.value + "' (from " + s.base_url.source +
                      "): use http(s)://host[:port]");
  }
  s.producer_token = Pick(flags.producer_token, "--producer-token", env, "CODEQ_PRODUCER_TOKEN",
                          {{p.producer_token, from + " producerToken"}, {p.token, from + " token"}}, "");
  s.worker_token = Pick(flags.worker_token, "--worker-token", env, "CODEQ_WORKER_TOKEN",
                        {{p.worker_token, from + " workerToken"}, {p.token, from + " token"}}, "");
  s.admin_token = Pick(flags.admin_token, "--admin-token", env, "CODEQ_ADMIN_TOKEN",
                       {{p.admin_token, from + " adminToken"}}, "");
  s.iam_base_url = Pick(flags.iam_base_url, "--iam-base-url", env, "CODEQ_IAM_BASE_URL", {{p.iam_base_url, from}},
                        kDefaultIamBaseUrl);
  while (s.iam_base_url.value.size() > 1 && s.iam_base_url.value.back() == '/') s.iam_base_url.value.pop_back();
  s.iam_api_key = Pick(flags.iam_api_key, "--iam-api-key", env, "CODEQ_IAM_API_KEY", {{p.iam_api_key, from}}, "");

  if (flags.admin) {
    s.admin = *flags.admin;
    s.admin_source = *flags.admin ? "--admin" : "--no-admin";
  } else if (auto a = env("CODEQ_ADMIN"); a && !a->empty()) {
    auto b = ParseBool(*a);
    if (!b) return UsageError("CODEQ_ADMIN must be 1/true/yes or 0/false/no, not '" + *a + "'");
    s.admin = *b;
    s.admin_source = "CODEQ_ADMIN";
  } else if (p.admin) {
    s.admin = *p.admin;
    s.admin_source = from;
  } else {
    std::string host = Lower(std::string(url->host()));
    s.admin = host == "localhost" || host == "127.0.0.1";
    s.admin_source = "default";
  }

  s.timeout_seconds = flags.timeout_seconds;
  s.json_explicit = flags.json;
  if (flags.json) {
    s.output = OutputMode::kJson;
  } else if (flags.table) {
    s.output = OutputMode::kTable;
  } else {
    s.output = ::isatty(STDOUT_FILENO) ? OutputMode::kTable : OutputMode::kJson;
  }
  return s;
}

}  // namespace codeq::cli
