// Provider config parsing and validator construction (SPEC §3.1–3.3).
#include "auth/validator_factory.h"

#include <gtest/gtest.h>

#include "auth/jwt_validator.h"
#include "auth/static_validator.h"

namespace codeq {
namespace {

boost::json::value J(const char* text) { return boost::json::parse(text); }

TEST(ValidatorFactoryTest, Durations) {
  EXPECT_EQ(ParseDurationNanos(J("60000000000")), 60'000'000'000);
  EXPECT_EQ(ParseDurationNanos(J("0")), 0);
  EXPECT_EQ(ParseDurationNanos(J(R"("60s")")), 60'000'000'000);
  EXPECT_EQ(ParseDurationNanos(J(R"("5s")")), 5'000'000'000);
  EXPECT_EQ(ParseDurationNanos(J(R"("1m30s")")), 90'000'000'000);
  EXPECT_EQ(ParseDurationNanos(J(R"("250ms")")), 250'000'000);
  EXPECT_EQ(ParseDurationNanos(J(R"("1.5h")")), 5'400'000'000'000);
  EXPECT_EQ(ParseDurationNanos(J(R"("10us")")), 10'000);
  EXPECT_EQ(ParseDurationNanos(J(R"("0")")), 0);
  for (const char* bad : {R"("")", R"("60")", R"("s")", R"("-5s")", R"("5 s")", R"("5d")", R"("1..2s")", "-1",
                          "1.5", "true", "null", "[]"}) {
    EXPECT_FALSE(ParseDurationNanos(J(bad)).has_value()) << bad;
  }
}

TEST(ValidatorFactoryTest, JwtOptionsFromConfig) {
  auto o = ParseJwtValidatorOptions(J(
      R"({"jwksUrl":"https://id/jwks","issuer":"https://id","audience":"codeq","clockSkew":"30s","httpTimeout":2000000000})"));
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->jwks_url, "https://id/jwks");
  EXPECT_EQ(o->issuer, "https://id");
  EXPECT_EQ(o->audience, "codeq");
  EXPECT_EQ(o->clock_skew_seconds, 30);
  EXPECT_EQ(o->http_timeout_ms, 2000);
  EXPECT_EQ(o->algorithms, std::vector<std::string>{"RS256"});

  auto defaults = ParseJwtValidatorOptions(J(R"({"JWKSURL":"u","Issuer":"i","AUDIENCE":"a"})"));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->jwks_url, "u");
  EXPECT_EQ(defaults->clock_skew_seconds, 60);
  EXPECT_EQ(defaults->http_timeout_ms, 5000);

  auto algs = ParseJwtValidatorOptions(J(R"({"jwksUrl":"u","issuer":"i","audience":"a","algorithms":["RS256","RS512"]})"));
  ASSERT_TRUE(algs.ok());
  EXPECT_EQ(algs->algorithms, (std::vector<std::string>{"RS256", "RS512"}));
}

TEST(ValidatorFactoryTest, JwtOptionsErrors) {
  auto msg = [](const char* text) { return ParseJwtValidatorOptions(J(text)).status().message(); };
  EXPECT_EQ(msg("null"), "jwksURL is required");
  EXPECT_EQ(msg("{}"), "jwksURL is required");
  EXPECT_EQ(msg(R"({"jwksUrl":"u"})"), "issuer is required");
  EXPECT_EQ(msg(R"({"jwksUrl":"u","issuer":"i"})"), "audience is required");
  EXPECT_EQ(msg(R"({"jwksUrl":"u","issuer":"i","audience":" "})"), "audience is required");
  EXPECT_EQ(msg(R"({"jwksUrl":5,"issuer":"i","audience":"a"})"), "jwks auth: invalid config");
  EXPECT_EQ(msg(R"({"jwksUrl":"u","issuer":"i","audience":"a","clockSkew":"soon"})"), "jwks auth: invalid config");
  EXPECT_EQ(msg(R"({"jwksUrl":"u","issuer":"i","audience":"a","algorithms":["HS256"]})"),
            "jwks auth: unsupported algorithm");
  EXPECT_EQ(msg(R"({"jwksUrl":"u","issuer":"i","audience":"a","algorithms":[]})"), "jwks auth: invalid config");
  EXPECT_EQ(msg("[]"), "jwks auth: invalid config");
}

TEST(ValidatorFactoryTest, MakeTokenValidator) {
  ManualClock clock;
  auto jwks = MakeTokenValidator("jwks", J(R"({"jwksUrl":"file:///nonexistent","issuer":"i","audience":"a"})"), clock);
  ASSERT_TRUE(jwks.ok());
  EXPECT_NE(dynamic_cast<JwtValidator*>(jwks->get()), nullptr);
  auto stat = MakeTokenValidator(" Static ", J(R"("tok")"), clock);
  ASSERT_TRUE(stat.ok());
  EXPECT_TRUE((*stat)->Validate("tok").ok());
  auto none = MakeTokenValidator("", J("null"), clock);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr);
  EXPECT_EQ(MakeTokenValidator("oauth", J("null"), clock).status().message(), "unknown auth provider type: oauth");
  EXPECT_EQ(MakeTokenValidator("static", J("null"), clock).status().message(), "static auth: missing config");
  EXPECT_EQ(MakeTokenValidator("jwks", J("{}"), clock).status().message(), "jwksURL is required");
}

}  // namespace
}  // namespace codeq
