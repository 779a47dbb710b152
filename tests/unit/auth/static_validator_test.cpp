// The static provider (SPEC §3.3).
#include "auth/static_validator.h"

#include <gtest/gtest.h>

namespace codeq {
namespace {

boost::json::value J(const char* text) { return boost::json::parse(text); }

TEST(StaticValidatorTest, StringConfigIsTheToken) {
  auto v = StaticValidator::Create(boost::json::value("  dev-token "));
  ASSERT_TRUE(v.ok()) << v.status().message();
  auto c = (*v)->Validate("dev-token");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->subject, "static");
  EXPECT_EQ(c->expires_at, 0);
  EXPECT_TRUE(c->scopes.empty());
  EXPECT_TRUE((*v)->Validate("  dev-token\t").ok());  // presented token is trimmed
}

TEST(StaticValidatorTest, ObjectConfigReturnsConfiguredClaims) {
  auto v = StaticValidator::Create(J(R"({"token":"w-tok","subject":"worker-1","email":"w@x",
      "scopes":["codeq:claim","codeq:result"],"eventTypes":["render","*"],
      "raw":{"role":"ADMIN","tenantId":"acme"}})"));
  ASSERT_TRUE(v.ok()) << v.status().message();
  auto c = (*v)->Validate("w-tok");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->subject, "worker-1");
  EXPECT_EQ(c->email, "w@x");
  EXPECT_EQ(c->scopes, (std::vector<std::string>{"codeq:claim", "codeq:result"}));
  EXPECT_EQ(c->event_types, (std::vector<std::string>{"render", "*"}));
  EXPECT_EQ(c->raw.at("role").as_string(), "ADMIN");
  EXPECT_EQ(c->raw.at("tenantId").as_string(), "acme");
}

TEST(StaticValidatorTest, WrongTokenIsInvalidToken) {
  auto v = StaticValidator::Create(boost::json::value("dev-token"));
  ASSERT_TRUE(v.ok());
  for (const char* bad : {"", "dev-toke", "dev-token2", "DEV-TOKEN", "dev token"}) {
    auto r = (*v)->Validate(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(r.status().message(), "invalid token");
  }
}

TEST(StaticValidatorTest, StartUpErrors) {
  EXPECT_EQ(StaticValidator::Create(boost::json::value()).status().message(), "static auth: missing config");
  EXPECT_EQ(StaticValidator::Create(J("{}")).status().message(), "static auth: token is required");
  EXPECT_EQ(StaticValidator::Create(J(R"({"token":"   "})")).status().message(),
            "static auth: token is required");
  EXPECT_EQ(StaticValidator::Create(J(R"({"subject":"x"})")).status().message(),
            "static auth: token is required");
  EXPECT_EQ(StaticValidator::Create(J(R"("")")).status().message(), "static auth: token is required");
  // The mask of --print-config is refused, in both forms.
  for (const char* masked : {R"("****")", R"({"token":"****"})"}) {
    EXPECT_EQ(StaticValidator::Create(J(masked)).status().message(),
              "static auth: the token is the mask **** printed by --print-config; set the real token")
        << masked;
  }
  EXPECT_EQ(StaticValidator::Create(J("5")).status().message(), "static auth: invalid config");
  EXPECT_EQ(StaticValidator::Create(J(R"({"token":5})")).status().message(), "static auth: invalid config");
  EXPECT_EQ(StaticValidator::Create(J(R"({"token":"t","scopes":"a b"})")).status().message(),
            "static auth: invalid config");
  EXPECT_EQ(StaticValidator::Create(J(R"({"token":"t","eventTypes":[1]})")).status().message(),
            "static auth: invalid config");
  EXPECT_EQ(StaticValidator::Create(J(R"({"token":"t","raw":[]})")).status().message(),
            "static auth: invalid config");
  EXPECT_EQ(StaticValidator::Create(J(R"({"token":"t"})")).status().code(), StatusCode::kOk);
}

}  // namespace
}  // namespace codeq
