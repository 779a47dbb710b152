// `codeq worker start` flags (issue 6, SPEC §9.3/§9.5); the worker itself is in worker.cpp.
#include "cli/client_commands.h"
#include "cli/output.h"
#include "cli/worker.h"

namespace codeq::cli {

void RegisterWorkerCommands(CLI::App& app, CommandRegistry& registry, const ContextPtr& ctx) {
  CLI::App* worker = AddClientCommand(app, "worker", "Process tasks (worker)",
                                      "  codeq worker start --events GENERATE_MASTER --handler ./handler.sh");
  worker->require_subcommand(1);

  auto o = std::make_shared<WorkerOptions>();
  CLI::App* start = AddClientCommand(
      *worker, "start",
      "Claim tasks with long polling and run a handler for each. The handler gets the task JSON on stdin "
      "(env CODEQ_TASK_ID, CODEQ_COMMAND, CODEQ_ATTEMPTS, CODEQ_PAYLOAD) and prints one JSON object: "
      "{\"status\":\"COMPLETED\",\"result\":{...}}, {\"status\":\"FAILED\",\"error\":\"...\"}, "
      "{\"status\":\"NACK\",\"delaySeconds\":30,\"reason\":\"...\"} or {\"status\":\"ABANDON\"}. A non-zero exit, a "
      "crash or other output fails the task with the reason as its error. Heartbeats every lease/3 while it "
      "runs. SIGINT/SIGTERM: stop claiming, let running handlers finish (up to --grace), then abandon them.",
      "  codeq worker start --events GENERATE_MASTER,GENERATE_CREATIVE --concurrency 4 --handler ./handler.sh\n"
      "  codeq worker start --events REPORT --once --handler ./handler.sh   # one task, then exit\n"
      "  codeq worker start --events REPORT --ack complete     # no handler: complete every task\n"
      "A handler script:\n"
      "  #!/bin/sh\n"
      "  task=$(cat)                          # the task JSON; the payload is also in $CODEQ_PAYLOAD\n"
      "  echo \"working on $CODEQ_TASK_ID\" >&2    # logs go to stderr\n"
      "  echo '{\"status\":\"COMPLETED\",\"result\":{\"ok\":true}}'");
  AddListOption(start, "--events,-e", o->events, "commands to claim, comma-separated (must be allowed by the token)")
      ->required()
      ->type_name("A,B");
  start->add_option("--concurrency,-c", o->concurrency, "tasks processed in parallel (default 1)")
      ->check(CLI::Range(1, 256))
      ->type_name("N");
  start->add_option("--handler", o->handler,
                    "shell command run for each task (via /bin/sh -c); without it tasks get the --ack action")
      ->type_name("CMD");
  AsDuration(start->add_option("--lease,--lease-seconds", o->lease_seconds, "lease per claim and heartbeat extension (default 60s)")
                 ->check(PositiveInteger())
                 ->type_name("DURATION"));
  AsDuration(start->add_option("--poll,--wait-seconds", o->poll_seconds,
                               "long-poll wait per claim request (default 10s; the server caps it at 30s)")
                 ->check(NonNegativeInteger())
                 ->type_name("DURATION"));
  start->add_flag("--once", o->once, "stop after the first task was acknowledged (exit 1 if that failed)");
  start->add_option("--ack", o->ack,
                    "without --handler: complete, abandon (RI default; the task is claimable again at once), "
                    "nack or none")
      ->check(CLI::IsMember({"complete", "abandon", "nack", "none"}))
      ->type_name("ACTION");
  AsDuration(start->add_option("--nack-delay", o->nack_delay_seconds, "delay of --ack nack (default 5s)")
                 ->check(NonNegativeInteger())
                 ->type_name("DURATION"));
  AsDuration(start->add_option("--grace", o->grace_seconds,
                               "after SIGINT/SIGTERM, how long running handlers may finish before their tasks "
                               "are abandoned (default 30s)")
                 ->check(NonNegativeInteger())
                 ->type_name("DURATION"));
  AsDuration(start->add_option("--handler-timeout", o->handler_timeout_seconds,
                               "kill a handler running longer than this and fail its task (default 0 = no limit)")
                 ->check(NonNegativeInteger())
                 ->type_name("DURATION"));
  registry.Add(start, [ctx, o] {
    auto settings = ctx->Settings();
    if (!settings.ok()) return ReportError(settings.status());
    return RunWorker(*settings, *o);
  });
}

}  // namespace codeq::cli
