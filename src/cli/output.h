// Printing for the client commands: readable tables on a terminal, compact JSON (one document per
// line) with --json or when piped; errors as "[ERROR] <message>" on stderr.
#pragma once

#include <boost/json.hpp>

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "domain/status.h"

namespace codeq::cli {

/// Prints "[ERROR] <message>" to stderr and returns the exit code for `s` (cli_status.h).
int ReportError(const Status& s);

/// Prints `v` as compact JSON plus a newline on stdout.
void PrintJson(const boost::json::value& v);

/// Columns padded to the widest cell, a header row first. O(cells).
void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

/// "name:  value" lines with the values aligned; rows with an empty value are skipped.
void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

/// A JSON value as table text: strings unquoted, null/absent as "", anything else as compact JSON.
std::string CellText(const boost::json::value* v);
/// Member `key` of object `v` as table text ("" when absent or `v` is not an object).
std::string Member(const boost::json::value& v, const char* key);

}  // namespace codeq::cli
