// Key mapping of SPEC.md §11.2 (legacy scheduler keyspace → codeQ keyspace, §4.1), command and
// tenant validation (D1, D15), and the rewrite applied to each migrated task record (§11.3.5).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace codeq::migrate {

/// ASCII lower-casing (the `<cmd>` key segment, SPEC §4.1).
std::string Lower(std::string_view s);
/// D15: `[A-Za-z0-9._-]{1,128}`.
bool ValidCommand(std::string_view command);
/// D1: `[A-Za-z0-9._-]{1,64}`.
bool ValidTenant(std::string_view tenant);
/// Why a legacy command needs `--rename-command` ("" when it is valid as is).
std::string CommandProblem(std::string_view command);
/// Escapes the glob metacharacters of SCAN MATCH (`*?[]\`).
std::string GlobEscape(std::string_view s);

/// What a key of the source keyspace is.
enum class SourceKind { kTasks, kTtl, kLease, kPending, kInprog, kUnknown };
const char* KindName(SourceKind kind);

struct SourceKey {
  std::string key;
  SourceKind kind = SourceKind::kUnknown;
  std::string command;   // kPending/kInprog: the legacy command segment, exactly as in the key
  std::string lease_id;  // kLease: the task ID
};

/// Prefixes, tenant and renames: everything that decides where a legacy key lands.
struct Layout {
  std::string from = "legacy";  // --from-prefix
  std::string to = "codeq";     // --to-prefix
  std::string tenant;           // --tenant ("" = unscoped keys)
  /// --rename-command OLD=NEW; OLD is the legacy command as it appears in the key (matched
  /// ASCII-case-insensitively, also against task records).
  std::map<std::string, std::string> renames;

  // Source keyspace.
  std::string SrcTasks() const { return from + ":tasks"; }
  std::string SrcTtl() const { return from + ":tasks:ttl"; }
  std::string SrcLease(std::string_view id) const { return from + ":lease:" + std::string(id); }
  std::string SrcPending(std::string_view cmd) const { return from + ":q:" + std::string(cmd) + ":pending"; }
  std::string SrcInprog(std::string_view cmd) const { return from + ":q:" + std::string(cmd) + ":inprog"; }
  /// SCAN MATCH patterns.
  std::string SrcPattern() const { return GlobEscape(from) + ":*"; }
  std::string SrcLeasePattern() const { return GlobEscape(from) + ":lease:*"; }

  // Destination keyspace (SPEC §4.1; identical to domain/keys.h for the default prefix).
  std::string DstTasks() const { return to + ":tasks"; }
  std::string DstTtl() const { return to + ":tasks:ttl"; }
  std::string DstResults() const { return to + ":results"; }
  std::string DstCommands() const { return to + ":commands"; }
  std::string DstLease(std::string_view id) const { return to + ":lease:" + std::string(id); }
  /// The command a legacy command becomes (rename applied, case preserved).
  std::string DstCommand(std::string_view legacy_command) const;
  /// `<to>:q:<lower(cmd)>[:<tenant>]` for a destination command.
  std::string DstQueuePrefix(std::string_view dst_command) const;
  std::string DstPending(std::string_view dst_command, int priority) const;
  std::string DstInprog(std::string_view dst_command) const;
  std::string DstDelayed(std::string_view dst_command) const;
  std::string DstDlq(std::string_view dst_command) const;
  /// Member of `<to>:commands` (SPEC D5): "<tenant>|<command>".
  std::string CommandsMember(std::string_view dst_command) const { return tenant + "|" + std::string(dst_command); }

  // The tool's own keys (all under the destination prefix).
  std::string StateKey() const { return to + ":migrate:state"; }
  std::string TmpKey(std::string_view dst_key) const { return to + ":migrate:tmp:" + std::string(dst_key); }
  std::string BackupKey(std::string_view src_key) const { return to + ":migrate:backup:" + std::string(src_key); }
  std::string BackupPattern() const { return GlobEscape(to) + ":migrate:backup:*"; }

  /// Classifies a key found by scanning the source prefix.
  SourceKey Classify(std::string_view key) const;
  /// The rename target of a legacy command (case-insensitive match), if any.
  std::optional<std::string> RenameOf(std::string_view legacy_command) const;
};

/// Which legacy commands a run covers (`--commands a,b`; empty = all). Case-insensitive.
struct Selection {
  std::set<std::string> commands;  // lower-cased
  bool all() const { return commands.empty(); }
  bool Includes(std::string_view command) const { return all() || commands.count(Lower(command)) > 0; }
};

/// A legacy task record after the migration rewrite.
struct TaskRewrite {
  bool parsed = false;          // a JSON object with a string `command`
  std::string text;             // what is written to the destination (the source text if unchanged)
  std::string command;          // the record's command before renaming ("" when not parsed)
  std::string dst_command;      // after renaming
  std::string status;
  bool changed = false;         // text differs from the source
  bool tenant_changed = false;  // tenantId set/removed to match the destination queues
  bool renamed = false;
  bool id_added = false;        // the record had no `id`; the hash field was written into it
  bool id_mismatch = false;     // `id` present but different from the hash field (set to it)
};

/// Rewrites one legacy task record for the destination: the `tenantId` becomes the destination
/// tenant (removed for unscoped queues, because claims only serve tasks of the worker's tenant),
/// a renamed command is replaced, and a missing `id` is filled from the hash field. Every other
/// member is kept as is (unknown members included, in their order). Deterministic, so the
/// verification can recompute it. O(record size).
TaskRewrite RewriteTask(const Layout& layout, std::string_view id, std::string_view text);

}  // namespace codeq::migrate
