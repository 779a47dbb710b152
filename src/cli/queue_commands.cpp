// `codeq queue list|inspect` and `codeq admin cleanup` (SPEC §2.13–2.15, D7, D12).
#include <charconv>
#include <chrono>
#include <iostream>
#include <map>

#include "cli/api_client.h"
#include "cli/cli_status.h"
#include "cli/client_commands.h"
#include "cli/output.h"
#include "domain/time_format.h"

namespace codeq::cli {
namespace json = boost::json;

namespace {

std::string TenantQuery(const std::string& tenant) {
  return tenant.empty() ? "" : "?tenant=" + EscapeUrlComponent(tenant);
}

std::vector<std::string> StatsRow(const json::value& q) {
  return {Member(q, "command"), Member(q, "ready"), Member(q, "delayed"), Member(q, "inProgress"), Member(q, "dlq")};
}

int RunList(const ContextPtr& ctx, const std::string& tenant) {
  auto settings = ctx->Settings();
  if (!settings.ok()) return ReportError(settings.status());
  ApiClient api(*settings);
  auto r = api.CallOk("GET", "/v1/codeq/admin/queues" + TenantQuery(tenant), TokenRole::kAdmin);
  if (!r.ok()) return ReportError(r.status());
  if (settings->output == OutputMode::kJson) {
    std::cout << r->body << std::endl;
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  if (const auto* qs = r->json.is_object() ? r->json.get_object().if_contains("queues") : nullptr;
      qs != nullptr && qs->is_array()) {
    for (const auto& q : qs->get_array()) rows.push_back(StatsRow(q));
  }
  if (rows.empty()) {
    std::cout << "No queues yet (a command appears once a task was created for it)." << std::endl;
    return kExitOk;
  }
  PrintTable(std::cout, {"COMMAND", "READY", "DELAYED", "IN_PROGRESS", "DLQ"}, rows);
  return kExitOk;
}

int RunInspect(const ContextPtr& ctx, const std::string& event, const std::string& tenant) {
  auto settings = ctx->Settings();
  if (!settings.ok()) return ReportError(settings.status());
  ApiClient api(*settings);
  auto r = api.CallOk("GET", "/v1/codeq/admin/queues/" + EscapeUrlComponent(event) + TenantQuery(tenant),
                      TokenRole::kAdmin);
  if (!r.ok()) return ReportError(r.status());
  if (settings->output == OutputMode::kJson) {
    std::cout << r->body << std::endl;
  } else {
    // SPEC §9.3's line.
    std::cout << "READY: " << Member(r->json, "ready") << " | DELAYED: " << Member(r->json, "delayed")
              << " | IN_PROGRESS: " << Member(r->json, "inProgress") << " | DLQ: " << Member(r->json, "dlq")
              << std::endl;
  }
  return kExitOk;
}

struct CleanupOptions {
  std::string before, tenant;
  int64_t limit = 0;
  bool include_active = false;
};

// --before: RFC 3339 as is, or an age ("7d", "12h", "3600") meaning that long before now.
Result<std::string> ResolveBefore(const std::string& text) {
  if (text.empty()) return text;
  if (text.find_first_of("-:") != std::string::npos) {  // a time, checked here rather than by a 400
    if (!ParseRfc3339Ms(text)) {
      return UsageError("--before must be an RFC 3339 time or an age like 7d, not '" + text + "'");
    }
    return text;
  }
  static const std::map<std::string, int64_t> kUnits{{"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
  std::string value = text;
  CLI::AsNumberWithUnit unit(kUnits, CLI::AsNumberWithUnit::CASE_INSENSITIVE);
  try {
    std::string err = unit(value);
    if (!err.empty()) return UsageError("--before: " + err);
  } catch (const CLI::Error& e) {
    return UsageError(std::string("--before must be an RFC 3339 time or an age like 7d: ") + e.what());
  }
  int64_t age = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), age);
  if (ec != std::errc() || ptr != value.data() + value.size() || age > int64_t{1} << 40) {
    return UsageError("--before: age '" + text + "' is too large");
  }
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  return FormatUtcSeconds(now.count() - age);
}

int RunCleanup(const ContextPtr& ctx, const CleanupOptions& o) {
  auto settings = ctx->Settings();
  if (!settings.ok()) return ReportError(settings.status());
  auto before = ResolveBefore(o.before);
  if (!before.ok()) return ReportError(before.status());
  json::object body;
  if (!before->empty()) body["before"] = *before;
  if (o.limit > 0) body["limit"] = o.limit;
  if (o.include_active) body["includeActive"] = true;
  ApiClient api(*settings);
  auto r = api.CallOk("POST", "/v1/codeq/admin/tasks/cleanup" + TenantQuery(o.tenant), TokenRole::kAdmin,
                      json::serialize(body));
  if (!r.ok()) return ReportError(r.status());
  if (settings->output == OutputMode::kJson) {
    std::cout << r->body << std::endl;
  } else {
    std::cout << "[OK] Deleted " << Member(r->json, "deleted") << " finished task(s) whose retention (last update + 24 h) ended before "
              << Member(r->json, "before") << std::endl;
  }
  return kExitOk;
}

}  // namespace

void RegisterQueueCommands(CLI::App& app, CommandRegistry& registry, const ContextPtr& ctx) {
  CLI::App* queue = AddClientCommand(app, "queue", "Queue depths per command (admin)",
                                     "  codeq queue list\n  codeq queue inspect GENERATE_MASTER");
  queue->require_subcommand(1);

  auto list_tenant = std::make_shared<std::string>();
  CLI::App* list = AddClientCommand(*queue, "list", "Every command's queue depths (GET /v1/codeq/admin/queues)",
                                    "  codeq queue list\n  codeq queue list --tenant acme --json");
  list->add_option("--tenant", *list_tenant, "another tenant's queues (admin token without a tenant only)")
      ->type_name("TENANT");
  registry.Add(list, [ctx, list_tenant] { return RunList(ctx, *list_tenant); });

  auto event = std::make_shared<std::string>();
  auto inspect_tenant = std::make_shared<std::string>();
  CLI::App* inspect = AddClientCommand(*queue, "inspect",
                                       "One command's depths: ready, delayed, in progress, dead-lettered "
                                       "(GET /v1/codeq/admin/queues/EVENT)",
                                       "  codeq queue inspect GENERATE_MASTER");
  inspect->add_option("event", *event, "the command (event type)")->required()->check(NonEmpty())->type_name("EVENT");
  inspect->add_option("--tenant", *inspect_tenant, "another tenant's queue (admin token without a tenant only)")
      ->type_name("TENANT");
  registry.Add(inspect, [ctx, event, inspect_tenant] { return RunInspect(ctx, *event, *inspect_tenant); });

  CLI::App* admin = AddClientCommand(app, "admin", "Operator commands", "  codeq admin cleanup --before 7d");
  admin->require_subcommand(1);
  auto co = std::make_shared<CleanupOptions>();
  CLI::App* cleanup = AddClientCommand(
      *admin, "cleanup",
      "Delete finished (COMPLETED/FAILED) tasks whose retention (last update + 24 h) ended before a time "
      "(POST /v1/codeq/admin/tasks/cleanup)",
      "  codeq admin cleanup                       # retention ended before now, up to 1000\n"
      "  codeq admin cleanup --before 7d --limit 500\n"
      "  codeq admin cleanup --before 2026-01-01T00:00:00Z");
  cleanup->add_option("--before", co->before, "RFC 3339 time, or an age such as 7d / 12h (default: now)")
      ->type_name("TIME|AGE");
  cleanup->add_option("--limit", co->limit, "at most this many tasks (default: the server's 1000)")
      ->type_name("N")
      ->check(NonNegativeInteger());
  cleanup->add_flag("--include-active", co->include_active,
                    "also delete non-terminal tasks idle past the deadline (D12; dangerous)");
  cleanup->add_option("--tenant", co->tenant, "another tenant (admin token without a tenant only)")
      ->type_name("TENANT");
  registry.Add(cleanup, [ctx, co] { return RunCleanup(ctx, *co); });
}

}  // namespace codeq::cli
