// JSON text writers (json_text.h).
#include "domain/json_text.h"

namespace codeq {

void AppendJsonString(std::string& out, std::string_view s) {
  // Runs without an escape are appended whole (a payload is JSON text, full of quotes). A unit
  // test compares the output with json::serialize's for every byte value.
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  const char* run = s.data();
  const char* const end = s.data() + s.size();
  for (const char* p = run; p != end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(run, p);
    run = p + 1;
    char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
    size_t n = 2;
    switch (c) {
      case '"': esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\b': esc[1] = 'b'; break;
      case '\t': esc[1] = 't'; break;
      case '\n': esc[1] = 'n'; break;
      case '\f': esc[1] = 'f'; break;
      case '\r': esc[1] = 'r'; break;
      default: n = 6; break;
    }
    out.append(esc, n);
  }
  out.append(run, end);
  out += '"';
}

}  // namespace codeq
