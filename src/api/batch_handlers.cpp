// Batch endpoints (issue 7): create many tasks, submit many results. Each item goes through the
// same decoding (request_decoding.h) as the single endpoint and the valid ones go to the
// Scheduler's batch call (CreateTasks, SubmitResults), which answers each item as the single call
// would, so a batch of one behaves exactly like one single request; one bad item does not sink
// the rest.
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
  auto who = co_await Authenticate(req, AuthGroup::kProducer);
  if (!who.ok()) co_return StatusResponse(who.status());
  auto body = ParseObjectBody(req.body(), false, "invalid body");
  if (!body.ok()) co_return StatusResponse(body.status());
  auto tasks = DecodeBatchArray(*body, "tasks", "invalid body");
  if (!tasks.ok()) co_return StatusResponse(tasks.status());

  // Decode and check every item first; then the valid ones go to the scheduler as one batch (in
  // order: of items sharing an idempotency key the first creates and the others replay).
  const json::array& entries = **tasks;
  std::vector<std::optional<Status>> errors(entries.size());
  std::vector<CreateRequest> requests(entries.size());
  std::vector<size_t> valid;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].is_object()) {
      errors[i] = InvalidArgument("invalid body");
      continue;
    }
    auto decoded = DecodeCreateRequest(entries[i].get_object());
    Status allowed = decoded.ok() ? CheckUrlAllowed(decoded->webhook, "webhook") : decoded.status();
    if (!allowed.ok()) {
      errors[i] = allowed;
      continue;
    }
    requests[i] = std::move(*decoded);
    valid.push_back(i);
  }
  std::vector<CreateRequest> batch;
  batch.reserve(valid.size());
  for (size_t i : valid) batch.push_back(std::move(requests[i]));
  auto outcomes = co_await scheduler_.CreateTasks(who->tenant, std::move(batch));
  std::vector<std::optional<Result<CreateOutcome>>> created(entries.size());
  for (size_t k = 0; k < valid.size(); ++k) created[valid[k]] = std::move(outcomes[k]);

  json::array items;
  items.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    if (errors[i]) {
      items.push_back(ItemError(*errors[i]));
    } else if (!created[i]->ok()) {
      items.push_back(ItemError(created[i]->status()));
    } else {
      const CreateOutcome& out = created[i]->value();
      items.push_back(json::object{{"status", out.replayed ? 200 : 202}, {"task", TaskToJson(out.task)}});
    }
  }
  co_return JsonResponse(200, json::object{{"items", std::move(items)}});
}

Awaitable Api::SubmitResultsBatch(const http::Request& req) {
  auto who = co_await Authenticate(req, AuthGroup::kWorker, "codeq:result");
  if (!who.ok()) co_return StatusResponse(who.status());
  auto body = ParseObjectBody(req.body(), false, "invalid request body");
  if (!body.ok()) co_return StatusResponse(body.status());
  auto results = DecodeBatchArray(*body, "results", "invalid request body");
  if (!results.ok()) co_return StatusResponse(results.status());

  // As for creates: decode all, submit the valid ones as one batch (the same task id keeps its
  // order), answer in request order.
  const json::array& entries = **results;
  std::vector<json::value> ids(entries.size());
  std::vector<std::optional<Status>> errors(entries.size());
  std::vector<ResultRequest> requests(entries.size());
  std::vector<size_t> valid;
  for (size_t i = 0; i < entries.size(); ++i) {
    const json::value& v = entries[i];
    const json::value* id_v = v.is_object() ? v.get_object().if_contains("id") : nullptr;
    if (id_v == nullptr || !id_v->is_string() || id_v->get_string().empty()) {
      ids[i] = id_v != nullptr && id_v->is_string() ? *id_v : json::value(nullptr);
      errors[i] = InvalidArgument("invalid request body");
      continue;
    }
    ids[i] = *id_v;
    auto decoded = DecodeResultRequest(v.get_object());
    if (!decoded.ok()) {
      errors[i] = decoded.status();
      continue;
    }
    requests[i] = std::move(*decoded);
    valid.push_back(i);
  }
  std::vector<Scheduler::ResultItem> batch;
  batch.reserve(valid.size());
  for (size_t i : valid) batch.push_back(Scheduler::ResultItem{std::string(ids[i].get_string()), std::move(requests[i])});
  auto outcomes = co_await scheduler_.SubmitResults(who->tenant, who->subject, std::move(batch));
  std::vector<std::optional<Result<TaskResult>>> submitted(entries.size());
  for (size_t k = 0; k < valid.size(); ++k) submitted[valid[k]] = std::move(outcomes[k]);

  json::array items;
  items.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    json::object item;
    if (errors[i]) {
      item = ItemError(*errors[i]);
    } else if (!submitted[i]->ok()) {
      item = ItemError(submitted[i]->status());
    } else {
      item = json::object{{"status", 200}, {"result", TaskResultToJson(submitted[i]->value())}};
    }
    item["id"] = ids[i];
    items.push_back(std::move(item));
  }
  co_return JsonResponse(200, json::object{{"items", std::move(items)}});
}

}  // namespace codeq::api
