// Producer-facing task endpoints: create (SPEC §2.3), get (§2.9), get result (§2.10).
#include <algorithm>

#include "api/api.h"
#include "api/handler_util.h"
#include "api/json_body.h"
#include "domain/time_format.h"

namespace codeq::api {
namespace json = boost::json;

boost::asio::awaitable<http::Response> Api::CreateTask(const http::Request& req) {
  auto who = auth_.AuthenticateProducer(Header(req, "Authorization"), Header(req, "X-Role"));
  if (!who.ok()) co_return StatusResponse(who.status());

  auto body = ParseObjectBody(req.body(), false, "invalid body");
  if (!body.ok()) co_return StatusResponse(body.status());
  const json::object& o = *body;

  std::optional<std::string> command, webhook, idem, run_at;
  std::optional<int64_t> priority, max_attempts, delay;
  bool types_ok = ReadString(o, "command", command) && ReadInt(o, "priority", priority) &&
                  ReadString(o, "webhook", webhook) && ReadInt(o, "maxAttempts", max_attempts) &&
                  ReadString(o, "idempotencyKey", idem) && ReadString(o, "runAt", run_at) &&
                  ReadInt(o, "delaySeconds", delay);
  auto payload = o.find("payload");
  if (!types_ok || !command || command->empty() || payload == o.end() || payload->value().is_null()) {
    co_return http::ErrorResponse(400, "invalid body");
  }
  CreateRequest cr;
  if (run_at && !run_at->empty()) {
    auto ms = ParseRfc3339Ms(*run_at);
    if (!ms) co_return http::ErrorResponse(400, "invalid 'runAt' (use RFC3339)");
    cr.run_at_ms = *ms;
  }
  if (delay && *delay < 0) co_return http::ErrorResponse(400, "invalid 'delaySeconds' (must be >= 0)");
  if (Trim(*command).empty() || !IsValidCommand(*command)) co_return http::ErrorResponse(400, "invalid command");
  if (webhook && !webhook->empty() && !IsHttpUrl(*webhook)) {
    co_return http::ErrorResponse(400, "invalid webhook url");
  }

  cr.command = *command;
  cr.payload = CanonicalJson(payload->value());
  cr.priority = static_cast<int>(std::clamp<int64_t>(priority.value_or(0), 0, 9));
  cr.webhook = webhook.value_or("");
  cr.max_attempts = static_cast<int>(std::clamp<int64_t>(max_attempts.value_or(0), -1, 1000));
  cr.idempotency_key = Trim(idem.value_or(""));
  // 100 years is beyond any sane schedule and keeps epoch arithmetic far from overflow.
  cr.delay_seconds = std::min<int64_t>(delay.value_or(0), int64_t{100} * 365 * 86400);

  auto out = co_await scheduler_.CreateTask(who->tenant, std::move(cr));
  if (!out.ok()) co_return StatusResponse(out.status());
  auto res = JsonResponse(out->replayed ? 200 : 202, TaskToJson(out->task));
  if (out->replayed) res.headers.emplace_back("Idempotent-Replayed", "true");
  co_return res;
}

boost::asio::awaitable<http::Response> Api::GetTask(const http::Request& req, const std::string& id) {
  auto who = auth_.AuthenticateAny(Header(req, "Authorization"), Header(req, "X-Role"));
  if (!who.ok()) co_return StatusResponse(who.status());
  auto t = co_await scheduler_.GetTask(who->tenant, id);
  if (!t.ok()) co_return StatusResponse(t.status());
  co_return JsonResponse(200, TaskToJson(*t));
}

boost::asio::awaitable<http::Response> Api::GetResult(const http::Request& req, const std::string& id) {
  auto who = auth_.AuthenticateAny(Header(req, "Authorization"), Header(req, "X-Role"));
  if (!who.ok()) co_return StatusResponse(who.status());
  auto r = co_await scheduler_.GetResult(who->tenant, id);
  if (!r.ok()) co_return StatusResponse(r.status());
  co_return JsonResponse(200, json::object{{"task", TaskToJson(r->first)},
                                           {"result", TaskResultToJson(r->second)}});
}

}  // namespace codeq::api
