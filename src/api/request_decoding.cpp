// Shared decoding of create requests (SPEC §2.3) and result submissions (SPEC §2.8).
#include "api/request_decoding.h"

#include <set>

#include <algorithm>
#include <cctype>

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

Result<const json::array*> DecodeBatchArray(const json::object& body, std::string_view name,
                                            std::string_view bad_text) {
  const json::value* v = body.if_contains(name);
  if (v == nullptr || !v->is_array()) return InvalidArgument(std::string(bad_text));
  const json::array& a = v->get_array();
  if (a.empty()) return InvalidArgument("'" + std::string(name) + "' must not be empty");
  if (a.size() > static_cast<size_t>(kMaxBatchSize)) {
    return InvalidArgument("too many items (max " + std::to_string(kMaxBatchSize) + ")");
  }
  return &a;
}

Result<ClaimBody> DecodeClaimBody(const json::object& o) {
  ClaimBody b;
  if (!ReadStringArray(o, "commands", b.commands) || !ReadInt(o, "leaseSeconds", b.lease_seconds) ||
      !ReadInt(o, "waitSeconds", b.wait_seconds) || !ReadInt(o, "maxTasks", b.max_tasks)) {
    return InvalidArgument("invalid body");
  }
  if (b.commands && b.commands->size() > kMaxClaimCommands) {
    return InvalidArgument("too many commands (max " + std::to_string(kMaxClaimCommands) + ")");
  }
  if (b.max_tasks && (*b.max_tasks < 1 || *b.max_tasks > kMaxBatchSize)) {
    return InvalidArgument("invalid 'maxTasks' (1.." + std::to_string(kMaxBatchSize) + ")");
  }
  return b;
}

Result<int64_t> DecodeHeartbeatBody(const json::object& o) {
  std::optional<int64_t> extend;
  if (!ReadInt(o, "extendSeconds", extend)) return InvalidArgument("invalid body");
  return extend.value_or(0);
}

Result<NackBody> DecodeNackBody(const json::object& o) {
  std::optional<int64_t> delay;
  std::optional<std::string> reason;
  if (!ReadInt(o, "delaySeconds", delay) || !ReadString(o, "reason", reason)) {
    return InvalidArgument("invalid body");
  }
  return NackBody{delay.value_or(0), reason.value_or("")};
}

Result<CleanupBody> DecodeCleanupBody(const json::object& o, int64_t now_ms) {
  std::optional<int64_t> limit;
  std::optional<std::string> before;
  std::optional<bool> include_active;
  if (!ReadInt(o, "limit", limit)) limit.reset();
  if (!ReadString(o, "before", before)) before.reset();
  if (!ReadBool(o, "includeActive", include_active)) include_active.reset();

  CleanupBody b;
  b.before_ms = now_ms;
  if (before && !before->empty()) {
    auto ms = ParseRfc3339Ms(*before);
    if (!ms) return InvalidArgument("invalid 'before' (use RFC3339)");
    b.before_ms = *ms;
    // Echo in whole seconds with the caller's own offset (SPEC §2.15).
    b.before_text = before->substr(0, 19);
    std::string_view rest = std::string_view(*before).substr(19);
    if (!rest.empty() && rest.front() == '.') {
      size_t i = 1;
      while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
      rest.remove_prefix(i);
    }
    b.before_text += (rest == "z") ? "Z" : std::string(rest);
    b.before_text[10] = 'T';
  } else {
    b.before_text = FormatUtcSeconds(now_ms / 1000);
  }
  b.limit = limit.value_or(0);
  b.effective_limit = b.limit <= 0 ? 1000 : std::min<int64_t>(b.limit, 100000);
  b.include_active = include_active.value_or(false);
  return b;
}

Result<SubscriptionBody> DecodeSubscriptionBody(const json::object& o) {
  std::optional<std::string> url;
  std::optional<int64_t> ttl, interval;
  SubscriptionBody b;
  if (!ReadString(o, "callbackUrl", url) || !ReadStringArray(o, "eventTypes", b.event_types) ||
      !ReadInt(o, "ttlSeconds", ttl) || !ReadString(o, "deliveryMode", b.delivery_mode) ||
      !ReadString(o, "groupId", b.group_id) || !ReadInt(o, "minIntervalSeconds", interval)) {
    return InvalidArgument("invalid body");
  }
  b.callback_url = Trim(url.value_or(""));
  if (b.callback_url.empty()) return InvalidArgument("invalid body");
  if (!IsHttpUrl(b.callback_url)) return InvalidArgument("invalid callback url");
  if (b.event_types) {
    if (b.event_types->size() > kMaxSubscriptionEventTypes) {
      return InvalidArgument("too many eventTypes (max " + std::to_string(kMaxSubscriptionEventTypes) + ")");
    }
    std::set<std::string> seen;
    std::vector<std::string> unique;
    for (auto& c : *b.event_types) {
      if (!IsValidCommand(c)) return InvalidArgument("invalid command");
      if (seen.insert(c).second) unique.push_back(std::move(c));
    }
    b.event_types = std::move(unique);
  }
  b.ttl_seconds = ttl.value_or(0);
  b.min_interval_seconds = interval.value_or(0);
  return b;
}

int64_t DecodeRenewBody(const json::object& o) {
  std::optional<int64_t> ttl;
  if (!ReadInt(o, "ttlSeconds", ttl)) return 0;
  return ttl.value_or(0);
}

}  // namespace codeq::api
