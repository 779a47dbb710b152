// Worker-availability subscription record (SPEC §1.5, §2.11, D16) and its JSON codec.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.h"

namespace codeq {

/// Delivery modes of a subscription (SPEC §1.5; `broadcast` is not accepted, per its recommendation).
inline constexpr std::string_view kDeliveryFanout = "fanout";
inline constexpr std::string_view kDeliveryGroup = "group";
inline constexpr std::string_view kDeliveryHash = "hash";

/// A subscription (SPEC §1.5). Stored as JSON in `codeq:subs` (Redis) or the embedded store.
/// `tenantId` (omit-empty) is our addition: notifications only go to subscriptions of the task's
/// tenant (D6 applied to §6.2). `workerId` (omit-empty) records the subscribing token's `sub`.
struct Subscription {
  std::string id;            // UUID v4, lower case
  std::string callback_url;  // http/https URL
  std::vector<std::string> event_types;  // commands, case preserved
  std::string delivery_mode = "fanout";  // fanout | group | hash
  std::string group_id;                  // omit-empty
  int min_interval_seconds = 5;          // ≥ 1
  std::string expires_at;                // RFC 3339, configured zone
  std::string created_at;                // RFC 3339, configured zone
  std::string tenant_id;                 // omit-empty (our addition)
  std::string worker_id;                 // omit-empty (our addition)
  int64_t expires_at_sec = 0;            // epoch seconds of expires_at; the zset score. Not in JSON
                                         // (derived from expires_at when parsing).
};

/// Serializes as the JSON object of SPEC §1.5 (+ tenantId/workerId, omit-empty).
std::string SubscriptionToJsonText(const Subscription& s);
/// Parses stored subscription JSON; fills expires_at_sec from expires_at. Errors: InvalidArgument
/// when not an object, `id` missing, or expiresAt unparsable.
Result<Subscription> SubscriptionFromJsonText(std::string_view text);

}  // namespace codeq
