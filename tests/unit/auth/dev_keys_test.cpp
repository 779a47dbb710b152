// Dev signing keys: generation, kid, PEM persistence, JWKS export, signing.
#include "auth/dev_keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "auth/base64url.h"
#include "auth/jwks_cache.h"
#include "auth_test_util.h"

namespace codeq {
namespace {

using auth_test::KeyA;
using auth_test::KeyB;
using auth_test::TempDir;

TEST(DevKeysTest, GeneratedKeyHasStableShortKid) {
  const SigningKey& k = KeyA();
  ASSERT_TRUE(k.key);
  EXPECT_EQ(EVP_PKEY_get_bits(k.key.get()), 2048);
  EXPECT_EQ(k.kid.size(), 11u);  // base64url of 8 bytes
  EXPECT_EQ(KeyIdFor(k.key.get()).value(), k.kid);
  EXPECT_NE(KeyA().kid, KeyB().kid);
}

TEST(DevKeysTest, JwksJsonHasOnePublicRsaKey) {
  std::string jwks = JwksJson(KeyA());
  boost::json::value doc = boost::json::parse(jwks);
  const auto& keys = doc.at("keys").as_array();
  ASSERT_EQ(keys.size(), 1u);
  const auto& jwk = keys[0].as_object();
  EXPECT_EQ(jwk.at("kty").as_string(), "RSA");
  EXPECT_EQ(jwk.at("kid").as_string(), KeyA().kid.c_str());
  EXPECT_EQ(jwk.at("use").as_string(), "sig");
  EXPECT_EQ(jwk.at("alg").as_string(), "RS256");
  EXPECT_EQ(jwk.at("e").as_string(), "AQAB");
  EXPECT_FALSE(jwk.contains("d"));  // never the private exponent
  auto parsed = ParseJwks(jwks);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->count(KeyA().kid), 1u);
}

TEST(DevKeysTest, SignJwtHeaderIsRs256WithKid) {
  auto token = SignJwt(KeyA(), boost::json::object{{"sub", "x"}});
  ASSERT_TRUE(token.ok());
  std::string header_b64 = token->substr(0, token->find('.'));
  boost::json::value header = boost::json::parse(*Base64UrlDecode(header_b64));
  EXPECT_EQ(header.at("alg").as_string(), "RS256");
  EXPECT_EQ(header.at("typ").as_string(), "JWT");
  EXPECT_EQ(header.at("kid").as_string(), KeyA().kid.c_str());
  EXPECT_EQ(std::count(token->begin(), token->end(), '.'), 2);
}

TEST(DevKeysTest, LoadOrCreateCreatesDirsWithMode0600ThenReloads) {
  TempDir dir;
  std::string path = (dir.path() / "a" / "b" / "signing.pem").string();
  auto created = LoadOrCreateSigningKey(path);
  ASSERT_TRUE(created.ok()) << created.status().message();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto loaded = LoadOrCreateSigningKey(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->kid, created->kid);
  EXPECT_EQ(PrivateKeyPem(*loaded).value(), PrivateKeyPem(*created).value());
  // No temporary files are left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path() / "a" / "b"),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(DevKeysTest, LoadRejectsGarbageFile) {
  TempDir dir;
  std::string path = (dir.path() / "bad.pem").string();
  auth_test::WriteFile(path, "not a key");
  auto r = LoadOrCreateSigningKey(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace codeq
