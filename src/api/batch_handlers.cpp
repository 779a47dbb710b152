// Batch endpoints (issue 7): create many tasks, submit many results. Each item goes through the
// same decoding (request_decoding.h) and the same Scheduler call as the single endpoint, so a
// batch of one behaves exactly like one single request; one bad item does not sink the rest.
#include "api/api.h"
#include "api/handler_util.h"
#include "api/json_body.h"
#include "api/request_decoding.h"

namespace codeq::api {
namespace json = boost::json;
using Awaitable = boost::asio::awaitable<http::Response>;

namespace {

/// The `items` entry of a failed item: the HTTP status the single endpoint would have answered
/// and its error text.
json::object ItemError(const Status& s) {
  int code = StatusResponse(s).status;
  return json::object{{"status", code}, {"error", code == 503 ? "store unavailable" : s.message()}};
}

}  // namespace

Awaitable Api::CreateTasksBatch(const http::Request& req) {
  auto who = auth_.AuthenticateProducer(Header(req, "Authorization"), Header(req, "X-Role"));
  if (!who.ok()) co_return StatusResponse(who.status());
  auto body = ParseObjectBody(req.body(), false, "invalid body");
  if (!body.ok()) co_return StatusResponse(body.status());
  auto tasks = DecodeBatchArray(*body, "tasks", "invalid body");
  if (!tasks.ok()) co_return StatusResponse(tasks.status());

  json::array items;
  items.reserve((*tasks)->size());
  for (const json::value& v : **tasks) {
    if (!v.is_object()) {
      items.push_back(ItemError(InvalidArgument("invalid body")));
      continue;
    }
    auto decoded = DecodeCreateRequest(v.get_object());
    Status allowed = decoded.ok() ? CheckUrlAllowed(decoded->webhook, "webhook") : decoded.status();
    if (!allowed.ok()) {
      items.push_back(ItemError(allowed));
      continue;
    }
    auto out = co_await scheduler_.CreateTask(who->tenant, std::move(*decoded));
    if (!out.ok()) {
      items.push_back(ItemError(out.status()));
      continue;
    }
    json::object item{{"status", out->replayed ? 200 : 202}, {"task", TaskToJson(out->task)}};
    items.push_back(std::move(item));
  }
  co_return JsonResponse(200, json::object{{"items", std::move(items)}});
}

Awaitable Api::SubmitResultsBatch(const http::Request& req) {
  auto who = auth_.AuthenticateWorker(Header(req, "Authorization"), "codeq:result");
  if (!who.ok()) co_return StatusResponse(who.status());
  auto body = ParseObjectBody(req.body(), false, "invalid request body");
  if (!body.ok()) co_return StatusResponse(body.status());
  auto results = DecodeBatchArray(*body, "results", "invalid request body");
  if (!results.ok()) co_return StatusResponse(results.status());

  json::array items;
  items.reserve((*results)->size());
  for (const json::value& v : **results) {
    const json::value* id_v = v.is_object() ? v.get_object().if_contains("id") : nullptr;
    if (id_v == nullptr || !id_v->is_string() || id_v->get_string().empty()) {
      json::object item = ItemError(InvalidArgument("invalid request body"));
      item["id"] = id_v != nullptr && id_v->is_string() ? *id_v : json::value(nullptr);
      items.push_back(std::move(item));
      continue;
    }
    std::string id(id_v->get_string());
    json::object item;
    auto decoded = DecodeResultRequest(v.get_object());
    if (!decoded.ok()) {
      item = ItemError(decoded.status());
    } else {
      auto r = co_await scheduler_.SubmitResult(who->tenant, id, who->subject, std::move(*decoded));
      if (r.ok()) {
        item = json::object{{"status", 200}, {"result", TaskResultToJson(*r)}};
      } else {
        item = ItemError(r.status());
      }
    }
    item["id"] = id;
    items.push_back(std::move(item));
  }
  co_return JsonResponse(200, json::object{{"items", std::move(items)}});
}

}  // namespace codeq::api
