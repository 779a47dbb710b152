// On-disk layout of the embedded store: one RocksDB database at <data_dir>/db, default column
// family, every key starting with a one-byte record type. All integers in keys are big-endian (so
// byte order = numeric order); integers in values are little-endian. `str` = varint32 length +
// bytes (so a tenant or command never runs into the next field, whatever bytes it holds).
//
//   key                                          value
//   ------------------------------------------   ------------------------------------------------
//   'm' "format"                                 "2" — layout version (below)
//   't' id16                                     task: envelope (below) + the task JSON of SPEC §1.3
//                                                exactly as the API returns it
//   'r' id16                                     result record JSON (SPEC §1.4), COMPLETED/FAILED
//                                                results and the FAILED record of a DLQ move (D11)
//   'x' be64(indexed s ^ 2^63) id16              retention index (SPEC §4.6, §4.10, D12): one key
//                                                per task, at a lower bound of its retention
//                                                deadline (below); value = state byte (the state
//                                                when the key was written: a hint only) + tenant
//   'i' str(tenant) key-bytes                    idempotency key (SPEC §2.3.2, D6): id16 + le64
//                                                expiry (epoch ms); expired = absent
//   'c' str(tenant) command                      known command of a tenant, case kept (D5); value ""
//   'd' str(tenant) str(cmd lower) be64(seq)     DLQ order of one queue, oldest first; value id16
//   'w' id16                                     result-callback outbox entry of a task (SPEC §6.1,
//                                                D11, D16): version byte (1) + le64 due ms +
//                                                varint attempts + str(url) + str(tenant) +
//                                                str(command). Written with the task's terminal
//                                                transition; independent of the task afterwards
//                                                (cleanup does not touch it)
//   's' subscription id                          subscription JSON (SPEC §1.5 + tenantId/workerId)
//
//   id16 = the task's UUID (SPEC §1.1) as 16 raw bytes. Task ids must be canonical lower-case UUIDs.
//
// Task envelope, version 2 (35 fixed bytes + idempotency key, then the JSON text):
//   [0] envelope version (2)   [1] state (State below)   [2] priority tier 0..9
//   [3..11)  le64 seq: a store-wide counter taken at every queue transition. Pending FIFO order
//            within a tier is seq order (abandon, requeue and promotion take a new seq, so they
//            queue behind what is already waiting); also orders the DLQ and equal due times.
//   [11..19) le64 due ms: visible-at (DELAYED) or lease deadline (IN_PROGRESS); 0 otherwise.
//            The lease owner is the JSON's workerId.
//   [19..27) le64 retention deadline, epoch seconds (SPEC §4.6: the last transition + 24 h).
//   [27..35) le64 indexed deadline, epoch seconds: where the task's 'x' key is; <= the retention
//            deadline.
//   [35..]   str(idempotency key) ("" = none), so cleanup can delete the key with its task.
// Version 1 (layout "1") had no indexed deadline ([27..] was the idempotency key) and kept the
// 'x' key at the retention deadline itself; it is read as indexed = retention.
//
// The retention index is lazy (layout "2"): every transition moves the retention deadline later,
// and moving the 'x' key each time (a delete and a put) was 4 of the up to 9 entries a task's
// create–claim–result cycle wrote. So the key is written with the task and moved only when the
// deadline moves earlier than the key (the clock stepped back) or when cleanup reaches it early:
// cleanup reads each task whose key is due, deletes it when its true deadline is due too, and
// otherwise moves the key to the true deadline (docs/design.md).
//
// Every state change is one WriteBatch: the task record, its 'x' key when it moves, and the
// 'r'/'i'/'c'/'d'/'w' records it touches. The in-memory queue indexes are derived data, rebuilt
// from the 't' records on open (recovery); 'x' and 'd' are cross-checked against the task records
// then. The outbox due index and the subscription indexes are rebuilt from the 'w' and 's' records
// (each must decode). 'w' and 's' were added to layout "1" without a version change: older data
// directories simply have none (a build that predates them refuses a directory holding them, as
// unknown). A layout "1" directory is upgraded in place when it is opened (the marker becomes "2";
// its records are read as they are and rewritten as version 2 when they change); builds that
// predate layout "2" refuse it afterwards.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace codeq::embedded {

using Uuid = std::array<uint8_t, 16>;

/// Parses a canonical lower-case UUID "8-4-4-4-12" into 16 bytes. nullopt otherwise. O(1).
std::optional<Uuid> ParseUuid(std::string_view text);
/// The canonical lower-case text of a UUID. O(1).
std::string FormatUuid(const Uuid& id);

/// Where a task is in its life cycle; decides which in-memory index holds it.
enum class State : uint8_t {
  kReady = 1,       // PENDING, in its pending tier
  kDelayed = 2,     // PENDING, waiting for its visible time
  kInProgress = 3,  // IN_PROGRESS, leased
  kDead = 4,        // FAILED, in the DLQ
  kDone = 5,        // COMPLETED / FAILED by a result submission
};
bool ValidState(uint8_t s);
/// Whether cleanup deletes the state by default (SPEC D12: terminal only).
inline bool TerminalState(State s) { return s == State::kDead || s == State::kDone; }

/// Version byte of the task envelopes this build writes; it also reads kLegacyEnvelopeVersion.
inline constexpr uint8_t kLayoutVersion = 2;
inline constexpr uint8_t kLegacyEnvelopeVersion = 1;
inline constexpr std::string_view kFormatKey = "mformat";
inline constexpr std::string_view kFormatValue = "2";
/// The layout marker of a directory this build upgrades when it opens it.
inline constexpr std::string_view kLegacyFormatValue = "1";

inline constexpr char kTaskPrefix = 't';
inline constexpr char kResultPrefix = 'r';
inline constexpr char kRetentionPrefix = 'x';
inline constexpr char kIdemPrefix = 'i';
inline constexpr char kCommandPrefix = 'c';
inline constexpr char kDlqPrefix = 'd';
inline constexpr char kOutboxPrefix = 'w';
inline constexpr char kSubscriptionPrefix = 's';

/// The value of a 'w' key (the task id is the key).
struct OutboxValue {
  int64_t due_ms = 0;
  int attempts = 0;
  std::string url, tenant, command;
};

struct Envelope {
  State state = State::kReady;
  uint8_t tier = 0;
  uint64_t seq = 0;
  int64_t due_ms = 0;
  int64_t retention_sec = 0;  // SPEC §4.6 deadline, epoch seconds
  int64_t indexed_sec = 0;    // deadline of the task's 'x' key, <= retention_sec (lazy index)
  std::string idem_key;
};

// --- keys (all O(length)) ------------------------------------------------------------------------
std::string TaskKey(const Uuid& id);
std::string ResultKey(const Uuid& id);
std::string RetentionKey(int64_t retention_sec, const Uuid& id);
/// First retention key after every deadline <= `sec` (an exclusive upper bound).
std::string RetentionUpperBound(int64_t sec);
std::string IdemKey(std::string_view tenant, std::string_view key);
std::string CommandKey(std::string_view tenant, std::string_view command);
std::string DlqKey(std::string_view tenant, std::string_view command_lower, uint64_t seq);
std::string OutboxKey(const Uuid& id);
std::string SubscriptionKey(std::string_view sub_id);

// --- values --------------------------------------------------------------------------------------
/// Envelope + JSON text, the value of a 't' key. O(size).
std::string EncodeTask(const Envelope& env, std::string_view json);  // always version 2
/// Splits a 't' value; false (with a reason) when it is not a well-formed envelope. O(size).
bool DecodeTask(std::string_view value, Envelope* env, std::string_view* json, std::string* why);

std::string EncodeRetentionValue(State state, std::string_view tenant);
bool DecodeRetentionValue(std::string_view value, State* state, std::string_view* tenant);

std::string EncodeIdemValue(const Uuid& id, int64_t expiry_ms);
bool DecodeIdemValue(std::string_view value, Uuid* id, int64_t* expiry_ms);

std::string EncodeOutboxValue(const OutboxValue& v);
/// False when `value` is not exactly one well-formed outbox value. O(size).
bool DecodeOutboxValue(std::string_view value, OutboxValue* v);

// --- key parsing (recovery and cleanup) ---------------------------------------------------------
bool ParseIdKey(std::string_view key, Uuid* id);  // 't' / 'r' / 'w' keys
bool ParseRetentionKey(std::string_view key, int64_t* retention_sec, Uuid* id);
bool ParseCommandKey(std::string_view key, std::string* tenant, std::string* command);
bool ParseIdemKey(std::string_view key, std::string* tenant, std::string* idem_key);
bool ParseDlqKey(std::string_view key, std::string* tenant, std::string* command_lower, uint64_t* seq);

/// A 64-bit hash of byte strings, for order-independent cross-checks of derived keys. O(length).
uint64_t Hash64(std::string_view a, uint64_t seed = 0);

/// Lower-case hex of bytes, for error messages. O(length).
std::string Hex(std::string_view bytes);

}  // namespace codeq::embedded
