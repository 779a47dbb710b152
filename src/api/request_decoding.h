// Decoding and validation of one create request and one result submission, shared by the single
// and batch endpoints (one path for both, ARCHITECTURE.md).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.h"
#include "service/scheduler.h"

namespace codeq::api {

/// SPEC §2.3 validation steps 1–5 on a decoded JSON object, in order. Errors are
/// InvalidArgument with the SPEC's texts: "invalid body", "invalid 'runAt' (use RFC3339)",
/// "invalid 'delaySeconds' (must be >= 0)", "invalid command", "invalid webhook url".
Result<CreateRequest> DecodeCreateRequest(const boost::json::object& o);

/// SPEC §2.8 step 1 on a decoded JSON object: `status` a non-empty string, `error` a string,
/// `result` an object (or null/absent), `artifacts` an array of objects with string members.
/// Error: InvalidArgument("invalid request body"). Status rules (step 6) are the Scheduler's.
Result<ResultRequest> DecodeResultRequest(const boost::json::object& o);

/// The array member `name` of a batch body (issue 7): present, an array, 1..kMaxBatchSize
/// entries; each entry is then decoded like a single request. Errors: InvalidArgument(bad_text),
/// "'<name>' must not be empty", "too many items (max 1000)". The pointer is into `body`.
Result<const boost::json::array*> DecodeBatchArray(const boost::json::object& body, std::string_view name,
                                                   std::string_view bad_text);

/// A decoded claim body (SPEC §2.4; `maxTasks` of issue 7). Absent members stay nullopt.
struct ClaimBody {
  std::optional<std::vector<std::string>> commands;
  std::optional<int64_t> lease_seconds, wait_seconds, max_tasks;
};

/// Most `commands` one claim may name (as the eventTypes of a subscription): every claim walks
/// them, so an unbounded list would let one request hold a thread.
inline constexpr size_t kMaxClaimCommands = 100;

/// SPEC §2.4 member types, at most kMaxClaimCommands `commands`, and `maxTasks` in
/// 1..kMaxBatchSize. Errors: InvalidArgument "invalid body", "too many commands (max 100)" or
/// "invalid 'maxTasks' (1..1000)". Command names are checked by the handler.
Result<ClaimBody> DecodeClaimBody(const boost::json::object& o);

/// SPEC §2.5: the `extendSeconds` of a heartbeat body (0 when absent).
/// Error: InvalidArgument("invalid body") when it is not an integer.
Result<int64_t> DecodeHeartbeatBody(const boost::json::object& o);

/// A decoded nack body (SPEC §2.7).
struct NackBody {
  int64_t delay_seconds = 0;
  std::string reason;
};

/// SPEC §2.7 member types. Error: InvalidArgument("invalid body").
Result<NackBody> DecodeNackBody(const boost::json::object& o);

/// A decoded cleanup body (SPEC §2.15, D12) with its defaults applied.
struct CleanupBody {
  int64_t limit = 0;            // as given (echoed); ≤ 0 = absent
  int64_t effective_limit = 0;  // 1000 when limit ≤ 0, else min(limit, 100000)
  int64_t before_ms = 0;        // `before`, or now
  std::string before_text;      // `before` echoed in whole seconds with its own offset
  bool include_active = false;
};

/// SPEC §2.15: members of the wrong type are ignored (defaults used); `now_ms` is the default
/// `before`. Error: InvalidArgument("invalid 'before' (use RFC3339)") for an unparsable `before`.
Result<CleanupBody> DecodeCleanupBody(const boost::json::object& o, int64_t now_ms);

/// Event types one subscription may name (each is an index entry in the store).
inline constexpr size_t kMaxSubscriptionEventTypes = 100;

/// A decoded subscription body (SPEC §2.11) before the token rules (mode/group defaults,
/// eventTypes against the token), which need the caller and stay in the handler.
struct SubscriptionBody {
  std::string callback_url;                             // trimmed, an http/https URL with a host
  std::optional<std::vector<std::string>> event_types;  // valid commands, duplicates removed
  std::optional<std::string> delivery_mode, group_id;
  int64_t ttl_seconds = 0, min_interval_seconds = 0;    // 0 when absent
};

/// SPEC §2.11 member types and URL form. Errors (InvalidArgument, in this order): "invalid body"
/// (wrong types, callbackUrl missing or blank), "invalid callback url", "too many eventTypes
/// (max 100)", "invalid command".
Result<SubscriptionBody> DecodeSubscriptionBody(const boost::json::object& o);

/// SPEC §2.12: `ttlSeconds` of a renewal; 0 (= default) when absent or not an integer.
int64_t DecodeRenewBody(const boost::json::object& o);

}  // namespace codeq::api
