// `codeq task create|get|result` (SPEC §9.3, §2.3, §2.9, §2.10).
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <thread>

#include "cli/api_client.h"
#include "cli/cli_status.h"
#include "cli/client_commands.h"
#include "cli/output.h"
#include "domain/file_text.h"

namespace codeq::cli {
namespace json = boost::json;

namespace {

struct CreateOptions {
  std::string event;
  std::string payload = "{}";
  std::optional<int> priority, max_attempts;
  std::optional<int64_t> delay_seconds;
  std::string webhook, idempotency_key, run_at;
  bool quiet = false;
};

// The --payload value: JSON text, @file, or @- for stdin.
Result<json::value> ReadPayload(const std::string& arg) {
  std::string text = arg;
  std::string what = "--payload";
  if (!arg.empty() && arg[0] == '@') {
    std::string path = arg.substr(1);
    if (path == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      what = "--payload @- (stdin)";
    } else {
      auto read = ReadFileText(path);
      if (!read.ok()) return UsageError("cannot read payload file " + read.status().message());
      text = std::move(*read);
      what = "payload file " + path;
    }
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return UsageError(what + " is not valid JSON: " + ec.message());
  if (v.is_null()) return UsageError(what + " must not be null");
  return v;
}

int RunCreate(const ContextPtr& ctx, const CreateOptions& o) {
  auto settings = ctx->Settings();
  if (!settings.ok()) return ReportError(settings.status());
  auto payload = ReadPayload(o.payload);
  if (!payload.ok()) return ReportError(payload.status());
  json::object body{{"command", o.event}, {"payload", *payload}};
  if (o.priority) body["priority"] = *o.priority;
  if (!o.webhook.empty()) body["webhook"] = o.webhook;
  if (o.max_attempts && *o.max_attempts > 0) body["maxAttempts"] = *o.max_attempts;
  if (!o.idempotency_key.empty()) body["idempotencyKey"] = o.idempotency_key;
  if (!o.run_at.empty()) body["runAt"] = o.run_at;
  if (o.delay_seconds && *o.delay_seconds > 0) body["delaySeconds"] = *o.delay_seconds;

  ApiClient api(*settings);
  auto r = api.CallOk("POST", "/v1/codeq/tasks", TokenRole::kProducer, json::serialize(body));
  if (!r.ok()) return ReportError(r.status());
  std::string id = Member(r->json, "id");
  if (o.quiet) {
    std::cout << id << std::endl;
  } else if (settings->output == OutputMode::kJson) {
    std::cout << r->body << std::endl;
  } else if (r->status == 200) {
    std::cout << "[OK] Task exists (idempotent replay): " << id << " (" << Member(r->json, "status") << ")"
              << std::endl;
  } else {
    std::cout << "[OK] Task created: " << id << std::endl;
  }
  return kExitOk;
}

std::vector<std::pair<std::string, std::string>> TaskFields(const json::value& t) {
  std::string attempts = Member(t, "attempts");
  std::string max_attempts = Member(t, "maxAttempts");
  std::string tries = max_attempts.empty() ? attempts : (attempts.empty() ? "0" : attempts) + "/" + max_attempts;
  return {{"id", Member(t, "id")},           {"command", Member(t, "command")},
          {"status", Member(t, "status")},   {"priority", Member(t, "priority")},
          {"attempts", tries},               {"workerId", Member(t, "workerId")},
          {"leaseUntil", Member(t, "leaseUntil")}, {"error", Member(t, "error")},
          {"tenantId", Member(t, "tenantId")}, {"webhook", Member(t, "webhook")},
          {"createdAt", Member(t, "createdAt")}, {"updatedAt", Member(t, "updatedAt")},
          {"payload", Member(t, "payload")}};
}

int RunGet(const ContextPtr& ctx, const std::string& id) {
  auto settings = ctx->Settings();
  if (!settings.ok()) return ReportError(settings.status());
  ApiClient api(*settings);
  auto r = api.CallOk("GET", TaskPath(id), TokenRole::kProducer);
  if (!r.ok()) return ReportError(r.status());
  if (settings->output == OutputMode::kJson) {
    std::cout << r->body << std::endl;
  } else {
    PrintFields(std::cout, TaskFields(r->json));
  }
  return kExitOk;
}

int RunResult(const ContextPtr& ctx, const std::string& id, int64_t wait_seconds) {
  auto settings = ctx->Settings();
  if (!settings.ok()) return ReportError(settings.status());
  ApiClient api(*settings);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds);
  Result<ApiResult> r = RunError("no request");
  while (true) {
    r = api.Call("GET", TaskPath(id, "result"), TokenRole::kProducer);
    if (!r.ok()) return ReportError(r.status());
    bool pending = r->status == 404 && Member(r->json, "error") == "result not found";
    if (!pending || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (r->status >= 300) return ReportError(RunError(ServerError(*r)));
  if (settings->output == OutputMode::kJson) {
    std::cout << r->body << std::endl;
    return kExitOk;
  }
  const json::value* task = r->json.is_object() ? r->json.get_object().if_contains("task") : nullptr;
  const json::value* result = r->json.is_object() ? r->json.get_object().if_contains("result") : nullptr;
  json::value none;
  const json::value& res = result != nullptr ? *result : none;
  std::string artifacts;
  if (const auto* a = res.is_object() ? res.get_object().if_contains("artifacts") : nullptr; a && a->is_array()) {
    for (const auto& e : a->get_array()) {
      if (!artifacts.empty()) artifacts += ", ";
      artifacts += Member(e, "name") + " " + Member(e, "url");
    }
  }
  PrintFields(std::cout, {{"taskId", Member(res, "taskId")},
                          {"command", task != nullptr ? Member(*task, "command") : ""},
                          {"status", Member(res, "status")},
                          {"completedAt", Member(res, "completedAt")},
                          {"error", Member(res, "error")},
                          {"result", Member(res, "result")},
                          {"artifacts", artifacts}});
  return kExitOk;
}

}  // namespace

void RegisterTaskCommands(CLI::App& app, CommandRegistry& registry, const ContextPtr& ctx) {
  CLI::App* task = AddClientCommand(app, "task", "Create tasks and read tasks and results (producer)",
                                    "  codeq task create --event GENERATE_MASTER --payload '{\"video\":\"intro.mp4\"}'\n"
                                    "  codeq task get <id>");
  task->require_subcommand(1);

  auto co = std::make_shared<CreateOptions>();
  CLI::App* create = AddClientCommand(
      *task, "create", "Create a task (POST /v1/codeq/tasks); prints the task (JSON) or its id",
      "  codeq task create --event GENERATE_MASTER --payload '{\"video\":\"intro.mp4\"}' --priority 5\n"
      "  codeq task create --event REPORT --payload @job.json --delay 10m --idempotency-key job-42\n"
      "  ID=$(codeq task create --event REPORT --run-at 2030-01-01T00:00:00Z -q)");
  create->add_option("--event,--command,-e", co->event, "the task's command (event type), e.g. GENERATE_MASTER")
      ->required()
      ->type_name("EVENT");
  create->add_option("--payload,-p", co->payload, "JSON payload, @file to read it from a file, @- for stdin")
      ->type_name("JSON|@FILE")
      ->default_str("{}");
  create->add_option_function<int>(
             "--priority", [co](const int& v) { co->priority = v; }, "priority tier 0..9 (server clamps; default 0)")
      ->type_name("N");
  create->add_option("--webhook", co->webhook, "result callback URL (http/https)")->type_name("URL");
  create->add_option_function<int>(
             "--max-attempts", [co](const int& v) { co->max_attempts = v; },
             "deliveries before the dead-letter queue (default: the server's maxAttemptsDefault)")
      ->type_name("N");
  create->add_option("--idempotency-key", co->idempotency_key,
                     "a replay with the same key returns the existing task (24 h)")
      ->type_name("KEY");
  create->add_option("--run-at", co->run_at, "visible from this RFC 3339 time (wins over --delay)")
      ->type_name("TIME");
  AsDuration(create->add_option_function<int64_t>(
                   "--delay,--delay-seconds", [co](const int64_t& v) { co->delay_seconds = v; },
                   "visible after this delay: seconds, or with unit s/m/h/d (default 0)")
                 ->check(NonNegativeInteger())
                 ->type_name("DURATION"));
  create->add_flag("--quiet,-q", co->quiet, "print only the task id");
  registry.Add(create, [ctx, co] { return RunCreate(ctx, *co); });

  auto get_id = std::make_shared<std::string>();
  CLI::App* get = AddClientCommand(*task, "get", "Show a task (GET /v1/codeq/tasks/ID)",
                                   "  codeq task get 0b6c3f1e-8a52-4a8e-9c61-2f7d1c1d2f10\n"
                                   "  codeq task get \"$ID\" --json");
  get->add_option("id", *get_id, "task id")->required()->check(NonEmpty())->type_name("ID");
  registry.Add(get, [ctx, get_id] { return RunGet(ctx, *get_id); });

  auto result_id = std::make_shared<std::string>();
  auto wait = std::make_shared<int64_t>(0);
  CLI::App* result = AddClientCommand(*task, "result", "Show a task's result (GET /v1/codeq/tasks/ID/result)",
                                      "  codeq task result \"$ID\"\n"
                                      "  codeq task result \"$ID\" --wait 30s   # poll until the result exists");
  result->add_option("id", *result_id, "task id")->required()->check(NonEmpty())->type_name("ID");
  AsDuration(result->add_option("--wait", *wait, "keep polling up to this long while there is no result yet")
                 ->type_name("DURATION"));
  registry.Add(result, [ctx, result_id, wait] { return RunResult(ctx, *result_id, *wait); });
}

}  // namespace codeq::cli
