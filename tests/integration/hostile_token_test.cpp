// Hostile tokens against a production-configured `codeq serve` (SPEC §3, D1, D6, D13): the server
// runs without --dev and validates RS256 JWTs against JWKS documents served by a tiny HTTP server
// of this test, which counts the fetches. Every rejection has the right status, and 401/403 bodies
// never echo the token, its segments or its claims.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <random>

#include "auth/base64url.h"
#include "auth/dev_keys.h"
#include "integration/it_fixture.h"
#include "support/test_http_server.h"

namespace codeq::it {
namespace {

constexpr const char* kIssuer = "https://issuer.hostile.test";
constexpr const char* kProducerJwks = "/producer/jwks.json";
constexpr const char* kWorkerJwks = "/worker/jwks.json";
constexpr const char* kAllWorkerScopes =
    "codeq:claim codeq:heartbeat codeq:abandon codeq:nack codeq:result codeq:subscribe";
// Distinctive claim values: a rejection body must never contain them.
constexpr const char* kCanarySub = "canary-subject-5f1e";
constexpr const char* kCanaryEmail = "canary-5f1e@example.test";
constexpr int64_t kSkew = 60;  // ALLOWED_CLOCK_SKEW_SECONDS of the suite's server

/// Where a token is presented.
enum class Side { kProducer, kWorker };

class HostileTokens : public IntegrationTest {
 public:
  static void SetUpTestSuite() {
    auto a = GenerateSigningKey();
    auto b = GenerateSigningKey();
    auto c = GenerateSigningKey();
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    trusted_ = *a;
    rotated_ = *b;
    stranger_ = *c;
    jwks_ = std::make_unique<test::TestHttpServer>();
    jwks_->SetBody(kProducerJwks, JwksJson(trusted_));
    jwks_->SetBody(kWorkerJwks, JwksJson(trusted_));
    StartEnvironment({{"IDENTITY_JWKS_URL", jwks_->Url(kProducerJwks)},
                      {"IDENTITY_ISSUER", kIssuer},
                      {"IDENTITY_AUDIENCE", "codeq-producer"},
                      {"WORKER_JWKS_URL", jwks_->Url(kWorkerJwks)},
                      {"WORKER_ISSUER", kIssuer},
                      {"WORKER_AUDIENCE", "codeq-worker"},
                      {"ALLOWED_CLOCK_SKEW_SECONDS", std::to_string(kSkew)},
                      {"WEBHOOK_HMAC_SECRET", "hostile-test-secret"}},
                     /*dev=*/false);
  }
  static void TearDownTestSuite() {
    StopEnvironment();
    jwks_.reset();
  }

 protected:
  /// Valid claims of `side`, issued now, expiring in an hour.
  static json::object GoodClaims(Side side, const std::string& sub = kCanarySub) {
    const int64_t now = UnixNow();
    json::object c{{"iss", kIssuer}, {"sub", sub}, {"email", kCanaryEmail}, {"iat", now}, {"exp", now + 3600}};
    if (side == Side::kProducer) {
      c["aud"] = "codeq-producer";
    } else {
      c["aud"] = "codeq-worker";
      c["eventTypes"] = json::array{json::value("*")};
      c["scope"] = kAllWorkerScopes;
    }
    return c;
  }
  /// `GoodClaims(side)` with `changes` applied; a null value removes the member.
  static json::object ClaimsWith(Side side, const json::object& changes) {
    json::object c = GoodClaims(side);
    for (const auto& kv : changes) {
      if (kv.value().is_null()) {
        c.erase(kv.key());
      } else {
        c[kv.key()] = kv.value();
      }
    }
    return c;
  }
  /// RS256 with `key`, header {"alg":"RS256","typ":"JWT","kid":`kid` (default key.kid)}.
  static std::string Sign(const SigningKey& key, const json::object& claims, std::string kid = "") {
    json::object header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kid.empty() ? key.kid : kid}};
    auto t = SignJwtWithHeader(key, header, claims);
    EXPECT_TRUE(t.ok()) << t.status().message();
    return t.ok() ? *t : "";
  }
  /// "<header>.<payload>." of an unsigned token, then `signature` (already base64url).
  static std::string Unsigned(const json::object& header, const json::object& claims,
                              const std::string& signature = "") {
    return Base64UrlEncode(json::serialize(header)) + "." + Base64UrlEncode(json::serialize(claims)) + "." + signature;
  }
  /// HS256 over header.payload with `secret` as the HMAC key (the RS/HS confusion attack).
  static std::string Hs256(const json::object& claims, const std::string& secret) {
    json::object header{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", trusted_.kid}};
    std::string input = Base64UrlEncode(json::serialize(header)) + "." + Base64UrlEncode(json::serialize(claims));
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
    return input + "." + Base64UrlEncode(std::string(reinterpret_cast<const char*>(mac), mac_len));
  }
  /// The trusted public key as PEM (SubjectPublicKeyInfo) or DER bytes.
  static std::string PublicKeyBytes(bool pem) {
    std::string out;
    if (pem) {
      BIO* bio = BIO_new(BIO_s_mem());
      PEM_write_bio_PUBKEY(bio, trusted_.key.get());
      char* data = nullptr;
      long len = BIO_get_mem_data(bio, &data);
      out.assign(data, static_cast<size_t>(len));
      BIO_free(bio);
    } else {
      unsigned char* der = nullptr;
      int len = i2d_PUBKEY(trusted_.key.get(), &der);
      if (len > 0) out.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
      OPENSSL_free(der);
    }
    EXPECT_FALSE(out.empty());
    return out;
  }

  /// A JWKS document with the public halves of `keys`.
  static std::string JwksOf(std::initializer_list<const SigningKey*> keys) {
    json::array all;
    for (const SigningKey* k : keys) {
      const json::value doc = json::parse(JwksJson(*k));
      for (const auto& jwk : doc.at("keys").as_array()) all.push_back(jwk);
    }
    return json::serialize(json::object{{"keys", std::move(all)}});
  }

  /// Presents `token` on the producer side (POST /v1/codeq/tasks of `cmd`) or the worker side (a
  /// claim of `cmd`_claim, a command that never has tasks).
  static HttpResponse Present(Side side, const std::string& token, const std::string& cmd) {
    if (side == Side::kProducer) {
      return Post("/v1/codeq/tasks", token, json::object{{"command", cmd}, {"payload", 1}});
    }
    return ClaimRaw(token, {cmd + "_claim"});  // nothing is ever created there: accepted = 204
  }

  /// A rejection: `status`, a one-member {"error": text} body, and nothing of the token in the
  /// body or the headers: not the token, none of its segments, none of its claim values.
  static void ExpectRejected(const HttpResponse& r, int status, const std::string& token, const std::string& what) {
    EXPECT_EQ(r.status, status) << what << " -> " << r.Describe();
    auto v = r.Json();
    ASSERT_TRUE(v.is_object() && v.as_object().size() == 1 && v.as_object().contains("error") &&
                v.at("error").is_string())
        << what << ": error body must be {\"error\": text}: " << r.body;
    std::vector<std::string> secrets{token, kCanarySub, kCanaryEmail, kIssuer};
    size_t start = 0;
    for (size_t dot = token.find('.'); start <= token.size(); dot = token.find('.', start)) {
      std::string segment = token.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (segment.size() >= 8) secrets.push_back(segment);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    for (const auto& s : secrets) {
      if (s.empty()) continue;
      EXPECT_EQ(r.body.find(s), std::string::npos) << what << ": body echoes '" << s.substr(0, 24) << "': " << r.body;
      for (const auto& [name, value] : r.headers) {
        EXPECT_EQ(value.find(s), std::string::npos) << what << ": header " << name << " echoes the token";
      }
    }
  }

  static inline SigningKey trusted_, rotated_, stranger_;
  static inline std::unique_ptr<test::TestHttpServer> jwks_;
};

struct TokenCase {
  std::string name;
  Side side;
  std::string token;
  int status;  // expected; 202/204 = accepted
};

TEST_F(HostileTokens, TableOfForgedAndMisfitTokens) {
  const std::string cmd = Cmd();
  const int64_t now = UnixNow();
  const auto P = Side::kProducer;
  const auto W = Side::kWorker;
  const json::object good = GoodClaims(P);
  const std::string valid = Sign(trusted_, good);
  const std::string header_b64 = valid.substr(0, valid.find('.'));
  const std::string signature_b64 = valid.substr(valid.rfind('.') + 1);
  json::object tampered_claims = good;
  tampered_claims["sub"] = "someone-else";
  std::string bad_sig = signature_b64;
  bad_sig[bad_sig.size() / 2] = bad_sig[bad_sig.size() / 2] == 'A' ? 'B' : 'A';
  const json::object none_header{{"alg", "none"}, {"typ", "JWT"}, {"kid", trusted_.kid}};
  const json::value null_value;

  const std::vector<TokenCase> cases = {
      // Algorithms (D13: RS256 from configuration, never `none` or HS*).
      {"alg none, empty signature", P, Unsigned(none_header, good), 401},
      {"alg none, worker", W, Unsigned(none_header, GoodClaims(W)), 401},
      {"alg none, RSA signature", P, *SignJwtWithHeader(trusted_, none_header, good), 401},
      {"alg NONE", P, Unsigned(json::object{{"alg", "NONE"}, {"kid", trusted_.kid}}, good), 401},
      {"HS256 keyed with the public key PEM", P, Hs256(good, PublicKeyBytes(true)), 401},
      {"HS256 keyed with the public key DER", P, Hs256(good, PublicKeyBytes(false)), 401},
      {"HS256 keyed with the JWKS text", W, Hs256(GoodClaims(W), JwksJson(trusted_)), 401},
      // Time claims, leeway kSkew on exp, nbf and a future iat.
      {"expired beyond leeway", P, Sign(trusted_, ClaimsWith(P, {{"exp", now - 3 * kSkew}})), 401},
      {"expired beyond leeway, worker", W, Sign(trusted_, ClaimsWith(W, {{"exp", now - 3 * kSkew}})), 401},
      {"expired within leeway", P, Sign(trusted_, ClaimsWith(P, {{"exp", now - kSkew / 3}})), 202},
      {"not yet valid beyond leeway", P, Sign(trusted_, ClaimsWith(P, {{"nbf", now + 3 * kSkew}})), 401},
      {"not yet valid within leeway", P, Sign(trusted_, ClaimsWith(P, {{"nbf", now + kSkew / 3}})), 202},
      {"issued in the future beyond leeway", P, Sign(trusted_, ClaimsWith(P, {{"iat", now + 3 * kSkew}})), 401},
      {"issued in the future within leeway", P, Sign(trusted_, ClaimsWith(P, {{"iat", now + kSkew / 3}})), 202},
      {"no exp", P, Sign(trusted_, ClaimsWith(P, {{"exp", null_value}})), 401},
      {"exp not a number", P, Sign(trusted_, ClaimsWith(P, {{"exp", "tomorrow"}})), 401},
      // Issuer and audience.
      {"wrong iss", P, Sign(trusted_, ClaimsWith(P, {{"iss", "https://evil.test"}})), 401},
      {"iss with trailing slash", P, Sign(trusted_, ClaimsWith(P, {{"iss", std::string(kIssuer) + "/"}})), 401},
      {"no iss", W, Sign(trusted_, ClaimsWith(W, {{"iss", null_value}})), 401},
      {"no aud", P, Sign(trusted_, ClaimsWith(P, {{"aud", null_value}})), 401},
      {"wrong aud", P, Sign(trusted_, ClaimsWith(P, {{"aud", "codeq-worker"}})), 401},
      {"aud array without ours", P, Sign(trusted_, ClaimsWith(P, {{"aud", json::array{"a", "codeq-worker"}}})), 401},
      {"aud array with ours", P,
       Sign(trusted_, ClaimsWith(P, {{"aud", json::array{"other", "codeq-producer"}}})), 202},
      {"worker aud array without ours", W, Sign(trusted_, ClaimsWith(W, {{"aud", json::array{"codeq-producer"}}})),
       401},
      {"worker aud array with ours", W,
       Sign(trusted_, ClaimsWith(W, {{"aud", json::array{"codeq-producer", "codeq-worker"}}})), 204},
      // Keys.
      {"unknown kid", P, Sign(stranger_, good), 401},
      {"trusted kid, stranger's signature", P, Sign(stranger_, good, trusted_.kid), 401},
      {"empty kid", P, Sign(trusted_, good, " "), 401},
      // Integrity.
      {"tampered payload", P, header_b64 + "." + Base64UrlEncode(json::serialize(tampered_claims)) + "." + signature_b64,
       401},
      {"tampered signature", P, header_b64 + "." + valid.substr(header_b64.size() + 1, valid.rfind('.') - header_b64.size() - 1) +
                                    "." + bad_sig,
       401},
      {"signature stripped", P, valid.substr(0, valid.rfind('.') + 1), 401},
      {"four segments", P, valid + ".AAAA", 401},
      // Baselines: the untouched tokens are accepted.
      {"valid producer token", P, valid, 202},
      {"valid worker token", W, Sign(trusted_, GoodClaims(W)), 204},
  };
  int rejected = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = Present(c.side, c.token, cmd);
    if (c.status >= 400) {
      ExpectRejected(r, c.status, c.token, c.name);
      ++rejected;
    } else {
      EXPECT_EQ(r.status, c.status) << c.name << " -> " << r.Describe();
    }
  }
  std::printf("[hostile] %zu token cases, %d rejected as expected\n", cases.size(), rejected);
}

TEST_F(HostileTokens, RandomKidFloodRefetchesJwksAtMostOnce) {
  const std::string cmd = Cmd();
  std::mt19937_64 rng(std::random_device{}());
  const int before = jwks_->Hits(kProducerJwks);
  const json::object claims = GoodClaims(Side::kProducer);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) {
    const std::string kid = "flood-" + std::to_string(rng());
    const std::string token = Sign(trusted_, claims, kid);
    auto r = Present(Side::kProducer, token, cmd);
    ExpectRejected(r, 401, token, "random kid " + kid);
    if (HasFailure()) break;
  }
  const int fetches = jwks_->Hits(kProducerJwks) - before;
  std::printf("[hostile] 200 random kids in %lld ms caused %d JWKS fetch(es)\n",
              static_cast<long long>(MsSince(start)), fetches);
  EXPECT_LE(fetches, 1) << "an unknown kid may trigger at most one JWKS refetch per 30 s (D13)";
  // The flood did not break validation of good tokens, and those are served from the cache.
  auto ok = Present(Side::kProducer, Sign(trusted_, claims), cmd);
  EXPECT_EQ(ok.status, 202) << ok.Describe();
  EXPECT_EQ(jwks_->Hits(kProducerJwks) - before, fetches);
}

TEST_F(HostileTokens, RotatedKeyWorksOnItsFirstRequest) {
  // Worker side: its unknown-kid budget is untouched by the other tests (they flood the producer).
  const std::string cmd = Cmd();
  const std::string token = Sign(rotated_, GoodClaims(Side::kWorker));
  const int before = jwks_->Hits(kWorkerJwks);
  jwks_->SetBody(kWorkerJwks, JwksOf({&trusted_, &rotated_}));
  auto r = Present(Side::kWorker, token, cmd);
  EXPECT_EQ(r.status, 204) << "a token of the newly published key -> " << r.Describe();
  EXPECT_EQ(jwks_->Hits(kWorkerJwks) - before, 1) << "exactly one refetch for the new kid";
  jwks_->SetBody(kWorkerJwks, JwksJson(trusted_));
}

TEST_F(HostileTokens, OtherTenantsTaskIsNotFound) {
  const std::string cmd = Cmd();
  auto acme_producer = Sign(trusted_, ClaimsWith(Side::kProducer, {{"tenantId", "acme"}}));
  auto acme_worker = Sign(trusted_, ClaimsWith(Side::kWorker, {{"tenantId", "acme"}, {"sub", "acme-worker"}}));
  auto globex_worker = Sign(trusted_, ClaimsWith(Side::kWorker, {{"tenantId", "globex"}, {"sub", "acme-worker"}}));
  auto globex_producer = Sign(trusted_, ClaimsWith(Side::kProducer, {{"tenantId", "globex"}}));
  auto t = CreateTask(cmd, {{"payload", json::object{{"secret", "acme-payload-7c2"}}}}, acme_producer);
  const std::string id = JsonString(t, "id");
  ASSERT_FALSE(id.empty());
  auto claimed = ClaimRaw(acme_worker, {cmd});
  ASSERT_EQ(claimed.status, 200) << claimed.Describe();
  ASSERT_EQ(JsonString(claimed.Json(), "id"), id);
  // Same subject, other tenant: the task does not exist for it (D6), whatever the endpoint.
  const std::vector<std::pair<std::string, HttpResponse>> attempts = {
      {"GET task (worker)", GetTask(id, globex_worker)},
      {"GET task (producer)", GetTask(id, globex_producer)},
      {"GET result", Get(TaskPath(id, "result"), globex_producer)},
      {"heartbeat", Post(TaskPath(id, "heartbeat"), globex_worker, json::object{})},
      {"nack", Post(TaskPath(id, "nack"), globex_worker, json::object{})},
      {"abandon", Post(TaskPath(id, "abandon"), globex_worker, json::object{})},
      {"result", Post(TaskPath(id, "result"), globex_worker, json::object{{"status", "COMPLETED"}, {"result", json::object{}}})},
  };
  for (const auto& [what, r] : attempts) {
    EXPECT_EQ(r.status, 404) << what << " -> " << r.Describe();
    EXPECT_EQ(r.body.find("acme"), std::string::npos) << what << ": " << r.body;
  }
  // Nothing happened to the task: still IN_PROGRESS for its owner, who can finish it.
  auto mine = GetTask(id, acme_producer);
  EXPECT_EQ(JsonString(mine.Json(), "status"), "IN_PROGRESS") << mine.Describe();
  auto done = Post(TaskPath(id, "result"), acme_worker, json::object{{"status", "COMPLETED"}, {"result", json::object{}}});
  EXPECT_EQ(done.status, 200) << done.Describe();
}

TEST_F(HostileTokens, EventTypeAndScopeLimitsAre403) {
  const std::string cmd = Cmd();
  auto narrow = Sign(trusted_, ClaimsWith(Side::kWorker, {{"eventTypes", json::array{json::value(cmd + "_other")}}}));
  auto r = ClaimRaw(narrow, {cmd});
  ExpectRejected(r, 403, narrow, "claim outside eventTypes");
  EXPECT_EQ(r.ErrorText(), "event type not allowed");
  auto claim_only = Sign(trusted_, ClaimsWith(Side::kWorker, {{"scope", "codeq:claim"}}));
  auto t = CreateTask(cmd, {}, Sign(trusted_, GoodClaims(Side::kProducer)));
  const std::string id = JsonString(t, "id");
  auto c = ClaimRaw(claim_only, {cmd});
  ASSERT_EQ(c.status, 200) << c.Describe();
  for (const char* action : {"heartbeat", "nack", "abandon", "result"}) {
    auto denied = Post(TaskPath(id, action), claim_only, json::object{{"status", "COMPLETED"}, {"result", json::object{}}});
    ExpectRejected(denied, 403, claim_only, std::string("missing scope for ") + action);
    EXPECT_EQ(denied.ErrorText(), "missing scope") << action;
  }
  // A producer token is not a worker token (allowProducerAsWorker is off).
  auto producer = Sign(trusted_, GoodClaims(Side::kProducer));
  ExpectRejected(ClaimRaw(producer, {cmd}), 401, producer, "producer token on claim");
}

}  // namespace
}  // namespace codeq::it
