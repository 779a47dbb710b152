// base64url <-> OpenSSL base64 translation (the encoding itself is OpenSSL's).
#include "auth/base64url.h"

#include <openssl/evp.h>

#include <limits>

namespace codeq {

namespace {

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  if (bytes.empty()) return {};
  // EVP_EncodeBlock writes 4 chars per 3 input bytes plus a NUL terminator.
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.empty()) return std::string();
  if (text.size() % 4 == 1) return std::nullopt;  // never produced by an encoder
  if (text.size() > static_cast<size_t>(std::numeric_limits<int>::max() / 2)) return std::nullopt;
  std::string std_b64;
  std_b64.reserve(text.size() + 3);
  for (char c : text) {
    if (!IsBase64UrlChar(c)) return std::nullopt;
    std_b64.push_back(c == '-' ? '+' : c == '_' ? '/' : c);
  }
  size_t padding = (4 - std_b64.size() % 4) % 4;
  std_b64.append(padding, '=');

  std::string out(std_b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(std_b64.data()),
                          static_cast<int>(std_b64.size()));
  if (n < 0 || static_cast<size_t>(n) < padding) return std::nullopt;
  // EVP_DecodeBlock counts the zero bytes that stand for '=' padding; drop them.
  out.resize(static_cast<size_t>(n) - padding);
  // Reject non-canonical encodings (stray bits in the last character), so that one byte string
  // has exactly one accepted spelling.
  if (Base64UrlEncode(out) != text) return std::nullopt;
  return out;
}

}  // namespace codeq
