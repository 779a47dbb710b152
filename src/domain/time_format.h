// RFC 3339 timestamps as SPEC.md §1.3 writes and reads them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace codeq {

/// Formats epoch milliseconds as RFC 3339 with fractional seconds (trailing zeros dropped, none when
/// whole) in the process time zone set by SetDisplayTimeZone: "2026-01-25T10:00:00.123-03:00", or
/// "...Z" for UTC. Used for createdAt, updatedAt, completedAt, expiresAt (SPEC §1.3).
std::string FormatTimestamp(int64_t epoch_ms);

/// Formats epoch seconds as RFC 3339 UTC whole seconds: "2026-01-25T13:05:00Z" (leaseUntil, §1.3).
std::string FormatUtcSeconds(int64_t epoch_seconds);

/// Parses an RFC 3339 timestamp (fraction optional, any number of digits, truncated to ms; 'Z' or
/// ±hh:mm offset; 't'/'z' accepted) into
/// epoch milliseconds. Returns nullopt when the text is not valid RFC 3339.
std::optional<int64_t> ParseRfc3339Ms(std::string_view text);

/// Sets the IANA zone used by FormatTimestamp (SPEC §8 `timezone`, default UTC). Returns false and
/// keeps UTC when the zone is unknown. Call once at start-up, before serving.
bool SetDisplayTimeZone(const std::string& iana_name);

}  // namespace codeq
