// Fuzz target: the JWT validator (src/auth/jwt_validator.*) and the bearer → Principal path of the
// Authenticator (src/auth/authenticator.*), with one fixed RSA key served as a JWKS file.
//
// Input modes (first byte):
// - 'S': the rest is "<header bytes>\n<payload bytes>"; both are base64url-encoded and the token
//   is RS256-signed with the key, so the header, time, issuer, audience and claims checks run on
//   fuzzed JSON (an unsigned token never gets past the signature);
// - anything else: the whole input is the Authorization header value (bearer parsing, the three
//   base64url parts, header JSON, kid lookup, signature verification).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "auth/authenticator.h"
#include "auth/base64url.h"
#include "auth/dev_keys.h"
#include "auth/jwt_validator.h"
#include "auth/rsa_key.h"
#include "fuzz_check.h"

namespace {

using namespace codeq;

constexpr const char* kKid = "fuzz-kid";
constexpr const char* kIssuer = "https://issuer.example";
constexpr const char* kAudience = "codeq-producer";

struct Fixture {
  ManualClock clock{1'767'225'600'000};  // 2026-01-01T00:00:00Z
  SigningKey key;
  std::string jwks_path;
  std::shared_ptr<JwtValidator> validator;
  std::unique_ptr<Authenticator> auth;

  Fixture() {
    auto k = GenerateSigningKey();
    FUZZ_CHECK(k.ok());
    key = *k;
    key.kid = kKid;
    std::string jwks = JwksJson(key);
    FUZZ_CHECK(!jwks.empty());
    jwks_path = (std::filesystem::temp_directory_path() /
                 ("codeq-fuzz-jwks-" + std::to_string(::getpid()) + ".json"))
                    .string();
    std::ofstream(jwks_path, std::ios::binary | std::ios::trunc) << jwks;
    JwtValidatorOptions opts;
    opts.jwks_url = "file://" + jwks_path;
    opts.issuer = kIssuer;
    opts.audience = kAudience;
    opts.algorithms = {"RS256", "RS384", "RS512"};
    opts.token_cache_size = 64;  // small: evictions run too
    validator = std::make_shared<JwtValidator>(opts, clock);
    FUZZ_CHECK(validator->Prefetch().ok());
    std::filesystem::remove(jwks_path);  // keys are cached for the whole (manual-clock) run
    AuthOptions auth_opts;
    auth_opts.allow_producer_as_worker = true;
    auth = std::make_unique<Authenticator>(auth_opts, validator, validator);
  }
};

Fixture& F() {
  static Fixture* f = new Fixture();  // never destroyed: no exit-time ordering issues
  return *f;
}

std::string SignedToken(std::string_view header, std::string_view payload) {
  std::string signing_input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
  auto sig = RsaPkcs1Sign(F().key.key.get(), EVP_sha256(), signing_input);
  FUZZ_CHECK(sig.ok());
  return signing_input + "." + Base64UrlEncode(*sig);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  F();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string authorization;
  if (!in.empty() && in.front() == 'S') {
    in.remove_prefix(1);
    size_t nl = in.find('\n');
    std::string_view header = in.substr(0, nl);
    std::string_view payload = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    authorization = "Bearer " + SignedToken(header, payload);
  } else {
    authorization.assign(in);
  }
  Fixture& f = F();
  if (auto token = ParseBearerToken(authorization); token.ok()) {
    auto claims = f.validator->Validate(*token);
    if (std::getenv("CODEQ_FUZZ_VERBOSE") != nullptr) {  // to check what a seed reaches
      std::fprintf(stderr, "jwt: %s\n", claims.ok() ? "valid" : claims.status().message().c_str());
    }
    if (claims.ok()) {
      FUZZ_CHECK(claims->issuer == kIssuer);
      // A token that passed once passes again (now from the verified-token cache).
      FUZZ_CHECK(f.validator->Validate(*token).ok());
    } else {
      // 401 reasons never echo token content (D13).
      FUZZ_CHECK(claims.status().code() == StatusCode::kUnauthenticated);
      FUZZ_CHECK(claims.status().message().size() < 40);
    }
  }
  (void)f.auth->AuthenticateProducer(authorization, "");
  (void)f.auth->AuthenticateWorker(authorization, "codeq:claim");
  (void)f.auth->AuthenticateAny(authorization, "");
  return 0;
}
