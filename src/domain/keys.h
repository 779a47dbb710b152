// Storage key names of SPEC.md §4.1, shared by the Redis store and the migration tool.
#pragma once

#include <string>
#include <string_view>

namespace codeq::keys {

inline constexpr std::string_view kTasks = "codeq:tasks";
inline constexpr std::string_view kTasksTtl = "codeq:tasks:ttl";
inline constexpr std::string_view kResults = "codeq:results";
inline constexpr std::string_view kCommands = "codeq:commands";  // SPEC D5: "<tenant>|<command>"

/// ASCII lower-casing used for the `<cmd>` key segment (SPEC §4.1 recommendation).
std::string LowerAscii(std::string_view s);

/// "codeq:q:<cmd>" plus ":<tenant>" when the tenant is non-empty: the `codeq:q:<cmd>{T}` prefix.
std::string QueuePrefix(std::string_view command, std::string_view tenant);
/// `codeq:q:<cmd>{T}:pending:<p>`, p clamped into 0..9.
std::string Pending(std::string_view command, std::string_view tenant, int priority);
std::string InProgress(std::string_view command, std::string_view tenant);
std::string Delayed(std::string_view command, std::string_view tenant);
std::string Dlq(std::string_view command, std::string_view tenant);
/// `codeq:lease:<taskId>`.
std::string Lease(std::string_view task_id);
/// `codeq:idempo:<key>` or `codeq:idempo:<tenant>:<key>` (SPEC D6).
std::string Idempotency(std::string_view tenant, std::string_view key);
/// Member of `codeq:commands`: "<tenant>|<command>" (SPEC D5).
std::string CommandsMember(std::string_view tenant, std::string_view command);

/// Clamps a priority into 0..9 (SPEC §4.2).
inline int ClampPriority(int p) { return p < 0 ? 0 : (p > 9 ? 9 : p); }

}  // namespace codeq::keys
