#include "migrate/layout.h"

#include <boost/json.hpp>

#include "domain/keys.h"

namespace codeq::migrate {
namespace {

bool ValidLabel(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.size() >= p.size() && s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

}  // namespace

std::string Lower(std::string_view s) { return keys::LowerAscii(s); }

bool ValidCommand(std::string_view command) { return ValidLabel(command, 128); }
bool ValidTenant(std::string_view tenant) { return ValidLabel(tenant, 64); }

std::string CommandProblem(std::string_view command) {
  if (command.empty()) return "empty command";
  if (command.size() > 128) return "longer than 128 characters";
  for (unsigned char c : command) {
    if (c >= 0x80) return "contains non-ASCII characters";
    if (c == ':') return "contains ':'";
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return std::string("contains '") + static_cast<char>(c) + "'";
  }
  return "";
}

std::string GlobEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

const char* KindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kTasks: return "tasks";
    case SourceKind::kTtl: return "tasks:ttl";
    case SourceKind::kLease: return "lease";
    case SourceKind::kPending: return "pending";
    case SourceKind::kInprog: return "inprog";
    case SourceKind::kUnknown: break;
  }
  return "unknown";
}

std::optional<std::string> Layout::RenameOf(std::string_view legacy_command) const {
  std::string l = Lower(legacy_command);
  for (const auto& [old_name, new_name] : renames) {
    if (Lower(old_name) == l) return new_name;
  }
  return std::nullopt;
}

std::string Layout::DstCommand(std::string_view legacy_command) const {
  if (auto r = RenameOf(legacy_command)) return *r;
  return std::string(legacy_command);
}

std::string Layout::DstQueuePrefix(std::string_view dst_command) const {
  std::string k = to + ":q:" + Lower(dst_command);
  if (!tenant.empty()) k += ":" + tenant;
  return k;
}
std::string Layout::DstPending(std::string_view c, int priority) const {
  return DstQueuePrefix(c) + ":pending:" + std::to_string(keys::ClampPriority(priority));
}
std::string Layout::DstInprog(std::string_view c) const { return DstQueuePrefix(c) + ":inprog"; }
std::string Layout::DstDelayed(std::string_view c) const { return DstQueuePrefix(c) + ":delayed"; }
std::string Layout::DstDlq(std::string_view c) const { return DstQueuePrefix(c) + ":dlq"; }

SourceKey Layout::Classify(std::string_view key) const {
  SourceKey out;
  out.key = std::string(key);
  std::string head = from + ":";
  if (!StartsWith(key, head)) return out;
  std::string_view rest = key.substr(head.size());
  if (rest == "tasks") {
    out.kind = SourceKind::kTasks;
  } else if (rest == "tasks:ttl") {
    out.kind = SourceKind::kTtl;
  } else if (StartsWith(rest, "lease:") && rest.size() > 6) {
    out.kind = SourceKind::kLease;
    out.lease_id = std::string(rest.substr(6));
  } else if (StartsWith(rest, "q:")) {
    std::string_view q = rest.substr(2);
    if (EndsWith(q, ":pending") && q.size() > 8) {
      out.kind = SourceKind::kPending;
      out.command = std::string(q.substr(0, q.size() - 8));
    } else if (EndsWith(q, ":inprog") && q.size() > 7) {
      out.kind = SourceKind::kInprog;
      out.command = std::string(q.substr(0, q.size() - 7));
    }
  }
  return out;
}

TaskRewrite RewriteTask(const Layout& layout, std::string_view id, std::string_view text) {
  TaskRewrite out;
  out.text = std::string(text);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return out;
  boost::json::object& o = v.as_object();
  auto* cmd = o.if_contains("command");
  if (cmd == nullptr || !cmd->is_string()) return out;
  out.parsed = true;
  out.command = std::string(cmd->as_string());
  out.dst_command = out.command;
  if (auto* st = o.if_contains("status"); st != nullptr && st->is_string()) out.status = std::string(st->as_string());

  if (auto r = layout.RenameOf(out.command)) {
    if (*r != out.command) {
      o["command"] = *r;
      out.renamed = true;
    }
    out.dst_command = *r;
  }
  std::string current_tenant;
  bool has_tenant = false;
  if (auto* t = o.if_contains("tenantId")) {
    has_tenant = true;
    if (t->is_string()) current_tenant = std::string(t->as_string());
  }
  if (layout.tenant.empty()) {
    if (has_tenant) {  // unscoped queues serve only tasks without a tenant; "" is omit-empty
      o.erase("tenantId");
      out.tenant_changed = true;
    }
  } else if (!has_tenant || !o.at("tenantId").is_string() || current_tenant != layout.tenant) {
    o["tenantId"] = layout.tenant;
    out.tenant_changed = true;
  }
  // The hash field is the task's identity: the queues, leases and results name it. A record whose
  // own `id` says otherwise would be handed to workers under an id no endpoint knows.
  if (auto* i = o.if_contains("id")) {
    if (!i->is_string() || i->as_string() != id) {
      o["id"] = std::string(id);
      out.id_mismatch = true;
    }
  } else {
    o["id"] = std::string(id);
    out.id_added = true;
  }
  out.changed = out.renamed || out.tenant_changed || out.id_added || out.id_mismatch;
  if (out.changed) out.text = boost::json::serialize(v);
  return out;
}

}  // namespace codeq::migrate
