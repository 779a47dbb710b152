// One blocking GET through libcurl, for the JWKS document (SPEC §3.2, D13).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "domain/status.h"

namespace codeq {

/// Default cap on a fetched body, in bytes (a JWKS document is a few KiB).
inline constexpr size_t kMaxFetchBytes = 1 << 20;

/// GETs `url` (http://, https:// or file://; other schemes are refused) and returns the body.
/// `timeout_ms` bounds the whole transfer (≤ 0 means 5000 ms). Up to 3 redirects, to http(s) only.
/// Errors (all Unavailable, with a short text that does not include the body): transport failure
/// or timeout, an HTTP status other than 200, a body larger than `max_bytes`.
/// Blocks the calling thread for at most about `timeout_ms`. Thread-safe.
Result<std::string> HttpGet(const std::string& url, int64_t timeout_ms, size_t max_bytes = kMaxFetchBytes);

}  // namespace codeq
