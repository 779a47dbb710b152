#include "domain/task.h"

#include "domain/json_read.h"
#include "domain/json_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace codeq {
namespace json = boost::json;
using json_read::GetInt;
using json_read::GetString;
using json_read::PutNonEmpty;

namespace {

void PutInt(json::object& o, std::string_view k, int64_t v) {
  if (v != 0) o[k] = v;
}

Result<json::object> ParseObject(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return InvalidArgument("stored record is not a JSON object");
  return std::move(v.as_object());
}

void WriteCanonical(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::object: {
      const auto& o = v.get_object();
      std::vector<const json::key_value_pair*> members;
      members.reserve(o.size());
      for (const auto& kv : o) members.push_back(&kv);
      std::sort(members.begin(), members.end(),
                [](auto* a, auto* b) { return a->key() < b->key(); });
      out += '{';
      bool first = true;
      for (auto* kv : members) {
        if (!first) out += ',';
        first = false;
        AppendJsonString(out, kv->key());
        out += ':';
        WriteCanonical(kv->value(), out);
      }
      out += '}';
      break;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        WriteCanonical(e, out);
      }
      out += ']';
      break;
    }
    default:
      out += json::serialize(v);
  }
}

}  // namespace

json::object TaskToJson(const Task& t) {
  json::object o;
  o["id"] = t.id;
  o["command"] = t.command;
  o["payload"] = t.payload;
  PutInt(o, "priority", t.priority);
  PutNonEmpty(o, "webhook", t.webhook);
  o["status"] = t.status;
  PutNonEmpty(o, "workerId", t.worker_id);
  PutNonEmpty(o, "leaseUntil", t.lease_until);
  PutInt(o, "attempts", t.attempts);
  PutInt(o, "maxAttempts", t.max_attempts);
  PutNonEmpty(o, "error", t.error);
  PutNonEmpty(o, "resultKey", t.result_key);
  PutNonEmpty(o, "tenantId", t.tenant_id);
  o["createdAt"] = t.created_at;
  o["updatedAt"] = t.updated_at;
  return o;
}

namespace {

/// Appends `,"<key>":<string>`; `key` is a plain literal.
void AppendMember(std::string& out, std::string_view key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":";
  AppendJsonString(out, value);
}

void AppendNonEmpty(std::string& out, std::string_view key, std::string_view value) {
  if (!value.empty()) AppendMember(out, key, value);
}

void AppendNonZero(std::string& out, std::string_view key, int64_t value) {
  if (value == 0) return;
  out += ",\"";
  out += key;
  out += "\":";
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

}  // namespace

// The same text as json::serialize(TaskToJson(t)) (members in the same order, the same omissions;
// a unit test compares the two), written directly: a task record is encoded at every state change
// of the embedded store and of every Redis script call, and building the json::object first cost
// about 6 % of a cycle's store CPU.
std::string TaskToJsonText(const Task& t) {
  std::string out;
  out.reserve(224 + t.id.size() + t.command.size() + t.payload.size() + t.webhook.size() +
              t.worker_id.size() + t.error.size() + t.result_key.size() + t.tenant_id.size());
  out += "{\"id\":";
  AppendJsonString(out, t.id);
  AppendMember(out, "command", t.command);
  AppendMember(out, "payload", t.payload);
  AppendNonZero(out, "priority", t.priority);
  AppendNonEmpty(out, "webhook", t.webhook);
  AppendMember(out, "status", t.status);
  AppendNonEmpty(out, "workerId", t.worker_id);
  AppendNonEmpty(out, "leaseUntil", t.lease_until);
  AppendNonZero(out, "attempts", t.attempts);
  AppendNonZero(out, "maxAttempts", t.max_attempts);
  AppendNonEmpty(out, "error", t.error);
  AppendNonEmpty(out, "resultKey", t.result_key);
  AppendNonEmpty(out, "tenantId", t.tenant_id);
  AppendMember(out, "createdAt", t.created_at);
  AppendMember(out, "updatedAt", t.updated_at);
  out += '}';
  return out;
}

Result<Task> TaskFromJsonText(std::string_view text) {
  auto parsed = ParseObject(text);
  if (!parsed.ok()) return parsed.status();
  const json::object& o = *parsed;
  Task t;
  bool ok = GetString(o, "id", t.id) && GetString(o, "command", t.command) &&
            GetString(o, "payload", t.payload) && GetInt(o, "priority", t.priority) &&
            GetString(o, "webhook", t.webhook) && GetString(o, "status", t.status) &&
            GetString(o, "workerId", t.worker_id) && GetString(o, "leaseUntil", t.lease_until) &&
            GetInt(o, "attempts", t.attempts) && GetInt(o, "maxAttempts", t.max_attempts) &&
            GetString(o, "error", t.error) && GetString(o, "resultKey", t.result_key) &&
            GetString(o, "tenantId", t.tenant_id) && GetString(o, "createdAt", t.created_at) &&
            GetString(o, "updatedAt", t.updated_at);
  if (!ok || t.id.empty()) return InvalidArgument("stored task record is malformed");
  return t;
}

json::object TaskResultToJson(const TaskResult& r) {
  json::object o;
  o["taskId"] = r.task_id;
  o["status"] = r.status;
  if (r.result && !r.result->empty()) o["result"] = *r.result;
  PutNonEmpty(o, "error", r.error);
  if (!r.artifacts.empty()) {
    json::array arr;
    for (const auto& a : r.artifacts) arr.push_back(json::object{{"name", a.name}, {"url", a.url}});
    o["artifacts"] = std::move(arr);
  }
  o["completedAt"] = r.completed_at;
  return o;
}

// The same text as json::serialize(TaskResultToJson(r)), written directly like TaskToJsonText (a
// unit test compares the two): every result is encoded for the store and for the answer.
std::string TaskResultToJsonText(const TaskResult& r) {
  std::string out;
  out.reserve(96 + r.task_id.size() + r.status.size() + r.error.size() + r.completed_at.size());
  out += "{\"taskId\":";
  AppendJsonString(out, r.task_id);
  AppendMember(out, "status", r.status);
  if (r.result && !r.result->empty()) {
    out += ",\"result\":";
    out += json::serialize(*r.result);
  }
  AppendNonEmpty(out, "error", r.error);
  if (!r.artifacts.empty()) {
    out += ",\"artifacts\":[";
    for (const Artifact& a : r.artifacts) {
      if (&a != &r.artifacts.front()) out += ',';
      out += "{\"name\":";
      AppendJsonString(out, a.name);
      AppendMember(out, "url", a.url);
      out += '}';
    }
    out += ']';
  }
  AppendMember(out, "completedAt", r.completed_at);
  out += '}';
  return out;
}

Result<TaskResult> TaskResultFromJsonText(std::string_view text) {
  auto parsed = ParseObject(text);
  if (!parsed.ok()) return parsed.status();
  const json::object& o = *parsed;
  TaskResult r;
  bool ok = GetString(o, "taskId", r.task_id) && GetString(o, "status", r.status) &&
            GetString(o, "error", r.error) && GetString(o, "completedAt", r.completed_at);
  if (!ok) return InvalidArgument("stored result record is malformed");
  if (auto it = o.find("result"); it != o.end() && it->value().is_object()) {
    if (!it->value().get_object().empty()) r.result = it->value().get_object();
  }
  if (auto it = o.find("artifacts"); it != o.end() && it->value().is_array()) {
    for (const auto& e : it->value().get_array()) {
      if (!e.is_object()) continue;
      Artifact a;
      GetString(e.get_object(), "name", a.name);
      GetString(e.get_object(), "url", a.url);
      r.artifacts.push_back(std::move(a));
    }
  }
  return r;
}

json::object QueueStatsToJson(const QueueStats& s) {
  return json::object{{"command", s.command},
                      {"ready", s.ready},
                      {"delayed", s.delayed},
                      {"inProgress", s.in_progress},
                      {"dlq", s.dlq}};
}

std::string CanonicalJson(const json::value& v) {
  std::string out;
  WriteCanonical(v, out);
  return out;
}

}  // namespace codeq
