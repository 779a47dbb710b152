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

}  // namespace codeq::migrate
