// Producer-facing task endpoints: create (SPEC §2.3), get (§2.9), get result (§2.10).
#include <algorithm>

#include "api/api.h"
#include "api/handler_util.h"
#include "api/json_body.h"
#include "api/request_decoding.h"
#include "domain/time_format.h"

namespace codeq::api {
namespace json = boost::json;

boost::asio::awaitable<http::Response> Api::CreateTask(const http::Request& req) {
  auto who = co_await Authenticate(req, AuthGroup::kProducer);
  if (!who.ok()) co_return StatusResponse(who.status());

  auto body = ParseObjectBody(req.body(), false, "invalid body");
  if (!body.ok()) co_return StatusResponse(body.status());
  auto decoded = DecodeCreateRequest(*body);
  if (!decoded.ok()) co_return StatusResponse(decoded.status());
  CreateRequest cr = std::move(*decoded);
  if (auto s = CheckUrlAllowed(cr.webhook, "webhook"); !s.ok()) co_return StatusResponse(s);

  auto out = co_await scheduler_.CreateTask(who->tenant, std::move(cr));
  if (!out.ok()) co_return StatusResponse(out.status());
  std::string text = out->task_json.empty() ? TaskToJsonText(out->task) : std::move(out->task_json);
  auto res = JsonTextResponse(out->replayed ? 200 : 202, std::move(text));
  if (out->replayed) res.headers.emplace_back("Idempotent-Replayed", "true");
  co_return res;
}

boost::asio::awaitable<http::Response> Api::GetTask(const http::Request& req, const std::string& id) {
  auto who = co_await Authenticate(req, AuthGroup::kAny);
  if (!who.ok()) co_return StatusResponse(who.status());
  auto t = co_await scheduler_.GetTask(who->tenant, id);
  if (!t.ok()) co_return StatusResponse(t.status());
  co_return JsonTextResponse(200, TaskToJsonText(*t));
}

boost::asio::awaitable<http::Response> Api::GetResult(const http::Request& req, const std::string& id) {
  auto who = co_await Authenticate(req, AuthGroup::kAny);
  if (!who.ok()) co_return StatusResponse(who.status());
  auto r = co_await scheduler_.GetResult(who->tenant, id);
  if (!r.ok()) co_return StatusResponse(r.status());
  co_return JsonResponse(200, json::object{{"task", TaskToJson(r->first)},
                                           {"result", TaskResultToJson(r->second)}});
}

}  // namespace codeq::api
