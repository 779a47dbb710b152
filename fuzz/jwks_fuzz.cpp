// Fuzz target: the JWKS document parser (src/auth/jwks_cache.* ParseJwks) and, through it, the
// JWK (n, e) → RSA public key conversion (src/auth/rsa_key.*).
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/jwks_cache.h"
#include "auth/rsa_key.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto keys = codeq::ParseJwks(text);
  if (!keys.ok()) return 0;
  for (const auto& [kid, key] : *keys) {
    FUZZ_CHECK(!kid.empty());
    FUZZ_CHECK(key != nullptr && EVP_PKEY_is_a(key.get(), "RSA"));
    int bits = EVP_PKEY_get_bits(key.get());
    FUZZ_CHECK(bits >= codeq::kMinRsaBits && bits <= codeq::kMaxRsaBits);
    auto parts = codeq::RsaPublicComponents(key.get());
    FUZZ_CHECK(parts.ok());
    // Verification with a garbage signature fails cleanly (never crashes, never succeeds).
    FUZZ_CHECK(!codeq::RsaPkcs1Verify(key.get(), EVP_sha256(), "data", "sig"));
  }
  return 0;
}
