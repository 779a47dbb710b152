// Batch endpoints (issue 7): create many tasks, submit many results. Each item goes through the
// same decoding (request_decoding.h) and the same Scheduler call as the single endpoint, so a
// batch of one behaves exactly like one single request; one bad item does not sink the rest.
#include "api/api.h"
#include "api/handler_util.h"
#include "api/json_body.h"
#include "api/request_decoding.h"
#include "service/concurrently.h"

#include <map>
#include <string_view>

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

/// Items of one batch request in flight at once.
constexpr size_t kBatchParallelism = 64;

/// Runs `run(i)` (awaitable<void>) for the items `valid` concurrently, except that items sharing a
/// non-empty `keys[i]` keep their request order: the first occurrence of every key runs in wave 0,
/// the second in wave 1, and so on, each wave after the previous one. So a batch answers as if its
/// items ran one by one (an earlier item with the same idempotency key or task id wins), while
/// independent items share fsyncs and store round trips. O(n log n).
template <typename F>
boost::asio::awaitable<void> RunInWaves(const std::vector<size_t>& valid, const std::vector<std::string>& keys,
                                        F run) {
  std::map<std::string_view, size_t> seen;
  std::vector<std::vector<size_t>> waves;
  for (size_t i : valid) {
    size_t wave = keys[i].empty() ? 0 : seen[keys[i]]++;
    if (waves.size() <= wave) waves.resize(wave + 1);
    waves[wave].push_back(i);
  }
  for (const auto& wave : waves) {
    co_await ForEachConcurrently(wave.size(), [&](size_t k) { return run(wave[k]); }, kBatchParallelism);
  }
}

/// One create of a batch into `*slot`.
boost::asio::awaitable<void> CreateInto(Scheduler& scheduler, std::string tenant, CreateRequest req,
                                        std::optional<Result<CreateOutcome>>* slot) {
  *slot = co_await scheduler.CreateTask(tenant, std::move(req));
}

/// One result submission of a batch into `*slot`.
boost::asio::awaitable<void> SubmitInto(Scheduler& scheduler, std::string tenant, std::string id,
                                        std::string worker_id, ResultRequest req,
                                        std::optional<Result<TaskResult>>* slot) {
  *slot = co_await scheduler.SubmitResult(tenant, id, worker_id, std::move(req));
}

}  // namespace

Awaitable Api::CreateTasksBatch(const http::Request& req) {
  auto who = co_await Authenticate(req, AuthGroup::kProducer);
  if (!who.ok()) co_return StatusResponse(who.status());
  auto body = ParseObjectBody(req.body(), false, "invalid body");
  if (!body.ok()) co_return StatusResponse(body.status());
  auto tasks = DecodeBatchArray(*body, "tasks", "invalid body");
  if (!tasks.ok()) co_return StatusResponse(tasks.status());

  // Decode and check every item first; then the valid ones run concurrently (RunInWaves: items
  // sharing an idempotency key keep their order, so the first creates and the others replay).
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
  std::vector<std::string> keys(entries.size());
  for (size_t i : valid) keys[i] = requests[i].idempotency_key;
  std::vector<std::optional<Result<CreateOutcome>>> created(entries.size());
  co_await RunInWaves(valid, keys, [&](size_t i) {
    return CreateInto(scheduler_, who->tenant, std::move(requests[i]), &created[i]);
  });

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

  // As for creates: decode all, submit the valid ones concurrently (the same task id keeps its
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
  std::vector<std::string> keys(entries.size());
  for (size_t i : valid) keys[i] = std::string(ids[i].get_string());
  std::vector<std::optional<Result<TaskResult>>> submitted(entries.size());
  co_await RunInWaves(valid, keys, [&](size_t i) {
    return SubmitInto(scheduler_, who->tenant, keys[i], who->subject, std::move(requests[i]), &submitted[i]);
  });

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
