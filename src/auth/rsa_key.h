// RSA public keys from JWK members and RSA PKCS#1 v1.5 signatures (SPEC §3.2, D13).
// Thin wrappers over OpenSSL 3 EVP; no cryptography is implemented here.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "domain/status.h"

namespace codeq {

/// An owned OpenSSL key; the deleter is EVP_PKEY_free. Shareable across threads for verification.
using PkeyPtr = std::shared_ptr<EVP_PKEY>;

/// Takes ownership of a raw key (nullptr stays empty).
PkeyPtr WrapPkey(EVP_PKEY* key);

/// Smallest and largest accepted RSA modulus, in bits.
inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 16384;

/// Builds an RSA public key from the base64url big-endian JWK members `n` and `e`
/// (via OSSL_PARAM_BLD + EVP_PKEY_fromdata). InvalidArgument when either is not base64url, the
/// modulus is outside [kMinRsaBits, kMaxRsaBits], or the exponent is not an odd number > 1.
Result<PkeyPtr> RsaPublicKeyFromJwk(std::string_view n_b64url, std::string_view e_b64url);

/// The public modulus and exponent of an RSA key as big-endian bytes (no leading zeros).
struct RsaPublicParts {
  std::string n, e;
};

/// Extracts n and e from an RSA key (public or private). Internal when the key is not RSA.
Result<RsaPublicParts> RsaPublicComponents(const EVP_PKEY* key);

/// The digest of a JWS RSA algorithm: RS256 → SHA-256, RS384 → SHA-384, RS512 → SHA-512;
/// nullptr for every other name (none, HS*, PS*, ES*, ...).
const EVP_MD* DigestForJwsAlg(std::string_view alg);

/// Verifies an RSASSA-PKCS1-v1_5 signature of `data` (EVP_DigestVerify). False on any failure,
/// including a non-RSA key. Never throws.
bool RsaPkcs1Verify(EVP_PKEY* key, const EVP_MD* md, std::string_view data, std::string_view signature);

/// Signs `data` with RSASSA-PKCS1-v1_5 (EVP_DigestSign). Internal on OpenSSL failure.
Result<std::string> RsaPkcs1Sign(EVP_PKEY* key, const EVP_MD* md, std::string_view data);

}  // namespace codeq
