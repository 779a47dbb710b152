// Shared decoding of create requests (SPEC §2.3) and result submissions (SPEC §2.8).
#include "api/request_decoding.h"

#include <algorithm>

#include "api/json_body.h"
#include "domain/task.h"
#include "domain/time_format.h"

namespace codeq::api {
namespace json = boost::json;

Result<CreateRequest> DecodeCreateRequest(const json::object& o) {
  std::optional<std::string> command, webhook, idem, run_at;
  std::optional<int64_t> priority, max_attempts, delay;
  bool types_ok = ReadString(o, "command", command) && ReadInt(o, "priority", priority) &&
                  ReadString(o, "webhook", webhook) && ReadInt(o, "maxAttempts", max_attempts) &&
                  ReadString(o, "idempotencyKey", idem) && ReadString(o, "runAt", run_at) &&
                  ReadInt(o, "delaySeconds", delay);
  auto payload = o.find("payload");
  if (!types_ok || !command || command->empty() || payload == o.end() || payload->value().is_null()) {
    return InvalidArgument("invalid body");
  }
  CreateRequest cr;
  if (run_at && !run_at->empty()) {
    auto ms = ParseRfc3339Ms(*run_at);
    if (!ms) return InvalidArgument("invalid 'runAt' (use RFC3339)");
    cr.run_at_ms = *ms;
  }
  if (delay && *delay < 0) return InvalidArgument("invalid 'delaySeconds' (must be >= 0)");
  if (Trim(*command).empty() || !IsValidCommand(*command)) return InvalidArgument("invalid command");
  if (webhook && !webhook->empty() && !IsHttpUrl(*webhook)) return InvalidArgument("invalid webhook url");

  cr.command = std::move(*command);
  cr.payload = CanonicalJson(payload->value());
  cr.priority = static_cast<int>(std::clamp<int64_t>(priority.value_or(0), 0, 9));
  cr.webhook = webhook.value_or("");
  cr.max_attempts = static_cast<int>(std::clamp<int64_t>(max_attempts.value_or(0), -1, 1000));
  cr.idempotency_key = Trim(idem.value_or(""));
  // 100 years is beyond any sane schedule and keeps epoch arithmetic far from overflow.
  cr.delay_seconds = std::min<int64_t>(delay.value_or(0), int64_t{100} * 365 * 86400);
  return cr;
}

Result<ResultRequest> DecodeResultRequest(const json::object& o) {
  const Status bad = InvalidArgument("invalid request body");
  ResultRequest rr;
  std::optional<std::string> status, error;
  if (!ReadString(o, "status", status) || !ReadString(o, "error", error) || !status || status->empty()) {
    return bad;
  }
  rr.status = std::move(*status);
  rr.error = error.value_or("");
  if (auto it = o.find("result"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_object()) return bad;
    rr.result = it->value().get_object();
  }
  if (auto it = o.find("artifacts"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_array()) return bad;
    for (const auto& e : it->value().get_array()) {
      if (!e.is_object()) return bad;
      std::optional<std::string> name, url, content, type;
      if (!ReadString(e.get_object(), "name", name) || !ReadString(e.get_object(), "url", url) ||
          !ReadString(e.get_object(), "contentBase64", content) ||
          !ReadString(e.get_object(), "contentType", type)) {
        return bad;
      }
      rr.artifacts.push_back(ArtifactInput{name.value_or(""), url.value_or(""), content.value_or("")});
    }
  }
  return rr;
}

}  // namespace codeq::api
