// The access log: one line per request at info (issue 7).
#pragma once

#include <string>
#include <string_view>

namespace codeq::api {

/// Name of the spdlog logger the access lines go to; when no such logger is registered they go to
/// the default logger.
inline constexpr const char* kAccessLoggerName = "access";

/// Selects the line format: json → the message is a list of JSON members
/// (`"method":"GET","route":"/healthz","status":200,"duration_ms":0.042,"request_id":"…"`, strings
/// escaped) that a JSON log formatter splices into its object; text → `request method=GET …`.
void SetAccessLogJson(bool json);

/// Appends `s` to `out` as the inside of a JSON string (quotes, backslashes and control characters
/// escaped; bytes ≥ 0x80 copied as they are).
void AppendJsonEscaped(std::string& out, std::string_view s);

/// Logs one request line (at info; nothing is formatted when info is disabled).
void LogAccess(std::string_view method, std::string_view route, int status, double duration_ms,
               std::string_view request_id);

}  // namespace codeq::api
