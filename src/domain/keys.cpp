#include "domain/keys.h"

namespace codeq::keys {

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string QueuePrefix(std::string_view command, std::string_view tenant) {
  std::string k = "codeq:q:" + LowerAscii(command);
  if (!tenant.empty()) {
    k += ':';
    k += tenant;
  }
  return k;
}

std::string Pending(std::string_view command, std::string_view tenant, int priority) {
  return QueuePrefix(command, tenant) + ":pending:" + std::to_string(ClampPriority(priority));
}
std::string InProgress(std::string_view command, std::string_view tenant) {
  return QueuePrefix(command, tenant) + ":inprog";
}
std::string Delayed(std::string_view command, std::string_view tenant) {
  return QueuePrefix(command, tenant) + ":delayed";
}
std::string Dlq(std::string_view command, std::string_view tenant) {
  return QueuePrefix(command, tenant) + ":dlq";
}
std::string Lease(std::string_view task_id) { return "codeq:lease:" + std::string(task_id); }

std::string Idempotency(std::string_view tenant, std::string_view key) {
  std::string k = "codeq:idempo:";
  if (!tenant.empty()) {
    k += tenant;
    k += ':';
  }
  k += key;
  return k;
}

std::string CommandsMember(std::string_view tenant, std::string_view command) {
  std::string m(tenant);
  m += '|';
  m += command;
  return m;
}

}  // namespace codeq::keys
