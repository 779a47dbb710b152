// Shared fixtures for the auth unit tests: cached RSA keys, temp dirs, JWKS files, token builders.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include "auth/dev_keys.h"
#include "domain/clock.h"

namespace codeq::auth_test {

/// Three distinct 2048-bit keys, generated once per test binary (key generation is slow).
inline const SigningKey& KeyA() {
  static const SigningKey k = *GenerateSigningKey();
  return k;
}
inline const SigningKey& KeyB() {
  static const SigningKey k = *GenerateSigningKey();
  return k;
}
inline const SigningKey& KeyC() {
  static const SigningKey k = *GenerateSigningKey();
  return k;
}

/// A directory under /tmp removed with its contents at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "codeq-auth-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void WriteFile(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

/// A JWKS document holding the public halves of `keys`.
inline std::string JwksOf(std::initializer_list<const SigningKey*> keys) {
  boost::json::array all;
  for (const SigningKey* k : keys) {
    boost::json::value doc = boost::json::parse(JwksJson(*k));
    for (auto& jwk : doc.at("keys").as_array()) all.push_back(jwk);
  }
  return boost::json::serialize(boost::json::object{{"keys", std::move(all)}});
}

/// A JWKS file in a temp dir, reachable through a file:// URL.
class JwksFile {
 public:
  explicit JwksFile(std::initializer_list<const SigningKey*> keys) : file_(dir_.path() / "jwks.json") {
    Write(keys);
  }
  void Write(std::initializer_list<const SigningKey*> keys) { WriteFile(file_, JwksOf(keys)); }
  void WriteRaw(const std::string& text) { WriteFile(file_, text); }
  void Remove() { std::filesystem::remove(file_); }
  std::string url() const { return "file://" + file_.string(); }

 private:
  TempDir dir_;
  std::filesystem::path file_;
};

inline constexpr const char* kIssuer = "https://issuer.example";
inline constexpr const char* kAudience = "codeq-producer";

/// A valid claim set for a token checked at `now_s` (epoch seconds).
inline boost::json::object GoodClaims(int64_t now_s) {
  return boost::json::object{{"iss", kIssuer},
                             {"aud", kAudience},
                             {"sub", "user-1"},
                             {"email", "user@example.com"},
                             {"exp", now_s + 3600},
                             {"iat", now_s - 10},
                             {"scope", "codeq:claim  codeq:result"},
                             {"eventTypes", boost::json::array{"render", "email"}},
                             {"tenantId", "acme"}};
}

inline std::string MustSign(const SigningKey& key, const boost::json::object& claims) {
  auto t = SignJwt(key, claims);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : std::string();
}

inline std::string MustSignWithHeader(const SigningKey& key, const boost::json::object& header,
                                      const boost::json::object& claims) {
  auto t = SignJwtWithHeader(key, header, claims);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : std::string();
}

}  // namespace codeq::auth_test
