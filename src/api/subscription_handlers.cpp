// Worker-availability subscriptions: create (SPEC §2.11) and renew (§2.12), with the Doc-variant
// token rules that §2.11 recommends and D16 adopts.
#include <algorithm>

#include "api/api.h"
#include "api/handler_util.h"
#include "api/json_body.h"
#include "api/request_decoding.h"

namespace codeq::api {
namespace json = boost::json;
using Awaitable = boost::asio::awaitable<http::Response>;

namespace {

bool IsDeliveryMode(std::string_view m) { return m == kDeliveryFanout || m == kDeliveryGroup || m == kDeliveryHash; }

json::object SubscriptionAnswer(const Subscription& s) {
  return json::object{{"subscriptionId", s.id}, {"expiresAt", s.expires_at}};
}

// Event types of a subscription without `eventTypes`: the token's when it lists them, else (a
// wildcard token) the commands known to the tenant (D5). Empty when there are none.
std::vector<std::string> DefaultEventTypes(const Principal& who) {
  std::vector<std::string> out;
  if (who.HasWildcard()) return out;
  for (const auto& c : who.event_types) {
    if (IsValidCommand(c) && std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

}  // namespace

Awaitable Api::CreateSubscription(const http::Request& req) {
  auto who = co_await Authenticate(req, AuthGroup::kWorker, "codeq:subscribe");
  if (!who.ok()) co_return StatusResponse(who.status());
  auto body = ParseObjectBody(req.body(), false, "invalid body");
  if (!body.ok()) co_return StatusResponse(body.status());
  auto decoded = DecodeSubscriptionBody(*body);
  if (!decoded.ok()) co_return StatusResponse(decoded.status());
  SubscriptionBody in = std::move(*decoded);
  if (auto s = CheckUrlAllowed(in.callback_url, "callback"); !s.ok()) co_return StatusResponse(s);

  // A token's workerGroup makes `group` the default mode and fixes the groupId (SPEC §2.11 Doc).
  SubscriptionRequest sr;
  sr.delivery_mode = in.delivery_mode.value_or("");
  if (sr.delivery_mode.empty()) {
    sr.delivery_mode = who->worker_group.empty() ? std::string(kDeliveryFanout) : std::string(kDeliveryGroup);
  }
  if (!IsDeliveryMode(sr.delivery_mode)) co_return http::ErrorResponse(400, "invalid deliveryMode");
  sr.group_id = in.group_id.value_or("");
  if (!who->worker_group.empty()) {
    if (!sr.group_id.empty() && sr.group_id != who->worker_group) {
      co_return http::ErrorResponse(400, "groupId does not match workerGroup");
    }
    if (sr.delivery_mode == kDeliveryGroup) sr.group_id = who->worker_group;
  }
  if (sr.delivery_mode == kDeliveryGroup && sr.group_id.empty()) {
    co_return http::ErrorResponse(400, "groupId is required");
  }

  if (in.event_types && !in.event_types->empty()) {
    for (const auto& c : *in.event_types) {
      if (!who->AllowsEvent(c)) co_return http::ErrorResponse(403, "event type not allowed");
    }
    sr.event_types = std::move(*in.event_types);
  } else if (who->HasWildcard()) {
    auto known = co_await scheduler_.ListCommands(who->tenant);
    if (!known.ok()) co_return StatusResponse(known.status());
    sr.event_types = std::move(*known);
  } else {
    sr.event_types = DefaultEventTypes(*who);
  }
  if (sr.event_types.empty()) co_return http::ErrorResponse(400, "eventTypes is required (no known commands yet)");

  sr.tenant = who->tenant;
  sr.worker_id = who->subject;
  sr.callback_url = std::move(in.callback_url);
  sr.ttl_seconds = in.ttl_seconds;
  sr.min_interval_seconds = in.min_interval_seconds;
  auto created = co_await scheduler_.CreateSubscription(std::move(sr));
  if (!created.ok()) co_return StatusResponse(created.status());
  co_return JsonResponse(200, SubscriptionAnswer(*created));
}

Awaitable Api::RenewSubscription(const http::Request& req, const std::string& id) {
  auto who = co_await Authenticate(req, AuthGroup::kWorker, "codeq:subscribe");
  if (!who.ok()) co_return StatusResponse(who.status());
  // SPEC §2.12: the body is optional; an absent or invalid ttlSeconds means 300.
  auto body = ParseObjectBody(req.body(), true, "invalid body");
  int64_t ttl = body.ok() ? DecodeRenewBody(*body) : 0;
  auto renewed = co_await scheduler_.RenewSubscription(who->tenant, id, ttl);
  if (!renewed.ok()) {
    if (renewed.status().code() == StatusCode::kNotFound) co_return http::ErrorResponse(404, "not-found");
    co_return StatusResponse(renewed.status());
  }
  co_return JsonResponse(200, SubscriptionAnswer(*renewed));
}

}  // namespace codeq::api
