// JSON text writers (json_text.h).
#include "domain/json_text.h"

#include <cstdint>
#include <cstring>

namespace codeq {

namespace {

/// Whether any of the 8 bytes of `w` must be escaped in a JSON string: below 0x20, '"' or '\\'.
/// Word-at-a-time byte tests (nonzero exactly when some byte matches).
bool NeedsEscape8(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return (below_space | has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\'))) != 0;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  // Plain runs are found 8 bytes at a time and appended whole; a payload is JSON text, full of
  // quotes. A unit test compares the output with json::serialize's for every byte value at
  // every offset.
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  const char* p = s.data();
  const char* const end = p + s.size();
  const char* run = p;
  while (p != end) {
    if (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, sizeof w);
      if (!NeedsEscape8(w)) {
        p += 8;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++p;
      continue;
    }
    out.append(run, static_cast<size_t>(p - run));
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
    run = ++p;
  }
  out.append(run, static_cast<size_t>(end - run));
  out += '"';
}

}  // namespace codeq
