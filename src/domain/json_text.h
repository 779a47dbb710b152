// Writers of JSON text for hot answers and records that are written without building a
// boost::json value first (task.cpp, the batch handlers).
#pragma once

#include <string>
#include <string_view>

namespace codeq {

/// Appends `s` as a JSON string literal (RFC 8259 §7), quotes included, byte for byte as
/// boost::json::serialize writes it: '"', '\\' and the control characters escaped (the short
/// forms \b \t \n \f \r where JSON has one, else \u00xx in lower-case hex), every other byte
/// copied, so UTF-8 passes through. O(size).
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace codeq
