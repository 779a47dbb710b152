// Worker endpoints: claim (SPEC §2.4), heartbeat (§2.5), abandon (§2.6), nack (§2.7), result (§2.8).
#include <algorithm>
#include <string_view>
#include <unordered_set>

#include "api/api.h"
#include "api/handler_util.h"
#include "api/json_body.h"
#include "api/request_decoding.h"

namespace codeq::api {
namespace json = boost::json;
using Awaitable = boost::asio::awaitable<http::Response>;

namespace {
// A token whose `sub` is empty cannot own a lease; SPEC answers 500, we treat it as the
// credential problem it is (D8: a client mistake is never a 500).
constexpr std::string_view kNoWorkerId = "workerId is required";
}  // namespace

Awaitable Api::Claim(const http::Request& req, http::RequestContext& ctx) {
  auto who = co_await Authenticate(req, AuthGroup::kWorker, "codeq:claim");
  if (!who.ok()) co_return StatusResponse(who.status());
  auto body = ParseObjectBody(req.body(), true, "invalid body");
  if (!body.ok()) co_return StatusResponse(body.status());
  auto decoded = DecodeClaimBody(*body);
  if (!decoded.ok()) co_return StatusResponse(decoded.status());
  // maxTasks (issue 7 batch claim): absent → the single-task response of SPEC §2.4; present →
  // {"tasks":[…]} with up to maxTasks tasks, or 204.
  const std::optional<std::vector<std::string>>& commands = decoded->commands;
  const std::optional<int64_t>& max_tasks = decoded->max_tasks;
  if (who->subject.empty()) co_return http::ErrorResponse(401, kNoWorkerId);

  std::vector<std::string> selected;
  std::unordered_set<std::string_view> seen;  // duplicates are dropped, first occurrence kept
  if (commands && !commands->empty()) {
    for (const auto& c : *commands) {
      if (!IsValidCommand(c)) co_return http::ErrorResponse(400, "invalid command");
      if (!who->AllowsEvent(c)) co_return http::ErrorResponse(403, "event type not allowed");
      if (seen.insert(c).second) selected.push_back(c);
    }
  } else if (!who->HasWildcard()) {
    for (const auto& c : who->event_types) {
      if (IsValidCommand(c) && seen.insert(c).second) selected.push_back(c);
    }
  } else {
    // D5: a wildcard token without `commands` claims from every command known to its tenant.
    auto known = co_await scheduler_.ListCommands(who->tenant);
    if (!known.ok()) co_return StatusResponse(known.status());
    selected = std::move(*known);
  }
  if (selected.empty()) co_return NoContent();

  // SPEC §2.4: "If the client disconnects during a long poll, the request is abandoned." A
  // client already gone is seen before anything is claimed for it, and one gone while tasks were
  // being claimed has them abandoned (a peek each); the watch over the wait is armed only once
  // the claim has to wait (a task there at once needs no read and cancel).
  ClientCheck client;
  if (decoded->wait_seconds.value_or(0) > 0) {
    ctx.CheckForDisconnect();
    client.now = [&ctx] { ctx.CheckForDisconnect(); };
    client.over_wait = [&ctx] { ctx.WatchForDisconnect(); };
  }
  auto claimed = co_await scheduler_.ClaimBatch(who->subject, who->tenant, std::move(selected),
                                                decoded->lease_seconds.value_or(0),
                                                decoded->wait_seconds.value_or(0),
                                                static_cast<int>(max_tasks.value_or(1)), std::move(client));
  // 499 as nginx logs it: never written, but the access log and metrics show what happened.
  if (ctx.ClientGone()) co_return http::ErrorResponse(499, "client closed request");
  if (!claimed.ok()) co_return StatusResponse(claimed.status());
  if (claimed->empty()) co_return NoContent();
  if (!max_tasks) co_return JsonTextResponse(200, TaskToJsonText(claimed->front()));
  std::string tasks = "{\"tasks\":[";
  for (const Task& t : *claimed) {
    if (&t != &claimed->front()) tasks += ',';
    tasks += TaskToJsonText(t);
  }
  tasks += "]}";
  co_return JsonTextResponse(200, std::move(tasks));
}

Awaitable Api::Heartbeat(const http::Request& req, const std::string& id) {
  auto who = co_await Authenticate(req, AuthGroup::kWorker, "codeq:heartbeat");
  if (!who.ok()) co_return StatusResponse(who.status());
  auto body = ParseObjectBody(req.body(), true, "invalid body");
  if (!body.ok()) co_return StatusResponse(body.status());
  auto extend = DecodeHeartbeatBody(*body);
  if (!extend.ok()) co_return StatusResponse(extend.status());
  if (who->subject.empty()) co_return http::ErrorResponse(401, kNoWorkerId);
  auto r = co_await scheduler_.Heartbeat(who->tenant, id, who->subject, *extend);
  if (!r.ok()) co_return StatusResponse(r.status());
  co_return JsonResponse(200, json::object{{"ok", true}});
}

Awaitable Api::Abandon(const http::Request& req, const std::string& id) {
  auto who = co_await Authenticate(req, AuthGroup::kWorker, "codeq:abandon");
  if (!who.ok()) co_return StatusResponse(who.status());
  if (who->subject.empty()) co_return http::ErrorResponse(401, kNoWorkerId);
  auto r = co_await scheduler_.Abandon(who->tenant, id, who->subject);
  if (!r.ok()) co_return StatusResponse(r.status());
  co_return JsonResponse(200, json::object{{"status", "requeued"}});
}

Awaitable Api::Nack(const http::Request& req, const std::string& id) {
  auto who = co_await Authenticate(req, AuthGroup::kWorker, "codeq:nack");
  if (!who.ok()) co_return StatusResponse(who.status());
  auto body = ParseObjectBody(req.body(), true, "invalid body");
  if (!body.ok()) co_return StatusResponse(body.status());
  auto nack = DecodeNackBody(*body);
  if (!nack.ok()) co_return StatusResponse(nack.status());
  if (who->subject.empty()) co_return http::ErrorResponse(401, kNoWorkerId);
  auto r = co_await scheduler_.Nack(who->tenant, id, who->subject, nack->delay_seconds, nack->reason);
  if (!r.ok()) co_return StatusResponse(r.status());
  co_return JsonResponse(200, json::object{{"status", r->dead_lettered ? "dlq" : "requeued"},
                                           {"delaySeconds", r->delay_seconds}});
}

Awaitable Api::SubmitResult(const http::Request& req, const std::string& id) {
  auto who = co_await Authenticate(req, AuthGroup::kWorker, "codeq:result");
  if (!who.ok()) co_return StatusResponse(who.status());
  constexpr std::string_view kBad = "invalid request body";
  auto body = ParseObjectBody(req.body(), false, kBad);
  if (!body.ok()) co_return StatusResponse(body.status());
  auto decoded = DecodeResultRequest(*body);
  if (!decoded.ok()) co_return StatusResponse(decoded.status());
  ResultRequest rr = std::move(*decoded);
  auto r = co_await scheduler_.SubmitResult(who->tenant, id, who->subject, std::move(rr));
  if (!r.ok()) co_return StatusResponse(r.status());
  co_return JsonTextResponse(200, TaskResultToJsonText(*r));
}

}  // namespace codeq::api
