#include "cli/worker.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "cli/api_client.h"
#include "cli/cli_status.h"
#include "cli/handler_outcome.h"
#include "cli/handler_process.h"
#include "cli/output.h"
#include "domain/time_format.h"

namespace codeq::cli {
namespace json = boost::json;

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxPayloadEnv = 64 * 1024;

struct Shared {
  const ClientSettings& settings;
  const WorkerOptions& opt;
  std::atomic<bool> stop{false};  // no new claims; waiting claims are cancelled
  std::atomic<bool> kill{false};  // kill running handlers and abandon their tasks
  std::atomic<int> running{0};    // handlers running now
  std::atomic<int> slots_left{0};
  std::atomic<int> acked{0};
  std::atomic<bool> failed{false};
  std::mutex out_mu;

  Shared(const ClientSettings& s, const WorkerOptions& o) : settings(s), opt(o) {}
  bool json() const { return settings.output == OutputMode::kJson; }

  // One event on stdout: a JSON line, or `text` on a terminal.
  void Event(const json::object& ev, const std::string& text) {
    std::lock_guard lock(out_mu);
    if (json()) {
      std::cout << json::serialize(ev) << std::endl;
    } else {
      std::cout << text << std::endl;
    }
  }
  void Note(const std::string& level, const std::string& text) {
    std::lock_guard lock(out_mu);
    std::cerr << "[" << level << "] " << text << std::endl;
  }
};

std::string Seconds(std::chrono::milliseconds d) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << static_cast<double>(d.count()) / 1000.0 << "s";
  return s.str();
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Sleeps up to `d`, waking early when the worker stops.
void Nap(const Shared& sh, std::chrono::milliseconds d) {
  auto until = Clock::now() + d;
  while (!sh.stop && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

// Posts `ack` for task `id`, retrying transport failures and 5xx answers for about 5 s.
Result<ApiResult> PostAck(ApiClient& api, const std::string& id, const Ack& ack) {
  std::string path;
  switch (ack.kind) {
    case Ack::Kind::kComplete:
    case Ack::Kind::kFail:
      path = TaskPath(id, "result");
      break;
    case Ack::Kind::kNack:
      path = TaskPath(id, "nack");
      break;
    case Ack::Kind::kAbandon:
      path = TaskPath(id, "abandon");
      break;
    case Ack::Kind::kNone:
      return ApiResult{};
  }
  std::string body = json::serialize(ack.Body());
  Result<ApiResult> r = RunError("not sent");
  for (int attempt = 0; attempt < 6; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::seconds(1));
    r = api.Call("POST", path, TokenRole::kWorker, body);
    if (!r.ok()) continue;
    if (r->status >= 500) continue;
    if (r->status >= 300) return RunError(ServerError(*r));
    return r;
  }
  if (r.ok()) return RunError(ServerError(*r));
  return r;
}

Ack FixedAck(const WorkerOptions& opt) {
  Ack a;
  if (opt.ack == "complete") {
    a.kind = Ack::Kind::kComplete;
    a.result = json::object{{"handledBy", "codeq"}, {"ts", FormatUtcSeconds(NowSeconds())}};
  } else if (opt.ack == "nack") {
    a.kind = Ack::Kind::kNack;
    a.delay_seconds = opt.nack_delay_seconds;
    a.reason = "codeq";
  } else if (opt.ack == "abandon") {
    a.kind = Ack::Kind::kAbandon;
  }
  return a;
}

// Runs the handler for one claimed task, heartbeating while it runs. nullopt = killed for shutdown,
// or the handler command could not be run at all (then `setup_error` says why).
std::optional<Ack> RunTaskHandler(Shared& sh, ApiClient& api, const std::string& id, const ApiResult& claim,
                                  std::string* setup_error) {
  const WorkerOptions& opt = sh.opt;
  HandlerSpec spec;
  spec.command = opt.handler;
  spec.stdin_data = claim.body + "\n";
  spec.timeout = std::chrono::seconds(opt.handler_timeout_seconds);
  spec.env = {{"CODEQ_TASK_ID", id},
              {"CODEQ_COMMAND", Member(claim.json, "command")},
              {"CODEQ_ATTEMPTS", Member(claim.json, "attempts")}};
  std::string payload = Member(claim.json, "payload");
  if (payload.size() <= kMaxPayloadEnv) spec.env.emplace_back("CODEQ_PAYLOAD", payload);

  bool lease_lost = false;
  HandlerHooks hooks;
  hooks.tick = std::chrono::milliseconds(std::max<int64_t>(1000, opt.lease_seconds * 1000 / 3));
  hooks.should_kill = [&sh] { return sh.kill.load(); };
  std::string hb_body = json::serialize(json::object{{"extendSeconds", opt.lease_seconds}});
  hooks.on_tick = [&] {
    if (lease_lost) return;
    auto r = api.Call("POST", TaskPath(id, "heartbeat"), TokenRole::kWorker, hb_body, 10000);
    if (!r.ok()) {
      sh.Note("WARN", "heartbeat for task " + id + " failed: " + r.status().message());
    } else if (r->status == 403 || r->status == 404 || r->status == 409) {
      lease_lost = true;
      sh.Note("WARN", "task " + id + ": lease lost (" + ServerError(*r) + "); its result will be refused");
    } else if (r->status >= 300) {
      sh.Note("WARN", "heartbeat for task " + id + " failed: " + ServerError(*r));
    }
  };
  sh.running++;
  HandlerRun run = RunHandler(spec, hooks);
  sh.running--;
  if (run.end == HandlerRun::End::kKilled) return std::nullopt;
  if (auto why = HandlerSetupError(run)) {
    *setup_error = *why;
    return std::nullopt;
  }
  return AckForRun(run, opt.handler_timeout_seconds);
}

int64_t Attempts(const json::value& task) {
  const json::value* a = task.is_object() ? task.get_object().if_contains("attempts") : nullptr;
  return a != nullptr && a->is_int64() ? a->get_int64() : 0;
}

// Handles one claimed task. False when its acknowledgement failed.
bool Process(Shared& sh, ApiClient& api, const ApiResult& claim) {
  std::string id = Member(claim.json, "id");
  std::string command = Member(claim.json, "command");
  auto start = Clock::now();
  sh.Event(json::object{{"event", "claimed"}, {"taskId", id}, {"command", command},
                        {"attempts", Attempts(claim.json)}},
           "[OK] Task claimed: " + id + " (" + command + ")");

  std::optional<Ack> ack;
  std::string why;
  if (sh.stop) {
    why = "worker stopping";  // claimed while the stop arrived: hand it back right away
  } else if (sh.opt.handler.empty()) {
    ack = FixedAck(sh.opt);
  } else {
    std::string setup_error;
    ack = RunTaskHandler(sh, api, id, claim, &setup_error);
    if (!setup_error.empty()) {
      // Hand the task back and stop: the next task would fail the same way.
      why = setup_error;
      sh.Note("ERROR", setup_error + "; stopping the worker (check --handler)");
      sh.failed = true;
      sh.stop = true;
    } else if (!ack) {
      why = "worker stopped before the handler finished";
    }
  }
  if (!ack) {
    ack = Ack{};
    ack->kind = Ack::Kind::kAbandon;
  }

  auto posted = PostAck(api, id, *ack);
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  if (!posted.ok()) {
    sh.Note("ERROR", "task " + id + ": could not post " + ack->Name() + ": " + posted.status().message());
    sh.Event(json::object{{"event", "ackFailed"}, {"taskId", id}, {"command", command}, {"outcome", ack->Name()},
                          {"error", posted.status().message()}},
             "[ERROR] Task " + id + " " + ack->Name() + " not acknowledged: " + posted.status().message());
    return false;
  }
  json::object ev{{"event", "done"}, {"taskId", id}, {"command", command}, {"outcome", ack->Name()},
                  {"durationMs", static_cast<int64_t>(elapsed.count())}};
  std::string text;
  switch (ack->kind) {
    case Ack::Kind::kComplete:
      text = "[OK] Task " + id + " COMPLETED (" + Seconds(elapsed) + ")";
      break;
    case Ack::Kind::kFail:
      ev["error"] = ack->error;
      text = "[FAILED] Task " + id + ": " + ack->error + " (" + Seconds(elapsed) + ")";
      break;
    case Ack::Kind::kNack: {
      std::string status = Member(posted->json, "status");
      ev["reason"] = ack->reason;
      ev["nack"] = posted->json;
      text = status == "dlq" ? "[NACK] Task " + id + " dead-lettered (attempts exhausted): " + ack->reason
                             : "[NACK] Task " + id + " requeued, visible in " + Member(posted->json, "delaySeconds") +
                                   "s: " + ack->reason;
      break;
    }
    case Ack::Kind::kAbandon:
      if (!why.empty()) ev["reason"] = why;
      text = "[ABANDONED] Task " + id + " requeued" + (why.empty() ? "" : ": " + why);
      break;
    case Ack::Kind::kNone:
      text = "[OK] Task " + id + " left in progress (--ack none)";
      break;
  }
  sh.Event(ev, text);
  sh.acked++;
  return true;
}

void Slot(Shared& sh) {
  ApiClient api(sh.settings);
  json::array events;
  for (const auto& e : sh.opt.events) events.emplace_back(e);
  std::string body = json::serialize(json::object{
      {"commands", events}, {"leaseSeconds", sh.opt.lease_seconds}, {"waitSeconds", sh.opt.poll_seconds}});
  int64_t timeout_ms = (std::min<int64_t>(sh.opt.poll_seconds, 30) + 15) * 1000;
  Clock::time_point last_warning{};
  auto warn = [&](const std::string& text) {
    if (Clock::now() - last_warning < std::chrono::seconds(3)) return;
    last_warning = Clock::now();
    sh.Note("WARN", text + " (retrying)");
  };

  // Transient failures (no answer, 5xx) are retried every second; with --once the worker gives up
  // after kOnceRetries of them in a row, so a script waiting on it does not hang on a dead server.
  constexpr int kOnceRetries = 10;
  int failures = 0;
  auto transient = [&](const std::string& text) {
    if (sh.opt.once && ++failures >= kOnceRetries) {
      sh.Note("ERROR", text + " (giving up after " + std::to_string(kOnceRetries) + " attempts)");
      sh.failed = true;
      sh.stop = true;
      return;
    }
    warn(text);
    Nap(sh, std::chrono::seconds(1));
  };
  while (!sh.stop) {
    auto r = api.Call("POST", "/v1/codeq/tasks/claim", TokenRole::kWorker, body, timeout_ms, &sh.stop);
    if (sh.stop && (!r.ok() || r->status != 200)) break;
    if (!r.ok()) {
      transient("claim failed: " + r.status().message());
      continue;
    }
    if (r->status >= 500 || r->status == 429 || (r->status == 200 && !r->json.is_object())) {
      transient("claim failed: " + ServerError(*r));
      continue;
    }
    failures = 0;
    if (r->status == 204) continue;
    if (r->status == 200) {
      bool ok = Process(sh, api, *r);
      if (sh.opt.once) {
        if (!ok) sh.failed = true;
        sh.stop = true;
      }
      continue;
    }
    // 400/401/403/404...: the worker's configuration is wrong; retrying will not help.
    sh.Note("ERROR", "claim refused: " + ServerError(*r));
    sh.failed = true;
    sh.stop = true;
  }
  sh.slots_left--;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

int RunWorker(const ClientSettings& settings, const WorkerOptions& options) {
  WorkerOptions opt = options;
  if (opt.events.empty()) return ReportError(UsageError("--events is required (comma-separated commands)"));
  if (opt.ack != "complete" && opt.ack != "abandon" && opt.ack != "nack" && opt.ack != "none") {
    return ReportError(UsageError("--ack must be complete, abandon, nack or none"));
  }
  {
    ApiClient probe(settings);
    if (auto t = probe.TokenFor(TokenRole::kWorker); !t.ok()) return ReportError(t.status());
  }
  Shared sh(settings, opt);
  if (opt.once && opt.concurrency > 1) {
    sh.Note("WARN", "--once processes a single task: using one claim loop");
    opt.concurrency = 1;
  }
  if (opt.handler.empty() && opt.ack == "abandon" && !opt.once) {
    sh.Note("WARN", "no --handler: every claimed task is abandoned (--ack abandon, the RI default), so it is "
                    "claimed again at once; use --handler or --ack complete|nack");
  }

  // Signals are taken synchronously by this thread; handlers get the default dispositions back.
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // kept blocked until exit: a late signal must not kill us

  sh.Note("OK", "Worker started: events " + Join(opt.events) + ", concurrency " + std::to_string(opt.concurrency) +
                    ", lease " + std::to_string(opt.lease_seconds) + "s, poll " + std::to_string(opt.poll_seconds) +
                    "s, " + (opt.handler.empty() ? "--ack " + opt.ack : "handler " + opt.handler) +
                    (opt.once ? ", once" : "") + " → " + settings.base_url.value);
  sh.slots_left = opt.concurrency;
  std::vector<std::thread> threads;
  for (int i = 0; i < opt.concurrency; ++i) threads.emplace_back([&sh] { Slot(sh); });

  Clock::time_point grace_end = Clock::time_point::max();
  timespec tick{0, 200 * 1000 * 1000};
  while (sh.slots_left > 0) {
    int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      if (!sh.stop) {
        sh.stop = true;
        grace_end = Clock::now() + std::chrono::seconds(opt.grace_seconds);
        int n = sh.running;
        sh.Note("INFO", std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                            ": no new claims" +
                            (n > 0 ? "; waiting up to " + std::to_string(opt.grace_seconds) + "s for " +
                                         std::to_string(n) + " running handler(s) (signal again to abandon them)"
                                   : ""));
      } else if (!sh.kill) {
        sh.kill = true;
        sh.Note("INFO", "second signal: stopping running handlers and abandoning their tasks");
      }
    }
    if (sh.stop && !sh.kill && sh.running > 0 && Clock::now() >= grace_end) {
      sh.kill = true;
      sh.Note("WARN", "grace period of " + std::to_string(opt.grace_seconds) + "s over: stopping " +
                          std::to_string(sh.running.load()) + " running handler(s) and abandoning their tasks");
    }
  }
  for (auto& t : threads) t.join();
  if (sh.failed) return kExitError;
  sh.Note("OK", "Worker stopped after " + std::to_string(sh.acked.load()) + " task(s)");
  return kExitOk;
}

}  // namespace codeq::cli
