// Operator endpoints: queue overview (D7), per-command stats (§2.14), cleanup (§2.15, D12),
// health (D19) and metrics (§7).
#include <boost/url/parse.hpp>
#include <unordered_set>

#include "api/api.h"
#include "api/handler_util.h"
#include "api/json_body.h"
#include "api/request_decoding.h"
#include "domain/keys.h"

namespace codeq::api {
namespace json = boost::json;
using Awaitable = boost::asio::awaitable<http::Response>;

std::string QueryParam(std::string_view query, std::string_view name) {
  std::string target = "/?" + std::string(query);
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return "";
  for (auto p : url->params()) {
    if (p.key == name) return p.has_value ? std::string(p.value) : std::string();
  }
  return "";
}

boost::asio::awaitable<Result<std::string>> Api::AdminTenant(const http::Request& req, std::string_view query,
                                                             bool& all_tenants) {
  auto who = co_await Authenticate(req, AuthGroup::kProducer);
  co_return AdminTenantOf(who, query, all_tenants);
}

Result<std::string> Api::AdminTenantOf(const Result<Principal>& who, std::string_view query, bool& all_tenants) {
  if (!who.ok()) return who.status();
  Status admin = Authenticator::RequireAdmin(*who);
  if (!admin.ok()) return admin;
  std::string requested = QueryParam(query, "tenant");
  all_tenants = false;
  if (!who->tenant.empty()) {
    // D6: a tenant's admin sees only its own tenant.
    if (!requested.empty() && requested != who->tenant) return Forbidden("tenant not allowed");
    return who->tenant;
  }
  if (requested.empty()) {
    all_tenants = true;
    return std::string();
  }
  return requested;
}

Awaitable Api::AdminQueues(const http::Request& req, std::string_view query) {
  bool all = false;
  auto tenant = co_await AdminTenant(req, query, all);
  if (!tenant.ok()) co_return StatusResponse(tenant.status());
  auto queues = co_await scheduler_.ListQueues(*tenant);
  if (!queues.ok()) co_return StatusResponse(queues.status());
  json::array arr;
  for (const auto& q : *queues) arr.push_back(QueueStatsToJson(q));
  co_return JsonResponse(200, json::object{{"queues", std::move(arr)}});
}

Awaitable Api::AdminQueueStats(const http::Request& req, const std::string& command, std::string_view query) {
  bool all = false;
  auto tenant = co_await AdminTenant(req, query, all);
  if (!tenant.ok()) co_return StatusResponse(tenant.status());
  std::string cmd = Trim(command);
  if (cmd.empty()) co_return http::ErrorResponse(400, "command is required");
  if (!IsValidCommand(cmd)) co_return http::ErrorResponse(400, "invalid command");
  auto stats = co_await scheduler_.Stats(*tenant, cmd);
  if (!stats.ok()) co_return StatusResponse(stats.status());
  co_return JsonResponse(200, QueueStatsToJson(*stats));
}

Awaitable Api::AdminCleanup(const http::Request& req, std::string_view query) {
  bool all = false;
  auto tenant = co_await AdminTenant(req, query, all);
  if (!tenant.ok()) co_return StatusResponse(tenant.status());
  // SPEC §2.15: parse errors are ignored and defaults used.
  json::object o;
  if (auto body = ParseObjectBody(req.body(), true, "invalid body"); body.ok()) o = std::move(*body);
  auto cleanup = DecodeCleanupBody(o, scheduler_.CurrentTime().ms);
  if (!cleanup.ok()) co_return StatusResponse(cleanup.status());
  std::optional<std::string> scope;
  if (!all) scope = *tenant;
  auto deleted = co_await scheduler_.Cleanup(scope, cleanup->before_ms,
                                             static_cast<int>(cleanup->effective_limit),
                                             cleanup->include_active);
  if (!deleted.ok()) co_return StatusResponse(deleted.status());
  co_return JsonResponse(200, json::object{{"deleted", *deleted},
                                           {"before", cleanup->before_text},
                                           {"limit", cleanup->limit}});
}

Awaitable Api::Health() {
  auto h = co_await scheduler_.Health();
  if (!h.ok()) co_return JsonResponse(503, json::object{{"status", "unavailable"}});
  co_return JsonResponse(200, json::object{{"status", "ok"}});
}

Awaitable Api::MetricsText() {
  // Gauges for the unscoped queues of every known command, O(commands) store reads (SPEC §7, D5).
  // Spellings that differ only in case share one queue (SPEC §4 keys are lower-cased): one series
  // per queue, under its first spelling in sorted order, so sums over commands stay true.
  std::optional<std::vector<Metrics::QueueGauge>> gauges;
  auto queues = co_await scheduler_.ListQueues("");
  if (queues.ok()) {
    gauges.emplace();
    std::unordered_set<std::string> seen;
    for (const auto& q : *queues) {
      if (!seen.insert(keys::LowerAscii(q.command)).second) continue;
      Metrics::QueueGauge g{q.command, q.ready, q.delayed, q.in_progress, q.dlq};
      auto subs = co_await scheduler_.CountActiveSubscriptions(q.command);
      if (subs.ok()) g.subscriptions_active = *subs;
      gauges->push_back(std::move(g));
    }
  }
  http::Response r{200, metrics_.Render(gauges), "text/plain; version=0.0.4; charset=utf-8", {}};
  co_return r;
}

}  // namespace codeq::api
