// Authenticator middleware rules (SPEC §2.2, §3.4–3.5, D1, D14).
#include "auth/authenticator.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "auth/jwt_validator.h"
#include "auth/static_validator.h"
#include "auth_test_util.h"

namespace codeq {
namespace {

/// Accepts the tokens it was given, with their claims; anything else fails with `reason`.
class FakeValidator : public TokenValidator {
 public:
  explicit FakeValidator(std::string reason = "invalid token") : reason_(std::move(reason)) {}
  FakeValidator& Add(const std::string& token, Claims c) {
    tokens_[token] = std::move(c);
    return *this;
  }
  Result<Claims> Validate(std::string_view token) override {
    ++calls;
    auto it = tokens_.find(std::string(token));
    if (it == tokens_.end()) return Unauthenticated(reason_);
    return it->second;
  }
  /// The tokens that answer without waiting (as a JwtValidator's cached ones would).
  bool AnswersWithoutWaiting(std::string_view token) override { return cached.count(std::string(token)) > 0; }
  /// A cached token's claims, as a JwtValidator's verified-token cache hands them out.
  std::shared_ptr<const Claims> CachedClaims(std::string_view token) override {
    if (cached.count(std::string(token)) == 0) return nullptr;
    auto it = tokens_.find(std::string(token));
    return it == tokens_.end() ? nullptr : std::make_shared<const Claims>(it->second);
  }
  int calls = 0;
  std::set<std::string> cached;

 private:
  std::string reason_;
  std::map<std::string, Claims> tokens_;
};

Claims WorkerClaims(std::vector<std::string> scopes = {"codeq:claim", "codeq:result"},
                    std::vector<std::string> events = {"render"}) {
  Claims c;
  c.subject = "worker-1";
  c.scopes = std::move(scopes);
  c.event_types = std::move(events);
  return c;
}

Claims ProducerClaims(boost::json::object raw = {}) {
  Claims c;
  c.subject = "producer-1";
  c.email = "p@example.com";
  c.expires_at = 123;
  c.raw = std::move(raw);
  return c;
}

struct Fixture {
  std::shared_ptr<FakeValidator> producer = std::make_shared<FakeValidator>("token expired");
  std::shared_ptr<FakeValidator> worker = std::make_shared<FakeValidator>("invalid signature");
  AuthOptions options;
  Authenticator Make() const { return Authenticator(options, producer, worker); }
};

void ExpectError(const Status& s, StatusCode code, const std::string& message) {
  EXPECT_EQ(s.code(), code) << s.message();
  EXPECT_EQ(s.message(), message);
}

// ---- which calls may block (api::Api runs those off the I/O thread) ----

TEST(AuthenticatorTest, AnswersWithoutWaitingOnlyWhenEveryValidatorThatMayRunCan) {
  Fixture f;
  f.worker->cached = {"w", "both"};
  f.producer->cached = {"p", "both"};
  Authenticator a = f.Make();
  EXPECT_TRUE(a.AnswersWithoutWaiting("Bearer w", AuthGroup::kWorker));  // no producer fallback
  EXPECT_FALSE(a.AnswersWithoutWaiting("Bearer p", AuthGroup::kWorker));
  EXPECT_TRUE(a.AnswersWithoutWaiting("Bearer p", AuthGroup::kProducer));
  EXPECT_FALSE(a.AnswersWithoutWaiting("Bearer w", AuthGroup::kProducer));
  // Any-auth may run both validators (worker first, then producer).
  EXPECT_FALSE(a.AnswersWithoutWaiting("Bearer w", AuthGroup::kAny));
  EXPECT_FALSE(a.AnswersWithoutWaiting("Bearer p", AuthGroup::kAny));
  EXPECT_TRUE(a.AnswersWithoutWaiting("Bearer both", AuthGroup::kAny));
  // With allowProducerAsWorker, worker endpoints may fall back to the producer validator.
  f.options.allow_producer_as_worker = true;
  Authenticator fallback = f.Make();
  EXPECT_FALSE(fallback.AnswersWithoutWaiting("Bearer w", AuthGroup::kWorker));
  EXPECT_TRUE(fallback.AnswersWithoutWaiting("Bearer both", AuthGroup::kWorker));
  // Header errors and missing validators are answered without validating anything.
  EXPECT_TRUE(a.AnswersWithoutWaiting("", AuthGroup::kWorker));
  EXPECT_TRUE(a.AnswersWithoutWaiting("Basic abc", AuthGroup::kProducer));
  Authenticator none(AuthOptions{}, nullptr, nullptr);
  EXPECT_TRUE(none.AnswersWithoutWaiting("Bearer x", AuthGroup::kAny));
}

// A static worker validator (never waits) in front of a JWKS producer validator: a producer JWT
// on an any-auth endpoint may still wait for the producer's JWKS.
TEST(AuthenticatorTest, StaticWorkerDoesNotHideAJwksProducer) {
  auto worker = std::make_shared<StaticValidator>("static-worker-token", WorkerClaims());
  auto producer = std::make_shared<FakeValidator>();  // caches nothing: every JWT may wait
  Authenticator a(AuthOptions{}, producer, worker);
  EXPECT_FALSE(a.AnswersWithoutWaiting("Bearer some.jwt.token", AuthGroup::kAny));
  EXPECT_TRUE(a.AnswersWithoutWaiting("Bearer some.jwt.token", AuthGroup::kWorker));
}

// ---- configuration and header format ----

TEST(AuthenticatorTest, MissingValidatorsAre500) {
  Authenticator none(AuthOptions{}, nullptr, nullptr);
  ExpectError(none.AuthenticateProducer("Bearer x", "").status(), StatusCode::kInternal,
              "producer validator not configured");
  ExpectError(none.AuthenticateWorker("Bearer x", "codeq:claim").status(), StatusCode::kInternal,
              "worker validator not configured");
  EXPECT_EQ(none.AuthenticateAny("Bearer x", "").status().code(), StatusCode::kInternal);
  // Checked before the header.
  ExpectError(none.AuthenticateProducer("", "").status(), StatusCode::kInternal, "producer validator not configured");
}

TEST(AuthenticatorTest, MissingOrBlankHeader) {
  Fixture f;
  auto a = f.Make();
  for (const char* h : {"", "   ", "\t"}) {
    ExpectError(a.AuthenticateProducer(h, "").status(), StatusCode::kUnauthenticated, "missing Authorization header");
    ExpectError(a.AuthenticateWorker(h, "").status(), StatusCode::kUnauthenticated, "missing Authorization header");
    ExpectError(a.AuthenticateAny(h, "").status(), StatusCode::kUnauthenticated, "missing Authorization header");
  }
}

TEST(AuthenticatorTest, InvalidHeaderFormat) {
  Fixture f;
  f.producer->Add("tok", ProducerClaims());
  auto a = f.Make();
  for (const char* h : {"tok", "Basic tok", "Bearer", "Bearer ", "Bearertok", "Bearer  tok", "Bearer\ttok",
                        "Bearer tok extra", "Token tok", "Bearer: tok"}) {
    ExpectError(a.AuthenticateProducer(h, "").status(), StatusCode::kUnauthenticated, "invalid Authorization format");
    ExpectError(a.AuthenticateAny(h, "").status(), StatusCode::kUnauthenticated, "invalid Authorization format");
  }
  EXPECT_EQ(f.producer->calls, 0);
}

TEST(AuthenticatorTest, BearerSchemeIsCaseInsensitive) {
  Fixture f;
  f.producer->Add("tok", ProducerClaims());
  auto a = f.Make();
  for (const char* h : {"Bearer tok", "bearer tok", "BEARER tok", "BeArEr tok", "  Bearer tok  "}) {
    EXPECT_TRUE(a.AuthenticateProducer(h, "").ok()) << h;
  }
  EXPECT_EQ(ParseBearerToken("bearer abc.def.ghi").value(), "abc.def.ghi");
}

// The space check reads the token eight bytes at a time: a space character at any offset, in a
// whole word or in the tail, is found; other bytes (controls, 0x7f, non-ASCII) are not spaces.
TEST(AuthenticatorTest, BearerTokenWithASpaceCharacterAnywhereIsRejected) {
  const std::string base(37, 'a');
  for (char space : {' ', '\t', '\n', '\r', '\f', '\v'}) {
    for (size_t at = 1; at + 1 < base.size(); ++at) {
      std::string token = base;
      token[at] = space;
      ExpectError(ParseBearerToken("Bearer " + token).status(), StatusCode::kUnauthenticated,
                  "invalid Authorization format");
    }
  }
  for (char other : {'\x01', '\x1f', '!', '\x7f', '\x80', '\xa0', '\xff'}) {
    for (size_t at = 1; at + 1 < base.size(); ++at) {
      std::string token = base;
      token[at] = other;
      EXPECT_EQ(ParseBearerToken("Bearer " + token).value(), token) << at;
    }
  }
}

TEST(AuthenticatorTest, ValidatorReasonIsPassedThrough) {
  Fixture f;
  auto a = f.Make();
  ExpectError(a.AuthenticateProducer("Bearer nope", "").status(), StatusCode::kUnauthenticated, "token expired");
  ExpectError(a.AuthenticateWorker("Bearer nope", "").status(), StatusCode::kUnauthenticated, "invalid signature");
}

// ---- worker group ----

TEST(AuthenticatorTest, WorkerRequiresEventTypesThenScopes) {
  Fixture f;
  f.worker->Add("no-events", WorkerClaims({"codeq:claim"}, {}));
  f.worker->Add("no-scopes", WorkerClaims({}, {"render"}));
  f.worker->Add("neither", WorkerClaims({}, {}));
  auto a = f.Make();
  ExpectError(a.AuthenticateWorker("Bearer no-events", "").status(), StatusCode::kUnauthenticated,
              "missing eventTypes");
  ExpectError(a.AuthenticateWorker("Bearer no-scopes", "").status(), StatusCode::kUnauthenticated, "missing scope");
  ExpectError(a.AuthenticateWorker("Bearer neither", "").status(), StatusCode::kUnauthenticated,
              "missing eventTypes");
}

TEST(AuthenticatorTest, WorkerEndpointScopeIs403) {
  Fixture f;
  f.worker->Add("w", WorkerClaims({"codeq:claim"}, {"render"}));
  auto a = f.Make();
  auto ok = a.AuthenticateWorker("Bearer w", "codeq:claim");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->subject, "worker-1");
  EXPECT_EQ(ok->role, "USER");
  EXPECT_FALSE(ok->is_admin);
  ExpectError(a.AuthenticateWorker("Bearer w", "codeq:result").status(), StatusCode::kForbidden, "missing scope");
  EXPECT_TRUE(a.AuthenticateWorker("Bearer w", "").ok());  // no scope required
}

TEST(AuthenticatorTest, ProducerAsWorkerGetsSyntheticClaims) {
  Fixture f;
  f.options.allow_producer_as_worker = true;
  f.producer->Add("p", ProducerClaims({{"tenantId", "acme"}, {"workerGroup", "gpu"}}));
  auto a = f.Make();
  auto p = a.AuthenticateWorker("Bearer p", "codeq:subscribe");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->subject, "producer-1");
  EXPECT_EQ(p->email, "p@example.com");
  EXPECT_EQ(p->tenant, "acme");
  EXPECT_EQ(p->worker_group, "gpu");
  EXPECT_EQ(p->scopes, (std::vector<std::string>{"codeq:claim", "codeq:heartbeat", "codeq:abandon", "codeq:nack",
                                                 "codeq:result", "codeq:subscribe"}));
  EXPECT_EQ(p->event_types, std::vector<std::string>{"*"});
  EXPECT_TRUE(p->HasWildcard());
  EXPECT_TRUE(p->AllowsEvent("anything"));
  EXPECT_FALSE(p->is_admin);
}

TEST(AuthenticatorTest, ProducerAsWorkerAlsoCoversWorkerTokenWithoutEventTypes) {
  Fixture f;
  f.options.allow_producer_as_worker = true;
  f.worker->Add("t", WorkerClaims({"codeq:claim"}, {}));
  f.producer->Add("t", ProducerClaims());
  auto a = f.Make();
  auto p = a.AuthenticateWorker("Bearer t", "codeq:nack");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->subject, "producer-1");
}

TEST(AuthenticatorTest, ProducerAsWorkerDisabledKeepsWorkerFailureText) {
  Fixture f;
  f.producer->Add("p", ProducerClaims());
  auto a = f.Make();
  ExpectError(a.AuthenticateWorker("Bearer p", "codeq:claim").status(), StatusCode::kUnauthenticated,
              "invalid signature");
  f.options.allow_producer_as_worker = true;
  auto b = f.Make();
  // Producer rejects too → the worker's text, not the producer's.
  ExpectError(b.AuthenticateWorker("Bearer other", "codeq:claim").status(), StatusCode::kUnauthenticated,
              "invalid signature");
  // No producer validator → no fallback.
  Authenticator c(f.options, nullptr, f.worker);
  ExpectError(c.AuthenticateWorker("Bearer p", "").status(), StatusCode::kUnauthenticated, "invalid signature");
}

// ---- any-auth group ----

TEST(AuthenticatorTest, AnyAuthPrefersWorkerWithEventTypes) {
  Fixture f;
  Claims w = WorkerClaims({}, {"render"});  // scopes not required here
  w.raw = {{"role", "admin"}};
  f.worker->Add("t", w);
  f.producer->Add("t", ProducerClaims({{"role", "admin"}}));
  auto a = f.Make();
  auto p = a.AuthenticateAny("Bearer t", "");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->subject, "worker-1");
  EXPECT_FALSE(p->is_admin);  // worker tokens are never admin
}

TEST(AuthenticatorTest, AnyAuthFallsBackToProducer) {
  Fixture f;
  f.worker->Add("no-events", WorkerClaims({"codeq:claim"}, {}));
  f.producer->Add("no-events", ProducerClaims());
  f.producer->Add("p", ProducerClaims());
  auto a = f.Make();
  EXPECT_EQ(a.AuthenticateAny("Bearer no-events", "")->subject, "producer-1");
  EXPECT_EQ(a.AuthenticateAny("Bearer p", "")->subject, "producer-1");
  ExpectError(a.AuthenticateAny("Bearer nobody", "").status(), StatusCode::kUnauthenticated, "invalid token");
  Authenticator only_producer(f.options, f.producer, nullptr);
  EXPECT_TRUE(only_producer.AuthenticateAny("Bearer p", "").ok());
  Authenticator only_worker(f.options, nullptr, f.worker);
  ExpectError(only_worker.AuthenticateAny("Bearer p", "").status(), StatusCode::kUnauthenticated, "invalid token");
}

// ---- the cached fast path (AuthenticateCached) ----

void ExpectSamePrincipal(const Result<Principal>& fast, const Result<Principal>& slow, const std::string& what) {
  ASSERT_EQ(fast.ok(), slow.ok()) << what << ": " << fast.status().message() << " / " << slow.status().message();
  if (!fast.ok()) {
    EXPECT_EQ(fast.status().code(), slow.status().code()) << what;
    EXPECT_EQ(fast.status().message(), slow.status().message()) << what;
    return;
  }
  EXPECT_EQ(fast->subject, slow->subject) << what;
  EXPECT_EQ(fast->email, slow->email) << what;
  EXPECT_EQ(fast->role, slow->role) << what;
  EXPECT_EQ(fast->tenant, slow->tenant) << what;
  EXPECT_EQ(fast->worker_group, slow->worker_group) << what;
  EXPECT_EQ(fast->scopes, slow->scopes) << what;
  EXPECT_EQ(fast->event_types, slow->event_types) << what;
  EXPECT_EQ(fast->is_admin, slow->is_admin) << what;
}

// Whenever AuthenticateCached answers, it answers what the group's Authenticate* call would have,
// over tokens of every kind, headers, groups, scopes and options; and it does answer for the
// common cases (a cached worker token on a worker endpoint, a cached producer token).
TEST(AuthenticatorTest, CachedFastPathAnswersExactlyAsTheFullCall) {
  for (bool producer_as_worker : {false, true}) {
    for (bool dev : {false, true}) {
      Fixture f;
      f.options.allow_producer_as_worker = producer_as_worker;
      f.options.dev_mode = dev;
      Claims w = WorkerClaims();
      w.raw = {{"tenantId", "acme"}, {"workerGroup", "gpu"}, {"role", "ops"}};
      f.worker->Add("w", w);
      f.worker->Add("w-noevents", WorkerClaims({"codeq:claim"}, {}));
      f.worker->Add("w-noscopes", WorkerClaims({}, {"render"}));
      f.worker->Add("w-claimonly", WorkerClaims({"codeq:claim"}, {"render"}));
      Claims bad_tenant = WorkerClaims();
      bad_tenant.raw = {{"tenantId", "no spaces allowed"}};
      f.worker->Add("w-badtenant", bad_tenant);
      f.producer->Add("p", ProducerClaims({{"tenantId", "acme"}}));
      f.producer->Add("p-admin", ProducerClaims({{"role", "admin"}}));
      f.producer->Add("w-noevents", ProducerClaims());
      f.producer->Add("p-badtenant", ProducerClaims({{"organizationId", "bad/tenant"}}));
      const std::vector<std::string> tokens = {"w", "w-noevents", "w-noscopes", "w-claimonly", "w-badtenant",
                                               "p", "p-admin", "p-badtenant", "unknown"};
      for (const auto& t : tokens) {
        f.worker->cached.insert(t);
        f.producer->cached.insert(t);
      }
      Authenticator a = f.Make();
      int answered = 0;
      for (const auto& t : tokens) {
        for (const std::string& header : {"Bearer " + t, "bearer " + t, "Basic " + t, std::string(), "Bearer " + t + " x"}) {
          for (const std::string x_role : {"", "admin"}) {
            const std::string what = t + " '" + header + "' x-role=" + x_role +
                                     (producer_as_worker ? " producer-as-worker" : "") + (dev ? " dev" : "");
            if (auto fast = a.AuthenticateCached(header, AuthGroup::kProducer, "", x_role)) {
              ++answered;
              ExpectSamePrincipal(*fast, a.AuthenticateProducer(header, x_role), "producer " + what);
            }
            for (std::string scope : {"", "codeq:claim", "codeq:result"}) {
              if (auto fast = a.AuthenticateCached(header, AuthGroup::kWorker, scope, x_role)) {
                ++answered;
                ExpectSamePrincipal(*fast, a.AuthenticateWorker(header, scope), "worker " + scope + " " + what);
              }
            }
            if (auto fast = a.AuthenticateCached(header, AuthGroup::kAny, "", x_role)) {
              ++answered;
              ExpectSamePrincipal(*fast, a.AuthenticateAny(header, x_role), "any " + what);
            }
          }
        }
      }
      EXPECT_GT(answered, 40);
      EXPECT_TRUE(a.AuthenticateCached("Bearer w", AuthGroup::kWorker, "codeq:claim", "").has_value());
      EXPECT_TRUE(a.AuthenticateCached("Bearer p", AuthGroup::kProducer, "", "").has_value());
      EXPECT_TRUE(a.AuthenticateCached("Bearer w", AuthGroup::kAny, "", "").has_value());
      // Left to the full call: not cached, a malformed header, a worker token without event types
      // (the producer validator may still take it).
      EXPECT_FALSE(a.AuthenticateCached("Bearer w-noevents", AuthGroup::kWorker, "", "").has_value());
      EXPECT_FALSE(a.AuthenticateCached("Basic w", AuthGroup::kWorker, "", "").has_value());
      f.worker->cached.clear();
      EXPECT_FALSE(a.AuthenticateCached("Bearer w", AuthGroup::kWorker, "codeq:claim", "").has_value());
    }
  }
}

TEST(AuthenticatorTest, CachedFastPathNeedsTheGroupsFirstValidator) {
  Fixture f;
  f.producer->Add("p", ProducerClaims());
  f.producer->cached.insert("p");
  Authenticator only_producer(f.options, f.producer, nullptr);
  EXPECT_FALSE(only_producer.AuthenticateCached("Bearer p", AuthGroup::kWorker, "", "").has_value());
  EXPECT_FALSE(only_producer.AuthenticateCached("Bearer p", AuthGroup::kAny, "", "").has_value());
  EXPECT_TRUE(only_producer.AuthenticateCached("Bearer p", AuthGroup::kProducer, "", "").has_value());
  Authenticator none(f.options, nullptr, nullptr);
  EXPECT_FALSE(none.AuthenticateCached("Bearer p", AuthGroup::kProducer, "", "").has_value());
}

// ---- tenant (D1) ----

Result<std::string> TenantOf(boost::json::object raw, bool fallback = false, std::string sub = "user-1") {
  Claims c;
  c.subject = std::move(sub);
  c.raw = std::move(raw);
  return ResolveTenant(c, fallback);
}

TEST(AuthenticatorTest, TenantClaimOrder) {
  EXPECT_EQ(*TenantOf({{"tenantId", "a"}, {"tenant_id", "b"}, {"organizationId", "c"}, {"organization_id", "d"}}), "a");
  EXPECT_EQ(*TenantOf({{"tenant_id", "b"}, {"organizationId", "c"}, {"organization_id", "d"}}), "b");
  EXPECT_EQ(*TenantOf({{"organizationId", "c"}, {"organization_id", "d"}}), "c");
  EXPECT_EQ(*TenantOf({{"organization_id", "d"}}), "d");
  EXPECT_EQ(*TenantOf({{"tenantId", 5}, {"tenant_id", nullptr}, {"organizationId", "c"}}), "c");  // non-strings skipped
  EXPECT_EQ(*TenantOf({{"tenantId", "  "}, {"tenant_id", "b"}}), "");  // first string stops the search
  EXPECT_EQ(*TenantOf({{"tenantId", "  acme \t"}}), "acme");
  EXPECT_EQ(*TenantOf({}), "");  // D1: no subject fallback by default
}

TEST(AuthenticatorTest, TenantFallbackToSubject) {
  EXPECT_EQ(*TenantOf({}, true, " user-1 "), "user-1");
  EXPECT_EQ(*TenantOf({{"tenantId", ""}}, true, "user-1"), "user-1");
  EXPECT_EQ(*TenantOf({{"tenantId", "acme"}}, true, "user-1"), "acme");
  ExpectError(TenantOf({}, true, "user@example.com").status(), StatusCode::kUnauthenticated, "invalid tenant");
  EXPECT_EQ(*TenantOf({}, true, ""), "");
}

TEST(AuthenticatorTest, TenantValidation) {
  EXPECT_EQ(*TenantOf({{"tenantId", "Acme_1.prod-x"}}), "Acme_1.prod-x");
  EXPECT_EQ(*TenantOf({{"tenantId", std::string(64, 'a')}}), std::string(64, 'a'));
  for (std::string bad : {std::string(65, 'a'), std::string("a:b"), std::string("a b"), std::string("a/b"),
                          std::string("a{b}"), std::string("t\xc3\xa9"), std::string("a*")}) {
    ExpectError(TenantOf({{"tenantId", bad}}).status(), StatusCode::kUnauthenticated, "invalid tenant");
  }
  Fixture f;
  f.producer->Add("p", ProducerClaims({{"tenantId", "bad:tenant"}}));
  f.worker->Add("w", [] {
    Claims c = WorkerClaims();
    c.raw = {{"organization_id", "bad tenant"}};
    return c;
  }());
  auto a = f.Make();
  ExpectError(a.AuthenticateProducer("Bearer p", "").status(), StatusCode::kUnauthenticated, "invalid tenant");
  ExpectError(a.AuthenticateWorker("Bearer w", "").status(), StatusCode::kUnauthenticated, "invalid tenant");
  ExpectError(a.AuthenticateAny("Bearer w", "").status(), StatusCode::kUnauthenticated, "invalid tenant");
}

TEST(AuthenticatorTest, TenantFallbackOptionReachesPrincipal) {
  Fixture f;
  f.options.tenant_fallback_to_subject = true;
  f.producer->Add("p", ProducerClaims());
  EXPECT_EQ(f.Make().AuthenticateProducer("Bearer p", "")->tenant, "producer-1");
  f.options.tenant_fallback_to_subject = false;
  EXPECT_EQ(f.Make().AuthenticateProducer("Bearer p", "")->tenant, "");
}

// ---- role and admin ----

TEST(AuthenticatorTest, RoleFromRawClaim) {
  Fixture f;
  f.producer->Add("admin", ProducerClaims({{"role", " admin "}}));
  f.producer->Add("ops", ProducerClaims({{"role", "ops"}}));
  f.producer->Add("none", ProducerClaims());
  f.producer->Add("num", ProducerClaims({{"role", 1}}));
  auto a = f.Make();
  auto admin = a.AuthenticateProducer("Bearer admin", "");
  EXPECT_EQ(admin->role, "ADMIN");
  EXPECT_TRUE(admin->is_admin);
  EXPECT_TRUE(Authenticator::RequireAdmin(*admin).ok());
  auto ops = a.AuthenticateProducer("Bearer ops", "ADMIN");
  EXPECT_EQ(ops->role, "OPS");
  EXPECT_FALSE(ops->is_admin);
  EXPECT_EQ(a.AuthenticateProducer("Bearer none", "")->role, "USER");
  EXPECT_EQ(a.AuthenticateProducer("Bearer num", "")->role, "USER");
}

TEST(AuthenticatorTest, AdminViaScope) {
  Fixture f;
  Claims c = ProducerClaims();
  c.scopes = {"codeq:admin"};
  f.producer->Add("p", c);
  auto p = f.Make().AuthenticateProducer("Bearer p", "");
  EXPECT_EQ(p->role, "USER");
  EXPECT_TRUE(p->is_admin);
}

TEST(AuthenticatorTest, XRoleHonouredOnlyInDevMode) {
  Fixture f;
  f.producer->Add("p", ProducerClaims());
  auto prod = f.Make().AuthenticateProducer("Bearer p", " admin ");
  EXPECT_EQ(prod->role, "USER");
  EXPECT_FALSE(prod->is_admin);
  ExpectError(Authenticator::RequireAdmin(*prod), StatusCode::kForbidden, "unauthorized. Admin only");

  f.options.dev_mode = true;
  auto dev = f.Make().AuthenticateProducer("Bearer p", " admin ");
  EXPECT_EQ(dev->role, "ADMIN");
  EXPECT_TRUE(dev->is_admin);
  EXPECT_EQ(f.Make().AuthenticateProducer("Bearer p", "viewer")->role, "VIEWER");
  EXPECT_EQ(f.Make().AuthenticateProducer("Bearer p", "")->role, "USER");
  EXPECT_TRUE(f.Make().AuthenticateAny("Bearer p", "ADMIN")->is_admin);
}

TEST(AuthenticatorTest, WorkerGroupAndPrincipalHelpers) {
  Fixture f;
  Claims c = WorkerClaims({"codeq:claim"}, {"render", "email"});
  c.raw = {{"workerGroup", "gpu"}};
  f.worker->Add("w", c);
  auto p = f.Make().AuthenticateWorker("Bearer w", "codeq:claim");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->worker_group, "gpu");
  EXPECT_TRUE(p->HasScope("codeq:claim"));
  EXPECT_FALSE(p->HasScope("codeq:clai"));
  EXPECT_TRUE(p->AllowsEvent("render"));
  EXPECT_FALSE(p->AllowsEvent("Render"));  // case-sensitive
  EXPECT_FALSE(p->HasWildcard());
}

// ---- end to end with real validators ----

TEST(AuthenticatorTest, EndToEndWithJwtAndStaticValidators) {
  using namespace auth_test;
  JwksFile file({&KeyA()});
  ManualClock clock;
  JwtValidatorOptions o;
  o.jwks_url = file.url();
  o.issuer = kIssuer;
  o.audience = "codeq-worker";
  auto worker = std::make_shared<JwtValidator>(o, clock);
  auto producer = StaticValidator::Create(boost::json::parse(
      R"({"token":"producer-dev","raw":{"role":"ADMIN","tenantId":"acme"}})"));
  ASSERT_TRUE(producer.ok());
  Authenticator a(AuthOptions{}, std::shared_ptr<TokenValidator>(std::move(producer).value()), worker);

  boost::json::object claims = GoodClaims(clock.NowSeconds());
  claims["aud"] = boost::json::array{"other", "codeq-worker"};
  std::string token = MustSign(KeyA(), claims);
  auto w = a.AuthenticateWorker("Bearer " + token, "codeq:claim");
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->tenant, "acme");
  EXPECT_EQ(w->subject, "user-1");
  ExpectError(a.AuthenticateWorker("Bearer " + token, "codeq:nack").status(), StatusCode::kForbidden,
              "missing scope");

  auto p = a.AuthenticateProducer("Bearer producer-dev", "");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->is_admin);
  EXPECT_EQ(p->subject, "static");
  EXPECT_EQ(p->tenant, "acme");
  ExpectError(a.AuthenticateProducer("Bearer " + token, "").status(), StatusCode::kUnauthenticated, "invalid token");

  clock.Advance(2 * 3600 * 1000);
  auto expired = a.AuthenticateWorker("Bearer " + token, "codeq:claim");
  ExpectError(expired.status(), StatusCode::kUnauthenticated, "token expired");
}

}  // namespace
}  // namespace codeq
