// Shared internals of the migration tool: source snapshots (freeze detection), the run state
// record, time and formatting helpers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "migrate/migrate.h"

namespace codeq::migrate {

/// A lease as seen by a snapshot: value and absolute deadline (server ms; -1 = no expiry).
struct LeaseSig {
  std::string value;
  long long deadline_ms = -1;
};

/// Cheap signatures of every (selected) legacy key: type, size and, for lists, both ends; leases
/// with their deadlines. Two snapshots that differ mean somebody wrote to the legacy keyspace
/// (leases that merely expired do not count).
struct Fingerprint {
  std::map<std::string, std::string> keys;
  std::map<std::string, LeaseSig> leases;  // by task ID
  long long at_ms = 0;
};
Result<Fingerprint> TakeFingerprint(RedisClient& c, const Options& o);
/// Human-readable differences (at most `limit`), empty when none.
std::vector<std::string> FingerprintDiff(const Fingerprint& before, const Fingerprint& after, int tolerance_ms,
                                         size_t limit = 10);
/// The signature of one key (as stored in snapshots and queue markers).
Result<std::string> KeySignature(RedisClient& c, const std::string& key);
/// Signatures of several keys, pipelined.
Result<std::vector<std::string>> KeySignatures(RedisClient& c, const std::vector<std::string>& keys);

// Run state persistence.
std::string MarkerField(const std::string& scope, const std::string& src);
std::string BackupField(const std::string& scope, const std::string& src);
std::string MarkerJson(const QueueMarker& m);
Argv SaveStateArgv(const Options& o, const RunState& s);
Status SaveState(RedisClient& c, const Options& o, const RunState& s);
/// Removes the run record and its markers.
Status DeleteState(RedisClient& c, const Options& o, const RunState& s);

/// Current UTC time as RFC 3339 (seconds).
std::string NowText();
/// "1.2 s", "3 min 5 s".
std::string FormatSeconds(double s);
/// Comma-separated list, shortened to `max` items with "… (+N more)".
std::string JoinSample(const std::vector<std::string>& items, size_t max = 10);

/// Pages of a legacy queue key (list: head to tail; set: SSCAN order).
Status QueueItems(RedisClient& c, const QueueSource& q, int batch,
                  const std::function<Status(std::vector<std::string>&)>& fn);

/// Tasks selected by --commands: fetches the records of `ids` from the legacy hash (HMGET) and
/// tells for each ID whether it belongs to the selection (records that are missing or unreadable
/// belong to it only when every command is selected).
Result<std::vector<bool>> SelectIds(RedisClient& c, const Options& o, const std::vector<std::string>& ids);

// --- Category walkers (the scan-select-read loops shared by plan, run and verify) ---------------

/// How one legacy task record relates to the run's selection.
enum class TaskPick {
  kSelected,    // parsed and of a selected command; or unparsable in a run of all commands
                // without --force (migrated as is)
  kUnselected,  // of a command left out; or unparsable in a --commands run (not attributable)
  kSkipped,     // unparsable, and --force leaves it out
};
TaskPick PickTask(const Options& o, const TaskRewrite& t);

/// One HSCAN page of the legacy task hash, rewritten (RewriteTask) and sorted by PickTask.
struct TaskPage {
  std::vector<std::string> ids;    // kSelected records, in scan order
  std::vector<TaskRewrite> tasks;  // their rewrites, parallel to `ids`
  size_t scanned = 0;              // fields in the page, whatever their pick
  int64_t unselected = 0, skipped = 0;
};
/// HSCAN of the legacy task hash from `cursor` ("0" = start) in pages of o.batch_size. `fn` gets
/// every page (also one with nothing selected) and the cursor that continues after it ("0" after
/// the last page). Stops at the first error (of Redis or of `fn`).
Status ScanTasks(RedisClient& c, const Options& o, const std::string& cursor,
                 const std::function<Status(TaskPage&, const std::string&)>& fn);

/// HSCAN/ZSCAN (`scan_cmd`) of a legacy hash/zset whose fields/members are task IDs, from
/// `cursor`, keeping the entries SelectIds selects. `fn` gets every page's selected
/// (field, value) / (member, score) pairs, the page's size before selection and the
/// continuation cursor. Stops at the first error.
Status ScanSelected(RedisClient& c, const Options& o, const std::string& scan_cmd, const std::string& key,
                    const std::string& cursor,
                    const std::function<Status(std::vector<std::pair<std::string, std::string>>&, size_t,
                                               const std::string&)>& fn);

/// The task IDs of every legacy lease key (SCAN MATCH <from>:lease:*), in scan order.
Result<std::vector<std::string>> ScanLeaseIds(RedisClient& c, const Options& o);

/// One selected legacy lease as read by ReadLeases.
struct LeaseRead {
  std::string id;
  Reply value;          // GET <from>:lease:<id> (nil: gone; an error reply: not a string)
  long long pttl = -2;  // PTTL in ms (-2: gone, -1: no expiry)
  Reply dst;            // GET <to>:lease:<id> when asked for, else nil
};
/// Reads the leases of `ids` in batches of o.batch_size: per batch SelectIds, then one pipeline
/// of GET + PTTL (+ GET of the destination lease when `with_dst`) per selected ID. `fn` gets the
/// batch's size before selection and its selected leases right after the read (so a TTL can be
/// aged from that moment). Errors: Unavailable (Redis I/O), or the first error of `fn`.
Status ReadLeases(RedisClient& c, const Options& o, const std::vector<std::string>& ids, bool with_dst,
                  const std::function<Status(size_t, std::vector<LeaseRead>&)>& fn);

}  // namespace codeq::migrate
