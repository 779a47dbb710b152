// `codeq token keygen|mint` (issue 6, D14): development signing keys and RS256 tokens that
// `codeq serve` accepts when its JWKS holds the key (`codeq serve --dev` uses ./data/dev/signing-key.pem).
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "auth/dev_keys.h"
#include "cli/cli_status.h"
#include "cli/client_commands.h"
#include "cli/output.h"

namespace codeq::cli {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr const char* kDefaultKey = "./data/dev/signing-key.pem";
constexpr const char* kDevIssuer = "codeq-dev";
constexpr const char* kWorkerScopes = "codeq:claim codeq:heartbeat codeq:abandon codeq:nack codeq:result codeq:subscribe";

Status WriteTextFile(const fs::path& path, const std::string& text) {
  std::error_code ec;
  if (!path.parent_path().empty()) fs::create_directories(path.parent_path(), ec);
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::trunc | std::ios::binary);
    if (!(f << text)) return RunError("cannot write " + path.string());
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return RunError("cannot write " + path.string() + ": " + ec.message());
  }
  return Status::Ok();
}

struct KeygenOptions {
  std::string key = kDefaultKey;
  std::string jwks;  // default: jwks.json next to the key
  bool force = false;
};

int RunKeygen(const ContextPtr& ctx, const KeygenOptions& o) {
  fs::path key_path = fs::absolute(o.key).lexically_normal();
  fs::path jwks_path = o.jwks.empty() ? key_path.parent_path() / "jwks.json" : fs::absolute(o.jwks).lexically_normal();
  std::error_code ec;
  if (!key_path.has_filename() || fs::is_directory(key_path, ec)) {  // never replaced, even with --force
    return ReportError(UsageError("--key " + o.key + " is a directory: give the key file's path (e.g. " +
                                  (key_path.has_filename() ? key_path : key_path.parent_path()).string() +
                                  "/signing-key.pem)"));
  }
  if (fs::exists(key_path, ec)) {
    if (!o.force) {
      return ReportError(UsageError(key_path.string() + " already exists: use --force to replace it, or mint with it "
                                    "(`codeq token mint --key " + o.key + "`)"));
    }
    fs::remove(key_path, ec);
    if (ec) return ReportError(RunError("cannot replace " + key_path.string() + ": " + ec.message()));
  }
  auto key = LoadOrCreateSigningKey(key_path.string());
  if (!key.ok()) return ReportError(RunError(key.status().message()));
  if (auto s = WriteTextFile(jwks_path, JwksJson(*key) + "\n"); !s.ok()) return ReportError(s);
  bool json_out = ctx->flags.json || (!ctx->flags.table && !::isatty(STDOUT_FILENO));
  if (json_out) {
    PrintJson(json::object{{"key", key_path.string()}, {"jwks", jwks_path.string()}, {"kid", key->kid}});
  } else {
    std::cout << "[OK] Signing key: " << key_path.string() << " (kid " << key->kid << ", mode 0600)\n"
              << "[OK] JWKS:        " << jwks_path.string() << "\n"
              << "Serve the JWKS over http(s) and point codeq serve at it (IDENTITY_JWKS_URL, WORKER_JWKS_URL), then\n"
              << "  codeq token mint --key " << o.key << " --role producer" << std::endl;
  }
  return kExitOk;
}

struct MintOptions {
  std::string role;
  std::string sub, tenant, issuer = kDevIssuer, audience, key = kDefaultKey;
  std::vector<std::string> events, scopes;
  int64_t ttl_seconds = 86400;
};

int RunMint(const ContextPtr& ctx, const MintOptions& o) {
  std::error_code ec;
  if (!fs::exists(o.key, ec)) {
    return ReportError(UsageError("signing key " + o.key +
                                  " not found: start `codeq serve --dev` once (it creates ./data/dev/signing-key.pem), "
                                  "run `codeq token keygen`, or pass --key"));
  }
  auto key = LoadOrCreateSigningKey(o.key);
  if (!key.ok()) return ReportError(UsageError(key.status().message()));

  int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  bool worker = o.role == "worker";
  std::string audience = !o.audience.empty() ? o.audience : worker ? "codeq-worker" : "codeq-producer";
  json::object claims{{"iss", o.issuer},
                      {"sub", o.sub.empty() ? "cli-" + o.role : o.sub},
                      {"aud", audience},
                      {"iat", now},
                      {"exp", now + o.ttl_seconds}};
  if (!o.tenant.empty()) claims["tenantId"] = o.tenant;
  std::vector<std::string> events = o.events;
  if (worker && events.empty()) events = {"*"};
  if (!events.empty()) {
    json::array ev;
    for (const auto& e : events) ev.emplace_back(e);
    claims["eventTypes"] = std::move(ev);
  }
  std::string scope;
  for (const auto& s : o.scopes) scope += (scope.empty() ? "" : " ") + s;
  if (scope.empty() && worker) scope = kWorkerScopes;
  if (scope.empty() && o.role == "admin") scope = "codeq:admin";
  if (!scope.empty()) claims["scope"] = scope;
  if (o.role == "admin") claims["role"] = "ADMIN";

  auto token = SignJwt(*key, claims);
  if (!token.ok()) return ReportError(RunError(token.status().message()));
  // The raw token is the output (TOKEN=$(codeq token mint ...)); JSON only when asked for.
  if (ctx->flags.json) {
    PrintJson(json::object{{"token", *token}, {"claims", claims}, {"kid", key->kid}});
  } else {
    std::cout << *token << std::endl;
  }
  return kExitOk;
}

}  // namespace

void RegisterTokenCommands(CLI::App& app, CommandRegistry& registry, const ContextPtr& ctx) {
  CLI::App* token = AddClientCommand(app, "token", "Development signing keys and tokens",
                                     "  codeq token mint --role producer\n  codeq token keygen --key ./keys/signing-key.pem");
  token->require_subcommand(1);

  auto k = std::make_shared<KeygenOptions>();
  CLI::App* keygen = AddClientCommand(
      *token, "keygen", "Create an RSA signing key (PEM, mode 0600) and its public JWKS file",
      "  codeq token keygen --key ./keys/signing-key.pem          # also writes ./keys/jwks.json\n"
      "  codeq token keygen --force                               # replace ./data/dev/signing-key.pem");
  keygen->add_option("--key", k->key, "where to write the private key")->type_name("PEM")->default_str(kDefaultKey);
  keygen->add_option("--jwks", k->jwks, "where to write the JWKS (default: jwks.json next to the key)")->type_name("FILE");
  keygen->add_flag("--force", k->force, "replace an existing key (tokens signed with it stop working)");
  registry.Add(keygen, [ctx, k] { return RunKeygen(ctx, *k); });

  auto m = std::make_shared<MintOptions>();
  CLI::App* mint = AddClientCommand(
      *token, "mint",
      "Print a signed RS256 JWT. Defaults match `codeq serve --dev`: key ./data/dev/signing-key.pem, issuer "
      "codeq-dev, audience codeq-producer (worker: codeq-worker); worker tokens get eventTypes [\"*\"] and all six "
      "worker scopes, admin tokens role ADMIN and scope codeq:admin",
      "  export CODEQ_PRODUCER_TOKEN=$(codeq token mint --role producer)\n"
      "  export CODEQ_WORKER_TOKEN=$(codeq token mint --role worker --events GENERATE_MASTER --ttl 8h)\n"
      "  codeq token mint --role admin --tenant acme --key ./keys/signing-key.pem --issuer https://id.example.com");
  mint->add_option("--role", m->role, "producer, worker or admin")
      ->required()
      ->check(CLI::IsMember({"producer", "worker", "admin"}))
      ->type_name("ROLE");
  mint->add_option("--sub", m->sub, "subject (default cli-<role>); workers sharing a subject share leases")
      ->check(NonEmpty())
      ->type_name("SUB");
  mint->add_option("--tenant", m->tenant, "tenantId claim (default none: unscoped queues)")->type_name("TENANT");
  AddListOption(mint, "--events", m->events, "eventTypes claim, comma-separated (worker default *)")->type_name("A,B");
  AddListOption(mint, "--scopes", m->scopes, "scopes, comma-separated (worker default: the six codeq:* worker scopes)")
      ->type_name("S1,S2");
  AsDuration(mint->add_option("--ttl", m->ttl_seconds, "lifetime (default 24h)")
                 ->check(PositiveInteger())
                 ->type_name("DURATION"));
  mint->add_option("--key", m->key, "private key (PEM)")->type_name("PEM")->default_str(kDefaultKey);
  mint->add_option("--issuer", m->issuer, "iss claim")->type_name("ISS")->default_str(kDevIssuer);
  mint->add_option("--audience", m->audience, "aud claim (default codeq-producer, worker codeq-worker)")
      ->type_name("AUD");
  registry.Add(mint, [ctx, m] { return RunMint(ctx, *m); });
}

}  // namespace codeq::cli
