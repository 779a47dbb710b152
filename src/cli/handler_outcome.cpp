#include "cli/handler_outcome.h"

#include <algorithm>
#include <cctype>

namespace codeq::cli {
namespace json = boost::json;

namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

Ack Failure(std::string error) {
  Ack a;
  a.kind = Ack::Kind::kFail;
  a.error = std::move(error);
  return a;
}

// The last non-empty line of `text`, at most 300 bytes.
std::string LastLine(const std::string& text) {
  size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  size_t start = text.find_last_of('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  std::string line = text.substr(start, end - start + 1);
  if (line.size() > 300) line = line.substr(0, 300) + "...";
  return line;
}

}  // namespace

std::string Ack::Name() const {
  switch (kind) {
    case Kind::kComplete:
      return "COMPLETED";
    case Kind::kFail:
      return "FAILED";
    case Kind::kNack:
      return "NACK";
    case Kind::kAbandon:
      return "ABANDONED";
    case Kind::kNone:
      break;
  }
  return "NONE";
}

json::object Ack::Body() const {
  json::object b;
  if (kind == Kind::kComplete || kind == Kind::kFail) {
    b["status"] = kind == Kind::kComplete ? "COMPLETED" : "FAILED";
    if (kind == Kind::kComplete || !result.empty()) b["result"] = result;
    if (kind == Kind::kFail) b["error"] = error;
    if (!artifacts.empty()) b["artifacts"] = artifacts;
  } else if (kind == Kind::kNack) {
    if (delay_seconds > 0) b["delaySeconds"] = delay_seconds;
    b["reason"] = reason;
  }
  return b;
}

Result<Ack> ParseHandlerOutput(std::string_view text) {
  if (IsBlank(text)) return InvalidArgument("no output (print one JSON object on stdout; log to stderr)");
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return InvalidArgument("stdout is not one JSON object (" + ec.message() + "; log to stderr)");
  if (!v.is_object()) return InvalidArgument("stdout must be a JSON object, got " + json::serialize(v).substr(0, 80));
  const json::object& o = v.get_object();
  const json::value* status = o.if_contains("status");
  if (status == nullptr || !status->is_string()) return InvalidArgument("missing string member \"status\"");
  std::string s = Upper(status->get_string());

  Ack a;
  if (s == "COMPLETED" || s == "FAILED") {
    a.kind = s == "COMPLETED" ? Ack::Kind::kComplete : Ack::Kind::kFail;
    if (const auto* r = o.if_contains("result"); r != nullptr && !r->is_null()) {
      if (!r->is_object()) return InvalidArgument("\"result\" must be a JSON object");
      a.result = r->get_object();
    }
    if (const auto* arts = o.if_contains("artifacts"); arts != nullptr && !arts->is_null()) {
      if (!arts->is_array()) return InvalidArgument("\"artifacts\" must be an array");
      a.artifacts = arts->get_array();
    }
    if (const auto* e = o.if_contains("error"); e != nullptr && !e->is_null()) {
      if (!e->is_string()) return InvalidArgument("\"error\" must be a string");
      a.error = std::string(e->get_string());
    }
    if (a.kind == Ack::Kind::kFail && IsBlank(a.error)) a.error = "handler reported FAILED";
    return a;
  }
  if (s == "NACK") {
    a.kind = Ack::Kind::kNack;
    if (const auto* d = o.if_contains("delaySeconds"); d != nullptr && !d->is_null()) {
      if (!d->is_int64() && !d->is_uint64()) return InvalidArgument("\"delaySeconds\" must be an integer");
      a.delay_seconds = std::max<int64_t>(0, d->is_int64() ? d->get_int64() : static_cast<int64_t>(d->get_uint64()));
    }
    a.reason = "handler requested retry";
    if (const auto* r = o.if_contains("reason"); r != nullptr && !r->is_null()) {
      if (!r->is_string()) return InvalidArgument("\"reason\" must be a string");
      if (!IsBlank(r->get_string())) a.reason = std::string(r->get_string());
    }
    return a;
  }
  if (s == "ABANDON" || s == "ABANDONED") {
    a.kind = Ack::Kind::kAbandon;
    return a;
  }
  return InvalidArgument("unknown status \"" + std::string(status->get_string()) +
                         "\" (use COMPLETED, FAILED, NACK or ABANDON)");
}

std::optional<std::string> HandlerSetupError(const HandlerRun& run) {
  if (run.end != HandlerRun::End::kExited || (run.exit_code != 126 && run.exit_code != 127)) return std::nullopt;
  // Only when the shell that runs --handler says so itself ("/bin/sh: 1: ./h.sh: not found"): a
  // handler script whose own command is missing for some tasks ("./h.sh: 3: tool: not found")
  // fails just those tasks, as any other exit code.
  std::string last = LastLine(run.stderr_tail);
  if (last.rfind("/bin/sh: ", 0) != 0 && last.rfind("sh: ", 0) != 0) return std::nullopt;
  return "handler could not run (exit " + std::to_string(run.exit_code) + ": command " +
         (run.exit_code == 127 ? "not found" : "not executable") + ")" + (last.empty() ? "" : ": " + last);
}

Ack AckForRun(const HandlerRun& run, int64_t timeout_seconds) {
  std::string last = LastLine(run.stderr_tail);
  std::string suffix = last.empty() ? "" : ": " + last;
  switch (run.end) {
    case HandlerRun::End::kSpawnFailed:
      return Failure("handler could not be started: " + run.error);
    case HandlerRun::End::kTimedOut:
      return Failure("handler timed out after " + std::to_string(timeout_seconds) + "s");
    case HandlerRun::End::kKilled:
      return Failure("handler was stopped");
    case HandlerRun::End::kSignaled:
      return Failure("handler killed by signal " + std::to_string(run.signal) + " (" + SignalName(run.signal) + ")" +
                     suffix);
    case HandlerRun::End::kExited:
      break;
  }
  if (run.exit_code != 0) return Failure("handler exited with code " + std::to_string(run.exit_code) + suffix);
  if (run.stdout_truncated) return Failure("handler output invalid: more than 16 MiB on stdout");
  auto parsed = ParseHandlerOutput(run.stdout_text);
  if (!parsed.ok()) return Failure("handler output invalid: " + parsed.status().message());
  return *parsed;
}

}  // namespace codeq::cli
