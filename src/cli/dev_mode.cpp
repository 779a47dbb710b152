#include "cli/dev_mode.h"

#include <filesystem>
#include <fstream>

#include "auth/dev_keys.h"
#include "auth/jwt_validator.h"

namespace codeq::cli {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr const char* kIssuer = "codeq-dev";
constexpr int64_t kTokenTtlSeconds = 30 * 86400;

Status WriteFile(const fs::path& path, const std::string& text, fs::perms perms) {
  std::ofstream f(path, std::ios::trunc);
  if (!f) return Internal("cannot write " + path.string());
  f << text;
  f.close();
  std::error_code ec;
  fs::permissions(path, perms, ec);
  return f ? Status::Ok() : Internal("cannot write " + path.string());
}

}  // namespace

Result<DevSetup> SetUpDevMode(const Config& config, const Clock& clock) {
  fs::path dir = fs::absolute(fs::path(config.data_dir) / "dev").lexically_normal();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir.string() + ": " + ec.message());
  auto key = LoadOrCreateSigningKey((dir / "signing-key.pem").string());
  if (!key.ok()) return key.status();

  DevSetup out;
  out.jwks_path = (dir / "jwks.json").string();
  out.tokens_dir = dir.string();
  if (auto s = WriteFile(out.jwks_path, JwksJson(*key), fs::perms::owner_read | fs::perms::owner_write |
                                                            fs::perms::group_read | fs::perms::others_read);
      !s.ok()) {
    return s;
  }

  auto make_validator = [&](const std::string& audience) {
    JwtValidatorOptions o;
    o.jwks_url = "file://" + out.jwks_path;
    o.issuer = kIssuer;
    o.audience = audience;
    o.clock_skew_seconds = config.allowed_clock_skew_seconds;
    return std::make_shared<JwtValidator>(o, clock);
  };
  auto producer = make_validator("codeq-producer");
  auto worker = make_validator(config.worker_audience);
  if (auto s = producer->Prefetch(); !s.ok()) return s;
  if (auto s = worker->Prefetch(); !s.ok()) return s;
  out.producer = producer;
  out.worker = worker;

  int64_t now = clock.NowSeconds();
  auto base = [&](const std::string& sub, const std::string& aud) {
    return json::object{{"iss", kIssuer}, {"sub", sub}, {"aud", aud}, {"iat", now}, {"exp", now + kTokenTtlSeconds}};
  };
  json::object producer_claims = base("dev-producer", "codeq-producer");
  json::object admin_claims = base("dev-admin", "codeq-producer");
  admin_claims["role"] = "ADMIN";
  admin_claims["scope"] = "codeq:admin";
  json::object worker_claims = base("dev-worker", config.worker_audience);
  worker_claims["eventTypes"] = json::array{"*"};
  worker_claims["scope"] = "codeq:claim codeq:heartbeat codeq:abandon codeq:nack codeq:result codeq:subscribe";

  struct Mint {
    const json::object& claims;
    std::string* target;
    const char* file;
  };
  for (const Mint& m : {Mint{producer_claims, &out.producer_token, "producer.token"},
                        Mint{worker_claims, &out.worker_token, "worker.token"},
                        Mint{admin_claims, &out.admin_token, "admin.token"}}) {
    auto token = SignJwt(*key, m.claims);
    if (!token.ok()) return token.status();
    *m.target = *token;
    if (auto s = WriteFile(dir / m.file, *token + "\n", fs::perms::owner_read | fs::perms::owner_write); !s.ok()) {
      return s;
    }
  }
  return out;
}

}  // namespace codeq::cli
