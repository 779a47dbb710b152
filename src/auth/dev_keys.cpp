// Development signing keys: generation, PEM persistence, JWKS export and JWT signing.
#include "auth/dev_keys.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "auth/base64url.h"

namespace codeq {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

Status KeyError(const std::string& what) { return Internal("signing key: " + what); }

/// Writes all of `data` to `fd`; false on error.
bool WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

/// Reads an RSA private key from a PEM file and computes its kid.
Result<SigningKey> ReadPem(const std::string& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return KeyError("cannot read " + path);
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  PkeyPtr key = WrapPkey(raw);
  if (!key || !EVP_PKEY_is_a(key.get(), "RSA")) return KeyError(path + " does not hold an RSA private key");
  auto kid = KeyIdFor(key.get());
  if (!kid.ok()) return kid.status();
  return SigningKey{std::move(key), std::move(kid).value()};
}

}  // namespace

Result<std::string> KeyIdFor(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0 || der == nullptr) return KeyError("cannot encode public key");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  int ok = EVP_Digest(der, static_cast<size_t>(len), digest, &digest_len, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  if (!ok || digest_len < 8) return KeyError("cannot hash public key");
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), 8));
}

Result<SigningKey> GenerateSigningKey() {
  PkeyPtr key = WrapPkey(EVP_RSA_gen(2048));
  if (!key) return KeyError("RSA key generation failed");
  auto kid = KeyIdFor(key.get());
  if (!kid.ok()) return kid.status();
  return SigningKey{std::move(key), std::move(kid).value()};
}

Result<std::string> PrivateKeyPem(const SigningKey& key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !key.key || !PEM_write_bio_PrivateKey(bio.get(), key.key.get(), nullptr, nullptr, 0, nullptr, nullptr)) {
    return KeyError("cannot encode PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<SigningKey> LoadOrCreateSigningKey(const std::string& pem_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(pem_path, ec)) return ReadPem(pem_path);

  fs::path parent = fs::path(pem_path).parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) return KeyError("cannot create directory " + parent.string());
  }
  auto key = GenerateSigningKey();
  if (!key.ok()) return key;
  auto pem = PrivateKeyPem(*key);
  if (!pem.ok()) return pem.status();

  unsigned char rnd[8];
  if (RAND_bytes(rnd, sizeof rnd) != 1) return KeyError("no randomness");
  std::string tmp = pem_path + ".tmp-" +
                    Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(rnd), sizeof rnd));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return KeyError("cannot write " + pem_path);
  bool written = ::fchmod(fd, 0600) == 0 && WriteAll(fd, *pem) && ::fsync(fd) == 0;
  written = (::close(fd) == 0) && written;
  if (!written) {
    ::unlink(tmp.c_str());
    return KeyError("cannot write " + pem_path);
  }
  // link() (unlike rename) never replaces a key another process created meanwhile; then use theirs.
  int linked = ::link(tmp.c_str(), pem_path.c_str());
  int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0) {
    if (link_errno == EEXIST) return ReadPem(pem_path);
    return KeyError("cannot write " + pem_path);
  }
  return key;
}

std::string JwksJson(const SigningKey& key) {
  auto parts = RsaPublicComponents(key.key.get());
  if (!parts.ok()) return {};
  boost::json::object jwk;
  jwk["kty"] = "RSA";
  jwk["kid"] = key.kid;
  jwk["use"] = "sig";
  jwk["alg"] = "RS256";
  jwk["n"] = Base64UrlEncode(parts->n);
  jwk["e"] = Base64UrlEncode(parts->e);
  boost::json::object doc;
  doc["keys"] = boost::json::array{std::move(jwk)};
  return boost::json::serialize(doc);
}

Result<std::string> SignJwtWithHeader(const SigningKey& key, const boost::json::object& header,
                                      const boost::json::object& claims) {
  const EVP_MD* md = nullptr;
  if (const boost::json::value* alg = header.if_contains("alg"); alg != nullptr && alg->is_string()) {
    md = DigestForJwsAlg(std::string_view(alg->get_string().data(), alg->get_string().size()));
  }
  if (md == nullptr) md = EVP_sha256();
  std::string input = Base64UrlEncode(boost::json::serialize(header)) + "." +
                      Base64UrlEncode(boost::json::serialize(claims));
  auto sig = RsaPkcs1Sign(key.key.get(), md, input);
  if (!sig.ok()) return sig.status();
  return input + "." + Base64UrlEncode(*sig);
}

Result<std::string> SignJwt(const SigningKey& key, const boost::json::object& claims) {
  boost::json::object header;
  header["alg"] = "RS256";
  header["typ"] = "JWT";
  header["kid"] = key.kid;
  return SignJwtWithHeader(key, header, claims);
}

}  // namespace codeq
