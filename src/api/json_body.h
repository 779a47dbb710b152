// Decoding of JSON request bodies with strict types (SPEC §2.1, D9, D17).
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.h"

namespace codeq::api {

/// Parses a request body as a JSON object. An empty (or all-whitespace) body is `{}` when
/// `empty_is_object` (D9). Invalid JSON, invalid UTF-8, lone surrogates or a non-object →
/// InvalidArgument(error_text). Nesting deeper than 64 levels, and numbers beyond the double range
/// (which could not be stored back as JSON), are rejected the same way. An integer literal beyond
/// the 64-bit range (which could only be rounded, against SPEC D17's "integers are preserved
/// exactly") gives InvalidArgument("<error_text>: integer out of range (at most 64 bits)").
Result<boost::json::object> ParseObjectBody(std::string_view body, bool empty_is_object,
                                            std::string_view error_text);

/// A batch body: the object, and for each entry of its array member `entries_of` the error that
/// entry alone earned under the body rules of ParseObjectBody (nullopt when none).
struct BatchBody {
  boost::json::object body;
  std::vector<std::optional<Status>> entry_errors;
};

/// Parses a batch request body (`{"tasks": [...]}`, `{"results": [...]}`) so that each entry of
/// the array member `entries_of` is held to the rules of a single body of its own (depth of 64
/// from the entry, finite numbers, integers of at most 64 bits), and one entry breaking them
/// does not sink the others: it gets InvalidArgument(error_text), or "<error_text>: integer out
/// of range (at most 64 bits)", in BatchBody::entry_errors. The rest of the body is held to the
/// rules of ParseObjectBody and fails the whole request as there, as does nesting beyond 1 024
/// levels anywhere. O(size).
Result<BatchBody> ParseBatchBody(std::string_view body, std::string_view entries_of, std::string_view error_text);

/// Typed member readers: absent or null → nullopt and true; a value of another type → false
/// ("5" or 5.5 for an int is a type mismatch, SPEC §2.1).
bool ReadInt(const boost::json::object& o, std::string_view key, std::optional<int64_t>& out);
bool ReadString(const boost::json::object& o, std::string_view key, std::optional<std::string>& out);
bool ReadBool(const boost::json::object& o, std::string_view key, std::optional<bool>& out);
bool ReadStringArray(const boost::json::object& o, std::string_view key,
                     std::optional<std::vector<std::string>>& out);

/// Trims ASCII whitespace at both ends.
std::string Trim(std::string_view s);

/// `[A-Za-z0-9._-]{1,128}` (D15).
bool IsValidCommand(std::string_view command);

/// An absolute http/https URL with a non-empty host (SPEC §2.3 webhook rule).
bool IsHttpUrl(std::string_view url);

}  // namespace codeq::api
