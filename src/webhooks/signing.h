// HMAC-SHA256 signatures of outgoing webhooks (SPEC §6.1): X-CodeQ-Timestamp / X-CodeQ-Signature.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace codeq::webhooks {

/// Lower-case hex HMAC-SHA256 of `data` keyed with `key` (OpenSSL). O(|data|).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

/// The signature of SPEC §6.1: HmacSha256Hex(secret, "<unix_seconds>.<body>"), no "sha256=" prefix.
/// A receiver recomputes it over the raw body with the header timestamp and compares in constant
/// time; it rejects timestamps too far from its own clock (replay protection).
std::string SignWebhook(std::string_view secret, int64_t unix_seconds, std::string_view body);

}  // namespace codeq::webhooks
