// OpenSSL 3 EVP glue for RSA keys and PKCS#1 v1.5 signatures.
#include "auth/rsa_key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "auth/base64url.h"

namespace codeq {

namespace {

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

BnPtr BnFromBase64Url(std::string_view b64) {
  auto bytes = Base64UrlDecode(b64);
  if (!bytes || bytes->empty() || bytes->size() > static_cast<size_t>(kMaxRsaBits / 8)) return nullptr;
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes->data()),
                         static_cast<int>(bytes->size()), nullptr));
}

std::string BnToBytes(const BIGNUM* bn) {
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace

PkeyPtr WrapPkey(EVP_PKEY* key) { return PkeyPtr(key, EVP_PKEY_free); }

Result<PkeyPtr> RsaPublicKeyFromJwk(std::string_view n_b64url, std::string_view e_b64url) {
  BnPtr n = BnFromBase64Url(n_b64url);
  BnPtr e = BnFromBase64Url(e_b64url);
  if (!n || !e) return InvalidArgument("invalid RSA key encoding");
  int bits = BN_num_bits(n.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits) return InvalidArgument("unsupported RSA key size");
  // An exponent of 1 (or any even one) would make forgeries trivial or the key invalid.
  if (!BN_is_odd(e.get()) || BN_is_one(e.get()) || BN_num_bits(e.get()) > 64) {
    return InvalidArgument("invalid RSA exponent");
  }

  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
    return Internal("openssl: param build failed");
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) {
    return Internal("openssl: key context failed");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0 || raw == nullptr) {
    return InvalidArgument("invalid RSA key");
  }
  return WrapPkey(raw);
}

Result<RsaPublicParts> RsaPublicComponents(const EVP_PKEY* key) {
  if (key == nullptr || !EVP_PKEY_is_a(key, "RSA")) return Internal("not an RSA key");
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) ||
      !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e)) {
    BN_free(n);
    BN_free(e);
    return Internal("openssl: cannot read RSA parameters");
  }
  BnPtr n_owned(n), e_owned(e);
  return RsaPublicParts{BnToBytes(n), BnToBytes(e)};
}

const EVP_MD* DigestForJwsAlg(std::string_view alg) {
  if (alg == "RS256") return EVP_sha256();
  if (alg == "RS384") return EVP_sha384();
  if (alg == "RS512") return EVP_sha512();
  return nullptr;
}

bool RsaPkcs1Verify(EVP_PKEY* key, const EVP_MD* md, std::string_view data, std::string_view signature) {
  if (key == nullptr || md == nullptr || signature.empty() || !EVP_PKEY_is_a(key, "RSA")) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) <= 0) return false;
  if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) return false;
  int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
  return rc == 1;
}

Result<std::string> RsaPkcs1Sign(EVP_PKEY* key, const EVP_MD* md, std::string_view data) {
  if (key == nullptr || md == nullptr) return Internal("sign: no key or digest");
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) {
    return Internal("openssl: sign init failed");
  }
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) <= 0) return Internal("openssl: sign failed");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, data.size()) <= 0) {
    return Internal("openssl: sign failed");
  }
  sig.resize(len);
  return sig;
}

}  // namespace codeq
