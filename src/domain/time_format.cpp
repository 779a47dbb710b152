#include "domain/time_format.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace codeq {
namespace {

bool g_utc = true;  // written once at start-up by SetDisplayTimeZone

std::string Offset(long gmtoff) {
  if (gmtoff == 0) return "Z";
  char buf[32];
  char sign = gmtoff < 0 ? '-' : '+';
  long a = gmtoff < 0 ? -gmtoff : gmtoff;
  std::snprintf(buf, sizeof buf, "%c%02ld:%02ld", sign, a / 3600, (a / 60) % 60);
  return buf;
}

bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// Appends `n` as exactly `width` decimal digits (0 <= n < 10^width).
void AppendDigits(std::string& out, int64_t n, int width) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i, n /= 10) buf[i] = static_cast<char>('0' + n % 10);
  out.append(buf, static_cast<size_t>(width));
}

// "YYYY-MM-DDTHH:MM:SS" of a UTC time in years 1000..9999 from <chrono>'s civil calendar, without
// gmtime_r and strftime (a task's JSON has several timestamps, and every answer formats them).
// False, and nothing appended, outside those years, where strftime's %Y is not four digits and the
// caller falls back to it so that the text stays the same.
bool AppendUtcDateTime(std::string& out, int64_t epoch_seconds) {
  using namespace std::chrono;
  constexpr int64_t kDay = 86400;
  int64_t days = epoch_seconds / kDay, rest = epoch_seconds % kDay;
  if (rest < 0) {
    rest += kDay;
    --days;
  }
  if (days < -354285 || days > 2932896) return false;  // 1000-01-01 .. 9999-12-31
  const year_month_day ymd{sys_days{std::chrono::days{days}}};
  AppendDigits(out, static_cast<int>(ymd.year()), 4);
  out += '-';
  AppendDigits(out, static_cast<unsigned>(ymd.month()), 2);
  out += '-';
  AppendDigits(out, static_cast<unsigned>(ymd.day()), 2);
  out += 'T';
  AppendDigits(out, rest / 3600, 2);
  out += ':';
  AppendDigits(out, rest / 60 % 60, 2);
  out += ':';
  AppendDigits(out, rest % 60, 2);
  return true;
}

// Appends "YYYY-MM-DDTHH:MM:SS" of `secs` in UTC (`utc`) or in the local time zone. `tm` gets the
// broken-down time when the calendar came from gmtime_r/localtime_r (always for local time, whose
// offset the caller reads from tm_gmtoff).
void AppendDateTime(std::string& out, time_t secs, bool utc, std::tm& tm) {
  if (utc && AppendUtcDateTime(out, secs)) return;
  if (utc) {
    gmtime_r(&secs, &tm);
  } else {
    localtime_r(&secs, &tm);
  }
  char buf[40];
  out.append(buf, std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm));
}

}  // namespace

std::string FormatTimestamp(int64_t epoch_ms) {
  time_t secs = static_cast<time_t>(epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000);
  int millis = static_cast<int>(epoch_ms - static_cast<int64_t>(secs) * 1000);
  std::string out;
  out.reserve(32);
  std::tm tm{};
  AppendDateTime(out, secs, g_utc, tm);
  if (millis != 0) {
    out += '.';
    AppendDigits(out, millis, 3);
    while (out.back() == '0') out.pop_back();
  }
  out += g_utc ? "Z" : Offset(tm.tm_gmtoff);
  return out;
}

std::string FormatUtcSeconds(int64_t epoch_seconds) {
  std::string out;
  out.reserve(24);
  std::tm tm{};
  AppendDateTime(out, static_cast<time_t>(epoch_seconds), true, tm);
  return out += 'Z';
}

std::optional<int64_t> ParseRfc3339Ms(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  int y, mo, d, h, mi, se;
  if (!Digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !Digits(s, 11, 2, h) ||
      s[13] != ':' || !Digits(s, 14, 2, mi) || s[16] != ':' || !Digits(s, 17, 2, se)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d > kDays[mo - 1]) return std::nullopt;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return std::nullopt;
  size_t pos = 19;
  int64_t frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;  // RFC 3339 §5.6: one or more digits, no upper bound
  }
  if (pos >= s.size()) return std::nullopt;
  int64_t offset_s = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  // Days from civil (proleptic Gregorian), after H. Hinnant's well-known algorithm description.
  int yy = y - (mo <= 2 ? 1 : 0);
  int era = (yy >= 0 ? yy : yy - 399) / 400;
  unsigned yoe = static_cast<unsigned>(yy - era * 400);
  unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se) - offset_s;
  return secs * 1000 + frac_ms;
}

bool SetDisplayTimeZone(const std::string& name) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC" || name == "Z") {
    g_utc = true;
    return true;
  }
  std::string path = "/usr/share/zoneinfo/" + name;
  if (name.find("..") != std::string::npos) return false;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
    setenv("TZ", name.c_str(), 1);
    tzset();
    g_utc = false;
    return true;
  }
  g_utc = true;
  return false;
}

}  // namespace codeq
