// `codeq migrate`: moves a legacy scheduler keyspace into the codeQ keyspace and converts v1.0
// in-progress lists to sets (SPEC.md §11, D21). The CLI (cli/migrate_command.cpp) parses flags
// into these options and prints the reports; everything that touches Redis lives here.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "domain/status.h"
#include "migrate/layout.h"
#include "migrate/progress.h"
#include "migrate/client.h"

namespace codeq::migrate {

enum class Mode { kCopy, kMove };
/// How `run --mode move` keeps the legacy data restorable: `keys` renames every removed legacy
/// key (or field) under `<to>:migrate:backup:` (rollback renames it back); `external` checks
/// that the server saved a snapshot recently (LASTSAVE) and really deletes.
enum class BackupMode { kKeys, kExternal };

/// Options shared by the subcommands.
struct Options {
  Layout layout;
  Selection selection;
  int batch_size = 1000;      // items per pipelined batch (--batch-size, 1..100000)
  bool dry_run = false;       // plan + planned operations only
  bool force = false;         // see each subcommand
  bool merge = false;         // run: merge into existing destination data
  Mode mode = Mode::kCopy;
  bool i_have_a_backup = false;
  BackupMode backup = BackupMode::kKeys;
  int backup_max_age_seconds = 3600;
  int freeze_check_ms = 2000;  // interval between the two pre-run snapshots
  int throttle_ms = 0;         // pause after each written batch (eases load on a busy server)
  bool verify_after = false;   // run: also run the verify checklist at the end
  int lease_tolerance_ms = 1000;
  /// Test hook: called at named points of `run`; a non-ok Status stops the run there as if the
  /// process had been killed (nothing more is written).
  std::function<Status(const std::string& point)> hook;
};

/// The scope of a run, used to key its state record: prefixes, tenant and command selection.
std::string ScopeId(const Options& o);

// --- Discovery ---------------------------------------------------------------------------------

/// One legacy queue key and where it goes.
struct QueueSource {
  std::string key;
  SourceKind kind = SourceKind::kUnknown;  // kPending or kInprog
  std::string command;                     // legacy command (key segment)
  std::string type;                        // Redis type of the source key
  int64_t length = 0;
  std::string dst_command;                 // after --rename-command
  std::string dst_key;                     // pending:0 or inprog
};

/// What a scan of the legacy prefix found.
struct Inventory {
  std::string tasks_type = "none", ttl_type = "none";
  int64_t task_fields = 0, ttl_members = 0;
  std::vector<std::string> lease_ids;  // every legacy lease key (task IDs)
  std::vector<std::string> lease_wrong_type;
  std::vector<QueueSource> queues;     // selected queue keys, sorted by key
  int64_t unselected_queues = 0;
  std::vector<std::pair<std::string, std::string>> unknown;  // unmapped keys (key, type)
  int64_t keys_scanned = 0;
};
Result<Inventory> Discover(RedisClient& c, const Options& o);

// --- State of a run ----------------------------------------------------------------------------

/// Per queue key: written atomically with the key's final rename/merge.
struct QueueMarker {
  std::string src, dst, kind, signature;
  int64_t source_length = 0, written = 0, duplicates = 0, preexisting = 0;
};

/// The run record in `<to>:migrate:state` (field = scope id; markers in "<scope>|queue|<key>"
/// and "<scope>|backup|<key>" fields).
struct RunState {
  bool exists = false;
  std::string status;  // running | aborted | completed
  std::string phase;   // copy | verified | removing-source | completed
  std::string mode, backup, tenant, from, to;
  bool merge = false;
  std::vector<std::string> commands;
  std::map<std::string, std::string> renames;
  std::string started_at, updated_at, completed_at, abort_reason;
  std::map<std::string, std::string> cursors;
  std::set<std::string> steps_done;
  std::map<std::string, int64_t> counts;
  std::map<std::string, QueueMarker> queues;   // by source key
  std::map<std::string, std::string> backups;  // source key -> backup key
};
Result<RunState> LoadState(RedisClient& c, const Options& o);

// --- plan --------------------------------------------------------------------------------------

struct QueuePlan {
  QueueSource src;
  int64_t unique = 0, duplicates = 0;
  int64_t missing_tasks = 0, status_mismatch = 0, command_mismatch = 0, without_lease = 0;
  std::string dst_type = "none";
  int64_t dst_length = 0;
  bool done = false;      // already migrated by a previous (resumed) run
  std::string conflict;   // why the destination blocks a plain run ("" = none)
};

struct CategoryPlan {
  int64_t keys = 0, items = 0, to_write = 0, already = 0, conflicts = 0, skipped = 0;
};

struct PlanReport {
  Inventory inv;
  RunState state;  // a previous run of the same scope, if any
  CategoryPlan tasks, ttl, leases, pending, inprog;
  int64_t tasks_unparsable = 0, tasks_unselected = 0, tasks_tenant_rewritten = 0, tasks_renamed = 0,
          tasks_id_added = 0, tasks_id_mismatch = 0;
  int64_t ttl_without_task = 0, leases_without_ttl = 0, leases_orphan = 0;
  int64_t ids_pending_and_inprog = 0;
  std::vector<QueuePlan> queues;
  int64_t missing_tasks = 0;
  std::vector<std::string> missing_task_samples;  // up to 20 IDs
  std::vector<std::string> conflict_samples;      // up to 20 lines
  std::map<std::string, std::string> invalid_commands;          // legacy command -> problem
  std::map<std::string, std::vector<std::string>> collisions;   // dst key -> source keys
  std::set<std::string> command_members;                        // to add to <to>:commands
  std::vector<std::string> blocking;  // why `run` (with these options) would refuse
  std::vector<std::string> warnings;
  int64_t total_items = 0;
  double read_seconds = 0, estimate_seconds = 0;
};

/// Read-only analysis of the legacy keyspace and the destination (SCAN, never KEYS).
Result<PlanReport> BuildPlan(RedisClient& c, const Options& o, Progress* progress);
std::string PlanText(const PlanReport& p, const Options& o);
boost::json::object PlanJson(const PlanReport& p, const Options& o);

// --- run ---------------------------------------------------------------------------------------

struct RunReport {
  bool already_completed = false, dry_run = false, resumed = false;
  PlanReport plan;
  RunState state;
  std::vector<std::string> operations;  // dry run: what would be done
  std::vector<std::string> warnings;
  double seconds = 0;
};

/// `codeq migrate run`. Errors: InvalidArgument (bad options), Conflict (destination conflicts,
/// activity in the legacy keyspace, a previous run with other options), Unavailable (Redis).
/// Writes progress to `progress` and notes to `log`.
Result<RunReport> RunMigration(RedisClient& c, const Options& o, Progress& progress, std::ostream& log);
std::string RunText(const RunReport& r, const Options& o);
boost::json::object RunJson(const RunReport& r, const Options& o);

// --- verify ------------------------------------------------------------------------------------

struct VerifyOptions {
  std::string server;  // http://host:port of a running codeq serve ("" = skip the API checks)
  std::string admin_token, producer_token, worker_token;
  bool canary = false;
  std::string canary_command = "codeq-migrate-canary";
  bool strict_leases = false;  // in-progress IDs without a lease fail the check (default: warn)
  int http_timeout_ms = 30000;
};

struct Check {
  std::string name;
  bool ok = true;
  bool warning = false;
  std::string detail;
};

struct VerifyReport {
  std::vector<Check> checks;
  bool ok() const {
    for (const auto& c : checks) {
      if (!c.ok) return false;
    }
    return true;
  }
};

Result<VerifyReport> Verify(RedisClient& c, const Options& o, const VerifyOptions& v, Progress* progress);
std::string VerifyText(const VerifyReport& r);
boost::json::object VerifyJson(const VerifyReport& r);

// --- rollback ----------------------------------------------------------------------------------

struct RollbackOptions {
  bool keep_destination = false;  // do not remove migrated IDs from the codeQ keyspace
};
struct RollbackReport {
  int64_t restored_keys = 0, restored_fields = 0;
  int64_t removed_tasks = 0, removed_queue_entries = 0, removed_leases = 0, removed_results = 0;
  int64_t legacy_tasks = 0, legacy_queue_items = 0;
  std::vector<std::string> warnings;
  std::vector<std::string> operations;  // dry run
};
Result<RollbackReport> Rollback(RedisClient& c, const Options& o, const RollbackOptions& r, Progress* progress);
std::string RollbackText(const RollbackReport& r, const Options& o);
boost::json::object RollbackJson(const RollbackReport& r);

// --- inprog-to-set -----------------------------------------------------------------------------

struct InprogConversion {
  std::string key;
  int64_t list_length = 0, set_size = 0, duplicates = 0;
  std::string result;  // converted | would-convert | already-set | changed (retry) | skipped
};
struct InprogReport {
  std::vector<InprogConversion> keys;
  int64_t converted = 0, already_sets = 0, duplicates = 0;
};
/// Converts every list-typed `<to>:q:*:inprog` key (all tenants) into a set with the same IDs:
/// IDs are gathered in a temporary set, then one atomic script renames it over the list after
/// checking the list did not change (no reader ever sees a missing key).
Result<InprogReport> ConvertInprog(RedisClient& c, const Options& o, Progress* progress);
std::string InprogText(const InprogReport& r, const Options& o);
boost::json::object InprogJson(const InprogReport& r);

// --- drain-status ------------------------------------------------------------------------------

struct DrainRow {
  std::string command;
  int64_t pending = 0, inprog = 0;
};
struct DrainReport {
  std::vector<DrainRow> legacy;            // per legacy command
  int64_t legacy_leases = 0;
  std::vector<std::pair<std::string, int64_t>> v1_inprog_lists;  // <to>:q:*:inprog lists (v1.0)
  bool drained() const;
};
Result<DrainReport> DrainStatus(RedisClient& c, const Options& o);
std::string DrainText(const DrainReport& r, const Options& o);
boost::json::object DrainJson(const DrainReport& r);

/// The operator sequence and rollback steps (help text and runbook summary).
const char* kOperatorSequence();

}  // namespace codeq::migrate
