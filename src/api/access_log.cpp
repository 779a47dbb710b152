// Access log lines (see access_log.h).
#include "api/access_log.h"

#include <atomic>
#include <spdlog/spdlog.h>

namespace codeq::api {
namespace {
std::atomic<bool> g_json{false};
}  // namespace

void SetAccessLogJson(bool json) { g_json.store(json); }

void AppendJsonEscaped(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
  }
}

void LogAccess(std::string_view method, std::string_view route, int status, double duration_ms,
               std::string_view request_id) {
  // The registry lookup takes a mutex; cache the logger once it exists (serve registers it at start).
  static std::shared_ptr<spdlog::logger> access = spdlog::get(kAccessLoggerName);
  spdlog::logger* logger = access ? access.get() : spdlog::default_logger_raw();
  if (!logger->should_log(spdlog::level::info)) return;
  if (!g_json.load(std::memory_order_relaxed)) {
    logger->info("request method={} route={} status={} duration_ms={:.3f} request_id={}", method, route,
                 status, duration_ms, request_id);
    return;
  }
  std::string line;
  line.reserve(160);
  line += "\"msg\":\"request\",\"method\":\"";
  AppendJsonEscaped(line, method);
  line += "\",\"route\":\"";
  AppendJsonEscaped(line, route);
  line += "\",\"status\":";
  line += std::to_string(status);
  line += fmt::format(",\"duration_ms\":{:.3f},\"request_id\":\"", duration_ms);
  AppendJsonEscaped(line, request_id);
  line += '"';
  logger->info(line);
}

}  // namespace codeq::api
