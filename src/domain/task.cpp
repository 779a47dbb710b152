#include "domain/task.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace codeq {
namespace json = boost::json;

namespace {

void PutString(json::object& o, std::string_view k, const std::string& v) {
  if (!v.empty()) o[k] = v;
}
void PutInt(json::object& o, std::string_view k, int64_t v) {
  if (v != 0) o[k] = v;
}

// Reads an optional string member: absent or null -> "", other non-string -> false.
bool GetString(const json::object& o, std::string_view k, std::string& out) {
  auto it = o.find(k);
  if (it == o.end() || it->value().is_null()) return true;
  if (!it->value().is_string()) return false;
  out = std::string(it->value().get_string());
  return true;
}

// Reads an optional integer member. Accepts doubles with an integral value, as other
// implementations (and Lua's cjson) may write them. Values beyond int's range saturate (a
// double beyond int64 used to be converted with undefined behaviour, found by fuzzing).
bool GetInt(const json::object& o, std::string_view k, int& out) {
  auto it = o.find(k);
  if (it == o.end() || it->value().is_null()) return true;
  const json::value& v = it->value();
  constexpr int kMin = std::numeric_limits<int>::min();
  constexpr int kMax = std::numeric_limits<int>::max();
  if (v.is_int64()) {
    out = static_cast<int>(std::clamp<int64_t>(v.get_int64(), kMin, kMax));
    return true;
  }
  if (v.is_uint64()) {
    out = v.get_uint64() > static_cast<uint64_t>(kMax) ? kMax : static_cast<int>(v.get_uint64());
    return true;
  }
  if (v.is_double() && std::isfinite(v.get_double()) && v.get_double() == std::trunc(v.get_double())) {
    out = static_cast<int>(std::clamp<double>(v.get_double(), kMin, kMax));
    return true;
  }
  return false;
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
        out += json::serialize(json::string_view(kv->key()));
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
  PutString(o, "webhook", t.webhook);
  o["status"] = t.status;
  PutString(o, "workerId", t.worker_id);
  PutString(o, "leaseUntil", t.lease_until);
  PutInt(o, "attempts", t.attempts);
  PutInt(o, "maxAttempts", t.max_attempts);
  PutString(o, "error", t.error);
  PutString(o, "resultKey", t.result_key);
  PutString(o, "tenantId", t.tenant_id);
  o["createdAt"] = t.created_at;
  o["updatedAt"] = t.updated_at;
  return o;
}

std::string TaskToJsonText(const Task& t) { return json::serialize(TaskToJson(t)); }

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
  PutString(o, "error", r.error);
  if (!r.artifacts.empty()) {
    json::array arr;
    for (const auto& a : r.artifacts) arr.push_back(json::object{{"name", a.name}, {"url", a.url}});
    o["artifacts"] = std::move(arr);
  }
  o["completedAt"] = r.completed_at;
  return o;
}

std::string TaskResultToJsonText(const TaskResult& r) { return json::serialize(TaskResultToJson(r)); }

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
