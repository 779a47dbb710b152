// Local signing keys and token minting for `codeq serve --dev`, `codeq token` and tests (D14).
#pragma once

#include <boost/json.hpp>

#include <memory>
#include <string>

#include "auth/rsa_key.h"
#include "domain/status.h"

namespace codeq {

/// An RSA private key (2048-bit) with its key id.
struct SigningKey {
  std::shared_ptr<EVP_PKEY> key;
  std::string kid;
};

/// Generates a fresh 2048-bit RSA key. kid = base64url of the first 8 bytes of the SHA-256 of the
/// DER (SubjectPublicKeyInfo) public key. Internal on OpenSSL failure.
Result<SigningKey> GenerateSigningKey();

/// The kid of an RSA key, computed as in GenerateSigningKey. Internal on OpenSSL failure.
Result<std::string> KeyIdFor(EVP_PKEY* key);

/// Reads the PEM private key at `pem_path`, or, when the file does not exist, generates one and
/// writes it there (parent directories created, file mode 0600, written to a temporary file and
/// renamed so a reader never sees half a key). Errors: Internal("signing key: ...") when the file
/// cannot be read/written or does not hold an RSA private key.
Result<SigningKey> LoadOrCreateSigningKey(const std::string& pem_path);

/// The PEM (PKCS#8) text of the private key. Internal on failure.
Result<std::string> PrivateKeyPem(const SigningKey& key);

/// The public JWKS document: {"keys":[{"kty":"RSA","kid","use":"sig","alg":"RS256","n","e"}]}.
/// Empty string if the key is not RSA.
std::string JwksJson(const SigningKey& key);

/// An RS256 compact JWS of `claims` with header {"alg":"RS256","typ":"JWT","kid":key.kid}.
/// Internal on OpenSSL failure.
Result<std::string> SignJwt(const SigningKey& key, const boost::json::object& claims);

/// For tests (hostile headers): a compact JWS whose header is exactly `header`. The signature is
/// RSA PKCS#1 v1.5 with the digest of header `alg` when it is RS256/RS384/RS512, else SHA-256
/// (so e.g. {"alg":"none"} still gets an RSA signature). Internal on OpenSSL failure.
Result<std::string> SignJwtWithHeader(const SigningKey& key, const boost::json::object& header,
                                      const boost::json::object& claims);

}  // namespace codeq
