// Batch endpoints (issue 7): create many tasks, submit many results. Each item goes through the
// same decoding (request_decoding.h) as the single endpoint and the valid ones go to the
// Scheduler's batch call (CreateTasks, SubmitResults), which answers each item as the single call
// would, so a batch of one behaves exactly like one single request; one bad item does not sink
// the rest.
#include "api/api.h"
#include "api/handler_util.h"
#include "api/json_body.h"
#include "api/request_decoding.h"
#include "domain/json_text.h"

namespace codeq::api {
namespace json = boost::json;
using Awaitable = boost::asio::awaitable<http::Response>;

namespace {

// The answers are written as JSON text directly (json_text.h): building a json::object per item
// and serialising it was ~10 % of the server's instructions in batch mode.

/// Opens the `items` entry of a failed item, without its closing brace: the HTTP status the
/// single endpoint would have answered and its error text, `{"status":<code>,"error":"<text>"`.
void OpenItemError(std::string& out, const Status& s) {
  const int code = StatusResponse(s).status;
  out += "{\"status\":";
  out += std::to_string(code);
  out += ",\"error\":";
  AppendJsonString(out, code == 503 ? std::string_view("store unavailable") : std::string_view(s.message()));
}

}  // namespace

Awaitable Api::CreateTasksBatch(const http::Request& req) {
  auto who = co_await Authenticate(req, AuthGroup::kProducer);
  if (!who.ok()) co_return StatusResponse(who.status());
  auto body = ParseBatchBody(req.body(), "tasks", "invalid body");
  if (!body.ok()) co_return StatusResponse(body.status());
  auto tasks = DecodeBatchArray(body->body, "tasks", "invalid body");
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
    if (body->entry_errors[i]) {  // too deep, or a number a single create refuses
      errors[i] = std::move(body->entry_errors[i]);
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

  std::string text = "{\"items\":[";
  text.reserve(entries.size() * 512);
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) text += ',';
    if (errors[i]) {
      OpenItemError(text, *errors[i]);
    } else if (!created[i]->ok()) {
      OpenItemError(text, created[i]->status());
    } else {
      const CreateOutcome& out = created[i]->value();
      text += out.replayed ? "{\"status\":200,\"task\":" : "{\"status\":202,\"task\":";
      text += out.task_json.empty() ? TaskToJsonText(out.task) : out.task_json;
    }
    text += '}';
  }
  text += "]}";
  co_return JsonTextResponse(200, std::move(text));
}

Awaitable Api::SubmitResultsBatch(const http::Request& req) {
  auto who = co_await Authenticate(req, AuthGroup::kWorker, "codeq:result");
  if (!who.ok()) co_return StatusResponse(who.status());
  auto body = ParseBatchBody(req.body(), "results", "invalid request body");
  if (!body.ok()) co_return StatusResponse(body.status());
  auto results = DecodeBatchArray(body->body, "results", "invalid request body");
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
    if (body->entry_errors[i]) {  // too deep, or a number a single result refuses
      errors[i] = std::move(body->entry_errors[i]);
      continue;
    }
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

  std::string text = "{\"items\":[";
  text.reserve(entries.size() * 256);
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) text += ',';
    if (errors[i]) {
      OpenItemError(text, *errors[i]);
    } else if (!submitted[i]->ok()) {
      OpenItemError(text, submitted[i]->status());
    } else {
      text += "{\"status\":200,\"result\":";
      text += TaskResultToJsonText(submitted[i]->value());
    }
    text += ",\"id\":";
    if (ids[i].is_string()) {
      AppendJsonString(text, ids[i].get_string());
    } else {
      text += "null";
    }
    text += '}';
  }
  text += "]}";
  co_return JsonTextResponse(200, std::move(text));
}

}  // namespace codeq::api
