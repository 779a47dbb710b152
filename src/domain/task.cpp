#include "domain/task.h"

#include "domain/json_read.h"
#include "domain/json_text.h"

#include <boost/json/basic_parser_impl.hpp>

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

namespace {

/// The members TaskReader reads, by name: a string or an integer member of Task.
struct TaskMember {
  std::string_view name;
  std::string Task::*text = nullptr;
  int Task::*number = nullptr;
};
constexpr TaskMember kTaskMembers[] = {
    {"id", &Task::id},
    {"command", &Task::command},
    {"payload", &Task::payload},
    {"priority", nullptr, &Task::priority},
    {"webhook", &Task::webhook},
    {"status", &Task::status},
    {"workerId", &Task::worker_id},
    {"leaseUntil", &Task::lease_until},
    {"attempts", nullptr, &Task::attempts},
    {"maxAttempts", nullptr, &Task::max_attempts},
    {"error", &Task::error},
    {"resultKey", &Task::result_key},
    {"tenantId", &Task::tenant_id},
    {"createdAt", &Task::created_at},
    {"updatedAt", &Task::updated_at},
};

/// A boost::json::basic_parser handler that fills a Task straight from the text, without building
/// a json::object first (a stored task is parsed at every claim and result on Redis, and on a
/// record-cache miss of the embedded store; the DOM took ~half of the parse). The outcome is that
/// of GetString/GetInt over the parsed object: of duplicate members the last counts (as in
/// json::object); absent or null leaves the default; a string member with another type, or an
/// integer member that is not an integral number, makes the record malformed; unknown members
/// (of any shape) are skipped.
class TaskReader {
 public:
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  Task task;
  /// Whether the document is an object, and whether its known members all have usable types.
  bool TopObject() const { return top_object_; }
  bool MembersGood() const { return bad_ == 0; }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return Open(true); }
  bool on_object_end(std::size_t, json::error_code&) { return Close(); }
  bool on_array_begin(json::error_code&) { return Open(false); }
  bool on_array_end(std::size_t, json::error_code&) { return Close(); }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    if (depth_ == 1) key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    if (depth_ != 1) return true;
    key_.append(s.data(), s.size());
    field_ = FieldOf(key_);
    key_.clear();
    string_started_ = false;
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    if (depth_ == 1) AppendString(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    if (depth_ != 1) return true;
    AppendString(s);
    if (StringOf(field_) == nullptr) Bad();
    field_ = kUnknown;
    string_started_ = false;
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(int64_t v, json::string_view, json::error_code&) { return Number(json::value(v)); }
  bool on_uint64(uint64_t v, json::string_view, json::error_code&) { return Number(json::value(v)); }
  bool on_double(double v, json::string_view, json::error_code&) { return Number(json::value(v)); }
  bool on_bool(bool, json::error_code&) {
    if (depth_ == 1) Scalar(false);
    return true;
  }
  bool on_null(json::error_code&) {
    if (depth_ == 1) Scalar(true);
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  static constexpr int kUnknown = -1;

  static int FieldOf(std::string_view k) {
    for (int i = 0; i < static_cast<int>(std::size(kTaskMembers)); ++i) {
      if (kTaskMembers[i].name == k) return i;
    }
    return kUnknown;
  }
  std::string* StringOf(int f) {
    return f != kUnknown && kTaskMembers[f].text ? &(task.*kTaskMembers[f].text) : nullptr;
  }
  int* IntOf(int f) {
    return f != kUnknown && kTaskMembers[f].number ? &(task.*kTaskMembers[f].number) : nullptr;
  }

  // A member's value decides its field's fate: the last one counts, as in json::object.
  void Good(int f) { bad_ &= ~(1u << f); }
  void Bad() {
    if (field_ != kUnknown) bad_ |= 1u << field_;
  }

  bool Open(bool object) {
    if (depth_ == 0) {
      top_object_ = object;
    } else if (depth_ == 1) {
      // An object or array as a known member's value has the wrong type; its insides are skipped.
      Bad();
      field_ = kUnknown;
    }
    ++depth_;
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }

  void AppendString(json::string_view s) {
    std::string* out = StringOf(field_);
    if (out == nullptr) return;
    if (!string_started_) {
      out->clear();
      string_started_ = true;
      Good(field_);
    }
    out->append(s.data(), s.size());
  }

  /// A number member: an integer member takes it as json_read::ToInt does (GetInt's rules).
  bool Number(const json::value& v) {
    if (depth_ != 1) return true;
    int* out = IntOf(field_);
    if (out != nullptr && json_read::ToInt(v, *out)) {
      Good(field_);
    } else {
      Bad();
    }
    field_ = kUnknown;
    return true;
  }

  /// A bool (`null` false) or null (`null` true) member: null resets the field to its default.
  void Scalar(bool null) {
    if (null && field_ != kUnknown) {
      if (std::string* s = StringOf(field_)) s->clear();
      if (int* i = IntOf(field_)) *i = 0;
      Good(field_);
    } else {
      Bad();
    }
    field_ = kUnknown;
  }

  int depth_ = 0;
  bool top_object_ = false;
  int field_ = kUnknown;  // index into kTaskMembers of the member whose value comes next
  bool string_started_ = false;
  uint32_t bad_ = 0;  // bit per kTaskMembers entry whose last value had the wrong type
  std::string key_;
};

}  // namespace

Result<Task> TaskFromJsonText(std::string_view text) {
  json::basic_parser<TaskReader> p{json::parse_options()};
  json::error_code ec;
  const size_t used = p.write_some(false, text.data(), text.size(), ec);
  TaskReader& reader = p.handler();
  if (ec || used != text.size() || !reader.TopObject()) {
    return InvalidArgument("stored record is not a JSON object");
  }
  if (!reader.MembersGood() || reader.task.id.empty()) {
    return InvalidArgument("stored task record is malformed");
  }
  return std::move(reader.task);
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
