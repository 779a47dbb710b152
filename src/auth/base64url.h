// base64url (RFC 4648 §5, no padding) as used by JWS and JWK (SPEC §3.2).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace codeq {

/// Encodes bytes as unpadded base64url. Wraps OpenSSL's EVP_EncodeBlock.
std::string Base64UrlEncode(std::string_view bytes);

/// Decodes unpadded base64url. Strict: only the base64url alphabet, no '=' padding, no
/// whitespace, canonical trailing bits. Returns nullopt for anything else (never throws).
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace codeq
