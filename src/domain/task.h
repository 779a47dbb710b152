// Domain records of SPEC.md §1 and their JSON codecs.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.h"

namespace codeq {

/// Task statuses (SPEC §1.2), spelled as on the wire.
inline constexpr std::string_view kPending = "PENDING";
inline constexpr std::string_view kInProgress = "IN_PROGRESS";
inline constexpr std::string_view kCompleted = "COMPLETED";
inline constexpr std::string_view kFailed = "FAILED";

/// The value of a task's `resultKey` once a result is stored (SPEC §1.3).
inline constexpr std::string_view kResultsKey = "codeq:results";

/// A task record (SPEC §1.3). Empty strings and zero integers are "absent" (omit-empty).
struct Task {
  std::string id;
  std::string command;       // case preserved
  std::string payload;       // compact JSON text of the submitted payload
  int priority = 0;          // 0..9
  std::string webhook;
  std::string status;        // one of kPending, kInProgress, kCompleted, kFailed
  std::string worker_id;
  std::string lease_until;   // RFC 3339 UTC whole seconds
  int attempts = 0;
  int max_attempts = 0;
  std::string error;
  std::string result_key;
  std::string tenant_id;
  std::string created_at;    // RFC 3339, configured zone
  std::string updated_at;
};

/// Serializes a task as the JSON object of SPEC §1.3 (omit-empty rules applied).
boost::json::object TaskToJson(const Task& task);
std::string TaskToJsonText(const Task& task);

/// Parses stored task JSON. Tolerates missing optional members (older records) and ignores unknown
/// ones; member names match exactly. Errors: InvalidArgument when not a JSON object or `id` missing.
Result<Task> TaskFromJsonText(std::string_view text);

/// An artifact of a result, output form {"name","url"} (SPEC §1.4).
struct Artifact {
  std::string name;
  std::string url;
};

/// A result record (SPEC §1.4).
struct TaskResult {
  std::string task_id;
  std::string status;                      // COMPLETED or FAILED
  std::optional<boost::json::object> result;  // omitted when absent or empty
  std::string error;
  std::vector<Artifact> artifacts;
  std::string completed_at;
};

boost::json::object TaskResultToJson(const TaskResult& r);
std::string TaskResultToJsonText(const TaskResult& r);
Result<TaskResult> TaskResultFromJsonText(std::string_view text);

/// Queue depths of one command for one tenant (SPEC §1.6).
struct QueueStats {
  std::string command;
  int64_t ready = 0;        // sum of the ten pending tiers
  int64_t delayed = 0;
  int64_t in_progress = 0;
  int64_t dlq = 0;
};

boost::json::object QueueStatsToJson(const QueueStats& s);

/// Serializes any JSON value compactly with object members sorted by key (byte order) at every
/// depth, integers preserved exactly (SPEC §2.3.1, D17). Used for stored payloads.
std::string CanonicalJson(const boost::json::value& v);

}  // namespace codeq
